// The Financial API served in-process against real PostgreSQL (the bundled SEC sample loaded into a
// database of this suite's own) and Redis (a key prefix of its own).
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "financialapi/common/file.h"
#include "integration/api/api_fixture.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::testing {
namespace {

using nlohmann::json;

json Source(const std::string& relative) {
  auto text = ReadFile(SourcePath("data/sec/" + relative));
  EXPECT_TRUE(text.ok()) << text.status();
  return json::parse(text.ok() ? *text : "{}");
}

json Body(const HttpAnswer& answer) {
  const json parsed = json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << answer.body.substr(0, 200);
  return parsed;
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_url_ = new std::string(CreateSampleDatabase("api"));
    api_ = new ApiUnderTest(TestConfig(*database_url_));
  }
  static void TearDownTestSuite() {
    delete api_;
    delete database_url_;
  }
  static HttpAnswer Get(const std::string& target, const std::vector<http::Header>& headers = {}) {
    return api_->Get(target, headers);
  }
  // The status, and that the body is {"error":{"code":status,"message":non-empty}}.
  static void ExpectError(const std::string& target, int status, const std::string& message_part) {
    const auto answer = Get(target);
    EXPECT_EQ(answer.status, status) << target << ": " << answer.body.substr(0, 300);
    const json body = Body(answer);
    EXPECT_EQ(body.value(nlohmann::json::json_pointer("/error/code"), 0), status) << target;
    // value(): a body without the error shape fails the expectation instead of throwing.
    EXPECT_NE(body.value(nlohmann::json::json_pointer("/error/message"), std::string()).find(message_part), std::string::npos)
        << target << ": " << answer.body.substr(0, 300);
    EXPECT_EQ(answer.Header("content-type"), "application/json");
  }

  static inline std::string* database_url_ = nullptr;
  static inline ApiUnderTest* api_ = nullptr;
};

