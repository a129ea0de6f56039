// The response cache without Redis: the in-process layer (TTL, byte bound), gzip of cached bodies,
// and the one-computation-per-cold-key guarantee.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "financialapi/common/clock.h"
#include "financialapi/http/server.h"
#include "financialapi/service/cache.h"

namespace financialapi::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string JsonBody(std::size_t size) {
  std::string body = "{\"data\":\"";
  while (body.size() + 2 < size) body += "abcdefgh"[body.size() % 8];
  body += "\"}";
  return body;
}

// --- MakeCachedBody ---------------------------------------------------------------------------------

TEST(MakeCachedBodyTest, CompressesOnlyFromTheThreshold) {
  const std::string small = JsonBody(1023);
  ASSERT_EQ(small.size(), 1023u);
  const auto below = MakeCachedBody(small, 1024);
  ASSERT_NE(below->body, nullptr);
  EXPECT_EQ(*below->body, small);
  EXPECT_EQ(below->gzip, nullptr);

  const std::string large = JsonBody(1024);
  ASSERT_EQ(large.size(), 1024u);
  const auto at = MakeCachedBody(large, 1024);
  EXPECT_EQ(*at->body, large);
  ASSERT_NE(at->gzip, nullptr);
  EXPECT_LT(at->gzip->size(), large.size());
  auto decompressed = http::GzipDecompress(*at->gzip);
  ASSERT_TRUE(decompressed.ok()) << decompressed.status();
  EXPECT_EQ(*decompressed, large);

  const auto always = MakeCachedBody("{}", 0);
  ASSERT_NE(always->gzip, nullptr);
  auto tiny = http::GzipDecompress(*always->gzip);
  ASSERT_TRUE(tiny.ok()) << tiny.status();
  EXPECT_EQ(*tiny, "{}");
}

// --- LocalCache -------------------------------------------------------------------------------------

TEST(LocalCacheTest, EntriesExpireAfterTheirTtl) {
  ManualClock clock;
  LocalCache cache(1 << 20, seconds(5), clock);
  EXPECT_EQ(cache.Get("/v1/companies/AAPL"), nullptr);
  const auto body = MakeCachedBody("{\"cik\":320193}", 1024);
  cache.Put("/v1/companies/AAPL", body);
  EXPECT_EQ(cache.Get("/v1/companies/AAPL"), body);
  EXPECT_EQ(cache.Bytes(), std::string("/v1/companies/AAPL").size() + body->body->size());
  clock.Advance(milliseconds(4999));
  EXPECT_EQ(cache.Get("/v1/companies/AAPL"), body);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(cache.Get("/v1/companies/AAPL"), nullptr);
  EXPECT_EQ(cache.Bytes(), 0u);

  // A new Put starts a new lifetime.
  cache.Put("/v1/companies/AAPL", body);
  clock.Advance(seconds(3));
  cache.Put("/v1/companies/AAPL", body);
  clock.Advance(seconds(3));
  EXPECT_EQ(cache.Get("/v1/companies/AAPL"), body);
}

TEST(LocalCacheTest, ReplacingAnEntryDoesNotCountItTwice) {
  ManualClock clock;
  LocalCache cache(1 << 20, seconds(5), clock);
  cache.Put("k", MakeCachedBody(std::string(100, 'a'), 1 << 20));
  cache.Put("k", MakeCachedBody(std::string(300, 'b'), 1 << 20));
  EXPECT_EQ(cache.Bytes(), 301u);
  EXPECT_EQ(*cache.Get("k")->body, std::string(300, 'b'));
}

TEST(LocalCacheTest, GzipCountsTowardTheBytes) {
  ManualClock clock;
  LocalCache cache(1 << 20, seconds(5), clock);
  const auto body = MakeCachedBody(JsonBody(4096), 1024);
  ASSERT_NE(body->gzip, nullptr);
  cache.Put("key", body);
  EXPECT_EQ(cache.Bytes(), 3 + body->body->size() + body->gzip->size());
}

// Keys that land in the same shard of the 16 (the cache hashes keys with std::hash).
std::vector<std::string> KeysOfOneShard(std::size_t count) {
  std::vector<std::string> keys;
  const std::size_t shard = std::hash<std::string>{}("key-0") % 16;
  for (int i = 0; keys.size() < count; ++i) {
    std::string key = "key-" + std::to_string(i);
    if (std::hash<std::string>{}(key) % 16 == shard) keys.push_back(std::move(key));
  }
  return keys;
}

