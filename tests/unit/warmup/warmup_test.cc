// The warm-up's options and retry policy, on a fake transport and a manual clock (no sockets, no waiting).
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <unistd.h>

#include "financialapi/warmup/warmup.h"

namespace financialapi::warmup {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Reply Answer(int status, std::vector<http::Header> headers = {}, std::string body = "{}") {
  return Reply{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

Reply ApiError(int status, const std::string& message, std::vector<http::Header> headers = {}) {
  return Answer(status, std::move(headers),
                R"({"error":{"code":)" + std::to_string(status) + R"(,"message":")" + message + R"("}})");
}

// Answers each target from its script, then 200; every call is recorded. Each call takes `latency` on
// the clock.
class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(ManualClock& clock) : clock_(clock) {}

  struct Call {
    std::string target;
    std::vector<http::Header> headers;
    milliseconds timeout;
  };

  void Script(const std::string& target, std::vector<StatusOr<Reply>> outcomes) {
    for (auto& outcome : outcomes) scripts_[target].push_back(std::move(outcome));
  }
  StatusOr<Reply> Get(const std::string& target, const std::vector<http::Header>& headers,
                      milliseconds timeout) override {
    calls.push_back({target, headers, timeout});
    clock_.Advance(latency);
    auto& script = scripts_[target];
    if (script.empty()) return Answer(200);
    auto outcome = std::move(script.front());
    script.pop_front();
    return outcome;
  }
  int CallsTo(const std::string& target) const {
    return static_cast<int>(std::count_if(calls.begin(), calls.end(), [&](const Call& c) { return c.target == target; }));
  }

  std::vector<Call> calls;
  Clock::Duration latency{milliseconds(10)};

 private:
  ManualClock& clock_;
  std::map<std::string, std::deque<StatusOr<Reply>>> scripts_;
};

class WarmupRunTest : public ::testing::Test {
 protected:
  WarmupRunTest() {
    options_.api = {.host = "prod-api", .port = 80};
    options_.tickers = {"AAPL"};
  }
  Report RunIt() {
    return warmup::Run(options_, transport_, clock_, [this](Clock::Duration d) {
      sleeps_.push_back(std::chrono::duration_cast<milliseconds>(d));
      clock_.Advance(d);
    });
  }
  const RequestResult& ResultFor(const Report& report, const std::string& target) {
    const auto it = std::find_if(report.results.begin(), report.results.end(),
                                 [&](const RequestResult& r) { return r.target == target; });
    EXPECT_NE(it, report.results.end()) << target;
    return *it;
  }

  ManualClock clock_;
  FakeTransport transport_{clock_};
  Options options_;
  std::vector<milliseconds> sleeps_;
};

const std::string kCompany = "/v1/companies/AAPL";
const std::string kIncome = "/v1/companies/AAPL/statements/income?period=annual";

TEST(WarmupTargetsTest, EveryEndpointForEveryTickerUnderTheBasePath) {
  const auto targets = Targets({.host = "h", .base_path = "/api"}, {"AAPL", "MSFT"});
  ASSERT_EQ(targets.size(), 2 * kEndpoints.size());
  EXPECT_EQ(targets[0], "/api/v1/companies/AAPL");
  EXPECT_EQ(targets[2], "/api/v1/companies/AAPL/statements/income?period=annual");
  EXPECT_EQ(targets[kEndpoints.size()], "/api/v1/companies/MSFT");
  EXPECT_EQ(targets.back(), "/api/v1/companies/MSFT/statements/cashflow?period=annual");
}

TEST_F(WarmupRunTest, AllAnsweredIsSuccessWithOneAttemptEach) {
  const Report report = RunIt();
  EXPECT_EQ(report.succeeded, static_cast<int>(kEndpoints.size()));
  EXPECT_EQ(report.failed, 0);
  EXPECT_EQ(report.ExitCode(), kExitSucceeded);
  for (const auto& result : report.results) EXPECT_EQ(result.attempts, 1) << result.target;
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(FormatResult(report.results[0]), "ok 200 /v1/companies/AAPL attempts=1");
}

TEST_F(WarmupRunTest, RateLimitedWaitsRetryAfterThenSucceeds) {
  transport_.Script(kCompany, {ApiError(429, "rate limit of 1 requests/s exceeded; retry after 3 s", {{"Retry-After", "3"}}),
                               ApiError(429, "rate limit", {{"retry-after", "1"}}), Answer(200)});
  const Report report = RunIt();
  const RequestResult& company = ResultFor(report, kCompany);
  EXPECT_TRUE(company.ok);
  EXPECT_EQ(company.status, 200);
  EXPECT_EQ(company.attempts, 3);
  EXPECT_EQ(company.rate_limited, 2);
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{seconds(3), seconds(1)}));
  EXPECT_EQ(report.ExitCode(), kExitSucceeded);
  EXPECT_EQ(FormatResult(company), "ok 200 /v1/companies/AAPL attempts=3 (2 rate-limited)");
  EXPECT_NE(FormatSummary(report).find("5 requests, 5 succeeded, 0 failed; 2 retries after 429, 0 after errors"),
            std::string::npos)
      << FormatSummary(report);
}

