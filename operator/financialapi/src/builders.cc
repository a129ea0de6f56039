#include "financialapi/platform/builders.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "financialapi/common/base64.h"
#include "financialapi/common/random.h"
#include "financialapi/common/sha256.h"
#include "financialapi/common/strings.h"
#include "financialapi/kube/client.h"

namespace financialapi::platform {
namespace {

namespace core = kube::resources;

constexpr int kPostgresPort = 5432;
constexpr int kRedisPort = 6379;
constexpr int kPgBouncerPort = 6432;

std::string Component(const std::string& component) { return component; }

Json SelectorLabels(const FinancialApi& api, const std::string& component) {
  return {{kInstanceLabel, api.name}, {kComponentLabel, Component(component)}};
}

Json Labels(const FinancialApi& api, const std::string& component, const std::string& app) {
  Json labels = SelectorLabels(api, component);
  labels["app.kubernetes.io/name"] = app;
  labels["app.kubernetes.io/part-of"] = "edgartools";
  labels[kManagedByLabel] = kManagedBy;
  return labels;
}

Json Metadata(const FinancialApi& api, const std::string& name, const std::string& component, const std::string& app) {
  return {{"name", name},
          {"namespace", api.ns},
          {"labels", Labels(api, component, app)},
          {"ownerReferences", Json::array({{{"apiVersion", kFinancialApis.ApiVersion()},
                                            {"kind", kFinancialApis.kind},
                                            {"name", api.name},
                                            {"uid", api.uid},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}})}};
}

Json Object(const kube::ResourceType& type, Json metadata) {
  return {{"apiVersion", type.ApiVersion()}, {"kind", type.kind}, {"metadata", std::move(metadata)}};
}

Json ResourceRequirements(const Resources& resources) {
  Json out = Json::object();
  if (!resources.cpu_request.empty()) out["requests"]["cpu"] = resources.cpu_request;
  if (!resources.memory_request.empty()) out["requests"]["memory"] = resources.memory_request;
  if (!resources.cpu_limit.empty()) out["limits"]["cpu"] = resources.cpu_limit;
  if (!resources.memory_limit.empty()) out["limits"]["memory"] = resources.memory_limit;
  return out;
}

Json SecretData(const std::map<std::string, std::string>& values) {
  Json data = Json::object();
  for (const auto& [key, value] : values) data[key] = Base64Encode(value);
  return data;
}

Json RestrictedContainerSecurity() {
  return {{"allowPrivilegeEscalation", false}, {"readOnlyRootFilesystem", true},
          {"capabilities", {{"drop", Json::array({"ALL"})}}}};
}

Json VolumeClaim(const Storage& storage, const Json& labels) {
  Json spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
               {"resources", {{"requests", {{"storage", storage.size}}}}}};
  if (!storage.storage_class.empty()) spec["storageClassName"] = storage.storage_class;
  return {{"metadata", {{"name", "data"}, {"labels", labels}}}, {"spec", spec}};
}

double Bytes(const std::string& quantity, double fallback) {
  auto parsed = ParseQuantity(quantity);
  return parsed.ok() ? *parsed : fallback;
}

std::string Megabytes(double bytes) { return std::to_string(static_cast<long long>(bytes / 1048576.0)) + "MB"; }

std::string BackendHost(const FinancialApi& api) {
  return api.spec.postgres.managed ? PostgresName(api) : api.spec.postgres.external->host;
}
int BackendPort(const FinancialApi& api) {
  return api.spec.postgres.managed ? kPostgresPort : api.spec.postgres.external->port;
}
std::string DatabaseName(const FinancialApi& api) {
  return api.spec.postgres.managed ? api.spec.postgres.database : api.spec.postgres.external->database;
}

std::string PostgresUrl(const FinancialApi& api, const Inputs& inputs, const std::string& host, int port) {
  std::string url = "postgresql://" + kube::EncodeQueryValue(inputs.postgres_user) + ":" +
                    kube::EncodeQueryValue(inputs.postgres_password) + "@" + host + ":" + std::to_string(port) + "/" +
                    DatabaseName(api);
  if (!api.spec.postgres.managed) url += "?sslmode=" + api.spec.postgres.external->ssl_mode;
  return url;
}

std::string RedisUrl(const FinancialApi& api, const Inputs& inputs) {
  const std::string host = api.spec.redis.managed ? RedisName(api) : api.spec.redis.external->host;
  const int port = api.spec.redis.managed ? kRedisPort : api.spec.redis.external->port;
  const std::string auth = inputs.redis_password.empty() ? "" : ":" + kube::EncodeQueryValue(inputs.redis_password) + "@";
  return "redis://" + auth + host + ":" + std::to_string(port) + "/0";
}

// --- API tier ---------------------------------------------------------------------------------------

Json ApiConfigMap(const FinancialApi& api) {
  const ApiSpec& s = api.spec.api;
  Json data = {{"PORT", std::to_string(s.port)},
               {"WORKER_THREADS", std::to_string(s.worker_threads)},
               {"CACHE_TTL_SECONDS", std::to_string(s.cache_ttl_seconds)},
               {"LOG_LEVEL", s.log_level},
               {"LOG_FORMAT", "json"},
               {"RATE_LIMIT_RPS", std::to_string(s.requests_per_second)},
               {"RATE_LIMIT_BURST", std::to_string(s.burst)}};
  if (s.api_keys_secret) data["API_KEYS_FILE"] = "/etc/financial-api/keys/keys";
  if (!s.trusted_proxies.empty()) data["TRUSTED_PROXIES"] = Join(s.trusted_proxies, ",");
  Json object = Object(core::kConfigMaps, Metadata(api, api.name + "-api-config", "api", "financial-api-server"));
  object["data"] = data;
  return object;
}

Json ConnectionSecret(const FinancialApi& api, const Inputs& inputs) {
  const std::string direct = PostgresUrl(api, inputs, BackendHost(api), BackendPort(api));
  const std::string pooled = api.spec.postgres.pgbouncer.enabled
                                 ? PostgresUrl(api, inputs, PgBouncerName(api), kPgBouncerPort)
                                 : direct;
  Json object = Object(core::kSecrets, Metadata(api, ConnectionSecretName(api), "api", "financial-api-server"));
  object["type"] = "Opaque";
  object["data"] = SecretData({{"DATABASE_URL", pooled}, {"DIRECT_DATABASE_URL", direct}, {"REDIS_URL", RedisUrl(api, inputs)}});
  return object;
}

Json ApiDeployment(const FinancialApi& api, const std::string& config_hash) {
  const ApiSpec& s = api.spec.api;
  Json container = {
      {"name", "api"},
      {"image", s.image},
      {"imagePullPolicy", s.image_pull_policy},
      {"args", Json::array({"serve"})},
      {"ports", Json::array({{{"name", "http"}, {"containerPort", s.port}, {"protocol", "TCP"}}})},
      {"envFrom", Json::array({{{"configMapRef", {{"name", api.name + "-api-config"}}}},
                               {{"secretRef", {{"name", ConnectionSecretName(api)}}}}})},
      {"livenessProbe", {{"httpGet", {{"path", "/health"}, {"port", "http"}}}, {"initialDelaySeconds", 5},
                         {"periodSeconds", 10}, {"timeoutSeconds", 2}, {"failureThreshold", 3}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", "http"}}}, {"periodSeconds", 5},
                          {"timeoutSeconds", 2}, {"failureThreshold", 3}}},
      {"resources", ResourceRequirements(s.resources)},
      {"securityContext", RestrictedContainerSecurity()}};
  Json pod_spec = {
      {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 65532}, {"runAsGroup", 65532},
                           {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"terminationGracePeriodSeconds", 30},
      {"topologySpreadConstraints", Json::array({{{"maxSkew", 1}, {"topologyKey", "kubernetes.io/hostname"},
                                                  {"whenUnsatisfiable", "ScheduleAnyway"},
                                                  {"labelSelector", {{"matchLabels", SelectorLabels(api, "api")}}}}})},
      {"containers", Json::array({container})}};
  if (s.api_keys_secret) {
    pod_spec["containers"][0]["volumeMounts"] =
        Json::array({{{"name", "api-keys"}, {"mountPath", "/etc/financial-api/keys"}, {"readOnly", true}}});
    pod_spec["volumes"] = Json::array({{{"name", "api-keys"}, {"secret", {{"secretName", *s.api_keys_secret}}}}});
  }
  Json spec = {
      {"selector", {{"matchLabels", SelectorLabels(api, "api")}}},
      {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", 0}}}}},
      {"template", {{"metadata", {{"labels", Labels(api, "api", "financial-api-server")},
                                  {"annotations", {{kConfigHashAnnotation, config_hash}}}}},
                    {"spec", pod_spec}}}};
  // With autoscaling on, the HorizontalPodAutoscaler owns the replica count; applying one here would
  // fight it on every reconcile.
  if (!api.spec.autoscaling.enabled) spec["replicas"] = s.replicas;
  Json object = Object(core::kDeployments, Metadata(api, ApiName(api), "api", "financial-api-server"));
  object["spec"] = spec;
  return object;
}

Json ApiService(const FinancialApi& api) {
  Json object = Object(core::kServices, Metadata(api, ApiName(api), "api", "financial-api-server"));
  object["spec"] = {{"type", api.spec.service_type},
                    {"selector", SelectorLabels(api, "api")},
                    {"ports", Json::array({{{"name", "http"}, {"port", api.spec.service_port},
                                            {"targetPort", "http"}, {"protocol", "TCP"}}})}};
  return object;
}

Json ApiAutoscaler(const FinancialApi& api) {
  const AutoscalingSpec& a = api.spec.autoscaling;
  auto utilization = [](const char* resource, int percent) {
    return Json{{"type", "Resource"},
                {"resource", {{"name", resource}, {"target", {{"type", "Utilization"}, {"averageUtilization", percent}}}}}};
  };
  Json object = Object(resources::kHorizontalPodAutoscalers, Metadata(api, ApiName(api), "api", "financial-api-server"));
  object["spec"] = {
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
  return object;
}

Json ApiDisruptionBudget(const FinancialApi& api) {
  Json object = Object(resources::kPodDisruptionBudgets, Metadata(api, ApiName(api), "api", "financial-api-server"));
  object["spec"] = {{"maxUnavailable", api.spec.pdb_max_unavailable}, {"selector", {{"matchLabels", SelectorLabels(api, "api")}}}};
  return object;
}

// --- PostgreSQL -------------------------------------------------------------------------------------

Json PostgresSecret(const FinancialApi& api, const Inputs& inputs) {
  Json object = Object(core::kSecrets, Metadata(api, PostgresName(api), "database", "postgresql"));
  object["type"] = "Opaque";
  object["data"] = SecretData({{"POSTGRES_USER", inputs.postgres_user},
                               {"POSTGRES_PASSWORD", inputs.postgres_password},
                               {"POSTGRES_DB", api.spec.postgres.database}});
  return object;
}

Json PostgresConfigMap(const FinancialApi& api) {
  std::ostringstream conf;
  conf << "# Generated by financialapi-operator from spec.postgres (memory limit "
       << api.spec.postgres.resources.memory_limit << "); spec.postgres.parameters override.\n";
  for (const auto& [key, value] : PostgresSettings(api)) conf << key << " = '" << value << "'\n";
  Json object = Object(core::kConfigMaps, Metadata(api, PostgresName(api) + "-config", "database", "postgresql"));
  object["data"] = {{"postgresql.conf", conf.str()}};
  return object;
}

Json PostgresService(const FinancialApi& api) {
  Json object = Object(core::kServices, Metadata(api, PostgresName(api), "database", "postgresql"));
  object["spec"] = {{"clusterIP", "None"},
                    {"selector", SelectorLabels(api, "database")},
                    {"ports", Json::array({{{"name", "postgres"}, {"port", kPostgresPort}, {"targetPort", "postgres"}, {"protocol", "TCP"}}})}};
  return object;
}

Json PostgresStatefulSet(const FinancialApi& api, const std::string& config_hash) {
  const PostgresSpec& p = api.spec.postgres;
  auto from_secret = [&](const char* key) {
    return Json{{"name", key}, {"valueFrom", {{"secretKeyRef", {{"name", PostgresName(api)}, {"key", key}}}}}};
  };
  const Json ready = {{"exec", {{"command", Json::array({"sh", "-c", "pg_isready -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -h 127.0.0.1"})}}},
                      {"periodSeconds", 10}, {"timeoutSeconds", 5}, {"failureThreshold", 6}};
  Json container = {
      {"name", "postgres"},
      {"image", p.image},
      {"args", Json::array({"-c", "config_file=/etc/postgresql/postgresql.conf"})},
      {"ports", Json::array({{{"name", "postgres"}, {"containerPort", kPostgresPort}, {"protocol", "TCP"}}})},
      {"env", Json::array({from_secret("POSTGRES_USER"), from_secret("POSTGRES_PASSWORD"), from_secret("POSTGRES_DB"),
                           {{"name", "PGDATA"}, {"value", "/var/lib/postgresql/data/pgdata"}}})},
      {"readinessProbe", ready},
      {"livenessProbe", {{"exec", ready["exec"]}, {"initialDelaySeconds", 30}, {"periodSeconds", 20},
                         {"timeoutSeconds", 5}, {"failureThreshold", 6}}},
      {"resources", ResourceRequirements(p.resources)},
      {"securityContext", {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", Json::array({"ALL"})}}}}},
      {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", "/var/lib/postgresql/data"}},
                                    {{"name", "config"}, {"mountPath", "/etc/postgresql"}, {"readOnly", true}}})}};
  Json object = Object(core::kStatefulSets, Metadata(api, PostgresName(api), "database", "postgresql"));
  object["spec"] = {
      {"serviceName", PostgresName(api)},
      {"replicas", 1},
      {"selector", {{"matchLabels", SelectorLabels(api, "database")}}},
      {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
      {"template", {{"metadata", {{"labels", Labels(api, "database", "postgresql")},
                                  {"annotations", {{kConfigHashAnnotation, config_hash}}}}},
                    {"spec", {{"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 70}, {"runAsGroup", 70}, {"fsGroup", 70},
                                                   {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                              {"terminationGracePeriodSeconds", 60},
                              {"containers", Json::array({container})},
                              {"volumes", Json::array({{{"name", "config"}, {"configMap", {{"name", PostgresName(api) + "-config"}}}}})}}}}},
      {"volumeClaimTemplates", Json::array({VolumeClaim(p.storage, Labels(api, "database", "postgresql"))})}};
  return object;
}

Json PgBouncerSecret(const FinancialApi& api, const Inputs& inputs) {
  Json object = Object(core::kSecrets, Metadata(api, PgBouncerName(api), "pool", "pgbouncer"));
  object["type"] = "Opaque";
  object["data"] = SecretData({{"DATABASE_URL", PostgresUrl(api, inputs, BackendHost(api), BackendPort(api))}});
  return object;
}

Json PgBouncerDeployment(const FinancialApi& api, const std::string& config_hash) {
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
      {"securityContext", {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", Json::array({"ALL"})}}}}}};
  Json object = Object(core::kDeployments, Metadata(api, PgBouncerName(api), "pool", "pgbouncer"));
  object["spec"] = {{"replicas", b.replicas},
                    {"selector", {{"matchLabels", SelectorLabels(api, "pool")}}},
                    {"template", {{"metadata", {{"labels", Labels(api, "pool", "pgbouncer")},
                                                {"annotations", {{kConfigHashAnnotation, config_hash}}}}},
                                  {"spec", {{"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 70},
                                                                 {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                                            {"containers", Json::array({container})}}}}}};
  return object;
}

Json PgBouncerService(const FinancialApi& api) {
  Json object = Object(core::kServices, Metadata(api, PgBouncerName(api), "pool", "pgbouncer"));
  object["spec"] = {{"selector", SelectorLabels(api, "pool")},
                    {"ports", Json::array({{{"name", "pgbouncer"}, {"port", kPgBouncerPort}, {"targetPort", "pgbouncer"}, {"protocol", "TCP"}}})}};
  return object;
}

// --- Redis ------------------------------------------------------------------------------------------

Json RedisSecret(const FinancialApi& api, const Inputs& inputs) {
  Json object = Object(core::kSecrets, Metadata(api, RedisName(api), "cache", "redis"));
  object["type"] = "Opaque";
  object["data"] = SecretData({{"REDIS_PASSWORD", inputs.redis_password}});
  return object;
}

Json RedisConfigMap(const FinancialApi& api) {
  const RedisSpec& r = api.spec.redis;
  std::ostringstream conf;
  conf << "# Generated by financialapi-operator from spec.redis.\n"
       << "bind 0.0.0.0\nport " << kRedisPort << "\nprotected-mode no\ndir /data\n"
       << "maxmemory " << RedisMaxMemoryBytes(api) << "\n"
       << "maxmemory-policy " << r.max_memory_policy << "\n"
       << "appendonly " << (r.append_only ? "yes" : "no") << "\n"
       << "appendfsync everysec\n"
       << "save 900 1 300 10 60 10000\n";
  Json object = Object(core::kConfigMaps, Metadata(api, RedisName(api) + "-config", "cache", "redis"));
  object["data"] = {{"redis.conf", conf.str()}};
  return object;
}

Json RedisService(const FinancialApi& api) {
  Json object = Object(core::kServices, Metadata(api, RedisName(api), "cache", "redis"));
  object["spec"] = {{"selector", SelectorLabels(api, "cache")},
                    {"ports", Json::array({{{"name", "redis"}, {"port", kRedisPort}, {"targetPort", "redis"}, {"protocol", "TCP"}}})}};
  return object;
}

Json RedisStatefulSet(const FinancialApi& api, const std::string& config_hash) {
  const RedisSpec& r = api.spec.redis;
  Json container = {
      {"name", "redis"},
      {"image", r.image},
      {"args", Json::array({"/etc/redis/redis.conf", "--requirepass", "$(REDIS_PASSWORD)"})},
      {"ports", Json::array({{{"name", "redis"}, {"containerPort", kRedisPort}, {"protocol", "TCP"}}})},
      {"env", Json::array({{{"name", "REDIS_PASSWORD"}, {"valueFrom", {{"secretKeyRef", {{"name", RedisName(api)}, {"key", "REDIS_PASSWORD"}}}}}}})},
      {"readinessProbe", {{"tcpSocket", {{"port", "redis"}}}, {"periodSeconds", 5}}},
      {"livenessProbe", {{"tcpSocket", {{"port", "redis"}}}, {"initialDelaySeconds", 10}, {"periodSeconds", 10}}},
      {"resources", ResourceRequirements(r.resources)},
      {"securityContext", RestrictedContainerSecurity()},
      {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", "/data"}},
                                    {{"name", "config"}, {"mountPath", "/etc/redis"}, {"readOnly", true}}})}};
  Json object = Object(core::kStatefulSets, Metadata(api, RedisName(api), "cache", "redis"));
  object["spec"] = {
      {"serviceName", RedisName(api)},
      {"replicas", 1},
      {"selector", {{"matchLabels", SelectorLabels(api, "cache")}}},
      {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
      {"template", {{"metadata", {{"labels", Labels(api, "cache", "redis")}, {"annotations", {{kConfigHashAnnotation, config_hash}}}}},
                    {"spec", {{"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 999}, {"runAsGroup", 999}, {"fsGroup", 999},
                                                   {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                              {"containers", Json::array({container})},
                              {"volumes", Json::array({{{"name", "config"}, {"configMap", {{"name", RedisName(api) + "-config"}}}}})}}}}},
      {"volumeClaimTemplates", Json::array({VolumeClaim(r.storage, Labels(api, "cache", "redis"))})}};
  return object;
}

// --- Network policies -------------------------------------------------------------------------------

Json NetworkPolicy(const FinancialApi& api, const std::string& name, const std::string& component, const std::string& app,
                   int port, const std::vector<std::string>& from_components) {
  Json rule = {{"ports", Json::array({{{"port", port}, {"protocol", "TCP"}}})}};
  if (!from_components.empty()) {
    rule["from"] = Json::array();
    for (const auto& from : from_components) rule["from"].push_back({{"podSelector", {{"matchLabels", SelectorLabels(api, from)}}}});
  }
  Json object = Object(resources::kNetworkPolicies, Metadata(api, name, component, app));
  object["spec"] = {{"podSelector", {{"matchLabels", SelectorLabels(api, component)}}},
                    {"policyTypes", Json::array({"Ingress"})},
                    {"ingress", Json::array({rule})}};
  return object;
}

// --- Jobs ---------------------------------------------------------------------------------------------

Json BackupClaim(const FinancialApi& api) {
  Json object = Object(core::kPersistentVolumeClaims, Metadata(api, api.name + "-backups", "backup", "postgresql-backup"));
  object["spec"] = VolumeClaim(api.spec.postgres.backup.storage, Json::object())["spec"];
  return object;
}

Json CronJob(const FinancialApi& api, const std::string& name, const std::string& component, const std::string& app,
             const std::string& schedule, Json pod_spec) {
  Json object = Object(resources::kCronJobs, Metadata(api, name, component, app));
  object["spec"] = {{"schedule", schedule},
                    {"timeZone", "Etc/UTC"},
                    {"concurrencyPolicy", "Forbid"},
                    {"successfulJobsHistoryLimit", 3},
                    {"failedJobsHistoryLimit", 3},
                    {"jobTemplate", {{"spec", {{"backoffLimit", 2},
                                               {"template", {{"metadata", {{"labels", Labels(api, component, app)}}},
                                                             {"spec", std::move(pod_spec)}}}}}}}};
  return object;
}

Json BackupCronJob(const FinancialApi& api) {
  const BackupSpec& b = api.spec.postgres.backup;
  const std::string script =
      "set -eu\n"
      "file=/backups/" + api.name + "-$(date -u +%Y%m%dT%H%M%SZ).sql.gz\n"
      "pg_dump --no-owner \"$DIRECT_DATABASE_URL\" | gzip > \"$file.partial\"\n"
      "mv \"$file.partial\" \"$file\"\n"
      "find /backups -name '*.sql.gz' -mtime +" + std::to_string(b.retention_days) + " -delete\n"
      "ls -l /backups\n";
  Json pod_spec = {
      {"restartPolicy", "OnFailure"},
      {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 70}, {"fsGroup", 70}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", Json::array({{{"name", "pg-dump"},
                                   {"image", api.spec.postgres.image},
                                   {"command", Json::array({"sh", "-c", script})},
                                   {"env", Json::array({{{"name", "DIRECT_DATABASE_URL"},
                                                         {"valueFrom", {{"secretKeyRef", {{"name", ConnectionSecretName(api)}, {"key", "DIRECT_DATABASE_URL"}}}}}}})},
                                   {"securityContext", RestrictedContainerSecurity()},
                                   {"volumeMounts", Json::array({{{"name", "backups"}, {"mountPath", "/backups"}}})}}})},
      {"volumes", Json::array({{{"name", "backups"}, {"persistentVolumeClaim", {{"claimName", api.name + "-backups"}}}}})}};
  return CronJob(api, PostgresName(api) + "-backup", "backup", "postgresql-backup", b.schedule, std::move(pod_spec));
}

Json WarmupCronJob(const FinancialApi& api) {
  const CacheWarmupSpec& w = api.spec.cache_warmup;
  std::string tickers;
  for (const auto& ticker : w.tickers) tickers += (tickers.empty() ? "" : " ") + ticker;
  const std::string base = "http://" + ApiName(api) + ":" + std::to_string(api.spec.service_port);
  const std::string script =
      "set -u\nfailed=0\n"
      "for t in $TICKERS; do\n"
      "  for path in \"v1/companies/$t\" \"v1/companies/$t/statements/income?period=annual\"; do\n"
      "    curl -fsS -o /dev/null --max-time 30 \"$API/$path\" || failed=$((failed+1))\n"
      "  done\n"
      "done\n"
      "echo \"warm-up done, $failed failed requests\"\n"
      "[ \"$failed\" -eq 0 ]\n";
  Json pod_spec = {
      {"restartPolicy", "OnFailure"},
      {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 65532}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", Json::array({{{"name", "warmup"},
                                   {"image", w.image},
                                   {"command", Json::array({"sh", "-c", script})},
                                   {"env", Json::array({{{"name", "API"}, {"value", base}}, {{"name", "TICKERS"}, {"value", tickers}}})},
                                   {"securityContext", RestrictedContainerSecurity()}}})}};
  return CronJob(api, api.name + "-cache-warmup", "warmup", "financial-api-warmup", w.schedule, std::move(pod_spec));
}

// --- Monitoring -------------------------------------------------------------------------------------

Json ServiceMonitor(const FinancialApi& api) {
  Json object = Object(resources::kServiceMonitors, Metadata(api, ApiName(api), "api", "financial-api-server"));
  object["spec"] = {{"selector", {{"matchLabels", SelectorLabels(api, "api")}}},
                    {"namespaceSelector", {{"matchNames", Json::array({api.ns})}}},
                    // honorLabels: the API's route label is called `endpoint`, which the Prometheus Operator
                    // would otherwise overwrite with the port name (keeping ours as exported_endpoint).
                    {"endpoints", Json::array({{{"port", "http"}, {"path", "/metrics"}, {"interval", "30s"},
                                                {"honorLabels", true}}})}};
  return object;
}

std::string FormatNumber(double value) {
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

Json PrometheusRule(const FinancialApi& api) {
  const std::string selector = "job=\"" + ApiName(api) + "\",namespace=\"" + api.ns + "\"";
  // Probes and scrapes are not user traffic: /ready answers 503 while PostgreSQL is down, which the
  // Ready condition already reports; counting it would double the alarm.
  const std::string requests = selector + ",endpoint!~\"/health|/ready|/metrics\"";
  auto error_ratio = [&](const std::string& window) {
    return "(sum(rate(http_requests_total{" + requests + ",status=~\"5..\"}[" + window + "])) / sum(rate(http_requests_total{" +
           requests + "}[" + window + "])))";
  };
  const double availability = std::stod(api.spec.monitoring.availability);
  const double budget = 1.0 - availability / 100.0;
  const Json labels = {{"financialapi", api.name}, {"namespace", api.ns}};
  auto alert = [&](const std::string& name, const std::string& expr, const std::string& duration,
                   const std::string& severity, const std::string& summary) {
    Json rule_labels = labels;
    rule_labels["severity"] = severity;
    return Json{{"alert", name}, {"expr", expr}, {"for", duration}, {"labels", rule_labels},
                {"annotations", {{"summary", summary}}}};
  };
  Json rules = Json::array({
      alert("FinancialApiHighErrorRate", error_ratio("5m") + " > 0.05", "2m", "critical",
            "More than 5% of requests to " + api.name + " fail with 5xx"),
      alert("FinancialApiHighLatency",
            "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{" + requests + "}[5m]))) > " +
                FormatNumber(api.spec.monitoring.latency_p95_seconds),
            "5m", "warning", "p95 latency of " + api.name + " is above " + FormatNumber(api.spec.monitoring.latency_p95_seconds) + "s"),
      alert("FinancialApiDatabaseConnectionsHigh",
            "max(financialapi_db_pool_in_use{" + selector + "} / financialapi_db_pool_size{" + selector + "}) > 0.9",
            "5m", "warning", "The API's database connection pools of " + api.name + " are over 90% in use"),
      alert("FinancialApiRedisMemoryHigh",
            // maxmemory 0 means "no limit" (and both gauges read 0 until Redis was first reached): such
            // series are dropped by "> 0" instead of dividing by zero (used / 0 = +Inf would fire).
            "max(financialapi_redis_memory_used_bytes{" + selector + "} / (financialapi_redis_memory_max_bytes{" + selector +
                "} > 0)) > 0.9",
            "5m", "warning", "Redis of " + api.name + " uses over 90% of maxmemory"),
      // Multi-window burn-rate alerts on the availability objective (Google SRE workbook, ch. 5).
      alert("FinancialApiErrorBudgetFastBurn",
            error_ratio("1h") + " > " + FormatNumber(14.4 * budget) + " and " + error_ratio("5m") + " > " + FormatNumber(14.4 * budget),
            "2m", "critical", "Error budget of " + api.name + " (" + api.spec.monitoring.availability + "%) burns 14.4x too fast"),
      alert("FinancialApiErrorBudgetSlowBurn",
            error_ratio("6h") + " > " + FormatNumber(6 * budget) + " and " + error_ratio("30m") + " > " + FormatNumber(6 * budget),
            "15m", "warning", "Error budget of " + api.name + " (" + api.spec.monitoring.availability + "%) burns 6x too fast")});
  Json object = Object(resources::kPrometheusRules, Metadata(api, ApiName(api), "api", "financial-api-server"));
  object["spec"] = {{"groups", Json::array({{{"name", "financialapi-" + api.name}, {"rules", rules}}})}};
  return object;
}

}  // namespace

const std::vector<const kube::ResourceType*>& ChildKinds() {
  static const std::vector<const kube::ResourceType*> kinds = {
      &core::kSecrets, &core::kConfigMaps, &core::kServices, &core::kPersistentVolumeClaims, &core::kStatefulSets,
      &core::kDeployments, &resources::kHorizontalPodAutoscalers, &resources::kPodDisruptionBudgets,
      &resources::kNetworkPolicies, &resources::kCronJobs, &resources::kServiceMonitors, &resources::kPrometheusRules};
  return kinds;
}

std::string ApiName(const FinancialApi& api) { return api.name + "-api"; }
std::string PostgresName(const FinancialApi& api) { return api.name + "-postgres"; }
std::string RedisName(const FinancialApi& api) { return api.name + "-redis"; }
std::string PgBouncerName(const FinancialApi& api) { return api.name + "-pgbouncer"; }
std::string ConnectionSecretName(const FinancialApi& api) { return api.name + "-connection"; }
std::string Endpoint(const FinancialApi& api) {
  return "http://" + ApiName(api) + "." + api.ns + ".svc:" + std::to_string(api.spec.service_port);
}

std::map<std::string, std::string> PostgresSettings(const FinancialApi& api) {
  const double memory = Bytes(api.spec.postgres.resources.memory_limit, 1073741824.0);
  const int max_connections = api.spec.postgres.pgbouncer.enabled ? 200 : 100;
  std::map<std::string, std::string> settings = {
      {"listen_addresses", "*"},
      {"port", std::to_string(kPostgresPort)},
      {"max_connections", std::to_string(max_connections)},
      {"shared_buffers", Megabytes(memory * 0.25)},
      {"effective_cache_size", Megabytes(memory * 0.75)},
      {"maintenance_work_mem", Megabytes(std::min(memory / 16.0, 2.0 * 1073741824.0))},
      // What is left after shared buffers, shared among connections, a few sorts each.
      {"work_mem", Megabytes(std::max(4.0 * 1048576.0, memory * 0.25 / (max_connections * 3.0)))},
      {"wal_buffers", "16MB"},
      {"min_wal_size", "1GB"},
      {"max_wal_size", "4GB"},
      {"checkpoint_completion_target", "0.9"},
      {"random_page_cost", "1.1"},
      {"effective_io_concurrency", "200"},
      {"default_statistics_target", "100"},
      {"password_encryption", "scram-sha-256"},
      {"log_min_duration_statement", "1000"},
  };
  for (const auto& [key, value] : api.spec.postgres.parameters) settings[key] = value;
  return settings;
}

long long RedisMaxMemoryBytes(const FinancialApi& api) {
  return static_cast<long long>(Bytes(api.spec.redis.resources.memory_limit, 536870912.0) * 0.8);
}

std::string GeneratePassword(std::size_t length) { return RandomPassword(length); }

std::vector<Child> BuildChildren(const FinancialApi& api, const Inputs& inputs) {
  const FinancialApiSpec& s = api.spec;
  std::vector<Child> children;
  auto add = [&children](const kube::ResourceType& type, Json object) { children.push_back({&type, std::move(object)}); };

  const Json api_config = ApiConfigMap(api);
  const Json connection = ConnectionSecret(api, inputs);
  // A change of configuration or credentials changes the hash, and so rolls the pods.
  const std::string api_hash =
      Sha256Hex(api_config["data"].dump() + connection["data"].dump() + s.api.api_keys_secret.value_or("")).substr(0, 16);
  add(core::kSecrets, connection);
  add(core::kConfigMaps, api_config);

  if (s.postgres.managed) {
    const Json secret = PostgresSecret(api, inputs);
    const Json config = PostgresConfigMap(api);
    add(core::kSecrets, secret);
    add(core::kConfigMaps, config);
    add(core::kServices, PostgresService(api));
    add(core::kStatefulSets, PostgresStatefulSet(api, Sha256Hex(secret["data"].dump() + config["data"].dump()).substr(0, 16)));
  }
  if (s.postgres.pgbouncer.enabled) {
    const Json secret = PgBouncerSecret(api, inputs);
    add(core::kSecrets, secret);
    add(core::kServices, PgBouncerService(api));
    add(core::kDeployments, PgBouncerDeployment(api, Sha256Hex(secret["data"].dump()).substr(0, 16)));
  }
  if (s.redis.managed) {
    const Json secret = RedisSecret(api, inputs);
    const Json config = RedisConfigMap(api);
    add(core::kSecrets, secret);
    add(core::kConfigMaps, config);
    add(core::kServices, RedisService(api));
    add(core::kStatefulSets, RedisStatefulSet(api, Sha256Hex(secret["data"].dump() + config["data"].dump()).substr(0, 16)));
  }

  add(core::kDeployments, ApiDeployment(api, api_hash));
  add(core::kServices, ApiService(api));
  if (s.autoscaling.enabled) add(resources::kHorizontalPodAutoscalers, ApiAutoscaler(api));
  if (s.pdb_enabled) add(resources::kPodDisruptionBudgets, ApiDisruptionBudget(api));

  if (s.network_policy) {
    add(resources::kNetworkPolicies, NetworkPolicy(api, ApiName(api), "api", "financial-api-server", s.api.port, {}));
    if (s.postgres.managed) {
      std::vector<std::string> clients = {s.postgres.pgbouncer.enabled ? "pool" : "api", "backup"};
      if (s.postgres.pgbouncer.enabled) clients.push_back("api");  // migrations and health checks go direct
      add(resources::kNetworkPolicies, NetworkPolicy(api, PostgresName(api), "database", "postgresql", kPostgresPort, clients));
    }
    if (s.postgres.pgbouncer.enabled) {
      add(resources::kNetworkPolicies, NetworkPolicy(api, PgBouncerName(api), "pool", "pgbouncer", kPgBouncerPort, {"api"}));
    }
    if (s.redis.managed) {
      add(resources::kNetworkPolicies, NetworkPolicy(api, RedisName(api), "cache", "redis", kRedisPort, {"api"}));
    }
  }
  if (s.postgres.backup.enabled) {
    add(core::kPersistentVolumeClaims, BackupClaim(api));
    add(resources::kCronJobs, BackupCronJob(api));
  }
  if (s.cache_warmup.enabled) add(resources::kCronJobs, WarmupCronJob(api));
  if (s.monitoring.service_monitor && inputs.service_monitor_crd) add(resources::kServiceMonitors, ServiceMonitor(api));
  if (s.monitoring.prometheus_rule && inputs.prometheus_rule_crd) add(resources::kPrometheusRules, PrometheusRule(api));
  return children;
}

}  // namespace financialapi::platform
