// The FinancialApi reconciler: reads the FinancialApi and its children from the controller's caches,
// applies (server-side, force) each child that differs from what the spec asks for, deletes children
// the spec no longer asks for, and writes status only when it changed. Steady state makes no writes.
// An object with a child's name that this FinancialApi does not control is never applied over (that
// would adopt it, and the garbage collector would delete it with the FinancialApi): Degraded/ChildConflict.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "financialapi/kube/client.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/status.h"
#include "financialapi/runtime/controller.h"
#include "financialapi/runtime/events.h"

namespace financialapi::platform {

inline constexpr char kFieldManager[] = "financialapi-operator";

// True when every field `desired` sets has the same value in `current` (which may carry more: fields
// the API server defaults or fills in). Arrays match element by element. Numbers compare by value.
bool Contains(const Json& current, const Json& desired);
// The JSON path of the first field where Contains fails ("" when it holds), for debug logs.
std::string FirstDifference(const Json& current, const Json& desired, const std::string& path = "");

struct MonitoringCrds {
  bool service_monitor = false;
  bool prometheus_rule = false;
};

// Asks the API server which Prometheus Operator kinds it serves (errors count as absent).
MonitoringCrds DiscoverMonitoringCrds(kube::Client& client);

// The namespaces a --watch-namespace value names: a comma-separated list, duplicates dropped; "" or
// "*" means all namespaces (an empty list). InvalidArgument naming the first entry that is not a
// namespace name (a DNS-1123 label).
StatusOr<std::vector<std::string>> ParseWatchNamespaces(std::string_view text);

class FinancialApiReconciler final : public runtime::Reconciler {
 public:
  // `monitoring`: which Prometheus Operator kinds the cluster served when the operator started (the
  // same answer decides which kinds are watched, so creating and pruning stay consistent).
  FinancialApiReconciler(kube::Client& client, runtime::EventRecorder* events, MonitoringCrds monitoring);

  // Controller options: FinancialApis in `watch_namespaces` (empty: all) and their children (only
  // objects labelled managed-by=financialapi-operator are cached).
  static runtime::ControllerOptions ControllerOptions(const std::vector<std::string>& watch_namespaces, int workers,
                                                      const MonitoringCrds& crds);

  void set_controller(const runtime::Controller* controller) { controller_ = controller; }

  StatusOr<runtime::Action> Reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) override;

  // Writes made so far (child applies and deletes, status updates): tests and benchmarks check that
  // steady state adds none.
  std::uint64_t writes() const { return writes_.load(); }

 private:
  struct Failure {
    std::string reason;
    std::string message;
  };

  StatusOr<Inputs> ResolveInputs(const FinancialApi& api, Failure& failure);
  // The object named like a child as it exists: `cached` when the cache has it, else from the API server
  // (nullptr when there is none), so that an object the caches do not hold is never applied over.
  StatusOr<runtime::ObjectPtr> ExistingChild(const kube::ResourceType& type, const std::string& ns,
                                             const std::string& name, runtime::ObjectPtr cached);
  StatusOr<std::string> GeneratedSecretValue(const FinancialApi& api, const std::string& name, const std::string& key);
  Observed Observe(const FinancialApi& api) const;
  runtime::ObjectPtr Cached(const kube::ResourceType& type, const std::string& ns, const std::string& name) const;
  void Event(const Json& object, runtime::EventType type, const std::string& reason, const std::string& message,
             const runtime::ReconcileContext& context);

  kube::Client& client_;
  runtime::EventRecorder* events_;
  const runtime::Controller* controller_ = nullptr;
  const MonitoringCrds monitoring_;
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace financialapi::platform
