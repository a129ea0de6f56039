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
  // Written to a .partial name first, so an interrupted dump is never taken for a complete one.
  const std::string script =
      "set -eu\n"
      "file=/backups/" + api.name + "-$(date -u +%Y%m%dT%H%M%SZ).sql.gz\n"
      "pg_dump --no-owner \"$DIRECT_DATABASE_URL\" | gzip > \"$file.partial\"\n"
      "mv \"$file.partial\" \"$file\"\n"
      "find /backups -name '*.sql.gz' -mtime +" + std::to_string(b.retention_days) + " -delete\n"
      "ls -l /backups\n";
  Json pod_spec = {
      {"restartPolicy", "OnFailure"},
      {"securityContext", NonRootPodSecurity(70, std::nullopt, 70)},
      {"containers", Json::array({{{"name", "pg-dump"},
                                   {"image", api.spec.postgres.image},
                                   {"command", Json::array({"sh", "-c", script})},
                                   {"env", Json::array({{{"name", "DIRECT_DATABASE_URL"},
                                                         {"valueFrom", {{"secretKeyRef", {{"name", ConnectionSecretName(api)}, {"key", "DIRECT_DATABASE_URL"}}}}}}})},
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
