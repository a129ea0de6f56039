// Runs controllers the way controller-runtime's manager does: caches on every replica, reconcilers
// only on the elected leader, /healthz and /readyz (ready once every cache has synced) and /metrics,
// and an orderly stop: no new reconciles, in-flight ones finish, the lease is released.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "financialapi/common/status.h"
#include "financialapi/kube/client.h"
#include "financialapi/runtime/controller.h"
#include "financialapi/runtime/events.h"
#include "financialapi/runtime/leader_election.h"
#include "financialapi/runtime/metrics.h"

namespace financialapi::runtime {

// Status::reason() of Manager::Run when the leader lease was lost.
inline constexpr std::string_view kReasonLeaseLost = "LeaseLost";

struct ManagerOptions {
  std::string name = "financialapi-operator";   // event source component
  std::string identity;                          // this process (leader election, events)
  std::string metrics_address = "127.0.0.1:8080";  // host:port, "" to disable
  std::string health_address = "127.0.0.1:8081";   // host:port, "" to disable
  bool leader_election = false;
  LeaderElectionOptions leader_election_options;   // identity defaults to `identity`
  std::chrono::milliseconds cache_sync_timeout{std::chrono::minutes(2)};
};

class ProbeServer;

class Manager {
 public:
  // The client should report its requests to metrics(): create it with
  // ClientOptions::on_request = Manager::ClientRequestRecorder(metrics).
  Manager(kube::Client& client, ManagerOptions options, std::shared_ptr<RuntimeMetrics> metrics = nullptr);
  ~Manager();

  // Adds a controller; call before Run().
  Controller& AddController(ControllerOptions options, Reconciler& reconciler);

  // Blocks until RequestStop() (OK) or until something fatal: an HTTP endpoint that cannot bind,
  // caches that do not sync in time, or a lost leader lease (Unavailable with reason
  // kReasonLeaseLost, returned at once without waiting for in-flight reconciles). After a lost lease
  // the process must exit at once (std::_Exit, no destructors: they would wait for reconciles that may
  // be blocked on the API server) and restart as a follower, as controller-runtime's does, so no
  // reconcile of this process writes while another replica leads.
  Status Run();
  // Thread- and signal-handler-safe to call from a watcher thread (not from a signal handler itself).
  void RequestStop();

  bool IsLeader() const { return leading_.load(); }
  bool Ready() const;
  RuntimeMetrics& metrics() { return *metrics_; }
  EventRecorder& events() { return *events_; }
  kube::Client& client() { return client_; }

  static std::function<void(const kube::RequestRecord&)> ClientRequestRecorder(std::shared_ptr<RuntimeMetrics> metrics);

 private:
  void StartWorkers();

  kube::Client& client_;
  ManagerOptions options_;
  std::shared_ptr<RuntimeMetrics> metrics_;
  std::unique_ptr<EventRecorder> events_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<LeaderElector> elector_;
  std::vector<std::unique_ptr<ProbeServer>> servers_;
  std::atomic<bool> leading_{false};
  std::mutex mutex_;
  std::condition_variable stop_wake_;
  bool stop_requested_ = false;
  bool lost_lease_ = false;
};

}  // namespace financialapi::runtime
