// Helpers shared by the server and the request/gzip code; not part of the public interface.
#pragma once

#include <string>
#include <string_view>

#include "financialapi/http/server.h"

namespace financialapi::http::internal {

// 'A'..'Z' to 'a'..'z', other bytes as they are.
inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Fills request.path and request.query from request.target (origin-form "/p?q", absolute-form
// "http://host/p?q" or "*"), reusing their storage. False for any other form, a bad percent-escape,
// or a NUL in the decoded path.
bool ParseTarget(Request& request);

// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace financialapi::http::internal
