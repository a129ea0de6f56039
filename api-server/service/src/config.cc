#include "financialapi/service/config.h"

#include <charconv>
#include <cmath>

#include "financialapi/common/file.h"
#include "financialapi/service/access.h"

namespace financialapi::service {
namespace {

Status ReadInt(const EnvironmentLookup& lookup, const char* name, long min, long max, long& out) {
  const auto text = lookup(name);
  if (!text) return Status::Ok();
  long value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return InvalidArgument(std::string(name) + ": expected an integer " + std::to_string(min) + ".." +
                           std::to_string(max) + ", got '" + *text + "'");
  }
  out = value;
  return Status::Ok();
}

Status ReadNumber(const EnvironmentLookup& lookup, const char* name, double min, double max, double& out) {
  const auto text = lookup(name);
  if (!text) return Status::Ok();
  double value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || !std::isfinite(value) || value < min || value > max) {
    return InvalidArgument(std::string(name) + ": expected a number " + std::to_string(static_cast<long>(min)) + ".." +
                           std::to_string(static_cast<long>(max)) + ", got '" + *text + "'");
  }
  out = value;
  return Status::Ok();
}

}  // namespace

StatusOr<ServiceConfig> ConfigFromEnvironment(const EnvironmentLookup& given) {
  const EnvironmentLookup lookup = given ? given : [](const char* name) { return GetEnv(name); };
  ServiceConfig config;
  const auto database_url = lookup("DATABASE_URL");
  if (!database_url || database_url->empty()) return InvalidArgument("DATABASE_URL: not set (a libpq URL, postgresql://user:password@host/db)");
  config.database_url = *database_url;
  config.redis_url = lookup("REDIS_URL");
  long port = config.port, threads = config.worker_threads, timeout = config.statement_timeout_ms;
  long ttl = config.cache_ttl_seconds, local_ttl = config.local_cache_ttl_seconds;
  long local_mb = static_cast<long>(config.local_cache_max_bytes >> 20), gzip_min = static_cast<long>(config.gzip_min_bytes);
  long max_clients = static_cast<long>(config.rate_limit_max_clients), auth_failures = config.auth_failures_per_minute;
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "PORT", 1, 65535, port));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "WORKER_THREADS", 1, 256, threads));
  long pool = threads;
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "DB_POOL_SIZE", 1, 512, pool));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "DB_STATEMENT_TIMEOUT_MS", 1, 600000, timeout));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "CACHE_TTL_SECONDS", 0, 30 * 86400, ttl));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "LOCAL_CACHE_TTL_SECONDS", 0, 86400, local_ttl));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "LOCAL_CACHE_MAX_MB", 0, 65536, local_mb));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "GZIP_MIN_BYTES", 0, 1 << 30, gzip_min));
  long connections = config.max_connections, per_client = config.max_connections_per_client;
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "MAX_CONNECTIONS", 1, 1 << 20, connections));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "MAX_CONNECTIONS_PER_CLIENT", 1, 1 << 20, per_client));
  config.max_connections = static_cast<int>(connections);
  config.max_connections_per_client = static_cast<int>(per_client);
  long shutdown_delay = config.shutdown_delay_seconds, shutdown_drain = config.shutdown_drain_seconds;
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "SHUTDOWN_DELAY_SECONDS", 0, 3600, shutdown_delay));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "SHUTDOWN_DRAIN_SECONDS", 0, 3600, shutdown_drain));
  FINANCIALAPI_RETURN_IF_ERROR(ReadNumber(lookup, "RATE_LIMIT_RPS", 0, 1e6, config.rate_limit_rps));
  FINANCIALAPI_RETURN_IF_ERROR(ReadNumber(lookup, "RATE_LIMIT_BURST", 1, 1e6, config.rate_limit_burst));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "RATE_LIMIT_MAX_CLIENTS", 1, 10'000'000, max_clients));
  FINANCIALAPI_RETURN_IF_ERROR(ReadInt(lookup, "AUTH_FAILURES_PER_MINUTE", 1, 10'000, auth_failures));
  config.port = static_cast<int>(port);
  config.worker_threads = static_cast<int>(threads);
  config.db_pool_size = static_cast<int>(pool);
  config.statement_timeout_ms = static_cast<int>(timeout);
  config.cache_ttl_seconds = static_cast<int>(ttl);
  config.local_cache_ttl_seconds = static_cast<int>(local_ttl);
  config.local_cache_max_bytes = static_cast<std::size_t>(local_mb) << 20;
  config.gzip_min_bytes = static_cast<std::size_t>(gzip_min);
  config.rate_limit_max_clients = static_cast<std::size_t>(max_clients);
  config.auth_failures_per_minute = static_cast<int>(auth_failures);
  config.shutdown_delay_seconds = static_cast<int>(shutdown_delay);
  config.shutdown_drain_seconds = static_cast<int>(shutdown_drain);
  config.api_keys_file = lookup("API_KEYS_FILE");
  if (config.api_keys_file && config.api_keys_file->empty()) {
    return InvalidArgument("API_KEYS_FILE: set but empty; name the key file, or unset it for an API without keys");
  }
  if (const auto proxies = lookup("TRUSTED_PROXIES")) {
    if (auto parsed = TrustedProxies::Parse(*proxies); !parsed.ok()) {
      return InvalidArgument("TRUSTED_PROXIES: " + parsed.status().message());
    }
    config.trusted_proxies = *proxies;
  }
  if (const auto prepared = lookup("DB_PREPARED_STATEMENTS")) {
    if (*prepared != "true" && *prepared != "false") {
      return InvalidArgument("DB_PREPARED_STATEMENTS: expected true or false, got '" + *prepared + "'");
    }
    config.prepared_statements = *prepared == "true";
  }
  if (const auto prefix = lookup("CACHE_KEY_PREFIX")) config.cache_key_prefix = *prefix;
  if (const auto level = lookup("LOG_LEVEL")) config.log_level = *level;
  if (const auto format = lookup("LOG_FORMAT")) config.log_format = *format;
  return config;
}

http::ServerOptions HttpServerOptions(const ServiceConfig& config, std::string address) {
  http::ServerOptions options;
  options.address = std::move(address);
  options.port = config.port;
  // Two I/O threads parse and write for every connection; handlers, which may wait on PostgreSQL,
  // run on the worker threads, so a hung database never stops accepting, reading or /health.
  options.threads = 2;
  options.handler_threads = config.worker_threads;
  options.inline_paths = {"/health", "/ready", "/metrics"};
  options.max_body_bytes = 0;  // every endpoint is GET: no body is read before it is refused
  options.write_timeout = std::chrono::seconds(30);
  options.max_connections = static_cast<std::size_t>(config.max_connections);
  options.max_connections_per_client = static_cast<std::size_t>(config.max_connections_per_client);
  return options;
}

}  // namespace financialapi::service
