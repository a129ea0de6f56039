// Redis run by the operator: its password Secret, redis.conf, Service and StatefulSet.
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// Secret, ConfigMap, Service and StatefulSet of the managed Redis; empty when it is external.
std::vector<Child> RedisChildren(const FinancialApi& api, const Inputs& inputs);

}  // namespace financialapi::platform::components
