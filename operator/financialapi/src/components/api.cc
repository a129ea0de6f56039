#include "components/api.h"

#include "components/pgbouncer.h"
#include "financialapi/common/strings.h"

namespace financialapi::platform {

std::string ApiName(const FinancialApi& api) { return api.name + "-api"; }
std::string ConnectionSecretName(const FinancialApi& api) { return api.name + "-connection"; }
std::string Endpoint(const FinancialApi& api) {
  return "http://" + ApiName(api) + "." + api.ns + ".svc:" + std::to_string(api.spec.service_port);
}

namespace components {
namespace core = kube::resources;
namespace {

std::string ConfigMapName(const FinancialApi& api) { return api.name + "-api-config"; }

// A rollout's SIGTERM: the server keeps serving (readiness down) while the pod's endpoint leaves the
// Service on every node's kube-proxy, then stops accepting and lets in-flight requests finish. The
// kubelet's SIGKILL comes only after both and a margin.
constexpr int kShutdownDelaySeconds = 10;
constexpr int kShutdownDrainSeconds = 20;
constexpr int kTerminationGracePeriodSeconds = kShutdownDelaySeconds + kShutdownDrainSeconds + 5;

Child ApiConfigMap(const FinancialApi& api) {
  const ApiSpec& s = api.spec.api;
  Json data = {{"PORT", std::to_string(s.port)},
               {"WORKER_THREADS", std::to_string(s.worker_threads)},
               {"CACHE_TTL_SECONDS", std::to_string(s.cache_ttl_seconds)},
               {"LOG_LEVEL", s.log_level},
               {"LOG_FORMAT", "json"},
               {"RATE_LIMIT_RPS", std::to_string(s.requests_per_second)},
               {"RATE_LIMIT_BURST", std::to_string(s.burst)},
               {"SHUTDOWN_DELAY_SECONDS", std::to_string(kShutdownDelaySeconds)},
               {"SHUTDOWN_DRAIN_SECONDS", std::to_string(kShutdownDrainSeconds)}};
  if (s.api_keys_secret) data["API_KEYS_FILE"] = kApiKeysFile;
  if (!s.trusted_proxies.empty()) data["TRUSTED_PROXIES"] = Join(s.trusted_proxies, ",");
  // Named prepared statements do not survive a pooler that hands each transaction another server
  // connection and does not track them (PgBouncer before 1.21, or without max_prepared_statements).
  if (!PooledConnectionsKeepPreparedStatements(api)) data["DB_PREPARED_STATEMENTS"] = "false";
  Child config_map = NewChild(core::kConfigMaps, api, ConfigMapName(api), kApiComponent);
  config_map.object["data"] = data;
  return config_map;
}

Child ConnectionSecret(const FinancialApi& api, const Inputs& inputs) {
  const std::string direct = DirectPostgresUrl(api, inputs);
  const std::string pooled = api.spec.postgres.pgbouncer.enabled
                                 ? PostgresUrl(api, inputs, PgBouncerName(api), kPgBouncerPort)
                                 : direct;
  return OpaqueSecret(api, ConnectionSecretName(api), kApiComponent,
                      {{"DATABASE_URL", pooled},
                       {"DIRECT_DATABASE_URL", direct},
                       {"REDIS_URL", RedisUrl(api, inputs)},
                       {kDatabaseUserKey, inputs.postgres_user},
                       {kDatabasePasswordKey, inputs.postgres_password}});
}

Child ApiDeployment(const FinancialApi& api, const std::string& config_hash) {
  const ApiSpec& s = api.spec.api;
  Json container = {
      {"name", "api"},
      {"image", s.image},
      {"imagePullPolicy", s.image_pull_policy},
      {"args", Json::array({"serve"})},
      {"ports", Json::array({{{"name", "http"}, {"containerPort", s.port}, {"protocol", "TCP"}}})},
      {"envFrom", Json::array({{{"configMapRef", {{"name", ConfigMapName(api)}}}},
                               {{"secretRef", {{"name", ConnectionSecretName(api)}}}}})},
      {"livenessProbe", {{"httpGet", {{"path", "/health"}, {"port", "http"}}}, {"initialDelaySeconds", 5},
                         {"periodSeconds", 10}, {"timeoutSeconds", 2}, {"failureThreshold", 3}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", "http"}}}, {"periodSeconds", 5},
                          {"timeoutSeconds", 2}, {"failureThreshold", 3}}},
      {"resources", ResourceRequirements(s.resources)},
      {"securityContext", RestrictedContainerSecurity()}};
  Json pod_spec = {
      {"securityContext", NonRootPodSecurity(kApiServerUser, kApiServerUser)},
      {"terminationGracePeriodSeconds", kTerminationGracePeriodSeconds},
      {"topologySpreadConstraints", Json::array({{{"maxSkew", 1}, {"topologyKey", "kubernetes.io/hostname"},
                                                  {"whenUnsatisfiable", "ScheduleAnyway"},
                                                  {"labelSelector", {{"matchLabels", SelectorLabels(api, kApiComponent)}}}}})},
      {"containers", Json::array({container})}};
  PlacePods(pod_spec, s.placement);
  if (s.api_keys_secret) MountApiKeys(pod_spec, *s.api_keys_secret);
  Json spec = {
      {"selector", {{"matchLabels", SelectorLabels(api, kApiComponent)}}},
      {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", 0}}}}},
      {"template", PodTemplate(api, kApiComponent, config_hash, std::move(pod_spec))}};
  // With autoscaling on, the HorizontalPodAutoscaler owns the replica count; applying one here would
  // fight it on every reconcile.
  if (!api.spec.autoscaling.enabled) spec["replicas"] = s.replicas;
  Child deployment = NewChild(core::kDeployments, api, ApiName(api), kApiComponent);
  deployment.object["spec"] = spec;
  return deployment;
}

Child ApiService(const FinancialApi& api) {
  Child service = NewChild(core::kServices, api, ApiName(api), kApiComponent);
  service.object["spec"] = {{"type", api.spec.service_type},
                            {"selector", SelectorLabels(api, kApiComponent)},
                            {"ports", Json::array({{{"name", "http"}, {"port", api.spec.service_port},
                                                    {"targetPort", "http"}, {"protocol", "TCP"}}})}};
  return service;
}

Child ApiAutoscaler(const FinancialApi& api) {
  const AutoscalingSpec& a = api.spec.autoscaling;
  auto utilization = [](const char* resource, int percent) {
    return Json{{"type", "Resource"},
                {"resource", {{"name", resource}, {"target", {{"type", "Utilization"}, {"averageUtilization", percent}}}}}};
  };
  Child autoscaler = NewChild(resources::kHorizontalPodAutoscalers, api, ApiName(api), kApiComponent);
  autoscaler.object["spec"] = {
      {"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", ApiName(api)}}},
      {"minReplicas", a.min_replicas},
      {"maxReplicas", a.max_replicas},
      {"metrics", Json::array({utilization("cpu", a.target_cpu), utilization("memory", a.target_memory)})},
      {"behavior",
       {{"scaleUp", {{"stabilizationWindowSeconds", a.scale_up_stabilization}, {"selectPolicy", "Max"},
                     {"policies", Json::array({{{"type", "Percent"}, {"value", a.scale_up_percent}, {"periodSeconds", 60}},
                                               {{"type", "Pods"}, {"value", a.scale_up_pods}, {"periodSeconds", 60}}})}}},
        {"scaleDown", {{"stabilizationWindowSeconds", a.scale_down_stabilization}, {"selectPolicy", "Max"},
                       {"policies", Json::array({{{"type", "Percent"}, {"value", a.scale_down_percent}, {"periodSeconds", 60}}})}}}}}};
  return autoscaler;
}

Child ApiDisruptionBudget(const FinancialApi& api) {
  Child budget = NewChild(resources::kPodDisruptionBudgets, api, ApiName(api), kApiComponent);
  budget.object["spec"] = {{"maxUnavailable", api.spec.pdb_max_unavailable},
                           {"selector", {{"matchLabels", SelectorLabels(api, kApiComponent)}}}};
  return budget;
}

}  // namespace

ApiConfiguration BuildApiConfiguration(const FinancialApi& api, const Inputs& inputs) {
  Child connection = ConnectionSecret(api, inputs);
  Child config_map = ApiConfigMap(api);
  // A change of settings, credentials or of the API-keys Secret changes the hash, and so rolls the pods.
  std::string hash = ConfigHash(config_map.object["data"].dump() + connection.object["data"].dump() +
                                api.spec.api.api_keys_secret.value_or(""));
  return {{std::move(connection), std::move(config_map)}, std::move(hash)};
}

std::vector<Child> ApiChildren(const FinancialApi& api, const std::string& config_hash) {
  std::vector<Child> children = {ApiDeployment(api, config_hash), ApiService(api)};
  if (api.spec.autoscaling.enabled) children.push_back(ApiAutoscaler(api));
  if (api.spec.pdb_enabled) children.push_back(ApiDisruptionBudget(api));
  return children;
}

}  // namespace components
}  // namespace financialapi::platform
