// The framing of a Kubernetes watch response: newline-delimited JSON events ({"type":..,"object":..})
// arriving in chunks of any size. Pure (no I/O) so the framing is unit-tested and fuzzed apart from
// the HTTP client that reads the stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"

namespace financialapi::kube {

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  nlohmann::json object;           // for a bookmark only metadata.resourceVersion matters
};

class WatchStreamDecoder {
 public:
  // `what` names the watch in errors ("WATCH /api/v1/pods").
  WatchStreamDecoder(std::string what, std::function<void(WatchEvent&&)> on_event);

  // Takes the next chunk of the body and hands each complete event to on_event, in order; a partial
  // line waits for the next chunk. Events of unknown types are skipped (newer servers may add some).
  // Internal for a line that is not an event object; the server's Status for an ERROR event. After an
  // error the decoder refuses every further chunk with the same error.
  Status Feed(std::string_view chunk);

 private:
  Status DecodeLine(std::string_view line);

  std::string what_;
  std::function<void(WatchEvent&&)> on_event_;
  std::string pending_;
  Status failed_;
};

}  // namespace financialapi::kube
