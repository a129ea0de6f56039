// The API's endpoints as a table: the path template each one answers, the query parameters it takes,
// and the handler that turns its validated input into a cache key and a query. Nothing here touches
// the database, so every endpoint's validation is unit-tested without one.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"
#include "financialapi/db/postgres.h"
#include "financialapi/http/server.h"

namespace financialapi::service {

// What a valid data request asks for.
struct PreparedQuery {
  // Canonical: requests that mean the same answer have the same key (tickers upper-cased, numbers
  // re-printed, form lists sorted), so a client cannot make each request a cache miss.
  std::string cache_key;
  // Runs later, on a pooled connection; holds copies of what it needs, nothing of the request.
  std::function<StatusOr<nlohmann::json>(db::PostgresConnection&)> run;
};

// Health, readiness and metrics answer without a key, a rate limit or the data queries.
enum class RouteKind { kHealth, kReady, kMetrics, kData };

// A handler's input: the template's "{...}" segments, percent-decoded, checked to be UTF-8 without
// control characters, in order; and the request (its query parameters checked the same way, each
// one the route takes, none twice).
struct RouteArguments {
  std::vector<std::string> path;
  const http::Request& request;
};

struct Route {
  std::string_view name;  // the template, "/v1/companies/{id}"; also the metrics' endpoint label
  RouteKind kind = RouteKind::kData;
  std::vector<std::string_view> query_parameters;  // any other is refused (400)
  // kData: InvalidArgument (400) or NotFound (404) naming what is wrong, else the query.
  StatusOr<PreparedQuery> (*handler)(const RouteArguments&) = nullptr;
  std::vector<std::string_view> segments;  // `name` split at '/', filled by Routes()
};

// Every endpoint (docs/api.md lists them).
const std::vector<Route>& Routes();

struct RouteMatch {
  const Route* route = nullptr;             // null: no such endpoint
  std::vector<std::string_view> raw_values;  // the "{...}" segments as sent, still percent-encoded
};

// Matches the path as sent (Request::raw_path, still percent-encoded) segment by segment: literal
// segments must be equal as sent, and escapes are decoded only after the split, so "AAPL%2Ffilings"
// is one segment and never the filings route. A trailing '/' is ignored.
RouteMatch MatchRoute(std::string_view raw_path);

// For a data route: decodes and checks the path values and the query parameters, then runs the
// route's handler. InvalidArgument naming the parameter (unknown, repeated, not UTF-8, a control
// character, out of range) or the handler's error.
StatusOr<PreparedQuery> PrepareQuery(const RouteMatch& match, const http::Request& request);

}  // namespace financialapi::service
