// Helpers both benchmark programs use.
#pragma once

#include <functional>
#include <string>

#include "financialapi/common/status.h"
#include "financialapi/kube/client.h"

namespace financialapi::bench {

// A non-negative integer flag value; false when `text` is not one.
bool ParseInt(const std::string& text, int& out);
// User plus system CPU seconds this process has used.
double CpuSeconds();
// Creates namespace `ns`; OK when it already exists.
Status EnsureNamespace(kube::Client& client, const std::string& ns);
// Runs work(0..count-1) on `threads` threads; the first failure (with how many failed) or OK.
Status ParallelFor(int count, int threads, const std::function<Status(int)>& work);

}  // namespace financialapi::bench