TEST_F(ApiTest, HealthReadyAndMetricsAnswer) {
  EXPECT_EQ(Body(Get("/health"))["status"], "ok");
  const auto ready = Get("/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(Body(ready)["postgres"]["status"], "up");
  EXPECT_EQ(Body(ready)["redis"]["status"], "up");
  ASSERT_EQ(Get("/v1/companies/AAPL").status, 200);
  const auto metrics = Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(http_requests_total{endpoint="/v1/companies/{id}",method="GET",status="200"})"),
            std::string::npos)
      << metrics.body.substr(0, 2000);
  EXPECT_NE(metrics.body.find("http_request_duration_seconds_bucket{endpoint=\"/v1/companies/{id}\""), std::string::npos);
  EXPECT_NE(metrics.body.find("financialapi_db_pool_size 4"), std::string::npos);
  EXPECT_NE(metrics.body.find("financialapi_db_pool_in_use"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(financialapi_cache_requests_total{layer="local",result="miss"})"), std::string::npos);
  EXPECT_NE(metrics.body.find("financialapi_redis_memory_used_bytes"), std::string::npos);
}

TEST_F(ApiTest, SpotValuesComeBackThroughTheApi) {
  // Apple's Assets at 2025-09-27 = 359,241,000,000 USD in every filing that reports it.
  const json concept_doc = Body(Get("/v1/companies/AAPL/concepts/us-gaap/Assets"));
  int seen = 0;
  for (const auto& fact : concept_doc["units"]["USD"]) {
    if (fact["end"] == "2025-09-27") {
      EXPECT_EQ(fact["val"].get<std::int64_t>(), 359241000000);
      ++seen;
    }
  }
  EXPECT_GT(seen, 0);

  const json income = Body(Get("/v1/companies/AAPL/statements/income?period=annual&limit=3"));
  ASSERT_EQ(income["periods"].size(), 3u) << income.dump();
  const json& fy2025 = income["periods"][0];
  EXPECT_EQ(fy2025["fiscalYear"], 2025);
  EXPECT_EQ(fy2025["start"], "2024-09-29");
  EXPECT_EQ(fy2025["end"], "2025-09-27");
  EXPECT_DOUBLE_EQ(fy2025["items"]["epsDiluted"]["value"].get<double>(), 7.46);
  EXPECT_EQ(fy2025["items"]["epsDiluted"]["unit"], "USD/shares");
  EXPECT_EQ(fy2025["items"]["revenue"]["concept"], "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax");
  EXPECT_EQ(income["periods"][1]["fiscalYear"], 2024);

  const json balance = Body(Get("/v1/companies/320193/statements/balance?period=annual&limit=1"));
  EXPECT_EQ(balance["periods"][0]["end"], "2025-09-27");
  EXPECT_EQ(balance["periods"][0]["items"]["totalAssets"]["value"].get<std::int64_t>(), 359241000000);

  const json quarterly = Body(Get("/v1/companies/AAPL/statements/income?period=quarterly&limit=4"));
  ASSERT_EQ(quarterly["periods"].size(), 4u);
  for (const auto& period : quarterly["periods"]) EXPECT_NE(period["fiscalPeriod"], "FY") << period.dump();

  const json cashflow = Body(Get("/v1/companies/NVDA/statements/cashflow"));
  EXPECT_TRUE(cashflow["periods"][0]["items"].contains("operatingCashFlow")) << cashflow.dump().substr(0, 500);

  // An IFRS filer (a 20-F with ifrs-full concepts) falls through the chains to the ifrs-full tags.
  const json ifrs = Body(Get("/v1/companies/1997711/statements/balance"));
  ASSERT_FALSE(ifrs["periods"].empty()) << ifrs.dump().substr(0, 300);
  EXPECT_EQ(ifrs["periods"][0]["form"], "20-F");
  EXPECT_EQ(ifrs["periods"][0]["items"]["totalAssets"]["concept"], "ifrs-full:Assets");
  EXPECT_EQ(ifrs["periods"][0]["items"]["totalAssets"]["unit"], ifrs["currency"]);
}

TEST_F(ApiTest, SecCompatiblePathsReturnTheSourceDocuments) {
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath("data/sec/companyfacts"))) {
    const std::string name = entry.path().filename().string();
    const auto answer = Get("/api/xbrl/companyfacts/" + name);
    ASSERT_EQ(answer.status, 200) << name;
    EXPECT_EQ(Body(answer), Source("companyfacts/" + name)) << name;
  }
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath("data/sec/submissions"))) {
    const std::string name = entry.path().filename().string();
    const auto answer = Get("/submissions/" + name);
    ASSERT_EQ(answer.status, 200) << name;
    EXPECT_EQ(Body(answer), Source("submissions/" + name)) << name;
  }
  const json apple = Source("companyfacts/CIK0000320193.json");
  const json concept_doc = Body(Get("/api/xbrl/companyconcept/CIK0000320193/us-gaap/EarningsPerShareDiluted.json"));
  EXPECT_EQ(concept_doc["units"], apple["facts"]["us-gaap"]["EarningsPerShareDiluted"]["units"]);
  EXPECT_EQ(concept_doc["label"], apple["facts"]["us-gaap"]["EarningsPerShareDiluted"]["label"]);
  EXPECT_EQ(concept_doc["entityName"], "Apple Inc.");
  // The v1 facts endpoint has the same shape.
  EXPECT_EQ(Body(Get("/v1/companies/aapl/facts")), apple);
}

