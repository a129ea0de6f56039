#include "components/network_policy.h"

#include <optional>

namespace financialapi::platform::components {
namespace {

// One side of a connection a policy admits: the pods of `component` (of this FinancialApi), or any
// address when it is not set (a host outside the cluster, DNS), on `port`.
struct Peer {
  std::optional<Component> component;
  int port;
  const char* protocol = "TCP";
};

// DNS, wherever the cluster serves it: CoreDNS pods in kube-system, NodeLocal DNSCache on a link-local
// address of the node, a resolver on the node itself (the local cluster's real node). No pod or
// namespace selector matches all of them, so the port is what holds it.
const std::vector<Peer> kDns = {{std::nullopt, 53, "UDP"}, {std::nullopt, 53, "TCP"}};

Json EgressRule(const FinancialApi& api, const Peer& peer) {
  Json rule = {{"ports", Json::array({{{"port", peer.port}, {"protocol", peer.protocol}}})}};
  if (peer.component) {
    rule["to"] = Json::array({{{"podSelector", {{"matchLabels", SelectorLabels(api, *peer.component)}}}}});
  }
  return rule;
}

// `target`'s pods accept `ingress` (one rule, on `port`, from the pods of `clients` or from anywhere when
// `clients` is empty; nothing when `port` is not set) and connect to `egress` only.
Child NetworkPolicy(const FinancialApi& api, const std::string& name, const Component& target, std::optional<int> port,
                    const std::vector<Component>& clients, const std::vector<Peer>& egress) {
  Json ingress_rules = Json::array();
  if (port) {
    Json rule = {{"ports", Json::array({{{"port", *port}, {"protocol", "TCP"}}})}};
    if (!clients.empty()) {
      rule["from"] = Json::array();
      for (const auto& client : clients) rule["from"].push_back({{"podSelector", {{"matchLabels", SelectorLabels(api, client)}}}});
    }
    ingress_rules.push_back(std::move(rule));
  }
  Json egress_rules = Json::array();
  for (const Peer& peer : egress) egress_rules.push_back(EgressRule(api, peer));
  Child policy = NewChild(resources::kNetworkPolicies, api, name, target);
  policy.object["spec"] = {{"podSelector", {{"matchLabels", SelectorLabels(api, target)}}},
                           {"policyTypes", Json::array({"Ingress", "Egress"})}};
  // No rules is no key: with the type in policyTypes that denies the direction, and the API server
  // drops an empty list when it stores the policy, which would count as drift on every reconcile.
  if (!ingress_rules.empty()) policy.object["spec"]["ingress"] = std::move(ingress_rules);
  if (!egress_rules.empty()) policy.object["spec"]["egress"] = std::move(egress_rules);
  return policy;
}

std::vector<Peer> DnsAnd(std::vector<Peer> peers) {
  peers.insert(peers.begin(), kDns.begin(), kDns.end());
  return peers;
}

// PostgreSQL itself (not PgBouncer): the managed pod, or the external database's port.
Peer Postgres(const FinancialApi& api) {
  if (api.spec.postgres.managed) return {kPostgresComponent, kPostgresPort};
  return {std::nullopt, BackendPort(api)};
}

}  // namespace

std::vector<Child> NetworkPolicyChildren(const FinancialApi& api) {
  const FinancialApiSpec& s = api.spec;
  if (!s.network_policy) return {};
  // The API: its pool, PostgreSQL directly (migrations and health checks), Redis.
  std::vector<Peer> api_egress = DnsAnd({});
  if (s.postgres.pgbouncer.enabled) api_egress.push_back({kPgBouncerComponent, kPgBouncerPort});
  api_egress.push_back(Postgres(api));
  if (s.redis.managed) {
    api_egress.push_back({kRedisComponent, kRedisPort});
  } else {
    api_egress.push_back({std::nullopt, s.redis.external->port});
  }
  std::vector<Child> children = {NetworkPolicy(api, ApiName(api), kApiComponent, s.api.port, {}, api_egress)};
  if (s.postgres.managed) {
    std::vector<Component> clients = {s.postgres.pgbouncer.enabled ? kPgBouncerComponent : kApiComponent, kBackupComponent};
    if (s.postgres.pgbouncer.enabled) clients.push_back(kApiComponent);  // migrations and health checks go direct
    if (s.data.load) clients.push_back(kLoaderComponent);                // so does the data load
    // PostgreSQL answers; it opens no connection of its own.
    children.push_back(NetworkPolicy(api, PostgresName(api), kPostgresComponent, kPostgresPort, clients, {}));
  }
  if (s.postgres.pgbouncer.enabled) {
    // DNS: PgBouncer resolves the PostgreSQL Service's (or the external host's) name itself.
    children.push_back(NetworkPolicy(api, PgBouncerName(api), kPgBouncerComponent, kPgBouncerPort, {kApiComponent},
                                     DnsAnd({Postgres(api)})));
  }
  if (s.redis.managed) {
    children.push_back(NetworkPolicy(api, RedisName(api), kRedisComponent, kRedisPort, {kApiComponent}, {}));
  }
  // The Jobs listen on nothing; each reaches the one service it works with.
  if (s.postgres.backup.enabled) {
    children.push_back(NetworkPolicy(api, PostgresName(api) + "-backup", kBackupComponent, std::nullopt, {},
                                     DnsAnd({Postgres(api)})));
  }
  if (s.data.load) {
    children.push_back(NetworkPolicy(api, api.name + "-loader", kLoaderComponent, std::nullopt, {}, DnsAnd({Postgres(api)})));
  }
  if (s.cache_warmup.enabled) {
    // Through the API Service, whose address is translated to an API pod's before the policy decides:
    // the API pods on their container port.
    children.push_back(NetworkPolicy(api, api.name + "-cache-warmup", kWarmupComponent, std::nullopt, {},
                                     DnsAnd({{kApiComponent, s.api.port}})));
  }
  return children;
}

}  // namespace financialapi::platform::components
