#include "components/monitoring.h"

#include <cstdlib>
#include <sstream>

namespace financialapi::platform::components {
namespace {

// Up to 10 significant digits, no trailing zeros: thresholds read as written (0.0144, not 0.014400).
std::string FormatNumber(double value) {
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

Child ServiceMonitor(const FinancialApi& api) {
  Child monitor = NewChild(resources::kServiceMonitors, api, ApiName(api), kApiComponent);
  monitor.object["spec"] = {{"selector", {{"matchLabels", SelectorLabels(api, kApiComponent)}}},
                            {"namespaceSelector", {{"matchNames", Json::array({api.ns})}}},
                            // honorLabels: the API's route label is called `endpoint`, which the Prometheus Operator
                            // would otherwise overwrite with the port name (keeping ours as exported_endpoint).
                            {"endpoints", Json::array({{{"port", "http"}, {"path", "/metrics"}, {"interval", "30s"},
                                                        {"honorLabels", true}}})}};
  return monitor;
}

Child PrometheusRule(const FinancialApi& api) {
  const std::string selector = "job=\"" + ApiName(api) + "\",namespace=\"" + api.ns + "\"";
  // Probes and scrapes are not user traffic: /ready answers 503 while PostgreSQL is down, which the
  // Ready condition already reports; counting it would double the alarm.
  const std::string requests = selector + ",endpoint!~\"/health|/ready|/metrics\"";
  auto error_ratio = [&](const std::string& window) {
    return "(sum(rate(http_requests_total{" + requests + ",status=~\"5..\"}[" + window + "])) / sum(rate(http_requests_total{" +
           requests + "}[" + window + "])))";
  };
  // ParseFinancialApi checked it is a percentage (90 to 100); strtod, unlike stod, cannot throw.
  const double availability = std::strtod(api.spec.monitoring.availability.c_str(), nullptr);
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
  Child rule = NewChild(resources::kPrometheusRules, api, ApiName(api), kApiComponent);
  rule.object["spec"] = {{"groups", Json::array({{{"name", "financialapi-" + api.name}, {"rules", rules}}})}};
  return rule;
}

}  // namespace

std::vector<Child> MonitoringChildren(const FinancialApi& api, const Inputs& inputs) {
  std::vector<Child> children;
  if (api.spec.monitoring.service_monitor && inputs.service_monitor_crd) children.push_back(ServiceMonitor(api));
  if (api.spec.monitoring.prometheus_rule && inputs.prometheus_rule_crd) children.push_back(PrometheusRule(api));
  return children;
}

}  // namespace financialapi::platform::components
