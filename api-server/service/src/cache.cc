#include "financialapi/service/cache.h"

#include <condition_variable>
#include <exception>

#include "financialapi/common/logging.h"
#include "financialapi/http/server.h"

namespace financialapi::service {

std::shared_ptr<const CachedBody> MakeCachedBody(std::string body, std::size_t gzip_min_bytes) {
  auto cached = std::make_shared<CachedBody>();
  if (body.size() >= gzip_min_bytes) {
    // Level 6: close to the best ratio for JSON at a fraction of level 9's time, and paid once per TTL.
    if (auto compressed = http::GzipCompress(body, 6); compressed.ok()) {
      cached->gzip = std::make_shared<const std::string>(std::move(compressed).value());
    }
  }
  cached->body = std::make_shared<const std::string>(std::move(body));
  return cached;
}

LocalCache::LocalCache(std::size_t max_bytes, Clock::Duration ttl, const Clock& clock)
    : max_bytes_per_shard_(max_bytes / kShards), ttl_(ttl), clock_(clock) {}

LocalCache::Shard& LocalCache::ShardFor(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

std::size_t LocalCache::EntryBytes(const std::string& key, const CachedBody& value) {
  return key.size() + (value.body ? value.body->size() : 0) + (value.gzip ? value.gzip->size() : 0);
}

void LocalCache::EraseLocked(Shard& shard, std::unordered_map<std::string, Entry>::iterator entry) {
  shard.bytes -= EntryBytes(entry->first, *entry->second.value);
  shard.insertion_order.erase(entry->second.order);
  shard.entries.erase(entry);
}

std::shared_ptr<const CachedBody> LocalCache::Get(const std::string& key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return nullptr;
  if (clock_.Now() >= it->second.expires) {
    EraseLocked(shard, it);
    return nullptr;
  }
  return it->second.value;
}

void LocalCache::Put(const std::string& key, std::shared_ptr<const CachedBody> value) {
  const std::size_t size = EntryBytes(key, *value);
  if (size > max_bytes_per_shard_) return;  // would evict everything else for one body
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  if (const auto it = shard.entries.find(key); it != shard.entries.end()) EraseLocked(shard, it);
  while (shard.bytes + size > max_bytes_per_shard_ && !shard.insertion_order.empty()) {
    EraseLocked(shard, shard.entries.find(shard.insertion_order.front()));
  }
  shard.insertion_order.push_back(key);
  shard.entries.emplace(key, Entry{std::move(value), clock_.Now() + ttl_, std::prev(shard.insertion_order.end())});
  shard.bytes += size;
}

std::size_t LocalCache::Bytes() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.bytes;
  }
  return total;
}

RedisCache::RedisCache(db::RedisEndpoint endpoint, int connections, std::string key_prefix)
    : pool_({.size = connections, .acquire_timeout = std::chrono::milliseconds(500), .retry_after = std::chrono::seconds(1)},
            [endpoint]() { return db::RedisConnection::Connect(endpoint, std::chrono::milliseconds(500)); }),
      prefix_(std::move(key_prefix)) {}

StatusOr<db::RedisReply> RedisCache::Command(const std::vector<std::string>& args) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  auto reply = lease->Command(args);
  if (lease->IsBroken()) {
    // Timed out or cut off: Redis is hung or gone. Tripping the pool skips Redis for a second, so a
    // hung Redis costs one request a timeout per second instead of every request one.
    pool_.Trip(reply.status());
    lease.Discard();
  }
  return reply;
}

StatusOr<std::optional<std::string>> RedisCache::Get(const std::string& key) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto reply, Command({"GET", prefix_ + key}));
  if (reply.type == db::RedisReply::Type::kString) return std::optional<std::string>(std::move(reply.text));
  return std::optional<std::string>();
}

Status RedisCache::Set(const std::string& key, const std::string& value, int ttl_seconds) {
  return Command({"SET", prefix_ + key, value, "EX", std::to_string(ttl_seconds)}).status();
}

Status RedisCache::Ping() { return Command({"PING"}).status(); }

StatusOr<RedisCache::Memory> RedisCache::ReadMemory() {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto reply, Command({"INFO", "memory"}));
  Memory memory;
  const auto field = [&](std::string_view name) -> std::int64_t {
    const std::string needle = std::string(name) + ":";
    const auto at = reply.text.find(needle);
    if (at == std::string::npos || (at > 0 && reply.text[at - 1] != '\n')) return 0;
    return std::strtoll(reply.text.c_str() + at + needle.size(), nullptr, 10);
  };
  memory.used_bytes = field("used_memory");
  memory.max_bytes = field("maxmemory");
  return memory;
}

