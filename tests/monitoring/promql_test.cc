// Every PromQL expression of the monitoring artifacts against what the code exports:
//   - the per-FinancialApi alerts, taken from platform::BuildChildren (what the operator applies),
//   - monitoring/prometheus/operator-rules.yaml,
//   - every panel query and variable query of monitoring/grafana/*.json.
// Each must parse (promtool check rules on a file holding each as a recording rule), and every metric
// and label matcher it uses must be one the programs export: the API server's names are scraped from
// the real financial-api-server binary, the operator's from runtime::RuntimeMetrics (the registry the
// operator serves on /metrics, which needs a cluster to start); kube-state-metrics' few names come from
// an explicit list. Both sets are cross-checked against the .Name("...") registrations in the sources,
// so a metric added there without showing up here fails too.
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "financialapi/common/file.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/spec.h"
#include "financialapi/runtime/metrics.h"
#include "support/child_process.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::testing {
namespace {

using Json = nlohmann::json;

// --- PromQL: the vector selectors of an expression ----------------------------------------------------

struct Selector {
  std::string metric;
  std::vector<std::string> labels;  // label names of its matchers
};

bool IdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// A small PromQL scanner, enough to find vector selectors: strings, comments, durations/subqueries in
// brackets, numbers, keywords, grouping label lists, function and aggregation names are skipped;
// whatever identifier remains is a metric name. (promtool, below, is what says the syntax is right.)
class SelectorScanner {
 public:
  explicit SelectorScanner(std::string_view expr) : s_(expr) {}

