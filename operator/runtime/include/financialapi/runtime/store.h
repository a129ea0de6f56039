// An in-memory cache of one kind's objects, filled by a Watcher and read by reconcilers while the watch
// runs. Objects are immutable once stored (shared_ptr<const Json>): readers keep what they got even
// if the store moves on.
#pragma once

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace financialapi::runtime {

using Json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const Json>;

// "namespace/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc).
std::string ObjectKey(const Json& object);
std::string ObjectKey(const std::string& ns, const std::string& name);
// The uid of the owner reference marked controller: true, or "" when there is none.
std::string ControllerUid(const Json& object);

class Store {
 public:
  // The object under `key`, or nullptr.
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  // The objects whose controller owner reference has this uid, from an index kept on every change, so
  // a reconciler looking for its children does not walk every object of the kind.
  std::vector<ObjectPtr> ListControlledBy(const std::string& owner_uid) const;
  std::size_t Size() const;

  // Swaps the whole content (after a full list) and returns the previous content. With
  // `within_namespace`, only that namespace's objects are swapped and returned: the list of one
  // namespace's watcher, when watchers of several namespaces fill one Store.
  std::unordered_map<std::string, ObjectPtr> Replace(std::unordered_map<std::string, ObjectPtr> objects,
                                                     const std::string& within_namespace = "");
  // Inserts or replaces; returns the previous object or nullptr.
  ObjectPtr Upsert(ObjectPtr object);
  // Removes; returns the removed object or nullptr.
  ObjectPtr Remove(const std::string& key);

 private:
  void Index(const std::string& key, const ObjectPtr& object);
  void Unindex(const std::string& key, const ObjectPtr& object);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, ObjectPtr> objects_;
  std::unordered_map<std::string, std::unordered_set<std::string>> keys_by_controller_uid_;
};

}  // namespace financialapi::runtime
