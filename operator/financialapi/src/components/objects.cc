#include "components/objects.h"

#include "financialapi/common/base64.h"
#include "financialapi/common/sha256.h"
#include "financialapi/kube/client.h"

namespace financialapi::platform::components {

std::string BackendHost(const FinancialApi& api) {
  return api.spec.postgres.managed ? PostgresName(api) : api.spec.postgres.external->host;
}
int BackendPort(const FinancialApi& api) {
  return api.spec.postgres.managed ? kPostgresPort : api.spec.postgres.external->port;
}
std::string DatabaseName(const FinancialApi& api) {
  return api.spec.postgres.managed ? api.spec.postgres.database : api.spec.postgres.external->database;
}

Json SelectorLabels(const FinancialApi& api, const Component& component) {
  return {{kInstanceLabel, api.name}, {kComponentLabel, component.label}};
}

Json Labels(const FinancialApi& api, const Component& component) {
  Json labels = SelectorLabels(api, component);
  labels["app.kubernetes.io/name"] = component.app;
  labels["app.kubernetes.io/part-of"] = "edgartools";
  labels[kManagedByLabel] = kManagedBy;
  return labels;
}

Child NewChild(const kube::ResourceType& type, const FinancialApi& api, const std::string& name,
               const Component& component) {
  Json metadata = {{"name", name},
                   {"namespace", api.ns},
                   {"labels", Labels(api, component)},
                   {"ownerReferences", Json::array({{{"apiVersion", kFinancialApis.ApiVersion()},
                                                     {"kind", kFinancialApis.kind},
                                                     {"name", api.name},
                                                     {"uid", api.uid},
                                                     {"controller", true},
                                                     {"blockOwnerDeletion", true}}})}};
  return {&type, {{"apiVersion", type.ApiVersion()}, {"kind", type.kind}, {"metadata", std::move(metadata)}}};
}

Json ResourceRequirements(const Resources& resources) {
  Json out = Json::object();
  if (!resources.cpu_request.empty()) out["requests"]["cpu"] = resources.cpu_request;
  if (!resources.memory_request.empty()) out["requests"]["memory"] = resources.memory_request;
  if (!resources.cpu_limit.empty()) out["limits"]["cpu"] = resources.cpu_limit;
  if (!resources.memory_limit.empty()) out["limits"]["memory"] = resources.memory_limit;
  return out;
}

Child OpaqueSecret(const FinancialApi& api, const std::string& name, const Component& component,
                   const std::map<std::string, std::string>& values) {
  Child secret = NewChild(kube::resources::kSecrets, api, name, component);
  secret.object["type"] = "Opaque";
  Json& data = secret.object["data"] = Json::object();
  for (const auto& [key, value] : values) data[key] = Base64Encode(value);
  return secret;
}

Json RestrictedContainerSecurity() {
  return {{"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", Json::array({"ALL"})}}},
          {"readOnlyRootFilesystem", true}};
}

Json NonRootPodSecurity(int user, std::optional<int> group, std::optional<int> volume_group) {
  Json security = {{"runAsNonRoot", true}, {"runAsUser", user}, {"seccompProfile", {{"type", "RuntimeDefault"}}}};
  if (group) security["runAsGroup"] = *group;
  if (volume_group) security["fsGroup"] = *volume_group;
  return security;
}