  std::vector<Selector> Scan() {
    std::vector<Selector> out;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (c == '"' || c == '\'' || c == '`') {
        SkipString();
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '[') {
        while (i_ < s_.size() && s_[i_] != ']') ++i_;
        ++i_;
      } else if (c == '{') {
        // A selector without a metric name before the braces: {__name__="..."}.
        Selector selector;
        for (const auto& [name, value] : Matchers()) {
          selector.labels.push_back(name);
          if (name == "__name__") selector.metric = value;
        }
        out.push_back(std::move(selector));
      } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
        while (i_ < s_.size() && (IdentChar(s_[i_]) || s_[i_] == '.')) ++i_;  // 0.95, 1e3, 5m, 0x1f
      } else if (IdentStart(c)) {
        const std::size_t start = i_;
        while (i_ < s_.size() && IdentChar(s_[i_])) ++i_;
        const std::string word(s_.substr(start, i_ - start));
        const std::string lower = Lower(word);
        static const std::set<std::string> grouping = {"by", "without", "on", "ignoring", "group_left", "group_right"};
        static const std::set<std::string> keywords = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"};
        static const std::set<std::string> aggregations = {"sum", "min", "max", "avg", "group", "stddev", "stdvar",
                                                           "count", "count_values", "bottomk", "topk", "quantile"};
        if (grouping.contains(lower)) {
          SkipSpace();
          if (Peek() == '(') {
            while (i_ < s_.size() && s_[i_] != ')') ++i_;
            ++i_;
          }
          continue;
        }
        if (keywords.contains(lower) || aggregations.contains(lower)) continue;
        SkipSpace();
        if (Peek() == '(') continue;  // a function
        Selector selector{.metric = word};
        if (Peek() == '{') {
          for (const auto& [name, value] : Matchers()) selector.labels.push_back(name);
        }
        out.push_back(std::move(selector));
      } else {
        ++i_;
      }
    }
    return out;
  }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  std::string SkipString() {
    const char quote = s_[i_++];
    std::string value;
    while (i_ < s_.size() && s_[i_] != quote) {
      if (s_[i_] == '\\' && quote != '`' && i_ + 1 < s_.size()) ++i_;
      value += s_[i_++];
    }
    ++i_;
    return value;
  }
  // At '{': the label matchers up to the closing '}' as (name, value).
  std::vector<std::pair<std::string, std::string>> Matchers() {
    std::vector<std::pair<std::string, std::string>> matchers;
    ++i_;
    while (i_ < s_.size()) {
      SkipSpace();
      if (Peek() == '}') {
        ++i_;
        break;
      }
      if (Peek() == ',') {
        ++i_;
        continue;
      }
      const std::size_t start = i_;
      while (i_ < s_.size() && IdentChar(s_[i_])) ++i_;
      std::string name(s_.substr(start, i_ - start));
      SkipSpace();
      while (i_ < s_.size() && (s_[i_] == '=' || s_[i_] == '!' || s_[i_] == '~')) ++i_;
      SkipSpace();
      if (Peek() != '"' && Peek() != '\'' && Peek() != '`') {
        ADD_FAILURE() << "cannot read the label matchers of: " << s_;
        i_ = s_.size();
        break;
      }
      std::string value = SkipString();
      matchers.emplace_back(std::move(name), std::move(value));
    }
    return matchers;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::vector<Selector> Selectors(const std::string& expr) { return SelectorScanner(expr).Scan(); }

// --- the expressions ----------------------------------------------------------------------------------

struct Expression {
  std::string source;  // where it comes from, for failure messages
  std::string expr;    // PromQL, Grafana variables replaced
};

// Grafana's variables as PromQL can parse them: intervals become a duration, others a plain word
// (they appear inside label matcher strings).
std::string SubstituteGrafanaVariables(std::string expr) {
  static const std::regex interval(R"(\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?)");
  static const std::regex variable(R"(\$\{\w+(:\w+)?\}|\$\w+|\[\[\w+\]\])");
  expr = std::regex_replace(expr, interval, "5m");
  return std::regex_replace(expr, variable, "grafana_variable");
}

Json LoadExample(const std::string& file) {
  Json object = LoadYamlFile(SourcePath("examples/" + file)).at(0);
  object["metadata"]["namespace"] = "finance";
  object["metadata"]["uid"] = "11111111-2222-3333-4444-555555555555";
  return object;
}

// The rule groups the operator renders for an example FinancialApi.
Json PlatformRuleGroups(const std::string& example) {
  auto api = platform::ParseFinancialApi(LoadExample(example));
  EXPECT_TRUE(api.ok()) << api.status();
  if (!api.ok()) return Json::array();
  const platform::Inputs inputs{.postgres_password = "x", .postgres_user = "x", .redis_password = "x",
                                .service_monitor_crd = true, .prometheus_rule_crd = true};
  for (const auto& child : platform::BuildChildren(*api, inputs)) {
    if (child.object["kind"] == "PrometheusRule") return child.object["spec"]["groups"];
  }
  ADD_FAILURE() << example << " renders no PrometheusRule";
  return Json::array();
}

Json OperatorRuleGroups() {
  return LoadYamlFile(SourcePath("monitoring/prometheus/operator-rules.yaml")).at(0).at("groups");
}

void AddRuleExpressions(const std::string& file, const Json& groups, std::vector<Expression>& out) {
  for (const auto& group : groups) {
    for (const auto& rule : group["rules"]) {
      const std::string name = rule.contains("alert") ? rule["alert"].get<std::string>() : rule.value("record", "?");
      const Json& expr = rule["expr"];
      out.push_back({file + ", rule " + name, expr.is_string() ? expr.get<std::string>() : expr.dump()});
    }
  }
}

Json LoadDashboard(const std::string& file) {
  auto text = ReadFile(SourcePath("monitoring/grafana/" + file));
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? Json::parse(*text) : Json::object();
}

std::vector<Json> Panels(const Json& dashboard) {
  std::vector<Json> panels;
  for (const auto& panel : dashboard.value("panels", Json::array())) {
    panels.push_back(panel);
    for (const auto& inner : panel.value("panels", Json::array())) panels.push_back(inner);  // collapsed rows
  }
  return panels;
}

void AddDashboardExpressions(const std::string& file, std::vector<Expression>& out) {
  const Json dashboard = LoadDashboard(file);
  const std::string where = "monitoring/grafana/" + file;
  for (const auto& panel : Panels(dashboard)) {
    for (const auto& target : panel.value("targets", Json::array())) {
      if (!target.contains("expr")) continue;
      out.push_back({where + ", panel \"" + panel.value("title", "") + "\" " + target.value("refId", ""),
                     SubstituteGrafanaVariables(target["expr"].get<std::string>())});
    }
  }
  // Variable queries: label_values(<selector>, label) and query_result(<expr>) hold PromQL.
  for (const auto& variable : dashboard["templating"].value("list", Json::array())) {
    if (variable.value("type", "") != "query") continue;
    const Json& query = variable["query"];
    const std::string text = query.is_string() ? query.get<std::string>() : query.value("query", "");
    static const std::regex label_values(R"(^\s*label_values\((.*),\s*\w+\s*\)\s*$)");
    static const std::regex query_result(R"(^\s*query_result\((.*)\)\s*$)");
    std::smatch match;
    if (std::regex_match(text, match, label_values) || std::regex_match(text, match, query_result)) {
      out.push_back({where + ", variable $" + variable.value("name", ""), SubstituteGrafanaVariables(match[1].str())});
    } else {
      ADD_FAILURE() << where << ": variable $" << variable.value("name", "") << " has a query this test cannot read: " << text;
    }
  }
}

std::vector<Expression> AllExpressions() {
  std::vector<Expression> out;
  for (const std::string example : {"financialapi.yaml", "financialapi-minimal.yaml"}) {
    AddRuleExpressions("PrometheusRule of examples/" + example, PlatformRuleGroups(example), out);
  }
  AddRuleExpressions("monitoring/prometheus/operator-rules.yaml", OperatorRuleGroups(), out);
  AddDashboardExpressions("financialapi.json", out);
  AddDashboardExpressions("operator.json", out);
  return out;
}

// --- what the programs export -------------------------------------------------------------------------

// Metric name -> label names, from Prometheus text exposition.
using Exported = std::map<std::string, std::set<std::string>>;

Exported ParseExposition(const std::string& text) {
  Exported out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t i = 0;
    while (i < line.size() && IdentChar(line[i])) ++i;
    std::set<std::string>& labels = out[line.substr(0, i)];
    if (i >= line.size() || line[i] != '{') continue;
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t start = i;
      while (i < line.size() && line[i] != '=') ++i;
      labels.insert(line.substr(start, i - start));
      i += 2;  // ="
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2U : 1U;
      ++i;  // closing quote
      if (i < line.size() && line[i] == ',') ++i;
    }
  }
  return out;
}

