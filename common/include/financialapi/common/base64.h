#pragma once

#include <string>
#include <string_view>

#include "financialapi/common/status.h"

namespace financialapi {

// Standard base64 (RFC 4648, with padding; whitespace ignored). InvalidArgument on any other character
// or a bad length.
StatusOr<std::string> Base64Decode(std::string_view encoded);
std::string Base64Encode(std::string_view raw);

}  // namespace financialapi