Json SecretEnv(const std::string& name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

Json EmptyDirVolume(const std::string& name) { return {{"name", name}, {"emptyDir", Json::object()}}; }

void MountApiKeys(Json& pod_spec, const std::string& secret) {
  const std::string file = kApiKeysFile;
  const std::string directory = file.substr(0, file.rfind('/'));
  pod_spec["containers"][0]["volumeMounts"].push_back({{"name", "api-keys"}, {"mountPath", directory}, {"readOnly", true}});
  // Only the `keys` entry: whatever else the referenced Secret holds stays out of the pods.
  pod_spec["volumes"].push_back(
      {{"name", "api-keys"},
       {"secret", {{"secretName", secret}, {"items", Json::array({{{"key", "keys"}, {"path", file.substr(file.rfind('/') + 1)}}})}}}});
}

Json ApiServerContainer(const FinancialApi& api, const std::string& name, const std::string& image,
                        const std::vector<std::string>& args) {
  Json command = Json::array({"financial-api-server"});
  for (const std::string& arg : args) command.push_back(arg);
  return {{"name", name},
          {"image", image},
          {"imagePullPolicy", api.spec.api.image_pull_policy},
          {"command", std::move(command)},
          {"securityContext", RestrictedContainerSecurity()}};
}

void PlacePods(Json& pod_spec, const Placement& placement) {
  // Only what is set, and no empty strings: the API server drops empty fields when it stores the pod
  // template, and a field the operator writes but the server drops would count as drift on every
  // reconcile (see Contains).
  if (!placement.node_selector.empty()) pod_spec["nodeSelector"] = placement.node_selector;
  if (!placement.tolerations.empty()) {
    Json tolerations = Json::array();
    for (const Toleration& toleration : placement.tolerations) {
      Json entry = Json::object();
      if (!toleration.key.empty()) entry["key"] = toleration.key;
      if (!toleration.op.empty()) entry["operator"] = toleration.op;
      if (!toleration.value.empty()) entry["value"] = toleration.value;
      if (!toleration.effect.empty()) entry["effect"] = toleration.effect;
      if (toleration.toleration_seconds) entry["tolerationSeconds"] = *toleration.toleration_seconds;
      tolerations.push_back(std::move(entry));
    }
    pod_spec["tolerations"] = std::move(tolerations);
  }
  if (placement.affinity.is_object() && !placement.affinity.empty()) pod_spec["affinity"] = placement.affinity;
}

namespace {
// No child talks to the Kubernetes API: a token of the namespace's default ServiceAccount in every pod
// would only be something to steal.
Json WithoutServiceAccountToken(Json pod_spec) {
  pod_spec["automountServiceAccountToken"] = false;
  return pod_spec;
}
}  // namespace

Json PodTemplate(const FinancialApi& api, const Component& component, const std::string& config_hash, Json pod_spec) {
  pod_spec = WithoutServiceAccountToken(std::move(pod_spec));
  return {{"metadata", {{"labels", Labels(api, component)}, {"annotations", {{kConfigHashAnnotation, config_hash}}}}},
          {"spec", std::move(pod_spec)}};
}

Child PortService(const FinancialApi& api, const std::string& name, const Component& component,
                  const std::string& port_name, int port) {
  Child service = NewChild(kube::resources::kServices, api, name, component);
  service.object["spec"] = {{"selector", SelectorLabels(api, component)},
                            {"ports", Json::array({{{"name", port_name}, {"port", port},
                                                    {"targetPort", port_name}, {"protocol", "TCP"}}})}};
  return service;
}

Child SingleInstanceStatefulSet(const FinancialApi& api, const std::string& name, const Component& component,
                                Json pod_template, const Storage& storage) {
  Child statefulset = NewChild(kube::resources::kStatefulSets, api, name, component);
  statefulset.object["spec"] = {
      {"serviceName", name},
      {"replicas", 1},
      {"selector", {{"matchLabels", SelectorLabels(api, component)}}},
      {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
      {"template", std::move(pod_template)},
      {"volumeClaimTemplates", Json::array({VolumeClaim(storage, Labels(api, component))})}};
  return statefulset;
}

Json VolumeClaim(const Storage& storage, const Json& labels) {
  Json spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
               {"resources", {{"requests", {{"storage", storage.size}}}}}};
  if (!storage.storage_class.empty()) spec["storageClassName"] = storage.storage_class;
  return {{"metadata", {{"name", "data"}, {"labels", labels}}}, {"spec", spec}};
}

Json JobSpec(const FinancialApi& api, const Component& component, int backoff_limit, Json pod_spec) {
  return {{"backoffLimit", backoff_limit},
          {"template", {{"metadata", {{"labels", Labels(api, component)}}}, {"spec", WithoutServiceAccountToken(std::move(pod_spec))}}}};
}

Child CronJob(const FinancialApi& api, const std::string& name, const Component& component, const std::string& schedule,
              Json pod_spec) {
  Child cron_job = NewChild(resources::kCronJobs, api, name, component);
  cron_job.object["spec"] = {{"schedule", schedule},
                             {"timeZone", "Etc/UTC"},
                             {"concurrencyPolicy", "Forbid"},
                             {"successfulJobsHistoryLimit", 3},
                             {"failedJobsHistoryLimit", 3},
                             {"jobTemplate", {{"spec", JobSpec(api, component, 2, std::move(pod_spec))}}}};
  return cron_job;
}

std::string ConfigHash(std::string_view content) { return Sha256Hex(content).substr(0, 16); }

double QuantityOr(const std::string& quantity, double fallback) {
  auto parsed = ParseQuantity(quantity);
  return parsed.ok() ? *parsed : fallback;
}

std::string PostgresUrl(const FinancialApi& api, const Inputs& inputs, const std::string& host, int port) {
  std::string url = "postgresql://" + kube::EncodeQueryValue(inputs.postgres_user) + ":" +
                    kube::EncodeQueryValue(inputs.postgres_password) + "@" + host + ":" + std::to_string(port) + "/" +
                    DatabaseName(api);
  if (!api.spec.postgres.managed) url += "?sslmode=" + api.spec.postgres.external->ssl_mode;
  return url;
}

std::string DirectPostgresUrl(const FinancialApi& api, const Inputs& inputs) {
  return PostgresUrl(api, inputs, BackendHost(api), BackendPort(api));
}

Json DirectPostgresEnvironment(const FinancialApi& api) {
  const std::string secret = ConnectionSecretName(api);
  Json env = Json::array({{{"name", "PGHOST"}, {"value", BackendHost(api)}},
                          {{"name", "PGPORT"}, {"value", std::to_string(BackendPort(api))}},
                          {{"name", "PGDATABASE"}, {"value", DatabaseName(api)}},
                          SecretEnv("PGUSER", secret, kDatabaseUserKey),
                          SecretEnv("PGPASSWORD", secret, kDatabasePasswordKey)});
  if (!api.spec.postgres.managed) env.push_back({{"name", "PGSSLMODE"}, {"value", api.spec.postgres.external->ssl_mode}});
  return env;
}

std::string RedisUrl(const FinancialApi& api, const Inputs& inputs) {
  const std::string host = api.spec.redis.managed ? RedisName(api) : api.spec.redis.external->host;
  const int port = api.spec.redis.managed ? kRedisPort : api.spec.redis.external->port;
  const std::string auth = inputs.redis_password.empty() ? "" : ":" + kube::EncodeQueryValue(inputs.redis_password) + "@";
  return "redis://" + auth + host + ":" + std::to_string(port) + "/0";
}

}  // namespace financialapi::platform::components
