// Helpers shared by the server and the request/gzip code; not part of the public interface.
#pragma once

#include <string>
#include <string_view>

#include "financialapi/http/server.h"

namespace financialapi::http::internal {

// Appends the percent-decoding of `in` to `out` ('+' becomes a space when plus_is_space).
// False (out then holds a partial result) for a '%' not followed by two hex digits.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);

// Fills request.path and request.query from request.target (origin-form "/p?q", absolute-form
// "http://host/p?q" or "*"), reusing their storage. False for any other form, a bad percent-escape,
// or a NUL in the decoded path.
bool ParseTarget(Request& request);

// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace financialapi::http::internal
