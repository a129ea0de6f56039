// The operator end to end: a FinancialApi in, a running platform out, on the local control plane.
#include <algorithm>
#include <functional>

#include "e2e/operator_fixture.h"

namespace financialapi::e2e {
namespace {

namespace core = kube::resources;
namespace platform_resources = platform::resources;

const std::vector<std::string> kProductionChildren = {
    "ConfigMap/prod-api-config", "ConfigMap/prod-postgres-config", "ConfigMap/prod-redis-config",
    "CronJob/prod-cache-warmup", "CronJob/prod-postgres-backup", "Deployment/prod-api", "Deployment/prod-pgbouncer",
    "HorizontalPodAutoscaler/prod-api", "NetworkPolicy/prod-api", "NetworkPolicy/prod-cache-warmup",
    "NetworkPolicy/prod-loader", "NetworkPolicy/prod-pgbouncer", "NetworkPolicy/prod-postgres",
    "NetworkPolicy/prod-postgres-backup", "NetworkPolicy/prod-redis", "PersistentVolumeClaim/prod-backups",
    "PodDisruptionBudget/prod-api", "Secret/prod-connection", "Secret/prod-pgbouncer", "Secret/prod-postgres",
    "Secret/prod-redis", "Service/prod-api", "Service/prod-pgbouncer", "Service/prod-postgres", "Service/prod-redis",
    "StatefulSet/prod-postgres", "StatefulSet/prod-redis"};

// kProductionChildren and the loader Job, whose name follows its pod template (platform::LoaderJobName).
std::vector<std::string> ProductionChildren(const Json& example) {
  std::vector<std::string> names = kProductionChildren;
  auto parsed = platform::ParseFinancialApi(example);
  names.push_back("Job/" + (parsed.ok() ? platform::LoaderJobName(*parsed) : parsed.status().ToString()));
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> Names(const std::map<std::string, std::string>& children) {
  std::vector<std::string> names;
  for (const auto& [name, version] : children) names.push_back(name);
  return names;
}

bool PodReady(const Json& pod) {
  bool ready = false;
  for (const auto& condition : pod.value("/status/conditions"_json_pointer, Json::array())) {
    ready |= condition["type"] == "Ready" && condition["status"] == "True";
  }
  return ready;
}

// "name=value name=value" of each item of a list (`describe` gives the value), or the list's error.
std::string Describe(const StatusOr<Json>& list, const std::function<std::string(const Json&)>& describe) {
  if (!list.ok()) return list.status().ToString();
  std::string out;
  for (const auto& item : (*list)["items"]) {
    out += (out.empty() ? "" : " ") + item["metadata"].value("name", "?") + "=" + describe(item);
  }
  return out.empty() ? "none" : out;
}

TEST_F(OperatorTest, ProductionExampleBecomesReadyWithEveryChildOwnedAndItsPodsReady) {
  StartOperator();
  const Json created = Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready")) << Get("prod").dump(2);
  const Json object = Get("prod");
  EXPECT_EQ(Condition(object, "Ready", "status"), "True");
  EXPECT_EQ(Condition(object, "Degraded", "status"), "False");
  EXPECT_EQ(Condition(object, "MonitoringAvailable", "reason"), "CRDNotInstalled");
  EXPECT_EQ(object["status"]["endpoint"], "http://prod-api." + ns() + ".svc:80");
  EXPECT_EQ(object["status"]["api"]["readyReplicas"], 3);
  EXPECT_EQ(Condition(object, "DataLoaded", "status"), "True") << "Ready waits for the loader Job";
  EXPECT_EQ(object["status"]["data"]["phase"], "Loaded");

  EXPECT_EQ(Names(Children("prod")), ProductionChildren(Example()));
  const std::string uid = created["metadata"]["uid"];
  auto deployment = client_->Get(core::kDeployments, ns(), "prod-api");
  ASSERT_TRUE(deployment.ok());
  EXPECT_EQ((*deployment)["metadata"]["ownerReferences"][0]["uid"], uid);
  EXPECT_EQ((*deployment)["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ((*deployment)["status"]["readyReplicas"], 3);

  // Ready asks for one available PgBouncer pod and one ready pod per StatefulSet, so the second
  // PgBouncer pod may still be starting, and a claim the PV controller has not marked Bound yet
  // Pending: wait for what is asserted below.
  StatusOr<Json> pods = Json();
  EXPECT_TRUE(testing::WaitFor([&] {
    // The loader's pod has completed (not Ready): the long-running ones.
    pods = client_->List(core::kPods, ns(), {.label_selector = "app.kubernetes.io/instance=prod,app.kubernetes.io/component!=loader"});
    if (!pods.ok() || (*pods)["items"].size() != 3U + 2U + 1U + 1U) return false;
    for (const auto& pod : (*pods)["items"]) {
      if (!PodReady(pod)) return false;
    }
    return true;
  }, 120s)) << "not 7 Ready pods: " << Describe(pods, [](const Json& pod) { return PodReady(pod) ? "Ready" : "NotReady"; });
  ASSERT_TRUE(pods.ok());
  EXPECT_EQ((*pods)["items"].size(), 3U + 2U + 1U + 1U) << "3 API, 2 PgBouncer, PostgreSQL, Redis";
  for (const auto& pod : (*pods)["items"]) {
    bool ready = false;
    for (const auto& condition : pod["status"]["conditions"]) ready |= condition["type"] == "Ready" && condition["status"] == "True";
    EXPECT_TRUE(ready) << pod["metadata"]["name"];
  }
  StatusOr<Json> claims = Json();
  const auto claim_phase = [](const Json& claim) { return claim.value("/status/phase"_json_pointer, "(none)"); };
  EXPECT_TRUE(testing::WaitFor([&] {
    claims = client_->List(core::kPersistentVolumeClaims, ns());
    if (!claims.ok()) return false;
    for (const auto& claim : (*claims)["items"]) {
      if (claim_phase(claim) != "Bound") return false;
    }
    return true;
  }, 60s)) << "claims not all Bound: " << Describe(claims, claim_phase);
  ASSERT_TRUE(claims.ok());
  for (const auto& claim : (*claims)["items"]) EXPECT_EQ(claim["status"]["phase"], "Bound") << claim["metadata"]["name"];
}

TEST_F(OperatorTest, SpecChangesFlowToTheChildrenAndRollTheDeployment) {
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  const Json before = *client_->Get(core::kDeployments, ns(), "prod-api");
  const std::string old_hash = before["spec"]["template"]["metadata"]["annotations"][platform::kConfigHashAnnotation];

  PatchSpec("prod", {{"api", {{"image", "ghcr.io/edgartools/financial-api-server:0.2.0"}, {"cacheTtlSeconds", 600}}},
                     {"autoscaling", {{"minReplicas", 4}}},
                     {"redis", {{"resources", {{"limits", {{"memory", "4Gi"}}}}}}}});
  ASSERT_TRUE(WaitForPhase("prod", "Ready")) << Get("prod").dump(2);

  const Json after = *client_->Get(core::kDeployments, ns(), "prod-api");
  EXPECT_EQ(after["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/edgartools/financial-api-server:0.2.0");
  EXPECT_NE(after["spec"]["template"]["metadata"]["annotations"][platform::kConfigHashAnnotation], old_hash);
  EXPECT_GT(after["metadata"]["generation"].get<int>(), before["metadata"]["generation"].get<int>());
  // Ready can be computed from the Deployment's status before the Deployment controller has made the
  // new ReplicaSet: wait for it.
  StatusOr<Json> replica_sets = Json();
  EXPECT_TRUE(testing::WaitFor([&] {
    replica_sets = client_->List(core::kReplicaSets, ns(), {.label_selector = "app.kubernetes.io/component=api"});
    return replica_sets.ok() && (*replica_sets)["items"].size() >= 2U;
  }, 60s)) << "API ReplicaSets: " << Describe(replica_sets, [](const Json& set) {
    return set.value("/spec/template/spec/containers/0/image"_json_pointer, "?");
  });
  ASSERT_TRUE(replica_sets.ok());
  EXPECT_GE((*replica_sets)["items"].size(), 2U) << "a new ReplicaSet: the Deployment rolled";
  EXPECT_EQ((*client_->Get(platform_resources::kHorizontalPodAutoscalers, ns(), "prod-api"))["spec"]["minReplicas"], 4);
  EXPECT_TRUE(testing::WaitFor([&] {
    return (*client_->Get(core::kDeployments, ns(), "prod-api")).value("/status/readyReplicas"_json_pointer, 0) >= 4;
  }, 120s)) << "the autoscaler raised the Deployment to its new minimum";
  const std::string redis_conf = (*client_->Get(core::kConfigMaps, ns(), "prod-redis-config"))["data"]["redis.conf"];
  EXPECT_NE(redis_conf.find("maxmemory 3435973836\n"), std::string::npos) << redis_conf;
}

TEST_F(OperatorTest, DriftIsRepaired) {
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  const std::string old_uid = (*client_->Get(core::kServices, ns(), "prod-api"))["metadata"]["uid"];

  ASSERT_TRUE(client_->Delete(core::kServices, ns(), "prod-api").ok());
  ASSERT_TRUE(client_->MergePatch(platform_resources::kHorizontalPodAutoscalers, ns(), "prod-api", {{"spec", {{"maxReplicas", 99}}}}).ok());
  ASSERT_TRUE(client_->MergePatch(core::kConfigMaps, ns(), "prod-api-config", {{"data", {{"LOG_LEVEL", "debug"}}}}).ok());

  EXPECT_TRUE(testing::WaitFor([&] {
    auto service = client_->Get(core::kServices, ns(), "prod-api");
    return service.ok() && (*service)["metadata"]["uid"] != old_uid;
  }, 60s)) << "the deleted Service was not recreated";
  EXPECT_TRUE(testing::WaitFor([&] {
    return (*client_->Get(platform_resources::kHorizontalPodAutoscalers, ns(), "prod-api"))["spec"]["maxReplicas"] == 20;
  }, 60s)) << "the edited HPA was not restored";
  EXPECT_TRUE(testing::WaitFor([&] {
    return (*client_->Get(core::kConfigMaps, ns(), "prod-api-config"))["data"]["LOG_LEVEL"] == "info";
  }, 60s)) << "the edited ConfigMap was not restored";
}

TEST_F(OperatorTest, DisablingAutoscalingDeletesTheHpaAndEnablingBringsItBack) {
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  PatchSpec("prod", {{"autoscaling", {{"enabled", false}}}, {"api", {{"replicas", 2}}}});
  EXPECT_TRUE(testing::WaitFor([&] {
    auto hpa = client_->Get(platform_resources::kHorizontalPodAutoscalers, ns(), "prod-api");
    return !hpa.ok() && hpa.status().code() == StatusCode::kNotFound;
  }, 60s));
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  EXPECT_EQ((*client_->Get(core::kDeployments, ns(), "prod-api"))["spec"]["replicas"], 2);

  PatchSpec("prod", {{"autoscaling", {{"enabled", true}}}});
  EXPECT_TRUE(testing::WaitFor([&] { return client_->Get(platform_resources::kHorizontalPodAutoscalers, ns(), "prod-api").ok(); }, 60s));
  EXPECT_TRUE(WaitForPhase("prod", "Ready"));
}

TEST_F(OperatorTest, InvalidSpecsAreRejectedByTheApiServerNamingTheField) {
  struct Case {
    Json spec;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"autoscaling", {{"minReplicas", 10}, {"maxReplicas", 5}}}}, "minReplicas must be less than or equal to autoscaling.maxReplicas"},
      {{{"api", {{"replicas", -1}}}}, "spec.api.replicas"},
      {{{"service", {{"type", "Weird"}}}}, "spec.service.type"},
      {{{"redis", {{"maxMemoryPolicy", "keep-everything"}}}}, "spec.redis.maxMemoryPolicy"},
      {{{"postgres", {{"external", {{"host", "db"}, {"credentialsSecretRef", {{"name", "x"}}}}}}}}, "postgres: set managed: true"},
      {{{"cacheWarmup", {{"enabled", true}}}}, "cacheWarmup.tickers"},
      {{{"api", {{"rateLimit", {{"trustedProxies", {"10.0.0.0/8", "ingress-nginx"}}}}}}},
       "each entry must be an IP address or a CIDR block"},
  };
  for (const auto& test : cases) {
    Json object = Example("financialapi-minimal.yaml");
    object["metadata"]["name"] = "invalid";
    object["spec"] = test.spec;
    auto created = client_->Create(platform::kFinancialApis, object);
    ASSERT_FALSE(created.ok()) << test.spec.dump();
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << created.status();
    EXPECT_NE(created.status().message().find(test.expected), std::string::npos) << created.status();
  }
  Json proxied = Example("financialapi-minimal.yaml");
  proxied["metadata"]["name"] = "proxied";
  proxied["spec"] = {{"api", {{"rateLimit", {{"trustedProxies", {"10.0.0.0/8", "192.168.1.7", "fd00::/8"}}}}}}};
  EXPECT_TRUE(client_->Create(platform::kFinancialApis, proxied).ok()) << "addresses and blocks, v4 and v6, are accepted";
  // Shrinking storage is refused on update.
  Json object = Example("financialapi-minimal.yaml");
  object["spec"] = {{"redis", {{"storage", {{"size", "8Gi"}}}}}};
  ASSERT_TRUE(client_->Create(platform::kFinancialApis, object).ok());
  auto shrunk = client_->MergePatch(platform::kFinancialApis, ns(), "minimal", {{"spec", {{"redis", {{"storage", {{"size", "4Gi"}}}}}}}});
  ASSERT_FALSE(shrunk.ok());
  EXPECT_NE(shrunk.status().message().find("storage.size cannot be decreased"), std::string::npos) << shrunk.status();
}

TEST_F(OperatorTest, DeletingTheFinancialApiGarbageCollectsEveryChild) {
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  ASSERT_FALSE(Children("prod").empty());
  ASSERT_TRUE(client_->Delete(platform::kFinancialApis, ns(), "prod", {.propagation = kube::PropagationPolicy::kBackground}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return Children("prod").empty(); }, 120s, 1s))
      << "left behind: " << ::testing::PrintToString(Names(Children("prod")));
}

TEST_F(OperatorTest, RestartedMidwayItConvergesWithoutDuplicates) {
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(testing::WaitFor([&] { return client_->Get(core::kDeployments, ns(), "prod-api").ok(); }, 60s));
  operator_->Kill();  // no drain, no lease release: a crash
  operator_.reset();
  PatchSpec("prod", {{"api", {{"logLevel", "warn"}}}});
  StartOperator();
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  EXPECT_EQ(Names(Children("prod")), ProductionChildren(Example()));
  EXPECT_EQ((*client_->Get(core::kConfigMaps, ns(), "prod-api-config"))["data"]["LOG_LEVEL"], "warn");
  auto deployments = client_->List(core::kDeployments, ns());
  ASSERT_TRUE(deployments.ok());
  EXPECT_EQ((*deployments)["items"].size(), 2U) << "API and PgBouncer, once each";
}

TEST_F(OperatorTest, SteadyStateMakesNoWritesAcrossResyncs) {
  StartOperator("", /*resync_seconds=*/2);
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  // Let the autoscaler and the rollout settle, then watch for writes.
  ASSERT_TRUE(testing::WaitFor([&] {
    const auto first = Children("prod");
    const std::string status_version = Get("prod")["metadata"]["resourceVersion"];
    std::this_thread::sleep_for(3s);
    return first == Children("prod") && status_version == Get("prod")["metadata"]["resourceVersion"];
  }, 120s, 0ms));
  const auto children = Children("prod");
  const std::string version = Get("prod")["metadata"]["resourceVersion"];
  const auto [code, before] = testing::HttpGet(metrics_port_, "/metrics");
  ASSERT_EQ(code, 200);
  std::this_thread::sleep_for(8s);  // four resync periods
  EXPECT_EQ(Children("prod"), children) << "a child was written at steady state";
  EXPECT_EQ(Get("prod")["metadata"]["resourceVersion"], version) << "the FinancialApi (status) was written at steady state";
  const auto [code_after, after] = testing::HttpGet(metrics_port_, "/metrics");
  ASSERT_EQ(code_after, 200);
  auto writes = [](const std::string& metrics) {
    double total = 0;
    for (const char* method : {"PATCH", "POST", "PUT", "DELETE"}) {
      for (std::size_t at = metrics.find(std::string("method=\"") + method + "\"}"); at != std::string::npos;
           at = metrics.find(std::string("method=\"") + method + "\"}", at + 1)) {
        const std::size_t line_start = metrics.rfind('\n', at) + 1;
        if (metrics.compare(line_start, 26, "rest_client_requests_total") == 0) total += std::stod(metrics.substr(metrics.find(' ', at) + 1));
      }
    }
    return total;
  };
  EXPECT_EQ(writes(after), writes(before)) << "the operator sent write requests at steady state";
  EXPECT_NE(after.find("controller_runtime_reconcile_total{controller=\"financialapi\",result=\"success\"}"), std::string::npos);
}

TEST_F(OperatorTest, PausedStopsChangesAndSaysSo) {
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready"));
  PatchSpec("prod", {{"paused", true}, {"api", {{"image", "paused:change"}}}});
  ASSERT_TRUE(WaitForPhase("prod", "Paused"));
  EXPECT_EQ(Condition(Get("prod"), "Paused", "status"), "True");
  std::this_thread::sleep_for(2s);
  EXPECT_NE((*client_->Get(core::kDeployments, ns(), "prod-api"))["spec"]["template"]["spec"]["containers"][0]["image"],
            "paused:change");
  PatchSpec("prod", {{"paused", false}});
  EXPECT_TRUE(testing::WaitFor([&] {
    return (*client_->Get(core::kDeployments, ns(), "prod-api"))["spec"]["template"]["spec"]["containers"][0]["image"] == "paused:change";
  }, 60s));
}

TEST_F(OperatorTest, AMissingSecretIsDegradedUntilItAppears) {
  StartOperator();
  Json object = Example("financialapi-minimal.yaml");
  object["spec"] = {{"api", {{"apiKeysSecretRef", {{"name", "api-keys"}}}}}};
  Apply(object);
  ASSERT_TRUE(WaitForPhase("minimal", "Degraded", 60s)) << Get("minimal").dump(2);
  const Json degraded = Get("minimal");
  EXPECT_EQ(Condition(degraded, "Degraded", "reason"), "SecretNotFound");
  EXPECT_NE(Condition(degraded, "Degraded", "message").find("api-keys"), std::string::npos);
  // The operator records the Warning event after it has written the status.
  StatusOr<Json> events = Json();
  EXPECT_TRUE(testing::WaitFor([&] {
    events = client_->List(core::kEvents, ns(), {.field_selector = "reason=SecretNotFound"});
    return events.ok() && !(*events)["items"].empty();
  }, 30s)) << "no SecretNotFound event: " << (events.ok() ? std::string("none") : events.status().ToString());
  ASSERT_TRUE(events.ok());
  EXPECT_FALSE((*events)["items"].empty()) << "a Warning event tells the admin too";

  ASSERT_TRUE(client_->Create(core::kSecrets, {{"apiVersion", "v1"}, {"kind", "Secret"},
                                               {"metadata", {{"name", "api-keys"}, {"namespace", ns()}}},
                                               {"stringData", {{"keys", "k1\n"}}}}).ok());
  EXPECT_TRUE(WaitForPhase("minimal", "Ready")) << "the backoff requeue picks the Secret up";
}

TEST_F(OperatorTest, OneOperatorWatchesTheNamespacesItIsGivenAndNoOther) {
  testing::ScopedNamespace second(*client_, "e2e-second", /*wait_for_service_account=*/true);
  testing::ScopedNamespace unwatched(*client_, "e2e-unwatched", /*wait_for_service_account=*/true);
  StartOperator(ns() + "," + second.name());
  for (const std::string& in_namespace : {ns(), second.name(), unwatched.name()}) {
    Json object = Example("financialapi-minimal.yaml");
    object["metadata"]["namespace"] = in_namespace;
    Apply(object);
  }
  ASSERT_TRUE(WaitForPhase("minimal", "Ready")) << Get("minimal").dump(2);
  ASSERT_TRUE(testing::WaitFor([&] {
    auto object = client_->Get(platform::kFinancialApis, second.name(), "minimal");
    return object.ok() && object->value("/status/phase"_json_pointer, "") == "Ready";
  }, kReadyTimeout)) << operator_->Log();
  EXPECT_FALSE(Children("minimal", second.name()).empty());

  auto untouched = client_->Get(platform::kFinancialApis, unwatched.name(), "minimal");
  ASSERT_TRUE(untouched.ok()) << untouched.status();
  EXPECT_FALSE(untouched->contains("status")) << "a namespace it was not given was reconciled: " << untouched->dump(2);
  EXPECT_TRUE(Children("minimal", unwatched.name()).empty());
  EXPECT_NE(operator_->Log().find("watchNamespaces=" + ns() + "," + second.name()), std::string::npos) << operator_->Log();
}

}  // namespace
}  // namespace financialapi::e2e
