// Least privilege in the children (issue 11): what each pod may use, say and reach, read from the
// rendered children of the production example with every optional component on.
#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "financialapi/common/base64.h"
#include "financialapi/platform/builders.h"
#include "support/yaml_json.h"

namespace financialapi::platform {
namespace {

constexpr char kPostgresPassword[] = "pg-Secret-1";
constexpr char kRedisPassword[] = "redis-Secret-2";

Inputs SecretInputs() {
  return {.postgres_password = kPostgresPassword, .postgres_user = "financial", .redis_password = kRedisPassword,
          .service_monitor_crd = true, .prometheus_rule_crd = true};
}

Json ProductionObject() {
  Json object = testing::LoadYamlFile(testing::SourcePath("examples/financialapi.yaml")).at(0);
  object["metadata"]["namespace"] = "finance";
  object["metadata"]["uid"] = "11111111-2222-3333-4444-555555555555";
  object["spec"]["cacheWarmup"]["enabled"] = true;
  return object;
}

FinancialApi ParseObject(const Json& object) {
  auto parsed = ParseFinancialApi(object);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : FinancialApi{};
}

std::vector<Child> ProductionChildren(const Json& object = ProductionObject()) {
  return BuildChildren(ParseObject(object), SecretInputs());
}

// Every pod spec of the children (Deployments, StatefulSets, Jobs, CronJobs), by "Kind/name".
std::vector<std::pair<std::string, const Json*>> PodSpecs(const std::vector<Child>& children) {
  std::vector<std::pair<std::string, const Json*>> pod_specs;
  for (const auto& child : children) {
    if (!child.object.contains("spec")) continue;
    const Json& spec = child.object["spec"];
    const std::string name = child.type->kind + "/" + child.object["metadata"]["name"].get<std::string>();
    if (child.type->kind == "CronJob") {
      pod_specs.emplace_back(name, &spec["jobTemplate"]["spec"]["template"]["spec"]);
    } else if (spec.is_object() && spec.contains("template")) {
      pod_specs.emplace_back(name, &spec["template"]["spec"]);
    }
  }
  return pod_specs;
}

TEST(LeastPrivilegeTest, NoChildPodMountsAServiceAccountToken) {
  const auto children = ProductionChildren();
  std::set<std::string> seen;
  for (const auto& [name, pod_spec] : PodSpecs(children)) {
    seen.insert(name.substr(0, name.find('/')));
    EXPECT_EQ(pod_spec->value("automountServiceAccountToken", true), false)
        << name << " gets a token for the namespace's default ServiceAccount it never uses";
  }
  // The API and PgBouncer (Deployments), PostgreSQL and Redis (StatefulSets), the loader (Job), the
  // backup and the warm-up (CronJobs): all of them were looked at.
  EXPECT_EQ(PodSpecs(children).size(), 7U);
  EXPECT_EQ(seen, (std::set<std::string>{"Deployment", "StatefulSet", "Job", "CronJob"}));
}


// A value that would give a database away: a password, or a URL with credentials in it.
bool IsPasswordMaterial(const std::string& value) {
  static const std::regex kUrlWithCredentials(R"([A-Za-z][A-Za-z0-9+.-]*://[^/\s"'@]*:[^/\s"'@]*@)");
  return value.find(kPostgresPassword) != std::string::npos || value.find(kRedisPassword) != std::string::npos ||
         std::regex_search(value, kUrlWithCredentials);
}

// The decoded entries of the Secrets among the children, by Secret name.
std::map<std::string, std::map<std::string, std::string>> ChildSecrets(const std::vector<Child>& children) {
  std::map<std::string, std::map<std::string, std::string>> secrets;
  for (const auto& child : children) {
    if (child.type->kind != "Secret") continue;
    auto& entries = secrets[child.object["metadata"]["name"]];
    for (const auto& [key, value] : child.object["data"].items()) {
      entries[key] = Base64Decode(value.get<std::string>()).value_or(value.get<std::string>());
    }
  }
  return secrets;
}

// The names of `container`'s environment variables whose value is password material. A Secret the
// operator did not write (the user's) counts as password material whatever its content.
std::set<std::string> SecretVariables(const Json& container,
                                      const std::map<std::string, std::map<std::string, std::string>>& secrets) {
  std::set<std::string> names;
  for (const auto& env : container.value("env", Json::array())) {
    if (env.contains("value") && IsPasswordMaterial(env["value"])) names.insert(env["name"]);
    if (!env.contains("valueFrom") || !env["valueFrom"].contains("secretKeyRef")) continue;
    const Json& ref = env["valueFrom"]["secretKeyRef"];
    const auto secret = secrets.find(ref["name"]);
    if (secret == secrets.end()) {
      names.insert(env["name"]);
      continue;
    }
    const auto entry = secret->second.find(ref["key"]);
    if (entry == secret->second.end() || IsPasswordMaterial(entry->second)) names.insert(env["name"]);
  }
  for (const auto& from : container.value("envFrom", Json::array())) {
    if (!from.contains("secretRef")) continue;
    const auto secret = secrets.find(from["secretRef"]["name"]);
    EXPECT_NE(secret, secrets.end()) << "envFrom of a Secret the operator does not write: " << from;
    if (secret == secrets.end()) continue;
    for (const auto& [key, value] : secret->second) {
      if (IsPasswordMaterial(value)) names.insert(key);
    }
  }
  return names;
}

// Every argument vector a container's processes are started with: its command and args, and the exec
// commands of its probes and lifecycle hooks.
std::vector<std::string> ProcessArguments(const Json& container) {
  std::vector<std::string> arguments;
  const auto add = [&](const Json& list) {
    for (const auto& argument : list) arguments.push_back(argument);
  };
  add(container.value("command", Json::array()));
  add(container.value("args", Json::array()));
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    if (container.contains(probe) && container[probe].contains("exec")) add(container[probe]["exec"]["command"]);
  }
  for (const char* hook : {"postStart", "preStop"}) {
    const Json* handler = container.contains("lifecycle") && container["lifecycle"].contains(hook) ? &container["lifecycle"][hook] : nullptr;
    if (handler != nullptr && handler->contains("exec")) add((*handler)["exec"]["command"]);
  }
  return arguments;
}

