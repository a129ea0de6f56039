// The API server's Prometheus metrics, under the names the platform's alert rules and dashboards use
// (http_requests_total, http_request_duration_seconds, financialapi_db_pool_*, financialapi_redis_*).
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace financialapi::service {

class ServiceMetrics {
 public:
  ServiceMetrics();

  // endpoint is the route template ("/v1/companies/{id}"), so the label set stays small.
  void ObserveRequest(std::string_view method, std::string_view endpoint, int status, double seconds);
  void ObserveCacheLookup(std::string_view layer, std::string_view result);
  void CountRateLimited();
  void SetDatabasePool(int in_use, int size);
  void SetDependencyUp(std::string_view dependency, bool up);  // "postgres" | "redis"
  void SetRedisMemory(double used_bytes, double max_bytes);
  void SetLocalCacheBytes(double bytes);

  // Prometheus text exposition format.
  std::string Serialize() const;

 private:
  struct RequestSeries {
    prometheus::Counter* requests;
    prometheus::Histogram* duration;
  };
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& cache_lookups_;
  prometheus::Counter& rate_limited_;
  prometheus::Gauge& pool_in_use_;
  prometheus::Gauge& pool_size_;
  prometheus::Family<prometheus::Gauge>& up_;
  prometheus::Gauge& redis_used_;
  prometheus::Gauge& redis_max_;
  prometheus::Gauge& local_cache_bytes_;
  struct CacheSeries {
    std::string_view layer;
    std::string_view result;
    prometheus::Counter* counter;
  };
  std::vector<CacheSeries> cache_series_;
  // Label lookups in prometheus-cpp take a lock and hash a map per call; the hot path reads this.
  mutable std::shared_mutex series_mutex_;
  std::unordered_map<std::string, RequestSeries> series_;
};

}  // namespace financialapi::service