TEST_F(WarmupRunTest, RetryAfterIsBoundedAndDefaultsToOneSecond) {
  transport_.Script(kCompany, {Answer(429, {{"Retry-After", "3600"}}), Answer(429), Answer(429, {{"Retry-After", "soon"}}),
                               Answer(429, {{"Retry-After", "0"}}), Answer(200)});
  options_.deadline = seconds(600);
  const Report report = RunIt();
  EXPECT_TRUE(ResultFor(report, kCompany).ok);
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{seconds(30), seconds(1), seconds(1), seconds(1)}));
}

TEST_F(WarmupRunTest, ServerErrorsAreRetriedWithExponentialBackoff) {
  transport_.Script(kCompany, {ApiError(503, "PostgreSQL is unavailable"), ApiError(500, "internal error"), Answer(200)});
  const Report report = RunIt();
  const RequestResult& company = ResultFor(report, kCompany);
  EXPECT_TRUE(company.ok);
  EXPECT_EQ(company.attempts, 3);
  EXPECT_EQ(company.rate_limited, 0);
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{milliseconds(500), seconds(1)}));
  EXPECT_NE(FormatSummary(report).find("0 retries after 429, 2 after errors"), std::string::npos);
}

TEST_F(WarmupRunTest, ConnectionErrorsGiveUpAfterMaxAttempts) {
  transport_.Script(kCompany, std::vector<StatusOr<Reply>>(10, Unavailable("connecting to prod-api:80: Connection refused")));
  options_.max_backoff = seconds(2);
  const Report report = RunIt();
  const RequestResult& company = ResultFor(report, kCompany);
  EXPECT_FALSE(company.ok);
  EXPECT_EQ(company.status, 0);
  EXPECT_EQ(company.attempts, 5);
  EXPECT_EQ(transport_.CallsTo(kCompany), 5);
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{milliseconds(500), seconds(1), seconds(2), seconds(2)}));
  EXPECT_EQ(FormatResult(company),
            "FAILED --- /v1/companies/AAPL attempts=5: Unavailable: connecting to prod-api:80: Connection refused");
  // The other endpoints were still warmed.
  EXPECT_EQ(report.succeeded, static_cast<int>(kEndpoints.size()) - 1);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.ExitCode(), kExitFailed);
}

TEST_F(WarmupRunTest, ClientErrorsFailAtOnceWithTheServersMessage) {
  options_.tickers = {"NOPE", "AAPL"};
  transport_.Script("/v1/companies/NOPE", {ApiError(404, "no company with ticker NOPE")});
  transport_.Script(kIncome, {ApiError(401, "an API key is required: send it in the X-API-Key header")});
  const Report report = RunIt();
  const RequestResult& unknown = ResultFor(report, "/v1/companies/NOPE");
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.attempts, 1);
  EXPECT_EQ(transport_.CallsTo("/v1/companies/NOPE"), 1);
  EXPECT_EQ(FormatResult(unknown), "FAILED 404 /v1/companies/NOPE attempts=1: no company with ticker NOPE");
  EXPECT_EQ(FormatResult(ResultFor(report, kIncome)),
            "FAILED 401 " + kIncome + " attempts=1: an API key is required: send it in the X-API-Key header");
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(report.failed, 2);
  EXPECT_EQ(report.ExitCode(), kExitFailed);
}

TEST_F(WarmupRunTest, ErrorBodiesThatAreNotTheApisAreShownShort) {
  transport_.Script(kCompany, {Answer(403, {}, "<html>Forbidden by the proxy\n<body>...")});
  transport_.Script(kIncome, {Answer(418, {}, "")});
  const Report report = RunIt();
  EXPECT_EQ(ResultFor(report, kCompany).error, "<html>Forbidden by the proxy");
  EXPECT_EQ(ResultFor(report, kIncome).error, "HTTP 418");
}