std::string_view CacheSourceName(CacheSource source) {
  switch (source) {
    case CacheSource::kLocal: return "local";
    case CacheSource::kRedis: return "redis";
    case CacheSource::kComputed: return "miss";
    case CacheSource::kShared: return "shared";
  }
  return "miss";
}

struct ResponseCache::Flight {
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  std::optional<StatusOr<Answer>> result;
};

ResponseCache::ResponseCache(std::unique_ptr<LocalCache> local, std::unique_ptr<RedisCache> redis, int ttl_seconds,
                             std::size_t gzip_min_bytes, CacheObserver observer,
                             std::chrono::milliseconds flight_wait)
    : local_(std::move(local)),
      redis_(std::move(redis)),
      ttl_seconds_(ttl_seconds),
      gzip_min_bytes_(gzip_min_bytes),
      observer_(std::move(observer)),
      flight_wait_(flight_wait) {}

StatusOr<ResponseCache::Answer> ResponseCache::GetOrCompute(const std::string& key,
                                                            const std::function<StatusOr<std::string>()>& compute) {
  if (ttl_seconds_ <= 0) {
    FINANCIALAPI_ASSIGN_OR_RETURN(auto body, compute());
    return Answer{MakeCachedBody(std::move(body), gzip_min_bytes_), CacheSource::kComputed};
  }
  if (local_) {
    if (auto hit = local_->Get(key)) {
      if (observer_.on_lookup) observer_.on_lookup("local", "hit");
      return Answer{std::move(hit), CacheSource::kLocal};
    }
    if (observer_.on_lookup) observer_.on_lookup("local", "miss");
  }
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(flights_mutex_);
    auto& slot = flights_[key];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    std::unique_lock lock(flight->mutex);
    if (!flight->done_signal.wait_for(lock, flight_wait_, [&] { return flight->done; })) {
      return Timeout("another request computing this answer did not finish within " +
                     std::to_string(flight_wait_.count()) + " ms");
    }
    auto result = *flight->result;
    if (result.ok()) result = Answer{result->body, CacheSource::kShared};
    return result;
  }
  // Whatever compute() does, the flight ends and its waiters are woken: an exception (from a
  // third-party library, or bad_alloc) becomes an error for the leader and every waiter alike.
  std::optional<StatusOr<Answer>> outcome;
  try {
    outcome = Lead(key, compute);
  } catch (const std::exception& error) {
    Logger().Error("computing a response threw", {{"key", key}, {"error", error.what()}});
    outcome = Internal("internal error");
  } catch (...) {
    Logger().Error("computing a response threw", {{"key", key}, {"error", "unknown exception"}});
    outcome = Internal("internal error");
  }
  {
    std::lock_guard lock(flights_mutex_);
    flights_.erase(key);
  }
  {
    std::lock_guard lock(flight->mutex);
    flight->result = *outcome;
    flight->done = true;
  }
  flight->done_signal.notify_all();
  return std::move(*outcome);
}

StatusOr<ResponseCache::Answer> ResponseCache::Lead(const std::string& key,
                                                    const std::function<StatusOr<std::string>()>& compute) {
  // A request that missed the local layer just before the previous leader of this key stored its
  // result and ended its flight leads a new flight: the entry is there now, so use it.
  if (local_) {
    if (auto hit = local_->Get(key)) return Answer{std::move(hit), CacheSource::kLocal};
  }
  if (redis_) {
    auto cached = redis_->Get(key);
    if (cached.ok() && cached->has_value()) {
      if (observer_.on_lookup) observer_.on_lookup("redis", "hit");
      auto body = MakeCachedBody(std::move(**cached), gzip_min_bytes_);
      if (local_) local_->Put(key, body);
      return Answer{std::move(body), CacheSource::kRedis};
    }
    if (observer_.on_lookup) observer_.on_lookup("redis", cached.ok() ? "miss" : "error");
    if (!cached.ok() && observer_.on_redis_error) observer_.on_redis_error(cached.status());
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(auto computed, compute());
  if (redis_) {
    if (const Status stored = redis_->Set(key, computed, ttl_seconds_); !stored.ok() && observer_.on_redis_error) {
      observer_.on_redis_error(stored);
    }
  }
  auto body = MakeCachedBody(std::move(computed), gzip_min_bytes_);
  if (local_) local_->Put(key, body);
  return Answer{std::move(body), CacheSource::kComputed};
}

}  // namespace financialapi::service
