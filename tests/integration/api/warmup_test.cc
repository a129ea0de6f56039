// `financial-api-server warmup` (the binary, as the operator's CronJob runs it) against the API served
// in-process over loopback with API keys on and a tiny rate limit, on the shared PostgreSQL (the SEC
// sample) and Redis (a key prefix per test).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "financialapi/db/redis.h"
#include "financialapi/warmup/warmup.h"
#include "integration/api/api_fixture.h"
#include "support/child_process.h"
#include "support/test_environment.h"

namespace financialapi::testing {
namespace {

using namespace std::chrono_literals;

// The sample's companies with financial data (facts): every warmed endpoint answers 200 for them.
const std::vector<std::string> kTickers = {"AAPL", "NVDA", "MRVL", "SNOW", "LPA"};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class WarmupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_url_ = new std::string(CreateSampleDatabase("warmup"));
    key_file_ = new std::string(WriteFile("keys", "# the API's keys\n\nwarm-up-key\nsomeone-else\n"));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*key_file_);
    delete key_file_;
    delete database_url_;
  }
  static std::string WriteFile(const std::string& name, const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() / ("warmup-" + name + "-" + std::to_string(::getpid()));
    std::ofstream(path) << content;
    return path.string();
  }

  // Keys required, 2 requests/s with a burst of 2: five tickers' worth of requests meet many 429s.
  static service::ServiceConfig KeyedAndLimited() {
    auto config = TestConfig(*database_url_);
    config.api_keys_file = *key_file_;
    config.rate_limit_rps = 2;
    config.rate_limit_burst = 2;
    return config;
  }

  struct Outcome {
    int exit_code = -1;
    std::string output;
  };
  static Outcome RunWarmup(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"warmup"};
    args.insert(args.end(), flags.begin(), flags.end());
    ChildProcess warmup(API_SERVER_PATH, args, "warmup");
    Outcome outcome;
    outcome.exit_code = warmup.WaitForExit(180s);
    outcome.output = warmup.Log();
    return outcome;
  }
  static std::string Url(const ApiUnderTest& api) { return "http://127.0.0.1:" + std::to_string(api.port()); }

  // The Redis keys under `prefix`.
  static std::vector<std::string> CacheKeys(const std::string& prefix) {
    auto endpoint = db::ParseRedisUrl(RedisUrl());
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    if (!endpoint.ok()) return {};
    auto redis = db::RedisConnection::Connect(*endpoint);
    EXPECT_TRUE(redis.ok()) << redis.status();
    if (!redis.ok()) return {};
    auto reply = (*redis)->Command({"KEYS", prefix + "*"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> keys;
    if (reply.ok()) {
      for (const auto& element : reply->elements) keys.push_back(element.text.substr(prefix.size()));
    }
    return keys;
  }

  static inline std::string* database_url_ = nullptr;
  static inline std::string* key_file_ = nullptr;
};

TEST_F(WarmupTest, FiveTickersWarmWithTheKeyDespiteRateLimitsAndLandInRedis) {
  const auto config = KeyedAndLimited();
  ApiUnderTest api(config);
  const auto outcome = RunWarmup({"--api", Url(api), "--tickers", "AAPL,NVDA MRVL, SNOW LPA", "--api-key-file",
                                  *key_file_, "--deadline", "150"});
  EXPECT_EQ(outcome.exit_code, warmup::kExitSucceeded) << outcome.output;

  const auto targets = warmup::Targets({}, kTickers);
  const auto lines = Lines(outcome.output);
  ASSERT_EQ(lines.size(), targets.size() + 1) << outcome.output;
  int retried_lines = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    EXPECT_TRUE(lines[i].starts_with("ok 200 " + targets[i] + " attempts=")) << lines[i];
    if (lines[i].find("rate-limited)") != std::string::npos) ++retried_lines;
  }
  const std::string summary_start = "warm-up: 25 requests, 25 succeeded, 0 failed; ";
  ASSERT_TRUE(lines.back().starts_with(summary_start)) << lines.back();
  const std::string rest = lines.back().substr(summary_start.size());  // "<n> retries after 429, 0 after errors; <t> s"
  EXPECT_NE(rest.find(" retries after 429, 0 after errors; "), std::string::npos) << lines.back();
  EXPECT_GE(std::atoi(rest.c_str()), 10) << "2 r/s with a burst of 2 refuses most of 25 requests at first: " << lines.back();
  EXPECT_GE(retried_lines, 10);

  // Every answer is in Redis: one key per warmed request, and another replica (no local layer, no
  // limit) on the same Redis answers each of them from there.
  const auto keys = CacheKeys(config.cache_key_prefix);
  EXPECT_EQ(keys.size(), targets.size());
  for (const std::string& ticker : kTickers) {
    const auto count = std::count_if(keys.begin(), keys.end(), [&](const std::string& key) {
      return key.find("|" + ticker + "|") != std::string::npos || key.ends_with("|" + ticker);
    });
    EXPECT_EQ(count, static_cast<long>(warmup::kEndpoints.size())) << ticker;
  }
  auto replica_config = config;
  replica_config.local_cache_ttl_seconds = 0;
  replica_config.rate_limit_rps = 0;
  ApiUnderTest replica(replica_config);
  for (const std::string& target : targets) {
    const auto answer = replica.Get(target, {{"X-API-Key", "warm-up-key"}});
    EXPECT_EQ(answer.status, 200) << target;
    EXPECT_EQ(answer.Header("x-cache"), "redis") << target;
  }
}

