#include "financialapi/runtime/events.h"

#include "financialapi/common/random.h"

#include "financialapi/common/time_format.h"

namespace financialapi::runtime {
namespace {

constexpr std::size_t kMaxCachedEvents = 4096;

}  // namespace

EventRecorder::EventRecorder(kube::Client& client, std::string component, std::string instance)
    : client_(client), component_(std::move(component)), instance_(std::move(instance)) {}

std::size_t EventRecorder::cached_events() const {
  std::lock_guard lock(mutex_);
  return recent_.size();
}

Status EventRecorder::Record(const kube::Json& object, EventType type, const std::string& reason,
                             const std::string& message) {
  const auto& metadata = object.value("metadata", kube::Json::object());
  const std::string name = metadata.value("name", "");
  const std::string ns = metadata.value("namespace", "default");
  const std::string uid = metadata.value("uid", "");
  if (name.empty()) return InvalidArgument("an event needs an object with metadata.name");
  const std::string type_name = type == EventType::kNormal ? "Normal" : "Warning";
  const std::string key = uid + "\n" + ns + "/" + name + "\n" + type_name + "\n" + reason + "\n" + message;
  const std::string now = FormatTime(std::chrono::system_clock::now());

  std::optional<Seen> repeat;
  {
    std::lock_guard lock(mutex_);
    if (const auto found = index_.find(key); found != index_.end()) {
      found->second->second.count += 1;
      repeat = found->second->second;
      recent_.splice(recent_.begin(), recent_, found->second);
    }
  }
  if (repeat) {
    auto patched = client_.MergePatch(kube::resources::kEvents, repeat->ns, repeat->name,
                                      {{"count", repeat->count}, {"lastTimestamp", now}});
    if (patched.ok()) return Status::Ok();
    if (patched.status().code() != StatusCode::kNotFound) return patched.status();
    // The Event expired (the API server keeps them an hour): start a new one.
    std::lock_guard lock(mutex_);
    if (const auto found = index_.find(key); found != index_.end()) {
      recent_.erase(found->second);
      index_.erase(found);
    }
  }

  const std::string event_name = name + "." + RandomHex(16);
  const kube::Json event = {
      {"apiVersion", "v1"}, {"kind", "Event"},
      {"metadata", {{"name", event_name}, {"namespace", ns}}},
      {"involvedObject", {{"apiVersion", object.value("apiVersion", "")}, {"kind", object.value("kind", "")},
                          {"name", name}, {"namespace", ns}, {"uid", uid},
                          {"resourceVersion", metadata.value("resourceVersion", "")}}},
      {"type", type_name}, {"reason", reason}, {"message", message},
      {"source", {{"component", component_}}},
      {"reportingComponent", component_}, {"reportingInstance", instance_},
      {"firstTimestamp", now}, {"lastTimestamp", now}, {"count", 1}};
  auto created = client_.Create(kube::resources::kEvents, event);
  if (!created.ok()) return created.status();

  std::lock_guard lock(mutex_);
  recent_.emplace_front(key, Seen{ns, event_name, 1});
  index_[key] = recent_.begin();
  if (recent_.size() > kMaxCachedEvents) {
    index_.erase(recent_.back().first);
    recent_.pop_back();
  }
  return Status::Ok();
}

}  // namespace financialapi::runtime
