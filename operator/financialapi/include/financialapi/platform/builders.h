// Pure functions from a FinancialApi (plus the few values read from the cluster: passwords, which
// monitoring CRDs exist) to the child objects the operator applies. No I/O: unit-tested with no
// cluster. Every child carries the standard labels and a controller ownerReference to the FinancialApi.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "financialapi/kube/resource.h"
#include "financialapi/platform/spec.h"

namespace financialapi::platform {

inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedBy[] = "financialapi-operator";
inline constexpr char kInstanceLabel[] = "app.kubernetes.io/instance";
inline constexpr char kComponentLabel[] = "app.kubernetes.io/component";
inline constexpr char kConfigHashAnnotation[] = "edgartools.io/config-hash";

namespace resources {
inline const kube::ResourceType kHorizontalPodAutoscalers{"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true};
inline const kube::ResourceType kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true};
inline const kube::ResourceType kNetworkPolicies{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true};
inline const kube::ResourceType kCronJobs{"batch", "v1", "cronjobs", "CronJob", true};
inline const kube::ResourceType kJobs{"batch", "v1", "jobs", "Job", true};
inline const kube::ResourceType kServiceMonitors{"monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", true};
inline const kube::ResourceType kPrometheusRules{"monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule", true};
}  // namespace resources

// The kinds the operator creates, in the order it applies them (configuration before workloads).
const std::vector<const kube::ResourceType*>& ChildKinds();

// Values that come from the cluster rather than the spec.
struct Inputs {
  std::string postgres_password;  // generated once (managed) or read from the referenced Secret
  std::string postgres_user;      // managed: spec user; external: from the Secret
  std::string redis_password;     // generated once (managed), from the referenced Secret, or ""
  bool service_monitor_crd = false;
  bool prometheus_rule_crd = false;
};

struct Child {
  const kube::ResourceType* type;
  Json object;
};

// A credential read from a Secret the user edits (an external PostgreSQL's username or password):
// InvalidArgument naming `what` when it holds CR, LF or NUL, which PgBouncer's userlist.txt (one
// user a line) and libpq connection strings cannot carry. Ok otherwise.
Status CheckCredential(std::string_view value, const std::string& what);

// Every child the spec asks for, fully built. Names: "<name>-api", "<name>-postgres", ...
std::vector<Child> BuildChildren(const FinancialApi& api, const Inputs& inputs);

// Names of children, for status and tests.
std::string ApiName(const FinancialApi& api);
std::string PostgresName(const FinancialApi& api);
std::string RedisName(const FinancialApi& api);
std::string PgBouncerName(const FinancialApi& api);
std::string ConnectionSecretName(const FinancialApi& api);
// "<name>-load-<8 hex digits>": the hash of the Job's spec and of the database it loads (see loader.cc).
std::string LoaderJobName(const FinancialApi& api);
std::string Endpoint(const FinancialApi& api);

// postgresql.conf settings derived from the memory limit (shared_buffers 25 %, effective_cache_size
// 75 %, …) with spec.postgres.parameters applied on top.
std::map<std::string, std::string> PostgresSettings(const FinancialApi& api);
// Redis maxmemory in bytes: 80 % of the memory limit (room for fragmentation and AOF rewrites).
long long RedisMaxMemoryBytes(const FinancialApi& api);

// A password of `length` random letters and digits (for generated Secrets).
std::string GeneratePassword(std::size_t length = 32);

}  // namespace financialapi::platform
