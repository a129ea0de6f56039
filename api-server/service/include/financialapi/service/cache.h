// Cache-aside for response bodies: a small in-process layer in front of Redis, and one computation
// per cold key per process (later requests for the key wait for it instead of each querying
// PostgreSQL: the stampede guard).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "financialapi/common/clock.h"
#include "financialapi/common/status.h"
#include "financialapi/db/connection_pool.h"
#include "financialapi/db/redis.h"

namespace financialapi::service {

// A response body ready to send, and its gzip form when it is large enough to be worth compressing.
struct CachedBody {
  std::shared_ptr<const std::string> body;
  std::shared_ptr<const std::string> gzip;  // null when not compressed
};

// Builds a CachedBody, compressing when body.size() >= gzip_min_bytes.
std::shared_ptr<const CachedBody> MakeCachedBody(std::string body, std::size_t gzip_min_bytes);

// In-process: entries live `ttl`, total body bytes stay under `max_bytes` (least recently inserted
// goes first). Sharded so that threads serving different keys rarely share a lock.
class LocalCache {
 public:
  LocalCache(std::size_t max_bytes, Clock::Duration ttl, const Clock& clock = SystemClock::Get());
  // The entry, or null when absent or expired.
  std::shared_ptr<const CachedBody> Get(const std::string& key);
  void Put(const std::string& key, std::shared_ptr<const CachedBody> value);
  std::size_t Bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const CachedBody> value;
    Clock::TimePoint expires;
    std::list<std::string>::iterator order;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
    std::list<std::string> insertion_order;
    std::size_t bytes = 0;
  };
  Shard& ShardFor(const std::string& key);
  static std::size_t EntryBytes(const std::string& key, const CachedBody& value);
  // Removes the entry and its bytes and order; the shard's mutex is held.
  static void EraseLocked(Shard& shard, std::unordered_map<std::string, Entry>::iterator entry);

  static constexpr std::size_t kShards = 16;
  const std::size_t max_bytes_per_shard_;
  const Clock::Duration ttl_;
  const Clock& clock_;
  std::array<Shard, kShards> shards_;
};

// Redis as a shared cache for all replicas. Every call fails fast while Redis is down: after a failed
// connect, or a command that timed out (500 ms) or broke, the pool refuses for a second without
// trying, then lets one call find out whether Redis answers again (db::ConnectionPool).
class RedisCache {
 public:
  RedisCache(db::RedisEndpoint endpoint, int connections, std::string key_prefix);
  // The value, nullopt on a miss; Unavailable when Redis cannot answer.
  StatusOr<std::optional<std::string>> Get(const std::string& key);
  Status Set(const std::string& key, const std::string& value, int ttl_seconds);
  Status Ping();
  // INFO memory: used_memory and maxmemory (0 = no limit).
  struct Memory {
    std::int64_t used_bytes = 0;
    std::int64_t max_bytes = 0;
  };
  StatusOr<Memory> ReadMemory();

 private:
  StatusOr<db::RedisReply> Command(const std::vector<std::string>& args);
  db::ConnectionPool<db::RedisConnection> pool_;
  const std::string prefix_;
};

// Where an answer came from, for metrics and the X-Cache header.
enum class CacheSource { kLocal, kRedis, kComputed, kShared /* waited for another request's computation */ };
std::string_view CacheSourceName(CacheSource source);

struct CacheObserver {
  std::function<void(std::string_view layer, std::string_view result)> on_lookup;  // ("local"|"redis", "hit"|"miss"|"error")
  std::function<void(const Status&)> on_redis_error;
};

class ResponseCache {
 public:
  // `redis` may be null (no shared layer); ttl_seconds 0 disables caching (every call computes).
  // A request that finds another request computing its key waits at most `flight_wait` for it, then
  // answers Timeout: a leader stuck on a hung database cannot hold every later request of the key.
  // Generous, because a large document (a company's facts) legitimately takes seconds to build on a
  // loaded node, and a waiter that gives up costs its client a 503.
  ResponseCache(std::unique_ptr<LocalCache> local, std::unique_ptr<RedisCache> redis, int ttl_seconds,
                std::size_t gzip_min_bytes, CacheObserver observer = {},
                std::chrono::milliseconds flight_wait = std::chrono::seconds(30));

  struct Answer {
    std::shared_ptr<const CachedBody> body;
    CacheSource source;
  };
  // The cached body for `key`, or compute()'s result (stored in both layers on success). compute's
  // error is returned as is and not cached; requests that waited for it get the same error. An
  // exception thrown by compute() does not escape: it is Internal("internal error") for all of them.
  StatusOr<Answer> GetOrCompute(const std::string& key, const std::function<StatusOr<std::string>()>& compute);

  RedisCache* redis() const { return redis_.get(); }

 private:
  struct Flight;
  StatusOr<Answer> Lead(const std::string& key, const std::function<StatusOr<std::string>()>& compute);

  std::unique_ptr<LocalCache> local_;
  std::unique_ptr<RedisCache> redis_;
  const int ttl_seconds_;
  const std::size_t gzip_min_bytes_;
  const CacheObserver observer_;
  const std::chrono::milliseconds flight_wait_;
  std::mutex flights_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace financialapi::service
