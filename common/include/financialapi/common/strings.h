#pragma once

#include <string>
#include <string_view>

namespace financialapi {

// `text` without leading and trailing spaces, tabs and line breaks.
std::string_view Trim(std::string_view text);

}  // namespace financialapi
