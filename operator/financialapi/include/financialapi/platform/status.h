// The FinancialApi's status, computed from the children's own status: pure, so unit-tested.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "financialapi/platform/spec.h"

namespace financialapi::platform {

// The data load (spec.data.load) as the loader Job tells it: status.data and the DataLoaded condition.
struct DataLoad {
  static constexpr char kLoading[] = "Loading";
  static constexpr char kLoaded[] = "Loaded";
  static constexpr char kFailed[] = "Failed";
  std::string job;      // the loader Job's name
  std::string phase;    // kLoading, kLoaded or kFailed
  std::string message;  // for the condition: progress, or the Job's failure
};

// What the loader Job `job_name` says: Loaded once it is Complete, Failed once it has Failed (backoff
// limit), else Loading (also while `job` is nullptr: not created or not in the cache yet).
DataLoad ObserveDataLoad(const std::string& job_name, const Json* job);

// What the reconcile saw of the children (from the caches) and what went wrong, if anything.
struct Observed {
  bool api_found = false;
  int api_replicas = 0;          // desired (spec.replicas of the Deployment)
  int api_ready = 0;
  int api_updated = 0;
  int api_available = 0;
  bool api_rolled_out = false;   // observedGeneration caught up and all replicas updated
  bool postgres_ready = false;   // managed: StatefulSet ready; external: assumed reachable
  bool redis_ready = false;
  bool pgbouncer_ready = true;   // true when not enabled
  std::optional<DataLoad> data;  // the loader Job's progress; unset when spec.data.load is false
  std::string failure_reason;    // "" when the reconcile succeeded: InvalidSpec, SecretNotFound, ApplyFailed...
  std::string failure_message;
  std::string monitoring_message;  // why monitoring objects were not created, "" when they were or are off
};

// The status object for the status subresource. Conditions keep their lastTransitionTime from
// `previous_status` while their status does not change; `now` stamps the ones that change.
Json ComputeStatus(const FinancialApi& api, const Observed& observed, const Json& previous_status, const std::string& now);

// True when two status objects say the same thing (lastTransitionTime aside): no write needed.
bool SameStatus(const Json& a, const Json& b);

}  // namespace financialapi::platform
