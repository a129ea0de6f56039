#include "financialapi/platform/spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>

#include "financialapi/common/strings.h"

namespace financialapi::platform {
namespace {

// A JSON object's member, or an empty object when absent (so chains of lookups never throw).
const Json& Member(const Json& object, const char* key) {
  static const Json kEmpty = Json::object();
  if (!object.is_object()) return kEmpty;
  const auto found = object.find(key);
  return found != object.end() && found->is_object() ? *found : kEmpty;
}

template <typename T>
void Read(const Json& object, const char* key, T& field) {
  if (!object.is_object()) return;
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return;
  if constexpr (std::is_same_v<T, std::string>) {
    // Quantities may arrive as numbers (int-or-string).
    field = found->is_string() ? found->template get<std::string>() : found->dump();
  } else {
    if constexpr (std::is_same_v<T, bool>) {
      if (found->is_boolean()) field = found->template get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      // Only a whole number within T's range: converting a larger one (1e22, 2^64-1) is undefined
      // behaviour or wraps. Anything else leaves the field as it is, like a value of the wrong type.
      if (found->is_number_unsigned()) {
        const auto value = found->template get<std::uint64_t>();
        if (value <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) field = static_cast<T>(value);
      } else if (found->is_number_integer()) {
        const auto value = found->template get<std::int64_t>();
        if (value >= std::numeric_limits<T>::min() && value <= std::numeric_limits<T>::max()) field = static_cast<T>(value);
      } else if (found->is_number_float()) {
        const double value = found->template get<double>();
        if (std::trunc(value) == value && value >= static_cast<double>(std::numeric_limits<T>::min()) &&
            value <= static_cast<double>(std::numeric_limits<T>::max())) {
          field = static_cast<T>(value);
        }
      }
    } else {
      if (found->is_number()) field = found->template get<T>();
    }
  }
}

// The string entries of an array member (other entries and a missing member leave `field` as it is).
void ReadStrings(const Json& object, const char* key, std::vector<std::string>& field) {
  if (!object.is_object()) return;
  const auto found = object.find(key);
  if (found == object.end() || !found->is_array()) return;
  for (const auto& entry : *found) {
    if (entry.is_string()) field.push_back(entry.get<std::string>());
  }
}

void ReadResources(const Json& object, Resources& resources) {
  const Json& requests = Member(object, "requests");
  const Json& limits = Member(object, "limits");
  Read(requests, "cpu", resources.cpu_request);
  Read(requests, "memory", resources.memory_request);
  Read(limits, "cpu", resources.cpu_limit);
  Read(limits, "memory", resources.memory_limit);
}

void ReadStorage(const Json& object, Storage& storage) {
  Read(object, "size", storage.size);
  Read(object, "storageClassName", storage.storage_class);
}

// nodeSelector, tolerations and affinity of a component's object (spec.api, spec.redis, ...).
void ReadPlacement(const Json& component, Placement& placement) {
  for (const auto& [key, value] : Member(component, "nodeSelector").items()) {
    if (value.is_string()) placement.node_selector[key] = value.get<std::string>();
  }
  const auto tolerations = component.is_object() ? component.find("tolerations") : component.end();
  if (tolerations != component.end() && tolerations->is_array()) {
    for (const auto& entry : *tolerations) {
      if (!entry.is_object()) continue;
      Toleration toleration;
      Read(entry, "key", toleration.key);
      Read(entry, "operator", toleration.op);
      Read(entry, "value", toleration.value);
      Read(entry, "effect", toleration.effect);
      if (const auto seconds = entry.find("tolerationSeconds"); seconds != entry.end() && seconds->is_number_integer()) {
        toleration.toleration_seconds = seconds->get<std::int64_t>();
      }
      placement.tolerations.push_back(std::move(toleration));
    }
  }
  placement.affinity = Member(component, "affinity");
}

Status CheckResources(const Resources& resources, const std::string& field) {
  struct Pair {
    const std::string& request;
    const std::string& limit;
    const char* name;
  };
  for (const Pair& pair : {Pair{resources.cpu_request, resources.cpu_limit, "cpu"},
                           Pair{resources.memory_request, resources.memory_limit, "memory"}}) {
    std::optional<double> request;
    std::optional<double> limit;
    if (!pair.request.empty()) {
      auto parsed = ParseQuantity(pair.request);
      if (!parsed.ok()) return InvalidArgument(field + ".requests." + pair.name + ": " + parsed.status().message());
      request = *parsed;
    }
    if (!pair.limit.empty()) {
      auto parsed = ParseQuantity(pair.limit);
      if (!parsed.ok()) return InvalidArgument(field + ".limits." + pair.name + ": " + parsed.status().message());
      limit = *parsed;
    }
    if (request && limit && *request > *limit) {
      return InvalidArgument(field + ": " + pair.name + " request " + pair.request + " is above its limit " + pair.limit);
    }
  }
  return Status::Ok();
}

// spec.data.volume is one core/v1 volume source (the operator names the volume), and spec.data.path
// stays inside it.
Status CheckDataSource(const DataSpec& data) {
  if (!data.volume.empty()) {
    if (data.volume.size() != 1 || data.volume.contains("name") || !data.volume.begin()->is_object()) {
      return InvalidArgument("spec.data.volume: expected one volume source, such as {persistentVolumeClaim: {claimName: sec-data}}, "
                             "without a name; got " + data.volume.dump());
    }
  }
  if (data.path.empty()) return Status::Ok();
  if (data.path.front() == '/') return InvalidArgument("spec.data.path: '" + data.path + "' must be relative to the volume's root");
  for (const std::string_view segment : SplitAndTrim(data.path, '/')) {
    if (segment == "..") return InvalidArgument("spec.data.path: '" + data.path + "' must not leave the volume ('..')");
  }
  return Status::Ok();
}

// A DNS-1035 label: lowercase letters, digits and '-', starting with a letter, ending with a letter or
// digit (Service names; the CRD's pattern says the same).
bool IsDns1035Label(std::string_view name) {
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (name.empty() || name.size() > 63 || !lower(name.front())) return false;
  if (!lower(name.back()) && !digit(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return lower(c) || digit(c) || c == '-'; });
}

Status CheckName(const std::string& name) {
  if (name.size() > kMaxNameLength) {
    return Status(StatusCode::kInvalidArgument,
                  "metadata.name '" + name + "' has " + std::to_string(name.size()) + " characters; at most " +
                      std::to_string(kMaxNameLength) +
                      " leave room for the children's names (the backup CronJob <name>-postgres-backup may have at most 52)",
                  kReasonInvalidName);
  }
  if (!IsDns1035Label(name)) {
    return Status(StatusCode::kInvalidArgument,
                  "metadata.name '" + name + "' is not a DNS-1035 label (lowercase letters, digits and '-', starting "
                  "with a letter): it names the platform's Services",
                  kReasonInvalidName);
  }
  return Status::Ok();
}

// A Secret reference is a Secret's name (a DNS-1123 subdomain): the operator reads it in the
// FinancialApi's namespace, and a '/' or '..' in a name would make the request's path another one
// (another namespace's Secret, a subresource).
Status CheckSecretName(const std::optional<std::string>& name, const std::string& field) {
  if (!name) return Status::Ok();
  const auto alphanumeric = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  const bool valid = !name->empty() && name->size() <= 253 && alphanumeric(name->front()) && alphanumeric(name->back()) &&
                     std::all_of(name->begin(), name->end(), [&](char c) { return alphanumeric(c) || c == '-' || c == '.'; }) &&
                     name->find("..") == std::string::npos && name->find(".-") == std::string::npos &&
                     name->find("-.") == std::string::npos;
  if (valid) return Status::Ok();
  return InvalidArgument(field + ": '" + *name +
                         "' is not a Secret name (lowercase letters, digits, '-' and '.', at most 253) of the "
                         "FinancialApi's namespace");
}

// The database name is also a key of PgBouncer's [databases] section and the host a value there:
// PgBouncer refuses the whole file over a key outside these characters ("syntax error in
// configuration") or an empty host ("syntax error in connection string"). The CRD says the same.
// The CRD's pattern for spec.monitoring.slo.availability, again for objects stored before it (or
// written past it): the PrometheusRule's error budget is computed from the number.
Status CheckAvailability(const std::string& availability) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool valid = availability == "100";
  if (!valid && availability.size() >= 2 && availability[0] == '9' && digit(availability[1])) {
    valid = availability.size() == 2 ||
            (availability[2] == '.' && availability.size() > 3 && std::all_of(availability.begin() + 3, availability.end(), digit));
  }
  if (valid) return Status::Ok();
  return InvalidArgument("spec.monitoring.slo.availability: '" + availability +
                         "' is not an availability objective in percent from 90 to 100 (such as \"99.9\")");
}

Status CheckExternalPostgres(const ExternalPostgres& external) {
  if (external.host.empty()) return InvalidArgument("spec.postgres.external.host: empty; name the PostgreSQL host");
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  };
  const std::string& database = external.database;
  if (database.empty() || database.size() > 63 || database.front() == '.' || database.front() == '-' ||
      !std::all_of(database.begin(), database.end(), allowed)) {
    return InvalidArgument("spec.postgres.external.database: '" + database +
                           "' is not a database name the platform can use (1 to 63 letters, digits, '_', '.' and '-', "
                           "starting with a letter, digit or '_': it is also a key of pgbouncer.ini)");
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& RefusedPostgresParameters() {
  static const std::vector<std::string> kRefused = {
      // They run a shell command.
      "archive_command", "archive_library", "restore_command", "archive_cleanup_command", "recovery_end_command",
      "ssl_passphrase_command",
      // They load shared libraries into the server.
      "shared_preload_libraries", "local_preload_libraries", "session_preload_libraries", "dynamic_library_path",
      "jit_provider",
      // They name files or directories the server reads (or, for the pid file, writes).
      "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file", "include", "include_dir",
      "include_if_exists", "ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_crl_file", "ssl_crl_dir",
      "krb_server_keyfile",
      // The operator sets them: the Service, the probes and pg_hba.conf's SCRAM depend on them.
      "listen_addresses", "port", "unix_socket_directories", "password_encryption"};
  return kRefused;
}

Status CheckPostgresParameters(const std::map<std::string, std::string>& parameters) {
  const auto refuse = [](const std::string& key, const std::string& why) {
    return Status(StatusCode::kInvalidArgument, "spec.postgres.parameters." + key + ": " + why,
                  kReasonRefusedPostgresParameter);
  };
  for (const auto& [key, value] : parameters) {
    const bool name = !key.empty() && ((key.front() >= 'a' && key.front() <= 'z') || key.front() == '_') &&
                      std::all_of(key.begin(), key.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
                      });
    // PostgreSQL reads names case-insensitively: only lowercase keys, so ARCHIVE_COMMAND is no way round.
    if (!name) return refuse(key, "not a PostgreSQL parameter name in lowercase ([a-z_][a-z0-9_.]*)");
    const auto& refused = RefusedPostgresParameters();
    if (std::find(refused.begin(), refused.end(), key) != refused.end()) {
      return refuse(key, "refused: it runs a command, loads a library or a file, or is set by the operator");
    }
    // The value is written between single quotes, where a quote or a backslash escape ends it early and
    // a newline starts another setting.
    const bool breaks = std::any_of(value.begin(), value.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte < 0x20 || byte == 0x7f || c == '\'' || c == '\\';
    });
    if (breaks) return refuse(key, "the value may not contain quotes, backslashes or control characters such as newlines");
  }
  return Status::Ok();
}