// The names registered with .Name("...") in a source file.
std::set<std::string> RegisteredNames(const std::string& relative) {
  auto text = ReadFile(SourcePath(relative));
  EXPECT_TRUE(text.ok()) << text.status();
  std::set<std::string> names;
  static const std::regex name(R"re(\.Name\("([a-zA-Z_:][a-zA-Z0-9_:]*)"\))re");
  const std::string source = text.value_or("");
  for (auto it = std::sregex_iterator(source.begin(), source.end(), name); it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

// Families present in an exposition: counters and gauges by name, histograms by name_bucket/_sum/_count.
std::set<std::string> Families(const Exported& exported) {
  std::set<std::string> families;
  for (const auto& [name, labels] : exported) {
    families.insert(name);
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix)) families.insert(name.substr(0, name.size() - suffix.size()));
    }
  }
  return families;
}

// The operator's registry with every series created (prometheus-cpp only serializes families that
// have at least one series).
std::string OperatorExposition() {
  runtime::RuntimeMetrics metrics;
  metrics.ReconcileFinished("financialapi", "success", 0.01);
  metrics.ReconcileFinished("financialapi", "error", 0.02);
  metrics.SetWorkers("financialapi", 1, 2);
  metrics.SetLeader("financialapi-operator-leader", true);
  metrics.RecordClientRequest({.verb = "GET", .code = "200", .latency = std::chrono::milliseconds(3)});
  auto queue = metrics.MakeQueueObserver("financialapi");
  queue->OnAdd();
  queue->OnRetry();
  queue->OnDepth(1);
  queue->OnQueued(std::chrono::milliseconds(1));
  queue->OnWorked(std::chrono::milliseconds(2));
  return metrics.Serialize();
}

