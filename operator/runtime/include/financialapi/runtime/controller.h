// A controller: watches a primary kind and the kinds it owns, queues the keys of primary objects that
// changed (a child's change queues its controller owner), and runs a Reconciler on them with N workers.
// Level-based: the reconciler reads the current state; it never sees the event that woke it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "financialapi/common/clock.h"
#include "financialapi/common/status.h"
#include "financialapi/kube/client.h"
#include "financialapi/common/logging.h"
#include "financialapi/runtime/metrics.h"
#include "financialapi/runtime/watcher.h"
#include "financialapi/runtime/work_queue.h"

namespace financialapi::runtime {

struct Request {
  std::string ns;
  std::string name;
  std::string Key() const { return ObjectKey(ns, name); }
  static Request FromKey(const std::string& key);
};

// What a successful reconcile asks for next (kube-rs Action, controller-runtime Result).
struct Action {
  std::optional<Duration> requeue_after;
  static Action AwaitChange() { return {}; }
  static Action RequeueAfter(Duration delay) { return {delay}; }
};

struct ReconcileContext {
  std::string reconcile_id;  // unique per reconcile, in every log line of it
  Logger log;                // carries controller, namespace, name and reconcileID
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Brings the world in line with the object `request` names (which may no longer exist). A failed
  // Status requeues the key with per-key exponential backoff.
  virtual StatusOr<Action> Reconcile(const Request& request, const ReconcileContext& context) = 0;
};

struct OwnedKind {
  kube::ResourceType type;
  // Narrow the watch to this controller's children (a label they all carry), so the cache holds only
  // what the operator manages, not every object of the kind in the cluster.
  std::string label_selector;
};

struct ControllerOptions {
  std::string name;
  kube::ResourceType primary;
  std::string primary_label_selector;
  std::vector<OwnedKind> owned;
  // The namespaces to watch, for the primary and the owned kinds alike: one list and watch per kind and
  // namespace, all feeding one cache per kind. Empty: every namespace, with one watch per kind.
  std::vector<std::string> namespaces;
  int workers = 1;
  // Every primary object is reconciled at least this often, changed or not (0: never).
  std::chrono::seconds resync_period{std::chrono::hours(10)};
  kube::WatchOptions watch;
  WatcherOptions watcher;
  // Replaces the default rate limiter (tests).
  std::unique_ptr<RateLimiter> rate_limiter;
};

class Controller {
 public:
  Controller(kube::Client& client, ControllerOptions options, Reconciler& reconciler, RuntimeMetrics* metrics,
             const Clock& clock = SystemClock::Get());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the watches (every replica keeps warm caches; only the leader reconciles).
  void StartCaches();
  bool CachesSynced() const;
  bool WaitForCacheSync(std::chrono::milliseconds timeout) const;
  // Starts the workers and the resync timer (the leader).
  void StartWorkers();
  // Stops taking keys, lets in-flight reconciles finish, then stops the watches.
  void Stop();
  // Only stops handing keys to the workers (no wait): what a replica that lost the lease does first.
  void StopTakingKeys();

  const std::string& name() const { return options_.name; }
  const Store& PrimaryCache() const;
  // The cache of an owned kind, or nullptr when the kind is not owned.
  const Store* OwnedCache(const kube::ResourceType& type) const;
  WorkQueue& queue() { return *queue_; }
  std::uint64_t reconciles() const { return reconciles_.load(); }

 private:
  void EnqueueOwner(const ObjectPtr& child);
  void Work();
  void ProcessKey(const std::string& key);
  void Resync();

  // One kind's cache and the watchers (one per watched namespace, or one for all) that fill it.
  struct KindCache {
    kube::ResourceType type;
    std::shared_ptr<Store> store;
    std::vector<std::unique_ptr<Watcher>> watchers;
  };
  KindCache MakeKindCache(const kube::ResourceType& type, const std::string& label_selector,
                          const WatcherHandlers& handlers) const;
  std::vector<Watcher*> Watchers() const;

  kube::Client& client_;
  ControllerOptions options_;
  Reconciler& reconciler_;
  RuntimeMetrics* metrics_;
  std::unique_ptr<WorkQueueObserver> queue_observer_;
  std::unique_ptr<WorkQueue> queue_;
  KindCache primary_cache_;
  std::vector<KindCache> owned_caches_;
  std::vector<std::thread> workers_;
  std::thread resync_thread_;
  std::mutex resync_mutex_;
  std::condition_variable resync_wake_;
  bool stopping_ = false;
  std::atomic<int> active_workers_{0};
  std::atomic<std::uint64_t> reconciles_{0};
};

}  // namespace financialapi::runtime
