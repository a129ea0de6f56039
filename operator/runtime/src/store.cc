#include "financialapi/runtime/store.h"

#include <mutex>

namespace financialapi::runtime {

std::string ObjectKey(const std::string& ns, const std::string& name) { return ns.empty() ? name : ns + "/" + name; }

std::string ObjectKey(const Json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  return ObjectKey(metadata->value("namespace", ""), metadata->value("name", ""));
}

std::string ControllerUid(const Json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object() || !metadata->contains("ownerReferences")) return {};
  const Json& owners = metadata->at("ownerReferences");
  if (!owners.is_array()) return {};
  for (const Json& owner : owners) {
    if (owner.is_object() && owner.value("controller", false)) return owner.value("uid", "");
  }
  return {};
}

void Store::Index(const std::string& key, const ObjectPtr& object) {
  if (object == nullptr) return;
  if (std::string uid = ControllerUid(*object); !uid.empty()) keys_by_controller_uid_[std::move(uid)].insert(key);
}

void Store::Unindex(const std::string& key, const ObjectPtr& object) {
  if (object == nullptr) return;
  const std::string uid = ControllerUid(*object);
  if (uid.empty()) return;
  const auto found = keys_by_controller_uid_.find(uid);
  if (found == keys_by_controller_uid_.end()) return;
  found->second.erase(key);
  if (found->second.empty()) keys_by_controller_uid_.erase(found);
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

std::vector<ObjectPtr> Store::ListControlledBy(const std::string& owner_uid) const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  const auto keys = keys_by_controller_uid_.find(owner_uid);
  if (keys == keys_by_controller_uid_.end()) return out;
  out.reserve(keys->second.size());
  for (const std::string& key : keys->second) out.push_back(objects_.at(key));
  return out;
}

std::size_t Store::Size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

std::unordered_map<std::string, ObjectPtr> Store::Replace(std::unordered_map<std::string, ObjectPtr> objects,
                                                          const std::string& within_namespace) {
  std::unique_lock lock(mutex_);
  if (within_namespace.empty()) {
    objects_.swap(objects);
    keys_by_controller_uid_.clear();
    for (const auto& [key, object] : objects_) Index(key, object);
    return objects;
  }
  const std::string prefix = within_namespace + "/";
  std::unordered_map<std::string, ObjectPtr> previous;
  for (auto entry = objects_.begin(); entry != objects_.end();) {
    if (!entry->first.starts_with(prefix)) {
      ++entry;
      continue;
    }
    Unindex(entry->first, entry->second);
    previous.emplace(entry->first, std::move(entry->second));
    entry = objects_.erase(entry);
  }
  for (auto& [key, object] : objects) {
    Index(key, object);
    objects_[key] = std::move(object);
  }
  return previous;
}

ObjectPtr Store::Upsert(ObjectPtr object) {
  const std::string key = ObjectKey(*object);
  std::unique_lock lock(mutex_);
  auto& slot = objects_[key];
  ObjectPtr previous = std::move(slot);
  Unindex(key, previous);
  Index(key, object);
  slot = std::move(object);
  return previous;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock lock(mutex_);
  const auto found = objects_.find(key);
  if (found == objects_.end()) return nullptr;
  ObjectPtr previous = std::move(found->second);
  objects_.erase(found);
  Unindex(key, previous);
  return previous;
}

}  // namespace financialapi::runtime
