// Per-client rate limits and API keys, with time driven by a ManualClock.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "financialapi/common/clock.h"
#include "financialapi/service/access.h"

namespace financialapi::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int Allowed(RateLimiter& limiter, const std::string& client, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) allowed += limiter.Admit(client).allowed ? 1 : 0;
  return allowed;
}

TEST(TrustedProxiesTest, ParsesAddressesAndBlocksAndNamesABadEntry) {
  auto proxies = TrustedProxies::Parse(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8, ::1");
  ASSERT_TRUE(proxies.ok()) << proxies.status();
  EXPECT_TRUE(proxies->Contains("10.255.3.4"));
  EXPECT_FALSE(proxies->Contains("11.0.0.1"));
  EXPECT_TRUE(proxies->Contains("192.168.1.7"));
  EXPECT_FALSE(proxies->Contains("192.168.1.8"));
  EXPECT_TRUE(proxies->Contains("fd12:3456::1"));
  EXPECT_FALSE(proxies->Contains("fe80::1"));
  EXPECT_TRUE(proxies->Contains("::1"));
  EXPECT_TRUE(proxies->Contains("::ffff:10.1.2.3")) << "an IPv4-mapped peer is its IPv4 address";
  EXPECT_FALSE(proxies->Contains("not-an-address"));
  EXPECT_TRUE(TrustedProxies::Parse("")->empty());
  EXPECT_TRUE(TrustedProxies::Parse("0.0.0.0/0")->Contains("8.8.8.8"));
  EXPECT_TRUE(TrustedProxies::Parse("10.1.2.3/12")->Contains("10.15.0.1")) << "host bits in the block are ignored";

  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "proxy.local", "10.0.0.0/8,,", "1.2.3.4/-1"}) {
    auto parsed = TrustedProxies::Parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("is not an IP address or CIDR block"), std::string::npos) << parsed.status();
  }
  EXPECT_NE(TrustedProxies::Parse("10.0.0.0/8, nope").status().message().find("'nope'"), std::string::npos);
}

TEST(TrustedProxiesTest, TheClientIsTheFirstUntrustedHopFromTheRight) {
  auto proxies = TrustedProxies::Parse("10.0.0.0/8");
  ASSERT_TRUE(proxies.ok());
  // A peer that is not a proxy is the client, whatever it claims.
  EXPECT_EQ(proxies->ClientAddress("203.0.113.9", "1.1.1.1"), "203.0.113.9");
  // Behind one proxy: the address it appended.
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", "203.0.113.9"), "203.0.113.9");
  // Behind two proxies; entries a client forged further left are not reached.
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.7"), "203.0.113.9");
  // No header, or only proxies: the leftmost proxy seen.
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", ""), "10.0.0.5");
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", "10.0.0.9,10.0.0.7"), "10.0.0.9");
  // Garbage stops the walk at the last hop that made sense.
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", "203.0.113.9, unknown"), "10.0.0.5");
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", "unknown, 10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(proxies->ClientAddress("10.0.0.5", " 2001:db8::1 "), "2001:db8::1");
}

TEST(ClientRateLimiterTest, BurstThenRefusalWithRetryAfter) {
  ManualClock clock;
  RateLimiter limiter(10, 20, clock);
  for (int i = 0; i < 20; ++i) {
    const auto decision = limiter.Admit("10.0.0.1");
    ASSERT_TRUE(decision.allowed) << "request " << i;
    EXPECT_EQ(decision.retry_after_seconds, 0);
  }
  const auto refused = limiter.Admit("10.0.0.1");
  EXPECT_FALSE(refused.allowed);
  // A token is back in 0.1 s: Retry-After is whole seconds, at least 1.
  EXPECT_EQ(refused.retry_after_seconds, 1);
  // Refusals take nothing: still refused, no debt piles up.
  EXPECT_EQ(Allowed(limiter, "10.0.0.1", 50), 0);
  clock.Advance(milliseconds(100));
  EXPECT_EQ(Allowed(limiter, "10.0.0.1", 5), 1);
}

TEST(ClientRateLimiterTest, RefillsWithTime) {
  ManualClock clock;
  RateLimiter limiter(10, 20, clock);
  EXPECT_EQ(Allowed(limiter, "c", 30), 20);
  clock.Advance(seconds(1));
  EXPECT_EQ(Allowed(limiter, "c", 30), 10);
  clock.Advance(seconds(60));  // never more than the burst
  EXPECT_EQ(Allowed(limiter, "c", 30), 20);
}

