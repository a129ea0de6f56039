// The API tier: what the API server pods read at start (connection Secret, settings ConfigMap) and its
// workload (Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget).
#pragma once

#include <string>
#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

struct ApiConfiguration {
  std::vector<Child> children;  // the connection Secret, then the settings ConfigMap
  std::string config_hash;      // of both and of the API-keys Secret name: a change rolls the API pods
};

// The connection Secret (DATABASE_URL, through PgBouncer when it runs; DIRECT_DATABASE_URL; REDIS_URL)
// and the ConfigMap of the API server's settings, with their hash for the pod template.
ApiConfiguration BuildApiConfiguration(const FinancialApi& api, const Inputs& inputs);

// The Deployment (its pods annotated with `config_hash`) and its Service; the HorizontalPodAutoscaler
// and the PodDisruptionBudget when the spec enables them.
std::vector<Child> ApiChildren(const FinancialApi& api, const std::string& config_hash);

}  // namespace financialapi::platform::components
