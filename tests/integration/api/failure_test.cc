// What the API does when its databases go away and come back. These stop and start the shared
// PostgreSQL and Redis, so they run alone (RUN_SERIAL).
#include <chrono>
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/api/api_fixture.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::testing {
namespace {

using nlohmann::json;

int DatabasesCommand(const std::string& command) {
  const std::string line = SourcePath("hack/local-databases") + " " + command + " --state-dir " + StateDir() +
                           "/databases >/dev/null 2>&1";
  return std::system(line.c_str());
}

class DatabaseFailureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_url_ = new std::string(CreateSampleDatabase("failure"));
  }
  static void TearDownTestSuite() { delete database_url_; }
  void TearDown() override {
    // Whatever happened, leave both servers running for the tests after this one.
    EXPECT_EQ(DatabasesCommand("start-redis"), 0);
    EXPECT_EQ(DatabasesCommand("start-postgres"), 0);
  }
  static inline std::string* database_url_ = nullptr;
};

TEST_F(DatabaseFailureTest, RedisDownAnswersFromPostgresAndReadinessSaysSo) {
  auto config = TestConfig(*database_url_);
  config.local_cache_ttl_seconds = 0;  // every request reaches Redis
  ApiUnderTest api(config);
  const std::string path = "/v1/companies/AAPL/concepts/us-gaap/Assets";
  const auto warm = api.Get(path);
  ASSERT_EQ(warm.status, 200);
  ASSERT_EQ(api.Get(path).Header("x-cache"), "redis");

  ASSERT_EQ(DatabasesCommand("stop-redis"), 0);
  for (int i = 0; i < 5; ++i) {
    const auto answer = api.Get(path);
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.Header("x-cache"), "miss");
    EXPECT_EQ(answer.body, warm.body);
  }
  EXPECT_TRUE(WaitFor([&] {
    const auto ready = api.Get("/ready");
    const json body = json::parse(ready.body, nullptr, false);
    return ready.status == 200 && !body.is_discarded() && body["redis"]["status"] == "down" &&
           body["redis"]["detail"].get<std::string>().find("serving from PostgreSQL") != std::string::npos;
  }, std::chrono::seconds(5)));

  ASSERT_EQ(DatabasesCommand("start-redis"), 0);
  // Redis is retried at most once a second; the cache fills again.
  EXPECT_TRUE(WaitFor([&] { return api.Get(path).Header("x-cache") == "redis"; }, std::chrono::seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return json::parse(api.Get("/ready").body)["redis"]["status"] == "up"; },
                      std::chrono::seconds(5)));
}

TEST_F(DatabaseFailureTest, PostgresDownGives503AtOnceAndRecoversByItself) {
  auto config = TestConfig(*database_url_);
  config.cache_ttl_seconds = 0;  // every request reaches PostgreSQL
  ApiUnderTest api(config);
  const std::string path = "/v1/companies/MSFT";
  ASSERT_EQ(api.Get(path).status, 200);

  ASSERT_EQ(DatabasesCommand("stop-postgres"), 0);
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const auto answer = api.Get(path);
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(answer.status, 503) << answer.body;
    const json body = json::parse(answer.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded());
    EXPECT_NE(body["error"]["message"].get<std::string>().find("PostgreSQL is unavailable"), std::string::npos);
    // Not hanging: far below the 5 s statement timeout and 2 s connect timeout a stuck request would take.
    EXPECT_LT(waited, std::chrono::seconds(2));
  }
  EXPECT_EQ(api.Get("/health").status, 200);
  const auto ready = api.Get("/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(json::parse(ready.body)["postgres"]["status"], "down");

  ASSERT_EQ(DatabasesCommand("start-postgres"), 0);
  EXPECT_TRUE(WaitFor([&] { return api.Get(path).status == 200; }, std::chrono::seconds(15)));
  EXPECT_TRUE(WaitFor([&] { return api.Get("/ready").status == 200; }, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace financialapi::testing
