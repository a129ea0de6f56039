// How the spec_children target (and fuzz-config-files) turn an input into what BuildChildren takes:
// the values the API server refuses before the operator sees them are skipped, the values read from
// Secrets come from the input's optional "fuzzInputs" member.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "checks/names.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/spec.h"

namespace financialapi::fuzz {

// metadata.name is a DNS-1123 subdomain (the API server's rule for custom resources), the namespace
// a DNS-1123 label, and the CRD's enums hold.
inline bool AdmittedByApiServer(const platform::FinancialApi& api) {
  static const std::set<std::string> kPoolModes = {"session", "transaction", "statement"};
  static const std::set<std::string> kSslModes = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  static const std::set<std::string> kPolicies = {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                                  "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"};
  if (!IsDns1123Subdomain(api.name) || !IsDns1123Label(api.ns.empty() ? "default" : api.ns)) return false;
  if (!kPoolModes.contains(api.spec.postgres.pgbouncer.pool_mode)) return false;
  if (api.spec.postgres.external && !kSslModes.contains(api.spec.postgres.external->ssl_mode)) return false;
  return kPolicies.contains(api.spec.redis.max_memory_policy);
}

// {postgresUser, postgresPassword, redisPassword} of "fuzzInputs" (users can put anything in a Secret).
inline platform::Inputs SecretInputs(const nlohmann::json& object, const platform::FinancialApi& api) {
  const auto member = [&](const char* key, std::string fallback) {
    if (!object.is_object() || !object.contains("fuzzInputs") || !object["fuzzInputs"].is_object()) return fallback;
    const auto& inputs = object["fuzzInputs"];
    const auto found = inputs.find(key);
    return found != inputs.end() && found->is_string() ? found->get<std::string>() : fallback;
  };
  return {.postgres_password = member("postgresPassword", "pg-secret"),
          .postgres_user = member("postgresUser", api.spec.postgres.user),
          .redis_password = member("redisPassword", "redis-secret"),
          .service_monitor_crd = true,
          .prometheus_rule_crd = true};
}

}  // namespace financialapi::fuzz
