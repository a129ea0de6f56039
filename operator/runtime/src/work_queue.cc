#include "financialapi/runtime/work_queue.h"

#include <algorithm>
#include <cmath>

namespace financialapi::runtime {

Duration ItemExponentialRateLimiter::When(const std::string& key) {
  std::lock_guard lock(mutex_);
  const int failures = failures_[key]++;
  // 2^failures overflows long before the cap matters; stop doubling once past it.
  const double factor = std::pow(2.0, std::min(failures, 62));
  const double nanos = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(base_).count()) * factor;
  const double max_nanos = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(max_).count());
  if (nanos >= max_nanos) return max_;
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(static_cast<long long>(nanos)));
}

void ItemExponentialRateLimiter::Forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int ItemExponentialRateLimiter::NumRequeues(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto found = failures_.find(key);
  return found == failures_.end() ? 0 : found->second;
}

Duration BucketRateLimiter::When(const std::string&) { return bucket_.Reserve(); }

Duration MaxOfRateLimiter::When(const std::string& key) {
  Duration longest = Duration::zero();
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->When(key));
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& key) {
  for (auto& limiter : limiters_) limiter->Forget(key);
}

int MaxOfRateLimiter::NumRequeues(const std::string& key) {
  int most = 0;
  for (auto& limiter : limiters_) most = std::max(most, limiter->NumRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(const Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10.0, 100.0, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

WorkQueue::WorkQueue(std::unique_ptr<RateLimiter> limiter, const Clock& clock, WorkQueueObserver* observer)
    : limiter_(std::move(limiter)), clock_(clock), observer_(observer) {}

void WorkQueue::ReportDepthLocked() {
  if (observer_ != nullptr) observer_->OnDepth(queue_.size());
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (observer_ != nullptr) observer_->OnAdd();
  if (!dirty_.insert(key).second) return;  // already queued (or queued again after Done)
  queued_at_.emplace(key, clock_.Now());
  if (processing_.contains(key)) return;   // Done will queue it
  queue_.push_back(key);
  ReportDepthLocked();
  changed_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mutex_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (delay <= Duration::zero()) {
    AddLocked(key);
    return;
  }
  const auto ready_at = clock_.Now() + delay;
  // A key already waiting keeps the earlier of its two times.
  if (const auto existing = waiting_ready_at_.find(key); existing != waiting_ready_at_.end()) {
    if (existing->second <= ready_at) return;
    const auto range = waiting_.equal_range(existing->second);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == key) {
        waiting_.erase(it);
        break;
      }
    }
  }
  waiting_.emplace(ready_at, key);
  waiting_ready_at_[key] = ready_at;
  changed_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  const Duration delay = limiter_->When(key);
  if (observer_ != nullptr) observer_->OnRetry();
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) { limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) { return limiter_->NumRequeues(key); }

void WorkQueue::PromoteReadyLocked() {
  const auto now = clock_.Now();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    const std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waiting_ready_at_.erase(key);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteReadyLocked();
    if (!queue_.empty()) break;
    if (waiting_.empty()) {
      changed_.wait(lock);
    } else {
      // Real time to wait, computed on the queue's clock (with a ManualClock, Wake() ends it early).
      const auto until_ready = waiting_.begin()->first - clock_.Now();
      changed_.wait_for(lock, std::min<Duration>(until_ready, std::chrono::seconds(1)));
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  const auto now = clock_.Now();
  if (observer_ != nullptr) {
    if (const auto queued = queued_at_.find(key); queued != queued_at_.end()) {
      observer_->OnQueued(now - queued->second);
    }
  }
  queued_at_.erase(key);
  started_at_[key] = now;
  ReportDepthLocked();
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mutex_);
  processing_.erase(key);
  if (observer_ != nullptr) {
    if (const auto started = started_at_.find(key); started != started_at_.end()) {
      observer_->OnWorked(clock_.Now() - started->second);
    }
  }
  started_at_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    ReportDepthLocked();
  }
  changed_.notify_all();
}

std::size_t WorkQueue::Len() {
  std::lock_guard lock(mutex_);
  PromoteReadyLocked();
  return queue_.size();
}

std::size_t WorkQueue::WaitingLen() {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::size_t WorkQueue::InFlight() {
  std::lock_guard lock(mutex_);
  return processing_.size();
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  changed_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock lock(mutex_);
  shutting_down_ = true;
  changed_.notify_all();
  changed_.wait(lock, [this] { return processing_.empty(); });
}

bool WorkQueue::ShuttingDown() {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

void WorkQueue::Wake() {
  std::lock_guard lock(mutex_);
  changed_.notify_all();
}

}  // namespace financialapi::runtime