// Starts financial-api-server with PostgreSQL and Redis URLs nobody answers on (it serves anyway:
// /health 200, /ready and data endpoints 503), sends a few requests so the per-request series exist,
// and returns its /metrics.
std::string ApiServerExposition() {
  const int port = FreePort();
  ChildProcess server("/usr/bin/env",
                      {"DATABASE_URL=postgresql://monitoring@127.0.0.1:1/none?connect_timeout=1",
                       "REDIS_URL=redis://127.0.0.1:1/0", "PORT=" + std::to_string(port), "WORKER_THREADS=2",
                       "LOG_LEVEL=warn", API_SERVER_PATH, "serve"},
                      "monitoring-api-server");
  const bool up = WaitFor([&] { return HttpGet(port, "/health").first == 200; }, std::chrono::seconds(20),
                          std::chrono::milliseconds(100));
  EXPECT_TRUE(up) << "financial-api-server did not answer /health; its log:\n" << server.Log();
  if (!up) return "";
  EXPECT_EQ(HttpGet(port, "/ready").first, 503) << "PostgreSQL is unreachable: not ready";
  EXPECT_EQ(HttpGet(port, "/v1/companies/AAPL").first, 503);
  EXPECT_EQ(HttpGet(port, "/no/such/path").first, 404);
  const auto [status, body] = HttpGet(port, "/metrics");
  EXPECT_EQ(status, 200) << body;
  return body;
}

// kube-state-metrics (v2) series the dashboards read, with their labels; and Prometheus' own `up`.
const Exported& ExternalMetrics() {
  static const Exported external = {
      {"up", {}},
      {"kube_deployment_status_replicas", {"namespace", "deployment"}},
      {"kube_deployment_status_replicas_available", {"namespace", "deployment"}},
      {"kube_deployment_spec_replicas", {"namespace", "deployment"}},
      {"kube_horizontalpodautoscaler_spec_max_replicas", {"namespace", "horizontalpodautoscaler"}},
      {"kube_horizontalpodautoscaler_spec_min_replicas", {"namespace", "horizontalpodautoscaler"}},
      {"kube_horizontalpodautoscaler_status_desired_replicas", {"namespace", "horizontalpodautoscaler"}},
      {"kube_horizontalpodautoscaler_status_current_replicas", {"namespace", "horizontalpodautoscaler"}},
  };
  return external;
}

// Labels Prometheus attaches to every scraped series (the Prometheus Operator's target labels).
const std::set<std::string>& TargetLabels() {
  static const std::set<std::string> labels = {"job", "instance", "namespace", "pod", "service", "container", "endpoint"};
  return labels;
}

// --- running promtool ---------------------------------------------------------------------------------

std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string Promtool() {
  const auto [code, path] = RunCommand("command -v promtool");
  std::string trimmed = path.substr(0, path.find('\n'));
  return code == 0 ? trimmed : "";
}

// --- tests --------------------------------------------------------------------------------------------

