#include "components/warmup.h"

#include "financialapi/common/strings.h"

namespace financialapi::platform::components {
namespace {

Child WarmupCronJob(const FinancialApi& api) {
  const CacheWarmupSpec& w = api.spec.cache_warmup;
  // Through the API Service, as users come: the answers land in Redis for every replica.
  const std::string base = "http://" + ApiName(api) + ":" + std::to_string(api.spec.service_port);
  const std::string script =
      "set -u\nfailed=0\n"
      "for t in $TICKERS; do\n"
      "  for path in \"v1/companies/$t\" \"v1/companies/$t/statements/income?period=annual\"; do\n"
      "    curl -fsS -o /dev/null --max-time 30 \"$API/$path\" || failed=$((failed+1))\n"
      "  done\n"
      "done\n"
      "echo \"warm-up done, $failed failed requests\"\n"
      "[ \"$failed\" -eq 0 ]\n";
  Json pod_spec = {
      {"restartPolicy", "OnFailure"},
      {"securityContext", NonRootPodSecurity(65532)},
      {"containers", Json::array({{{"name", "warmup"},
                                   {"image", w.image},
                                   {"command", Json::array({"sh", "-c", script})},
                                   {"env", Json::array({{{"name", "API"}, {"value", base}}, {{"name", "TICKERS"}, {"value", Join(w.tickers, " ")}}})},
                                   {"securityContext", RestrictedContainerSecurity()}}})}};
  PlacePods(pod_spec, w.placement);
  return CronJob(api, api.name + "-cache-warmup", kWarmupComponent, w.schedule, std::move(pod_spec));
}

}  // namespace

std::vector<Child> WarmupChildren(const FinancialApi& api) {
  if (!api.spec.cache_warmup.enabled) return {};
  return {WarmupCronJob(api)};
}

}  // namespace financialapi::platform::components
