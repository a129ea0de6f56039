#pragma once

#include <string_view>
#include <vector>

namespace financialapi::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration, in version order.
const std::vector<Migration>& Migrations();

}  // namespace financialapi::store
