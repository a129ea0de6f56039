// Naming a Kubernetes resource collection (group/version/plural) and building its REST paths.
#pragma once

#include <string>
#include <string_view>

namespace financialapi::kube {

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "deployments"
  std::string kind;     // "Deployment"
  bool namespaced = true;

  // "apps/v1", or "v1" for the core group.
  std::string ApiVersion() const;
  // "/apis/apps/v1/namespaces/ns/deployments" (namespace ignored for cluster-scoped kinds; empty
  // namespace on a namespaced kind lists across all namespaces).
  std::string CollectionPath(std::string_view ns) const;
  // CollectionPath + "/name".
  std::string ItemPath(std::string_view ns, std::string_view name) const;
};

// The kinds the project works with; further kinds are described the same way or found by discovery.
namespace resources {
inline const ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const ResourceType kNodes{"", "v1", "nodes", "Node", false};
inline const ResourceType kPods{"", "v1", "pods", "Pod", true};
inline const ResourceType kServices{"", "v1", "services", "Service", true};
inline const ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const ResourceType kSecrets{"", "v1", "secrets", "Secret", true};
inline const ResourceType kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
inline const ResourceType kPersistentVolumes{"", "v1", "persistentvolumes", "PersistentVolume", false};
inline const ResourceType kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
inline const ResourceType kEvents{"", "v1", "events", "Event", true};
inline const ResourceType kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const ResourceType kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
inline const ResourceType kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet", true};
inline const ResourceType kStorageClasses{"storage.k8s.io", "v1", "storageclasses", "StorageClass", false};
inline const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const ResourceType kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                                     "CustomResourceDefinition", false};
}  // namespace resources

}  // namespace financialapi::kube
