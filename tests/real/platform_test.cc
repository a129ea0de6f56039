// The production example, every component on, running for real on the real node (through the overlay
// examples/overlays/real-node.yaml that changes only images, resource requests and placement). Each
// check asks the program that consumes what the operator wrote: PostgreSQL for its settings, Redis for
// its password and memory limit, the API server for its answers, the policy engine for what it blocks.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "financialapi/platform/spec.h"
#include "support/child_process.h"
#include "financialapi/common/base64.h"
#include "financialapi/common/strings.h"
#include "financialapi/platform/builders.h"
#include "real/real_fixture.h"

namespace financialapi::real {
namespace {

using namespace std::chrono_literals;

constexpr auto kPlatformReadyTimeout = 600s;
constexpr char kApiKey[] = "real-pod-suite-key";

// "1024MB", "16kB", "4GB" → bytes (PostgreSQL's memory units, as the operator writes them).
long long PostgresBytes(const std::string& value) {
  std::size_t digits = 0;
  const long long number = std::stoll(value, &digits);
  const std::string unit = value.substr(digits);
  if (unit == "kB") return number * 1024;
  if (unit == "MB") return number * 1024 * 1024;
  if (unit == "GB") return number * 1024 * 1024 * 1024;
  return number;
}

// One platform for the whole suite (it takes a minute or two to start): the namespace, the operator
// process and the parsed FinancialApi live from SetUpTestSuite to TearDownTestSuite.
class PlatformTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    client_ = testing::AdminClient();
    ASSERT_NE(client_, nullptr);
    ASSERT_FALSE(testing::RealNodeEnvironment().empty()) << "the cluster has no real node";
    namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "platform", /*wait_for_service_account=*/true);
    ASSERT_EQ(testing::Kubectl("create secret generic prod-api-keys -n " + ns() + " --from-literal=keys=" + kApiKey).first, 0);
    Json example = ProductionExampleOnTheRealNode();
    ASSERT_FALSE(example.is_null());
    example["metadata"]["namespace"] = ns();
    auto applied = client_->Apply(platform::kFinancialApis, example, {.field_manager = "real-pod-tests", .force = true});
    ASSERT_TRUE(applied.ok()) << applied.status();
    operator_ = std::make_unique<testing::ChildProcess>(
        OPERATOR_PATH,
        std::vector<std::string>{"--kubeconfig", testing::ClusterKubeconfigPath(), "--watch-namespace", ns(),
                                 "--metrics-bind-address", "127.0.0.1:" + std::to_string(testing::FreePort()),
                                 "--health-probe-bind-address", "127.0.0.1:" + std::to_string(testing::FreePort()),
                                 "--log-level", "debug"},
        "operator");
    Json current;
    const bool ready = testing::WaitFor([&] {
      auto got = client_->Get(platform::kFinancialApis, ns(), "prod");
      if (!got.ok()) return false;
      current = *got;
      return current.value("/status/phase"_json_pointer, "") == "Ready" &&
             current.value("/status/observedGeneration"_json_pointer, std::int64_t{-1}) ==
                 current.value("/metadata/generation"_json_pointer, std::int64_t{0});
    }, kPlatformReadyTimeout, 1s);
    ASSERT_TRUE(ready) << current["status"].dump(2) << "\n" << testing::Kubectl("get pods -o wide -n " + ns()).second
                       << "\n--- operator log (tail):\n" << Tail(operator_->Log());
    auto parsed = platform::ParseFinancialApi(current);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    api_ = std::make_unique<platform::FinancialApi>(*parsed);
  }

  static void TearDownTestSuite() {
    if (operator_) {
      operator_->Signal(SIGTERM);
      operator_->WaitForExit(30s);
    }
    operator_.reset();
    namespace_.reset();
    client_.reset();
  }

  void SetUp() override {
    // A failed suite set-up leaves nothing to test: say so in every test rather than crash on it.
    ASSERT_NE(api_, nullptr) << "the platform did not come up (see the first test's output)";
  }

  static std::string Tail(const std::string& text) { return text.substr(text.size() > 6000 ? text.size() - 6000 : 0); }
  static const std::string& ns() { return namespace_->name(); }
  static const platform::FinancialApi& api() { return *api_; }

  // `kubectl exec` in a pod of this namespace; exit code and output.
  static std::pair<int, std::string> Exec(const std::string& pod, const std::string& command) {
    return testing::Kubectl("exec -n " + ns() + " " + pod + " -- " + command);
  }

  // Runs `script` with `sh -c` in a pod of `image` on the real node, with `labels` (instance added) and
  // `pod_extra`/`container_extra` merged into its pod and container, until it ends; its exit code (-1
  // on timeout) and logs.
  static std::pair<int, std::string> RunPod(const std::string& name, const std::string& image, const Json& labels,
                                            const std::string& script, const Json& pod_extra = Json::object(),
                                            const Json& container_extra = Json::object()) {
    Json container = {{"name", "main"}, {"image", image}, {"imagePullPolicy", "IfNotPresent"},
                      {"command", Json::array({"sh", "-c", script})}};
    container.update(container_extra);
    Json spec = RealNodePlacement(testing::RealNodeEnvironment().at("REAL_NODE_TAINT_KEY"));
    spec.update(pod_extra);
    spec["restartPolicy"] = "Never";
    spec["enableServiceLinks"] = false;
    spec["securityContext"] = {{"runAsNonRoot", true}, {"runAsUser", 70}, {"runAsGroup", 70}};
    spec["containers"] = Json::array({container});
    Json pod_labels = labels;
    pod_labels["app.kubernetes.io/instance"] = api().name;
    auto created = client_->Create(kube::resources::kPods, {{"apiVersion", "v1"}, {"kind", "Pod"},
                                                            {"metadata", {{"name", name}, {"namespace", ns()}, {"labels", pod_labels}}},
                                                            {"spec", spec}});
    if (!created.ok()) return {-1, created.status().ToString()};
    int exit_code = -1;
    testing::WaitFor([&] {
      auto pod = client_->Get(kube::resources::kPods, ns(), name);
      if (!pod.ok()) return false;
      const std::string phase = (*pod)["status"].value("phase", "");
      if (phase != "Succeeded" && phase != "Failed") return false;
      exit_code = (*pod).value("/status/containerStatuses/0/state/terminated/exitCode"_json_pointer, -1);
      return true;
    }, 180s, 1s);
    return {exit_code, testing::Kubectl("logs -n " + ns() + " " + name).second};
  }

  // Creates a Job from one of the operator's CronJobs (as `kubectl create job --from` does) and waits
  // for it to end; whether it completed, and its pods' logs.
  static std::pair<bool, std::string> TriggerCronJob(const std::string& cronjob, const std::string& job) {
    const auto [code, output] = testing::Kubectl("create job -n " + ns() + " " + job + " --from=cronjob/" + cronjob);
    if (code != 0) return {false, output};
    bool complete = false;
    testing::WaitFor([&] {
      auto got = client_->Get(platform::resources::kJobs, ns(), job);
      if (!got.ok()) return false;
      for (const auto& condition : (*got)["status"].value("conditions", Json::array())) {
        if (condition.value("status", "") != "True") continue;
        if (condition.value("type", "") == "Complete") return complete = true;
        if (condition.value("type", "") == "Failed") return true;
      }
      return false;
    }, 300s, 1s);
    return {complete, testing::Kubectl("logs -n " + ns() + " job/" + job + " --all-containers").second};
  }

  static std::string SecretValue(const std::string& name, const std::string& key) {
    auto secret = client_->Get(kube::resources::kSecrets, ns(), name);
    if (!secret.ok()) return "";
    auto decoded = Base64Decode((*secret)["data"].value(key, ""));
    return decoded.ok() ? *decoded : "";
  }

  // GET through the API's Service ClusterIP from the host (kube-proxy in the node's namespace).
  static std::pair<int, std::string> GetThroughService(const std::string& path, bool with_key = true) {
    auto service = client_->Get(kube::resources::kServices, ns(), platform::ApiName(api()));
    if (!service.ok()) return {0, service.status().ToString()};
    const std::string url = "http://" + (*service)["spec"].value("clusterIP", "") + ":" +
                            std::to_string(api().spec.service_port) + path;
    const std::string key_header = with_key ? std::string("-H 'X-API-Key: ") + kApiKey + "' " : "";
    std::string output;
    testing::RunShell("curl -s -m 10 -w '\\n%{http_code}' " + key_header + "'" + url + "'", &output);
    const auto newline = output.rfind('\n');
    if (newline == std::string::npos) return {0, output};
    return {std::atoi(output.c_str() + newline + 1), output.substr(0, newline)};
  }

  static inline std::unique_ptr<kube::Client> client_;
  static inline std::unique_ptr<testing::ScopedNamespace> namespace_;
  static inline std::unique_ptr<testing::ChildProcess> operator_;
  static inline std::unique_ptr<platform::FinancialApi> api_;
};

