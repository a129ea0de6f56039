#include "financialapi/kube/watch_stream.h"

#include <utility>

#include "financialapi/common/strings.h"
#include "financialapi/kube/errors.h"

namespace financialapi::kube {

using Json = nlohmann::json;

WatchStreamDecoder::WatchStreamDecoder(std::string what, std::function<void(WatchEvent&&)> on_event)
    : what_(std::move(what)), on_event_(std::move(on_event)) {}

Status WatchStreamDecoder::Feed(std::string_view chunk) {
  if (!failed_.ok()) return failed_;
  pending_.append(chunk);
  std::size_t start = 0;
  for (std::size_t newline; (newline = pending_.find('\n', start)) != std::string::npos; start = newline + 1) {
    const std::string_view line(pending_.data() + start, newline - start);
    if (Trim(line).empty()) continue;
    if (Status status = DecodeLine(line); !status.ok()) {
      failed_ = status;
      pending_.clear();
      return status;
    }
  }
  pending_.erase(0, start);
  return Status();
}

Status WatchStreamDecoder::DecodeLine(std::string_view line) {
  Json frame = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!frame.is_object() || !frame.contains("type")) return Internal(what_ + ": unreadable watch event");
  const std::string type = frame.value("type", "");
  if (type == "ERROR") {
    const Json& status = frame["object"];
    return StatusFromApiResponse(status.value("code", 500), status.dump(), what_);
  }
  WatchEvent event;
  if (type == "ADDED") event.type = WatchEvent::Type::kAdded;
  else if (type == "MODIFIED") event.type = WatchEvent::Type::kModified;
  else if (type == "DELETED") event.type = WatchEvent::Type::kDeleted;
  else if (type == "BOOKMARK") event.type = WatchEvent::Type::kBookmark;
  else return Status();
  event.object = std::move(frame["object"]);
  on_event_(std::move(event));
  return Status();
}

}  // namespace financialapi::kube
