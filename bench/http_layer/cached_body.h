// The response both benchmark servers (and nginx) send for GET /v1/cached: a concept series of 40
// facts, the shape and size (~4 KB) of a typical cached API answer. Deterministic, so the three
// servers send byte-identical bodies.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace financialapi::bench {

inline std::string CachedBody() {
  std::string body =
      R"({"cik":320193,"entity":"Apple Inc.","taxonomy":"us-gaap","concept":"RevenueFromContractWithCustomerExcludingAssessedTax",)"
      R"("label":"Revenue","unit":"USD","facts":[)";
  std::uint64_t state = 0x2545F4914F6CDD1DULL;  // xorshift64: fixed seed, fixed sequence
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  char fact[256];
  for (int i = 0; i < 40; ++i) {
    const int year = 2014 + i / 4;
    const int quarter = i % 4 + 1;  // the fourth is the fiscal year's 10-K
    const bool annual = quarter == 4;
    const unsigned long long value = 40'000'000'000ULL + next() % 90'000'000'000ULL;
    const int n = std::snprintf(
        fact, sizeof fact, R"(%s{"end":"%04d-%02d-%02d","val":%llu,"fy":%d,"fp":"%s","form":"%s","accn":"0000320193-%02d-%06llu"})",
        i == 0 ? "" : ",", year, quarter * 3, quarter == 1 || quarter == 4 ? 31 : 30, value, year,
        annual ? "FY" : (quarter == 1 ? "Q1" : quarter == 2 ? "Q2" : "Q3"), annual ? "10-K" : "10-Q", year % 100,
        static_cast<unsigned long long>(next() % 1'000'000));
    body.append(fact, static_cast<std::size_t>(n));
  }
  body += R"(],"count":40})";
  return body;
}

}  // namespace financialapi::bench
