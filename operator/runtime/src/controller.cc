#include "financialapi/runtime/controller.h"

#include "financialapi/common/random.h"

namespace financialapi::runtime {
namespace {

// The API group of an "apps/v1"-style apiVersion ("" for "v1").
std::string GroupOf(const std::string& api_version) {
  const auto slash = api_version.find('/');
  return slash == std::string::npos ? std::string() : api_version.substr(0, slash);
}

}  // namespace

Request Request::FromKey(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

Controller::Controller(kube::Client& client, ControllerOptions options, Reconciler& reconciler,
                       RuntimeMetrics* metrics, const Clock& clock)
    : client_(client), options_(std::move(options)), reconciler_(reconciler), metrics_(metrics) {
  if (metrics_ != nullptr) queue_observer_ = metrics_->MakeQueueObserver(options_.name);
  auto limiter = options_.rate_limiter ? std::move(options_.rate_limiter) : DefaultControllerRateLimiter(clock);
  queue_ = std::make_unique<WorkQueue>(std::move(limiter), clock, queue_observer_.get());

  auto enqueue = [this](const ObjectPtr& object) { queue_->Add(ObjectKey(*object)); };
  primary_cache_ = MakeKindCache(options_.primary, options_.primary_label_selector,
                                 {.on_add = enqueue,
                                  .on_update = [enqueue](const ObjectPtr&, const ObjectPtr& now) { enqueue(now); },
                                  .on_delete = enqueue});
  const auto on_change = [this](const ObjectPtr& child) { EnqueueOwner(child); };
  for (const auto& owned : options_.owned) {
    owned_caches_.push_back(MakeKindCache(owned.type, owned.label_selector,
                                          {.on_add = on_change,
                                           .on_update = [this](const ObjectPtr& before, const ObjectPtr& now) {
                                             EnqueueOwner(before);
                                             EnqueueOwner(now);
                                           },
                                           .on_delete = on_change}));
  }
}

Controller::KindCache Controller::MakeKindCache(const kube::ResourceType& type, const std::string& label_selector,
                                                const WatcherHandlers& handlers) const {
  KindCache cache{.type = type, .store = std::make_shared<Store>(), .watchers = {}};
  const std::vector<std::string> all_namespaces{""};
  const auto& namespaces = options_.namespaces.empty() ? all_namespaces : options_.namespaces;
  for (const std::string& ns : namespaces) {
    WatcherOptions watcher_options = options_.watcher;
    watcher_options.name = options_.name + "/" + type.plural + (ns.empty() ? "" : "@" + ns);
    watcher_options.store_namespace = ns;
    cache.watchers.push_back(std::make_unique<Watcher>(
        MakeClientSource(client_, type, {.ns = ns, .label_selector = label_selector}, options_.watch),
        std::move(watcher_options), handlers, cache.store));
  }
  return cache;
}

std::vector<Watcher*> Controller::Watchers() const {
  std::vector<Watcher*> watchers;
  const auto add = [&watchers](const KindCache& cache) {
    for (const auto& watcher : cache.watchers) watchers.push_back(watcher.get());
  };
  add(primary_cache_);
  for (const KindCache& cache : owned_caches_) add(cache);
  return watchers;
}

Controller::~Controller() { Stop(); }

void Controller::EnqueueOwner(const ObjectPtr& child) {
  if (child == nullptr) return;
  const auto owners = child->value("/metadata/ownerReferences"_json_pointer, Json::array());
  const std::string primary_group = options_.primary.group;
  for (const auto& owner : owners) {
    if (!owner.value("controller", false)) continue;
    if (owner.value("kind", "") != options_.primary.kind) continue;
    if (GroupOf(owner.value("apiVersion", "")) != primary_group) continue;
    const std::string ns = options_.primary.namespaced ? child->value("/metadata/namespace"_json_pointer, "") : "";
    queue_->Add(ObjectKey(ns, owner.value("name", "")));
  }
}

void Controller::StartCaches() {
  for (Watcher* watcher : Watchers()) watcher->Start();
}

bool Controller::CachesSynced() const {
  for (const Watcher* watcher : Watchers()) {
    if (!watcher->HasSynced()) return false;
  }
  return true;
}

bool Controller::WaitForCacheSync(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const Watcher* watcher : Watchers()) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!watcher->WaitForSync(remaining)) return false;
  }
  return true;
}

void Controller::StartWorkers() {
  if (!workers_.empty()) return;
  if (metrics_ != nullptr) metrics_->SetWorkers(options_.name, 0, options_.workers);
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
  if (options_.resync_period.count() > 0) resync_thread_ = std::thread([this] { Resync(); });
}

void Controller::Stop() {
  {
    std::lock_guard lock(resync_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  resync_wake_.notify_all();
  queue_->ShutDownWithDrain();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  if (resync_thread_.joinable()) resync_thread_.join();
  for (Watcher* watcher : Watchers()) watcher->Stop();
}

void Controller::StopTakingKeys() { queue_->ShutDown(); }

const Store& Controller::PrimaryCache() const { return *primary_cache_.store; }

const Store* Controller::OwnedCache(const kube::ResourceType& type) const {
  for (const KindCache& cache : owned_caches_) {
    if (cache.type.group == type.group && cache.type.plural == type.plural) return cache.store.get();
  }
  return nullptr;
}

void Controller::Resync() {
  std::unique_lock lock(resync_mutex_);
  while (!resync_wake_.wait_for(lock, options_.resync_period, [this] { return stopping_; })) {
    for (const auto& object : primary_cache_.store->List()) queue_->Add(ObjectKey(*object));
  }
}

void Controller::Work() {
  while (auto key = queue_->Get()) {
    ProcessKey(*key);
    queue_->Done(*key);
  }
}

void Controller::ProcessKey(const std::string& key) {
  const Request request = Request::FromKey(key);
  ReconcileContext context{.reconcile_id = RandomHex(16), .log = {}};
  context.log = Logger({{"controller", options_.name}, {"namespace", request.ns}, {"name", request.name},
                        {"reconcileID", context.reconcile_id}});
  const int active = ++active_workers_;
  if (metrics_ != nullptr) metrics_->SetWorkers(options_.name, active, options_.workers);
  const auto started = std::chrono::steady_clock::now();

  StatusOr<Action> result = Internal("reconciler did not return");
  try {
    result = reconciler_.Reconcile(request, context);
  } catch (const std::exception& error) {
    // A reconciler must return errors as values; a throw is a bug, but it must not kill the operator.
    result = Internal(std::string("reconciler threw: ") + error.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string outcome;
  if (!result.ok()) {
    outcome = "error";
    context.log.Error("reconcile failed; requeued with backoff",
                      {{"error", result.status().ToString()}, {"retries", std::to_string(queue_->NumRequeues(key))}});
    queue_->AddRateLimited(key);
  } else {
    queue_->Forget(key);
    if (result->requeue_after) {
      outcome = "requeue_after";
      queue_->AddAfter(key, *result->requeue_after);
    } else {
      outcome = "success";
    }
  }
  ++reconciles_;
  const int still_active = --active_workers_;
  if (metrics_ != nullptr) {
    metrics_->ReconcileFinished(options_.name, outcome, seconds);
    metrics_->SetWorkers(options_.name, still_active, options_.workers);
  }
}

}  // namespace financialapi::runtime
