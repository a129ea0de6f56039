// The API server's configuration, read from the environment the operator's Deployment sets
// (docs/api.md lists every variable and its default).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "financialapi/common/status.h"
#include "financialapi/http/server.h"

namespace financialapi::service {

struct ServiceConfig {
  std::string database_url;
  std::optional<std::string> redis_url;  // unset: no Redis layer
  int port = 8000;
  int worker_threads = 8;
  int db_pool_size = 8;
  int statement_timeout_ms = 5000;
  bool prepared_statements = true;    // off for a PgBouncer older than 1.21 in transaction mode
  int cache_ttl_seconds = 300;        // 0 turns caching off
  int local_cache_ttl_seconds = 5;
  std::size_t local_cache_max_bytes = 64u << 20;
  double rate_limit_rps = 10;         // 0 turns limiting off
  double rate_limit_burst = 20;
  std::size_t rate_limit_max_clients = 100'000;  // buckets kept; past it the least recently used goes
  // Failed API key checks (401/403) allowed per client address per minute, as a burst too; over it the
  // address is answered 429 until one is back, a right key included (guessing keys costs time).
  int auth_failures_per_minute = 10;
  std::optional<std::string> api_keys_file;
  std::string trusted_proxies;        // addresses/CIDRs whose X-Forwarded-For is believed ("" = none)
  std::string log_level = "info";
  std::string log_format = "text";
  std::size_t gzip_min_bytes = 1024;
  std::string cache_key_prefix = "fapi:v1:";  // Redis keys; replicas of one API share it
  int max_connections = 4096;         // open HTTP connections (each costs a descriptor and buffers)
  int max_connections_per_client = 256;  // per peer address (an ingress or proxy counts as one)
  // After SIGTERM: serve this long with /ready at 503 (while the endpoint leaves every Service), then
  // stop accepting and give in-flight requests up to shutdown_drain_seconds to finish.
  int shutdown_delay_seconds = 0;
  int shutdown_drain_seconds = 20;
};

// How the API's HTTP server runs (docs/api.md, "Limits"): handlers on WORKER_THREADS threads of
// their own and /health, /ready and /metrics (which never wait on a database) on the I/O threads; no
// request bodies; the connection limits; a response a client does not read is dropped after 30 s.
http::ServerOptions HttpServerOptions(const ServiceConfig& config, std::string address = "0.0.0.0");

using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;

// Reads the variables through `lookup` (the process environment by default). InvalidArgument naming
// the variable when one is malformed or out of range ("WORKER_THREADS: expected an integer 1..256,
// got 'x'"), or when DATABASE_URL is missing.
StatusOr<ServiceConfig> ConfigFromEnvironment(const EnvironmentLookup& lookup = {});

}  // namespace financialapi::service
