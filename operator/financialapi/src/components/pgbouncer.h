// The PgBouncer pool between the API and PostgreSQL (managed or external).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The Secret with PgBouncer's backend URL, its Service and Deployment; empty when PgBouncer is off.
std::vector<Child> PgBouncerChildren(const FinancialApi& api, const Inputs& inputs);

}  // namespace financialapi::platform::components
