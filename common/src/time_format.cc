#include "financialapi/common/time_format.h"

#include <cstdio>
#include <ctime>

namespace financialapi {
namespace {

std::string Format(std::chrono::system_clock::time_point time, bool micro) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(time);
  const std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out(buffer);
  if (micro) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time - seconds).count();
    char fraction[16];
    std::snprintf(fraction, sizeof(fraction), ".%06lld", static_cast<long long>(micros));
    out += fraction;
  }
  return out + "Z";
}

}  // namespace

std::string FormatTime(std::chrono::system_clock::time_point time) { return Format(time, false); }
std::string FormatMicroTime(std::chrono::system_clock::time_point time) { return Format(time, true); }

}  // namespace financialapi
