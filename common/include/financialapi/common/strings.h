#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace financialapi {

// `text` without leading and trailing spaces, tabs and line breaks.
std::string_view Trim(std::string_view text);

// `text` with A-Z turned to a-z (other bytes as they are).
std::string AsciiLower(std::string_view text);

// The parts of `text` between `separator`s, each trimmed; empty parts are kept ("a,,b" has three).
std::vector<std::string_view> SplitAndTrim(std::string_view text, char separator);

// Appends the percent-decoding of `in` to `out` ('+' becomes a space when plus_is_space).
// False (out then holds a partial result) for a '%' not followed by two hex digits.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 when it is not one (stray
// continuation bytes, overlong forms, surrogates, beyond U+10FFFF, cut short by the end).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i);

// Whether all of `text` is well-formed UTF-8 (PostgreSQL refuses anything else in a UTF8 database).
bool IsUtf8(std::string_view text);

// The parts with `separator` between them ("" for none).
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace financialapi
