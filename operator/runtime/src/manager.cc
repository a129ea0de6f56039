#include "financialapi/runtime/manager.h"

#include <thread>

#include <cpprest/http_listener.h>

#include "financialapi/common/logging.h"

namespace financialapi::runtime {

// /healthz, /readyz and /metrics over cpprestsdk's listener (a few requests a minute: its
// throughput limits do not matter here).
class ProbeServer {
 public:
  using Handler = std::function<std::pair<int, std::string>()>;

  static StatusOr<std::unique_ptr<ProbeServer>> Start(const std::string& address,
                                                      std::vector<std::pair<std::string, Handler>> routes) {
    auto server = std::unique_ptr<ProbeServer>(new ProbeServer(std::move(routes)));
    try {
      server->listener_ = std::make_unique<web::http::experimental::listener::http_listener>(
          web::uri("http://" + address));
      server->listener_->support(web::http::methods::GET,
                                 [raw = server.get()](const web::http::http_request& request) { raw->Serve(request); });
      server->listener_->open().wait();
    } catch (const std::exception& error) {
      return Unavailable("cannot listen on " + address + ": " + error.what());
    }
    return server;
  }

  ~ProbeServer() {
    try {
      if (listener_) listener_->close().wait();
    } catch (const std::exception&) {
      // Closing a listener that failed to open throws; nothing is left to release then.
    }
  }

 private:
  explicit ProbeServer(std::vector<std::pair<std::string, Handler>> routes) : routes_(std::move(routes)) {}

  void Serve(const web::http::http_request& request) {
    const std::string path = request.relative_uri().path();
    int code = 404;
    std::string body = "not found\n";
    std::string content_type = "text/plain; charset=utf-8";
    for (const auto& [route, handler] : routes_) {
      if (route == path) {
        std::tie(code, body) = handler();
        if (route == "/metrics") content_type = "text/plain; version=0.0.4; charset=utf-8";
        break;
      }
    }
    web::http::http_response response(static_cast<web::http::status_code>(code));
    response.headers().set_content_type(content_type);
    response.set_body(std::vector<unsigned char>(body.begin(), body.end()));
    request.reply(response).then([](pplx::task<void> sent) {
      try {
        sent.get();
      } catch (const std::exception&) {
        // The prober went away before the answer; nothing to do.
      }
    });
  }

  std::vector<std::pair<std::string, Handler>> routes_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
};

std::function<void(const kube::RequestRecord&)> Manager::ClientRequestRecorder(std::shared_ptr<RuntimeMetrics> metrics) {
  return [metrics](const kube::RequestRecord& record) { metrics->RecordClientRequest(record); };
}

Manager::Manager(kube::Client& client, ManagerOptions options, std::shared_ptr<RuntimeMetrics> metrics)
    : client_(client), options_(std::move(options)),
      metrics_(metrics ? std::move(metrics) : std::make_shared<RuntimeMetrics>()),
      events_(std::make_unique<EventRecorder>(client_, options_.name, options_.identity)) {}

Manager::~Manager() {
  RequestStop();
  for (auto& controller : controllers_) controller->Stop();
}

Controller& Manager::AddController(ControllerOptions options, Reconciler& reconciler) {
  controllers_.push_back(std::make_unique<Controller>(client_, std::move(options), reconciler, metrics_.get()));
  return *controllers_.back();
}

bool Manager::Ready() const {
  for (const auto& controller : controllers_) {
    if (!controller->CachesSynced()) return false;
  }
  return true;
}

void Manager::RequestStop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  stop_wake_.notify_all();
  // The elector keeps the lease until the controllers have drained (see Run).
}

void Manager::StartWorkers() {
  for (auto& controller : controllers_) controller->StartWorkers();
}

Status Manager::Run() {
  const Logger log({{"identity", options_.identity}});
  for (const auto& [address, routes] : std::vector<std::pair<std::string, std::vector<std::pair<std::string, ProbeServer::Handler>>>>{
           {options_.health_address,
            {{"/healthz", [] { return std::make_pair(200, std::string("ok\n")); }},
             {"/readyz", [this] { return Ready() ? std::make_pair(200, std::string("ok\n"))
                                                 : std::make_pair(503, std::string("caches not synced\n")); }}}},
           {options_.metrics_address, {{"/metrics", [this] { return std::make_pair(200, metrics_->Serialize()); }}}}}) {
    if (address.empty()) continue;
    auto server = ProbeServer::Start(address, routes);
    if (!server.ok()) return server.status();
    servers_.push_back(std::move(server).value());
  }

  for (auto& controller : controllers_) controller->StartCaches();
  const auto deadline = std::chrono::steady_clock::now() + options_.cache_sync_timeout;
  for (auto& controller : controllers_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!controller->WaitForCacheSync(std::max(left, std::chrono::milliseconds(0)))) {
      return Timeout("caches of controller " + controller->name() + " did not sync within " +
                     std::to_string(options_.cache_sync_timeout.count()) + " ms");
    }
  }
  log.Info("caches synced", {{"controllers", std::to_string(controllers_.size())}});

  std::thread election;
  if (options_.leader_election) {
    LeaderElectionOptions election_options = options_.leader_election_options;
    if (election_options.identity.empty()) election_options.identity = options_.identity;
    elector_ = std::make_unique<LeaderElector>(
        client_, election_options,
        LeaderElector::Callbacks{
            .on_started_leading = [this] {
              leading_ = true;
              metrics_->SetLeader(options_.leader_election_options.lease_name, true);
              StartWorkers();
            },
            .on_stopped_leading = [this, log] {
              // Before anything else: from here on another replica may soon lead.
              for (auto& controller : controllers_) controller->StopTakingKeys();
              leading_ = false;
              log.Error("leadership lost; the workers take no more keys");
              metrics_->SetLeader(options_.leader_election_options.lease_name, false);
              {
                std::lock_guard lock(mutex_);
                lost_lease_ = true;
              }
              stop_wake_.notify_all();
            },
            .on_new_leader = [log](const std::string& holder) { log.Info("leader is elsewhere", {{"leader", holder}}); }});
    election = std::thread([this] {
      (void)elector_->Run();
      RequestStop();  // leadership ended (lost or released): the manager stops too
    });
  } else {
    leading_ = true;
    StartWorkers();
  }

  bool lost_lease = false;
  {
    std::unique_lock lock(mutex_);
    stop_wake_.wait(lock, [this] { return stop_requested_ || lost_lease_; });
    lost_lease = lost_lease_;
  }
  if (lost_lease) {
    // No drain: an in-flight reconcile may be blocked on the API server that cost the lease, and
    // must not write after another replica leads. The caller exits now (see Run's contract).
    election.join();  // the elector returns right after its callback
    return Status(StatusCode::kUnavailable, "leader lease lost", std::string(kReasonLeaseLost));
  }
  log.Info("stopping: finishing in-flight reconciles");
  // Controllers first (drain), then the lease: no reconcile runs after the lease is given up.
  for (auto& controller : controllers_) controller->Stop();
  if (election.joinable()) {
    elector_->Stop();
    election.join();
  }
  servers_.clear();
  log.Info("stopped");
  return Status::Ok();
}

}  // namespace financialapi::runtime