TEST_F(PlatformTest, PostgresRunsWithTheSettingsTheOperatorDerived) {
  const auto settings = platform::PostgresSettings(api());
  const std::string pod = platform::PostgresName(api()) + "-0";
  for (const char* name : {"shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem"}) {
    const auto [code, output] = Exec(pod, "psql -U " + api().spec.postgres.user + " -d " + api().spec.postgres.database +
                                              " -Atc \"SELECT setting::bigint * pg_size_bytes(CASE WHEN unit ~ '^[0-9]' THEN unit ELSE '1' || unit END) FROM pg_settings WHERE name = '" +
                                              name + "'\"");
    ASSERT_EQ(code, 0) << output;
    EXPECT_EQ(std::stoll(output), PostgresBytes(settings.at(name))) << name << " = " << settings.at(name);
  }
  const auto [code, output] = Exec(pod, "psql -U " + api().spec.postgres.user + " -d " + api().spec.postgres.database +
                                            " -Atc 'SHOW max_connections'");
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(output, settings.at("max_connections") + "\n");
}

TEST_F(PlatformTest, RedisRunsWithTheGeneratedConfigAndRequiresItsPassword) {
  const std::string pod = platform::RedisName(api()) + "-0";
  const auto [denied_code, denied] = Exec(pod, "redis-cli ping");
  EXPECT_NE(denied.find("NOAUTH"), std::string::npos) << denied;
  const std::string password = SecretValue(platform::RedisName(api()), "REDIS_PASSWORD");
  ASSERT_FALSE(password.empty());
  const auto [code, output] = Exec(pod, "redis-cli --no-auth-warning -a " + password + " CONFIG GET maxmemory");
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(output, "maxmemory\n" + std::to_string(platform::RedisMaxMemoryBytes(api())) + "\n");
  const auto [policy_code, policy] = Exec(pod, "redis-cli --no-auth-warning -a " + password + " CONFIG GET maxmemory-policy");
  EXPECT_EQ(policy, "maxmemory-policy\n" + api().spec.redis.max_memory_policy + "\n");
}

