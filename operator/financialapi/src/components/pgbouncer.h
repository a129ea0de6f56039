// The PgBouncer pool between the API and PostgreSQL (managed or external).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The Secret with pgbouncer.ini and userlist.txt, the Service and the Deployment; empty when PgBouncer
// is off.
std::vector<Child> PgBouncerChildren(const FinancialApi& api, const Inputs& inputs);

// False when the API's pooled connections go through PgBouncer in transaction or statement mode without
// max_prepared_statements: a named prepared statement would then be looked for on another server
// connection than the one it was prepared on. True without PgBouncer or in session mode.
bool PooledConnectionsKeepPreparedStatements(const FinancialApi& api);

}  // namespace financialapi::platform::components
