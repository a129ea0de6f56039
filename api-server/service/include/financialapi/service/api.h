// The Financial API: routes, input validation, cache-aside, rate limits, API keys, health and
// metrics, as one http::Handler. Endpoints and error shapes are documented in docs/api.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "financialapi/common/clock.h"
#include "financialapi/common/logging.h"
#include "financialapi/common/status.h"
#include "financialapi/db/connection_pool.h"
#include "financialapi/db/postgres.h"
#include "financialapi/http/server.h"
#include "financialapi/service/access.h"
#include "financialapi/service/cache.h"
#include "financialapi/service/config.h"
#include "financialapi/service/metrics.h"
#include "financialapi/service/routes.h"

namespace financialapi::service {

class FinancialApi {
 public:
  // Builds the service; connects lazily (the first request or readiness check opens connections), so
  // it starts while PostgreSQL or Redis are still coming up. InvalidArgument for a malformed REDIS_URL.
  static StatusOr<std::unique_ptr<FinancialApi>> Create(const ServiceConfig& config,
                                                        const Clock& clock = SystemClock::Get());
  ~FinancialApi();

  // Answers one request; never throws (errors become JSON error responses).
  http::Response Handle(const http::Request& request);

  // Readiness as /ready reports it: 200 with PostgreSQL up, 503 without; Redis down is a detail.
  // Never waits on a dependency once a first check has finished: it answers the last check's result
  // (at most about a second old) and starts the next check on a thread of its own. Only the very
  // first call waits, up to 1.5 s, for that first check.
  // Always 503 once BeginShutdown() was called.
  http::Response Readiness();
  // The process is stopping: /ready answers 503 from now on (every other endpoint still serves), so
  // load balancers that probe take this replica out while it drains. Thread-safe.
  void BeginShutdown() { shutting_down_ = true; }

  // Starts/stops the thread that refreshes the Redis memory and dependency gauges every 15 s.
  void StartBackground();
  void StopBackground();

  ServiceMetrics& metrics() { return metrics_; }

 private:
  explicit FinancialApi(const ServiceConfig& config, const Clock& clock);
  http::Response Dispatch(const http::Request& request, const RouteMatch& match);
  // The peer, or behind trusted proxies the client they forwarded for.
  std::string ClientAddress(const http::Request& request) const;
  // Authentication and the rate limit, one step before any route's input is read: the answer that
  // refuses the request (401, 403, 429, 503), or nullopt to serve it.
  std::optional<http::Response> Admit(const http::Request& request);
  http::Response Serve(const http::Request& request, const std::string& cache_key,
                       const std::function<StatusOr<nlohmann::json>(db::PostgresConnection&)>& query);
  StatusOr<nlohmann::json> WithDatabase(const std::function<StatusOr<nlohmann::json>(db::PostgresConnection&)>& query);
  void RefreshGauges();
  // The dependency checks behind Readiness (each call bounded by its deadline); no lock held.
  http::Response CheckDependencies();

  const ServiceConfig config_;
  const Clock& clock_;
  const Logger log_;
  ServiceMetrics metrics_;
  db::ConnectionPool<db::PostgresConnection> database_;
  std::unique_ptr<ResponseCache> cache_;
  RateLimiter rate_limiter_;
  RateLimiter auth_failures_;  // per client address: failed key checks allowed
  TrustedProxies trusted_proxies_;
  ApiKeys api_keys_;

  std::atomic<bool> schema_ready_{false};
  std::atomic<bool> shutting_down_{false};
  std::mutex readiness_mutex_;  // never held across I/O
  std::condition_variable readiness_changed_;
  Clock::TimePoint readiness_checked_{};
  std::optional<http::Response> readiness_;
  bool readiness_checking_ = false;
  std::thread readiness_checker_;  // the check in progress (or the last, finished one)

  std::mutex background_mutex_;
  std::condition_variable background_wake_;
  bool background_stop_ = false;
  std::thread background_;
};

}  // namespace financialapi::service
