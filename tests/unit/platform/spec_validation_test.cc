// What a FinancialApi may be called and which PostgreSQL parameters it may set: the CRD refuses them at
// the API server, and ParseFinancialApi refuses them again (objects stored before the CRD said so).
#include <algorithm>
#include <regex>

#include <gtest/gtest.h>

#include "financialapi/platform/builders.h"
#include "support/yaml_json.h"

namespace financialapi::platform {
namespace {

Json Crd() { return testing::LoadYamlFile(testing::SourcePath("crds/edgartools.io_financialapis.yaml")).at(0); }

Json CrdSchema() { return Crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

// The production example (PgBouncer, backups, warm-up, the loader, network policies, autoscaling, the
// disruption budget) under `name`, with the monitoring CRDs present: every kind of child there is.
Json ProductionNamed(const std::string& name) {
  Json object = testing::LoadYamlFile(testing::SourcePath("examples/financialapi.yaml")).at(0);
  object["metadata"]["name"] = name;
  object["metadata"]["namespace"] = "finance";
  object["metadata"]["uid"] = "11111111-2222-3333-4444-555555555555";
  return object;
}

Inputs AllInputs() {
  return {.postgres_password = "pg", .postgres_user = "financial", .redis_password = "redis",
          .service_monitor_crd = true, .prometheus_rule_crd = true};
}

// A DNS-1035 name of `length` characters.
std::string NameOfLength(std::size_t length) { return "n" + std::string(length - 1, 'x'); }

bool Matches(const std::string& text, const char* pattern) { return std::regex_match(text, std::regex(pattern)); }

bool IsLabelValue(const std::string& value) {
  return value.size() <= 63 && Matches(value, "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
}

// Every label (metadata.labels, selectors' matchLabels, pod templates' and claim templates' labels) in `value`.
void CollectLabels(const Json& value, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, inner] : value.items()) {
      if ((key == "labels" || key == "matchLabels" || key == "selector") && inner.is_object()) {
        for (const auto& [label, text] : inner.items()) {
          if (text.is_string()) out.push_back(label + "=" + text.get<std::string>());
        }
      }
      CollectLabels(inner, out);
    }
  } else if (value.is_array()) {
    for (const auto& inner : value) CollectLabels(inner, out);
  }
}

// What the API server (and the controllers that name objects after the child) would refuse about the
// child's name, "" when nothing.
std::string NameProblem(const Child& child) {
  const std::string kind = child.type->kind;
  const std::string name = child.object["metadata"]["name"];
  const std::string id = kind + "/" + name + " (" + std::to_string(name.size()) + " characters): ";
  if (name.size() > 253 || !Matches(name, "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")) return id + "not a DNS-1123 subdomain";
  if (kind == "Service" && (name.size() > 63 || !Matches(name, "^[a-z]([-a-z0-9]*[a-z0-9])?$"))) {
    return id + "a Service name must be a DNS-1035 label (at most 63)";
  }
  // The StatefulSet controller labels each pod controller-revision-hash=<name>-<hash of up to 10
  // characters>, and a label value may have at most 63: longer, and the pods are never created.
  if (kind == "StatefulSet" && name.size() + 1 + 10 > 63) return id + "the pods' controller-revision-hash label would pass 63";
  // The CronJob controller names its Jobs <name>-<11 digits>.
  if (kind == "CronJob" && name.size() > 52) return id + "a CronJob name may have at most 52";
  // The Job controller labels its pods job-name=<name>.
  if (kind == "Job" && name.size() > 63) return id + "the pods' job-name label would pass 63";
  std::vector<std::string> labels;
  CollectLabels(child.object, labels);
  for (const std::string& label : labels) {
    if (!IsLabelValue(label.substr(label.find('=') + 1))) return id + "label " + label + " is not a valid label value";
  }
  return "";
}

std::vector<std::string> NameProblems(const std::string& name) {
  // Parsed under a short name and renamed after, so that names ParseFinancialApi refuses are built too.
  auto parsed = ParseFinancialApi(ProductionNamed("prod"));
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  FinancialApi api = parsed.ok() ? *parsed : FinancialApi{};
  api.name = name;
  // Every optional child, whatever the example chooses.
  api.spec.cache_warmup.enabled = true;
  api.spec.postgres.pgbouncer.enabled = true;
  api.spec.postgres.backup.enabled = true;
  api.spec.data.load = true;
  api.spec.network_policy = true;
  api.spec.autoscaling.enabled = true;
  api.spec.pdb_enabled = true;
  std::vector<std::string> problems;
  for (const Child& child : BuildChildren(api, AllInputs())) {
    if (std::string problem = NameProblem(child); !problem.empty()) problems.push_back(problem);
  }
  return problems;
}

TEST(NamesTest, EveryChildNameIsValidAtTheLongestNameTheCrdAccepts) {
  // A child with a longer suffix than the builders have now makes this fail: lower the limit (the CRD,
  // kMaxNameLength) with it.
  EXPECT_EQ(NameProblems(NameOfLength(kMaxNameLength)), std::vector<std::string>{});
}

TEST(NamesTest, OneCharacterMoreMakesAChildInvalidSoTheLimitIsNoLowerThanItMustBe) {
  EXPECT_NE(NameProblems(NameOfLength(kMaxNameLength + 1)), std::vector<std::string>{});
}

TEST(NamesTest, TheCrdRefusesLongerNamesAndNamesThatAreNotDns1035Labels) {
  std::string rules;
  for (const auto& validation : CrdSchema().value("x-kubernetes-validations", Json::array())) {
    rules += validation.value("rule", "") + "\n";
  }
  EXPECT_NE(rules.find("self.metadata.name.size() <= " + std::to_string(kMaxNameLength) + "\n"), std::string::npos)
      << "root rules of the CRD:\n" << rules;
  EXPECT_NE(rules.find("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')"), std::string::npos)
      << "root rules of the CRD:\n" << rules;
}

TEST(NamesTest, TheOperatorRefusesWhatTheCrdWouldHave) {
  for (const std::string& name : {NameOfLength(kMaxNameLength + 1), std::string("web.prod"), std::string("1prod"),
                                  std::string("prod-")}) {
    auto parsed = ParseFinancialApi(ProductionNamed(name));
    ASSERT_FALSE(parsed.ok()) << name << " was accepted";
    EXPECT_EQ(parsed.status().reason(), kReasonInvalidName) << parsed.status();
    EXPECT_NE(parsed.status().message().find("metadata.name '" + name + "'"), std::string::npos) << parsed.status();
  }
  auto too_long = ParseFinancialApi(ProductionNamed(NameOfLength(kMaxNameLength + 1)));
  EXPECT_NE(too_long.status().message().find("at most " + std::to_string(kMaxNameLength)), std::string::npos) << too_long.status();
  EXPECT_TRUE(ParseFinancialApi(ProductionNamed(NameOfLength(kMaxNameLength))).ok());
}

// The keys listed in the CRD rule that refuses keys of spec.postgres.parameters.
std::vector<std::string> CrdRefusedParameters() {
  const Json& validations = CrdSchema()["properties"]["spec"]["properties"]["postgres"]["properties"]["parameters"]
                                .value("x-kubernetes-validations", Json::array());
  std::vector<std::string> keys;
  for (const auto& validation : validations) {
    const std::string rule = validation.value("rule", "");
    if (rule.find(" in [") == std::string::npos) continue;
    const std::regex quoted("'([a-z_]+)'");
    for (auto it = std::sregex_iterator(rule.begin(), rule.end(), quoted); it != std::sregex_iterator(); ++it) {
      keys.push_back((*it)[1]);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

StatusOr<FinancialApi> WithParameters(const Json& parameters) {
  Json object = ProductionNamed("prod");
  object["spec"]["postgres"]["parameters"] = parameters;
  return ParseFinancialApi(object);
}

TEST(PostgresParametersTest, TheCrdAndTheOperatorRefuseTheSameParameters) {
  std::vector<std::string> operator_list = RefusedPostgresParameters();
  std::sort(operator_list.begin(), operator_list.end());
  EXPECT_EQ(CrdRefusedParameters(), operator_list);
  for (const char* key : {"archive_command", "shared_preload_libraries", "include", "listen_addresses", "port",
                          "unix_socket_directories", "hba_file", "ssl_passphrase_command"}) {
    EXPECT_NE(std::find(operator_list.begin(), operator_list.end(), key), operator_list.end()) << key;
  }
}

TEST(PostgresParametersTest, ParametersThatRunCommandsOrLoadFilesAreRefusedNamingTheKey) {
  const std::vector<std::string> refused = CrdRefusedParameters();
  ASSERT_FALSE(refused.empty()) << "no list of refused parameters in the CRD";
  for (const std::string& key : refused) {
    auto parsed = WithParameters({{"work_mem", "8MB"}, {key, "/bin/true"}});
    ASSERT_FALSE(parsed.ok()) << key << " was accepted";
    EXPECT_EQ(parsed.status().reason(), kReasonRefusedPostgresParameter) << parsed.status();
    EXPECT_NE(parsed.status().message().find("spec.postgres.parameters." + key + ":"), std::string::npos) << parsed.status();
  }
}

TEST(PostgresParametersTest, KeysThatAreNotLowercaseParameterNamesAreRefused) {
  // PostgreSQL reads parameter names case-insensitively: ARCHIVE_COMMAND would be archive_command.
  for (const char* key : {"ARCHIVE_COMMAND", "Work_mem", "work_mem = '1MB'\narchive_command", "9lives", ".x", "a-b", ""}) {
    auto parsed = WithParameters({{key, "1"}});
    ASSERT_FALSE(parsed.ok()) << "key '" << key << "' was accepted";
    EXPECT_EQ(parsed.status().reason(), kReasonRefusedPostgresParameter) << parsed.status();
  }
}

TEST(PostgresParametersTest, ValuesThatWouldEndTheQuotedValueAreRefused) {
  for (const std::string& value : {std::string("8MB'\narchive_command = 'sh -c id"), std::string("1\n"), std::string("a'b"),
                                  std::string("a\\'b"), std::string("a\rb"), std::string("a\0b", 3), std::string("\x7f")}) {
    auto parsed = WithParameters({{"work_mem", value}});
    ASSERT_FALSE(parsed.ok()) << "value '" << value << "' was accepted";
    EXPECT_EQ(parsed.status().reason(), kReasonRefusedPostgresParameter) << parsed.status();
    EXPECT_NE(parsed.status().message().find("spec.postgres.parameters.work_mem:"), std::string::npos) << parsed.status();
  }
}

TEST(PostgresParametersTest, OrdinarySettingsAreAccepted) {
  auto parsed = WithParameters({{"work_mem", "8MB"}, {"search_path", "\"$user\", public"},
                                {"auto_explain.log_min_duration", "250ms"}, {"log_line_prefix", "%m [%p] %q%u@%d "},
                                {"_custom", ""}});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(PostgresSettings(*parsed).at("search_path"), "\"$user\", public");
}

// An external PostgreSQL's database name is also a key of pgbouncer.ini's [databases] and its host a
// value there: what PgBouncer cannot read is refused before a child is built (fuzz finding, see
// docs/fuzzing.md), at the CRD and again by the operator.
StatusOr<FinancialApi> WithExternalPostgres(const std::string& host, const std::string& database) {
  Json object = ProductionNamed("prod");
  object["spec"]["postgres"]["managed"] = false;
  object["spec"]["postgres"]["external"] = {{"host", host}, {"database", database}, {"credentialsSecretRef", {{"name", "pg"}}}};
  return ParseFinancialApi(object);
}

TEST(ExternalPostgresTest, DatabaseNamesPgBouncerCannotReadAndEmptyHostsAreRefused) {
  const Json schema = CrdSchema()["properties"]["spec"]["properties"]["postgres"]["properties"]["external"]["properties"];
  const std::string pattern = schema["database"].value("pattern", ".*");
  const std::size_t max_length = schema["database"].value("maxLength", std::size_t{1} << 20);
  for (const std::string& database : {std::string("fi{n"), std::string("a b"), std::string("a=b"), std::string("*"),
                                      std::string(""), std::string(64, 'd')}) {
    auto parsed = WithExternalPostgres("db.example", database);
    ASSERT_FALSE(parsed.ok()) << "database '" << database << "' was accepted";
    EXPECT_NE(parsed.status().message().find("spec.postgres.external.database"), std::string::npos) << parsed.status();
    EXPECT_FALSE(Matches(database, pattern.c_str()) && database.size() <= max_length)
        << "the CRD accepts database '" << database << "'";
  }
  auto empty_host = WithExternalPostgres("", "financial");
  ASSERT_FALSE(empty_host.ok()) << "an empty host was accepted";
  EXPECT_NE(empty_host.status().message().find("spec.postgres.external.host"), std::string::npos) << empty_host.status();
  for (const std::string database : {"financial", "Fin_2024", "sec-data", "edgar.prod"}) {
    auto parsed = WithExternalPostgres("db.example", database);
    EXPECT_TRUE(parsed.ok()) << database << ": " << parsed.status();
    EXPECT_TRUE(Matches(database, pattern.c_str())) << "the CRD refuses database '" << database << "'";
  }
}

// spec.monitoring.slo.availability is a string the CRD's pattern checks; one stored before (or past) it
// reached std::stod when the PrometheusRule was built (found by the spec_children fuzz target: "~9.9"
// threw std::invalid_argument out of BuildChildren).
TEST(MonitoringTest, AnAvailabilityThatIsNotAPercentIsAnErrorNamingTheField) {
  for (const std::string availability : {"~9.9", "", "99.9x", "abc", "1e400", "89.9", "100.5", "nan"}) {
    Json object = ProductionNamed("prod");
    object["spec"]["monitoring"]["slo"]["availability"] = availability;
    StatusOr<FinancialApi> parsed = InvalidArgument("not parsed");
    EXPECT_NO_THROW(parsed = ParseFinancialApi(object)) << availability;
    ASSERT_FALSE(parsed.ok()) << "availability '" << availability << "' was accepted";
    EXPECT_NE(parsed.status().message().find("spec.monitoring.slo.availability"), std::string::npos) << parsed.status();
  }
  for (const std::string availability : {"99.9", "90", "100", "99.95"}) {
    Json object = ProductionNamed("prod");
    object["spec"]["monitoring"]["slo"]["availability"] = availability;
    auto parsed = ParseFinancialApi(object);
    ASSERT_TRUE(parsed.ok()) << availability << ": " << parsed.status();
    EXPECT_NO_THROW((void)BuildChildren(*parsed, AllInputs())) << availability;
  }
}

// An external PostgreSQL's username and password come from a Secret the user edits; a line break
// there would add a line to PgBouncer's userlist.txt (spec_children fuzz finding: username "u\name").
TEST(CredentialsTest, LineBreaksAndNulInCredentialsAreRefusedNamingThem) {
  for (const std::string& value : {std::string("u\name"), std::string("pw\r"), std::string("a\0b", 3)}) {
    const Status checked = CheckCredential(value, "Secret n/pg key 'username'");
    EXPECT_FALSE(checked.ok()) << value;
    EXPECT_NE(checked.message().find("Secret n/pg key 'username'"), std::string::npos) << checked;
  }
  EXPECT_TRUE(CheckCredential("p\"w'd with spaces", "password").ok());
}

}  // namespace
}  // namespace financialapi::platform
