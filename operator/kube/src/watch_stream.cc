#include "financialapi/kube/watch_stream.h"

#include <cstdint>
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
  // Only the shapes the API server sends are read; a frame of any other shape is an error value (never
  // an exception from nlohmann's typed accessors, which the client would report as a transport failure).
  Json frame = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  const auto type_member = frame.is_object() ? frame.find("type") : frame.end();
  if (!frame.is_object() || type_member == frame.end() || !type_member->is_string()) {
    return Internal(what_ + ": unreadable watch event");
  }
  const std::string type = type_member->get<std::string>();
  const auto object = frame.find("object");
  if (type == "ERROR") {
    // A metav1.Status: its code is the HTTP status the failure stands for.
    std::int64_t code = 0;
    if (object != frame.end() && object->is_object()) {
      const auto found = object->find("code");
      if (found != object->end() && found->is_number_integer()) code = found->get<std::int64_t>();
    }
    if (code < 100 || code > 599) {
      return Internal(what_ + ": ERROR watch event without a Status (an object with an HTTP code)");
    }
    return StatusFromApiResponse(static_cast<int>(code), object->dump(), what_);
  }
  WatchEvent event;
  if (type == "ADDED") event.type = WatchEvent::Type::kAdded;
  else if (type == "MODIFIED") event.type = WatchEvent::Type::kModified;
  else if (type == "DELETED") event.type = WatchEvent::Type::kDeleted;
  else if (type == "BOOKMARK") event.type = WatchEvent::Type::kBookmark;
  else return Status();
  if (object != frame.end()) event.object = std::move(*object);
  on_event_(std::move(event));
  return Status();
}

}  // namespace financialapi::kube