// Whether `text` (a shell command) expands `$name`, `${name...}` or `$(name)` (the kubelet's form).
bool Expands(const std::string& text, const std::string& name) {
  const std::regex expansion("\\$(\\{|\\()?" + name + "([^A-Za-z0-9_]|$)");
  return std::regex_search(text, expansion);
}

void ExpectNoPasswordOnACommandLine(const std::vector<Child>& children, int expected_containers) {
  const auto secrets = ChildSecrets(children);
  int containers = 0;
  for (const auto& [workload, pod_spec] : PodSpecs(children)) {
    for (const char* list : {"initContainers", "containers"}) {
      for (const auto& container : pod_spec->value(list, Json::array())) {
        ++containers;
        const std::string where = workload + " container " + container["name"].get<std::string>();
        const std::set<std::string> variables = SecretVariables(container, secrets);
        for (const std::string& argument : ProcessArguments(container)) {
          EXPECT_FALSE(IsPasswordMaterial(argument)) << where << " has password material in its arguments: " << argument;
          for (const std::string& variable : variables) {
            EXPECT_FALSE(Expands(argument, variable))
                << where << " puts $" << variable << " (password material) on a command line: " << argument;
          }
        }
      }
    }
  }
  EXPECT_EQ(containers, expected_containers) << "every container was looked at";
}

TEST(LeastPrivilegeTest, NoPasswordOnAnyProcessCommandLine) {
  // The API, PostgreSQL, PgBouncer, Redis, the loader's two, the backup and the warm-up.
  ExpectNoPasswordOnACommandLine(ProductionChildren(), 8);
}