TEST_F(ApiTest, FramesHoldTheFactsSecMarkedForThePeriod) {
  // Expected points: every fact in the sample whose frame is CY2024Q4I (Assets, USD), one per company.
  std::map<std::int64_t, json> expected;
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath("data/sec/companyfacts"))) {
    const json doc = Source("companyfacts/" + entry.path().filename().string());
    const auto assets = doc["facts"].value("us-gaap", json::object()).value("Assets", json::object());
    for (const auto& fact : assets.value("units", json::object()).value("USD", json::array())) {
      if (fact.value("frame", "") == "CY2024Q4I") expected[doc["cik"].get<std::int64_t>()] = fact;
    }
  }
  ASSERT_GE(expected.size(), 2u);
  for (const std::string path : {"/v1/frames/us-gaap/Assets/USD/CY2024Q4I", "/api/xbrl/frames/us-gaap/Assets/USD/CY2024Q4I.json"}) {
    const json frame = Body(Get(path));
    EXPECT_EQ(frame["ccp"], "CY2024Q4I");
    EXPECT_EQ(frame["uom"], "USD");
    ASSERT_EQ(frame["pts"].get<std::size_t>(), expected.size()) << frame.dump();
    for (const auto& point : frame["data"]) {
      const auto& fact = expected.at(point["cik"].get<std::int64_t>());
      EXPECT_EQ(point["val"], fact["val"]);
      EXPECT_EQ(point["end"], fact["end"]);
      EXPECT_EQ(point["accn"], fact["accn"]);
    }
  }
  // Per-share units are written "USD-per-shares" in URLs.
  const auto eps = Get("/v1/frames/us-gaap/EarningsPerShareDiluted/USD-per-shares/CY2024");
  EXPECT_EQ(eps.status, 200) << eps.body;
  EXPECT_EQ(Body(eps)["uom"], "USD-per-shares");
}

TEST_F(ApiTest, CompanyLookupSearchAndProfile) {
  for (const std::string id : {"AAPL", "aapl", "320193", "0000320193", "CIK0000320193"}) {
    const auto answer = Get("/v1/companies/" + id);
    ASSERT_EQ(answer.status, 200) << id;
    EXPECT_EQ(Body(answer)["cik"], 320193) << id;
  }
  const json apple = Body(Get("/v1/companies/AAPL"));
  EXPECT_EQ(apple["name"], "Apple Inc.");
  EXPECT_EQ(apple["fiscalYearEnd"], "0926");
  EXPECT_EQ(apple["hasFacts"], true);
  EXPECT_EQ(apple["hasSubmissions"], true);
  EXPECT_EQ(apple["tickers"][0], "AAPL");
  // Known only from company_tickers.json: a profile with nulls, no facts.
  const json berkshire = Body(Get("/v1/companies/BRK-B"));
  EXPECT_EQ(berkshire["hasSubmissions"], false);
  EXPECT_TRUE(berkshire["sic"].is_null());

  const json search = Body(Get("/v1/companies?search=nvidia"));
  ASSERT_FALSE(search["companies"].empty());
  EXPECT_EQ(search["companies"][0]["cik"], 1045810);
  const json page1 = Body(Get("/v1/companies?search=a&limit=5"));
  const json page2 = Body(Get("/v1/companies?search=a&limit=5&offset=5"));
  EXPECT_EQ(page1["total"], page2["total"]);
  EXPECT_GT(page1["total"].get<int>(), 10);
  EXPECT_EQ(page1["companies"].size(), 5u);
  EXPECT_NE(page1["companies"][0], page2["companies"][0]);
  // LIKE wildcards are literal: no company name starts with "%".
  EXPECT_EQ(Body(Get("/v1/companies?search=%25"))["total"], 0);
}

