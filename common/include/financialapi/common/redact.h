// Secrets out of everything printed: one function for logs, answers and error messages.
#pragma once

#include <string>
#include <string_view>

namespace financialapi {

// `text` with every password it may hold replaced by "***": the password of a URL's user info in any
// scheme (postgres://u:p@h, redis://:p@h), and the value of password=, requirepass= and masterauth=
// (libpq's keyword form, quoted or not; a URL's query). Everything else is left as it was.
std::string RedactSecrets(std::string_view text);

}  // namespace financialapi