TEST(ClientRateLimiterTest, RetryAfterCountsWholeSecondsUntilTheNextToken) {
  ManualClock clock;
  RateLimiter limiter(0.1, 1, clock);  // one request per 10 s
  EXPECT_TRUE(limiter.Admit("slow").allowed);
  auto refused = limiter.Admit("slow");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 10);
  clock.Advance(milliseconds(4500));
  refused = limiter.Admit("slow");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 6);  // 5.5 s rounded up
  clock.Advance(milliseconds(5500));
  EXPECT_TRUE(limiter.Admit("slow").allowed);
}

TEST(ClientRateLimiterTest, ClientsHaveSeparateBuckets) {
  ManualClock clock;
  RateLimiter limiter(10, 20, clock);
  EXPECT_EQ(Allowed(limiter, "key:alice", 25), 20);
  EXPECT_FALSE(limiter.Admit("key:alice").allowed);
  EXPECT_EQ(Allowed(limiter, "key:bob", 25), 20);
  EXPECT_EQ(Allowed(limiter, "10.0.0.7", 1), 1);
  EXPECT_EQ(limiter.TrackedClients(), 3u);
}

TEST(ClientRateLimiterTest, ZeroRateIsUnlimited) {
  ManualClock clock;
  RateLimiter limiter(0, 20, clock);
  EXPECT_EQ(Allowed(limiter, "c", 1000), 1000);
  EXPECT_EQ(limiter.TrackedClients(), 0u);
  RateLimiter negative(-1, 20, clock);
  EXPECT_EQ(Allowed(negative, "c", 100), 100);
}

TEST(ClientRateLimiterTest, IdleBucketsAreDropped) {
  ManualClock clock;
  RateLimiter limiter(10, 20, clock);  // a bucket refills completely in 2 s
  EXPECT_EQ(Allowed(limiter, "a", 30), 20);
  EXPECT_TRUE(limiter.Admit("b").allowed);
  EXPECT_EQ(limiter.TrackedClients(), 2u);
  clock.Advance(seconds(1));
  EXPECT_TRUE(limiter.Admit("b").allowed);  // b stays active
  EXPECT_EQ(limiter.TrackedClients(), 2u);
  clock.Advance(milliseconds(1500));
  EXPECT_TRUE(limiter.Admit("c").allowed);
  // a idle for 2.5 s is full again and gone, b (idle 1.5 s) stays, c is new.
  EXPECT_EQ(limiter.TrackedClients(), 2u);
  // a comes back with a full bucket, as if it had been kept.
  EXPECT_EQ(Allowed(limiter, "a", 30), 20);
  EXPECT_EQ(limiter.TrackedClients(), 3u);
  clock.Advance(seconds(600));
  EXPECT_TRUE(limiter.Admit("d").allowed);
  EXPECT_EQ(limiter.TrackedClients(), 1u);
}

