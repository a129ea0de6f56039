// The FinancialApi resource as typed C++: parsed from the object the API server stores (which the CRD
// has already defaulted and validated). The defaults here equal the CRD's, so an object that missed
// server-side defaulting still builds the same children (a unit test compares both).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"
#include "financialapi/kube/resource.h"

namespace financialapi::platform {

using Json = nlohmann::json;

inline const kube::ResourceType kFinancialApis{"edgartools.io", "v1alpha1", "financialapis", "FinancialApi", true};

struct Resources {
  std::string cpu_request, memory_request, cpu_limit, memory_limit;  // "" when not set
};

struct Storage {
  std::string size;
  std::string storage_class;
};

// A core/v1 Toleration. Empty strings are unset (Kubernetes reads an unset operator as Equal).
struct Toleration {
  std::string key;
  std::string op;  // "Exists" or "Equal"
  std::string value;
  std::string effect;  // "NoSchedule", "PreferNoSchedule" or "NoExecute"
  std::optional<std::int64_t> toleration_seconds;
};

// Where a component's pods may run: the PodSpec's nodeSelector, tolerations and affinity, as the user
// wrote them. Empty means the scheduler's defaults (the operator adds nothing to the pod spec).
struct Placement {
  std::map<std::string, std::string> node_selector;
  std::vector<Toleration> tolerations;
  Json affinity = Json::object();  // core/v1 Affinity, passed through (the CRD keeps its unknown fields)
};

struct ApiSpec {
  std::string image = "ghcr.io/edgartools/financial-api-server:0.1.0";
  std::string image_pull_policy = "IfNotPresent";
  int replicas = 3;
  int port = 8000;
  int worker_threads = 4;
  int cache_ttl_seconds = 3600;
  std::string log_level = "info";
  Resources resources{"250m", "256Mi", "1", "512Mi"};
  int requests_per_second = 10;
  int burst = 20;
  std::vector<std::string> trusted_proxies;  // X-Forwarded-For is believed from these (TRUSTED_PROXIES)
  std::optional<std::string> api_keys_secret;
  Placement placement;
};

struct AutoscalingSpec {
  bool enabled = true;
  int min_replicas = 3;
  int max_replicas = 20;
  int target_cpu = 70;
  int target_memory = 80;
  int scale_up_stabilization = 0;
  int scale_up_percent = 100;
  int scale_up_pods = 4;
  int scale_down_stabilization = 300;
  int scale_down_percent = 10;
};

struct ExternalPostgres {
  std::string host;
  int port = 5432;
  std::string database = "financial";
  std::string ssl_mode = "prefer";
  std::string credentials_secret;
};

struct PgBouncerSpec {
  bool enabled = false;
  std::string image = "edoburu/pgbouncer:v1.23.1-p2";
  int replicas = 2;
  std::string pool_mode = "transaction";
  int max_client_connections = 1000;
  int default_pool_size = 20;
  // max_prepared_statements of pgbouncer.ini, written only when above 0: PgBouncer before 1.21 refuses
  // the setting. 0 in transaction or statement mode tells the API not to prepare statements.
  int max_prepared_statements = 0;
  Placement placement;
};

struct BackupSpec {
  bool enabled = true;
  std::string schedule = "0 2 * * *";
  int retention_days = 7;
  Storage storage{"10Gi", ""};
  Placement placement;  // of the pg_dump pods
};

struct PostgresSpec {
  bool managed = true;
  std::optional<ExternalPostgres> external;
  std::string image = "postgres:15-alpine";
  // The uid (and gid, and volume group) of the PostgreSQL and backup containers: initdb needs it to have
  // a passwd entry in the image (70 in postgres:*-alpine and the image built here, 999 in postgres:<n>).
  int run_as_user = 70;
  std::string database = "financial";
  std::string user = "financial";
  Storage storage{"10Gi", ""};
  Resources resources{"250m", "512Mi", "2", "1Gi"};
  std::map<std::string, std::string> parameters;
  PgBouncerSpec pgbouncer;
  BackupSpec backup;
  Placement placement;
};

struct ExternalRedis {
  std::string host;
  int port = 6379;
  std::optional<std::string> password_secret;
};

struct RedisSpec {
  bool managed = true;
  std::optional<ExternalRedis> external;
  std::string image = "redis:7.0-alpine";
  Storage storage{"10Gi", ""};
  Resources resources{"100m", "256Mi", "1", "512Mi"};
  std::string max_memory_policy = "allkeys-lru";
  bool append_only = true;
  Placement placement;
};

struct CacheWarmupSpec {
  bool enabled = false;
  std::string schedule = "30 2 * * *";
  std::string image;  // with `financial-api-server warmup`; "" means spec.api.image
  std::vector<std::string> tickers;
  Placement placement;
};

// What the loader Job loads into the database: the SEC sample bundled in the API image, or the SEC
// EDGAR documents of a volume the user names.
struct DataSpec {
  bool load = true;
  Json volume = Json::object();  // a core/v1 volume source ({"persistentVolumeClaim": {...}}); empty: the sample
  std::string path;              // the data directory below the volume's root ("" for the root itself)
  Placement placement;           // of the loader pods
};

struct MonitoringSpec {
  bool service_monitor = true;
  bool prometheus_rule = true;
  std::string availability = "99.9";
  double latency_p95_seconds = 2;
};

struct FinancialApiSpec {
  bool paused = false;
  ApiSpec api;
  std::string service_type = "ClusterIP";
  int service_port = 80;
  AutoscalingSpec autoscaling;
  bool pdb_enabled = true;
  int pdb_max_unavailable = 1;
  PostgresSpec postgres;
  RedisSpec redis;
  CacheWarmupSpec cache_warmup;
  DataSpec data;
  MonitoringSpec monitoring;
  bool network_policy = true;
};

struct FinancialApi {
  std::string name;
  std::string ns;
  std::string uid;
  std::int64_t generation = 0;
  FinancialApiSpec spec;
};

// The longest metadata.name whose children all have valid names: the backup CronJob
// <name>-postgres-backup appends 16 characters and a CronJob name may have at most 52 (its Jobs append
// 11). The CRD refuses longer names with the same number (a unit test checks both, and every child name
// at this length).
inline constexpr std::size_t kMaxNameLength = 36;

// The Status reasons of ParseFinancialApi's refusals that have one of their own (the reconciler reports
// them as the Degraded reason; other refusals are InvalidSpec).
inline constexpr char kReasonInvalidName[] = "InvalidName";
inline constexpr char kReasonRefusedPostgresParameter[] = "RefusedPostgresParameter";

// spec.postgres.parameters keys that are refused: they run commands, load libraries or files, or are
// set by the operator for the pod to work. The CRD refuses the same list (a unit test compares them).
const std::vector<std::string>& RefusedPostgresParameters();

// Ok when `parameters` can be written into postgresql.conf as `key = 'value'` and change nothing but
// the settings named: keys in lowercase ([a-z_][a-z0-9_.]*), not refused; values without quotes,
// backslashes or control characters. InvalidArgument with reason kReasonRefusedPostgresParameter naming
// the key otherwise.
Status CheckPostgresParameters(const std::map<std::string, std::string>& parameters);

// Reads a FinancialApi object. InvalidArgument, naming the field, for what the schema cannot catch (or
// did not, for an object stored before the CRD said so): a name too long for its children or not a
// DNS-1035 label, refused PostgreSQL parameters, quantities that do not parse, requests above limits,
// a memory limit too small for the database, a data volume that is not one volume source.
StatusOr<FinancialApi> ParseFinancialApi(const Json& object);

// Parses a Kubernetes quantity ("250m", "2", "512Mi", "1.5Gi", "1e3") into a number of base units
// (cores or bytes). InvalidArgument for anything else.
StatusOr<double> ParseQuantity(const std::string& text);

}  // namespace financialapi::platform
