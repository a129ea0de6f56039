#pragma once

#include <chrono>
#include <string>

namespace financialapi {

// RFC 3339 in UTC, the formats Kubernetes uses: Time "2026-11-28T04:05:06Z" and, with
// microseconds, MicroTime "2026-11-28T04:05:06.123456Z".
std::string FormatTime(std::chrono::system_clock::time_point time);
std::string FormatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace financialapi
