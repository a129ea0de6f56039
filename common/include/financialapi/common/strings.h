#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace financialapi {

// `text` without leading and trailing spaces, tabs and line breaks.
std::string_view Trim(std::string_view text);

// The parts of `text` between `separator`s, each trimmed; empty parts are kept ("a,,b" has three).
std::vector<std::string_view> SplitAndTrim(std::string_view text, char separator);

// The parts with `separator` between them ("" for none).
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace financialapi
