// The API server's configuration from the environment (docs/api.md, "Configuration").
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "financialapi/service/config.h"

namespace financialapi::service {
namespace {

using Environment = std::map<std::string, std::string>;

EnvironmentLookup From(const Environment& environment) {
  return [environment](const char* name) -> std::optional<std::string> {
    const auto it = environment.find(name);
    if (it == environment.end()) return std::nullopt;
    return it->second;
  };
}

const std::string kDatabaseUrl = "postgresql://api:secret@postgres:5432/financial";

TEST(ServiceConfigTest, DefaultsWithOnlyTheDatabaseUrl) {
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->database_url, kDatabaseUrl);
  EXPECT_FALSE(config->redis_url.has_value());
  EXPECT_EQ(config->port, 8000);
  EXPECT_EQ(config->worker_threads, 8);
  EXPECT_EQ(config->db_pool_size, 8);
  EXPECT_EQ(config->statement_timeout_ms, 5000);
  EXPECT_EQ(config->cache_ttl_seconds, 300);
  EXPECT_EQ(config->local_cache_ttl_seconds, 5);
  EXPECT_EQ(config->local_cache_max_bytes, std::size_t{64} << 20);
  EXPECT_DOUBLE_EQ(config->rate_limit_rps, 10);
  EXPECT_DOUBLE_EQ(config->rate_limit_burst, 20);
  EXPECT_EQ(config->rate_limit_max_clients, 100'000u);
  EXPECT_EQ(config->auth_failures_per_minute, 10);
  EXPECT_FALSE(config->api_keys_file.has_value());
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->log_format, "text");
  EXPECT_EQ(config->gzip_min_bytes, 1024u);
  EXPECT_EQ(config->cache_key_prefix, "fapi:v1:");
  EXPECT_EQ(config->shutdown_delay_seconds, 0);
  EXPECT_EQ(config->shutdown_drain_seconds, 20);
}

TEST(ServiceConfigTest, ReadsEveryVariable) {
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl},
                                            {"REDIS_URL", "redis://:pw@redis:6380/2"},
                                            {"PORT", "9090"},
                                            {"WORKER_THREADS", "32"},
                                            {"DB_POOL_SIZE", "12"},
                                            {"DB_STATEMENT_TIMEOUT_MS", "750"},
                                            {"CACHE_TTL_SECONDS", "60"},
                                            {"LOCAL_CACHE_TTL_SECONDS", "2"},
                                            {"LOCAL_CACHE_MAX_MB", "128"},
                                            {"RATE_LIMIT_RPS", "2.5"},
                                            {"RATE_LIMIT_BURST", "7"},
                                            {"RATE_LIMIT_MAX_CLIENTS", "5000"},
                                            {"AUTH_FAILURES_PER_MINUTE", "3"},
                                            {"API_KEYS_FILE", "/etc/financialapi/api-keys"},
                                            {"TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8"},
                                            {"CACHE_KEY_PREFIX", "tenant-a:v1:"},
                                            {"GZIP_MIN_BYTES", "0"},
                                            {"LOG_LEVEL", "debug"},
                                            {"LOG_FORMAT", "json"},
                                            {"SHUTDOWN_DELAY_SECONDS", "10"},
                                            {"SHUTDOWN_DRAIN_SECONDS", "25"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->shutdown_delay_seconds, 10);
  EXPECT_EQ(config->shutdown_drain_seconds, 25);
  EXPECT_EQ(config->redis_url, "redis://:pw@redis:6380/2");
  EXPECT_EQ(config->port, 9090);
  EXPECT_EQ(config->worker_threads, 32);
  EXPECT_EQ(config->db_pool_size, 12);
  EXPECT_EQ(config->statement_timeout_ms, 750);
  EXPECT_EQ(config->cache_ttl_seconds, 60);
  EXPECT_EQ(config->local_cache_ttl_seconds, 2);
  EXPECT_EQ(config->local_cache_max_bytes, std::size_t{128} << 20);
  EXPECT_DOUBLE_EQ(config->rate_limit_rps, 2.5);
  EXPECT_DOUBLE_EQ(config->rate_limit_burst, 7);
  EXPECT_EQ(config->rate_limit_max_clients, 5000u);
  EXPECT_EQ(config->auth_failures_per_minute, 3);
  EXPECT_EQ(config->api_keys_file, "/etc/financialapi/api-keys");
  EXPECT_EQ(config->trusted_proxies, "10.0.0.0/8,fd00::/8");
  EXPECT_EQ(config->cache_key_prefix, "tenant-a:v1:");
  EXPECT_EQ(config->gzip_min_bytes, 0u);
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->log_format, "json");
}

TEST(ServiceConfigTest, PoolSizeFollowsWorkerThreadsUnlessSet) {
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl}, {"WORKER_THREADS", "24"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->worker_threads, 24);
  EXPECT_EQ(config->db_pool_size, 24);
}