TEST(LocalCacheTest, EvictsTheOldestInsertedEntriesToStayUnderTheBound) {
  ManualClock clock;
  LocalCache cache(16 * 1000, seconds(60), clock);  // 1000 bytes per shard
  const auto keys = KeysOfOneShard(5);
  const auto entry = [&](const std::string& key) { return MakeCachedBody(std::string(300 - key.size(), 'x'), 1 << 20); };
  for (std::size_t i = 0; i < 3; ++i) cache.Put(keys[i], entry(keys[i]));
  EXPECT_EQ(cache.Bytes(), 900u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NE(cache.Get(keys[i]), nullptr) << keys[i];

  cache.Put(keys[3], entry(keys[3]));
  EXPECT_EQ(cache.Get(keys[0]), nullptr);  // the oldest went
  EXPECT_NE(cache.Get(keys[1]), nullptr);
  EXPECT_NE(cache.Get(keys[3]), nullptr);
  EXPECT_EQ(cache.Bytes(), 900u);

  // Insertion order, not use: reading keys[1] does not save it.
  EXPECT_NE(cache.Get(keys[1]), nullptr);
  cache.Put(keys[4], entry(keys[4]));
  EXPECT_EQ(cache.Get(keys[1]), nullptr);
  EXPECT_NE(cache.Get(keys[2]), nullptr);
  EXPECT_NE(cache.Get(keys[4]), nullptr);
  EXPECT_EQ(cache.Bytes(), 900u);
}

TEST(LocalCacheTest, AnEntryLargerThanAShardIsNotStored) {
  ManualClock clock;
  LocalCache cache(16 * 1000, seconds(60), clock);
  const auto keys = KeysOfOneShard(2);
  cache.Put(keys[0], MakeCachedBody("small", 1 << 20));
  const std::size_t before = cache.Bytes();
  cache.Put(keys[1], MakeCachedBody(std::string(1001, 'x'), 1 << 20));
  EXPECT_EQ(cache.Get(keys[1]), nullptr);
  EXPECT_NE(cache.Get(keys[0]), nullptr);  // and nothing was evicted for it
  EXPECT_EQ(cache.Bytes(), before);
}

TEST(LocalCacheTest, TotalBytesStayUnderTheBound) {
  ManualClock clock;
  const std::size_t max_bytes = 64 * 1024;
  LocalCache cache(max_bytes, seconds(60), clock);
  for (int i = 0; i < 2000; ++i) {
    cache.Put("/v1/companies/" + std::to_string(i), MakeCachedBody(std::string(static_cast<std::size_t>(200 + (i * 37) % 700), 'y'), 1 << 20));
    ASSERT_LE(cache.Bytes(), max_bytes) << "after " << i;
  }
  EXPECT_GT(cache.Bytes(), max_bytes / 2);  // and it is used
  EXPECT_NE(cache.Get("/v1/companies/1999"), nullptr);
  EXPECT_EQ(cache.Get("/v1/companies/0"), nullptr);
}

// --- ResponseCache (no Redis) ---------------------------------------------------------------------------

std::unique_ptr<LocalCache> Local(const Clock& clock, Clock::Duration ttl = seconds(5)) {
  return std::make_unique<LocalCache>(1 << 20, ttl, clock);
}

TEST(ResponseCacheTest, ComputesOnceThenServesFromTheLocalLayer) {
  ManualClock clock;
  std::vector<std::pair<std::string, std::string>> lookups;
  CacheObserver observer{.on_lookup = [&](std::string_view layer, std::string_view result) {
                           lookups.emplace_back(layer, result);
                         },
                         .on_redis_error = {}};
  ResponseCache cache(Local(clock), nullptr, 300, 1024, observer);
  EXPECT_EQ(cache.redis(), nullptr);
  int computed = 0;
  const auto compute = [&]() -> StatusOr<std::string> {
    ++computed;
    return JsonBody(2000);
  };
  auto first = cache.GetOrCompute("/v1/companies/AAPL", compute);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->source, CacheSource::kComputed);
  EXPECT_EQ(*first->body->body, JsonBody(2000));
  ASSERT_NE(first->body->gzip, nullptr);  // 2000 >= 1024

  auto second = cache.GetOrCompute("/v1/companies/AAPL", compute);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->source, CacheSource::kLocal);
  EXPECT_EQ(second->body, first->body);  // the same bytes, not a copy
  EXPECT_EQ(computed, 1);
  // No Redis: only the local layer is looked at.
  EXPECT_EQ(lookups, (std::vector<std::pair<std::string, std::string>>{{"local", "miss"}, {"local", "hit"}}));

  // Another key is its own entry.
  auto other = cache.GetOrCompute("/v1/companies/MSFT", [] { return StatusOr<std::string>("{}"); });
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->source, CacheSource::kComputed);
  EXPECT_EQ(*other->body->body, "{}");
  EXPECT_EQ(other->body->gzip, nullptr);

  // When the local entry expires (and there is no Redis), the body is computed again.
  clock.Advance(seconds(5));
  auto third = cache.GetOrCompute("/v1/companies/AAPL", compute);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->source, CacheSource::kComputed);
  EXPECT_EQ(computed, 2);
}

