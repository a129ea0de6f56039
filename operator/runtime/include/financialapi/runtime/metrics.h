// Prometheus metrics of the runtime, named as controller-runtime and client-go name theirs so existing
// dashboards and alerts work: controller_runtime_reconcile_total{controller,result},
// controller_runtime_reconcile_errors_total, controller_runtime_reconcile_time_seconds,
// controller_runtime_active_workers, controller_runtime_max_concurrent_reconciles, workqueue_depth,
// workqueue_adds_total, workqueue_retries_total, workqueue_queue_duration_seconds,
// workqueue_work_duration_seconds, rest_client_requests_total{code,method},
// rest_client_request_duration_seconds{verb}, leader_election_master_status{name}.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "financialapi/kube/client.h"
#include "financialapi/runtime/work_queue.h"

namespace financialapi::runtime {

class RuntimeMetrics {
 public:
  RuntimeMetrics();

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  // The text exposition format of everything registered.
  std::string Serialize() const;

  // result: "success", "error", "requeue_after".
  void ReconcileFinished(const std::string& controller, const std::string& result, double seconds);
  void SetWorkers(const std::string& controller, int active, int max);
  void SetLeader(const std::string& lease, bool leading);
  void RecordClientRequest(const kube::RequestRecord& record);
  // An observer feeding the workqueue_* metrics for the queue `name` (owned by the caller).
  std::unique_ptr<WorkQueueObserver> MakeQueueObserver(const std::string& name);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_time_;
  prometheus::Family<prometheus::Gauge>& active_workers_;
  prometheus::Family<prometheus::Gauge>& max_workers_;
  prometheus::Family<prometheus::Gauge>& leader_;
  prometheus::Family<prometheus::Counter>& client_requests_;
  prometheus::Family<prometheus::Histogram>& client_latency_;

 public:
  // The queue families, shared by every observer.
  prometheus::Family<prometheus::Gauge>& queue_depth;
  prometheus::Family<prometheus::Counter>& queue_adds;
  prometheus::Family<prometheus::Counter>& queue_retries;
  prometheus::Family<prometheus::Histogram>& queue_duration;
  prometheus::Family<prometheus::Histogram>& work_duration;
};

}  // namespace financialapi::runtime
