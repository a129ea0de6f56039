// financial-api-server: serves SEC EDGAR financial data from PostgreSQL behind a Redis cache.
#include <cstdio>
#include <string>
#include <string_view>

#include "financialapi/common/file.h"
#include "financialapi/common/version.h"
#include "financialapi/db/postgres.h"
#include "financialapi/db/redis.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: financial-api-server [command] [flags]

Serves SEC EDGAR financial data over HTTP from PostgreSQL with a Redis cache.

Commands:
  check        connect to $DATABASE_URL and $REDIS_URL and report what answers

Environment:
  DATABASE_URL  PostgreSQL URL (postgresql://user:password@host:5432/db)
  REDIS_URL     Redis URL (redis://host:6379/0)

Flags:
  --version     print the version and exit
  --help        print this help and exit
)";

int Check() {
  int failures = 0;
  const auto database_url = financialapi::GetEnv("DATABASE_URL");
  if (!database_url) {
    std::fprintf(stderr, "postgres: DATABASE_URL is not set\n");
    ++failures;
  } else if (auto pg = financialapi::db::PostgresConnection::Connect(*database_url); !pg.ok()) {
    std::fprintf(stderr, "postgres: %s\n", pg.status().ToString().c_str());
    ++failures;
  } else if (auto version = (*pg)->Execute("SHOW server_version"); !version.ok()) {
    std::fprintf(stderr, "postgres: %s\n", version.status().ToString().c_str());
    ++failures;
  } else {
    std::printf("postgres: ok (server %s)\n", version->rows.at(0).at(0).value_or("?").c_str());
  }
  const auto redis_url = financialapi::GetEnv("REDIS_URL");
  auto endpoint = financialapi::db::ParseRedisUrl(redis_url.value_or(""));
  if (!endpoint.ok()) {
    std::fprintf(stderr, "redis: %s\n", endpoint.status().ToString().c_str());
    ++failures;
  } else if (auto redis = financialapi::db::RedisConnection::Connect(*endpoint); !redis.ok()) {
    std::fprintf(stderr, "redis: %s\n", redis.status().ToString().c_str());
    ++failures;
  } else if (auto pong = (*redis)->Command({"PING"}); !pong.ok()) {
    std::fprintf(stderr, "redis: %s\n", pong.status().ToString().c_str());
    ++failures;
  } else {
    std::printf("redis: ok (%s)\n", pong->text.c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2) {
    const std::string_view arg = argv[1];
    if (arg == "--version") {
      std::printf("financial-api-server %.*s\n", static_cast<int>(financialapi::kVersion.size()), financialapi::kVersion.data());
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (arg == "check") return Check();
    std::fprintf(stderr, "error: unknown command or flag %.*s\n\n%.*s", static_cast<int>(arg.size()), arg.data(),
                 static_cast<int>(kUsage.size()), kUsage.data());
    return 2;
  }
  std::fprintf(stderr, "financial-api-server: the HTTP server is not built yet (issue 5); try 'check'\n");
  return 1;
}