TEST_F(ApiTest, FilingsFilterAndPage) {
  const json all = Body(Get("/v1/companies/AAPL/filings?limit=1000"));
  const int total = all["total"].get<int>();
  ASSERT_EQ(all["filings"].size(), static_cast<std::size_t>(std::min(total, 1000)));
  // Past the largest page: the rest comes with an offset.
  ASSERT_GT(total, 1000);
  EXPECT_EQ(Body(Get("/v1/companies/AAPL/filings?limit=1000&offset=1000"))["filings"].size(),
            static_cast<std::size_t>(total - 1000));
  for (std::size_t i = 1; i < all["filings"].size(); ++i) {
    EXPECT_GE(all["filings"][i - 1]["filingDate"].get<std::string>(), all["filings"][i]["filingDate"].get<std::string>());
  }
  const json first = Body(Get("/v1/companies/AAPL/filings?limit=10"));
  const json second = Body(Get("/v1/companies/AAPL/filings?limit=10&offset=10"));
  EXPECT_EQ(first["filings"][0], all["filings"][0]);
  EXPECT_EQ(second["filings"][0], all["filings"][10]);

  const json annual = Body(Get("/v1/companies/AAPL/filings?form=10-K,10-Q&from=2020-01-01&to=2024-12-31"));
  ASSERT_GT(annual["total"].get<int>(), 10);
  for (const auto& filing : annual["filings"]) {
    EXPECT_TRUE(filing["form"] == "10-K" || filing["form"] == "10-Q") << filing.dump();
    EXPECT_GE(filing["filingDate"].get<std::string>(), "2020-01-01");
    EXPECT_LE(filing["filingDate"].get<std::string>(), "2024-12-31");
  }
  // Tesla's older page adds filings before 2018.
  const json tesla = Body(Get("/v1/companies/TSLA/filings?to=2010-12-31&limit=5"));
  EXPECT_GT(tesla["total"].get<int>(), 0);
}

