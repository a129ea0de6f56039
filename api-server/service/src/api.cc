#include "financialapi/service/api.h"

#include <cstdio>
#include <chrono>

#include "financialapi/common/sha256.h"
#include "financialapi/db/postgres.h"
#include "financialapi/store/schema.h"

namespace financialapi::service {
namespace {

using nlohmann::json;

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kTooManyRequests: return 429;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout: return 503;
    default: return 500;
  }
}

http::Response ErrorFor(const Status& status) { return http::ErrorResponse(HttpStatusFor(status), status.message()); }

http::Response TooManyRequests(const std::string& what, int retry_after_seconds) {
  auto response = http::ErrorResponse(429, what + "; retry after " + std::to_string(retry_after_seconds) + " s");
  response.headers.push_back({"Retry-After", std::to_string(retry_after_seconds)});
  return response;
}

}  // namespace

StatusOr<std::unique_ptr<FinancialApi>> FinancialApi::Create(const ServiceConfig& config, const Clock& clock) {
  std::unique_ptr<FinancialApi> api(new FinancialApi(config, clock));
  std::unique_ptr<RedisCache> redis;
  if (config.redis_url && config.cache_ttl_seconds > 0) {
    FINANCIALAPI_ASSIGN_OR_RETURN(auto endpoint, db::ParseRedisUrl(*config.redis_url));
    redis = std::make_unique<RedisCache>(endpoint, config.worker_threads, config.cache_key_prefix);
  }
  std::unique_ptr<LocalCache> local;
  if (config.local_cache_ttl_seconds > 0 && config.local_cache_max_bytes > 0) {
    local = std::make_unique<LocalCache>(config.local_cache_max_bytes, std::chrono::seconds(config.local_cache_ttl_seconds),
                                         clock);
  }
  FinancialApi* raw = api.get();
  CacheObserver observer{
      .on_lookup = [raw](std::string_view layer, std::string_view result) { raw->metrics_.ObserveCacheLookup(layer, result); },
      .on_redis_error =
          [raw](const Status& error) {
            raw->metrics_.SetDependencyUp("redis", false);
            raw->log_.Debug("redis cache unavailable, answering from PostgreSQL", {{"error", error.message()}});
          },
  };
  api->cache_ = std::make_unique<ResponseCache>(std::move(local), std::move(redis), config.cache_ttl_seconds,
                                                config.gzip_min_bytes, std::move(observer));
  // Read the key file now, so a broken one is in the log at start, not at the first request.
  api->api_keys_.Usable();
  return api;
}

namespace {

// ConfigFromEnvironment has refused a bad list already; a config built in code with one trusts nobody.
TrustedProxies TrustedProxiesOrNone(const std::string& list) {
  auto parsed = TrustedProxies::Parse(list);
  return parsed.ok() ? *parsed : TrustedProxies();
}

}  // namespace

FinancialApi::FinancialApi(const ServiceConfig& config, const Clock& clock)
    : config_(config),
      clock_(clock),
      log_(LogFields{{"component", "financial-api-server"}}),
      database_({.size = config.db_pool_size, .acquire_timeout = std::chrono::milliseconds(2000),
                 .retry_after = std::chrono::seconds(1)},
                [url = config.database_url, timeout = config.statement_timeout_ms, prepare = config.prepared_statements]()
                    -> StatusOr<std::unique_ptr<db::PostgresConnection>> {
                  FINANCIALAPI_ASSIGN_OR_RETURN(auto connection, db::PostgresConnection::Connect(url, 2));
                  // statement_timeout ends a slow statement on the server; this bounds the wait for a
                  // server that does not answer at all, and comes a second after the server's cancel.
                  connection->set_query_deadline(std::chrono::milliseconds(timeout + 1000));
                  // A query that runs away holds a worker thread: bound it. Sent before statements are
                  // prepared, so this one-off is not kept as a named statement on the server.
                  FINANCIALAPI_RETURN_IF_ERROR(
                      connection->Execute("SET statement_timeout = " + std::to_string(timeout)).status());
                  connection->set_prepare_statements(prepare);
                  return connection;
                }),
      rate_limiter_(config.rate_limit_rps, config.rate_limit_burst, clock, config.rate_limit_max_clients),
      auth_failures_(config.auth_failures_per_minute / 60.0, config.auth_failures_per_minute, clock,
                     config.rate_limit_max_clients),
      trusted_proxies_(TrustedProxiesOrNone(config.trusted_proxies)),
      api_keys_(config.api_keys_file ? std::optional<std::filesystem::path>(*config.api_keys_file) : std::nullopt,
                std::chrono::seconds(5), clock, [this](const Status& file_status) {
                  // Once per change, not per request. The path is for operators; answers never carry it.
                  if (file_status.ok()) {
                    log_.Info("API keys loaded");
                  } else {
                    log_.Error("API keys required but none usable: data endpoints answer 503",
                               {{"error", file_status.message()}});
                  }
                }) {
  metrics_.SetDatabasePool(0, config.db_pool_size);
}

