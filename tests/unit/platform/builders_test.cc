// The pure half of the operator: spec parsing, the children built from a spec, and status.
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "financialapi/common/base64.h"
#include "financialapi/common/file.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/reconciler.h"
#include "financialapi/platform/status.h"
#include "support/yaml_json.h"

namespace financialapi::platform {
namespace {

Json ExampleObject(const std::string& file) {
  Json object = testing::LoadYamlFile(testing::SourcePath("examples/" + file)).at(0);
  object["metadata"]["namespace"] = "finance";
  object["metadata"]["uid"] = "11111111-2222-3333-4444-555555555555";
  object["metadata"]["generation"] = 4;
  return object;
}

FinancialApi Parse(const Json& object) {
  auto parsed = ParseFinancialApi(object);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : FinancialApi{};
}

Inputs FixedInputs() {
  return {.postgres_password = "pg-secret", .postgres_user = "financial", .redis_password = "redis-secret",
          .service_monitor_crd = true, .prometheus_rule_crd = true};
}

// The child of `kind` named `name` (any name when `name` is empty), or nullptr.
const Json* Find(const std::vector<Child>& children, const std::string& kind, const std::string& name) {
  for (const auto& child : children) {
    if (child.type->kind == kind && (name.empty() || child.object["metadata"]["name"] == name)) return &child.object;
  }
  return nullptr;
}

const Json& PodSpec(const Json& workload) {
  const Json& spec = workload["spec"];
  if (workload["kind"] == "CronJob") return spec["jobTemplate"]["spec"]["template"]["spec"];
  return spec["template"]["spec"];
}

const Json* FindEnv(const Json& container, const std::string& name) {
  if (!container.contains("env")) return nullptr;
  for (const auto& env : container["env"]) {
    if (env["name"] == name) return &env;
  }
  return nullptr;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string SecretValue(const Json& secret, const std::string& key) {
  return Base64Decode(secret["data"][key].get<std::string>()).value_or("<bad base64>");
}

TEST(SpecTest, EmptySpecGetsTheDocumentedDefaults) {
  const FinancialApi api = Parse({{"metadata", {{"name", "x"}, {"namespace", "n"}}}, {"spec", Json::object()}});
  EXPECT_EQ(api.spec.api.replicas, 3);
  EXPECT_EQ(api.spec.api.port, 8000);
  EXPECT_TRUE(api.spec.autoscaling.enabled);
  EXPECT_EQ(api.spec.autoscaling.min_replicas, 3);
  EXPECT_EQ(api.spec.autoscaling.max_replicas, 20);
  EXPECT_TRUE(api.spec.postgres.managed);
  EXPECT_EQ(api.spec.redis.max_memory_policy, "allkeys-lru");
  EXPECT_EQ(api.spec.postgres.backup.schedule, "0 2 * * *");
}

TEST(SpecTest, DefaultsInCodeEqualTheCrdDefaults) {
  // The same empty spec defaulted by the CRD schema (as the API server does) and by the C++ parser
  // must build identical children.
  const Json crd = testing::LoadYamlFile(testing::SourcePath("crds/edgartools.io_financialapis.yaml")).at(0);
  const Json schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
  Json server_defaulted = ExampleObject("financialapi-minimal.yaml");
  testing::ApplySchemaDefaults(schema, server_defaulted);
  ASSERT_TRUE(server_defaulted["spec"].contains("autoscaling")) << "the schema defaulting did not run";
  Json raw = ExampleObject("financialapi-minimal.yaml");
  const auto from_server = BuildChildren(Parse(server_defaulted), FixedInputs());
  const auto from_code = BuildChildren(Parse(raw), FixedInputs());
  ASSERT_EQ(from_server.size(), from_code.size());
  for (std::size_t i = 0; i < from_code.size(); ++i) {
    EXPECT_EQ(from_server[i].object, from_code[i].object) << from_code[i].object["metadata"]["name"];
  }
}

TEST(SpecTest, WhatTheSchemaCannotCatchIsAnErrorNamingTheField) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["api"]["resources"]["requests"]["memory"] = "2Gi";
  auto above = ParseFinancialApi(object);
  ASSERT_FALSE(above.ok());
  EXPECT_NE(above.status().message().find("spec.api.resources"), std::string::npos) << above.status();
  EXPECT_NE(above.status().message().find("above its limit"), std::string::npos);

  object = ExampleObject("financialapi.yaml");
  object["spec"]["postgres"]["resources"]["limits"]["memory"] = "64Mi";
  object["spec"]["postgres"]["resources"]["requests"]["memory"] = "64Mi";
  auto small = ParseFinancialApi(object);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("too small for PostgreSQL"), std::string::npos) << small.status();

  object = ExampleObject("financialapi.yaml");
  object["spec"]["redis"]["resources"]["limits"]["cpu"] = "lots";
  EXPECT_FALSE(ParseFinancialApi(object).ok());
}

TEST(QuantityTest, ParsesKubernetesUnits) {
  EXPECT_DOUBLE_EQ(*ParseQuantity("250m"), 0.25);
  EXPECT_DOUBLE_EQ(*ParseQuantity("2"), 2);
  EXPECT_DOUBLE_EQ(*ParseQuantity("512Mi"), 512.0 * 1048576);
  EXPECT_DOUBLE_EQ(*ParseQuantity("1.5Gi"), 1.5 * 1073741824);
  EXPECT_DOUBLE_EQ(*ParseQuantity("1G"), 1e9);
  EXPECT_FALSE(ParseQuantity("1Xi").ok());
  EXPECT_FALSE(ParseQuantity("-1").ok());
  EXPECT_FALSE(ParseQuantity("").ok());
}

TEST(BuildersTest, ProductionExampleBuildsEveryChildWithAControllerOwnerReference) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));
  const auto children = BuildChildren(api, FixedInputs());
  std::vector<std::string> names;
  for (const auto& child : children) {
    names.push_back(child.type->kind + "/" + child.object["metadata"]["name"].get<std::string>());
    const Json owners = child.object["metadata"]["ownerReferences"];
    ASSERT_EQ(owners.size(), 1U) << names.back();
    EXPECT_EQ(owners[0]["kind"], "FinancialApi");
    EXPECT_EQ(owners[0]["uid"], "11111111-2222-3333-4444-555555555555");
    EXPECT_EQ(owners[0]["controller"], true);
    EXPECT_EQ(child.object["metadata"]["namespace"], "finance") << names.back();
    EXPECT_EQ(child.object["metadata"]["labels"][kManagedByLabel], kManagedBy) << names.back();
    EXPECT_EQ(child.object["apiVersion"], child.type->ApiVersion());
  }
  const std::vector<std::string> expected = {
      "Secret/prod-connection", "ConfigMap/prod-api-config", "Secret/prod-postgres", "ConfigMap/prod-postgres-config",
      "Service/prod-postgres", "StatefulSet/prod-postgres", "Secret/prod-pgbouncer", "Service/prod-pgbouncer",
      "Deployment/prod-pgbouncer", "Secret/prod-redis", "ConfigMap/prod-redis-config", "Service/prod-redis",
      "StatefulSet/prod-redis", "Deployment/prod-api", "Service/prod-api", "HorizontalPodAutoscaler/prod-api",
      "PodDisruptionBudget/prod-api", "Job/" + LoaderJobName(api), "NetworkPolicy/prod-api", "NetworkPolicy/prod-postgres",
      "NetworkPolicy/prod-pgbouncer", "NetworkPolicy/prod-redis", "NetworkPolicy/prod-postgres-backup",
      "NetworkPolicy/prod-loader", "NetworkPolicy/prod-cache-warmup", "PersistentVolumeClaim/prod-backups",
      "CronJob/prod-postgres-backup", "CronJob/prod-cache-warmup", "ServiceMonitor/prod-api", "PrometheusRule/prod-api"};
  EXPECT_EQ(names, expected);
}