TEST_F(WarmupRunTest, TheDeadlineEndsWaitsAndLeavesTheRestUnsent) {
  options_.deadline = seconds(10);
  options_.tickers = {"AAPL", "MSFT"};
  // Waits of 4 s and 4 s fit; the third 429 would need 4 s more than is left.
  transport_.Script(kCompany, std::vector<StatusOr<Reply>>(5, ApiError(429, "rate limit", {{"Retry-After", "4"}})));
  const Report report = RunIt();
  const RequestResult& company = ResultFor(report, kCompany);
  EXPECT_FALSE(company.ok);
  EXPECT_EQ(company.status, 429);
  EXPECT_EQ(company.attempts, 3);
  EXPECT_NE(company.error.find("waiting 4 s to retry would pass the 10 s deadline"), std::string::npos) << company.error;
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{seconds(4), seconds(4)}));
  // The rest fit in the 2 s left (10 ms each).
  EXPECT_EQ(report.succeeded, 2 * static_cast<int>(kEndpoints.size()) - 1);
  EXPECT_LE(report.elapsed, seconds(10));
}

TEST_F(WarmupRunTest, NoRequestStartsAfterTheDeadlineAndTimeoutsAreCutToIt) {
  options_.deadline = seconds(10);
  options_.request_timeout = seconds(30);
  transport_.latency = seconds(4);  // slow answers: 10 s allow three starts (at 0, 4 and 8 s)
  const Report report = RunIt();
  ASSERT_EQ(transport_.calls.size(), 3u);
  EXPECT_EQ(transport_.calls[0].timeout, seconds(10));
  EXPECT_EQ(transport_.calls[1].timeout, seconds(6));
  EXPECT_EQ(transport_.calls[2].timeout, seconds(2));
  EXPECT_EQ(report.succeeded, 3);
  EXPECT_EQ(report.failed, static_cast<int>(kEndpoints.size()) - 3);
  const RequestResult& unsent = report.results.back();
  EXPECT_EQ(unsent.attempts, 0);
  EXPECT_EQ(FormatResult(unsent), "FAILED --- " + unsent.target + " attempts=0: not sent: the 10 s deadline passed");
  EXPECT_EQ(report.ExitCode(), kExitFailed);
}

TEST_F(WarmupRunTest, TheKeyIsSentInTheHeaderTheApiReads) {
  options_.api_key = "key-one";
  (void)RunIt();
  ASSERT_FALSE(transport_.calls.empty());
  for (const auto& call : transport_.calls) {
    const auto key = std::find_if(call.headers.begin(), call.headers.end(), [](const http::Header& h) { return h.name == "X-API-Key"; });
    ASSERT_NE(key, call.headers.end()) << call.target;
    EXPECT_EQ(key->value, "key-one");
  }
}

TEST_F(WarmupRunTest, NoKeyNoKeyHeader) {
  (void)RunIt();
  for (const auto& call : transport_.calls) {
    for (const auto& header : call.headers) EXPECT_NE(header.name, "X-API-Key");
  }
}

// --- options -------------------------------------------------------------------------------------