TEST(ResponseCacheTest, ConcurrentRequestsForAColdKeyComputeOnce) {
  ManualClock clock;
  ResponseCache cache(Local(clock), nullptr, 300, 1024);
  constexpr int kThreads = 16;
  std::atomic<int> computed{0};
  std::atomic<int> started{0};
  const auto compute = [&]() -> StatusOr<std::string> {
    ++computed;
    // Give every other thread time to arrive while this computation runs.
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    while (started.load() < kThreads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    std::this_thread::sleep_for(milliseconds(50));
    return JsonBody(5000);
  };
  std::vector<std::optional<StatusOr<ResponseCache::Answer>>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++started;
      answers[static_cast<std::size_t>(i)] = cache.GetOrCompute("/v1/companies/AAPL/facts", compute);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(computed.load(), 1);
  int computed_answers = 0;
  std::shared_ptr<const CachedBody> body;
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.has_value());
    ASSERT_TRUE(answer->ok()) << answer->status();
    EXPECT_EQ(*(*answer)->body->body, JsonBody(5000));
    if ((*answer)->source == CacheSource::kComputed) {
      ++computed_answers;
    } else {
      EXPECT_TRUE((*answer)->source == CacheSource::kShared || (*answer)->source == CacheSource::kLocal)
          << CacheSourceName((*answer)->source);
    }
    if (!body) body = (*answer)->body;
    EXPECT_EQ((*answer)->body, body);  // one body shared by all
  }
  EXPECT_EQ(computed_answers, 1);
}

// A request that missed the local layer just before another request's computation finished must
// not compute the key again: it finds the fresh entry.
TEST(ResponseCacheTest, ARequestArrivingAsTheComputationEndsDoesNotComputeAgain) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable changed;
  bool late_missed = false;
  bool release_late = false;
  thread_local bool is_late_request = false;
  CacheObserver observer{.on_lookup = [&](std::string_view layer, std::string_view result) {
                           if (!is_late_request || layer != "local" || result != "miss") return;
                           std::unique_lock lock(mutex);
                           late_missed = true;
                           changed.notify_all();
                           changed.wait(lock, [&] { return release_late; });
                         },
                         .on_redis_error = {}};
  ResponseCache cache(Local(clock), nullptr, 300, 1024, observer);
  std::atomic<int> computed{0};
  const auto compute = [&]() -> StatusOr<std::string> {
    ++computed;
    return std::string("{\"n\":1}");
  };

  std::optional<StatusOr<ResponseCache::Answer>> late;
  std::thread late_thread([&] {
    is_late_request = true;
    late = cache.GetOrCompute("key", compute);
  });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return late_missed; });
  }
  // The late request has missed the local layer; this one computes and finishes first.
  auto leader = cache.GetOrCompute("key", compute);
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_EQ(leader->source, CacheSource::kComputed);
  {
    std::lock_guard lock(mutex);
    release_late = true;
  }
  changed.notify_all();
  late_thread.join();
  ASSERT_TRUE(late.has_value());
  ASSERT_TRUE(late->ok()) << late->status();
  EXPECT_EQ(computed.load(), 1);
  EXPECT_EQ((*late)->source, CacheSource::kLocal);
  EXPECT_EQ(*(*late)->body->body, "{\"n\":1}");
}

