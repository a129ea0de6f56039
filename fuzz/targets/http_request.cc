// The API server's request handling that sees raw client bytes before any route: the request target
// (origin-form, absolute-form, "*") into path and query (internal::ParseTarget), Accept-Encoding
// (AcceptsGzip), the JSON error body that echoes what the client sent (ErrorResponse), and gzip.
//
// Input: line 1 is a request target, line 2 a second target parsed into the same Request (as the next
// request on a keep-alive connection reuses its storage), further lines "name: value" headers; the
// whole input is also given to GzipDecompress.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "checks/check.h"
#include "financialapi/http/server.h"
#include "internal.h"

namespace {

using financialapi::fuzz::Check;
namespace http = financialapi::http;

void CheckParsed(const http::Request& request) {
  Check(request.path == "*" || (!request.path.empty() && request.path[0] == '/'),
        "a parsed path is '*' or starts with '/': " + request.path);
  Check(request.path.find('\0') == std::string::npos, "a parsed path has no NUL");
}

bool SameParse(const http::Request& a, const http::Request& b) { return a.path == b.path && a.query == b.query; }

void CheckErrorBody(std::string_view message) {
  const http::Response response = http::ErrorResponse(400, message);
  const auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  Check(!body.is_discarded(), "ErrorResponse's body is JSON whatever the message: " + response.body);
  Check(body["error"]["code"] == 400, "ErrorResponse keeps its code");
  // Well-formed UTF-8 comes back as it was (only bytes that are not UTF-8 become U+FFFD).
  bool utf8 = true;
  try {
    (void)nlohmann::json(std::string(message)).dump();
  } catch (const nlohmann::json::exception&) {
    utf8 = false;
  }
  if (utf8) Check(body["error"]["message"] == std::string(message), "ErrorResponse echoes UTF-8 as it was");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> lines = financialapi::fuzz::SplitLines(input);

  http::Request reused;
  for (std::size_t i = 0; i < lines.size() && i < 2; ++i) {
    reused.target = std::string(lines[i]);
    http::Request fresh;
    fresh.target = reused.target;
    const bool fresh_ok = http::internal::ParseTarget(fresh);
    const bool reused_ok = http::internal::ParseTarget(reused);
    Check(fresh_ok == reused_ok, "a reused Request parses a target as a fresh one does: " + fresh.target);
    if (fresh_ok) {
      CheckParsed(fresh);
      Check(SameParse(fresh, reused), "a reused Request gets the fresh one's path and query: " + fresh.target);
      for (const auto& [key, value] : fresh.query) {
        const auto found = fresh.QueryValue(key);
        Check(found.has_value(), "every parsed query key is found by QueryValue");
      }
    }
    CheckErrorBody(lines[i]);
  }

  http::Request with_headers;
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    http::Header header;
    header.name = std::string(lines[i].substr(0, colon));
    if (colon != std::string_view::npos) header.value = std::string(lines[i].substr(colon + 1));
    with_headers.headers.push_back(std::move(header));
  }
  (void)http::AcceptsGzip(with_headers);
  for (const http::Header& header : with_headers.headers) {
    Check(with_headers.HeaderValue(header.name).has_value(), "every header is found by its own name");
  }

  const auto inflated = http::GzipDecompress(input);
  if (inflated.ok()) {
    const auto again = http::GzipCompress(*inflated);
    Check(again.ok(), "what was decompressed compresses again");
    const auto round_trip = http::GzipDecompress(*again);
    Check(round_trip.ok() && *round_trip == *inflated, "gzip round trip gives the same bytes");
  }
  return 0;
}