FinancialApi::~FinancialApi() {
  StopBackground();
  std::thread checker;
  {
    std::lock_guard lock(readiness_mutex_);
    checker = std::move(readiness_checker_);
  }
  if (checker.joinable()) checker.join();
}

StatusOr<json> FinancialApi::WithDatabase(const std::function<StatusOr<json>(db::PostgresConnection&)>& query) {
  // What went wrong is logged; the answer says only that the database is unavailable, because
  // libpq's messages name hosts, ports and users.
  auto lease = database_.Acquire();
  metrics_.SetDatabasePool(database_.InUse(), database_.size());
  if (!lease.ok()) {
    metrics_.SetDependencyUp("postgres", false);
    log_.Debug("PostgreSQL is unavailable", {{"error", lease.status().message()}});
    return Unavailable("PostgreSQL is unavailable");
  }
  auto result = query(**lease);
  if (!result.ok()) {
    const Status& error = result.status();
    if (error.code() == StatusCode::kUnavailable) {
      // The connection is lost, or PostgreSQL (or PgBouncer) did not answer in time: the next
      // requests are refused at once for a second instead of each waiting for its own deadline.
      database_.Trip(Unavailable("PostgreSQL did not answer or the connection was lost"));
      lease->Discard();
      metrics_.SetDependencyUp("postgres", false);
      log_.Warn("PostgreSQL is unavailable", {{"error", error.message()}});
      return Unavailable("PostgreSQL is unavailable");
    }
    if (error.reason() == db::kSqlStateUndefinedTable) {
      return Unavailable("the database schema is not set up yet (financial-api-server migrate)");
    }
    if (error.reason() == db::kSqlStateQueryCanceled) {
      return Unavailable("the query took longer than " + std::to_string(config_.statement_timeout_ms) + " ms");
    }
    if (error.code() != StatusCode::kNotFound) {
      log_.Error("query failed", {{"error", error.message()}});
      return Internal("internal error");
    }
  }
  return result;
}

http::Response FinancialApi::Serve(const http::Request& request, const std::string& cache_key,
                                   const std::function<StatusOr<json>(db::PostgresConnection&)>& query) {
  auto answer = cache_->GetOrCompute(cache_key, [&]() -> StatusOr<std::string> {
    FINANCIALAPI_ASSIGN_OR_RETURN(auto document, WithDatabase(query));
    return document.dump(-1, ' ', false, json::error_handler_t::replace);
  });
  if (!answer.ok()) return ErrorFor(answer.status());
  http::Response response;
  const CachedBody& body = *answer->body;
  if (body.gzip && http::AcceptsGzip(request)) {
    response.shared_body = body.gzip;
    response.headers.push_back({"Content-Encoding", "gzip"});
  } else {
    response.shared_body = body.body;
  }
  if (body.gzip) response.headers.push_back({"Vary", "Accept-Encoding"});
  response.headers.push_back({"X-Cache", std::string(CacheSourceName(answer->source))});
  return response;
}