TEST_F(ApiTest, BadInputGetsAJsonErrorWithTheRightStatus) {
  ExpectError("/v1/companies/NOPE", 404, "no company with ticker NOPE");
  ExpectError("/v1/companies/12345678901", 400, "malformed CIK");
  ExpectError("/v1/companies/AA%20PL", 400, "malformed company identifier");
  ExpectError("/v1/companies/9999999999", 404, "no company with CIK");
  ExpectError("/v1/companies/AAPL/statements/income?period=weekly", 400, "period");
  ExpectError("/v1/companies/AAPL/statements/profit", 400, "unknown statement");
  ExpectError("/v1/companies/AAPL/statements/income?limit=500", 400, "limit");
  ExpectError("/v1/companies/AAPL/concepts/not-a-taxonomy/Assets", 404, "unknown taxonomy");
  ExpectError("/v1/companies/AAPL/concepts/US_GAAP/Assets", 400, "malformed taxonomy");
  ExpectError("/v1/companies/AAPL/concepts/us-gaap/NoSuchConcept", 404, "no facts for us-gaap:NoSuchConcept");
  ExpectError("/v1/companies/AAPL/concepts/us-gaap/Bad-Tag", 400, "malformed concept tag");
  ExpectError("/v1/frames/us-gaap/Assets/USD/2024Q4", 400, "malformed period");
  ExpectError("/v1/frames/us-gaap/Assets/USD/CY1990Q1I", 404, "no facts");
  ExpectError("/v1/companies/AAPL/filings?limit=5000", 400, "limit");
  ExpectError("/v1/companies/AAPL/filings?offset=-1", 400, "offset");
  ExpectError("/v1/companies/AAPL/filings?from=2024-13-01", 400, "from");
  ExpectError("/v1/companies/AAPL/filings?form=10-K;DROP", 400, "form");
  ExpectError("/v1/companies", 400, "search");
  ExpectError("/api/xbrl/companyfacts/CIK320193.json", 400, "malformed CIK");
  ExpectError("/api/xbrl/companyfacts/CIK0000000001.json", 404, "no company facts");
  ExpectError("/api/xbrl/companyfacts/CIK0000320193", 404, ".json");
  ExpectError("/submissions/CIK0000320193-submissions-9.json", 400, "malformed submissions page");
  ExpectError("/submissions/CIK0000320193-submissions-001.json", 404, "no submissions page");
  ExpectError("/no/such/path", 404, "no such endpoint");
  const auto post = Fetch(api_->port(), "/v1/companies/AAPL", {}, "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("allow"), "GET, HEAD");
  // HEAD: GET's headers, no body.
  const auto head = Fetch(api_->port(), "/v1/companies/AAPL", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.Header("content-length"), std::to_string(Get("/v1/companies/AAPL").body.size()));
}

TEST_F(ApiTest, InputPostgresWouldRefuseIsA400NotA500) {
  // Not UTF-8: PostgreSQL refuses such text ("invalid byte sequence for encoding UTF8").
  ExpectError("/v1/companies?search=%FF", 400, "search");
  ExpectError("/v1/companies?search=App%C3", 400, "search");
  ExpectError("/v1/companies?search=a%00b", 400, "search");
  ExpectError("/v1/companies/%FF", 400, "malformed {id}");
  ExpectError("/v1/companies/AAPL/concepts/us-gaap/%FF", 400, "malformed {tag}");
  ExpectError("/v1/companies/AAPL/filings?form=10-K,%FF", 400, "form");
  ExpectError("/v1/companies/AAPL/statements/income?period=%FF", 400, "period");
  // Dates PostgreSQL does not represent, or that are not dates at all.
  ExpectError("/v1/companies/AAPL/filings?from=0000-01-01", 400, "from");
  ExpectError("/v1/companies/AAPL/filings?from=-001-01-01", 400, "from");
  ExpectError("/v1/companies/AAPL/filings?to=2024-1a-01", 400, "to");
  ExpectError("/v1/companies/AAPL/filings?to=2024-01-0x", 400, "to");
  ExpectError("/v1/companies/AAPL/filings?to=+024-01-01", 400, "to");
  // Numbers past any column's range.
  ExpectError("/v1/companies/AAPL/filings?limit=1e400", 400, "limit");
  ExpectError("/v1/companies/AAPL/filings?offset=99999999999999999999", 400, "offset");
  ExpectError("/v1/companies?search=a&limit=99999999999999999999", 400, "limit");
  ExpectError("/v1/companies/99999999999999999999", 400, "CIK");
  ExpectError("/v1/companies/CIK99999999999999999999/facts", 400, "CIK");
  ExpectError("/api/xbrl/companyfacts/CIK99999999999999999999.json", 400, "CIK");
  ExpectError("/v1/frames/us-gaap/Assets/USD/CY99999", 400, "period");
}

TEST_F(ApiTest, AnEncodedSlashDoesNotReachAnotherRoute) {
  // Decoded first, "AAPL%2Ffilings" would be the filings route; matched on the raw segments it is a
  // company identifier with a '/' in it.
  ExpectError("/v1/companies/AAPL%2Ffilings", 400, "malformed company identifier");
  ExpectError("/v1/companies%2FAAPL", 404, "no such endpoint");
  ExpectError("/api/xbrl/companyfacts%2FCIK0000320193.json", 404, "no such endpoint");
  ExpectError("/v1/companies/AAPL/statements%2Fincome", 404, "no such endpoint");
  ExpectError("/v1/companies/AAPL/concepts/us-gaap%2FAssets/x", 400, "malformed taxonomy");
  EXPECT_EQ(Get("/v1/companies/AAPL/filings?limit=1").status, 200);
  EXPECT_EQ(Get("/v1/companies/A%41PL").status, 200) << "escapes inside a segment are decoded";
}

TEST_F(ApiTest, RandomTargetsGetJsonAnswersAndNeverBringTheServerDown) {
  // Pieces of real paths, shuffled with junk: every answer must be a JSON body with a status below 500.
  const std::vector<std::string> pieces = {"v1", "companies", "AAPL", "320193", "CIK0000320193.json", "concepts",
                                           "us-gaap", "Assets", "frames", "USD", "CY2024Q4I", "statements", "income",
                                           "api", "xbrl", "companyfacts", "submissions", "%00", "%2F", "..", "",
                                           std::string(300, 'A'), "%ZZ", "?limit=-1", "?search=%25", "?period=",
                                           "\xff", "CIK", "9999999999", "USD-per-shares", "filings?form=,,"};
  std::mt19937 random(20261128);
  for (int i = 0; i < 300; ++i) {
    std::string target;
    const int segments = 1 + static_cast<int>(random() % 7);
    for (int j = 0; j < segments; ++j) target += "/" + pieces[random() % pieces.size()];
    const auto answer = Get(target);
    ASSERT_NE(answer.status, 0) << "no answer for " << target;
    EXPECT_LT(answer.status, 500) << target << ": " << answer.body;
    EXPECT_FALSE(json::parse(answer.body, nullptr, false).is_discarded()) << target << ": " << answer.body;
  }
  EXPECT_EQ(Get("/health").status, 200);
}

TEST_F(ApiTest, LargeBodiesAreGzippedWhenTheClientAcceptsIt) {
  const auto plain = Get("/v1/companies/AAPL/facts");
  const auto zipped = Get("/v1/companies/AAPL/facts", {{"Accept-Encoding", "gzip, deflate"}});
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.Header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.Header("vary"), "Accept-Encoding");
  EXPECT_TRUE(plain.Header("content-encoding").empty());
  EXPECT_LT(zipped.body.size(), plain.body.size() / 5);
  auto unzipped = http::GzipDecompress(zipped.body);
  ASSERT_TRUE(unzipped.ok()) << unzipped.status();
  EXPECT_EQ(*unzipped, plain.body);
  // Small bodies are not worth it.
  EXPECT_TRUE(Get("/health", {{"Accept-Encoding", "gzip"}}).Header("content-encoding").empty());
}