TEST(ServiceConfigTest, ZeroTurnsCachingAndRateLimitingOff) {
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl},
                                            {"CACHE_TTL_SECONDS", "0"},
                                            {"LOCAL_CACHE_TTL_SECONDS", "0"},
                                            {"LOCAL_CACHE_MAX_MB", "0"},
                                            {"RATE_LIMIT_RPS", "0"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cache_ttl_seconds, 0);
  EXPECT_EQ(config->local_cache_ttl_seconds, 0);
  EXPECT_EQ(config->local_cache_max_bytes, 0u);
  EXPECT_DOUBLE_EQ(config->rate_limit_rps, 0);
}

TEST(ServiceConfigTest, MalformedValuesAreNamedInTheError) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"PORT", "http"},           {"PORT", "0"},
      {"RATE_LIMIT_MAX_CLIENTS", "0"}, {"AUTH_FAILURES_PER_MINUTE", "0"},
      {"PORT", "65536"},          {"PORT", "80 "},
      {"PORT", " 80"},            {"PORT", "-80"},
      {"PORT", ""},               {"PORT", "8e3"},
      {"WORKER_THREADS", "0"},    {"WORKER_THREADS", "257"},
      {"WORKER_THREADS", "x"},    {"DB_POOL_SIZE", "0"},
      {"DB_POOL_SIZE", "513"},    {"DB_STATEMENT_TIMEOUT_MS", "0"},
      {"DB_STATEMENT_TIMEOUT_MS", "600001"}, {"CACHE_TTL_SECONDS", "-1"},
      {"CACHE_TTL_SECONDS", "5m"}, {"LOCAL_CACHE_TTL_SECONDS", "86401"},
      {"LOCAL_CACHE_MAX_MB", "1.5"}, {"LOCAL_CACHE_MAX_MB", "65537"},
      {"GZIP_MIN_BYTES", "1KiB"}, {"GZIP_MIN_BYTES", "-1"},
      {"RATE_LIMIT_RPS", "fast"}, {"RATE_LIMIT_RPS", "-1"},
      {"RATE_LIMIT_RPS", "nan"},  {"RATE_LIMIT_RPS", "inf"},
      {"RATE_LIMIT_RPS", "1e7"},  {"RATE_LIMIT_BURST", "0"},
      {"RATE_LIMIT_BURST", "0.5"}, {"RATE_LIMIT_BURST", "20x"},
      {"PORT", "99999999999999999999"},
      {"SHUTDOWN_DELAY_SECONDS", "-1"}, {"SHUTDOWN_DELAY_SECONDS", "3601"},
      {"SHUTDOWN_DRAIN_SECONDS", "10s"},
  };
  for (const auto& [name, value] : bad) {
    auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl}, {name, value}}));
    ASSERT_FALSE(config.ok()) << name << "=" << value << " accepted";
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << name << "=" << value;
    const std::string& message = config.status().message();
    EXPECT_TRUE(message.starts_with(name + ": expected ")) << message;
    EXPECT_NE(message.find("got '" + value + "'"), std::string::npos) << message;
  }
}

TEST(ServiceConfigTest, ABadTrustedProxyIsNamed) {
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl}, {"TRUSTED_PROXIES", "10.0.0.0/8, ingress"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "TRUSTED_PROXIES: 'ingress' is not an IP address or CIDR block (e.g. 10.0.0.0/8 or fd00::/8)");
}

TEST(ServiceConfigTest, AnEmptyApiKeysFileIsAnErrorNotOpenAccess) {
  // Set but empty is neither "no keys" nor a file: refused at start, so it is seen and fixed.
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl}, {"API_KEYS_FILE", ""}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), "API_KEYS_FILE: set but empty; name the key file, or unset it for an API without keys");
}

TEST(ServiceConfigTest, ErrorStatesTheAcceptedRange) {
  auto config = ConfigFromEnvironment(From({{"DATABASE_URL", kDatabaseUrl}, {"WORKER_THREADS", "x"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "WORKER_THREADS: expected an integer 1..256, got 'x'");
}

TEST(ServiceConfigTest, MissingDatabaseUrl) {
  auto config = ConfigFromEnvironment(From({{"PORT", "8000"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(config.status().message().starts_with("DATABASE_URL: not set")) << config.status();
}

// Without a lookup the process environment is read (an empty variable counts as unset).
TEST(ServiceConfigTest, ReadsTheProcessEnvironmentByDefault) {
  ASSERT_EQ(::setenv("DATABASE_URL", "postgresql://from-env/db", 1), 0);
  ASSERT_EQ(::setenv("PORT", "8123", 1), 0);
  ASSERT_EQ(::setenv("REDIS_URL", "", 1), 0);
  auto config = ConfigFromEnvironment();
  ::unsetenv("PORT");
  ::unsetenv("REDIS_URL");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->database_url, "postgresql://from-env/db");
  EXPECT_EQ(config->port, 8123);
  EXPECT_FALSE(config->redis_url.has_value());

  ::unsetenv("DATABASE_URL");
  auto missing = ConfigFromEnvironment();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("DATABASE_URL"), std::string::npos);
}

}  // namespace
}  // namespace financialapi::service
