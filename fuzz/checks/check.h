// An invariant of a fuzz target: when it does not hold, the input is a finding. abort() makes
// libFuzzer save the input as a crash and fails the corpus replay.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace financialapi::fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what.c_str());
  std::abort();
}

inline void Check(bool holds, const std::string& what) {
  if (!holds) Fail(what);
}

// The lines of `text` (split at '\n', a last line without one included).
inline std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    lines.push_back(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  return lines;
}

// Runs `body`; an exception escaping it is a finding (the code under test promises errors as values).
template <typename Body>
void NoException(const char* what, Body&& body) {
  try {
    body();
  } catch (const std::exception& error) {
    Fail(std::string(what) + " threw: " + error.what());
  } catch (...) {
    Fail(std::string(what) + " threw a non-std exception");
  }
}

}  // namespace financialapi::fuzz