class WarmupOptionsTest : public ::testing::Test {
 protected:
  StatusOr<Options> Parse(const std::vector<std::string>& args) {
    return ParseOptions(args, [this](const char* name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
  }
  std::string Error(const std::vector<std::string>& args) {
    const auto options = Parse(args);
    EXPECT_FALSE(options.ok());
    if (options.ok()) return "";
    EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(options.status().message().find('\n'), std::string::npos) << "one line";
    return options.status().message();
  }
  std::string KeyFile(const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("warmup-keys-" + std::to_string(::getpid()) + "-" + std::to_string(files_.size()));
    std::ofstream(path) << content;
    files_.push_back(path);
    return path.string();
  }
  ~WarmupOptionsTest() override {
    for (const auto& file : files_) std::filesystem::remove(file);
  }

  std::map<std::string, std::string> env_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(WarmupOptionsTest, FlagsInBothSpellings) {
  const auto options = Parse({"--api", "http://prod-api:8080/base/", "--tickers=AAPL,msft BRK-B, AAPL",
                              "--timeout", "5", "--deadline=60"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->api.host, "prod-api");
  EXPECT_EQ(options->api.port, 8080);
  EXPECT_EQ(options->api.base_path, "/base");
  EXPECT_EQ(options->tickers, (std::vector<std::string>{"AAPL", "msft", "BRK-B"}));
  EXPECT_EQ(options->request_timeout, seconds(5));
  EXPECT_EQ(options->deadline, seconds(60));
  EXPECT_FALSE(options->api_key);
  EXPECT_FALSE(options->help);
}

TEST_F(WarmupOptionsTest, EnvironmentWhenFlagsAreNotGivenAndDefaults) {
  env_ = {{"WARMUP_API_URL", "http://prod-api:80"}, {"WARMUP_TICKERS", "AAPL MSFT\tNVDA"}};
  auto options = Parse({});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->api.HostHeader(), "prod-api");
  EXPECT_EQ(options->tickers, (std::vector<std::string>{"AAPL", "MSFT", "NVDA"}));
  EXPECT_EQ(options->request_timeout, seconds(30));
  EXPECT_EQ(options->deadline, seconds(300));
  // A flag wins over its variable.
  options = Parse({"--tickers", "TSLA"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->tickers, std::vector<std::string>{"TSLA"});
  env_["WARMUP_TIMEOUT_SECONDS"] = "x";
  EXPECT_EQ(Error({}), "WARMUP_TIMEOUT_SECONDS: expected whole seconds 1..3600, got 'x'");
}

TEST_F(WarmupOptionsTest, TheFirstKeyOfAnApiKeysFile) {
  const std::string file = KeyFile("# keys for the API\n\n   first-key  \nsecond-key\n");
  env_ = {{"WARMUP_API_URL", "http://a"}, {"WARMUP_TICKERS", "AAPL"}};
  auto options = Parse({"--api-key-file", file});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->api_key, "first-key");
  env_["WARMUP_API_KEY_FILE"] = file;
  options = Parse({});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->api_key, "first-key");

  EXPECT_EQ(Error({"--api-key-file", "/nonexistent/keys"}), "--api-key-file: file /nonexistent/keys does not exist");
  const std::string empty = KeyFile("# no keys yet\n\n");
  EXPECT_EQ(Error({"--api-key-file", empty}),
            "--api-key-file: " + empty + " holds no API key (one a line; blank lines and # comments are skipped)");
  const std::string control = KeyFile("key\rX-Injected: 1\n");
  EXPECT_EQ(Error({"--api-key-file", control}), "--api-key-file: " + control + ": the first key holds a control character");
}

TEST_F(WarmupOptionsTest, BadInputIsOneClearLine) {
  EXPECT_EQ(Error({"--tickers", "AAPL"}), "no API URL: give --api URL or WARMUP_API_URL (e.g. http://prod-api:80)");
  EXPECT_EQ(Error({"--api", "http://a"}), "no tickers: give --tickers AAPL,MSFT or WARMUP_TICKERS");
  EXPECT_EQ(Error({"--api", "http://a", "--tickers", ", ,"}), "no tickers: give --tickers AAPL,MSFT or WARMUP_TICKERS");
  EXPECT_EQ(Error({"--api", "http://a", "--tickers", "AAPL,../admin"}),
            "--tickers: '../admin' is not a ticker or CIK (1-13 letters, digits, '.' or '-', like AAPL, BRK-B or 320193)");
  EXPECT_EQ(Error({"--nope"}), "unknown flag --nope (see --help)");
  EXPECT_EQ(Error({"stray"}), "unexpected argument 'stray' (see --help)");
  EXPECT_EQ(Error({"--api"}), "--api: missing value");
  EXPECT_EQ(Error({"--api="}), "--api: empty value");
  EXPECT_EQ(Error({"--api", "http://a", "--tickers", "AAPL", "--deadline", "0"}),
            "--deadline: expected whole seconds 1..86400, got '0'");
  EXPECT_EQ(Error({"--api", "http://a", "--tickers", "AAPL", "--timeout", "1.5"}),
            "--timeout: expected whole seconds 1..3600, got '1.5'");
  EXPECT_EQ(Error({"--api", "https://prod-api", "--tickers", "AAPL"}),
            "--api: 'https://prod-api' is not an API URL like http://prod-api:80: https is not supported (the "
            "warm-up calls the API Service in the cluster)");
  EXPECT_TRUE(Parse({"--help"}).ok() && Parse({"--help"})->help);
}

TEST(WarmupUrlTest, ParsesHostPortAndPath) {
  auto url = ParseApiUrl("http://[::1]:8000");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8000);
  EXPECT_EQ(url->HostHeader(), "[::1]:8000");
  url = ParseApiUrl("HTTP://127.0.0.1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->base_path, "");
  for (const char* bad : {"prod-api:80", "ftp://a", "http://", "http://:80", "http://a:0", "http://a:99999", "http://a:",
                          "http://a:b", "http://u:p@a", "http://a/?x=1", "http://a#f", "http://[::1", "http://[::1]x"}) {
    EXPECT_FALSE(ParseApiUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace financialapi::warmup
