// Who may call the API and how often: per-client token buckets and API keys from a mounted file.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "financialapi/common/clock.h"
#include "financialapi/common/status.h"
#include "financialapi/common/token_bucket.h"

namespace financialapi::service {

// One token bucket per client. Buckets unused long enough to be full again are dropped, so memory
// follows the number of recently active clients, not of all clients ever seen.
class RateLimiter {
 public:
  // rate <= 0: unlimited.
  RateLimiter(double rate_per_second, double burst, const Clock& clock = SystemClock::Get());

  struct Decision {
    bool allowed = true;
    int retry_after_seconds = 0;  // when refused: whole seconds until a token is back (at least 1)
  };
  Decision Admit(const std::string& client);
  std::size_t TrackedClients() const;

 private:
  struct Bucket {
    std::unique_ptr<TokenBucket> bucket;
    Clock::TimePoint last_used;
  };
  void SweepLocked(Clock::TimePoint now);

  const double rate_;
  const double burst_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::TimePoint next_sweep_;
};

// API keys, one per line in a file (blank lines and '#' comments skipped), kept only as SHA-256
// hashes. The file is re-read when its modification time changes, checked at most every
// `recheck_interval` (a Kubernetes Secret volume is updated in place).
class ApiKeys {
 public:
  explicit ApiKeys(std::optional<std::filesystem::path> file,
                   std::chrono::seconds recheck_interval = std::chrono::seconds(5),
                   const Clock& clock = SystemClock::Get());

  // Whether keys are required now (a file is configured, readable and holds at least one key).
  bool Enabled();
  // kOk when keys are not required or `key` is one of them; Unauthenticated when keys are required and
  // none was given; PermissionDenied for a key that is not in the file.
  Status Check(std::optional<std::string_view> key);
  // The problem with the file the last time it was read (OK when none or when not configured).
  Status FileStatus();

 private:
  void ReloadIfChangedLocked();

  const std::optional<std::filesystem::path> file_;
  const std::chrono::seconds recheck_interval_;
  const Clock& clock_;
  std::mutex mutex_;
  std::unordered_set<std::string> hashes_;
  std::optional<std::filesystem::file_time_type> loaded_mtime_;
  Clock::TimePoint next_check_{};
  Status file_status_;
};

}  // namespace financialapi::service