TEST_F(ApiTest, AnswersComeFromTheLocalLayerThenRedisThenPostgres) {
  const std::string path = "/v1/companies/NVDA/concepts/us-gaap/Revenues";
  EXPECT_EQ(Get(path).Header("x-cache"), "miss");
  EXPECT_EQ(Get(path).Header("x-cache"), "local");
  // A second server on the same Redis prefix without a local layer finds the body in Redis.
  auto config = TestConfig(*database_url_);
  config.local_cache_ttl_seconds = 0;
  ApiUnderTest no_local(config);
  EXPECT_EQ(no_local.Get(path).Header("x-cache"), "miss");
  EXPECT_EQ(no_local.Get(path).Header("x-cache"), "redis");
  EXPECT_EQ(no_local.Get(path).body, Get(path).body);
}

TEST_F(ApiTest, ConcurrentRequestsForAColdKeyComputeItOnce) {
  ApiUnderTest fresh(TestConfig(*database_url_));
  std::vector<std::string> sources(24);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    threads.emplace_back([&, i] { sources[i] = fresh.Get("/v1/companies/AAPL/facts").Header("x-cache"); });
  }
  for (auto& t : threads) t.join();
  const auto misses = std::count(sources.begin(), sources.end(), "miss");
  EXPECT_EQ(misses, 1);
  for (const auto& source : sources) EXPECT_TRUE(source == "miss" || source == "shared" || source == "local") << source;
}

TEST_F(ApiTest, RateLimitRefusesOverTheBurstWithRetryAfter) {
  auto config = TestConfig(*database_url_);
  // One token per 10 s: a slow machine cannot refill the bucket between the requests.
  config.rate_limit_rps = 0.1;
  config.rate_limit_burst = 3;
  ApiUnderTest limited(config);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limited.Get("/v1/companies/AAPL").status, 200) << i;
  const auto refused = limited.Get("/v1/companies/AAPL");
  EXPECT_EQ(refused.status, 429);
  EXPECT_GE(std::stoi(refused.Header("retry-after").empty() ? "0" : refused.Header("retry-after")), 1);
  EXPECT_EQ(Body(refused)["error"]["code"], 429);
  // Probes and metrics are not limited.
  EXPECT_EQ(limited.Get("/health").status, 200);
  // Keys are off: a made-up X-API-Key is not a client of its own, the address's bucket still applies.
  for (const std::string key : {"someone-else", "fresh-1", "fresh-2"}) {
    EXPECT_EQ(limited.Get("/v1/companies/AAPL", {{"X-API-Key", key}}).status, 429) << key;
  }
}

