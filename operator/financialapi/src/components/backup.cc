#include "components/backup.h"

namespace financialapi::platform::components {
namespace {

std::string ClaimName(const FinancialApi& api) { return api.name + "-backups"; }

Child BackupClaim(const FinancialApi& api) {
  Child claim = NewChild(kube::resources::kPersistentVolumeClaims, api, ClaimName(api), kBackupComponent);
  claim.object["spec"] = VolumeClaim(api.spec.postgres.backup.storage, Json::object())["spec"];
  return claim;
}

Child BackupCronJob(const FinancialApi& api) {
  const BackupSpec& b = api.spec.postgres.backup;
  // Only sh, date, pg_dump, mv, find and ls, all on PATH in the PostgreSQL images (upstream and the one
  // built here): pg_dump compresses itself (-Z, plain format: the file is gzip), so its exit status is
  // the dump's and not that of the last command of a pipe. Written to a .partial name first, so an
  // interrupted dump is never taken for a complete one (and removed by the next run: runs never overlap).
  const std::string script =
      "set -eu\n"
      "rm -f /backups/*.partial\n"
      "file=/backups/" + api.name + "-$(date -u +%Y%m%dT%H%M%SZ).sql.gz\n"
      "pg_dump --no-owner --compress=6 --file=\"$file.partial\"\n"
      "mv \"$file.partial\" \"$file\"\n"
      "find /backups -name '*.sql.gz' -mtime +" + std::to_string(b.retention_days) + " -delete\n"
      "ls -l /backups\n";
  const int user = api.spec.postgres.run_as_user;
  Json pod_spec = {
      {"restartPolicy", "OnFailure"},
      {"securityContext", NonRootPodSecurity(user, user, user)},
      {"containers", Json::array({{{"name", "pg-dump"},
                                   {"image", api.spec.postgres.image},
                                   {"command", Json::array({"sh", "-c", script})},
                                   // Where and as whom from libpq's environment: no URL with the password
                                   // on pg_dump's command line.
                                   {"env", DirectPostgresEnvironment(api)},
                                   // Read-only root: only the backups volume is written.
                                   {"securityContext", RestrictedContainerSecurity()},
                                   {"volumeMounts", Json::array({{{"name", "backups"}, {"mountPath", "/backups"}}})}}})},
      {"volumes", Json::array({{{"name", "backups"}, {"persistentVolumeClaim", {{"claimName", ClaimName(api)}}}}})}};
  PlacePods(pod_spec, b.placement);
  return CronJob(api, PostgresName(api) + "-backup", kBackupComponent, b.schedule, std::move(pod_spec));
}

}  // namespace

std::vector<Child> BackupChildren(const FinancialApi& api) {
  if (!api.spec.postgres.backup.enabled) return {};
  return {BackupClaim(api), BackupCronJob(api)};
}

}  // namespace financialapi::platform::components
