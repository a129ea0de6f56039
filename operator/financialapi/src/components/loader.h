// The data load: a Job running `financial-api-server load` of the API image into the database, once per
// image, data source and database, and what its status says (the DataLoaded condition, status.data).
#pragma once

#include <vector>

#include "components/objects.h"

namespace financialapi::platform::components {

// The loader Job; empty when spec.data.load is false.
std::vector<Child> LoaderChildren(const FinancialApi& api);

}  // namespace financialapi::platform::components
