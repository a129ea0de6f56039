// An invariant of a fuzz target: when it does not hold, the input is a finding. abort() makes
// libFuzzer save the input as a crash and fails the corpus replay.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace financialapi::fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what.c_str());
  std::abort();
}

inline void Check(bool holds, const std::string& what) {
  if (!holds) Fail(what);
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
