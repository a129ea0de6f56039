// Redis run by the operator: its Secret (the password, and the auth.conf redis.conf includes), redis.conf,
// Service and StatefulSet running `redis-server` itself (no image entrypoint).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// Secret, ConfigMap, Service and StatefulSet of the managed Redis; empty when it is external.
std::vector<Child> RedisChildren(const FinancialApi& api, const Inputs& inputs);

}  // namespace financialapi::platform::components