TEST(BuildersTest, ApiDeploymentHasProbesResourcesAndLeavesReplicasToTheAutoscaler) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));
  const auto children = BuildChildren(api, FixedInputs());
  const Json* deployment = Find(children, "Deployment", "prod-api");
  ASSERT_NE(deployment, nullptr);
  EXPECT_FALSE((*deployment)["spec"].contains("replicas")) << "the HPA owns the replica count";
  const Json& container = (*deployment)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["image"], "ghcr.io/edgartools/financial-api-server:0.1.0");
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"], "/health");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"], "/ready");
  EXPECT_EQ(container["resources"]["limits"]["memory"], "1Gi");
  EXPECT_EQ(container["resources"]["requests"]["cpu"], "500m");
  EXPECT_EQ(container["envFrom"][1]["secretRef"]["name"], "prod-connection");
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ((*deployment)["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation].get<std::string>().size(), 16U);

  const Json* hpa = Find(children, "HorizontalPodAutoscaler", "prod-api");
  ASSERT_NE(hpa, nullptr);
  EXPECT_EQ((*hpa)["spec"]["minReplicas"], 3);
  EXPECT_EQ((*hpa)["spec"]["maxReplicas"], 20);
  EXPECT_EQ((*hpa)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 70);
  EXPECT_EQ((*hpa)["spec"]["metrics"][1]["resource"]["name"], "memory");
  EXPECT_EQ((*hpa)["spec"]["metrics"][1]["resource"]["target"]["averageUtilization"], 80);
  EXPECT_EQ((*hpa)["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"], 300);
  EXPECT_EQ((*hpa)["spec"]["behavior"]["scaleDown"]["policies"][0]["value"], 10);

  const Json* service = Find(children, "Service", "prod-api");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ((*service)["spec"]["type"], "LoadBalancer");
  EXPECT_EQ((*service)["spec"]["ports"][0]["port"], 80);
  EXPECT_EQ((*service)["spec"]["ports"][0]["targetPort"], "http");
}

TEST(BuildersTest, DisablingAutoscalingRemovesTheHpaAndSetsReplicas) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["autoscaling"]["enabled"] = false;
  object["spec"]["api"]["replicas"] = 5;
  const auto children = BuildChildren(Parse(object), FixedInputs());
  EXPECT_EQ(Find(children, "HorizontalPodAutoscaler", "prod-api"), nullptr);
  EXPECT_EQ((*Find(children, "Deployment", "prod-api"))["spec"]["replicas"], 5);
}

TEST(BuildersTest, TrustedProxiesReachTheApiConfigOnlyWhenGiven) {
  Json object = ExampleObject("financialapi.yaml");
  const auto plain = BuildChildren(Parse(object), FixedInputs());
  EXPECT_FALSE((*Find(plain, "ConfigMap", "prod-api-config"))["data"].contains("TRUSTED_PROXIES"));
  object["spec"]["api"]["rateLimit"]["trustedProxies"] = {"10.0.0.0/8", "fd00::/8"};
  const auto behind_proxy = BuildChildren(Parse(object), FixedInputs());
  EXPECT_EQ((*Find(behind_proxy, "ConfigMap", "prod-api-config"))["data"]["TRUSTED_PROXIES"], "10.0.0.0/8,fd00::/8");
  const auto hash = [](const std::vector<Child>& children) {
    return (*Find(children, "Deployment", "prod-api"))["spec"]["template"]["metadata"]["annotations"]["edgartools.io/config-hash"];
  };
  EXPECT_NE(hash(plain), hash(behind_proxy)) << "the API pods roll to pick the setting up";
}

TEST(BuildersTest, PostgresIsTunedFromItsMemoryLimitAndParametersOverride) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));  // limit 4Gi, max_connections "200"
  const auto settings = PostgresSettings(api);
  EXPECT_EQ(settings.at("shared_buffers"), "1024MB");
  EXPECT_EQ(settings.at("effective_cache_size"), "3072MB");
  EXPECT_EQ(settings.at("maintenance_work_mem"), "256MB");
  EXPECT_EQ(settings.at("max_connections"), "200");
  const auto children = BuildChildren(api, FixedInputs());
  const std::string conf = (*Find(children, "ConfigMap", "prod-postgres-config"))["data"]["postgresql.conf"];
  EXPECT_NE(conf.find("shared_buffers = '1024MB'"), std::string::npos) << conf;
  const Json* statefulset = Find(children, "StatefulSet", "prod-postgres");
  ASSERT_NE(statefulset, nullptr);
  EXPECT_EQ((*statefulset)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "50Gi");
}

