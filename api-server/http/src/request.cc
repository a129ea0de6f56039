#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "financialapi/common/strings.h"
#include "financialapi/http/server.h"
#include "internal.h"

namespace financialapi::http {
namespace internal {
namespace {

// Parses "a=1&b=2" into request.query, reusing the strings already there (requests on one connection
// reuse one Request, so steady-state parsing allocates nothing).
bool ParseQuery(std::string_view text, std::vector<std::pair<std::string, std::string>>& query) {
  std::size_t count = 0;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (count == query.size()) query.emplace_back();
    auto& [k, v] = query[count++];
    k.clear();
    v.clear();
    if (!financialapi::PercentDecode(key, true, k) || !financialapi::PercentDecode(value, true, v)) return false;
  }
  query.resize(count);
  return true;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool ParseTarget(Request& request) {
  std::string_view rest = request.target;
  request.path.clear();
  request.raw_path.clear();
  if (rest == "*") {  // OPTIONS *
    request.path = "*";
    request.raw_path = "*";
    request.query.clear();
    return true;
  }
  for (const std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (rest.size() >= scheme.size() && EqualsIgnoreCase(rest.substr(0, scheme.size()), scheme)) {
      const std::size_t start = rest.find_first_of("/?", scheme.size());
      if (start == std::string_view::npos) {
        rest = "/";
      } else if (rest[start] == '?') {
        request.path = "/";
        request.raw_path = "/";
        rest = rest.substr(start);
      } else {
        rest = rest.substr(start);
      }
      break;
    }
  }
  if (request.path.empty() && (rest.empty() || rest[0] != '/')) return false;
  // A fragment is never sent by conforming clients; ignore one rather than decode it into the path.
  rest = rest.substr(0, rest.find('#'));
  const std::size_t question = rest.find('?');
  if (request.path.empty()) {
    request.raw_path = rest.substr(0, question);
    if (!financialapi::PercentDecode(request.raw_path, false, request.path)) return false;
    if (request.path.find('\0') != std::string::npos) return false;
  }
  if (question == std::string_view::npos) {
    request.query.clear();
    return true;
  }
  return ParseQuery(rest.substr(question + 1), request.query);
}

}  // namespace internal

bool ParseRequestTarget(Request& request) { return internal::ParseTarget(request); }

std::optional<std::string_view> Request::HeaderValue(std::string_view name) const {
  for (const Header& header : headers) {
    if (internal::EqualsIgnoreCase(header.name, name)) return std::string_view(header.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::QueryValue(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

Response ErrorResponse(int status, std::string_view message) {
  Response response;
  response.status = status;
  std::string& body = response.body;
  body.reserve(40 + message.size());
  body += R"({"error":{"code":)";
  body += std::to_string(status);
  body += R"(,"message":")";
  // Messages echo what clients sent (paths, parameters): bytes that are not UTF-8 become U+FFFD so the
  // body stays valid JSON.
  for (std::size_t i = 0; i < message.size();) {
    const char c = message[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const std::size_t length = Utf8SequenceLength(message, i);
      if (length == 0) {
        body += "\\ufffd";
        ++i;
      } else {
        body.append(message.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"': body += "\\\""; break;
      case '\\': body += "\\\\"; break;
      case '\n': body += "\\n"; break;
      case '\r': body += "\\r"; break;
      case '\t': body += "\\t"; break;
      default:
        if (u < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          body += "\\u00";
          body.push_back(kHex[(u >> 4) & 0xF]);
          body.push_back(kHex[u & 0xF]);
        } else {
          body.push_back(c);
        }
    }
    ++i;
  }
  body += "\"}}";
  return response;
}

namespace {

// q-value of one Accept-Encoding element's parameters ("q=0.5"), per RFC 9110 12.4.2: 1 when absent,
// -1 when unparsable (treated as a refusal by the caller).
double QValue(std::string_view params) {
  while (!params.empty()) {
    const std::size_t semi = params.find(';');
    const std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos || !internal::EqualsIgnoreCase(Trim(param.substr(0, eq)), "q")) continue;
    const std::string_view value = Trim(param.substr(eq + 1));
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (value.empty() || (value[0] != '0' && value[0] != '1')) return -1;
    double q = value[0] == '1' ? 1.0 : 0.0;
    if (value.size() > 1) {
      if (value[1] != '.' || value.size() > 5) return -1;
      double scale = 0.1;
      for (std::size_t i = 2; i < value.size(); ++i) {
        if (value[i] < '0' || value[i] > '9') return -1;
        q += scale * (value[i] - '0');
        scale /= 10;
      }
      if (q > 1.0) return -1;
    }
    return q;
  }
  return 1.0;
}

}  // namespace

bool AcceptsGzip(const Request& request) {
  double gzip_q = -2;  // -2: not named
  double star_q = -2;
  for (const Header& header : request.headers) {
    if (!internal::EqualsIgnoreCase(header.name, "accept-encoding")) continue;
    std::string_view list = header.value;
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      const std::string_view element = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      const std::size_t semi = element.find(';');
      const std::string_view coding = Trim(element.substr(0, semi));
      const double q = semi == std::string_view::npos ? 1.0 : QValue(element.substr(semi + 1));
      if (internal::EqualsIgnoreCase(coding, "gzip") || internal::EqualsIgnoreCase(coding, "x-gzip")) {
        gzip_q = std::max(gzip_q, q);
      } else if (coding == "*") {
        star_q = std::max(star_q, q);
      }
    }
  }
  if (gzip_q > -2) return gzip_q > 0;
  return star_q > 0;
}

}  // namespace financialapi::http
