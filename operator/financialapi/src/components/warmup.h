// The cache warm-up: a CronJob running `financial-api-server warmup` (the API image's, unless the spec
// names another), which requests popular companies through the API Service so their answers are in
// Redis before users ask.
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The warm-up CronJob; empty when cache warm-up is off.
std::vector<Child> WarmupChildren(const FinancialApi& api);

}  // namespace financialapi::platform::components
