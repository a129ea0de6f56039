// What every component's builders share: who a child belongs to (labels, ownerReference), the shape of
// the objects, the ports the components listen on and the URLs the API and PgBouncer connect with.
// Internal to financialapi::platform; the public surface is financialapi/platform/builders.h.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "financialapi/platform/builders.h"

namespace financialapi::platform::components {

inline constexpr int kPostgresPort = 5432;
inline constexpr int kRedisPort = 6379;
inline constexpr int kPgBouncerPort = 6432;
// Where the PostgreSQL pod has its ConfigMap (postgresql.conf, pg_hba.conf, bootstrap.sh) and its socket.
inline constexpr char kPostgresConfigDirectory[] = "/etc/postgresql";
inline constexpr char kPostgresSocketDirectory[] = "/var/run/postgresql";

// Who a child belongs to: `label` is app.kubernetes.io/component (with the instance, the pod selector),
// `app` is app.kubernetes.io/name.
struct Component {
  const char* label;
  const char* app;
};
inline constexpr Component kApiComponent{"api", "financial-api-server"};
inline constexpr Component kPostgresComponent{"database", "postgresql"};
inline constexpr Component kPgBouncerComponent{"pool", "pgbouncer"};
inline constexpr Component kRedisComponent{"cache", "redis"};
inline constexpr Component kBackupComponent{"backup", "postgresql-backup"};
inline constexpr Component kWarmupComponent{"warmup", "financial-api-warmup"};
inline constexpr Component kLoaderComponent{"loader", "financial-api-loader"};

// The user the API server image runs as (the Dockerfile's nonroot, 65532), for every pod that runs it.
inline constexpr int kApiServerUser = 65532;
// Where pods that need the API keys (the API, the warm-up) find spec.api.apiKeysSecretRef's `keys`.
inline constexpr char kApiKeysFile[] = "/etc/financial-api/keys/keys";

// The labels that select `component`'s pods of this FinancialApi (instance + component).
Json SelectorLabels(const FinancialApi& api, const Component& component);
// The selector labels plus name, part-of and managed-by: what every child and pod template carries.
Json Labels(const FinancialApi& api, const Component& component);
// A child of `type` named `name` with only apiVersion, kind and metadata (namespace, Labels, the
// controller ownerReference to the FinancialApi): the builder adds its spec or data.
Child NewChild(const kube::ResourceType& type, const FinancialApi& api, const std::string& name,
               const Component& component);

// A container's resources (requests/limits) with only the quantities the spec sets.
Json ResourceRequirements(const Resources& resources);
// An Opaque Secret `name` holding `values` (base64-encoded into data).
Child OpaqueSecret(const FinancialApi& api, const std::string& name, const Component& component,
                   const std::map<std::string, std::string>& values);
// The container securityContext of the restricted Pod Security Standard with a read-only root (every
// container the operator runs: what they write is on volumes).
Json RestrictedContainerSecurity();
// The pod securityContext of the restricted Pod Security Standard (non-root, seccomp RuntimeDefault)
// as `user`, with a primary group and a group owning mounted volumes where the image needs them.
Json NonRootPodSecurity(int user, std::optional<int> group = std::nullopt, std::optional<int> volume_group = std::nullopt);
// An environment variable `name` from `key` of Secret `secret`.
Json SecretEnv(const std::string& name, const std::string& secret, const std::string& key);
// A volume `name` of an empty directory (what a read-only root needs to be written somewhere).
Json EmptyDirVolume(const std::string& name);
// Mounts the `keys` entry (and nothing else) of Secret `secret` (the API keys) into `pod_spec`'s first
// container as kApiKeysFile.
void MountApiKeys(Json& pod_spec, const std::string& secret);
// A container `name` running the API server image `image` (spec.api.imagePullPolicy) as
// `financial-api-server <args>`, its program named instead of relying on the image's entrypoint, with
// the restricted security context.
Json ApiServerContainer(const FinancialApi& api, const std::string& name, const std::string& image,
                        const std::vector<std::string>& args);
// Adds `placement`'s nodeSelector, tolerations and affinity to `pod_spec`, each only when set.
void PlacePods(Json& pod_spec, const Placement& placement);
// A pod template with `component`'s labels and the config-hash annotation (a new hash rolls the pods),
// without a ServiceAccount token (no child talks to the Kubernetes API).
Json PodTemplate(const FinancialApi& api, const Component& component, const std::string& config_hash, Json pod_spec);
// A Service `name` in front of `component`'s pods on one TCP port, to the container port `port_name`.
Child PortService(const FinancialApi& api, const std::string& name, const Component& component,
                  const std::string& port_name, int port);
// A StatefulSet `name` of one pod from `pod_template` whose "data" volume claim (from `storage`) is kept
// when the StatefulSet is deleted or scaled down: the data outlives the FinancialApi.
Child SingleInstanceStatefulSet(const FinancialApi& api, const std::string& name, const Component& component,
                                Json pod_template, const Storage& storage);
// A volumeClaimTemplate named "data" for `storage`.
Json VolumeClaim(const Storage& storage, const Json& labels);
// A batch/v1 JobSpec running `pod_spec` (pods labelled as `component`, no ServiceAccount token),
// retried `backoff_limit` times.
Json JobSpec(const FinancialApi& api, const Component& component, int backoff_limit, Json pod_spec);
// A CronJob child (UTC, no overlapping runs, 3 finished jobs kept) running `pod_spec` on `schedule`.
Child CronJob(const FinancialApi& api, const std::string& name, const Component& component, const std::string& schedule,
              Json pod_spec);

// The first 16 hex digits of the SHA-256 of `content`: the pod annotation that rolls pods when their
// configuration or credentials change.
std::string ConfigHash(std::string_view content);
// `quantity` in base units (bytes, cores), or `fallback` when it is empty or does not parse.
double QuantityOr(const std::string& quantity, double fallback);

// Where the database is: the managed PostgreSQL's Service or the external host, its port, the database.
std::string BackendHost(const FinancialApi& api);
int BackendPort(const FinancialApi& api);
std::string DatabaseName(const FinancialApi& api);
// postgresql://user:password@host:port/database for the database the spec names (managed or external).
std::string PostgresUrl(const FinancialApi& api, const Inputs& inputs, const std::string& host, int port);
// The URL that reaches PostgreSQL itself, bypassing PgBouncer (migrations, pg_dump, PgBouncer's backend).
std::string DirectPostgresUrl(const FinancialApi& api, const Inputs& inputs);
// The keys of the connection Secret (ConnectionSecretName) with PostgreSQL's user and password alone.
inline constexpr char kDatabaseUserKey[] = "DATABASE_USER";
inline constexpr char kDatabasePasswordKey[] = "DATABASE_PASSWORD";
// libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE) for PostgreSQL
// itself, for the PostgreSQL image's programs (pg_dump, pg_isready): with it they take no URL, whose
// password would be on their command line for anyone who can read /proc/<pid>/cmdline. User and
// password come from the connection Secret.
Json DirectPostgresEnvironment(const FinancialApi& api);
// redis://[:password@]host:port/0 for the managed or external Redis.
std::string RedisUrl(const FinancialApi& api, const Inputs& inputs);

}  // namespace financialapi::platform::components
