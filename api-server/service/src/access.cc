#include "financialapi/service/access.h"

#include <cmath>
#include <sstream>

#include "financialapi/common/file.h"
#include "financialapi/common/sha256.h"
#include "financialapi/common/strings.h"

namespace financialapi::service {

RateLimiter::RateLimiter(double rate_per_second, double burst, const Clock& clock)
    : rate_(rate_per_second), burst_(burst), clock_(clock), next_sweep_(clock.Now()) {}

RateLimiter::Decision RateLimiter::Admit(const std::string& client) {
  if (rate_ <= 0) return {};
  const auto now = clock_.Now();
  TokenBucket* bucket = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (now >= next_sweep_) SweepLocked(now);
    auto& entry = buckets_[client];
    if (!entry.bucket) entry.bucket = std::make_unique<TokenBucket>(rate_, burst_, clock_);
    entry.last_used = now;
    bucket = entry.bucket.get();
    // Taken under the map lock: a sweep cannot drop the bucket between lookup and use.
    if (bucket->TryTake()) return {};
    const double wait = bucket->SecondsUntilAvailable();
    return {.allowed = false, .retry_after_seconds = std::max(1, static_cast<int>(std::ceil(wait)))};
  }
}

void RateLimiter::SweepLocked(Clock::TimePoint now) {
  // A bucket idle for burst/rate seconds has refilled completely: a new one behaves the same.
  const auto refill = std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(burst_ / rate_));
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = (now - it->second.last_used >= refill) ? buckets_.erase(it) : std::next(it);
  }
  next_sweep_ = now + std::max<Clock::Duration>(refill, std::chrono::seconds(10));
}

std::size_t RateLimiter::TrackedClients() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

ApiKeys::ApiKeys(std::optional<std::filesystem::path> file, std::chrono::seconds recheck_interval, const Clock& clock)
    : file_(std::move(file)), recheck_interval_(recheck_interval), clock_(clock) {}

void ApiKeys::ReloadIfChangedLocked() {
  if (!file_) return;
  const auto now = clock_.Now();
  if (now < next_check_) return;
  next_check_ = now + recheck_interval_;
  std::error_code error;
  const auto mtime = std::filesystem::last_write_time(*file_, error);
  if (error) {
    // A missing file means no keys: the Deployment mounts the Secret only when spec.apiKeys names one.
    hashes_.clear();
    loaded_mtime_.reset();
    file_status_ = error == std::errc::no_such_file_or_directory
                       ? Status::Ok()
                       : Status(StatusCode::kPermissionDenied, file_->string() + ": " + error.message());
    return;
  }
  if (loaded_mtime_ && *loaded_mtime_ == mtime) return;
  auto text = ReadFile(file_->string());
  if (!text.ok()) {
    // Keep the keys we had: failing open on a transient read error would let anyone in.
    file_status_ = text.status();
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
  file_status_ = Status::Ok();
}

bool ApiKeys::Enabled() {
  std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  return !hashes_.empty();
}

Status ApiKeys::Check(std::optional<std::string_view> key) {
  std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  if (hashes_.empty()) return Status::Ok();
  if (!key || key->empty()) {
    return {StatusCode::kUnauthenticated, "an API key is required: send it in the X-API-Key header"};
  }
  // Comparing hashes: the lookup's timing says nothing about how much of a key matched.
  if (hashes_.contains(Sha256Hex(*key))) return Status::Ok();
  return {StatusCode::kPermissionDenied, "the API key is not accepted"};
}

Status ApiKeys::FileStatus() {
  std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  return file_status_;
}

}  // namespace financialapi::service
