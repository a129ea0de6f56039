#include "components/warmup.h"

#include "financialapi/common/strings.h"

namespace financialapi::platform::components {
namespace {

Child WarmupCronJob(const FinancialApi& api) {
  const CacheWarmupSpec& w = api.spec.cache_warmup;
  // `financial-api-server warmup` of the API image (or the image the spec names): through the API
  // Service, as users come, so the answers land in Redis for every replica; it waits out 429s.
  Json container = ApiServerContainer(api, "warmup", w.image.empty() ? api.spec.api.image : w.image, {"warmup"});
  container["env"] = Json::array({{{"name", "WARMUP_API_URL"}, {"value", "http://" + ApiName(api) + ":" + std::to_string(api.spec.service_port)}},
                                  {{"name", "WARMUP_TICKERS"}, {"value", Join(w.tickers, " ")}}});
  Json pod_spec = {{"restartPolicy", "OnFailure"},
                   {"securityContext", NonRootPodSecurity(kApiServerUser, kApiServerUser)},
                   {"containers", Json::array({std::move(container)})}};
  if (api.spec.api.api_keys_secret) {
    // The API wants a key: the first of its own keys file.
    pod_spec["containers"][0]["env"].push_back({{"name", "WARMUP_API_KEY_FILE"}, {"value", kApiKeysFile}});
    MountApiKeys(pod_spec, *api.spec.api.api_keys_secret);
  }
  PlacePods(pod_spec, w.placement);
  return CronJob(api, api.name + "-cache-warmup", kWarmupComponent, w.schedule, std::move(pod_spec));
}

}  // namespace

std::vector<Child> WarmupChildren(const FinancialApi& api) {
  if (!api.spec.cache_warmup.enabled) return {};
  return {WarmupCronJob(api)};
}

}  // namespace financialapi::platform::components
