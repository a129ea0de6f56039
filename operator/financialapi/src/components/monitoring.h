// Prometheus Operator objects for the API: a ServiceMonitor scraping /metrics and a PrometheusRule with
// the platform's alerts (error rate, latency, pools, Redis memory, error-budget burn).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The ServiceMonitor and the PrometheusRule, each when the spec asks for it and the cluster serves its
// CRD (inputs.service_monitor_crd, inputs.prometheus_rule_crd).
std::vector<Child> MonitoringChildren(const FinancialApi& api, const Inputs& inputs);

}  // namespace financialapi::platform::components
