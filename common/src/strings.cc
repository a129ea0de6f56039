#include "financialapi/common/strings.h"
#include "financialapi/common/redact.h"

#include <algorithm>

namespace financialapi {

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> SplitAndTrim(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(Trim(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.reserve(out.size() + in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char min = 0x80, max = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min = 0xA0;
    if (lead == 0xED) max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min = 0x90;
    if (lead == 0xF4) max = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < min || byte(i + 1) > max) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

bool IsUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsUrlAuthorityEnd(char c) {
  return c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'';
}

// user:password@ of every URL: from the character after the first ':' of the user info to its last '@'.
std::string RedactUrlPasswords(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos; scheme = text.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    std::size_t end = start;
    while (end < text.size() && !IsUrlAuthorityEnd(text[end])) ++end;
    const std::string_view authority = text.substr(start, end - start);
    const std::size_t at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    const std::size_t colon = authority.find(':');
    if (colon == std::string_view::npos || colon > at) continue;
    out.append(text.substr(copied, start + colon + 1 - copied));
    out += "***";
    copied = start + at;
  }
  out.append(text.substr(copied));
  return out;
}

// The value after password= (and the Redis equivalents), as libpq's conninfo parser reads it: single
// quotes with backslash escapes, or up to the next space; in a URL's query, up to '&'.
std::string RedactKeywordPasswords(std::string_view text) {
  static constexpr std::string_view kKeywords[] = {"password", "requirepass", "masterauth"};
  const std::string lower = AsciiLower(text);
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t keyword_end = std::string::npos;
    for (const std::string_view keyword : kKeywords) {
      if (lower.compare(at, keyword.size(), keyword) == 0 && (at == 0 || !IsWordChar(text[at - 1]))) {
        keyword_end = at + keyword.size();
        break;
      }
    }
    if (keyword_end == std::string::npos) {
      ++at;
      continue;
    }
    std::size_t cursor = keyword_end;
    while (cursor < text.size() && text[cursor] == ' ') ++cursor;
    if (cursor >= text.size() || text[cursor] != '=') {
      at = keyword_end;
      continue;
    }
    ++cursor;
    while (cursor < text.size() && text[cursor] == ' ') ++cursor;
    std::size_t value_end = cursor;
    if (value_end < text.size() && text[value_end] == '\'') {
      ++value_end;
      while (value_end < text.size() && text[value_end] != '\'') value_end += text[value_end] == '\\' ? std::size_t{2} : std::size_t{1};
      value_end = std::min(value_end + 1, text.size());
    } else {
      while (value_end < text.size() && text[value_end] != ' ' && text[value_end] != '\t' && text[value_end] != '\n' &&
             text[value_end] != '&' && text[value_end] != '"' && text[value_end] != ',' && text[value_end] != ';') {
        ++value_end;
      }
    }
    out.append(text.substr(copied, cursor - copied));
    out += "***";
    copied = value_end;
    at = value_end;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace

std::string RedactSecrets(std::string_view text) {
  // Cheap for the common line that holds neither form.
  if (text.find("://") == std::string_view::npos && text.find('=') == std::string_view::npos) return std::string(text);
  return RedactKeywordPasswords(RedactUrlPasswords(text));
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) joined += separator;
    joined += parts[i];
  }
  return joined;
}

}  // namespace financialapi
