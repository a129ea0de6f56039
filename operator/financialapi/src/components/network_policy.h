// Who may reach whom: one ingress NetworkPolicy per component that listens (API, PostgreSQL, PgBouncer,
// Redis). The API is open on its port; the databases only to the platform's own pods that use them.
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The NetworkPolicies of the components that run; empty when spec.networkPolicy is off.
std::vector<Child> NetworkPolicyChildren(const FinancialApi& api);

}  // namespace financialapi::platform::components