TEST(ClientRateLimiterTest, MemoryIsBoundedWhateverTheNumberOfClients) {
  ManualClock clock;
  RateLimiter limiter(0.01, 5, clock);  // buckets take 500 s to refill: none is idle enough to drop
  for (int i = 0; i < 120'000; ++i) limiter.Admit("ip:10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256));
  EXPECT_LE(limiter.TrackedClients(), 100'000u) << "the default cap";
}

TEST(ClientRateLimiterTest, PastTheCapTheLeastRecentlyUsedBucketGoes) {
  ManualClock clock;
  RateLimiter limiter(0.01, 2, clock, /*max_clients=*/3);
  for (const std::string client : {"a", "b", "c"}) EXPECT_EQ(Allowed(limiter, client, 3), 2) << client;
  clock.Advance(seconds(1));
  EXPECT_FALSE(limiter.Admit("a").allowed);  // a is now the most recently used
  EXPECT_TRUE(limiter.Admit("d").allowed);   // evicts b, the least recently used
  EXPECT_EQ(limiter.TrackedClients(), 3u);
  EXPECT_FALSE(limiter.Peek("a").allowed);
  EXPECT_FALSE(limiter.Peek("c").allowed);
  EXPECT_TRUE(limiter.Peek("b").allowed) << "b was dropped: it starts again with a full bucket";
  EXPECT_EQ(Allowed(limiter, "b", 3), 2);    // and now evicts c
  EXPECT_EQ(limiter.TrackedClients(), 3u);
  EXPECT_TRUE(limiter.Peek("c").allowed);
}

TEST(ClientRateLimiterTest, PeekTakesNothing) {
  ManualClock clock;
  RateLimiter limiter(1, 2, clock);
  EXPECT_TRUE(limiter.Peek("a").allowed);
  EXPECT_EQ(limiter.TrackedClients(), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Peek("a").allowed);
  EXPECT_EQ(Allowed(limiter, "a", 3), 2);
  const auto peeked = limiter.Peek("a");
  EXPECT_FALSE(peeked.allowed);
  EXPECT_EQ(peeked.retry_after_seconds, 1);
  clock.Advance(seconds(1));
  EXPECT_TRUE(limiter.Peek("a").allowed);
  EXPECT_TRUE(limiter.Admit("a").allowed);
}

TEST(ClientBucketTest, Ipv4PerAddressIpv6PerSlash64) {
  EXPECT_EQ(ClientBucket("203.0.113.5"), "ip:203.0.113.5");
  EXPECT_EQ(ClientBucket("::ffff:203.0.113.5"), "ip:203.0.113.5") << "IPv4-mapped is the IPv4 client";
  EXPECT_EQ(ClientBucket("2001:db8:1:2::1"), "ip6:2001:db8:1:2::/64");
  EXPECT_EQ(ClientBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "ip6:2001:db8:1:2::/64");
  EXPECT_EQ(ClientBucket("2001:DB8:1:2::ffff"), "ip6:2001:db8:1:2::/64") << "one spelling per /64";
  EXPECT_EQ(ClientBucket("2001:db8:1:3::1"), "ip6:2001:db8:1:3::/64");
  EXPECT_EQ(ClientBucket("not-an-address"), "ip:not-an-address");
}

// --- API keys --------------------------------------------------------------------------------------

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("financialapi-apikeys-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "api-keys";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the file and moves its modification time forward, as a Secret update would.
  void Write(const std::string& content) {
    std::filesystem::file_time_type previous{};
    const bool existed = std::filesystem::exists(path_);
    if (existed) previous = std::filesystem::last_write_time(path_);
    {
      std::ofstream out(path_, std::ios::trunc);
      out << content;
    }
    if (existed) std::filesystem::last_write_time(path_, previous + seconds(1));
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
  ManualClock clock_;
};

TEST_F(ApiKeysTest, NoFileConfiguredRequiresNoKey) {
  ApiKeys keys(std::nullopt, seconds(5), clock_);
  EXPECT_FALSE(keys.Enabled());
  EXPECT_TRUE(keys.Check(std::nullopt).ok());
  EXPECT_TRUE(keys.Check("anything").ok());
  EXPECT_TRUE(keys.FileStatus().ok());
}

// A configured file that yields no key must not make the API public: every check is refused as
// Unavailable (the API answers 503), with a reason that names no path; FileStatus (for the log) has it.
void ExpectClosed(ApiKeys& keys, const std::string& file_problem) {
  EXPECT_TRUE(keys.Enabled());
  for (const std::optional<std::string_view> key : {std::optional<std::string_view>(), std::optional<std::string_view>("k1"),
                                                    std::optional<std::string_view>("anything")}) {
    const Status refused = keys.Check(key);
    EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused;
    EXPECT_EQ(refused.message(), "API keys required but none usable") << refused;
  }
  const Status problem = keys.FileStatus();
  EXPECT_FALSE(problem.ok());
  EXPECT_NE(problem.message().find(file_problem), std::string::npos) << problem;
}

TEST_F(ApiKeysTest, MissingFileRefusesEveryone) {
  ApiKeys keys(path_, seconds(5), clock_);
  ExpectClosed(keys, path_.string());
}

TEST_F(ApiKeysTest, EmptyOrCommentOnlyFileRefusesEveryone) {
  Write("# no keys yet\n\n   \n");
  ApiKeys keys(path_, seconds(5), clock_);
  ExpectClosed(keys, "no API key");
}

TEST_F(ApiKeysTest, UnreadableFileRefusesEveryone) {
  std::filesystem::create_directories(path_);  // exists, has a modification time, cannot be read as a file
  ApiKeys keys(path_, seconds(5), clock_);
  ExpectClosed(keys, path_.string());
}

TEST_F(ApiKeysTest, TheFileProblemIsReportedOnceWhenItChanges) {
  std::vector<std::string> reports;
  ApiKeys keys(path_, seconds(5), clock_, [&](const Status& status) { reports.push_back(status.ok() ? "ok" : status.message()); });
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(keys.Check("k1").code(), StatusCode::kUnavailable);
    clock_.Advance(seconds(5));
  }
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find(path_.string()), std::string::npos) << reports[0];
  Write("k1\n");
  clock_.Advance(seconds(5));
  EXPECT_TRUE(keys.Check("k1").ok());
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "ok");
}