TEST(LeastPrivilegeTest, NoPasswordOnAnyProcessCommandLineWithExternalDatabases) {
  Json object = ProductionObject();
  object["spec"]["postgres"] = {{"managed", false},
                                {"pgbouncer", {{"enabled", true}}},
                                {"backup", {{"enabled", true}}},
                                {"external", {{"host", "db.example.com"}, {"port", 5433}, {"database", "edgar"},
                                              {"sslMode", "require"}, {"credentialsSecretRef", {{"name", "db-creds"}}}}}};
  object["spec"]["redis"] = {{"managed", false},
                             {"external", {{"host", "cache.example.com"}, {"port", 6380},
                                           {"passwordSecretRef", {{"name", "redis-creds"}}}}}};
  ExpectNoPasswordOnACommandLine(ProductionChildren(object), 6);  // no PostgreSQL, no Redis
}

TEST(LeastPrivilegeTest, ThePostgresBootstrapHandsThePasswordOnlyToShellBuiltins) {
  // bootstrap.sh (a ConfigMap, run by sh) reads the password from its environment; a program started
  // with it as an argument would show it in /proc/<pid>/cmdline. printf is a builtin of every sh.
  const auto children = ProductionChildren();
  std::string script;
  for (const auto& child : children) {
    if (child.type->kind == "ConfigMap" && child.object["metadata"]["name"] == "prod-postgres-config") {
      script = child.object["data"]["bootstrap.sh"];
    }
  }
  ASSERT_FALSE(script.empty());
  std::istringstream lines(script);
  int uses = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("$POSTGRES_PASSWORD");
    if (at == std::string::npos || line.starts_with("#")) continue;
    ++uses;
    const auto command = line.rfind("printf ", at);
    EXPECT_NE(command, std::string::npos) << "not a printf argument: " << line;
    if (command != std::string::npos) {
      EXPECT_EQ(line.substr(command, at - command).find_first_of("|;&"), std::string::npos) << line;
    }
  }
  EXPECT_GE(uses, 1) << script;
}


// The pod template labels of the workload whose pods carry app.kubernetes.io/component `component`.
Json PodLabels(const std::vector<Child>& children, const std::string& component) {
  for (const auto& child : children) {
    if (!child.object.contains("spec")) continue;
    const Json& spec = child.object["spec"];
    const Json* pod = child.type->kind == "CronJob" ? &spec["jobTemplate"]["spec"]["template"]
                      : spec.is_object() && spec.contains("template") ? &spec["template"]
                                                                       : nullptr;
    if (pod != nullptr && (*pod)["metadata"]["labels"].value(kComponentLabel, "") == component) return (*pod)["metadata"]["labels"];
  }
  ADD_FAILURE() << "no pods of component " << component;
  return Json::object();
}

bool Selects(const Json& selector, const Json& labels) {
  const Json match = selector.value("matchLabels", Json::object());
  for (const auto& [key, value] : match.items()) {
    if (!labels.contains(key) || labels[key] != value) return false;
  }
  return true;
}

// The specs of the NetworkPolicies that select pods with `labels` and have `type` (Ingress, Egress)
// among their policyTypes: the ones that restrict those pods in that direction.
std::vector<Json> PoliciesOver(const std::vector<Child>& children, const Json& labels, const std::string& type) {
  std::vector<Json> specs;
  for (const auto& child : children) {
    if (child.type->kind != "NetworkPolicy") continue;
    const Json& spec = child.object["spec"];
    const Json types = spec.value("policyTypes", Json::array());
    if (Selects(spec.value("podSelector", Json::object()), labels) && std::find(types.begin(), types.end(), type) != types.end()) {
      specs.push_back(spec);
    }
  }
  return specs;
}

