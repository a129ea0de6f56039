// The watch-stream framing: events split anywhere across chunks, ERROR events, and frames that are
// JSON but not watch events (inputs found by the watch_stream fuzz target are kept here).
#include "financialapi/kube/watch_stream.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace financialapi::kube {
namespace {

struct Collected {
  std::vector<WatchEvent> events;
  WatchStreamDecoder decoder{"WATCH /api/v1/configmaps", [this](WatchEvent&& event) { events.push_back(std::move(event)); }};
};

TEST(WatchStreamDecoder, EventsSplitAcrossChunksArriveWholeAndInOrder) {
  Collected c;
  const std::string body = R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})" "\n\n"
                           R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}})" "\n"
                           R"({"type":"DELETED","object":{"metadata":{"name":"a"}}})" "\n";
  for (std::size_t i = 0; i < body.size(); i += 5) ASSERT_TRUE(c.decoder.Feed(body.substr(i, 5)).ok());
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(c.events[0].object["metadata"]["name"], "a");
  EXPECT_EQ(c.events[1].type, WatchEvent::Type::kBookmark);
  EXPECT_EQ(c.events[2].type, WatchEvent::Type::kDeleted);
}

TEST(WatchStreamDecoder, ErrorEventCarriesTheServersStatus) {
  Collected c;
  const Status status = c.decoder.Feed(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})" "\n");
  EXPECT_EQ(status.code(), StatusCode::kGone) << status;
  EXPECT_EQ(c.decoder.Feed(R"({"type":"ADDED","object":{}})" "\n").code(), StatusCode::kGone);
  EXPECT_TRUE(c.events.empty());
}

// Found by the watch_stream fuzz target: an ERROR event without an object (or whose object is not a
// Status with an integer code), or a type that is not a string, threw nlohmann's type_error out of the
// framing; Client::Watch then reported it as a transport failure of the server.
TEST(WatchStreamDecoder, FramesThatAreNotWatchEventsAreErrorsNotExceptions) {
  for (const std::string line : {R"({"type":"ERROR","oYject":{"code":410}})", R"({"type":"ERROR","object":"gone"})",
                                 R"({"type":"ERROR","object":{"code":"410"}})", R"({"type":"ERROR","object":{"code":1e99}})",
                                 R"({"type":7,"object":{}})", R"({"type":null})"}) {
    Collected c;
    Status status;
    ASSERT_NO_THROW(status = c.decoder.Feed(line + "\n")) << line;
    EXPECT_EQ(status.code(), StatusCode::kInternal) << line << ": " << status;
    EXPECT_TRUE(c.events.empty()) << line;
  }
}

}  // namespace
}  // namespace financialapi::kube
