#pragma once

#include <string_view>

namespace financialapi {

// The project version baked in at build time (CMake's project version).
constexpr std::string_view kVersion = FINANCIALAPI_VERSION;

}  // namespace financialapi