TEST_F(PlatformTest, TheApiServesSecDataFromItsPodsThroughTheService) {
  auto deployment = client_->Get(kube::resources::kDeployments, ns(), platform::ApiName(api()));
  ASSERT_TRUE(deployment.ok()) << deployment.status();
  EXPECT_EQ((*deployment)["status"].value("readyReplicas", 0), api().spec.autoscaling.min_replicas);

  const auto [code, body] = GetThroughService("/v1/companies/AAPL");
  ASSERT_EQ(code, 200) << body;
  EXPECT_EQ(Json::parse(body).value("name", ""), "Apple Inc.") << body;
  // The value the integration tests check against the SEC document: Assets on 2025-09-27.
  const auto [concept_code, concept_body] = GetThroughService("/api/xbrl/companyconcept/CIK0000320193/us-gaap/Assets.json");
  ASSERT_EQ(concept_code, 200) << concept_body;
  bool found = false;
  const Json concept_document = Json::parse(concept_body);
  for (const auto& fact : concept_document["units"]["USD"]) {
    if (fact.value("end", "") == "2025-09-27" && fact["val"] == 359241000000LL) found = true;
  }
  EXPECT_TRUE(found) << "AAPL Assets 2025-09-27 = 359241000000 not in the answer";
  const auto [anonymous_code, anonymous] = GetThroughService("/v1/companies/AAPL", /*with_key=*/false);
  EXPECT_EQ(anonymous_code, 401) << anonymous;
}

