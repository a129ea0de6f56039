// Who may call the API and how often: per-client token buckets and API keys from a mounted file.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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

// The proxies (ingress controllers, load balancers) whose X-Forwarded-For the server believes, so a
// client behind them is rate-limited as itself rather than as the proxy's address.
class TrustedProxies {
 public:
  // Comma-separated addresses or CIDR blocks, IPv4 or IPv6 ("10.0.0.0/8, fd00::/8, 192.168.1.7"); ""
  // trusts nobody. InvalidArgument naming the first entry that is neither.
  static StatusOr<TrustedProxies> Parse(std::string_view list);

  bool empty() const { return networks_.empty(); }
  // Whether `address` (an IP as text; IPv4-mapped IPv6 counts as IPv4) is in one of the blocks.
  bool Contains(std::string_view address) const;
  // The address to rate-limit: `peer` itself unless it is a trusted proxy; then, walking
  // `forwarded_for` (X-Forwarded-For, comma-joined in arrival order) from the right, the first
  // address that is not a trusted proxy. What a client writes further left is never reached, so it
  // cannot choose its own bucket. An entry that is not an address stops the walk at the hop before it.
  std::string ClientAddress(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Network {
    std::array<std::uint8_t, 16> address{};  // IPv4 as IPv4-mapped IPv6
    int prefix_bits = 128;
  };
  std::vector<Network> networks_;
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