TEST_F(ApiTest, OnlyAVerifiedKeyHasABucketOfItsOwn) {
  const auto file = std::filesystem::temp_directory_path() / ("bucket-keys-" + std::to_string(::getpid()));
  std::ofstream(file) << "key-one\nkey-two\n";
  auto config = TestConfig(*database_url_);
  config.rate_limit_rps = 0.1;
  config.rate_limit_burst = 2;
  config.api_keys_file = file.string();
  ApiUnderTest keyed(config);
  const auto with_key = [&](const std::string& key) {
    return keyed.Get("/v1/companies/AAPL", {{"X-API-Key", key}}).status;
  };
  EXPECT_EQ(with_key("key-one"), 200);
  EXPECT_EQ(with_key("key-one"), 200);
  EXPECT_EQ(with_key("key-one"), 429) << "key-one used its burst";
  EXPECT_EQ(with_key("key-two"), 200) << "another verified key has its own bucket";
  std::filesystem::remove(file);
}

TEST_F(ApiTest, FailedAuthenticationIsRateLimitedPerAddress) {
  const auto file = std::filesystem::temp_directory_path() / ("failing-keys-" + std::to_string(::getpid()));
  std::ofstream(file) << "the-key\n";
  auto config = TestConfig(*database_url_);
  config.api_keys_file = file.string();
  ApiUnderTest keyed(config);
  // Ten failed attempts per minute per address (the default) are answered 401/403...
  for (int i = 0; i < 10; ++i) {
    const int status = keyed.Get("/v1/companies/AAPL", {{"X-API-Key", "guess-" + std::to_string(i)}}).status;
    EXPECT_TRUE(status == 403 || status == 401) << i << ": " << status;
  }
  // ...then the address is refused, a right key included, until a failure token is back.
  const auto refused = keyed.Get("/v1/companies/AAPL", {{"X-API-Key", "guess-10"}});
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_GE(std::atoi(refused.Header("retry-after").c_str()), 1) << refused.Header("retry-after");
  EXPECT_EQ(Body(refused)["error"]["code"], 429);
  EXPECT_EQ(keyed.Get("/v1/companies/AAPL", {{"X-API-Key", "the-key"}}).status, 429);
  EXPECT_EQ(keyed.Get("/v1/companies/AAPL").status, 429);
  EXPECT_EQ(keyed.Get("/health").status, 200);
  std::filesystem::remove(file);
}

