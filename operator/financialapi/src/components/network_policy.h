// Who may reach whom, both ways: one NetworkPolicy per component that runs pods (API, PostgreSQL,
// PgBouncer, Redis, the backup, loader and warm-up Jobs), each with its ingress and its egress. The API
// is open on its port; the databases accept only the platform's own pods that use them; every pod
// connects only to DNS and what it uses (PostgreSQL and Redis to nothing).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The NetworkPolicies of the components that run; empty when spec.networkPolicy is off.
std::vector<Child> NetworkPolicyChildren(const FinancialApi& api);

}  // namespace financialapi::platform::components