TEST_F(PlatformTest, TheWarmUpJobFillsTheCacheThroughTheServiceWithTheApiKey) {
  const auto [complete, logs] = TriggerCronJob(api().name + "-cache-warmup", "warmup-now");
  EXPECT_TRUE(complete) << logs;
  EXPECT_NE(logs.find(" 0 failed"), std::string::npos) << logs;
  for (const auto& ticker : api().spec.cache_warmup.tickers) {
    EXPECT_NE(logs.find("ok 200 /v1/companies/" + ticker), std::string::npos) << ticker << " not warmed:\n" << logs;
  }
}

TEST_F(PlatformTest, NetworkPoliciesKeepOtherPodsAwayFromTheDatabases) {
  const std::string postgres = platform::PostgresName(api()), pgbouncer = platform::PgBouncerName(api());
  // A pod of this namespace that is none of the platform's clients: nothing answers it.
  const auto [stranger_code, stranger] = RunPod(
      "stranger", Image("POSTGRES_IMAGE"), {{"app", "stranger"}},
      "pg_isready -t 5 -h " + postgres + " -p 5432; echo postgres=$?; pg_isready -t 5 -h " + pgbouncer +
          " -p 6432; echo pgbouncer=$?");
  EXPECT_NE(stranger.find("postgres=2"), std::string::npos) << stranger;
  EXPECT_NE(stranger.find("pgbouncer=2"), std::string::npos) << stranger;
  const auto [redis_code, redis] = RunPod("stranger-redis", Image("REDIS_IMAGE"), {{"app", "stranger"}},
                                          "timeout 5 redis-cli -h " + platform::RedisName(api()) + " ping; echo redis=$?");
  EXPECT_EQ(redis.find("NOAUTH"), std::string::npos) << "the stranger reached Redis: " << redis;
  EXPECT_NE(redis.find("redis=124"), std::string::npos) << redis;
  // The same probe from a pod with the backup job's labels, which the PostgreSQL policy admits.
  const auto [backup_code, backup] = RunPod("as-backup", Image("POSTGRES_IMAGE"), {{"app.kubernetes.io/component", "backup"}},
                                            "pg_isready -t 5 -h " + postgres + " -p 5432; echo postgres=$?");
  EXPECT_NE(backup.find("postgres=0"), std::string::npos) << backup;
}