StatusOr<double> ParseQuantity(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty quantity");
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(number) || number < 0) {
    return InvalidArgument("'" + text + "' is not a quantity");
  }
  const std::string suffix(end);
  static const std::map<std::string, double> kMultipliers = {
      {"", 1},        {"m", 1e-3},    {"k", 1e3},     {"K", 1e3},     {"M", 1e6},     {"G", 1e9},
      {"T", 1e12},    {"P", 1e15},    {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}};
  const auto multiplier = kMultipliers.find(suffix);
  if (multiplier == kMultipliers.end()) return InvalidArgument("'" + text + "' has an unknown unit '" + suffix + "'");
  return number * multiplier->second;
}

StatusOr<FinancialApi> ParseFinancialApi(const Json& object) {
  FinancialApi out;
  const Json& metadata = Member(object, "metadata");
  Read(metadata, "name", out.name);
  Read(metadata, "namespace", out.ns);
  Read(metadata, "uid", out.uid);
  Read(metadata, "generation", out.generation);
  if (out.name.empty()) return InvalidArgument("FinancialApi without metadata.name");
  FINANCIALAPI_RETURN_IF_ERROR(CheckName(out.name));

  const Json& spec = Member(object, "spec");
  FinancialApiSpec& s = out.spec;
  Read(spec, "paused", s.paused);

  const Json& api = Member(spec, "api");
  Read(api, "image", s.api.image);
  Read(api, "imagePullPolicy", s.api.image_pull_policy);
  Read(api, "replicas", s.api.replicas);
  Read(api, "port", s.api.port);
  Read(api, "workerThreads", s.api.worker_threads);
  Read(api, "cacheTtlSeconds", s.api.cache_ttl_seconds);
  Read(api, "logLevel", s.api.log_level);
  ReadResources(Member(api, "resources"), s.api.resources);
  Read(Member(api, "rateLimit"), "requestsPerSecond", s.api.requests_per_second);
  Read(Member(api, "rateLimit"), "burst", s.api.burst);
  ReadStrings(Member(api, "rateLimit"), "trustedProxies", s.api.trusted_proxies);
  if (api.contains("apiKeysSecretRef")) {
    std::string name;
    Read(Member(api, "apiKeysSecretRef"), "name", name);
    if (!name.empty()) s.api.api_keys_secret = name;
  }
  ReadPlacement(api, s.api.placement);

  Read(Member(spec, "service"), "type", s.service_type);
  Read(Member(spec, "service"), "port", s.service_port);

  const Json& autoscaling = Member(spec, "autoscaling");
  Read(autoscaling, "enabled", s.autoscaling.enabled);
  Read(autoscaling, "minReplicas", s.autoscaling.min_replicas);
  Read(autoscaling, "maxReplicas", s.autoscaling.max_replicas);
  Read(autoscaling, "targetCPUUtilizationPercentage", s.autoscaling.target_cpu);
  Read(autoscaling, "targetMemoryUtilizationPercentage", s.autoscaling.target_memory);
  const Json& behavior = Member(autoscaling, "behavior");
  Read(behavior, "scaleUpStabilizationSeconds", s.autoscaling.scale_up_stabilization);
  Read(behavior, "scaleUpPercent", s.autoscaling.scale_up_percent);
  Read(behavior, "scaleUpPods", s.autoscaling.scale_up_pods);
  Read(behavior, "scaleDownStabilizationSeconds", s.autoscaling.scale_down_stabilization);
  Read(behavior, "scaleDownPercent", s.autoscaling.scale_down_percent);

  Read(Member(spec, "podDisruptionBudget"), "enabled", s.pdb_enabled);
  Read(Member(spec, "podDisruptionBudget"), "maxUnavailable", s.pdb_max_unavailable);

  const Json& postgres = Member(spec, "postgres");
  Read(postgres, "managed", s.postgres.managed);
  if (postgres.contains("external")) {
    const Json& external = Member(postgres, "external");
    ExternalPostgres e;
    Read(external, "host", e.host);
    Read(external, "port", e.port);
    Read(external, "database", e.database);
    Read(external, "sslMode", e.ssl_mode);
    Read(Member(external, "credentialsSecretRef"), "name", e.credentials_secret);
    s.postgres.external = e;
  }
  Read(postgres, "image", s.postgres.image);
  Read(postgres, "runAsUser", s.postgres.run_as_user);
  Read(postgres, "database", s.postgres.database);
  Read(postgres, "user", s.postgres.user);
  ReadStorage(Member(postgres, "storage"), s.postgres.storage);
  ReadResources(Member(postgres, "resources"), s.postgres.resources);
  for (const auto& [key, value] : Member(postgres, "parameters").items()) {
    s.postgres.parameters[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  ReadPlacement(postgres, s.postgres.placement);
  const Json& pgbouncer = Member(postgres, "pgbouncer");
  Read(pgbouncer, "enabled", s.postgres.pgbouncer.enabled);
  Read(pgbouncer, "image", s.postgres.pgbouncer.image);
  Read(pgbouncer, "replicas", s.postgres.pgbouncer.replicas);
  Read(pgbouncer, "poolMode", s.postgres.pgbouncer.pool_mode);
  Read(pgbouncer, "maxClientConnections", s.postgres.pgbouncer.max_client_connections);
  Read(pgbouncer, "defaultPoolSize", s.postgres.pgbouncer.default_pool_size);
  Read(pgbouncer, "maxPreparedStatements", s.postgres.pgbouncer.max_prepared_statements);
  ReadPlacement(pgbouncer, s.postgres.pgbouncer.placement);
  const Json& backup = Member(postgres, "backup");
  Read(backup, "enabled", s.postgres.backup.enabled);
  Read(backup, "schedule", s.postgres.backup.schedule);
  Read(backup, "retentionDays", s.postgres.backup.retention_days);
  ReadStorage(Member(backup, "storage"), s.postgres.backup.storage);
  ReadPlacement(backup, s.postgres.backup.placement);

  const Json& redis = Member(spec, "redis");
  Read(redis, "managed", s.redis.managed);
  if (redis.contains("external")) {
    const Json& external = Member(redis, "external");
    ExternalRedis e;
    Read(external, "host", e.host);
    Read(external, "port", e.port);
    std::string secret;
    Read(Member(external, "passwordSecretRef"), "name", secret);
    if (!secret.empty()) e.password_secret = secret;
    s.redis.external = e;
  }
  Read(redis, "image", s.redis.image);
  ReadStorage(Member(redis, "storage"), s.redis.storage);
  ReadResources(Member(redis, "resources"), s.redis.resources);
  Read(redis, "maxMemoryPolicy", s.redis.max_memory_policy);
  Read(redis, "appendOnly", s.redis.append_only);
  ReadPlacement(redis, s.redis.placement);

  const Json& warmup = Member(spec, "cacheWarmup");
  Read(warmup, "enabled", s.cache_warmup.enabled);
  Read(warmup, "schedule", s.cache_warmup.schedule);
  Read(warmup, "image", s.cache_warmup.image);
  ReadStrings(warmup, "tickers", s.cache_warmup.tickers);
  ReadPlacement(warmup, s.cache_warmup.placement);

  const Json& data = Member(spec, "data");
  Read(data, "load", s.data.load);
  s.data.volume = Member(data, "volume");
  Read(data, "path", s.data.path);
  ReadPlacement(data, s.data.placement);

  const Json& monitoring = Member(spec, "monitoring");
  Read(monitoring, "serviceMonitor", s.monitoring.service_monitor);
  Read(monitoring, "prometheusRule", s.monitoring.prometheus_rule);
  Read(Member(monitoring, "slo"), "availability", s.monitoring.availability);
  Read(Member(monitoring, "slo"), "latencyP95Seconds", s.monitoring.latency_p95_seconds);
  Read(Member(spec, "networkPolicy"), "enabled", s.network_policy);

  // What the schema cannot say.
  FINANCIALAPI_RETURN_IF_ERROR(CheckResources(s.api.resources, "spec.api.resources"));
  FINANCIALAPI_RETURN_IF_ERROR(CheckResources(s.postgres.resources, "spec.postgres.resources"));
  FINANCIALAPI_RETURN_IF_ERROR(CheckResources(s.redis.resources, "spec.redis.resources"));
  for (const auto* storage : {&s.postgres.storage, &s.redis.storage, &s.postgres.backup.storage}) {
    if (auto size = ParseQuantity(storage->size); !size.ok()) {
      return InvalidArgument("storage size: " + size.status().message());
    }
  }
  if (s.postgres.managed && !s.postgres.resources.memory_limit.empty()) {
    auto memory = ParseQuantity(s.postgres.resources.memory_limit);
    if (memory.ok() && *memory < 128.0 * 1048576.0) {
      return InvalidArgument("spec.postgres.resources.limits.memory: " + s.postgres.resources.memory_limit +
                             " is too small for PostgreSQL (at least 128Mi)");
    }
  }
  if (s.redis.managed && !s.redis.resources.memory_limit.empty()) {
    auto memory = ParseQuantity(s.redis.resources.memory_limit);
    if (memory.ok() && *memory < 32.0 * 1048576.0) {
      return InvalidArgument("spec.redis.resources.limits.memory: " + s.redis.resources.memory_limit +
                             " is too small for Redis (at least 32Mi)");
    }
  }
  FINANCIALAPI_RETURN_IF_ERROR(CheckDataSource(s.data));
  FINANCIALAPI_RETURN_IF_ERROR(CheckPostgresParameters(s.postgres.parameters));
  FINANCIALAPI_RETURN_IF_ERROR(CheckSecretName(s.api.api_keys_secret, "spec.api.apiKeysSecretRef.name"));
  if (s.postgres.external) {
    FINANCIALAPI_RETURN_IF_ERROR(CheckSecretName(s.postgres.external->credentials_secret,
                                                 "spec.postgres.external.credentialsSecretRef.name"));
    FINANCIALAPI_RETURN_IF_ERROR(CheckExternalPostgres(*s.postgres.external));
  }
  FINANCIALAPI_RETURN_IF_ERROR(CheckAvailability(s.monitoring.availability));
  if (s.redis.external) {
    FINANCIALAPI_RETURN_IF_ERROR(CheckSecretName(s.redis.external->password_secret, "spec.redis.external.passwordSecretRef.name"));
  }
  if (!s.postgres.managed && !s.postgres.external) return InvalidArgument("spec.postgres: external is required when managed is false");
  if (!s.redis.managed && !s.redis.external) return InvalidArgument("spec.redis: external is required when managed is false");
  return out;
}

}  // namespace financialapi::platform
