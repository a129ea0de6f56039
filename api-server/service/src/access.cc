#include "financialapi/service/access.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include "financialapi/common/file.h"
#include "financialapi/common/sha256.h"
#include "financialapi/common/strings.h"

namespace financialapi::service {

namespace {

// `text` as a 16-byte address (IPv4 as IPv4-mapped IPv6), or nullopt when it is not an IP address.
std::optional<std::array<std::uint8_t, 16>> ParseAddress(std::string_view text) {
  const std::string address(Trim(text));
  std::array<std::uint8_t, 16> bytes{};
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    std::memcpy(bytes.data() + 12, &v4, 4);
    return bytes;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    return bytes;
  }
  return std::nullopt;
}

bool IsMappedIpv4(const std::array<std::uint8_t, 16>& bytes) {
  for (int i = 0; i < 10; ++i) {
    if (bytes[static_cast<std::size_t>(i)] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

}  // namespace

StatusOr<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies proxies;
  if (Trim(list).empty()) return proxies;
  for (const std::string_view entry : SplitAndTrim(list, ',')) {
    const std::size_t slash = entry.find('/');
    const auto address = ParseAddress(entry.substr(0, slash));
    Network network;
    bool valid = address.has_value();
    if (valid) {
      network.address = *address;
      const int family_bits = IsMappedIpv4(*address) ? 32 : 128;
      int bits = family_bits;
      if (slash != std::string_view::npos) {
        const std::string_view digits = entry.substr(slash + 1);
        const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        valid = !digits.empty() && parsed.ec == std::errc() && parsed.ptr == digits.data() + digits.size() &&
                bits >= 0 && bits <= family_bits;
      }
      network.prefix_bits = bits + (128 - family_bits);
    }
    if (!valid) {
      return InvalidArgument("'" + std::string(entry) + "' is not an IP address or CIDR block (e.g. 10.0.0.0/8 or fd00::/8)");
    }
    proxies.networks_.push_back(network);
  }
  return proxies;
}

bool TrustedProxies::Contains(std::string_view address) const {
  const auto bytes = ParseAddress(address);
  if (!bytes) return false;
  for (const Network& network : networks_) {
    int bits = network.prefix_bits;
    bool match = true;
    for (std::size_t i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
      const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
      match = ((*bytes)[i] & mask) == (network.address[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(std::string_view peer, std::string_view forwarded_for) const {
  std::string client(peer);
  if (!Contains(client)) return client;
  std::size_t end = forwarded_for.size();
  while (end != std::string_view::npos && end > 0) {
    const std::size_t comma = forwarded_for.rfind(',', end - 1);
    const std::size_t begin = comma == std::string_view::npos ? 0 : comma + 1;
    const std::string_view hop = Trim(forwarded_for.substr(begin, end - begin));
    if (!ParseAddress(hop)) break;
    client = std::string(hop);
    if (!Contains(client)) break;
    end = comma;
  }
  return client;
}

namespace {

Clock::Duration RefillTime(double rate, double burst) {
  if (rate <= 0) return Clock::Duration::zero();
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(burst / rate));
}

}  // namespace

RateLimiter::RateLimiter(double rate_per_second, double burst, const Clock& clock, std::size_t max_clients)
    : rate_(rate_per_second),
      burst_(burst),
      clock_(clock),
      max_clients_(std::max<std::size_t>(1, max_clients)),
      refill_time_(RefillTime(rate_per_second, burst)) {}

RateLimiter::Decision RateLimiter::Refused(TokenBucket& bucket) {
  const double wait = bucket.SecondsUntilAvailable();
  return {.allowed = false, .retry_after_seconds = std::max(1, static_cast<int>(std::ceil(wait)))};
}

RateLimiter::Decision RateLimiter::Admit(const std::string& client) {
  if (rate_ <= 0) return {};
  const auto now = clock_.Now();
  std::lock_guard lock(mutex_);
  auto found = buckets_.find(client);
  if (found == buckets_.end()) {
    TrimLocked(now, 1);
    recency_.push_front(client);
    found = buckets_.emplace(client, Bucket{std::make_unique<TokenBucket>(rate_, burst_, clock_), now, recency_.begin()})
                .first;
  } else {
    recency_.splice(recency_.begin(), recency_, found->second.recency);
    found->second.last_used = now;
    TrimLocked(now, 0);
  }
  // Taken under the map lock: trimming cannot drop the bucket between lookup and use.
  TokenBucket& bucket = *found->second.bucket;
  if (bucket.TryTake()) return {};
  return Refused(bucket);
}

RateLimiter::Decision RateLimiter::Peek(const std::string& client) {
  if (rate_ <= 0) return {};
  std::lock_guard lock(mutex_);
  const auto found = buckets_.find(client);
  if (found == buckets_.end()) return {};
  TokenBucket& bucket = *found->second.bucket;
  if (bucket.SecondsUntilAvailable() <= 0) return {};
  return Refused(bucket);
}

void RateLimiter::TrimLocked(Clock::TimePoint now, std::size_t room) {
  // recency_ is ordered by last use, so the idle buckets are all at its back: this costs what it drops.
  while (!recency_.empty()) {
    const auto& least_recent = buckets_.at(recency_.back());
    // A bucket idle for burst/rate has refilled completely: a new one behaves the same.
    const bool full_again = now - least_recent.last_used >= refill_time_;
    if (!full_again && buckets_.size() + room <= max_clients_) break;
    buckets_.erase(recency_.back());
    recency_.pop_back();
  }
}

std::size_t RateLimiter::TrackedClients() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

std::string ClientBucket(std::string_view address) {
  const auto bytes = ParseAddress(address);
  if (!bytes) return "ip:" + std::string(address);
  char text[INET6_ADDRSTRLEN] = {};
  if (IsMappedIpv4(*bytes)) {
    ::inet_ntop(AF_INET, bytes->data() + 12, text, sizeof text);
    return "ip:" + std::string(text);
  }
  std::array<std::uint8_t, 16> network{};
  std::memcpy(network.data(), bytes->data(), 8);
  ::inet_ntop(AF_INET6, network.data(), text, sizeof text);
  return "ip6:" + std::string(text) + "/64";
}

ApiKeys::ApiKeys(std::optional<std::filesystem::path> file, std::chrono::seconds recheck_interval, const Clock& clock,
                 FileStatusListener on_file_status)
    : file_(std::move(file)), recheck_interval_(recheck_interval), clock_(clock), on_file_status_(std::move(on_file_status)) {}

void ApiKeys::SetFileStatusLocked(Status status) {
  const bool changed = status.ok() != file_status_.ok() || status.message() != file_status_.message();
  file_status_ = std::move(status);
  if (changed && on_file_status_) on_file_status_(file_status_);
}

void ApiKeys::ReloadIfChangedLocked() {
  if (!file_) return;
  const auto now = clock_.Now();
  if (now < next_check_) return;
  next_check_ = now + recheck_interval_;
  std::error_code error;
  const auto mtime = std::filesystem::last_write_time(*file_, error);
  if (error) {
    // Gone (the Secret lost its entry, or was deleted to revoke the keys): nobody is let in.
    hashes_.clear();
    loaded_mtime_.reset();
    SetFileStatusLocked(Unavailable(file_->string() + ": " + error.message()));
    return;
  }
  if (loaded_mtime_ && *loaded_mtime_ == mtime) return;
  auto text = ReadFile(file_->string());
  if (!text.ok()) {
    // Keep the keys we had: none when it never could be read, which lets nobody in.
    SetFileStatusLocked(Unavailable(file_->string() + ": " + text.status().message()));
    return;
  }
  std::unordered_set<std::string> hashes;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    const std::string key(Trim(line));
    if (key.empty() || key.front() == '#') continue;
    hashes.insert(Sha256Hex(key));
  }
  hashes_ = std::move(hashes);
  loaded_mtime_ = mtime;
  SetFileStatusLocked(hashes_.empty() ? Unavailable(file_->string() + ": holds no API key (only blank lines and comments)")
                                      : Status::Ok());
}

Status ApiKeys::Check(std::optional<std::string_view> key) {
  if (!file_) return Status::Ok();
  std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  if (hashes_.empty()) return Unavailable("API keys required but none usable");
  if (!key || key->empty()) {
    return {StatusCode::kUnauthenticated, "an API key is required: send it in the X-API-Key header"};
  }
  // Comparing hashes: the lookup's timing says nothing about how much of a key matched.
  if (hashes_.contains(Sha256Hex(*key))) return Status::Ok();
  return {StatusCode::kPermissionDenied, "the API key is not accepted"};
}

bool ApiKeys::Usable() {
  if (!file_) return true;
  std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  return !hashes_.empty();
}

Status ApiKeys::FileStatus() {
  std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  return file_status_;
}

}  // namespace financialapi::service