TEST_F(PlatformTest, TheBackupJobWritesADumpThatRestoresWithTheSameRowCounts) {
  const auto [complete, logs] = TriggerCronJob(platform::PostgresName(api()) + "-backup", "backup-now");
  ASSERT_TRUE(complete) << logs;
  // Restore the newest dump into an empty database beside the live one, then count rows in both. The
  // API's role may not create databases: the cluster's superuser makes it, on the pod's socket.
  const std::string user = api().spec.postgres.user;
  const auto [created_code, created] =
      Exec(platform::PostgresName(api()) + "-0", "psql -U postgres -d postgres -c 'DROP DATABASE IF EXISTS restore_check' "
                                                 "-c 'CREATE DATABASE restore_check OWNER \"" + user + "\"'");
  ASSERT_EQ(created_code, 0) << created;
  const std::string script =
      "set -eu\n"
      "dump=$(ls -t /backups/*.sql.gz | head -n1)\n"
      "echo \"dump $dump\"\n"
      "restored=\"${DIRECT_DATABASE_URL%/*}/restore_check\"\n"
      "gunzip -c \"$dump\" | psql -q -v ON_ERROR_STOP=1 \"$restored\" >/dev/null\n"
      "for table in companies tickers filings concepts company_concepts facts; do\n"
      "  echo \"$table live=$(psql -Atc \"SELECT count(*) FROM $table\" \"$DIRECT_DATABASE_URL\")"
      " restored=$(psql -Atc \"SELECT count(*) FROM $table\" \"$restored\")\"\n"
      "done\n";
  const Json pod_extra = {
      {"volumes", Json::array({{{"name", "backups"}, {"persistentVolumeClaim", {{"claimName", api().name + "-backups"}}}}})}};
  const Json container_extra = {
      {"volumeMounts", Json::array({{{"name", "backups"}, {"mountPath", "/backups"}}})},
      {"env", Json::array({{{"name", "DIRECT_DATABASE_URL"},
                            {"valueFrom", {{"secretKeyRef", {{"name", platform::ConnectionSecretName(api())},
                                                             {"key", "DIRECT_DATABASE_URL"}}}}}}})}};
  const auto [code, output] = RunPod("restore", Image("POSTGRES_IMAGE"), {{"app.kubernetes.io/component", "backup"}},
                                     script, pod_extra, container_extra);
  ASSERT_EQ(code, 0) << output;
  int tables = 0;
  for (const std::string_view line : SplitAndTrim(output, '\n')) {
    const auto live = line.find(" live="), restored = line.find(" restored=");
    if (live == std::string_view::npos || restored == std::string_view::npos) continue;
    ++tables;
    const std::string_view live_count = line.substr(live + 6, restored - live - 6);
    EXPECT_EQ(live_count, line.substr(restored + 10)) << line;
    EXPECT_NE(live_count, "0") << line;
  }
  EXPECT_EQ(tables, 6) << output;
}

// The pods of `selector` once they are all Ready, on the current template (the config-hash annotation of
// `workload`'s pod template) and `count` of them; empty while a rollout is still going.
Json RolledPods(kube::Client& client, const std::string& ns, const kube::ResourceType& type, const std::string& workload,
                const std::string& selector, int count) {
  auto owner = client.Get(type, ns, workload);
  if (!owner.ok()) return Json();
  const std::string hash =
      (*owner)["spec"]["template"]["metadata"]["annotations"].value(platform::kConfigHashAnnotation, "");
  auto pods = client.List(kube::resources::kPods, ns, {.label_selector = selector});
  if (!pods.ok()) return Json();
  Json current = Json::array();
  for (const auto& pod : (*pods)["items"]) {
    if (pod["metadata"].contains("deletionTimestamp")) return Json();
    if (pod["metadata"]["annotations"].value(platform::kConfigHashAnnotation, "") != hash) return Json();
    bool ready = false;
    for (const auto& condition : pod["status"].value("conditions", Json::array())) {
      if (condition.value("type", "") == "Ready") ready = condition.value("status", "") == "True";
    }
    if (!ready) return Json();
    current.push_back(pod);
  }
  return static_cast<int>(current.size()) == count ? current : Json();
}

