#include "financialapi/common/base64.h"

#include <array>
#include <cstdint>

namespace financialapi {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int, 256> MakeDecodeTable() {
  std::array<int, 256> table{};
  for (auto& entry : table) entry = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  return table;
}

constexpr std::array<int, 256> kDecodeTable = MakeDecodeTable();

}  // namespace

StatusOr<std::string> Base64Decode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (const char c : encoded) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    const int value = kDecodeTable[static_cast<unsigned char>(c)];
    if (value < 0 || padding > 0) return InvalidArgument("invalid base64 data");
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  if (symbols % 4 != 0 || padding > 2) return InvalidArgument("invalid base64 length");
  return out;
}

std::string Base64Encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(raw[i])) << 16U) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(raw[i + 1])) << 8U) |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(raw[i + 2]));
    out.push_back(kAlphabet[(n >> 18U) & 63U]);
    out.push_back(kAlphabet[(n >> 12U) & 63U]);
    out.push_back(kAlphabet[(n >> 6U) & 63U]);
    out.push_back(kAlphabet[n & 63U]);
  }
  if (i < raw.size()) {
    auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(raw[i])) << 16U;
    if (i + 1 < raw.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(raw[i + 1])) << 8U;
    out.push_back(kAlphabet[(n >> 18U) & 63U]);
    out.push_back(kAlphabet[(n >> 12U) & 63U]);
    out.push_back(i + 1 < raw.size() ? kAlphabet[(n >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace financialapi
