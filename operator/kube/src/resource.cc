#include "financialapi/kube/resource.h"

namespace financialapi::kube {

std::string ResourceType::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

std::string ResourceType::CollectionPath(std::string_view ns) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += ns;
  }
  path += "/";
  path += plural;
  return path;
}

std::string ResourceType::ItemPath(std::string_view ns, std::string_view name) const {
  std::string path = CollectionPath(ns);
  path += "/";
  path += name;
  return path;
}

}  // namespace financialapi::kube