TEST_F(ApiTest, AnIpv6ClientIsLimitedPerSlash64) {
  auto config = TestConfig(*database_url_);
  config.rate_limit_rps = 0.1;
  config.rate_limit_burst = 1;
  config.trusted_proxies = "127.0.0.0/8, ::1";
  ApiUnderTest behind_proxy(config);
  const auto as = [&](const std::string& forwarded_for) {
    return behind_proxy.Get("/v1/companies/AAPL", {{"X-Forwarded-For", forwarded_for}}).status;
  };
  EXPECT_EQ(as("2001:db8:1:2::1"), 200);
  EXPECT_EQ(as("2001:db8:1:2::ffff"), 429) << "another address of the same /64 shares its bucket";
  EXPECT_EQ(as("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 429);
  EXPECT_EQ(as("2001:db8:1:3::1"), 200) << "the next /64 is another client";
}

TEST_F(ApiTest, UnknownQueryParametersAreRefusedByName) {
  // Each would otherwise be a cache key of its own, every miss a PostgreSQL query.
  ExpectError("/v1/companies/AAPL?cachebust=1", 400, "cachebust");
  ExpectError("/v1/companies?search=apple&x=1", 400, "'x'");
  ExpectError("/v1/companies/AAPL/filings?limit=10&Limit=10", 400, "Limit");
  ExpectError("/api/xbrl/companyfacts/CIK0000320193.json?nocache", 400, "nocache");
  ExpectError("/v1/companies/AAPL/filings?limit=10&limit=20", 400, "limit");
  EXPECT_EQ(Get("/v1/companies/AAPL/filings?limit=10&offset=0&form=10-K&from=2020-01-01&to=2024-12-31").status, 200);
}

TEST_F(ApiTest, BehindATrustedProxyEachForwardedClientHasItsOwnBucket) {
  auto config = TestConfig(*database_url_);
  config.rate_limit_rps = 0.1;
  config.rate_limit_burst = 2;
  config.trusted_proxies = "127.0.0.0/8, ::1";  // the test's connections come from loopback: "the proxy"
  ApiUnderTest behind_proxy(config);
  const auto as = [&](const std::string& forwarded_for) {
    return behind_proxy.Get("/v1/companies/AAPL", {{"X-Forwarded-For", forwarded_for}}).status;
  };
  EXPECT_EQ(as("203.0.113.5"), 200);
  EXPECT_EQ(as("203.0.113.5"), 200);
  EXPECT_EQ(as("203.0.113.5"), 429) << "the first client used its burst";
  EXPECT_EQ(as("198.51.100.7"), 200) << "another client behind the same proxy has a bucket of its own";
  // What a client writes to the left of the address the proxy appended is never believed.
  EXPECT_EQ(as("198.51.100.99, 203.0.113.5"), 429);

  // Without trusted proxies the header changes nothing: every request is the loopback peer's.
  config.trusted_proxies = "";
  ApiUnderTest direct(config);
  EXPECT_EQ(direct.Get("/v1/companies/AAPL", {{"X-Forwarded-For", "192.0.2.1"}}).status, 200);
  EXPECT_EQ(direct.Get("/v1/companies/AAPL", {{"X-Forwarded-For", "192.0.2.2"}}).status, 200);
  EXPECT_EQ(direct.Get("/v1/companies/AAPL", {{"X-Forwarded-For", "192.0.2.3"}}).status, 429);
}

TEST_F(ApiTest, ApiKeysFromAFileAreRequiredWhenConfigured) {
  const auto file = std::filesystem::temp_directory_path() / ("keys-" + std::to_string(::getpid()));
  std::ofstream(file) << "# keys for tests\n\nkey-one\n  key-two  \n";
  auto config = TestConfig(*database_url_);
  config.api_keys_file = file.string();
  ApiUnderTest keyed(config);
  EXPECT_EQ(keyed.Get("/v1/companies/AAPL").status, 401);
  EXPECT_EQ(keyed.Get("/v1/companies/AAPL", {{"X-API-Key", "wrong"}}).status, 403);
  EXPECT_EQ(keyed.Get("/v1/companies/AAPL", {{"X-API-Key", "key-one"}}).status, 200);
  EXPECT_EQ(keyed.Get("/v1/companies/AAPL", {{"Authorization", "Bearer key-two"}}).status, 200);
  EXPECT_EQ(keyed.Get("/health").status, 200);
  EXPECT_EQ(keyed.Get("/ready").status, 200);
  std::filesystem::remove(file);
}

TEST_F(ApiTest, AnUnusableKeyFileClosesTheApi) {
  const auto dir = std::filesystem::temp_directory_path() / ("unusable-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "comments-only") << "# keys to come\n\n";
  std::filesystem::create_directories(dir / "a-directory");
  // Missing (the Secret has no such entry), without a key, and not readable as a file.
  for (const std::string name : {"missing", "comments-only", "a-directory"}) {
    auto config = TestConfig(*database_url_);
    config.api_keys_file = (dir / name).string();
    ApiUnderTest closed(config);
    for (const auto& headers : std::vector<std::vector<http::Header>>{{}, {{"X-API-Key", "anything"}}}) {
      const auto answer = closed.Get("/v1/companies/AAPL", headers);
      EXPECT_EQ(answer.status, 503) << name << ": " << answer.body;
      EXPECT_EQ(Body(answer)["error"]["code"], 503) << name;
      EXPECT_EQ(answer.body.find(dir.string()), std::string::npos) << "no path in the answer: " << answer.body;
    }
    const auto ready = closed.Get("/ready");
    EXPECT_EQ(ready.status, 503) << name << ": " << ready.body;
    EXPECT_NE(ready.body.find("API keys required but none usable"), std::string::npos) << ready.body;
    EXPECT_EQ(ready.body.find(dir.string()), std::string::npos) << "no path in /ready: " << ready.body;
    EXPECT_EQ(closed.Get("/health").status, 200);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace financialapi::testing