// Where pods with `labels` may connect to, the union of the egress rules of every NetworkPolicy that
// selects them, as "<peer>:<port>/<protocol>"; the peer is the component of a pod selector of the same
// instance, or "*" for any destination. nullopt when no policy restricts their egress.
std::optional<std::set<std::string>> Egress(const std::vector<Child>& children, const Json& labels) {
  const std::vector<Json> policies = PoliciesOver(children, labels, "Egress");
  if (policies.empty()) return std::nullopt;
  std::set<std::string> reach;
  for (const Json& spec : policies) {
    for (const auto& rule : spec.value("egress", Json::array())) {
      std::vector<std::string> peers;
      for (const auto& to : rule.value("to", Json::array())) {
        EXPECT_FALSE(to.contains("namespaceSelector") || to.contains("ipBlock")) << "only this namespace's pods: " << to;
        const Json selector = to.value("podSelector", Json::object()).value("matchLabels", Json::object());
        EXPECT_EQ(selector.value(kInstanceLabel, ""), labels.value(kInstanceLabel, "")) << "another instance's pods: " << to;
        peers.push_back(selector.value(kComponentLabel, "?"));
      }
      if (peers.empty()) peers.push_back("*");
      for (const auto& port : rule.value("ports", Json::array())) {
        for (const auto& peer : peers) reach.insert(peer + ":" + port["port"].dump() + "/" + port.value("protocol", "TCP"));
      }
      EXPECT_TRUE(rule.contains("ports")) << "a rule without ports opens every port: " << rule;
    }
  }
  return reach;
}

// Who may connect to pods with `labels` (any port): the union of the ingress rules, as for Egress.
std::optional<std::set<std::string>> Ingress(const std::vector<Child>& children, const Json& labels) {
  const std::vector<Json> policies = PoliciesOver(children, labels, "Ingress");
  if (policies.empty()) return std::nullopt;
  std::set<std::string> from;
  for (const Json& spec : policies) {
    for (const auto& rule : spec.value("ingress", Json::array())) {
      if (!rule.contains("from")) from.insert("*");
      for (const auto& peer : rule.value("from", Json::array())) {
        from.insert(peer.value("podSelector", Json::object()).value("matchLabels", Json::object()).value(kComponentLabel, "?"));
      }
    }
  }
  return from;
}

const std::set<std::string> kDns = {"*:53/UDP", "*:53/TCP"};

std::set<std::string> DnsAnd(std::set<std::string> more) {
  more.insert(kDns.begin(), kDns.end());
  return more;
}

TEST(LeastPrivilegeTest, EveryPodReachesOnlyWhatItNeeds) {
  const auto children = ProductionChildren();
  const std::map<std::string, std::set<std::string>> expected = {
      // Its databases, by pod selector: PgBouncer, PostgreSQL itself (migrations, health checks), Redis.
      {"api", DnsAnd({"pool:6432/TCP", "database:5432/TCP", "cache:6379/TCP"})},
      {"pool", DnsAnd({"database:5432/TCP"})},
      {"database", {}},
      {"cache", {}},
      {"backup", DnsAnd({"database:5432/TCP"})},
      {"loader", DnsAnd({"database:5432/TCP"})},
      // Through the API Service: the policy sees the API pod and its container port behind it.
      {"warmup", DnsAnd({"api:8000/TCP"})}};
  for (const auto& [component, reach] : expected) {
    const auto egress = Egress(children, PodLabels(children, component));
    ASSERT_TRUE(egress.has_value()) << "no NetworkPolicy restricts the egress of the " << component << " pods";
    EXPECT_EQ(*egress, reach) << component;
  }
}

TEST(LeastPrivilegeTest, NothingConnectsToTheJobs) {
  const auto children = ProductionChildren();
  for (const char* component : {"backup", "loader", "warmup"}) {
    const auto ingress = Ingress(children, PodLabels(children, component));
    ASSERT_TRUE(ingress.has_value()) << "the " << component << " pods accept connections from anywhere";
    EXPECT_TRUE(ingress->empty()) << component;
  }
  EXPECT_EQ(Ingress(children, PodLabels(children, "database")), (std::set<std::string>{"pool", "api", "backup", "loader"}));
  // An empty list would be dropped by the API server when it stores the policy: drift forever.
  for (const auto& child : children) {
    if (child.type->kind != "NetworkPolicy") continue;
    for (const char* rules : {"ingress", "egress"}) {
      const Json& spec = child.object["spec"];
      EXPECT_TRUE(!spec.contains(rules) || !spec[rules].empty()) << child.object["metadata"]["name"] << " has an empty " << rules;
    }
  }
}

