// The logger prints whatever bytes it is given without throwing: log lines quote peers' input and
// libraries' messages, and a log call sits in catch blocks and destructors.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "financialapi/common/logging.h"

namespace financialapi {
namespace {

TEST(LoggerTest, NeverThrowsWhateverBytesItIsGiven) {
  const Logger log(LogFields{{"component", "test"}});
  const std::string invalid_utf8 = "caf\xc3\x28 \xff\xfe tail";
  for (const LogFormat format : {LogFormat::kJson, LogFormat::kText}) {
    std::string line;
    EXPECT_NO_THROW(line = log.Format(invalid_utf8, {{"path", invalid_utf8}, {invalid_utf8, "v"}}, format));
    EXPECT_NE(line.find("tail"), std::string::npos) << line;
  }
  // The JSON form is still one valid object.
  const auto parsed = nlohmann::json::parse("{" + log.Format(invalid_utf8, {{"path", invalid_utf8}}, LogFormat::kJson) + "}",
                                            nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  EXPECT_NE(parsed["msg"].get<std::string>().find("tail"), std::string::npos);
  ConfigureLogging(LogFormat::kJson, LogLevel::kDebug);
  EXPECT_NO_THROW(log.Error(invalid_utf8, {{"error", invalid_utf8}}));
  ConfigureLogging(LogFormat::kText, LogLevel::kInfo);
}

}  // namespace
}  // namespace financialapi
