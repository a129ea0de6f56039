// A token bucket: `rate` tokens per second refill up to `burst`. Used for client QPS limits, the work
// queue's overall limit and the API server's per-client rate limits.
#pragma once

#include <chrono>
#include <mutex>

#include "financialapi/common/clock.h"

namespace financialapi {

class TokenBucket {
 public:
  // rate <= 0 means unlimited (Reserve always returns zero).
  TokenBucket(double rate_per_second, double burst, const Clock& clock = SystemClock::Get());

  // Takes one token now if there is one and returns true; otherwise takes nothing and returns false.
  bool TryTake();
  // Takes one token, going into debt if needed, and returns how long the caller must wait before
  // using it (zero when a token was available). Callers that wait this long stay within the rate.
  Clock::Duration Reserve();
  // Seconds until a token is available (0 when one is), without taking it (for Retry-After).
  double SecondsUntilAvailable();

 private:
  void Refill();

  const double rate_;
  const double burst_;
  const Clock& clock_;
  std::mutex mutex_;
  double tokens_;
  Clock::TimePoint last_;
};

}  // namespace financialapi