TEST(LeastPrivilegeTest, ExternalDatabasesAreReachedOnTheirPortsOnly) {
  // A host name outside the cluster has no pod selector, and an ipBlock would need its address: the
  // port is what a policy can hold it to.
  Json object = ProductionObject();
  object["spec"]["postgres"] = {{"managed", false},
                                {"pgbouncer", {{"enabled", true}}},
                                {"external", {{"host", "db.example.com"}, {"port", 5433}, {"database", "edgar"},
                                              {"sslMode", "require"}, {"credentialsSecretRef", {{"name", "db-creds"}}}}}};
  object["spec"]["redis"] = {{"managed", false}, {"external", {{"host", "cache.example.com"}, {"port", 6380}}}};
  const auto children = ProductionChildren(object);
  EXPECT_EQ(Egress(children, PodLabels(children, "api")), DnsAnd({"pool:6432/TCP", "*:5433/TCP", "*:6380/TCP"}));
  EXPECT_EQ(Egress(children, PodLabels(children, "pool")), DnsAnd({"*:5433/TCP"}));
  EXPECT_EQ(Egress(children, PodLabels(children, "loader")), DnsAnd({"*:5433/TCP"}));
}


TEST(LeastPrivilegeTest, ASecretReferenceIsASecretNameOfTheFinancialApisNamespace) {
  // The operator GETs /api/v1/namespaces/<its namespace>/secrets/<name>: a name with '/' or '..' would
  // be another path, another namespace's Secret among them.
  const std::vector<std::pair<const char*, const char*>> references = {
      {"/spec/api/apiKeysSecretRef/name", "spec.api.apiKeysSecretRef.name"},
      {"/spec/postgres/external/credentialsSecretRef/name", "spec.postgres.external.credentialsSecretRef.name"},
      {"/spec/redis/external/passwordSecretRef/name", "spec.redis.external.passwordSecretRef.name"}};
  Json object = ProductionObject();
  object["spec"]["postgres"] = {{"managed", false},
                                {"external", {{"host", "db.example.com"}, {"port", 5433}, {"database", "edgar"},
                                              {"credentialsSecretRef", {{"name", "db-creds"}}}}}};
  object["spec"]["redis"] = {{"managed", false},
                             {"external", {{"host", "cache.example.com"}, {"passwordSecretRef", {{"name", "redis-creds"}}}}}};
  ASSERT_TRUE(ParseFinancialApi(object).ok());
  for (const auto& [pointer, field] : references) {
    for (const char* name : {"../../kube-system/secrets/admin", "other/x", "..", "a..b", "Upper", "-x", "x."}) {
      Json bad = object;
      bad[Json::json_pointer(pointer)] = name;
      auto parsed = ParseFinancialApi(bad);
      ASSERT_FALSE(parsed.ok()) << field << " = " << name;
      EXPECT_NE(parsed.status().message().find(field), std::string::npos) << parsed.status();
    }
    Json good = object;
    good[Json::json_pointer(pointer)] = "team-a.db-creds.v2";
    EXPECT_TRUE(ParseFinancialApi(good).ok()) << field;
  }
}

TEST(LeastPrivilegeTest, OnlyTheKeysEntryOfTheApiKeysSecretIsMounted) {
  const auto children = ProductionChildren();
  int mounts = 0;
  for (const auto& [workload, pod_spec] : PodSpecs(children)) {
    for (const auto& volume : pod_spec->value("volumes", Json::array())) {
      if (!volume.contains("secret") || volume["secret"]["secretName"] != "prod-api-keys") continue;
      ++mounts;
      EXPECT_EQ(volume["secret"].value("items", Json()), Json::parse(R"([{"key": "keys", "path": "keys"}])")) << workload;
    }
  }
  EXPECT_EQ(mounts, 2) << "the API and the warm-up";
}

}  // namespace
}  // namespace financialapi::platform
