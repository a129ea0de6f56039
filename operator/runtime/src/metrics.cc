#include "financialapi/runtime/metrics.h"

#include <prometheus/text_serializer.h>

namespace financialapi::runtime {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}

class QueueObserver final : public WorkQueueObserver {
 public:
  QueueObserver(RuntimeMetrics& metrics, const std::string& name)
      : depth_(metrics.queue_depth.Add({{"name", name}, {"controller", name}})),
        adds_(metrics.queue_adds.Add({{"name", name}, {"controller", name}})),
        retries_(metrics.queue_retries.Add({{"name", name}, {"controller", name}})),
        queued_(metrics.queue_duration.Add({{"name", name}, {"controller", name}}, LatencyBuckets())),
        worked_(metrics.work_duration.Add({{"name", name}, {"controller", name}}, LatencyBuckets())) {}

  void OnAdd() override { adds_.Increment(); }
  void OnRetry() override { retries_.Increment(); }
  void OnDepth(std::size_t depth) override { depth_.Set(static_cast<double>(depth)); }
  void OnQueued(std::chrono::duration<double> waited) override { queued_.Observe(waited.count()); }
  void OnWorked(std::chrono::duration<double> took) override { worked_.Observe(took.count()); }

 private:
  prometheus::Gauge& depth_;
  prometheus::Counter& adds_;
  prometheus::Counter& retries_;
  prometheus::Histogram& queued_;
  prometheus::Histogram& worked_;
};

}  // namespace

RuntimeMetrics::RuntimeMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_total_(prometheus::BuildCounter().Name("controller_runtime_reconcile_total")
                           .Help("Total number of reconciliations per controller").Register(*registry_)),
      reconcile_errors_(prometheus::BuildCounter().Name("controller_runtime_reconcile_errors_total")
                            .Help("Total number of reconciliation errors per controller").Register(*registry_)),
      reconcile_time_(prometheus::BuildHistogram().Name("controller_runtime_reconcile_time_seconds")
                          .Help("Length of time per reconciliation per controller").Register(*registry_)),
      active_workers_(prometheus::BuildGauge().Name("controller_runtime_active_workers")
                          .Help("Number of currently used workers per controller").Register(*registry_)),
      max_workers_(prometheus::BuildGauge().Name("controller_runtime_max_concurrent_reconciles")
                       .Help("Maximum number of concurrent reconciles per controller").Register(*registry_)),
      leader_(prometheus::BuildGauge().Name("leader_election_master_status")
                  .Help("1 while this process holds the leader lease, else 0").Register(*registry_)),
      client_requests_(prometheus::BuildCounter().Name("rest_client_requests_total")
                           .Help("Number of HTTP requests to the API server, by status code and method").Register(*registry_)),
      client_latency_(prometheus::BuildHistogram().Name("rest_client_request_duration_seconds")
                          .Help("Request latency to the API server, by verb").Register(*registry_)),
      queue_depth(prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(*registry_)),
      queue_adds(prometheus::BuildCounter().Name("workqueue_adds_total").Help("Total number of adds handled by workqueue").Register(*registry_)),
      queue_retries(prometheus::BuildCounter().Name("workqueue_retries_total").Help("Total number of retries handled by workqueue").Register(*registry_)),
      queue_duration(prometheus::BuildHistogram().Name("workqueue_queue_duration_seconds")
                         .Help("How long in seconds an item stays in workqueue before being requested").Register(*registry_)),
      work_duration(prometheus::BuildHistogram().Name("workqueue_work_duration_seconds")
                        .Help("How long in seconds processing an item from workqueue takes").Register(*registry_)) {}

std::string RuntimeMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void RuntimeMetrics::ReconcileFinished(const std::string& controller, const std::string& result, double seconds) {
  reconcile_total_.Add({{"controller", controller}, {"result", result}}).Increment();
  if (result == "error") reconcile_errors_.Add({{"controller", controller}}).Increment();
  reconcile_time_.Add({{"controller", controller}}, LatencyBuckets()).Observe(seconds);
}

void RuntimeMetrics::SetWorkers(const std::string& controller, int active, int max) {
  active_workers_.Add({{"controller", controller}}).Set(active);
  max_workers_.Add({{"controller", controller}}).Set(max);
}

void RuntimeMetrics::SetLeader(const std::string& lease, bool leading) {
  leader_.Add({{"name", lease}}).Set(leading ? 1 : 0);
}

void RuntimeMetrics::RecordClientRequest(const kube::RequestRecord& record) {
  client_requests_.Add({{"code", record.code}, {"method", record.verb}}).Increment();
  client_latency_.Add({{"verb", record.verb}}, LatencyBuckets()).Observe(record.latency.count());
}

std::unique_ptr<WorkQueueObserver> RuntimeMetrics::MakeQueueObserver(const std::string& name) {
  return std::make_unique<QueueObserver>(*this, name);
}

}  // namespace financialapi::runtime