TEST(BuildersTest, RedisMaxMemoryIsEightyPercentOfTheLimit) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));  // redis limit 2Gi
  EXPECT_EQ(RedisMaxMemoryBytes(api), static_cast<long long>(2.0 * 1073741824 * 0.8));
  const auto children = BuildChildren(api, FixedInputs());
  const std::string conf = (*Find(children, "ConfigMap", "prod-redis-config"))["data"]["redis.conf"];
  EXPECT_NE(conf.find("maxmemory 1717986918\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("maxmemory-policy allkeys-lru"), std::string::npos);
  EXPECT_NE(conf.find("appendonly yes"), std::string::npos);
  EXPECT_NE(conf.find("appendfsync everysec"), std::string::npos);
}

TEST(BuildersTest, ConnectionUrlsFollowPgBouncerAndExternalDatabases) {
  Json object = ExampleObject("financialapi.yaml");
  auto children = BuildChildren(Parse(object), FixedInputs());
  const Json* connection = Find(children, "Secret", "prod-connection");
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(SecretValue(*connection, "DATABASE_URL"), "postgresql://financial:pg-secret@prod-pgbouncer:6432/financial");
  EXPECT_EQ(SecretValue(*connection, "DIRECT_DATABASE_URL"), "postgresql://financial:pg-secret@prod-postgres:5432/financial");
  EXPECT_EQ(SecretValue(*connection, "REDIS_URL"), "redis://:redis-secret@prod-redis:6379/0");

  object["spec"]["postgres"] = {{"managed", false},
                                {"external", {{"host", "db.example.com"}, {"port", 5433}, {"database", "edgar"},
                                              {"sslMode", "require"}, {"credentialsSecretRef", {{"name", "db-creds"}}}}}};
  Inputs inputs = FixedInputs();
  inputs.postgres_user = "app@corp";
  children = BuildChildren(Parse(object), inputs);
  EXPECT_EQ(Find(children, "StatefulSet", "prod-postgres"), nullptr);
  EXPECT_EQ(Find(children, "NetworkPolicy", "prod-postgres"), nullptr);
  EXPECT_EQ(SecretValue(*Find(children, "Secret", "prod-connection"), "DIRECT_DATABASE_URL"),
            "postgresql://app%40corp:pg-secret@db.example.com:5433/edgar?sslmode=require");
}

TEST(BuildersTest, NetworkPoliciesLetOnlyThePlatformReachTheDatabases) {
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  const Json* api = Find(children, "NetworkPolicy", "prod-api");
  ASSERT_NE(api, nullptr);
  EXPECT_FALSE((*api)["spec"]["ingress"][0].contains("from")) << "the API is reachable from anywhere";
  EXPECT_EQ((*api)["spec"]["ingress"][0]["ports"][0]["port"], 8000);
  const Json* redis = Find(children, "NetworkPolicy", "prod-redis");
  ASSERT_NE(redis, nullptr);
  ASSERT_EQ((*redis)["spec"]["ingress"][0]["from"].size(), 1U);
  EXPECT_EQ((*redis)["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"][kComponentLabel], "api");
  const Json* postgres = Find(children, "NetworkPolicy", "prod-postgres");
  std::vector<std::string> allowed;
  for (const auto& from : (*postgres)["spec"]["ingress"][0]["from"]) allowed.push_back(from["podSelector"]["matchLabels"][kComponentLabel]);
  EXPECT_EQ(allowed, (std::vector<std::string>{"pool", "backup", "api", "loader"}));
}

TEST(BuildersTest, MonitoringObjectsOnlyWhenTheirCrdsExist) {
  Inputs inputs = FixedInputs();
  inputs.service_monitor_crd = false;
  inputs.prometheus_rule_crd = false;
  const auto without = BuildChildren(Parse(ExampleObject("financialapi.yaml")), inputs);
  EXPECT_EQ(Find(without, "ServiceMonitor", "prod-api"), nullptr);
  EXPECT_EQ(Find(without, "PrometheusRule", "prod-api"), nullptr);
  const auto with = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  const Json* rule = Find(with, "PrometheusRule", "prod-api");
  ASSERT_NE(rule, nullptr);
  const std::string rules = (*rule)["spec"].dump();
  EXPECT_NE(rules.find("FinancialApiHighErrorRate"), std::string::npos);
  EXPECT_NE(rules.find("FinancialApiErrorBudgetFastBurn"), std::string::npos);
  EXPECT_NE(rules.find("0.0144"), std::string::npos) << "14.4 x (1 - 99.9%)";
}

TEST(BuildersTest, ConfigHashChangesWithConfigurationAndCredentials) {
  auto hash = [](const Json& object, const Inputs& inputs) {
    const auto children = BuildChildren(Parse(object), inputs);
    return (*Find(children, "Deployment", "prod-api"))["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
  };
  const Json base = ExampleObject("financialapi.yaml");
  const auto original = hash(base, FixedInputs());
  EXPECT_EQ(hash(base, FixedInputs()), original) << "deterministic";
  Json changed = base;
  changed["spec"]["api"]["cacheTtlSeconds"] = 60;
  EXPECT_NE(hash(changed, FixedInputs()), original);
  Inputs rotated = FixedInputs();
  rotated.redis_password = "rotated";
  EXPECT_NE(hash(base, rotated), original);
  Json image = base;
  image["spec"]["api"]["image"] = "other:1";
  EXPECT_EQ(hash(image, FixedInputs()), original) << "an image change rolls by itself, not through the hash";
}

// The pod spec of each workload a component runs, by the component's spec path.
struct PlacedWorkload {
  const char* spec_path;  // JSON pointer below the FinancialApi object
  const char* kind;
  const char* name;  // "" for any (one) child of the kind
  const char* tag;   // this workload's own placement values
};
const std::vector<PlacedWorkload>& PlacedWorkloads() {
  static const std::vector<PlacedWorkload> workloads = {
      {"/spec/api", "Deployment", "prod-api", "api"},
      {"/spec/postgres", "StatefulSet", "prod-postgres", "postgres"},
      {"/spec/postgres/pgbouncer", "Deployment", "prod-pgbouncer", "pgbouncer"},
      {"/spec/redis", "StatefulSet", "prod-redis", "redis"},
      {"/spec/postgres/backup", "CronJob", "prod-postgres-backup", "backup"},
      {"/spec/cacheWarmup", "CronJob", "prod-cache-warmup", "warmup"},
      {"/spec/data", "Job", "", "loader"}};  // the loader Job's name follows its pod template
  return workloads;
}

const Json& PodSpecOf(const std::vector<Child>& children, const PlacedWorkload& workload) {
  const Json* object = Find(children, workload.kind, workload.name);
  EXPECT_NE(object, nullptr) << workload.kind << "/" << workload.name;
  static const Json kMissing = Json::object();
  return object == nullptr ? kMissing : PodSpec(*object);
}

TEST(SpecTest, PlacementIsReadForEveryComponent) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["postgres"]["backup"]["tolerations"] = {
      {{"key", "dedicated"}, {"operator", "Equal"}, {"value", "batch"}, {"effect", "NoExecute"}, {"tolerationSeconds", 3600}},
      {{"operator", "Exists"}}};
  object["spec"]["redis"]["nodeSelector"] = {{"pool", "cache"}};
  object["spec"]["cacheWarmup"]["affinity"] = {{"podAffinity", Json::object()}};
  const FinancialApi api = Parse(object);
  const auto& tolerations = api.spec.postgres.backup.placement.tolerations;
  ASSERT_EQ(tolerations.size(), 2U);
  EXPECT_EQ(tolerations[0].key, "dedicated");
  EXPECT_EQ(tolerations[0].op, "Equal");
  EXPECT_EQ(tolerations[0].value, "batch");
  EXPECT_EQ(tolerations[0].effect, "NoExecute");
  EXPECT_EQ(tolerations[0].toleration_seconds, 3600);
  EXPECT_EQ(tolerations[1].op, "Exists");
  EXPECT_EQ(tolerations[1].toleration_seconds, std::nullopt);
  EXPECT_EQ(api.spec.redis.placement.node_selector, (std::map<std::string, std::string>{{"pool", "cache"}}));
  EXPECT_EQ(api.spec.cache_warmup.placement.affinity, (Json{{"podAffinity", Json::object()}}));
  EXPECT_TRUE(api.spec.api.placement.node_selector.empty());
  EXPECT_TRUE(api.spec.api.placement.tolerations.empty());
  EXPECT_TRUE(api.spec.api.placement.affinity.empty());
}

TEST(BuildersTest, EachComponentsPodsCarryItsOwnPlacementAndNoOther) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["cacheWarmup"]["enabled"] = true;  // so that its CronJob exists either way
  for (const auto& workload : PlacedWorkloads()) {
    // Different for each component, so a pod spec with another's placement shows.
    Json& component = object[Json::json_pointer(workload.spec_path)];
    component["nodeSelector"] = {{"edgartools.io/for", workload.tag}};
    component["tolerations"] = {{{"key", "dedicated"}, {"operator", "Equal"}, {"value", workload.tag}, {"effect", "NoSchedule"}}};
    component["affinity"] = {
        {"nodeAffinity",
         {{"preferredDuringSchedulingIgnoredDuringExecution",
           {{{"weight", 1},
             {"preference", {{"matchExpressions", {{{"key", "zone"}, {"operator", "In"}, {"values", {workload.tag}}}}}}}}}}}}};
  }
  const FinancialApi api = Parse(object);
  const auto children = BuildChildren(api, FixedInputs());
  for (const auto& workload : PlacedWorkloads()) {
    const Json& pod_spec = PodSpecOf(children, workload);
    const Json& wanted = object[Json::json_pointer(workload.spec_path)];
    EXPECT_EQ(pod_spec["nodeSelector"], wanted["nodeSelector"]) << workload.tag;
    EXPECT_EQ(pod_spec["tolerations"], wanted["tolerations"]) << workload.tag;
    EXPECT_EQ(pod_spec["affinity"], wanted["affinity"]) << workload.tag;
  }
  // Only the pod specs of the workloads: no other child gains a nodeSelector anywhere.
  for (const auto& child : children) {
    const bool workload = std::any_of(PlacedWorkloads().begin(), PlacedWorkloads().end(), [&](const PlacedWorkload& w) {
      return child.type->kind == w.kind && (std::string(w.name).empty() || child.object["metadata"]["name"] == w.name);
    });
    if (!workload) {
      EXPECT_EQ(child.object.dump().find("nodeSelector"), std::string::npos) << child.object["metadata"]["name"];
    }
  }
}

TEST(BuildersTest, OnePlacedComponentLeavesTheOthersAlone) {
  for (const auto& placed : PlacedWorkloads()) {
    Json object = ExampleObject("financialapi.yaml");
    object["spec"]["cacheWarmup"]["enabled"] = true;
    object[Json::json_pointer(placed.spec_path)]["tolerations"] = {{{"operator", "Exists"}, {"effect", "NoSchedule"}}};
    const auto children = BuildChildren(Parse(object), FixedInputs());
    for (const auto& workload : PlacedWorkloads()) {
      const bool own = std::string(workload.spec_path) == placed.spec_path;
      EXPECT_EQ(PodSpecOf(children, workload).contains("tolerations"), own)
          << "tolerations on " << placed.spec_path << ", looking at " << workload.tag;
    }
  }
}

