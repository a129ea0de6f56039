// `financial-api-server warmup`: requests what a warm cache needs for some tickers through the API
// (as users come, so the answers land in Redis for every replica), with the API key when the API wants
// one, waiting out 429s for as long as Retry-After says and retrying 5xx and connection errors.
// Errors are values; nothing here throws (Boost's exceptions are caught inside the transport).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "financialapi/common/clock.h"
#include "financialapi/common/status.h"
#include "financialapi/http/server.h"

namespace financialapi::warmup {

// What is requested for every ticker ("{ticker}" stands for it), in this order: the company profile,
// its filings and the three annual statements, each with the parameters clients send by default (the
// cache key includes them). The one list of warmed endpoints; docs/api.md ("Cache warm-up") shows it.
inline constexpr std::array<std::string_view, 5> kEndpoints = {
    "/v1/companies/{ticker}",
    "/v1/companies/{ticker}/filings",
    "/v1/companies/{ticker}/statements/income?period=annual",
    "/v1/companies/{ticker}/statements/balance?period=annual",
    "/v1/companies/{ticker}/statements/cashflow?period=annual",
};

// The header the API reads the key from (service/access: X-API-Key, or Authorization: Bearer).
inline constexpr std::string_view kApiKeyHeader = "X-API-Key";

// Exit codes of the command.
inline constexpr int kExitSucceeded = 0;  // every request answered 2xx
inline constexpr int kExitFailed = 1;     // at least one request failed
inline constexpr int kExitUsage = 2;      // bad flags or environment: nothing was requested

struct ApiUrl {
  std::string host;       // without brackets for an IPv6 literal
  int port = 80;
  std::string base_path;  // "" or "/prefix" (no trailing slash), put before every endpoint
  // host[:port] for the Host header (the port only when not 80; IPv6 in brackets).
  std::string HostHeader() const;
};

// Parses "http://host[:port][/path]". InvalidArgument saying what is wrong for another scheme (https
// too: the warm-up talks to the API Service inside the cluster), credentials, a query or fragment, an
// empty host or a port outside 1..65535.
StatusOr<ApiUrl> ParseApiUrl(std::string_view url);

// The first key in an API keys file of the format the server's API_KEYS_FILE has (one key a line,
// surrounding whitespace trimmed, blank lines and '#' comments skipped). ReadFile's NotFound /
// PermissionDenied / Internal (naming the file) when it cannot be read; InvalidArgument when it holds
// no key or the first one has a control character (it is sent in a header).
StatusOr<std::string> FirstApiKey(const std::string& path);

// "AAPL,MSFT", "AAPL MSFT" or a mix: tickers (or CIKs) in order, duplicates dropped. InvalidArgument
// naming the entry for one that is not 1-13 of A-Z a-z 0-9 . - (nothing else may reach the path).
StatusOr<std::vector<std::string>> ParseTickers(std::string_view list);

// The request targets, ticker by ticker: base_path + every kEndpoints entry.
std::vector<std::string> Targets(const ApiUrl& api, const std::vector<std::string>& tickers);

struct Options {
  ApiUrl api;
  std::vector<std::string> tickers;
  std::optional<std::string> api_key;  // sent as X-API-Key on every request when set
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // one attempt: connect, send, answer
  std::chrono::milliseconds deadline{std::chrono::seconds(300)};        // the whole run
  std::chrono::milliseconds max_rate_limit_wait{std::chrono::seconds(30)};  // longest wait for one 429
  int max_attempts = 5;  // per request, counting those that failed with 5xx or no answer (429s do not count)
  std::chrono::milliseconds first_backoff{500};  // after the first 5xx / connection error; doubled each time
  std::chrono::milliseconds max_backoff{std::chrono::seconds(8)};
  bool help = false;  // --help: print the usage, request nothing
};

using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;

// The command line after "warmup": --api URL, --tickers LIST, --api-key-file FILE, --timeout SECONDS,
// --deadline SECONDS (each as "--flag value" or "--flag=value"; whole seconds, timeout 1..3600,
// deadline 1..86400), --help. A flag not given falls back to WARMUP_API_URL, WARMUP_TICKERS,
// WARMUP_API_KEY_FILE, WARMUP_TIMEOUT_SECONDS, WARMUP_DEADLINE_SECONDS read through `env` (the process
// environment by default; empty counts as unset). Reads the key file. InvalidArgument with a one-line
// message naming the flag or variable for an unknown flag or argument, a missing or empty value, a
// malformed URL, number or ticker, no URL, no tickers, or a key file that cannot be read or has no key.
StatusOr<Options> ParseOptions(const std::vector<std::string>& args, const EnvironmentLookup& env = {});

// An HTTP answer (any status).
struct Reply {
  int status = 0;
  std::vector<http::Header> headers;  // as received
  std::string body;                   // as received (still gzip when Content-Encoding says so)
  // First value of a header, name compared case-insensitively; nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // One GET of `target` (path and query) with `headers`, answered within `timeout`. Every HTTP status is
  // a Reply. A Status only when no whole answer came: Timeout when `timeout` passed first; Unavailable
  // when the host does not resolve, or the connection is refused, reset or closed before the answer
  // ended; Internal for an answer that is not HTTP or an unexpected exception.
  virtual StatusOr<Reply> Get(const std::string& target, const std::vector<http::Header>& headers,
                              std::chrono::milliseconds timeout) = 0;
};

// HTTP/1.1 on Boost.Beast to api.host:api.port over one keep-alive connection, opened on the first
// call, reopened after the server closes it or a failure. A request that finds a reused connection
// closed by the server (idle timeout) before any answer byte is sent once more on a new connection.
// Not thread-safe: one caller at a time.
std::unique_ptr<Transport> MakeHttpTransport(const ApiUrl& api);

struct RequestResult {
  std::string target;
  bool ok = false;       // answered 2xx
  int status = 0;        // the last HTTP status; 0 when the last attempt got no answer or none was made
  int attempts = 0;      // requests sent; 0 when the deadline had passed before its turn
  int rate_limited = 0;  // of the attempts, those answered 429
  std::string error;     // when !ok: the server's error message, the transport's Status, or the deadline
};

struct Report {
  std::vector<RequestResult> results;  // one per target, in order
  int succeeded = 0;
  int failed = 0;
  Clock::Duration elapsed{};
  int ExitCode() const { return failed == 0 ? kExitSucceeded : kExitFailed; }
};

using Sleep = std::function<void(Clock::Duration)>;

// Requests every target of Targets(options.api, options.tickers) in turn through `transport`, with
// Accept-Encoding: gzip and, when options.api_key is set, X-API-Key. Per request:
//   2xx: done. 429: waits Retry-After seconds (missing, unparsable or 0: 1 s), at most
//   max_rate_limit_wait, and retries, as often as the deadline allows. 5xx or no answer: retries after
//   first_backoff, doubling up to max_backoff (or the 5xx's Retry-After when longer, capped the same),
//   until max_attempts such failures. Other statuses (404 unknown ticker, 401/403 key): failed at once.
// No attempt starts and no wait ends after options.deadline (from the call): each attempt's timeout is
// cut to what is left, a wait that would pass the deadline fails the request instead, and the requests
// left are failed without being sent. `sleep` (std::this_thread::sleep_for by default) does the
// waiting and `clock` tells the time, so tests can run it on a ManualClock. `on_result` sees each
// result as soon as it is known. Never fails as a whole: everything is in the Report.
Report Run(const Options& options, Transport& transport, const Clock& clock = SystemClock::Get(),
           const Sleep& sleep = {}, const std::function<void(const RequestResult&)>& on_result = {});

// "ok 200 /v1/companies/AAPL attempts=3 (2 rate-limited)" or
// "FAILED 401 /v1/companies/AAPL attempts=1: an API key is required: ..." ("---" for no status).
std::string FormatResult(const RequestResult& result);
// "warm-up: 25 requests, 25 succeeded, 0 failed; 13 retries after 429, 0 after errors; 14.2 s"
std::string FormatSummary(const Report& report);

}  // namespace financialapi::warmup