http::Response FinancialApi::Handle(const http::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  // The server always fills raw_path; a request built by hand with only `path` is matched on that.
  const RouteMatch match = MatchRoute(request.raw_path.empty() ? std::string_view(request.path) : request.raw_path);
  std::string_view endpoint = match.route ? match.route->name : "unmatched";
  http::Response response;
  if (request.method != "GET" && request.method != "HEAD") {
    response = http::ErrorResponse(405, "method " + request.method + " is not allowed: use GET");
    response.headers.push_back({"Allow", "GET, HEAD"});
  } else {
    response = Dispatch(request, match);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.ObserveRequest(request.method == "HEAD" ? "HEAD" : (request.method == "GET" ? "GET" : "OTHER"), endpoint,
                          response.status, seconds);
  if (response.status >= 500) {
    log_.Warn("request failed", {{"path", request.path}, {"status", std::to_string(response.status)},
                                 {"error", std::string(response.Body())}});
  }
  return response;
}

http::Response FinancialApi::Dispatch(const http::Request& request, const RouteMatch& match) {
  if (!match.route) return http::ErrorResponse(404, "no such endpoint: " + request.path + " (see docs/api.md)");
  switch (match.route->kind) {
    case RouteKind::kHealth: return http::Response{.status = 200, .body = R"({"status":"ok"})"};
    case RouteKind::kReady: return Readiness();
    case RouteKind::kMetrics: {
      metrics_.SetDatabasePool(database_.InUse(), database_.size());
      return http::Response{.status = 200, .content_type = "text/plain; version=0.0.4", .body = metrics_.Serialize()};
    }
    case RouteKind::kData: break;
  }
  // Data endpoints: who is asking (key, rate limit) before any input is looked at.
  if (auto refused = Admit(request)) return std::move(*refused);
  auto query = PrepareQuery(match, request);
  if (!query.ok()) return ErrorFor(query.status());
  return Serve(request, query->cache_key, query->run);
}

std::string FinancialApi::ClientAddress(const http::Request& request) const {
  if (trusted_proxies_.empty()) return request.remote_address;
  std::string forwarded_for;  // several X-Forwarded-For headers are one list, in arrival order
  for (const http::Header& header : request.headers) {
    if (header.name == "x-forwarded-for") forwarded_for += (forwarded_for.empty() ? "" : ",") + header.value;
  }
  return trusted_proxies_.ClientAddress(request.remote_address, forwarded_for);
}

std::optional<http::Response> FinancialApi::Admit(const http::Request& request) {
  const std::string address_bucket = ClientBucket(ClientAddress(request));
  std::string bucket = address_bucket;
  if (api_keys_.Enabled()) {
    // Guessing keys costs time: an address over its failures is refused, a right key included, so a
    // 200 never tells it which guess was right.
    if (const auto locked = auth_failures_.Peek(address_bucket); !locked.allowed) {
      return TooManyRequests("too many failed API key attempts", locked.retry_after_seconds);
    }
    std::optional<std::string_view> key = request.HeaderValue("x-api-key");
    if (!key) {
      if (const auto authorization = request.HeaderValue("authorization"); authorization && authorization->starts_with("Bearer ")) {
        key = authorization->substr(7);
      }
    }
    if (const Status allowed = api_keys_.Check(key); !allowed.ok()) {
      if (allowed.code() == StatusCode::kUnavailable) return ErrorFor(allowed);
      if (const auto failure = auth_failures_.Admit(address_bucket); !failure.allowed) {
        return TooManyRequests("too many failed API key attempts", failure.retry_after_seconds);
      }
      return ErrorFor(allowed);
    }
    // Only a verified key is a client of its own (kept as its hash, not in the clear); any other text
    // in X-API-Key would be a fresh bucket per request.
    bucket = "key:" + Sha256Hex(*key);
  }
  if (const auto decision = rate_limiter_.Admit(bucket); !decision.allowed) {
    metrics_.CountRateLimited();
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", config_.rate_limit_rps);
    return TooManyRequests("rate limit of " + std::string(rate) + " requests/s exceeded", decision.retry_after_seconds);
  }
  return std::nullopt;
}

http::Response FinancialApi::Readiness() {
  if (shutting_down_) {
    return http::Response{.status = 503, .body = R"({"status":"shutting down"})"};
  }
  std::unique_lock lock(readiness_mutex_);
  // Probes from every kubelet and load balancer would otherwise each cost a query.
  const bool stale = !readiness_ || clock_.Now() - readiness_checked_ >= std::chrono::seconds(1);
  if (stale && !readiness_checking_) {
    readiness_checking_ = true;
    if (readiness_checker_.joinable()) readiness_checker_.join();  // finished: it cleared readiness_checking_
    readiness_checker_ = std::thread([this] {
      http::Response checked = CheckDependencies();
      std::lock_guard done(readiness_mutex_);
      readiness_ = std::move(checked);
      readiness_checked_ = clock_.Now();
      readiness_checking_ = false;
      readiness_changed_.notify_all();
    });
  }
  if (!readiness_) {
    readiness_changed_.wait_for(lock, std::chrono::milliseconds(1500), [this] { return readiness_.has_value(); });
  }
  if (!readiness_) {
    return http::Response{.status = 503, .body = R"({"status":"unavailable","postgres":{"status":"checking"}})"};
  }
  return *readiness_;
}

http::Response FinancialApi::CheckDependencies() {
  // The details say what is wrong in words of our own: the errors behind them (logged) name hosts,
  // ports, users and files.
  json report = {{"status", "ready"}};
  bool ready = true;
  const auto database = WithDatabase([this](db::PostgresConnection& c) -> StatusOr<json> {
    // The server applies the schema itself (idempotent, under an advisory lock), so a fresh database
    // becomes usable without a separate migration step; until then it is not ready.
    if (!schema_ready_) {
      FINANCIALAPI_RETURN_IF_ERROR(store::Migrate(c).status());
      schema_ready_ = true;
    }
    FINANCIALAPI_RETURN_IF_ERROR(c.Execute("SELECT 1").status());
    return json();
  });
  if (database.ok()) {
    report["postgres"] = {{"status", "up"}};
    metrics_.SetDependencyUp("postgres", true);
  } else {
    ready = false;
    report["postgres"] = {{"status", "down"}, {"detail", database.status().message()}};
  }
  if (RedisCache* redis = cache_->redis(); redis == nullptr) {
    report["redis"] = {{"status", "disabled"},
                       {"detail", config_.redis_url ? "caching is off (CACHE_TTL_SECONDS=0)" : "REDIS_URL is not set"}};
  } else if (const Status pong = redis->Ping(); pong.ok()) {
    report["redis"] = {{"status", "up"}};
    metrics_.SetDependencyUp("redis", true);
  } else {
    log_.Debug("Redis is unavailable", {{"error", pong.message()}});
    report["redis"] = {{"status", "down"}, {"detail", "serving from PostgreSQL: Redis is unavailable"}};
    metrics_.SetDependencyUp("redis", false);
  }
  // Without a usable key nothing would be served: not ready (the log has the file's problem).
  if (!api_keys_.Usable()) {
    ready = false;
    report["apiKeys"] = {{"status", "error"}, {"detail", "API keys required but none usable"}};
  }
  if (!ready) report["status"] = "unavailable";
  return http::Response{.status = ready ? 200 : 503, .body = report.dump(-1, ' ', false, json::error_handler_t::replace)};
}

void FinancialApi::RefreshGauges() {
  metrics_.SetDatabasePool(database_.InUse(), database_.size());
  if (RedisCache* redis = cache_->redis()) {
    if (auto memory = redis->ReadMemory(); memory.ok()) {
      metrics_.SetRedisMemory(static_cast<double>(memory->used_bytes), static_cast<double>(memory->max_bytes));
      metrics_.SetDependencyUp("redis", true);
    } else {
      metrics_.SetDependencyUp("redis", false);
    }
  }
}

void FinancialApi::StartBackground() {
  std::lock_guard lock(background_mutex_);
  if (background_.joinable()) return;
  background_stop_ = false;
  background_ = std::thread([this] {
    std::unique_lock wait_lock(background_mutex_);
    while (!background_stop_) {
      wait_lock.unlock();
      RefreshGauges();
      wait_lock.lock();
      background_wake_.wait_for(wait_lock, std::chrono::seconds(15), [this] { return background_stop_; });
    }
  });
}

void FinancialApi::StopBackground() {
  {
    std::lock_guard lock(background_mutex_);
    background_stop_ = true;
  }
  background_wake_.notify_all();
  if (background_.joinable()) background_.join();
}

}  // namespace financialapi::service