TEST(BuildersTest, EmptyPlacementAddsNothingToThePodSpecs) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["cacheWarmup"]["enabled"] = true;
  const auto unset = BuildChildren(Parse(object), FixedInputs());
  for (const auto& workload : PlacedWorkloads()) {
    // Empty values the API server would drop when storing: writing them would show as drift forever.
    Json& component = object[Json::json_pointer(workload.spec_path)];
    component["nodeSelector"] = Json::object();
    component["tolerations"] = Json::array();
    component["affinity"] = Json::object();
  }
  const auto empty = BuildChildren(Parse(object), FixedInputs());
  ASSERT_EQ(unset.size(), empty.size());
  for (std::size_t i = 0; i < unset.size(); ++i) EXPECT_EQ(unset[i].object, empty[i].object) << unset[i].object["metadata"]["name"];
  for (const auto& workload : PlacedWorkloads()) {
    const Json& pod_spec = PodSpecOf(unset, workload);
    for (const char* field : {"nodeSelector", "tolerations", "affinity"}) {
      EXPECT_FALSE(pod_spec.contains(field)) << workload.tag << " has " << field;
    }
  }
}

TEST(BuildersTest, TolerationsCarryOnlyTheFieldsGiven) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["api"]["tolerations"] = {{{"operator", "Exists"}},
                                          {{"key", "spot"}, {"effect", "NoExecute"}, {"tolerationSeconds", 0}}};
  const auto children = BuildChildren(Parse(object), FixedInputs());
  EXPECT_EQ(PodSpecOf(children, PlacedWorkloads()[0])["tolerations"], object["spec"]["api"]["tolerations"]);
}

TEST(BuildersTest, GoldenProductionChildren) {
  // The whole rendered output, reviewed as a file. Regenerate with FINANCIALAPI_UPDATE_GOLDEN=1.
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  Json rendered = Json::array();
  for (const auto& child : children) rendered.push_back(child.object);
  const std::string path = testing::SourcePath("tests/golden/financialapi-prod-children.json");
  if (std::getenv("FINANCIALAPI_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << rendered.dump(2) << "\n";
  auto golden = ReadFile(path);
  ASSERT_TRUE(golden.ok()) << golden.status();
  EXPECT_EQ(rendered, Json::parse(*golden)) << "rendered children differ from " << path;
}

TEST(ContainsTest, ExtraServerFieldsDoNotCountAsDifferences) {
  const Json desired = {{"spec", {{"ports", Json::array({{{"port", 80}}})}, {"type", "ClusterIP"}}}};
  Json current = desired;
  current["spec"]["clusterIP"] = "10.0.0.7";
  current["spec"]["ports"][0]["protocol"] = "TCP";
  current["status"] = {{"loadBalancer", Json::object()}};
  EXPECT_TRUE(Contains(current, desired));
  current["spec"]["ports"][0]["port"] = 81;
  EXPECT_FALSE(Contains(current, desired));
  EXPECT_EQ(FirstDifference(current, desired), "/spec/ports/0/port");
  EXPECT_TRUE(Contains(Json{{"n", 1.0}}, Json{{"n", 1}}));
  EXPECT_FALSE(Contains(Json{{"list", {1, 2}}}, Json{{"list", {1}}})) << "arrays must match in length";
}

// Three ready API pods, PostgreSQL and Redis ready, the data loaded (when spec.data.load asks for it).
Observed EverythingReady(const FinancialApi& api) {
  Observed observed{.api_found = true, .api_replicas = 3, .api_ready = 3, .api_updated = 3, .api_available = 3,
                    .api_rolled_out = true, .postgres_ready = true, .redis_ready = true};
  if (api.spec.data.load) observed.data = DataLoad{.job = LoaderJobName(api), .phase = DataLoad::kLoaded, .message = "done"};
  return observed;
}

TEST(StatusTest, ReadyWhenEveryComponentIsReadyAndTransitionTimesStick) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));
  Observed observed = EverythingReady(api);
  const Json ready = ComputeStatus(api, observed, Json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(ready["phase"], "Ready");
  EXPECT_EQ(ready["observedGeneration"], 4);
  EXPECT_EQ(ready["api"]["ready"], "3/3");
  EXPECT_EQ(ready["endpoint"], "http://prod-api.finance.svc:80");
  EXPECT_EQ(ready["conditions"][0]["type"], "Ready");
  EXPECT_EQ(ready["conditions"][0]["status"], "True");

  const Json again = ComputeStatus(api, observed, ready, "2026-01-01T00:05:00Z");
  EXPECT_EQ(again["conditions"][0]["lastTransitionTime"], "2026-01-01T00:00:00Z") << "unchanged condition keeps its time";
  EXPECT_TRUE(SameStatus(again, ready));

  observed.redis_ready = false;
  const Json waiting = ComputeStatus(api, observed, ready, "2026-01-01T00:10:00Z");
  EXPECT_EQ(waiting["phase"], "Progressing");
  EXPECT_EQ(waiting["conditions"][0]["status"], "False");
  EXPECT_EQ(waiting["conditions"][0]["message"], "Redis not ready");
  EXPECT_EQ(waiting["conditions"][0]["lastTransitionTime"], "2026-01-01T00:10:00Z");
  EXPECT_FALSE(SameStatus(waiting, ready));

  observed.failure_reason = "SecretNotFound";
  observed.failure_message = "Secret finance/db-creds does not exist";
  const Json degraded = ComputeStatus(api, observed, waiting, "2026-01-01T00:11:00Z");
  EXPECT_EQ(degraded["phase"], "Degraded");
  EXPECT_EQ(degraded["conditions"][2]["type"], "Degraded");
  EXPECT_EQ(degraded["conditions"][2]["status"], "True");
  EXPECT_EQ(degraded["conditions"][2]["reason"], "SecretNotFound");
}

TEST(StatusTest, PausedSaysSo) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["paused"] = true;
  const Json status = ComputeStatus(Parse(object), Observed{}, Json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(status["phase"], "Paused");
  EXPECT_EQ(status["conditions"][3]["type"], "Paused");
  EXPECT_EQ(status["conditions"][3]["status"], "True");
}

// --- the children run on a real kubelet, with the images built here and the upstream ones ------------

// The ConfigMap entry `key` of `name`.
std::string ConfigData(const std::vector<Child>& children, const std::string& name, const std::string& key) {
  const Json* config_map = Find(children, "ConfigMap", name);
  return config_map == nullptr ? "<no ConfigMap " + name + ">" : (*config_map)["data"].value(key, "<no " + key + ">");
}

TEST(RealPodsTest, PostgresRunsTheOperatorsBootstrapNotTheImagesEntrypoint) {
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  const Json& pod = PodSpec(*Find(children, "StatefulSet", "prod-postgres"));
  const Json& container = pod["containers"][0];
  EXPECT_EQ(container["image"], "postgres:15-alpine");
  EXPECT_EQ(container["command"], Json::array({"sh", "/etc/postgresql/bootstrap.sh"}));
  EXPECT_FALSE(container.contains("args")) << "nothing is left for an entrypoint to interpret";

  const std::string script = ConfigData(children, "prod-postgres-config", "bootstrap.sh");
  EXPECT_TRUE(Has(script, "for bin in /usr/lib/postgresql/*/bin; do")) << "Debian's packages keep the programs off PATH";
  EXPECT_TRUE(Has(script, "if [ ! -s \"$PGDATA/PG_VERSION\" ]; then")) << script;
  EXPECT_TRUE(Has(script, "initdb -D \"$new\" -U \"$superuser\" --pwfile=\"$pwfile\" --auth-local=trust "
                          "--auth-host=scram-sha-256 \\\n    --encoding=UTF8 --locale=C.UTF-8\n"))
      << script;
  // Every start, not only the first (the role and its password; tests/integration/db runs the script).
  EXPECT_TRUE(Has(script, "ALTER ROLE $user NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;")) << script;
  EXPECT_TRUE(Has(script, "\"ALTER DATABASE $database OWNER TO $user;\" \"ALTER SCHEMA public OWNER TO $user;\"")) << script;
  EXPECT_TRUE(Has(script, "mv \"$new\" \"$PGDATA\"\n")) << "a complete cluster only is moved into place";
  EXPECT_TRUE(script.ends_with("exec postgres -D \"$PGDATA\" -c config_file=/etc/postgresql/postgresql.conf\n")) << script;
  EXPECT_FALSE(Has(script, "pg-secret")) << "the password comes from the environment, not the ConfigMap";

  const std::string hba = ConfigData(children, "prod-postgres-config", "pg_hba.conf");
  EXPECT_TRUE(Has(hba, "\nlocal   all       all              trust\n")) << hba;
  EXPECT_TRUE(Has(hba, "\nhost    all       all   0.0.0.0/0  scram-sha-256\n")) << hba;
  EXPECT_TRUE(Has(hba, "\nhost    all       all   ::/0       scram-sha-256\n")) << hba;
  EXPECT_FALSE(Has(hba, "trust\nhost    all       all   127")) << "TCP from inside the pod needs the password too";
  const std::string conf = ConfigData(children, "prod-postgres-config", "postgresql.conf");
  EXPECT_TRUE(Has(conf, "hba_file = '/etc/postgresql/pg_hba.conf'\n")) << conf;
  EXPECT_TRUE(Has(conf, "unix_socket_directories = '/var/run/postgresql'\n")) << conf;

  // A read-only root: only the claim and two emptyDirs are written.
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);
  std::map<std::string, std::string> mounts;
  for (const auto& mount : container["volumeMounts"]) mounts[mount["mountPath"]] = mount["name"];
  EXPECT_EQ(mounts, (std::map<std::string, std::string>{{"/var/lib/postgresql/data", "data"}, {"/etc/postgresql", "config"},
                                                        {"/var/run/postgresql", "run"}, {"/tmp", "tmp"}}));
  for (const auto& volume : pod["volumes"]) {
    if (volume["name"] == "run" || volume["name"] == "tmp") {
      EXPECT_EQ(volume["emptyDir"], Json::object()) << volume;
    }
  }
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 70);
  EXPECT_EQ(pod["securityContext"]["runAsGroup"], 70);
  EXPECT_EQ(pod["securityContext"]["fsGroup"], 70);
  EXPECT_EQ(container["readinessProbe"]["exec"]["command"][2], "pg_isready -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -h 127.0.0.1");
  EXPECT_EQ(container["livenessProbe"]["exec"], container["readinessProbe"]["exec"]);
}