// A rollout under load, as clients in the cluster see it: a pod on the real node sends one request
// after the other (each on a new connection) to the API Service's ClusterIP, through kube-proxy, while
// the Deployment rolls every API pod; not one request may fail.
TEST_F(PlatformTest, RollingTheApiDeploymentUnderLoadFromAPodFailsNoRequest) {
  auto service = client_->Get(kube::resources::kServices, ns(), platform::ApiName(api()));
  ASSERT_TRUE(service.ok()) << service.status();
  const std::string address = (*service)["spec"].value("clusterIP", "");
  const std::string port = std::to_string(api().spec.service_port);
  // bash's /dev/tcp: the database images have bash but no HTTP client. One line per failure, the
  // totals at the end; it stops once /tmp/stop exists.
  const std::string request = "GET /v1/companies/AAPL HTTP/1.1\\r\\nHost: api\\r\\nX-API-Key: " + std::string(kApiKey) +
                              "\\r\\nConnection: close\\r\\n\\r\\n";
  const std::string script =
      "ok=0; limited=0; failed=0\n"
      "while [ ! -e /tmp/stop ]; do\n"
      "  status=$(timeout 10 bash -c 'exec 3<>/dev/tcp/" + address + "/" + port + " && printf \"" + request +
      "\" >&3 && head -c 12 <&3' 2>&1)\n"
      "  if [ \"$status\" = 'HTTP/1.1 200' ]; then ok=$((ok+1));\n"
      "  elif [ \"$status\" = 'HTTP/1.1 429' ]; then limited=$((limited+1));\n"  // answered: the key's rate limit
      "  else failed=$((failed+1)); echo \"failed: $status\"; fi\n"
      "done\n"
      "echo \"ok=$ok limited=$limited failed=$failed\"\n";
  Json spec = RealNodePlacement(testing::RealNodeEnvironment().at("REAL_NODE_TAINT_KEY"));
  spec["restartPolicy"] = "Never";
  spec["enableServiceLinks"] = false;
  spec["securityContext"] = {{"runAsNonRoot", true}, {"runAsUser", 70}, {"runAsGroup", 70}};
  spec["containers"] = Json::array({{{"name", "main"}, {"image", Image("POSTGRES_IMAGE")}, {"imagePullPolicy", "IfNotPresent"},
                                     {"command", Json::array({"bash", "-c", script})}}});
  auto created = client_->Create(kube::resources::kPods,
                                 {{"apiVersion", "v1"}, {"kind", "Pod"},
                                  {"metadata", {{"name", "load"}, {"namespace", ns()}, {"labels", {{"app", "load"}}}}},
                                  {"spec", spec}});
  ASSERT_TRUE(created.ok()) << created.status();
  auto logs = [&] { return testing::Kubectl("logs -n " + ns() + " load").second; };
  ASSERT_TRUE(testing::WaitFor([&] {
    auto pod = client_->Get(kube::resources::kPods, ns(), "load");
    return pod.ok() && (*pod)["status"].value("phase", "") == "Running";
  }, 120s, 1s)) << testing::Kubectl("describe pod -n " + ns() + " load").second;
  std::this_thread::sleep_for(5s);  // load before the roll

  const std::string deployment = "deployment/" + platform::ApiName(api());
  ASSERT_EQ(testing::Kubectl("rollout restart -n " + ns() + " " + deployment).first, 0);
  const auto [rolled, rollout] = testing::Kubectl("rollout status -n " + ns() + " --timeout=300s " + deployment);
  EXPECT_EQ(rolled, 0) << rollout;
  // The last old pod is still draining when the rollout reports done: keep the load on until it is gone.
  EXPECT_TRUE(testing::WaitFor([&] {
    auto pods = client_->List(kube::resources::kPods, ns(),
                              {.label_selector = std::string(platform::kComponentLabel) + "=api"});
    if (!pods.ok()) return false;
    for (const auto& pod : (*pods)["items"]) {
      if (pod["metadata"].contains("deletionTimestamp")) return false;
    }
    return true;
  }, 120s, 1s)) << testing::Kubectl("get pods -n " + ns()).second;

  ASSERT_EQ(Exec("load", "touch /tmp/stop").first, 0);
  std::string text;
  ASSERT_TRUE(testing::WaitFor([&] { return (text = logs()).find("ok=") != std::string::npos; }, 60s, 1s)) << text;
  const std::size_t totals = text.find("ok=");
  const int succeeded = std::atoi(text.c_str() + totals + 3);
  const int failed = std::atoi(text.c_str() + text.find("failed=", totals) + 7);
  // A 429 is the API key's rate limit answering: counted apart, it is not a dropped request.
  EXPECT_EQ(failed, 0) << failed << " requests got no answer or an error during the rollout (" << succeeded
                       << " answered 200):\n" << Tail(text);
  EXPECT_GT(succeeded, 50) << text;
}

