// Who may call the API and how often: per-client token buckets and API keys from a mounted file.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
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

// One token bucket per client. Buckets unused long enough to be full again are dropped (a new one
// behaves the same), and at most `max_clients` are kept: past that the least recently used goes
// first, so memory stays bounded whatever the number of distinct clients (a flood of new addresses
// then costs an evicted client its partly used bucket, never the server its memory).
class RateLimiter {
 public:
  static constexpr std::size_t kDefaultMaxClients = 100'000;  // about 30 MB of buckets at most

  // rate <= 0: unlimited. max_clients >= 1.
  RateLimiter(double rate_per_second, double burst, const Clock& clock = SystemClock::Get(),
              std::size_t max_clients = kDefaultMaxClients);

  struct Decision {
    bool allowed = true;
    int retry_after_seconds = 0;  // when refused: whole seconds until a token is back (at least 1)
  };
  // Takes a token of `client`'s bucket when there is one.
  Decision Admit(const std::string& client);
  // What Admit would answer now, taking nothing (a client not tracked has a full bucket).
  Decision Peek(const std::string& client);
  std::size_t TrackedClients() const;

 private:
  struct Bucket {
    std::unique_ptr<TokenBucket> bucket;
    Clock::TimePoint last_used;
    std::list<std::string>::iterator recency;  // its place in recency_
  };
  static Decision Refused(TokenBucket& bucket);
  // Drops the buckets idle long enough to be full, then the least recently used ones over the cap
  // (`room` makes space for that many new ones).
  void TrimLocked(Clock::TimePoint now, std::size_t room);

  const double rate_;
  const double burst_;
  const Clock& clock_;
  const std::size_t max_clients_;
  const Clock::Duration refill_time_;  // empty to full
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> recency_;  // most recently used first
};

// The bucket a client address counts against: an IPv4 address (IPv4-mapped IPv6 included) is one
// client, "ip:203.0.113.5"; an IPv6 address counts as its /64, "ip6:2001:db8:1:2::/64", because one
// subscriber or host usually holds a whole /64 and could otherwise rotate through 2^64 buckets.
// Text that is not an address is used as it is, after "ip:".
std::string ClientBucket(std::string_view address);

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
//
// A configured file fails closed: while it is missing, unreadable or holds no key, no request is
// let in (Check answers Unavailable), so a broken Secret never makes the API public. A read error on a
// file that had keys keeps those keys (a transient error must not lock everyone out either).
class ApiKeys {
 public:
  // Called (under the object's lock: keep it short) when the file's state changes: its problem
  // (naming the path, for the log), or OK when it is usable again.
  using FileStatusListener = std::function<void(const Status&)>;

  explicit ApiKeys(std::optional<std::filesystem::path> file,
                   std::chrono::seconds recheck_interval = std::chrono::seconds(5),
                   const Clock& clock = SystemClock::Get(), FileStatusListener on_file_status = {});

  // Whether keys are required (a file is configured), usable or not.
  bool Enabled() const { return file_.has_value(); }
  // kOk when keys are not required or `key` is one of them; Unauthenticated when keys are required and
  // none was given; PermissionDenied for a key that is not in the file; Unavailable ("API keys required
  // but none usable", no path: it is sent to clients) when the file yields no key.
  Status Check(std::optional<std::string_view> key);
  // False while keys are required and none is loaded (Check then refuses everyone).
  bool Usable();
  // The problem with the file the last time it was read, naming the path (OK when none or when not
  // configured). For logs; not for answers to clients.
  Status FileStatus();

 private:
  void ReloadIfChangedLocked();
  void SetFileStatusLocked(Status status);

  const std::optional<std::filesystem::path> file_;
  const std::chrono::seconds recheck_interval_;
  const Clock& clock_;
  const FileStatusListener on_file_status_;
  std::mutex mutex_;
  std::unordered_set<std::string> hashes_;
  std::optional<std::filesystem::file_time_type> loaded_mtime_;
  Clock::TimePoint next_check_{};
  Status file_status_;
};

}  // namespace financialapi::service
