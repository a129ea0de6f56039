#include "components/loader.h"

#include "financialapi/platform/status.h"

namespace financialapi::platform {
namespace components {
namespace {

// The SEC EDGAR sample the API image carries (Dockerfile, stage api-server).
constexpr char kSampleDirectory[] = "/usr/share/financial-api/sec";
// Where spec.data.volume is mounted.
constexpr char kDataMount[] = "/data/sec";

std::string DataDirectory(const DataSpec& data) {
  if (data.volume.empty()) return kSampleDirectory;
  std::string path = data.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path.empty() ? kDataMount : std::string(kDataMount) + "/" + path;
}

Json LoaderJobSpec(const FinancialApi& api) {
  const DataSpec& data = api.spec.data;
  const Json database_url = SecretEnv("DATABASE_URL", ConnectionSecretName(api), "DIRECT_DATABASE_URL");
  // The load fails at once when the database does not answer, and the Job gives up after a few
  // failures: so the pod first waits for PostgreSQL to accept connections (pg_isready, from the
  // PostgreSQL image, which also runs the backups), however long its first start takes.
  const Json wait = {
      {"name", "wait-for-postgres"},
      {"image", api.spec.postgres.image},
      {"command", Json::array({"sh", "-c", "until pg_isready -q; do echo 'waiting for PostgreSQL'; sleep 2; done"})},
      // libpq's environment, not the URL: its password would be on pg_isready's command line.
      {"env", DirectPostgresEnvironment(api)},
      {"securityContext", RestrictedContainerSecurity()}};
  Json load = ApiServerContainer(api, "load", api.spec.api.image, {"load", DataDirectory(data)});
  load["env"] = Json::array({database_url});
  // Never: every attempt is a pod of its own, whose log stays for `kubectl logs`.
  Json pod_spec = {{"restartPolicy", "Never"},
                   {"securityContext", NonRootPodSecurity(kApiServerUser, kApiServerUser)},
                   {"initContainers", Json::array({wait})},
                   {"containers", Json::array({std::move(load)})}};
  if (!data.volume.empty()) {
    Json volume = data.volume;
    volume["name"] = "sec-data";
    pod_spec["containers"][0]["volumeMounts"] = Json::array({{{"name", "sec-data"}, {"mountPath", kDataMount}, {"readOnly", true}}});
    pod_spec["volumes"] = Json::array({std::move(volume)});
  }
  PlacePods(pod_spec, data.placement);
  return JobSpec(api, kLoaderComponent, 3, std::move(pod_spec));
}

Child LoaderJob(const FinancialApi& api) {
  Child job = NewChild(resources::kJobs, api, LoaderJobName(api), kLoaderComponent);
  job.object["spec"] = LoaderJobSpec(api);
  return job;
}

}  // namespace

std::vector<Child> LoaderChildren(const FinancialApi& api) {
  if (!api.spec.data.load) return {};
  return {LoaderJob(api)};
}

}  // namespace components

std::string LoaderJobName(const FinancialApi& api) {
  // A Job's pod template cannot change once it exists: every other template (image, data source,
  // placement) gets a Job of another name, and so does another database (host, port and name; not the
  // credentials), and each new Job loads again (the load is idempotent). The old one is pruned.
  const std::string target = components::BackendHost(api) + ":" + std::to_string(components::BackendPort(api)) + "/" +
                             components::DatabaseName(api);
  return api.name + "-load-" + components::ConfigHash(components::LoaderJobSpec(api).dump() + "\n" + target).substr(0, 8);
}

DataLoad ObserveDataLoad(const std::string& job_name, const Json* job) {
  DataLoad load{.job = job_name, .phase = DataLoad::kLoading, .message = "Job " + job_name + " is not created yet"};
  if (job == nullptr) return load;
  for (const auto& condition : job->value("/status/conditions"_json_pointer, Json::array())) {
    if (condition.value("status", "") != "True") continue;
    const std::string type = condition.value("type", "");
    const std::string reason = condition.value("reason", "");
    const std::string message = condition.value("message", "");
    if (type == "Complete") {
      load.phase = DataLoad::kLoaded;
      load.message = "Job " + job_name + " completed";
      return load;
    }
    if (type == "Failed") {
      load.phase = DataLoad::kFailed;
      load.message = "Job " + job_name + " failed" + (reason.empty() ? "" : " (" + reason + ")") +
                     (message.empty() ? "" : ": " + message) +
                     "; its pods' logs say why. Delete the Job to load again, or change spec.data";
      return load;
    }
  }
  const int active = job->value("/status/active"_json_pointer, 0);
  const int failed = job->value("/status/failed"_json_pointer, 0);
  load.message = "Job " + job_name + " is loading (pods running: " + std::to_string(active) +
                 ", attempts failed: " + std::to_string(failed) + ")";
  return load;
}

}  // namespace financialapi::platform
