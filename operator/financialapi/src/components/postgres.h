// PostgreSQL run by the operator: its credentials Secret, its ConfigMap (postgresql.conf, pg_hba.conf and
// the bootstrap script that initializes the data directory and runs the server, with no image
// entrypoint), headless Service and StatefulSet. An external database has none of them (the API only
// connects to it).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// Secret, ConfigMap, Service and StatefulSet of the managed PostgreSQL; empty when it is external.
std::vector<Child> PostgresChildren(const FinancialApi& api, const Inputs& inputs);

}  // namespace financialapi::platform::components