TEST(RealPodsTest, ThePodsPgHbaAndSocketCannotBeOverriddenAndTheirChangesRestartPostgres) {
  // ParseFinancialApi (and the CRD) refuse both keys; the builder overrides them even so.
  FinancialApi api = Parse(ExampleObject("financialapi.yaml"));
  api.spec.postgres.parameters = {{"hba_file", "/elsewhere"}, {"unix_socket_directories", "/tmp"}, {"work_mem", "8MB"}};
  EXPECT_EQ(PostgresSettings(api).at("hba_file"), "/etc/postgresql/pg_hba.conf");
  EXPECT_EQ(PostgresSettings(api).at("unix_socket_directories"), "/var/run/postgresql");
  EXPECT_EQ(PostgresSettings(api).at("work_mem"), "8MB");
  const auto hash = [](const std::vector<Child>& children) {
    return (*Find(children, "StatefulSet", "prod-postgres"))["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
  };
  EXPECT_NE(hash(BuildChildren(api, FixedInputs())), hash(BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs())))
      << "postgresql.conf, pg_hba.conf and bootstrap.sh are one ConfigMap under one hash";
}

TEST(RealPodsTest, PostgresUidIsTheSpecsForTheServerAndTheBackups) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["postgres"]["image"] = "postgres:15";
  object["spec"]["postgres"]["runAsUser"] = 999;  // postgres in the Debian-based upstream image
  const auto children = BuildChildren(Parse(object), FixedInputs());
  for (const char* kind : {"StatefulSet", "CronJob"}) {
    const Json& pod = PodSpec(*Find(children, kind, kind == std::string("CronJob") ? "prod-postgres-backup" : "prod-postgres"));
    EXPECT_EQ(pod["securityContext"]["runAsUser"], 999) << kind;
    EXPECT_EQ(pod["securityContext"]["runAsGroup"], 999) << kind;
    EXPECT_EQ(pod["securityContext"]["fsGroup"], 999) << kind;
    EXPECT_EQ(pod["containers"][0]["image"], "postgres:15") << kind;
  }
}

TEST(RealPodsTest, RedisRunsRedisServerWithThePasswordFromAnIncludedSecretFile) {
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  const Json* statefulset = Find(children, "StatefulSet", "prod-redis");
  ASSERT_NE(statefulset, nullptr);
  const Json& pod = PodSpec(*statefulset);
  const Json& container = pod["containers"][0];
  EXPECT_EQ(container["image"], "redis:7.0-alpine");
  EXPECT_EQ(container["command"], Json::array({"redis-server", "/etc/redis/redis.conf"}));
  EXPECT_FALSE(container.contains("args"));
  EXPECT_FALSE(container.contains("env")) << "the password is neither on the command line nor in the environment";
  EXPECT_FALSE(Has(statefulset->dump(), "redis-secret"));
  EXPECT_TRUE(ConfigData(children, "prod-redis-config", "redis.conf").ends_with("include /etc/redis/auth.conf\n"));
  const Json& secret = *Find(children, "Secret", "prod-redis");
  EXPECT_EQ(SecretValue(secret, "auth.conf"), "requirepass redis-secret\n");
  EXPECT_EQ(SecretValue(secret, "REDIS_PASSWORD"), "redis-secret") << "kept: the operator reads the password back";
  EXPECT_EQ(SecretValue(*Find(children, "Secret", "prod-connection"), "REDIS_URL"), "redis://:redis-secret@prod-redis:6379/0");
  // redis.conf and auth.conf side by side in /etc/redis: one projected volume.
  ASSERT_EQ(pod["volumes"].size(), 1U);
  const Json& sources = pod["volumes"][0]["projected"]["sources"];
  EXPECT_EQ(sources[0]["configMap"]["name"], "prod-redis-config");
  EXPECT_EQ(sources[0]["configMap"]["items"], Json::parse(R"([{"key": "redis.conf", "path": "redis.conf"}])"));
  EXPECT_EQ(sources[1]["secret"]["name"], "prod-redis");
  EXPECT_EQ(sources[1]["secret"]["items"], Json::parse(R"([{"key": "auth.conf", "path": "auth.conf"}])"));
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 999);
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);
  Inputs rotated = FixedInputs();
  rotated.redis_password = "rotated";
  const auto rotated_children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), rotated);
  EXPECT_NE((*Find(rotated_children, "StatefulSet", "prod-redis"))["spec"]["template"]["metadata"],
            (*statefulset)["spec"]["template"]["metadata"])
      << "a new password restarts Redis (config hash)";
}

// A REDIS_PASSWORD that a user edited in the generated Secret can hold any bytes; the spec_children
// fuzz target's redis.conf checker found that "a b" made auth.conf "requirepass a b", which Redis
// refuses ("wrong number of arguments"), and a newline would add a directive. A password that is not a
// plain word is written as one double-quoted argument with Redis's escapes.
TEST(RealPodsTest, RedisPasswordThatIsNotAPlainWordIsOneQuotedArgument) {
  Inputs inputs = FixedInputs();
  inputs.redis_password = "a b\"c\\d\nrename-command FLUSHALL x\x01";
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), inputs);
  const Json& secret = *Find(children, "Secret", "prod-redis");
  EXPECT_EQ(SecretValue(secret, "auth.conf"), "requirepass \"a b\\\"c\\\\d\\nrename-command FLUSHALL x\\x01\"\n");
  EXPECT_EQ(SecretValue(secret, "REDIS_PASSWORD"), inputs.redis_password);
}