TEST_F(ApiKeysTest, KeysWithCommentsAndBlankLines) {
  Write("# production keys\n\n  key-one  \nkey-two\r\n\t\n#key-three\n");
  ApiKeys keys(path_, seconds(5), clock_);
  EXPECT_TRUE(keys.Enabled());
  EXPECT_TRUE(keys.Check("key-one").ok()) << keys.Check("key-one");
  EXPECT_TRUE(keys.Check("key-two").ok()) << keys.Check("key-two");

  const Status commented = keys.Check("key-three");
  EXPECT_EQ(commented.code(), StatusCode::kPermissionDenied) << commented;
  EXPECT_EQ(keys.Check("# production keys").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(keys.Check("key-one ").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(keys.Check("KEY-ONE").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(keys.Check("wrong").code(), StatusCode::kPermissionDenied);

  const Status missing = keys.Check(std::nullopt);
  EXPECT_EQ(missing.code(), StatusCode::kUnauthenticated) << missing;
  EXPECT_NE(missing.message().find("X-API-Key"), std::string::npos);
  EXPECT_EQ(keys.Check("").code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(keys.FileStatus().ok());
}

TEST_F(ApiKeysTest, RewrittenFileIsReloadedAfterTheRecheckInterval) {
  Write("old-key\n");
  ApiKeys keys(path_, seconds(5), clock_);
  EXPECT_TRUE(keys.Check("old-key").ok());

  Write("new-key\n");
  // Not looked at again before the interval has passed.
  clock_.Advance(seconds(4));
  EXPECT_TRUE(keys.Check("old-key").ok());
  EXPECT_EQ(keys.Check("new-key").code(), StatusCode::kPermissionDenied);

  clock_.Advance(seconds(1));
  EXPECT_TRUE(keys.Check("new-key").ok());
  EXPECT_EQ(keys.Check("old-key").code(), StatusCode::kPermissionDenied);
}

TEST_F(ApiKeysTest, DeletedFileRefusesEveryoneAndRecreatedFileMeansKeysAgain) {
  Write("k1\n");
  ApiKeys keys(path_, seconds(5), clock_);
  EXPECT_TRUE(keys.Enabled());
  EXPECT_EQ(keys.Check(std::nullopt).code(), StatusCode::kUnauthenticated);

  std::filesystem::remove(path_);
  clock_.Advance(seconds(5));
  ExpectClosed(keys, path_.string());

  Write("k2\n");
  clock_.Advance(seconds(5));
  EXPECT_TRUE(keys.Enabled());
  EXPECT_TRUE(keys.Check("k2").ok());
  EXPECT_EQ(keys.Check("k1").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(keys.FileStatus().ok());
}

TEST_F(ApiKeysTest, UnchangedFileIsNotReparsed) {
  Write("k1\n");
  const auto mtime = std::filesystem::last_write_time(path_);
  ApiKeys keys(path_, seconds(5), clock_);
  EXPECT_TRUE(keys.Check("k1").ok());
  // Same modification time, different content: the file is not read again.
  {
    std::ofstream out(path_, std::ios::trunc);
    out << "k2\n";
  }
  std::filesystem::last_write_time(path_, mtime);
  clock_.Advance(seconds(10));
  EXPECT_TRUE(keys.Check("k1").ok());
  EXPECT_EQ(keys.Check("k2").code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace financialapi::service
