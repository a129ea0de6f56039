// FinancialApi::Handle without a database: the access step (API keys, failed-key limit, rate limit)
// runs before any route's input is read, and refusals never need PostgreSQL. The database URL points
// at a closed port, so a request that got as far as a query would answer 503, never what is asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "financialapi/common/clock.h"
#include "financialapi/http/server.h"
#include "financialapi/service/api.h"

namespace financialapi::service {
namespace {

using std::chrono::seconds;

ServiceConfig OfflineConfig() {
  ServiceConfig config;
  config.database_url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1";
  config.cache_ttl_seconds = 0;
  config.rate_limit_rps = 0;
  return config;
}

class OfflineApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("financialapi-offline-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string KeyFile(const std::string& content) {
    const auto path = dir_ / "keys";
    std::ofstream(path) << content;
    return path.string();
  }
  void Start(const ServiceConfig& config) {
    auto api = FinancialApi::Create(config, clock_);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(api).value();
  }
  http::Response Get(const std::string& target, std::vector<http::Header> headers = {},
                     const std::string& peer = "192.0.2.10") {
    http::Request request;
    request.method = "GET";
    request.target = target;
    EXPECT_TRUE(http::ParseRequestTarget(request)) << target;
    for (auto& header : headers) {
      for (char& c : header.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    request.headers = std::move(headers);
    request.remote_address = peer;
    return api_->Handle(request);
  }
  static std::string Header(const http::Response& response, const std::string& name) {
    for (const auto& header : response.headers) {
      if (header.name == name) return header.value;
    }
    return "";
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<FinancialApi> api_;
};

TEST_F(OfflineApiTest, AMadeUpKeyIsNotABucketWhenKeysAreOff) {
  auto config = OfflineConfig();
  config.rate_limit_rps = 0.1;
  config.rate_limit_burst = 2;
  Start(config);
  // Refused input still costs its token: the limit comes before the route's validation.
  EXPECT_EQ(Get("/v1/companies/AAPL?cachebust=1").status, 400);
  EXPECT_EQ(Get("/v1/companies/AAPL?cachebust=2", {{"X-API-Key", "k1"}}).status, 400);
  for (const std::string key : {"k2", "k3", "k4"}) {
    const auto refused = Get("/v1/companies/AAPL?cachebust=3", {{"X-API-Key", key}});
    EXPECT_EQ(refused.status, 429) << key << ": " << refused.body;
    EXPECT_EQ(Header(refused, "Retry-After"), "10");
  }
  // Another address is another client; the probes are not limited.
  EXPECT_EQ(Get("/v1/companies/AAPL?cachebust=4", {}, "192.0.2.11").status, 400);
  EXPECT_EQ(Get("/health").status, 200);
}

TEST_F(OfflineApiTest, OnlyAVerifiedKeyIsABucketOfItsOwn) {
  auto config = OfflineConfig();
  config.rate_limit_rps = 0.1;
  config.rate_limit_burst = 1;
  config.api_keys_file = KeyFile("key-one\nkey-two\n");
  Start(config);
  EXPECT_EQ(Get("/v1/companies/%FF", {{"X-API-Key", "key-one"}}).status, 400);
  EXPECT_EQ(Get("/v1/companies/%FF", {{"X-API-Key", "key-one"}}).status, 429);
  EXPECT_EQ(Get("/v1/companies/%FF", {{"Authorization", "Bearer key-two"}}).status, 400);
  EXPECT_EQ(Get("/v1/companies/%FF", {{"X-API-Key", "key-two"}}).status, 429) << "one key, one bucket, however it is sent";
}

TEST_F(OfflineApiTest, FailedKeyChecksAreLimitedPerAddress) {
  auto config = OfflineConfig();
  config.api_keys_file = KeyFile("the-key\n");
  config.auth_failures_per_minute = 3;
  Start(config);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1").status, 401);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "guess-1"}}).status, 403);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "guess-2"}}).status, 403);
  const auto refused = Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "guess-3"}});
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(Header(refused, "Retry-After"), "20");  // 3 a minute: one back every 20 s
  EXPECT_NE(refused.body.find("too many failed API key attempts"), std::string::npos) << refused.body;
  // Locked out, a right key included (a 200 would tell which guess was right); others are not.
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "the-key"}}).status, 429);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "the-key"}}, "192.0.2.99").status, 400);
  // An IPv6 client is its /64: another address of it is as locked out.
  for (int i = 0; i < 3; ++i) Get("/v1/companies/AAPL", {{"X-API-Key", "guess"}}, "2001:db8:5:6::1");
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "the-key"}}, "2001:db8:5:6::abcd").status, 429);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "the-key"}}, "2001:db8:5:7::1").status, 400);
  // One failure token back after 20 s.
  clock_.Advance(seconds(20));
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "the-key"}}).status, 400);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "guess-4"}}).status, 403);
  EXPECT_EQ(Get("/v1/companies/AAPL?x=1", {{"X-API-Key", "guess-5"}}).status, 429);
}

TEST_F(OfflineApiTest, AnUnusableKeyFileAnswers503WithoutThePath) {
  auto config = OfflineConfig();
  config.api_keys_file = (dir_ / "missing").string();
  Start(config);
  for (const auto& headers : std::vector<std::vector<http::Header>>{{}, {{"X-API-Key", "anything"}}}) {
    const auto answer = Get("/v1/companies/AAPL", headers);
    EXPECT_EQ(answer.status, 503) << answer.body;
    EXPECT_EQ(answer.body, R"({"error":{"code":503,"message":"API keys required but none usable"}})");
  }
  const auto ready = api_->Readiness();
  EXPECT_EQ(ready.status, 503);
  const auto report = nlohmann::json::parse(ready.body);
  EXPECT_EQ(report["apiKeys"]["detail"], "API keys required but none usable") << ready.body;
  EXPECT_EQ(ready.body.find(dir_.string()), std::string::npos) << ready.body;
  EXPECT_EQ(Get("/health").status, 200);
}

}  // namespace
}  // namespace financialapi::service
