// financial-api-server: serves SEC EDGAR financial data from PostgreSQL behind a Redis cache.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "financialapi/common/file.h"
#include "financialapi/common/logging.h"
#include "financialapi/common/version.h"
#include "financialapi/db/postgres.h"
#include "financialapi/db/redis.h"
#include "financialapi/sec/loader.h"
#include "financialapi/service/api.h"
#include "financialapi/service/config.h"
#include "financialapi/store/schema.h"
#include "financialapi/warmup/warmup.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: financial-api-server [command] [flags]

Serves SEC EDGAR financial data over HTTP from PostgreSQL with a Redis cache.

Commands:
  serve        serve the API on $PORT (the default command)
  load <dir>   apply the schema migrations and load SEC EDGAR documents from <dir>
               (company_tickers.json, submissions/, companyfacts/) into $DATABASE_URL
  migrate      apply the schema migrations only
  check        connect to $DATABASE_URL and $REDIS_URL and report what answers
  warmup       request what a warm cache needs for some tickers through the API (below)

Environment (all of them in docs/api.md):
  DATABASE_URL       PostgreSQL URL (postgresql://user:password@host:5432/db)
  REDIS_URL          Redis URL (redis://host:6379/0); unset: no shared cache
  PORT               listen port (8000)
  WORKER_THREADS     threads serving requests (8)
  CACHE_TTL_SECONDS  Redis cache TTL (300; 0 turns caching off)
  RATE_LIMIT_RPS, RATE_LIMIT_BURST  per-client limit (10, 20; 0 turns it off)
  API_KEYS_FILE      file of accepted API keys, one per line (unset: no keys needed; set but
                     missing, unreadable or empty: data endpoints answer 503)
  LOG_LEVEL, LOG_FORMAT  debug|info|warn|error, text|json
  SHUTDOWN_DELAY_SECONDS  after SIGTERM, serve this long with /ready at 503 (0)
  SHUTDOWN_DRAIN_SECONDS  then the longest wait for in-flight requests (20)

Flags:
  --version     print the version and exit
  --help        print this help and exit

warmup [flags]: for each ticker GET the company, its filings and its annual income, balance and
cash-flow statements (docs/api.md, "Cache warm-up"); one line per request, then a summary. A 429
waits out its Retry-After (at most 30 s a wait) and retries; a 5xx or no answer retries after 0.5,
1, 2, 4 s (5 attempts); other statuses fail at once. A flag not given is read from its variable:
  --api URL            API base URL, http://host[:port][/path] ($WARMUP_API_URL)
  --tickers LIST       tickers or CIKs, comma or space separated ($WARMUP_TICKERS)
  --api-key-file FILE  FILE's first key (API_KEYS_FILE format), sent as X-API-Key
                       ($WARMUP_API_KEY_FILE; unset: no key sent)
  --timeout SECONDS    per request, default 30 ($WARMUP_TIMEOUT_SECONDS)
  --deadline SECONDS   the whole run, default 300 ($WARMUP_DEADLINE_SECONDS)
  Exit status: 0 every request succeeded, 1 some failed, 2 bad flags (nothing requested).
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

financialapi::StatusOr<std::unique_ptr<financialapi::db::PostgresConnection>> ConnectDatabase() {
  const auto url = financialapi::GetEnv("DATABASE_URL");
  if (!url) return financialapi::InvalidArgument("DATABASE_URL is not set");
  return financialapi::db::PostgresConnection::Connect(*url);
}

int Migrate() {
  auto connection = ConnectDatabase();
  if (!connection.ok()) {
    std::fprintf(stderr, "error: %s\n", connection.status().ToString().c_str());
    return 1;
  }
  const auto applied = financialapi::store::Migrate(**connection);
  if (!applied.ok()) {
    std::fprintf(stderr, "error: %s\n", applied.status().ToString().c_str());
    return 1;
  }
  std::printf("migrations applied: %d\n", *applied);
  return 0;
}

int Load(const std::string& dir) {
  auto connection = ConnectDatabase();
  if (!connection.ok()) {
    std::fprintf(stderr, "error: %s\n", connection.status().ToString().c_str());
    return 1;
  }
  financialapi::sec::Loader loader(**connection);
  const auto report = loader.LoadDirectory(dir, [](std::string_view file) {
    std::fprintf(stderr, "loading %.*s\n", static_cast<int>(file.size()), file.data());
  });
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("loaded: %zu ticker entries, %zu submissions documents (+%zu older pages, %zu filings), "
              "%zu companyfacts documents (%zu concepts, %zu facts)\n",
              report->ticker_entries, report->submissions_documents, report->submissions_pages, report->filings,
              report->companyfacts_documents, report->concepts, report->facts);
  for (const auto& failure : report->failures) std::fprintf(stderr, "not loaded: %s\n", failure.c_str());
  return report->failures.empty() ? 0 : 1;
}

// Serves until SIGTERM or SIGINT, then drains: stop accepting, finish in-flight requests.
int Serve() {
  auto config = financialapi::service::ConfigFromEnvironment();
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", config.status().message().c_str());
    return 2;
  }
  financialapi::LogFormat format = financialapi::LogFormat::kText;
  financialapi::LogLevel level = financialapi::LogLevel::kInfo;
  if (!financialapi::ParseLogFormat(config->log_format, format) || !financialapi::ParseLogLevel(config->log_level, level)) {
    std::fprintf(stderr, "error: LOG_FORMAT must be text|json and LOG_LEVEL debug|info|warn|error\n");
    return 2;
  }
  financialapi::ConfigureLogging(format, level);
  const financialapi::Logger log(financialapi::LogFields{{"component", "financial-api-server"}});

  // Blocked before any thread starts, so every thread inherits the mask and only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto api = financialapi::service::FinancialApi::Create(*config);
  if (!api.ok()) {
    std::fprintf(stderr, "error: %s\n", api.status().message().c_str());
    return 2;
  }
  financialapi::service::FinancialApi* service = api->get();
  (void)service->Readiness();  // applies the schema and opens the first connections when it can
  service->StartBackground();
  auto server = financialapi::http::Server::Start(
      financialapi::service::HttpServerOptions(*config),
      [service](const financialapi::http::Request& request) { return service->Handle(request); });
  if (!server.ok()) {
    log.Error("cannot serve", {{"error", server.status().message()}});
    return 1;
  }
  log.Info("serving", {{"port", std::to_string((*server)->port())},
                       {"threads", std::to_string(config->worker_threads)},
                       {"cacheTTLSeconds", std::to_string(config->cache_ttl_seconds)},
                       {"redis", config->redis_url ? "on" : "off"}});
  int received = 0;
  sigwait(&signals, &received);
  log.Info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"},
                             {"delaySeconds", std::to_string(config->shutdown_delay_seconds)},
                             {"drainSeconds", std::to_string(config->shutdown_drain_seconds)}});
  // The endpoint leaves the Services only after the SIGTERM (endpoint controller, then every
  // kube-proxy): until then new connections still arrive, so keep serving them, with /ready down and
  // every answer closing its connection, and stop accepting only after the delay. A second signal
  // cuts the delay short.
  service->BeginShutdown();
  (*server)->BeginDrain();
  if (config->shutdown_delay_seconds > 0) {
    const timespec delay{.tv_sec = config->shutdown_delay_seconds, .tv_nsec = 0};
    if (sigtimedwait(&signals, nullptr, &delay) > 0) log.Info("second signal: the shutdown delay is cut short");
  }
  log.Info("draining: no new connections, finishing in-flight requests");
  (*server)->Shutdown(std::chrono::seconds(config->shutdown_drain_seconds));
  service->StopBackground();
  log.Info("stopped");
  return 0;
}