TEST(ResponseCacheTest, ErrorsReachEveryWaiterAndAreNotCached) {
  ManualClock clock;
  constexpr int kThreads = 8;
  std::atomic<int> misses{0};
  CacheObserver observer{.on_lookup =
                             [&](std::string_view layer, std::string_view result) {
                               if (layer == "local" && result == "miss") ++misses;
                             },
                         .on_redis_error = {}};
  ResponseCache cache(Local(clock), nullptr, 300, 1024, observer);
  std::atomic<int> computed{0};
  const auto failing = [&]() -> StatusOr<std::string> {
    ++computed;
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    while (misses.load() < kThreads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    std::this_thread::sleep_for(milliseconds(300));  // the others are now waiting for this flight
    return Unavailable("postgres: connection refused");
  };
  std::vector<std::optional<StatusOr<ResponseCache::Answer>>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { answers[static_cast<std::size_t>(i)] = cache.GetOrCompute("key", failing); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(computed.load(), 1);
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.has_value());
    ASSERT_FALSE(answer->ok());
    EXPECT_EQ(answer->status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(answer->status().message(), "postgres: connection refused");
  }

  // Not cached: the next request computes again, and its success is cached.
  int recomputed = 0;
  const auto succeeding = [&]() -> StatusOr<std::string> {
    ++recomputed;
    return std::string("{}");
  };
  auto next = cache.GetOrCompute("key", succeeding);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->source, CacheSource::kComputed);
  auto again = cache.GetOrCompute("key", succeeding);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->source, CacheSource::kLocal);
  EXPECT_EQ(recomputed, 1);
}

// Joins `threads` if they all end within `limit`. A thread still blocked then (a waiter of a flight
// that never completes) cannot be joined or safely left running, so the test process ends with the
// failure printed instead of hanging until ctest's timeout.
void JoinWithin(std::vector<std::thread>& threads, std::atomic<int>& finished, std::chrono::milliseconds limit,
                const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (finished.load() < static_cast<int>(threads.size()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  if (finished.load() < static_cast<int>(threads.size())) {
    ADD_FAILURE() << what << ": " << threads.size() - static_cast<std::size_t>(finished.load())
                  << " thread(s) still blocked after " << limit.count() << " ms";
    std::fflush(stdout);
    std::_Exit(1);
  }
  for (auto& thread : threads) thread.join();
}

// Counts local-layer misses, so a test knows when a request has passed the local layer and is
// about to join (or lead) the key's flight.
CacheObserver CountingMisses(std::atomic<int>& misses) {
  return {.on_lookup = [&misses](std::string_view layer, std::string_view result) {
            if (layer == "local" && result == "miss") ++misses;
          },
          .on_redis_error = {}};
}

TEST(ResponseCacheTest, AComputationThatThrowsCompletesItsFlightWithAnError) {
  ManualClock clock;
  std::atomic<int> misses{0};
  ResponseCache cache(Local(clock), nullptr, 300, 1024, CountingMisses(misses));
  std::mutex mutex;
  std::condition_variable changed;
  bool computing = false;
  bool release = false;
  const auto throwing = [&]() -> StatusOr<std::string> {
    {
      std::unique_lock lock(mutex);
      computing = true;
      changed.notify_all();
      changed.wait_for(lock, seconds(10), [&] { return release; });
    }
    throw std::runtime_error("bad_alloc in a third-party parser");
  };
  constexpr int kWaiters = 4;
  std::vector<std::thread> threads;
  std::atomic<int> finished{0};
  std::optional<StatusOr<ResponseCache::Answer>> leader_answer;
  bool leader_threw = false;
  threads.emplace_back([&] {
    try {
      leader_answer = cache.GetOrCompute("key", throwing);
    } catch (...) {
      leader_threw = true;
    }
    ++finished;
  });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, seconds(10), [&] { return computing; }));
  }
  // The leader is computing: these requests can only wait for its flight.
  std::vector<std::optional<StatusOr<ResponseCache::Answer>>> answers(kWaiters);
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      answers[static_cast<std::size_t>(i)] = cache.GetOrCompute("key", [] { return StatusOr<std::string>("{}"); });
      ++finished;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (misses.load() < 1 + kWaiters && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(misses.load(), 1 + kWaiters);
  std::this_thread::sleep_for(milliseconds(100));  // from their miss to the flight's wait
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  JoinWithin(threads, finished, milliseconds(5000), "requests waiting for a computation that threw");

  EXPECT_FALSE(leader_threw) << "the exception escaped GetOrCompute";
  ASSERT_TRUE(leader_answer.has_value());
  ASSERT_FALSE(leader_answer->ok());
  EXPECT_EQ(leader_answer->status().code(), StatusCode::kInternal);
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.has_value());
    ASSERT_FALSE(answer->ok());
    EXPECT_EQ(answer->status().code(), StatusCode::kInternal);
    EXPECT_EQ(answer->status().message(), "internal error");  // what() is logged, not answered
  }
  // The flight is over: the key computes again.
  auto next = cache.GetOrCompute("key", [] { return StatusOr<std::string>("{\"n\":2}"); });
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->source, CacheSource::kComputed);
}

