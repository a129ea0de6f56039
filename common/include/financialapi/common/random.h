#pragma once

#include <cstddef>
#include <string>

namespace financialapi {

// `length` lower-case hex digits from a per-thread generator: identifiers (reconcile ids, name
// suffixes), not secrets.
std::string RandomHex(std::size_t length);

// `length` letters and digits from the operating system's entropy source (std::random_device):
// generated passwords.
std::string RandomPassword(std::size_t length);

}  // namespace financialapi
