// Nightly pg_dump of the database (managed or external) into a volume of its own.
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The backups PersistentVolumeClaim and the backup CronJob; empty when backups are off.
std::vector<Child> BackupChildren(const FinancialApi& api);

}  // namespace financialapi::platform::components