TEST(RealPodsTest, PgBouncerRunsTheOperatorsIniFromItsSecret) {
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  const Json& secret = *Find(children, "Secret", "prod-pgbouncer");
  EXPECT_EQ(SecretValue(secret, "pgbouncer.ini"),
            "; Generated by financialapi-operator from spec.postgres.pgbouncer.\n"
            "[databases]\n"
            "financial = host=prod-postgres port=5432 dbname=financial\n"
            "\n"
            "[pgbouncer]\n"
            "listen_addr = 0.0.0.0\n"
            "listen_port = 6432\n"
            "unix_socket_dir =\n"
            "auth_type = scram-sha-256\n"
            "auth_file = /etc/pgbouncer/userlist.txt\n"
            "pool_mode = transaction\n"
            "max_client_conn = 1000\n"
            "default_pool_size = 20\n"
            "ignore_startup_parameters = extra_float_digits\n");
  EXPECT_EQ(SecretValue(secret, "userlist.txt"), "\"financial\" \"pg-secret\"\n");
  EXPECT_FALSE(secret["data"].contains("DATABASE_URL")) << "no image entrypoint reads the environment any more";

  const Json& pod = PodSpec(*Find(children, "Deployment", "prod-pgbouncer"));
  const Json& container = pod["containers"][0];
  EXPECT_EQ(container["image"], "edoburu/pgbouncer:v1.23.1-p2");
  EXPECT_EQ(container["command"], Json::array({"pgbouncer", "/etc/pgbouncer/pgbouncer.ini"}));
  EXPECT_FALSE(container.contains("env"));
  EXPECT_EQ(container["volumeMounts"], Json::parse(R"([{"name": "config", "mountPath": "/etc/pgbouncer", "readOnly": true}])"));
  EXPECT_EQ(pod["volumes"], Json::parse(R"([{"name": "config", "secret": {"secretName": "prod-pgbouncer"}}])"));
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 70);
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);
}

TEST(RealPodsTest, MaxPreparedStatementsOnlyWhenAskedForAndTheApiPreparesOnlyWhenItIsSafe) {
  const auto ini = [](const std::vector<Child>& children) { return SecretValue(*Find(children, "Secret", "prod-pgbouncer"), "pgbouncer.ini"); };
  const auto api_config = [](const std::vector<Child>& children) { return (*Find(children, "ConfigMap", "prod-api-config"))["data"]; };
  Json object = ExampleObject("financialapi.yaml");  // PgBouncer on, transaction mode
  auto children = BuildChildren(Parse(object), FixedInputs());
  EXPECT_FALSE(Has(ini(children), "max_prepared_statements")) << "PgBouncer before 1.21 refuses the setting";
  EXPECT_EQ(api_config(children)["DB_PREPARED_STATEMENTS"], "false");

  object["spec"]["postgres"]["pgbouncer"]["maxPreparedStatements"] = 200;
  children = BuildChildren(Parse(object), FixedInputs());
  EXPECT_TRUE(ini(children).ends_with("max_prepared_statements = 200\n")) << ini(children);
  EXPECT_FALSE(api_config(children).contains("DB_PREPARED_STATEMENTS")) << "PgBouncer keeps them";

  object["spec"]["postgres"]["pgbouncer"]["maxPreparedStatements"] = 0;
  object["spec"]["postgres"]["pgbouncer"]["poolMode"] = "statement";
  EXPECT_EQ(api_config(BuildChildren(Parse(object), FixedInputs()))["DB_PREPARED_STATEMENTS"], "false");
  object["spec"]["postgres"]["pgbouncer"]["poolMode"] = "session";
  children = BuildChildren(Parse(object), FixedInputs());
  EXPECT_FALSE(api_config(children).contains("DB_PREPARED_STATEMENTS")) << "one server connection per client";
  EXPECT_TRUE(Has(ini(children), "\npool_mode = session\n"));
  object["spec"]["postgres"]["pgbouncer"] = {{"enabled", false}};
  EXPECT_FALSE(api_config(BuildChildren(Parse(object), FixedInputs())).contains("DB_PREPARED_STATEMENTS"));
}

TEST(RealPodsTest, PgBouncerInFrontOfAnExternalDatabase) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["postgres"] = {{"managed", false},
                                {"pgbouncer", {{"enabled", true}}},
                                {"external", {{"host", "db.example.com"}, {"port", 5433}, {"database", "edgar-data"},
                                              {"sslMode", "require"}, {"credentialsSecretRef", {{"name", "db-creds"}}}}}};
  Inputs inputs = FixedInputs();
  inputs.postgres_user = "app\"user";
  const auto children = BuildChildren(Parse(object), inputs);
  const Json& secret = *Find(children, "Secret", "prod-pgbouncer");
  const std::string ini = SecretValue(secret, "pgbouncer.ini");
  EXPECT_TRUE(Has(ini, "\nedgar-data = host=db.example.com port=5433 dbname=edgar-data\n")) << ini;
  EXPECT_TRUE(ini.ends_with("server_tls_sslmode = require\n")) << ini;
  EXPECT_EQ(SecretValue(secret, "userlist.txt"), "\"app\"\"user\" \"pg-secret\"\n") << "quotes doubled";
}

TEST(RealPodsTest, BackupsRunWithPostgresImagesToolsAndWriteOnlyTheBackups) {
  const auto children = BuildChildren(Parse(ExampleObject("financialapi.yaml")), FixedInputs());
  const Json& pod = PodSpec(*Find(children, "CronJob", "prod-postgres-backup"));
  const Json& container = pod["containers"][0];
  EXPECT_EQ(container["image"], "postgres:15-alpine");
  ASSERT_EQ(container["command"].size(), 3U);
  EXPECT_EQ(container["command"][0], "sh");
  const std::string script = container["command"][2];
  EXPECT_TRUE(Has(script, "pg_dump --no-owner --compress=6 --file=\"$file.partial\"\n")) << script;
  EXPECT_EQ(container["env"], PodSpec(*Find(children, "Job", ""))["initContainers"][0]["env"])
      << "libpq's environment for PostgreSQL itself, as the loader's wait";
  EXPECT_FALSE(Has(script, "| gzip")) << "without pipefail a failed pg_dump would pass as a backup";
  EXPECT_TRUE(Has(script, "mv \"$file.partial\" \"$file\"\n"));
  EXPECT_TRUE(Has(script, "-mtime +7 -delete"));
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(container["volumeMounts"], Json::parse(R"([{"name": "backups", "mountPath": "/backups"}])"));
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 70);
  EXPECT_EQ(pod["securityContext"]["fsGroup"], 70);
}

TEST(RealPodsTest, WarmupRunsTheApiImagesWarmupCommand) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["api"].erase("apiKeysSecretRef");  // first without API keys
  auto children = BuildChildren(Parse(object), FixedInputs());
  Json pod = PodSpec(*Find(children, "CronJob", "prod-cache-warmup"));
  Json container = pod["containers"][0];
  EXPECT_EQ(container["image"], "ghcr.io/edgartools/financial-api-server:0.1.0") << "unset: spec.api.image";
  EXPECT_EQ(container["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(container["command"], Json::array({"financial-api-server", "warmup"}));
  EXPECT_EQ((*FindEnv(container, "WARMUP_API_URL"))["value"], "http://prod-api:80");
  EXPECT_EQ((*FindEnv(container, "WARMUP_TICKERS"))["value"], "AAPL NVDA MRVL SNOW");
  EXPECT_EQ(FindEnv(container, "WARMUP_API_KEY_FILE"), nullptr);
  EXPECT_FALSE(pod.contains("volumes"));
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 65532);
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);

  object["spec"]["cacheWarmup"]["image"] = "registry.example.com/financial-api-server:0.1.0";
  object["spec"]["api"]["apiKeysSecretRef"] = {{"name", "api-keys"}};
  children = BuildChildren(Parse(object), FixedInputs());
  pod = PodSpec(*Find(children, "CronJob", "prod-cache-warmup"));
  container = pod["containers"][0];
  EXPECT_EQ(container["image"], "registry.example.com/financial-api-server:0.1.0");
  ASSERT_NE(FindEnv(container, "WARMUP_API_KEY_FILE"), nullptr);
  EXPECT_EQ((*FindEnv(container, "WARMUP_API_KEY_FILE"))["value"], "/etc/financial-api/keys/keys");
  EXPECT_EQ(pod["volumes"], Json::parse(R"([{"name": "api-keys", "secret": {"secretName": "api-keys", "items": [{"key": "keys", "path": "keys"}]}}])"));
  EXPECT_EQ(container["volumeMounts"], Json::parse(R"([{"name": "api-keys", "mountPath": "/etc/financial-api/keys", "readOnly": true}])"));
  // The API reads the same file from the same Secret.
  const Json& api_pod = PodSpec(*Find(children, "Deployment", "prod-api"));
  EXPECT_EQ(api_pod["volumes"], pod["volumes"]);
  EXPECT_EQ(api_pod["containers"][0]["volumeMounts"], container["volumeMounts"]);
  EXPECT_EQ((*Find(children, "ConfigMap", "prod-api-config"))["data"]["API_KEYS_FILE"], "/etc/financial-api/keys/keys");
}

