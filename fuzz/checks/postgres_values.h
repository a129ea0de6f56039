// What PostgreSQL accepts in the columns the SEC loader writes: text without NUL (a text value cannot
// hold one, nor can a jsonb string or key: "unsupported Unicode escape sequence"), calendar dates
// within PostgreSQL's date range as SEC writes them (YYYY-MM-DD, year 0001..9999), int columns within
// 32 bits. A document the parser accepts must load; one it cannot load must be refused by the parser
// with the JSON pointer, not by the database half-way through a load.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace financialapi::fuzz {

inline bool IsPostgresText(std::string_view text) { return text.find('\0') == std::string_view::npos; }

inline bool IsPostgresJsonb(const nlohmann::json& value) {
  if (value.is_string()) return IsPostgresText(value.get_ref<const std::string&>());
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (!IsPostgresText(key) || !IsPostgresJsonb(member)) return false;
    }
  }
  if (value.is_array()) {
    for (const auto& element : value) {
      if (!IsPostgresJsonb(element)) return false;
    }
  }
  return true;
}

inline bool IsPostgresInt(std::int64_t value) { return value >= INT32_MIN && value <= INT32_MAX; }

inline bool IsCalendarDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = starts[p]; i < starts[p] + lengths[p]; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      parts[p] = parts[p] * 10 + (text[i] - '0');
    }
  }
  const int year = parts[0], month = parts[1], day = parts[2];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

}  // namespace financialapi::fuzz
