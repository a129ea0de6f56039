#include "financialapi/common/random.h"

#include <random>

namespace financialapi {

std::string RandomHex(std::size_t length) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(length, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < length; ++i) {
    if (i % 16 == 0) bits = generator();
    out[i] = kHex[bits & 0xFU];
    bits >>= 4U;
  }
  return out;
}

std::string RandomPassword(std::size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device entropy;
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string out(length, 'x');
  for (auto& c : out) c = kAlphabet[pick(entropy)];
  return out;
}

}  // namespace financialapi