TEST(SelectorScannerTest, FindsMetricsAndMatchersOnly) {
  const auto selectors = Selectors(
      R"promql(histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job="x", route=~"/v1/{id}"}[5m:1m] offset 1h)))
         / on (instance) group_left (pod) b unless ignoring(le) count without (c) (c:recorded{d!~'a"b'})
         > bool 1e3 and {__name__="d", e="f"} # trailing comment with_a_word
         or label_replace(vector(1), "dst", "$1", "src", "(.*)") or sum(Inf) or topk(3, e) or atan2 NaN)promql");
  std::vector<std::string> metrics;
  for (const auto& s : selectors) metrics.push_back(s.metric);
  EXPECT_EQ(metrics, (std::vector<std::string>{"a_bucket", "b", "c:recorded", "d", "e"}));
  EXPECT_EQ(selectors[0].labels, (std::vector<std::string>{"job", "route"}));
  EXPECT_EQ(selectors[2].labels, (std::vector<std::string>{"d"}));
  EXPECT_EQ(selectors[3].labels, (std::vector<std::string>{"__name__", "e"}));
  EXPECT_EQ(SubstituteGrafanaVariables(R"(rate(x{a="$namespace",b=~"${instance:regex}"}[$__rate_interval]))"),
            R"(rate(x{a="grafana_variable",b=~"grafana_variable"}[5m]))");
}

TEST(ExportedMetricsTest, ApiServerBinaryServesEveryRegisteredFamily) {
  const Exported exported = ParseExposition(ApiServerExposition());
  const std::set<std::string> families = Families(exported);
  for (const auto& name : RegisteredNames("api-server/service/src/metrics.cc")) {
    EXPECT_TRUE(families.contains(name)) << name << " is registered in api-server/service/src/metrics.cc but the "
                                         << "scrape has no series of it: make ApiServerExposition() create one";
  }
  EXPECT_GE(families.size(), 10U);
}

TEST(ExportedMetricsTest, OperatorRegistryExportsEveryRegisteredFamily) {
  const std::set<std::string> families = Families(ParseExposition(OperatorExposition()));
  for (const auto& name : RegisteredNames("operator/runtime/src/metrics.cc")) {
    EXPECT_TRUE(families.contains(name)) << name << " is registered in operator/runtime/src/metrics.cc but "
                                         << "OperatorExposition() does not create a series of it";
  }
  EXPECT_GE(families.size(), 13U);
}

TEST(PromQlTest, EveryExpressionParses) {
  const std::string promtool = Promtool();
  ASSERT_FALSE(promtool.empty()) << "promtool is not on PATH (make deps installs the Debian package prometheus)";
  const auto expressions = AllExpressions();
  ASSERT_GE(expressions.size(), 50U) << "fewer expressions than the artifacts hold: is the extraction broken?";
  // One group per expression, so promtool's error names which one failed.
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
  std::ostringstream index;
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    const std::string group = "expr-" + std::to_string(i);
    index << group << ": " << expressions[i].source << "\n";
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << group << YAML::Key << "rules" << YAML::Value
        << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "record" << YAML::Value
        << "monitoring_check:expr_" + std::to_string(i)
        << YAML::Key << "expr" << YAML::Value << YAML::DoubleQuoted << expressions[i].expr << YAML::EndMap
        << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  const auto path = std::filesystem::temp_directory_path() / (UniqueName("promql-check") + ".yaml");
  std::ofstream(path) << out.c_str() << "\n";
  const auto [code, output] = RunCommand(promtool + " check rules " + path.string());
  EXPECT_EQ(code, 0) << output << "\ngroups:\n" << index.str();
  EXPECT_NE(output.find("SUCCESS: " + std::to_string(expressions.size()) + " rules found"), std::string::npos) << output;
  std::filesystem::remove(path);
}

