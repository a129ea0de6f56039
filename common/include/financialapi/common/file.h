#pragma once

#include <optional>
#include <string>

#include "financialapi/common/status.h"

namespace financialapi {

// Reads a whole file. NotFound when it does not exist, PermissionDenied when it cannot be opened for
// another reason that errno names, Internal on a read error (a directory, for one).
StatusOr<std::string> ReadFile(const std::string& path);

// Returns the value of environment variable `name`, or nullopt when it is unset or empty.
std::optional<std::string> GetEnv(const char* name);

}  // namespace financialapi
