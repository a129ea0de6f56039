// The orchestrator of the builders: asks each component (components/) for its children, in the order
// the reconciler applies them. What a child looks like is the component's business.
#include "financialapi/platform/builders.h"

#include <iterator>

#include "components/api.h"
#include "components/backup.h"
#include "components/loader.h"
#include "components/monitoring.h"
#include "components/network_policy.h"
#include "components/pgbouncer.h"
#include "components/postgres.h"
#include "components/redis.h"
#include "components/warmup.h"
#include "financialapi/common/random.h"

namespace financialapi::platform {

const std::vector<const kube::ResourceType*>& ChildKinds() {
  namespace core = kube::resources;
  static const std::vector<const kube::ResourceType*> kinds = {
      &core::kSecrets, &core::kConfigMaps, &core::kServices, &core::kPersistentVolumeClaims, &core::kStatefulSets,
      &core::kDeployments, &resources::kHorizontalPodAutoscalers, &resources::kPodDisruptionBudgets,
      &resources::kNetworkPolicies, &resources::kCronJobs, &resources::kJobs, &resources::kServiceMonitors,
      &resources::kPrometheusRules};
  return kinds;
}

std::string GeneratePassword(std::size_t length) { return RandomPassword(length); }

std::vector<Child> BuildChildren(const FinancialApi& api, const Inputs& inputs) {
  std::vector<Child> children;
  const auto add = [&children](std::vector<Child> component_children) {
    children.insert(children.end(), std::make_move_iterator(component_children.begin()),
                    std::make_move_iterator(component_children.end()));
  };
  // What the API pods read comes first, so they find it when they start; then the databases they wait
  // for, the API itself, the data it serves, and what guards, backs up, warms and watches the platform.
  components::ApiConfiguration api_configuration = components::BuildApiConfiguration(api, inputs);
  add(std::move(api_configuration.children));
  add(components::PostgresChildren(api, inputs));
  add(components::PgBouncerChildren(api, inputs));
  add(components::RedisChildren(api, inputs));
  add(components::ApiChildren(api, api_configuration.config_hash));
  add(components::LoaderChildren(api));
  add(components::NetworkPolicyChildren(api));
  add(components::BackupChildren(api));
  add(components::WarmupChildren(api));
  add(components::MonitoringChildren(api, inputs));
  return children;
}

Status CheckCredential(std::string_view value, const std::string& what) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) return Status::Ok();
  return InvalidArgument(what + " holds a line break or NUL, which PgBouncer's userlist.txt and connection strings cannot carry");
}

}  // namespace financialapi::platform
