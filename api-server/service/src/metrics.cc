#include "financialapi/service/metrics.h"

#include <prometheus/text_serializer.h>

namespace financialapi::service {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};

}  // namespace

ServiceMetrics::ServiceMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests answered, by method, route template and status code.")
                    .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("http_request_duration_seconds")
                    .Help("Time from a parsed request to its response being ready, by method and route template.")
                    .Register(*registry_)),
      cache_lookups_(prometheus::BuildCounter()
                         .Name("financialapi_cache_requests_total")
                         .Help("Response cache lookups by layer (local, redis) and result (hit, miss, error).")
                         .Register(*registry_)),
      rate_limited_(prometheus::BuildCounter()
                        .Name("financialapi_rate_limited_requests_total")
                        .Help("Requests refused with 429 by the per-client rate limit.")
                        .Register(*registry_)
                        .Add({})),
      pool_in_use_(prometheus::BuildGauge()
                       .Name("financialapi_db_pool_in_use")
                       .Help("PostgreSQL connections lent out to requests.")
                       .Register(*registry_)
                       .Add({})),
      pool_size_(prometheus::BuildGauge()
                     .Name("financialapi_db_pool_size")
                     .Help("PostgreSQL connections the pool may open.")
                     .Register(*registry_)
                     .Add({})),
      up_(prometheus::BuildGauge()
              .Name("financialapi_dependency_up")
              .Help("1 when the dependency (postgres, redis) answered its last check.")
              .Register(*registry_)),
      redis_used_(prometheus::BuildGauge()
                      .Name("financialapi_redis_memory_used_bytes")
                      .Help("Redis used_memory, read from INFO memory.")
                      .Register(*registry_)
                      .Add({})),
      redis_max_(prometheus::BuildGauge()
                     .Name("financialapi_redis_memory_max_bytes")
                     .Help("Redis maxmemory (0 = no limit), read from INFO memory.")
                     .Register(*registry_)
                     .Add({})),
      local_cache_bytes_(prometheus::BuildGauge()
                             .Name("financialapi_local_cache_bytes")
                             .Help("Bytes held by the in-process response cache.")
                             .Register(*registry_)
                             .Add({})) {
  for (const std::string_view layer : {"local", "redis"}) {
    for (const std::string_view result : {"hit", "miss", "error"}) {
      cache_series_.push_back(
          {layer, result, &cache_lookups_.Add({{"layer", std::string(layer)}, {"result", std::string(result)}})});
    }
  }
}

void ServiceMetrics::ObserveRequest(std::string_view method, std::string_view endpoint, int status, double seconds) {
  std::string key;
  key.reserve(method.size() + endpoint.size() + 6);
  key.append(method).append(1, ' ').append(endpoint).append(1, ' ').append(std::to_string(status));
  RequestSeries* series = nullptr;
  {
    std::shared_lock lock(series_mutex_);
    if (const auto it = series_.find(key); it != series_.end()) series = &it->second;
  }
  if (series == nullptr) {
    std::unique_lock lock(series_mutex_);
    auto [it, inserted] = series_.try_emplace(key);
    if (inserted) {
      it->second.requests = &requests_.Add(
          {{"method", std::string(method)}, {"endpoint", std::string(endpoint)}, {"status", std::to_string(status)}});
      it->second.duration =
          &duration_.Add({{"method", std::string(method)}, {"endpoint", std::string(endpoint)}}, kLatencyBuckets);
    }
    series = &it->second;
  }
  series->requests->Increment();
  series->duration->Observe(seconds);
}

void ServiceMetrics::ObserveCacheLookup(std::string_view layer, std::string_view result) {
  // Every request does one or two lookups: the few label pairs are resolved once, at construction.
  for (const auto& series : cache_series_) {
    if (series.layer == layer && series.result == result) {
      series.counter->Increment();
      return;
    }
  }
  cache_lookups_.Add({{"layer", std::string(layer)}, {"result", std::string(result)}}).Increment();
}

void ServiceMetrics::CountRateLimited() { rate_limited_.Increment(); }

void ServiceMetrics::SetDatabasePool(int in_use, int size) {
  pool_in_use_.Set(in_use);
  pool_size_.Set(size);
}

void ServiceMetrics::SetDependencyUp(std::string_view dependency, bool up) {
  up_.Add({{"dependency", std::string(dependency)}}).Set(up ? 1 : 0);
}

void ServiceMetrics::SetRedisMemory(double used_bytes, double max_bytes) {
  redis_used_.Set(used_bytes);
  redis_max_.Set(max_bytes);
}

void ServiceMetrics::SetLocalCacheBytes(double bytes) { local_cache_bytes_.Set(bytes); }

std::string ServiceMetrics::Serialize() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace financialapi::service
