// A work queue of object keys with client-go's semantics: an added key is queued once however often
// it is added; a key being processed is not handed to a second worker (adds during processing queue
// it again after Done); failed keys come back after a per-key exponential backoff, bounded overall
// by a token bucket; keys can be added after a delay.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "financialapi/common/clock.h"
#include "financialapi/common/token_bucket.h"

namespace financialapi::runtime {

using Duration = Clock::Duration;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` should wait before its next try (counts a failure).
  virtual Duration When(const std::string& key) = 0;
  // Forgets `key`'s failures (after a success).
  virtual void Forget(const std::string& key) = 0;
  virtual int NumRequeues(const std::string& key) = 0;
};

// base * 2^failures, capped at `max` (client-go's ItemExponentialFailureRateLimiter).
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(Duration base, Duration max) : base_(base), max_(max) {}
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const Duration base_;
  const Duration max_;
  std::mutex mutex_;
  std::unordered_map<std::string, int> failures_;
};

// An overall token bucket across keys (client-go's BucketRateLimiter).
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(double qps, double burst, const Clock& clock) : bucket_(qps, burst, clock) {}
  Duration When(const std::string& key) override;
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }

 private:
  TokenBucket bucket_;
};

// The longest wait any of its limiters asks for.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters) : limiters_(std::move(limiters)) {}
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// controller-runtime's default: per key 5 ms doubling up to 1000 s, overall 10 qps with burst 100.
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(const Clock& clock = SystemClock::Get());

// What a queue reports as it works (workqueue_* metrics); all optional.
class WorkQueueObserver {
 public:
  virtual ~WorkQueueObserver() = default;
  virtual void OnAdd() {}
  virtual void OnRetry() {}
  virtual void OnDepth(std::size_t) {}
  virtual void OnQueued(std::chrono::duration<double> waited) { (void)waited; }
  virtual void OnWorked(std::chrono::duration<double> took) { (void)took; }
};

class WorkQueue {
 public:
  WorkQueue(std::unique_ptr<RateLimiter> limiter, const Clock& clock = SystemClock::Get(),
            WorkQueueObserver* observer = nullptr);

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Duration delay);
  // AddAfter(key, limiter.When(key)): the backoff for a failed key.
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);

  // Blocks until a key is ready and hands it out (the caller must call Done), or returns nullopt
  // once the queue is shut down.
  std::optional<std::string> Get();
  void Done(const std::string& key);

  std::size_t Len();           // keys ready to hand out
  std::size_t WaitingLen();    // keys waiting for their delay
  std::size_t InFlight();      // keys handed out and not Done

  // Stops handing out keys; Get returns nullopt. Keys in flight may still call Done.
  void ShutDown();
  // ShutDown, then waits until every key in flight is Done (workers finish what they started).
  void ShutDownWithDrain();
  bool ShuttingDown();
  // Re-checks delayed keys now (after a ManualClock moved).
  void Wake();

 private:
  void AddLocked(const std::string& key);
  void PromoteReadyLocked();
  void ReportDepthLocked();

  std::unique_ptr<RateLimiter> limiter_;
  const Clock& clock_;
  WorkQueueObserver* observer_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;        // queued or to be queued again after Done
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, Clock::TimePoint> queued_at_;
  std::unordered_map<std::string, Clock::TimePoint> started_at_;
  std::multimap<Clock::TimePoint, std::string> waiting_;  // ready time → key
  std::unordered_map<std::string, Clock::TimePoint> waiting_ready_at_;
  bool shutting_down_ = false;
};

}  // namespace financialapi::runtime
