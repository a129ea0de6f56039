// The flags both benchmark servers take: --port N (required), --threads N (default 2).
#pragma once

#include <charconv>
#include <cstdio>
#include <string_view>

namespace financialapi::bench {

struct HttpBenchFlags {
  int port = -1;
  int threads = 2;
};

// False (after printing why) on an unknown flag or a bad number.
inline bool ParseHttpBenchFlags(int argc, char** argv, HttpBenchFlags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    int* target = flag == "--port" ? &flags.port : flag == "--threads" ? &flags.threads : nullptr;
    if (target == nullptr || i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s --port N [--threads N]\n", argv[0]);
      return false;
    }
    const std::string_view value = argv[++i];
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), *target);
    if (ec != std::errc() || end != value.data() + value.size() || *target < 0) {
      std::fprintf(stderr, "%.*s: not a number: %.*s\n", static_cast<int>(flag.size()), flag.data(),
                   static_cast<int>(value.size()), value.data());
      return false;
    }
  }
  if (flags.port < 0 || flags.threads < 1) {
    std::fprintf(stderr, "usage: %s --port N [--threads N]\n", argv[0]);
    return false;
  }
  return true;
}

}  // namespace financialapi::bench