// --- the loader Job -----------------------------------------------------------------------------------

TEST(LoaderTest, LoadsTheBundledSampleWithTheApiImageStraightIntoPostgres) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));
  const auto children = BuildChildren(api, FixedInputs());
  const Json* job = Find(children, "Job", "");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ((*job)["apiVersion"], "batch/v1");
  const std::string name = (*job)["metadata"]["name"];
  EXPECT_EQ(name, LoaderJobName(api));
  EXPECT_TRUE(name.starts_with("prod-load-")) << name;
  EXPECT_EQ(name.size(), std::string("prod-load-").size() + 8);
  EXPECT_EQ((*job)["metadata"]["labels"][kComponentLabel], "loader");
  EXPECT_EQ((*job)["spec"]["backoffLimit"], 3);
  EXPECT_FALSE((*job)["spec"].contains("ttlSecondsAfterFinished")) << "the finished Job is the record of the load";

  const Json& pod = (*job)["spec"]["template"]["spec"];
  EXPECT_EQ((*job)["spec"]["template"]["metadata"]["labels"][kComponentLabel], "loader") << "the NetworkPolicy selects it";
  EXPECT_EQ(pod["restartPolicy"], "Never");
  EXPECT_EQ(pod["securityContext"], Json::parse(R"({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                                                    "seccompProfile": {"type": "RuntimeDefault"}})"));
  const Json& load = pod["containers"][0];
  EXPECT_EQ(load["image"], "ghcr.io/edgartools/financial-api-server:0.1.0");
  EXPECT_EQ(load["command"], Json::array({"financial-api-server", "load", "/usr/share/financial-api/sec"}));
  EXPECT_EQ(load["env"], Json::parse(R"([{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef":
                                           {"name": "prod-connection", "key": "DIRECT_DATABASE_URL"}}}])"))
      << "straight to PostgreSQL, not through PgBouncer";
  EXPECT_EQ(load["securityContext"], Json::parse(R"({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                                                     "readOnlyRootFilesystem": true})"));
  EXPECT_FALSE(load.contains("volumeMounts"));
  EXPECT_FALSE(pod.contains("volumes"));
  // First it waits for PostgreSQL, with the PostgreSQL image's pg_isready.
  ASSERT_EQ(pod["initContainers"].size(), 1U);
  const Json& wait = pod["initContainers"][0];
  EXPECT_EQ(wait["image"], "postgres:15-alpine");
  EXPECT_TRUE(Has(wait["command"][2], "until pg_isready -q; do")) << wait["command"];
  // PostgreSQL itself (not PgBouncer), from libpq's environment: no URL on pg_isready's command line.
  EXPECT_EQ(wait["env"], Json::parse(R"([
      {"name": "PGHOST", "value": "prod-postgres"}, {"name": "PGPORT", "value": "5432"},
      {"name": "PGDATABASE", "value": "financial"},
      {"name": "PGUSER", "valueFrom": {"secretKeyRef": {"name": "prod-connection", "key": "DATABASE_USER"}}},
      {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "prod-connection", "key": "DATABASE_PASSWORD"}}}])"));
  EXPECT_EQ(wait["securityContext"], load["securityContext"]);
}

TEST(LoaderTest, LoadsTheUsersVolumeAtItsPath) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["data"] = {{"volume", {{"persistentVolumeClaim", {{"claimName", "sec-data"}, {"readOnly", true}}}}},
                            {"path", "edgar/2026/"}};
  const auto children = BuildChildren(Parse(object), FixedInputs());
  const Json& pod = (*Find(children, "Job", ""))["spec"]["template"]["spec"];
  EXPECT_EQ(pod["containers"][0]["command"], Json::array({"financial-api-server", "load", "/data/sec/edgar/2026"}));
  EXPECT_EQ(pod["containers"][0]["volumeMounts"], Json::parse(R"([{"name": "sec-data", "mountPath": "/data/sec", "readOnly": true}])"));
  EXPECT_EQ(pod["volumes"], Json::parse(R"([{"name": "sec-data", "persistentVolumeClaim": {"claimName": "sec-data", "readOnly": true}}])"));
  object["spec"]["data"].erase("path");
  EXPECT_EQ((*Find(BuildChildren(Parse(object), FixedInputs()), "Job", ""))["spec"]["template"]["spec"]["containers"][0]["command"][2],
            "/data/sec");
}

TEST(LoaderTest, ANewImageSourcePlacementOrDatabaseIsANewJobAndNothingElseIs) {
  const Json base = ExampleObject("financialapi.yaml");
  const std::string original = LoaderJobName(Parse(base));
  const auto name_with = [&](const char* pointer, const Json& value) {
    Json object = base;
    object[Json::json_pointer(pointer)] = value;
    return LoaderJobName(Parse(object));
  };
  EXPECT_EQ(LoaderJobName(Parse(base)), original) << "deterministic";
  EXPECT_NE(name_with("/spec/api/image", "ghcr.io/edgartools/financial-api-server:0.2.0"), original);
  EXPECT_NE(name_with("/spec/data/volume", {{"persistentVolumeClaim", {{"claimName", "sec-data"}}}}), original);
  EXPECT_NE(name_with("/spec/data/nodeSelector", {{"pool", "batch"}}), original) << "a Job's pod template is immutable";
  EXPECT_NE(name_with("/spec/postgres/database", "edgar"), original) << "another database is loaded too";
  EXPECT_NE(name_with("/spec/postgres/image", "postgres:15"), original);
  EXPECT_EQ(name_with("/spec/api/cacheTtlSeconds", 60), original);
  EXPECT_EQ(name_with("/spec/redis/image", "redis:7.0"), original);
  EXPECT_EQ(name_with("/spec/postgres/pgbouncer/enabled", false), original) << "the load goes direct either way";
  Inputs rotated = FixedInputs();
  rotated.postgres_password = "rotated";
  EXPECT_EQ((*Find(BuildChildren(Parse(base), rotated), "Job", ""))["metadata"]["name"], original)
      << "new credentials are no reason to load again";
  Json other = base;
  other["spec"]["data"]["volume"] = {{"persistentVolumeClaim", {{"claimName", "a"}}}};
  other["spec"]["data"]["path"] = "x";
  const std::string x = LoaderJobName(Parse(other));
  other["spec"]["data"]["path"] = "y";
  EXPECT_NE(LoaderJobName(Parse(other)), x);
}

TEST(LoaderTest, LoadingOffBuildsNoJobAndOpensNoWayToPostgres) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["data"]["load"] = false;
  const auto children = BuildChildren(Parse(object), FixedInputs());
  EXPECT_EQ(Find(children, "Job", ""), nullptr);
  std::vector<std::string> allowed;
  for (const auto& from : (*Find(children, "NetworkPolicy", "prod-postgres"))["spec"]["ingress"][0]["from"]) {
    allowed.push_back(from["podSelector"]["matchLabels"][kComponentLabel]);
  }
  EXPECT_EQ(allowed, (std::vector<std::string>{"pool", "backup", "api"}));
}

TEST(LoaderTest, AVolumeThatIsNotOneSourceOrAPathOutsideItIsInvalid) {
  const auto error = [](const Json& data) {
    Json object = ExampleObject("financialapi.yaml");
    object["spec"]["data"] = data;
    auto parsed = ParseFinancialApi(object);
    return parsed.ok() ? std::string("ok") : parsed.status().message();
  };
  EXPECT_EQ(error({{"volume", {{"persistentVolumeClaim", {{"claimName", "a"}}}}}, {"path", "sec/2026"}}), "ok");
  EXPECT_TRUE(Has(error({{"volume", {{"name", "x"}, {"persistentVolumeClaim", {{"claimName", "a"}}}}}}), "spec.data.volume"));
  EXPECT_TRUE(Has(error({{"volume", {{"persistentVolumeClaim", {{"claimName", "a"}}}, {"nfs", {{"server", "n"}, {"path", "/"}}}}}}),
                  "one volume source"));
  EXPECT_TRUE(Has(error({{"volume", {{"hostPath", "/srv"}}}}), "spec.data.volume"));
  EXPECT_TRUE(Has(error({{"path", "/abs"}}), "relative"));
  EXPECT_TRUE(Has(error({{"path", "a/../../b"}}), "'..'"));
  EXPECT_EQ(error({{"path", "a/..b/c"}}), "ok");
}

