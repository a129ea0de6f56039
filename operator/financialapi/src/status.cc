#include "financialapi/platform/status.h"

#include "financialapi/platform/builders.h"

namespace financialapi::platform {
namespace {

Json Condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
               std::int64_t generation) {
  return {{"type", type}, {"status", status ? "True" : "False"}, {"reason", reason}, {"message", message},
          {"observedGeneration", generation}};
}

// Carries lastTransitionTime over from the previous condition of the same type and status.
void StampTransitions(Json& conditions, const Json& previous_status, const std::string& now) {
  const Json previous = previous_status.is_object() ? previous_status.value("conditions", Json::array()) : Json::array();
  for (auto& condition : conditions) {
    std::string stamp = now;
    for (const auto& old : previous) {
      if (old.value("type", "") == condition["type"] && old.value("status", "") == condition["status"] &&
          old.contains("lastTransitionTime")) {
        stamp = old["lastTransitionTime"].get<std::string>();
      }
    }
    condition["lastTransitionTime"] = stamp;
  }
}

Json WithoutTransitionTimes(Json status) {
  if (status.is_object() && status.contains("conditions")) {
    for (auto& condition : status["conditions"]) condition.erase("lastTransitionTime");
  }
  return status;
}

}  // namespace

Json ComputeStatus(const FinancialApi& api, const Observed& observed, const Json& previous_status, const std::string& now) {
  const std::int64_t generation = api.generation;
  Json status = {{"observedGeneration", generation}, {"endpoint", Endpoint(api)}};
  status["api"] = {{"replicas", observed.api_replicas}, {"readyReplicas", observed.api_ready},
                   {"updatedReplicas", observed.api_updated},
                   {"ready", std::to_string(observed.api_ready) + "/" + std::to_string(observed.api_replicas)}};
  const std::string postgres_endpoint =
      api.spec.postgres.managed ? PostgresName(api) + "." + api.ns + ".svc:5432"
                                : api.spec.postgres.external->host + ":" + std::to_string(api.spec.postgres.external->port);
  const std::string redis_endpoint =
      api.spec.redis.managed ? RedisName(api) + "." + api.ns + ".svc:6379"
                             : api.spec.redis.external->host + ":" + std::to_string(api.spec.redis.external->port);
  status["postgres"] = {{"ready", observed.postgres_ready}, {"endpoint", postgres_endpoint}};
  status["redis"] = {{"ready", observed.redis_ready}, {"endpoint", redis_endpoint}};

  std::vector<std::string> waiting;
  if (!observed.api_found) {
    waiting.push_back("API Deployment not created yet");
  } else if (observed.api_available < 1 || observed.api_ready < observed.api_replicas) {
    waiting.push_back("API " + std::to_string(observed.api_ready) + "/" + std::to_string(observed.api_replicas) + " pods ready");
  }
  if (!observed.postgres_ready) waiting.push_back("PostgreSQL not ready");
  if (!observed.redis_ready) waiting.push_back("Redis not ready");
  if (!observed.pgbouncer_ready) waiting.push_back("PgBouncer not ready");
  // With loading on, the platform is not Ready before the loader Job has loaded the data.
  std::optional<DataLoad> data;
  if (api.spec.data.load) {
    data = observed.data.value_or(DataLoad{.job = LoaderJobName(api), .phase = DataLoad::kLoading,
                                           .message = "the loader Job is not observed yet"});
    status["data"] = {{"job", data->job}, {"phase", data->phase}};
    if (data->phase == DataLoad::kLoading) waiting.push_back("data not loaded yet (Job " + data->job + ")");
  }
  std::string waiting_text;
  for (const auto& item : waiting) waiting_text += (waiting_text.empty() ? "" : "; ") + item;

  // A failed reconcile, or a load that gave up: nothing gets better without a change.
  std::string failure_reason = observed.failure_reason;
  std::string failure_message = observed.failure_message;
  if (failure_reason.empty() && data && data->phase == DataLoad::kFailed) {
    failure_reason = "LoadFailed";
    failure_message = data->message;
  }
  const bool failed = !failure_reason.empty();
  const bool ready = waiting.empty() && !failed;
  const bool progressing = !api.spec.paused && !failed && (!waiting.empty() || !observed.api_rolled_out);

  Json conditions = Json::array();
  conditions.push_back(ready ? Condition("Ready", true, "AllComponentsReady",
                                         data ? "API, PostgreSQL and Redis are ready and the data is loaded"
                                              : "API, PostgreSQL and Redis are ready",
                                         generation)
                             : Condition("Ready", false, failed ? failure_reason : "ComponentsNotReady",
                                         failed ? failure_message : waiting_text, generation));
  conditions.push_back(progressing
                           ? Condition("Progressing", true, "RollingOut", waiting_text.empty() ? "API pods are being updated" : waiting_text, generation)
                           : Condition("Progressing", false, "Stable", "nothing is rolling out", generation));
  conditions.push_back(failed ? Condition("Degraded", true, failure_reason, failure_message, generation)
                              : Condition("Degraded", false, "AsExpected", "the last reconcile applied every child", generation));
  conditions.push_back(api.spec.paused ? Condition("Paused", true, "PausedBySpec", "spec.paused is true: children are not changed", generation)
                                       : Condition("Paused", false, "Reconciling", "children follow the spec", generation));
  if (!observed.monitoring_message.empty()) {
    conditions.push_back(Condition("MonitoringAvailable", false, "CRDNotInstalled", observed.monitoring_message, generation));
  } else {
    conditions.push_back(Condition("MonitoringAvailable", true, "Configured", "monitoring objects are as requested", generation));
  }
  if (data) {
    const bool loaded = data->phase == DataLoad::kLoaded;
    conditions.push_back(Condition("DataLoaded", loaded,
                                   loaded ? "Loaded" : data->phase == DataLoad::kFailed ? "LoadFailed" : "Loading",
                                   data->message, generation));
  }
  StampTransitions(conditions, previous_status, now);
  status["conditions"] = conditions;

  std::string phase;
  if (api.spec.paused) phase = "Paused";
  else if (failed) phase = "Degraded";
  else if (ready) phase = "Ready";
  else if (observed.api_found) phase = "Progressing";
  else phase = "Pending";
  status["phase"] = phase;
  return status;
}

bool SameStatus(const Json& a, const Json& b) { return WithoutTransitionTimes(a) == WithoutTransitionTimes(b); }

}  // namespace financialapi::platform
