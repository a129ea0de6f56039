#include "components/network_policy.h"

namespace financialapi::platform::components {
namespace {

// Ingress to `target`'s pods on `port`: from the pods of `clients` only, or from anywhere when empty.
Child NetworkPolicy(const FinancialApi& api, const std::string& name, const Component& target, int port,
                    const std::vector<Component>& clients) {
  Json rule = {{"ports", Json::array({{{"port", port}, {"protocol", "TCP"}}})}};
  if (!clients.empty()) {
    rule["from"] = Json::array();
    for (const auto& client : clients) rule["from"].push_back({{"podSelector", {{"matchLabels", SelectorLabels(api, client)}}}});
  }
  Child policy = NewChild(resources::kNetworkPolicies, api, name, target);
  policy.object["spec"] = {{"podSelector", {{"matchLabels", SelectorLabels(api, target)}}},
                           {"policyTypes", Json::array({"Ingress"})},
                           {"ingress", Json::array({rule})}};
  return policy;
}

}  // namespace

std::vector<Child> NetworkPolicyChildren(const FinancialApi& api) {
  const FinancialApiSpec& s = api.spec;
  if (!s.network_policy) return {};
  std::vector<Child> children = {NetworkPolicy(api, ApiName(api), kApiComponent, s.api.port, {})};
  if (s.postgres.managed) {
    std::vector<Component> clients = {s.postgres.pgbouncer.enabled ? kPgBouncerComponent : kApiComponent, kBackupComponent};
    if (s.postgres.pgbouncer.enabled) clients.push_back(kApiComponent);  // migrations and health checks go direct
    if (s.data.load) clients.push_back(kLoaderComponent);                // so does the data load
    children.push_back(NetworkPolicy(api, PostgresName(api), kPostgresComponent, kPostgresPort, clients));
  }
  if (s.postgres.pgbouncer.enabled) {
    children.push_back(NetworkPolicy(api, PgBouncerName(api), kPgBouncerComponent, kPgBouncerPort, {kApiComponent}));
  }
  if (s.redis.managed) children.push_back(NetworkPolicy(api, RedisName(api), kRedisComponent, kRedisPort, {kApiComponent}));
  return children;
}

}  // namespace financialapi::platform::components