TEST(PromQlTest, EveryMetricAndLabelIsOneTheCodeExports) {
  Exported known = ParseExposition(ApiServerExposition());
  for (const auto& [name, labels] : ParseExposition(OperatorExposition())) known[name].insert(labels.begin(), labels.end());
  ASSERT_TRUE(known.contains("http_requests_total")) << "the API server scrape failed";
  for (const auto& [name, labels] : ExternalMetrics()) known[name].insert(labels.begin(), labels.end());

  const auto expressions = AllExpressions();
  std::size_t selectors = 0;
  for (const auto& expression : expressions) {
    for (const auto& selector : Selectors(expression.expr)) {
      ++selectors;
      const auto it = known.find(selector.metric);
      if (it == known.end()) {
        ADD_FAILURE() << expression.source << ": metric \"" << selector.metric
                      << "\" is exported neither by financial-api-server nor by the operator (nor in the "
                      << "kube-state-metrics list of this test)\n  expr: " << expression.expr;
        continue;
      }
      for (const auto& label : selector.labels) {
        if (label == "__name__" || TargetLabels().contains(label) || it->second.contains(label)) continue;
        ADD_FAILURE() << expression.source << ": " << selector.metric << " has no label \"" << label
                      << "\" (it has: " << [&] {
                           std::string list;
                           for (const auto& l : it->second) list += (list.empty() ? "" : ", ") + l;
                           return list;
                         }() << "; plus the target labels)\n  expr: " << expression.expr;
      }
    }
  }
  EXPECT_GE(selectors, 80U) << "fewer selectors than the artifacts hold: is the scanner broken?";
}

TEST(DashboardsTest, UseTheDatasourceVariableAndUniqueIds) {
  for (const std::string file : {"financialapi.json", "operator.json"}) {
    SCOPED_TRACE(file);
    const Json dashboard = LoadDashboard(file);
    std::set<std::string> variables;
    for (const auto& variable : dashboard["templating"]["list"]) variables.insert(variable["name"].get<std::string>());
    EXPECT_TRUE(variables.contains("datasource"));
    EXPECT_TRUE(variables.contains("namespace"));
    EXPECT_TRUE(variables.contains("instance"));
    EXPECT_TRUE(dashboard["id"].is_null()) << "an exported dashboard has id null, else import overwrites by id";
    std::set<int> ids;
    for (const auto& panel : Panels(dashboard)) {
      EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate panel id " << panel["id"];
      if (panel["type"] == "row") continue;
      EXPECT_EQ(panel["datasource"]["uid"], "${datasource}") << panel["title"];
      EXPECT_FALSE(panel["targets"].empty()) << panel["title"];
      for (const auto& target : panel["targets"]) EXPECT_EQ(target["datasource"]["uid"], "${datasource}") << panel["title"];
    }
  }
}

// Every alert has at least one promtool case where it fires and one where it stays quiet.
TEST(RulesTest, EveryAlertHasAFiringAndAQuietPromtoolCase) {
  std::map<std::string, std::pair<int, int>> cases;  // alert -> (firing, quiet)
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath("monitoring/tests"))) {
    if (entry.path().extension() != ".yaml") continue;
    const Json tests = LoadYamlFile(entry.path().string()).at(0);
    for (const auto& test : tests["tests"]) {
      for (const auto& check : test.value("alert_rule_test", Json::array())) {
        auto& [firing, quiet] = cases[check["alertname"].get<std::string>()];
        (check.contains("exp_alerts") && !check["exp_alerts"].empty() ? firing : quiet)++;
      }
    }
  }
  std::vector<std::string> alerts;
  for (const auto& groups : {PlatformRuleGroups("financialapi.yaml"), OperatorRuleGroups()}) {
    for (const auto& group : groups) {
      for (const auto& rule : group["rules"]) alerts.push_back(rule["alert"].get<std::string>());
    }
  }
  ASSERT_GE(alerts.size(), 11U);
  for (const auto& alert : alerts) {
    EXPECT_GE(cases[alert].first, 1) << alert << " has no promtool case in monitoring/tests where it fires";
    EXPECT_GE(cases[alert].second, 1) << alert << " has no promtool case in monitoring/tests where it stays quiet";
  }
}

}  // namespace
}  // namespace financialapi::testing
