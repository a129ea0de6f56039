#include "financialapi/runtime/store.h"

#include <mutex>

namespace financialapi::runtime {

std::string ObjectKey(const std::string& ns, const std::string& name) { return ns.empty() ? name : ns + "/" + name; }

std::string ObjectKey(const Json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  return ObjectKey(metadata->value("namespace", ""), metadata->value("name", ""));
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  const auto found = objects_.find(key);
  return found == objects_.end() ? nullptr : found->second;
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

std::vector<ObjectPtr> Store::ListNamespace(const std::string& ns) const {
  const std::string prefix = ns + "/";
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  for (const auto& [key, object] : objects_) {
    if (key.starts_with(prefix)) out.push_back(object);
  }
  return out;
}

std::size_t Store::Size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

std::unordered_map<std::string, ObjectPtr> Store::Replace(std::unordered_map<std::string, ObjectPtr> objects) {
  std::unique_lock lock(mutex_);
  objects_.swap(objects);
  return objects;
}

ObjectPtr Store::Upsert(ObjectPtr object) {
  const std::string key = ObjectKey(*object);
  std::unique_lock lock(mutex_);
  auto& slot = objects_[key];
  ObjectPtr previous = std::move(slot);
  slot = std::move(object);
  return previous;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock lock(mutex_);
  const auto found = objects_.find(key);
  if (found == objects_.end()) return nullptr;
  ObjectPtr previous = std::move(found->second);
  objects_.erase(found);
  return previous;
}

}  // namespace financialapi::runtime
