#include "financialapi/runtime/work_queue.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace financialapi::runtime {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<RateLimiter> NoLimit() { return std::make_unique<ItemExponentialRateLimiter>(0ms, 0ms); }

TEST(RateLimiterTest, PerKeyBackoffDoublesFrom5msUpTo1000s) {
  ItemExponentialRateLimiter limiter(5ms, 1000s);
  EXPECT_EQ(limiter.When("a"), Duration(5ms));
  EXPECT_EQ(limiter.When("a"), Duration(10ms));
  EXPECT_EQ(limiter.When("a"), Duration(20ms));
  EXPECT_EQ(limiter.When("b"), Duration(5ms)) << "keys back off independently";
  EXPECT_EQ(limiter.NumRequeues("a"), 3);
  for (int i = 0; i < 40; ++i) (void)limiter.When("a");
  EXPECT_EQ(limiter.When("a"), Duration(1000s)) << "capped";
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), Duration(5ms)) << "a success starts over";
}

TEST(RateLimiterTest, BucketLimitsAllKeysTogether) {
  ManualClock clock;
  BucketRateLimiter limiter(10, 2, clock);
  EXPECT_EQ(limiter.When("a"), Duration::zero());
  EXPECT_EQ(limiter.When("b"), Duration::zero());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(limiter.When("c")), 100ms) << "burst used up: 10 qps";
  clock.Advance(1s);
  EXPECT_EQ(limiter.When("d"), Duration::zero());
}

TEST(RateLimiterTest, DefaultTakesTheLongerOfBoth) {
  ManualClock clock;
  auto limiter = DefaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->When("x"), Duration(5ms));
  EXPECT_EQ(limiter->When("x"), Duration(10ms));
  EXPECT_EQ(limiter->NumRequeues("x"), 2);
}

TEST(WorkQueueTest, DeduplicatesQueuedKeys) {
  WorkQueue queue(NoLimit());
  queue.Add("ns/a");
  queue.Add("ns/a");
  queue.Add("ns/b");
  EXPECT_EQ(queue.Len(), 2U);
  EXPECT_EQ(queue.Get(), "ns/a");
  EXPECT_EQ(queue.Get(), "ns/b");
}

TEST(WorkQueueTest, AKeyBeingProcessedIsNotHandedOutTwiceButComesBackAfterDone) {
  WorkQueue queue(NoLimit());
  queue.Add("k");
  auto first = queue.Get();
  ASSERT_EQ(first, "k");
  queue.Add("k");  // changed while being reconciled
  EXPECT_EQ(queue.Len(), 0U) << "must wait for Done";
  EXPECT_EQ(queue.InFlight(), 1U);
  queue.Done("k");
  EXPECT_EQ(queue.Len(), 1U);
  EXPECT_EQ(queue.Get(), "k");
  queue.Done("k");
  EXPECT_EQ(queue.Len(), 0U);
}

TEST(WorkQueueTest, AddAfterWaitsForTheClockAndKeepsTheEarlierTime) {
  ManualClock clock;
  WorkQueue queue(NoLimit(), clock);
  queue.AddAfter("late", 10s);
  queue.AddAfter("late", 3s);   // earlier wins
  queue.AddAfter("late", 20s);  // later is ignored
  EXPECT_EQ(queue.Len(), 0U);
  EXPECT_EQ(queue.WaitingLen(), 1U);
  clock.Advance(2s);
  EXPECT_EQ(queue.Len(), 0U);
  clock.Advance(1s);
  EXPECT_EQ(queue.Len(), 1U);
  EXPECT_EQ(queue.Get(), "late");
}

TEST(WorkQueueTest, RateLimitedAddsBackOffPerKey) {
  ManualClock clock;
  WorkQueue queue(std::make_unique<ItemExponentialRateLimiter>(5ms, 1000s), clock);
  queue.AddRateLimited("bad");
  EXPECT_EQ(queue.Len(), 0U);
  clock.Advance(5ms);
  EXPECT_EQ(queue.Len(), 1U);
  ASSERT_EQ(queue.Get(), "bad");
  queue.Done("bad");
  queue.AddRateLimited("bad");
  clock.Advance(5ms);
  EXPECT_EQ(queue.Len(), 0U) << "second failure waits 10ms";
  clock.Advance(5ms);
  EXPECT_EQ(queue.Len(), 1U);
  EXPECT_EQ(queue.NumRequeues("bad"), 2);
  queue.Forget("bad");
  EXPECT_EQ(queue.NumRequeues("bad"), 0);
}

TEST(WorkQueueTest, BlockedGetWakesForADelayedKey) {
  ManualClock clock;
  WorkQueue queue(NoLimit(), clock);
  std::atomic<bool> got{false};
  std::thread worker([&] {
    auto key = queue.Get();
    got = key.has_value();
  });
  queue.AddAfter("k", 1s);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got.load());
  clock.Advance(1s);
  queue.Wake();
  worker.join();
  EXPECT_TRUE(got.load());
}

TEST(WorkQueueTest, ShutDownReleasesBlockedWorkersAndDrainWaitsForInFlight) {
  WorkQueue queue(NoLimit());
  queue.Add("busy");
  ASSERT_EQ(queue.Get(), "busy");
  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    queue.ShutDownWithDrain();
    drained = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(drained.load()) << "drain waits for the key in flight";
  EXPECT_FALSE(queue.Get().has_value()) << "no new work after shutdown";
  queue.Add("late");
  EXPECT_EQ(queue.Len(), 0U) << "adds after shutdown are dropped";
  queue.Done("busy");
  stopper.join();
  EXPECT_TRUE(drained.load());
}

TEST(WorkQueueTest, ManyWorkersNeverProcessTheSameKeyAtOnce) {
  WorkQueue queue(NoLimit());
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      while (auto key = queue.Get()) {
        const int now = ++concurrent;
        int seen = max_concurrent.load();
        while (now > seen && !max_concurrent.compare_exchange_weak(seen, now)) {}
        std::this_thread::sleep_for(1ms);
        --concurrent;
        ++processed;
        queue.Done(*key);
      }
    });
  }
  for (int i = 0; i < 200; ++i) queue.Add("same");
  std::this_thread::sleep_for(100ms);
  queue.ShutDown();
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(max_concurrent.load(), 1);
  EXPECT_GE(processed.load(), 1);
  EXPECT_LE(processed.load(), 200);
}

}  // namespace
}  // namespace financialapi::runtime
