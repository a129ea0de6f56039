#include "financialapi/common/token_bucket.h"

#include <algorithm>

namespace financialapi {

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

void TokenBucket::Refill() {
  const auto now = clock_.Now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
}

bool TokenBucket::TryTake() {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mutex_);
  Refill();
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

Clock::Duration TokenBucket::Reserve() {
  if (rate_ <= 0) return Clock::Duration::zero();
  std::lock_guard lock(mutex_);
  Refill();
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Clock::Duration::zero();
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(-tokens_ / rate_));
}

double TokenBucket::SecondsUntilAvailable() {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mutex_);
  Refill();
  return tokens_ >= 1.0 ? 0.0 : (1.0 - tokens_) / rate_;
}

}  // namespace financialapi
