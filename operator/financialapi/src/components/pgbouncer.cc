#include "components/pgbouncer.h"

namespace financialapi::platform {

std::string PgBouncerName(const FinancialApi& api) { return api.name + "-pgbouncer"; }

namespace components {
namespace core = kube::resources;
namespace {

Child PgBouncerSecret(const FinancialApi& api, const Inputs& inputs) {
  return OpaqueSecret(api, PgBouncerName(api), kPgBouncerComponent, {{"DATABASE_URL", DirectPostgresUrl(api, inputs)}});
}

Child PgBouncerDeployment(const FinancialApi& api, const std::string& config_hash) {
  const PgBouncerSpec& b = api.spec.postgres.pgbouncer;
  Json container = {
      {"name", "pgbouncer"},
      {"image", b.image},
      {"ports", Json::array({{{"name", "pgbouncer"}, {"containerPort", kPgBouncerPort}, {"protocol", "TCP"}}})},
      {"env", Json::array({{{"name", "DATABASE_URL"}, {"valueFrom", {{"secretKeyRef", {{"name", PgBouncerName(api)}, {"key", "DATABASE_URL"}}}}}},
                           {{"name", "LISTEN_PORT"}, {"value", std::to_string(kPgBouncerPort)}},
                           {{"name", "POOL_MODE"}, {"value", b.pool_mode}},
                           {{"name", "MAX_CLIENT_CONN"}, {"value", std::to_string(b.max_client_connections)}},
                           {{"name", "DEFAULT_POOL_SIZE"}, {"value", std::to_string(b.default_pool_size)}},
                           {{"name", "AUTH_TYPE"}, {"value", "scram-sha-256"}}})},
      {"readinessProbe", {{"tcpSocket", {{"port", "pgbouncer"}}}, {"periodSeconds", 5}}},
      {"livenessProbe", {{"tcpSocket", {{"port", "pgbouncer"}}}, {"periodSeconds", 10}}},
      {"resources", {{"requests", {{"cpu", "50m"}, {"memory", "32Mi"}}}, {"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}}}},
      // The image writes pgbouncer.ini from the environment at start: no read-only root.
      {"securityContext", NoEscalationContainerSecurity()}};
  Json pod_spec = {{"securityContext", NonRootPodSecurity(70)}, {"containers", Json::array({container})}};
  PlacePods(pod_spec, b.placement);
  Child deployment = NewChild(core::kDeployments, api, PgBouncerName(api), kPgBouncerComponent);
  deployment.object["spec"] = {{"replicas", b.replicas},
                               {"selector", {{"matchLabels", SelectorLabels(api, kPgBouncerComponent)}}},
                               {"template", PodTemplate(api, kPgBouncerComponent, config_hash, std::move(pod_spec))}};
  return deployment;
}

}  // namespace

std::vector<Child> PgBouncerChildren(const FinancialApi& api, const Inputs& inputs) {
  if (!api.spec.postgres.pgbouncer.enabled) return {};
  Child secret = PgBouncerSecret(api, inputs);
  // PgBouncer reads its backend URL only at start: new credentials roll its pods.
  const std::string hash = ConfigHash(secret.object["data"].dump());
  return {std::move(secret), PortService(api, PgBouncerName(api), kPgBouncerComponent, "pgbouncer", kPgBouncerPort),
          PgBouncerDeployment(api, hash)};
}

}  // namespace components
}  // namespace financialapi::platform