Json JobWithConditions(const Json& conditions, int active = 0, int failed = 0) {
  return {{"status", {{"conditions", conditions}, {"active", active}, {"failed", failed}}}};
}

TEST(LoaderTest, TheJobsConditionsSayWhereTheLoadIs) {
  EXPECT_EQ(ObserveDataLoad("prod-load-1", nullptr).phase, DataLoad::kLoading);
  EXPECT_EQ(ObserveDataLoad("prod-load-1", nullptr).message, "Job prod-load-1 is not created yet");
  const Json running = JobWithConditions(Json::array(), 1, 1);
  EXPECT_EQ(ObserveDataLoad("prod-load-1", &running).phase, DataLoad::kLoading);
  EXPECT_EQ(ObserveDataLoad("prod-load-1", &running).message, "Job prod-load-1 is loading (pods running: 1, attempts failed: 1)");
  // Kubernetes 1.31+ adds SuccessCriteriaMet / FailureTarget before Complete / Failed: not the end yet.
  const Json almost = JobWithConditions({{{"type", "FailureTarget"}, {"status", "True"}}});
  EXPECT_EQ(ObserveDataLoad("prod-load-1", &almost).phase, DataLoad::kLoading);
  const Json complete = JobWithConditions({{{"type", "SuccessCriteriaMet"}, {"status", "True"}}, {{"type", "Complete"}, {"status", "True"}}});
  EXPECT_EQ(ObserveDataLoad("prod-load-1", &complete).phase, DataLoad::kLoaded);
  EXPECT_EQ(ObserveDataLoad("prod-load-1", &complete).job, "prod-load-1");
  const Json failed = JobWithConditions({{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"},
                                          {"message", "Job has reached the specified backoff limit"}}});
  const DataLoad load = ObserveDataLoad("prod-load-1", &failed);
  EXPECT_EQ(load.phase, DataLoad::kFailed);
  EXPECT_TRUE(Has(load.message, "Job prod-load-1 failed (BackoffLimitExceeded): Job has reached the specified backoff limit"))
      << load.message;
  const Json not_failed = JobWithConditions({{{"type", "Failed"}, {"status", "False"}}});
  EXPECT_EQ(ObserveDataLoad("prod-load-1", &not_failed).phase, DataLoad::kLoading);
}

TEST(StatusTest, NotReadyBeforeTheDataIsLoadedAndDegradedWhenTheLoadFailed) {
  const FinancialApi api = Parse(ExampleObject("financialapi.yaml"));
  const std::string job = LoaderJobName(api);
  Observed observed = EverythingReady(api);
  observed.data = DataLoad{.job = job, .phase = DataLoad::kLoading, .message = "Job " + job + " is loading"};
  const auto condition = [](const Json& status, const std::string& type) {
    for (const auto& c : status["conditions"]) {
      if (c["type"] == type) return c;
    }
    return Json();
  };
  const Json loading = ComputeStatus(api, observed, Json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(loading["phase"], "Progressing");
  EXPECT_EQ(loading["data"], (Json{{"job", job}, {"phase", "Loading"}}));
  EXPECT_EQ(condition(loading, "Ready")["status"], "False");
  EXPECT_EQ(condition(loading, "Ready")["message"], "data not loaded yet (Job " + job + ")");
  EXPECT_EQ(condition(loading, "DataLoaded")["status"], "False");
  EXPECT_EQ(condition(loading, "DataLoaded")["reason"], "Loading");
  EXPECT_EQ(condition(loading, "DataLoaded")["message"], "Job " + job + " is loading");
  EXPECT_EQ(condition(loading, "Progressing")["status"], "True");

  observed.data->phase = DataLoad::kLoaded;
  observed.data->message = "Job " + job + " completed";
  const Json loaded = ComputeStatus(api, observed, loading, "2026-01-01T00:01:00Z");
  EXPECT_EQ(loaded["phase"], "Ready");
  EXPECT_EQ(loaded["data"]["phase"], "Loaded");
  EXPECT_EQ(condition(loaded, "DataLoaded")["status"], "True");
  EXPECT_EQ(condition(loaded, "DataLoaded")["reason"], "Loaded");
  EXPECT_EQ(condition(loaded, "DataLoaded")["lastTransitionTime"], "2026-01-01T00:01:00Z");

  observed.data->phase = DataLoad::kFailed;
  observed.data->message = "Job " + job + " failed (BackoffLimitExceeded)";
  const Json failed = ComputeStatus(api, observed, loaded, "2026-01-01T00:02:00Z");
  EXPECT_EQ(failed["phase"], "Degraded");
  EXPECT_EQ(failed["data"]["phase"], "Failed");
  EXPECT_EQ(condition(failed, "DataLoaded")["reason"], "LoadFailed");
  EXPECT_EQ(condition(failed, "Degraded")["status"], "True");
  EXPECT_EQ(condition(failed, "Degraded")["reason"], "LoadFailed");
  EXPECT_EQ(condition(failed, "Degraded")["message"], observed.data->message);
  EXPECT_EQ(condition(failed, "Ready")["reason"], "LoadFailed");
  EXPECT_EQ(condition(failed, "Progressing")["status"], "False") << "nothing gets better by waiting";

  observed.data.reset();  // not observed (yet): loading, under the name the spec gives
  const Json unobserved = ComputeStatus(api, observed, Json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(unobserved["data"], (Json{{"job", job}, {"phase", "Loading"}}));
  EXPECT_EQ(unobserved["phase"], "Progressing");
}

TEST(StatusTest, LoadingOffHasNoDataStatusAndDoesNotWaitForIt) {
  Json object = ExampleObject("financialapi.yaml");
  object["spec"]["data"]["load"] = false;
  const FinancialApi api = Parse(object);
  const Json status = ComputeStatus(api, EverythingReady(api), Json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(status["phase"], "Ready");
  EXPECT_FALSE(status.contains("data"));
  for (const auto& condition : status["conditions"]) EXPECT_NE(condition["type"], "DataLoaded");
}

}  // namespace
}  // namespace financialapi::platform

namespace financialapi::platform {
namespace {

// Found by the spec_children fuzz target: a number past int's range in an int field was converted
// with nlohmann's get<int>() — undefined behaviour ("runtime error: 1e+22 is outside the range of
// representable values of type 'int'"; with gcc it read as -2147483648). Such a value leaves the field
// as it was, like a value of the wrong type.
TEST(SpecTest, NumbersPastAnIntFieldsRangeLeaveItsDefault) {
  Json object = ExampleObject("financialapi-minimal.yaml");
  object["spec"]["autoscaling"] = {{"targetMemoryUtilizationPercentage", 9999999999999999999980.0},
                                   {"maxReplicas", 4294967296LL},
                                   {"minReplicas", 18446744073709551615ULL}};
  object["spec"]["api"]["replicas"] = -1e300;
  object["spec"]["api"]["port"] = 8080.0;  // a whole number written as a float is still that number
  object["metadata"]["generation"] = 1e30;
  const auto api = ParseFinancialApi(object);
  ASSERT_TRUE(api.ok()) << api.status();
  const FinancialApiSpec defaults;
  EXPECT_EQ(api->spec.autoscaling.target_memory, defaults.autoscaling.target_memory);
  EXPECT_EQ(api->spec.autoscaling.max_replicas, defaults.autoscaling.max_replicas);
  EXPECT_EQ(api->spec.autoscaling.min_replicas, defaults.autoscaling.min_replicas);
  EXPECT_EQ(api->spec.api.replicas, defaults.api.replicas);
  EXPECT_EQ(api->spec.api.port, 8080);
  EXPECT_EQ(api->generation, 0);
}

}  // namespace
}  // namespace financialapi::platform