TEST_F(WarmupTest, WithoutTheKeyEveryRequestFailsWithA401Report) {
  auto config = KeyedAndLimited();
  // 25 requests without a key are 25 failed authentications: over the default 10 a minute the address
  // would be answered 429. This test is about how the warm-up reports a 401, so allow them all.
  config.auth_failures_per_minute = 1000;
  ApiUnderTest api(config);
  const auto outcome = RunWarmup({"--api", Url(api), "--tickers", "AAPL,NVDA,MRVL,SNOW,LPA"});
  EXPECT_EQ(outcome.exit_code, warmup::kExitFailed) << outcome.output;
  const auto lines = Lines(outcome.output);
  const auto targets = warmup::Targets({}, kTickers);
  ASSERT_EQ(lines.size(), targets.size() + 1) << outcome.output;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(lines[i], "FAILED 401 " + targets[i] + " attempts=1: an API key is required: send it in the X-API-Key header");
  }
  EXPECT_TRUE(lines.back().starts_with("warm-up: 25 requests, 0 succeeded, 25 failed; 0 retries after 429, 0 after errors"))
      << lines.back();
  EXPECT_TRUE(CacheKeys(config.cache_key_prefix).empty());

  // A key the API does not know: 403, also reported and not retried.
  const std::string wrong = WriteFile("wrong-key", "not-a-key\n");
  const auto refused = RunWarmup({"--api", Url(api), "--tickers", "AAPL", "--api-key-file", wrong});
  std::filesystem::remove(wrong);
  EXPECT_EQ(refused.exit_code, warmup::kExitFailed) << refused.output;
  EXPECT_NE(refused.output.find("FAILED 403 /v1/companies/AAPL attempts=1: the API key is not accepted"), std::string::npos)
      << refused.output;
}

TEST_F(WarmupTest, AnUnknownTickerFailsItsRequestsAndTheOthersAreStillWarmed) {
  auto config = KeyedAndLimited();
  config.rate_limit_rps = 0;
  ApiUnderTest api(config);
  const auto outcome = RunWarmup({"--api", Url(api), "--tickers", "ZZZZQ,AAPL", "--api-key-file", *key_file_});
  EXPECT_EQ(outcome.exit_code, warmup::kExitFailed) << outcome.output;
  EXPECT_NE(outcome.output.find("FAILED 404 /v1/companies/ZZZZQ attempts=1: "), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("ok 200 /v1/companies/AAPL attempts=1\n"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("warm-up: 10 requests, 5 succeeded, 5 failed;"), std::string::npos) << outcome.output;
}

TEST_F(WarmupTest, BadFlagsExitWithTwoAndOneLine) {
  const auto outcome = RunWarmup({"--api", "https://prod-api", "--tickers", "AAPL"});
  EXPECT_EQ(outcome.exit_code, warmup::kExitUsage);
  EXPECT_EQ(outcome.output,
            "error: warmup: --api: 'https://prod-api' is not an API URL like http://prod-api:80: https is not supported "
            "(the warm-up calls the API Service in the cluster)\n");
  const auto no_tickers = RunWarmup({"--api", "http://127.0.0.1:1"});
  EXPECT_EQ(no_tickers.exit_code, warmup::kExitUsage);
  EXPECT_EQ(no_tickers.output, "error: warmup: no tickers: give --tickers AAPL,MSFT or WARMUP_TICKERS\n");
}

TEST_F(WarmupTest, NothingListeningIsRetriedThenReported) {
  const int port = FreePort();
  const auto outcome = RunWarmup({"--api", "http://127.0.0.1:" + std::to_string(port), "--tickers", "AAPL", "--deadline", "2"});
  EXPECT_EQ(outcome.exit_code, warmup::kExitFailed) << outcome.output;
  EXPECT_NE(outcome.output.find("FAILED --- /v1/companies/AAPL attempts="), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("Unavailable: connecting to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << outcome.output;
  EXPECT_NE(outcome.output.find("to retry would pass the 2 s deadline"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("warm-up: 5 requests, 0 succeeded, 5 failed;"), std::string::npos) << outcome.output;
}

}  // namespace
}  // namespace financialapi::testing