int Warmup(const std::vector<std::string>& args) {
  namespace warmup = financialapi::warmup;
  const auto options = warmup::ParseOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "error: warmup: %s\n", options.status().message().c_str());
    return warmup::kExitUsage;
  }
  if (options->help) {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return warmup::kExitSucceeded;
  }
  const auto transport = warmup::MakeHttpTransport(options->api);
  const auto report = warmup::Run(*options, *transport, financialapi::SystemClock::Get(), {},
                                  [](const warmup::RequestResult& result) {
                                    std::printf("%s\n", warmup::FormatResult(result).c_str());
                                    std::fflush(stdout);
                                  });
  std::printf("%s\n", warmup::FormatSummary(report).c_str());
  return report.ExitCode();
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
    if (arg == "serve") return Serve();
    if (arg == "check") return Check();
    if (arg == "migrate") return Migrate();
    if (arg == "warmup") return Warmup(std::vector<std::string>(argv + 2, argv + argc));
    if (arg == "load") {
      if (argc != 3) {
        std::fprintf(stderr, "error: load takes one argument, the data directory\n");
        return 2;
      }
      return Load(argv[2]);
    }
    std::fprintf(stderr, "error: unknown command or flag %.*s\n\n%.*s", static_cast<int>(arg.size()), arg.data(),
                 static_cast<int>(kUsage.size()), kUsage.data());
    return 2;
  }
  return Serve();
}