TEST(ResponseCacheTest, WaitersGiveUpAfterTheFlightWait) {
  ManualClock clock;
  std::atomic<int> misses{0};
  ResponseCache cache(Local(clock), nullptr, 300, 1024, CountingMisses(misses), milliseconds(200));
  std::mutex mutex;
  std::condition_variable changed;
  bool computing = false;
  bool release = false;
  const auto slow = [&]() -> StatusOr<std::string> {
    std::unique_lock lock(mutex);
    computing = true;
    changed.notify_all();
    changed.wait_for(lock, seconds(10), [&] { return release; });
    return std::string("{\"slow\":true}");
  };
  std::vector<std::thread> threads;
  std::atomic<int> finished{0};
  std::optional<StatusOr<ResponseCache::Answer>> leader_answer;
  threads.emplace_back([&] {
    leader_answer = cache.GetOrCompute("key", slow);
    ++finished;
  });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, seconds(10), [&] { return computing; }));
  }
  std::optional<StatusOr<ResponseCache::Answer>> waiter_answer;
  std::chrono::steady_clock::duration waited{};
  threads.emplace_back([&] {
    const auto started = std::chrono::steady_clock::now();
    waiter_answer = cache.GetOrCompute("key", [] { return StatusOr<std::string>("{}"); });
    waited = std::chrono::steady_clock::now() - started;
    ++finished;
  });
  // The waiter must come back by itself while the leader is still computing.
  const auto deadline = std::chrono::steady_clock::now() + seconds(3);
  while (finished.load() < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
  const bool waiter_returned_alone = finished.load() == 1;
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  JoinWithin(threads, finished, milliseconds(5000), "the leader and a waiter");
  EXPECT_TRUE(waiter_returned_alone) << "the waiter waited "
                                     << std::chrono::duration_cast<milliseconds>(waited).count()
                                     << " ms, until the leader finished";
  ASSERT_TRUE(waiter_answer.has_value());
  ASSERT_FALSE(waiter_answer->ok());
  EXPECT_EQ(waiter_answer->status().code(), StatusCode::kTimeout);
  EXPECT_LT(waited, seconds(2));
  ASSERT_TRUE(leader_answer.has_value());
  ASSERT_TRUE(leader_answer->ok()) << leader_answer->status();
  EXPECT_EQ(*(*leader_answer)->body->body, "{\"slow\":true}");
}

TEST(ResponseCacheTest, ZeroTtlComputesEveryCall) {
  ManualClock clock;
  int lookups = 0;
  CacheObserver observer{.on_lookup = [&](std::string_view, std::string_view) { ++lookups; }, .on_redis_error = {}};
  ResponseCache cache(Local(clock), nullptr, 0, 1024, observer);
  int computed = 0;
  for (int i = 0; i < 3; ++i) {
    auto answer = cache.GetOrCompute("key", [&]() -> StatusOr<std::string> {
      ++computed;
      return JsonBody(2048);
    });
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer->source, CacheSource::kComputed);
    ASSERT_NE(answer->body->gzip, nullptr);  // still compressed for sending
  }
  EXPECT_EQ(computed, 3);
  EXPECT_EQ(lookups, 0);

  auto error = cache.GetOrCompute("key", [] { return StatusOr<std::string>(NotFound("no company with ticker X")); });
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), StatusCode::kNotFound);
}

TEST(ResponseCacheTest, CacheSourceNames) {
  EXPECT_EQ(CacheSourceName(CacheSource::kLocal), "local");
  EXPECT_EQ(CacheSourceName(CacheSource::kRedis), "redis");
  EXPECT_EQ(CacheSourceName(CacheSource::kComputed), "miss");
  EXPECT_EQ(CacheSourceName(CacheSource::kShared), "shared");
}

}  // namespace
}  // namespace financialapi::service