// Last in the suite: it changes the platform the tests above looked at.
TEST_F(PlatformTest, ChangesToPostgresRedisAndTheApiImageRollTheRealPodsAndTheApiServesAgain) {
  const std::string instance = std::string(platform::kInstanceLabel) + "=" + api().name + ",";
  const std::string postgres = platform::PostgresName(api()), redis = platform::RedisName(api());
  auto before = client_->Get(kube::resources::kPods, ns(), postgres + "-0");
  ASSERT_TRUE(before.ok()) << before.status();

  // The same API image under a second name, as a new release would be: the Deployment must roll.
  const auto node = testing::RealNodeEnvironment();
  const std::string image = Image("API_IMAGE"), next_image = image + "-next";
  ASSERT_EQ(testing::RunShell("ctr --address " + node.at("REAL_NODE_CONTAINERD_SOCKET") + " -n k8s.io images tag --force " +
                              image + " " + next_image),
            0);

  auto patched = client_->MergePatch(platform::kFinancialApis, ns(), api().name,
                                     {{"spec", {{"postgres", {{"parameters", {{"work_mem", "24MB"}}}}},
                                                {"redis", {{"maxMemoryPolicy", "volatile-lru"}}},
                                                {"api", {{"image", next_image}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  const auto generation = patched->value("/metadata/generation"_json_pointer, std::int64_t{0});

  Json pods;
  ASSERT_TRUE(testing::WaitFor([&] {
    pods = RolledPods(*client_, ns(), kube::resources::kStatefulSets, postgres,
                      instance + std::string(platform::kComponentLabel) + "=database", 1);
    return !pods.empty() && pods[0]["metadata"]["uid"] != (*before)["metadata"]["uid"];
  }, 300s, 1s)) << testing::Kubectl("get pods -n " + ns()).second;
  const auto [code, work_mem] = Exec(postgres + "-0", "psql -U " + api().spec.postgres.user + " -d " +
                                                          api().spec.postgres.database + " -Atc 'SHOW work_mem'");
  EXPECT_EQ(work_mem, "24MB\n") << "the new postgresql.conf is what the new pod runs";

  ASSERT_TRUE(testing::WaitFor([&] {
    return !RolledPods(*client_, ns(), kube::resources::kStatefulSets, redis,
                       instance + std::string(platform::kComponentLabel) + "=cache", 1).empty();
  }, 300s, 1s)) << testing::Kubectl("get pods -n " + ns()).second;
  const std::string password = SecretValue(redis, "REDIS_PASSWORD");
  std::pair<int, std::string> policy;
  EXPECT_TRUE(testing::WaitFor([&] {
    policy = Exec(redis + "-0", "redis-cli --no-auth-warning -a " + password + " CONFIG GET maxmemory-policy");
    return policy.second == "maxmemory-policy\nvolatile-lru\n";
  }, 60s, 1s)) << policy.second;

  ASSERT_TRUE(testing::WaitFor([&] {
    pods = RolledPods(*client_, ns(), kube::resources::kDeployments, platform::ApiName(api()),
                      instance + std::string(platform::kComponentLabel) + "=api", api().spec.autoscaling.min_replicas);
    return !pods.empty();
  }, 300s, 1s)) << testing::Kubectl("get pods -n " + ns()).second;
  for (const auto& pod : pods) EXPECT_EQ(pod["spec"]["containers"][0]["image"], next_image) << pod["metadata"]["name"];

  std::pair<int, std::string> answer;
  EXPECT_TRUE(testing::WaitFor([&] { return (answer = GetThroughService("/v1/companies/AAPL")).first == 200; }, 60s, 1s))
      << answer.first << " " << answer.second;
  EXPECT_TRUE(testing::WaitFor([&] {
    auto object = client_->Get(platform::kFinancialApis, ns(), api().name);
    return object.ok() && object->value("/status/phase"_json_pointer, "") == "Ready" &&
           object->value("/status/observedGeneration"_json_pointer, std::int64_t{0}) == generation;
  }, 300s, 1s)) << "the FinancialApi is Ready again at generation " << generation;
}

}  // namespace
}  // namespace financialapi::real
