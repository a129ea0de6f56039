// The route table and every endpoint's validation, without a database: what MatchRoute picks from the
// raw path, what PrepareQuery refuses (and with which status), and that cache keys are canonical.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "financialapi/http/server.h"
#include "financialapi/service/routes.h"

namespace financialapi::service {
namespace {

http::Request RequestFor(const std::string& target) {
  http::Request request;
  request.method = "GET";
  request.target = target;
  EXPECT_TRUE(http::ParseRequestTarget(request)) << target;
  return request;
}

std::string RouteOf(const std::string& target) {
  const RouteMatch match = MatchRoute(RequestFor(target).raw_path);
  return match.route ? std::string(match.route->name) : "none";
}

StatusOr<PreparedQuery> Prepare(const std::string& target) {
  const http::Request request = RequestFor(target);
  const RouteMatch match = MatchRoute(request.raw_path);
  if (!match.route) return NotFound("no route");
  return PrepareQuery(match, request);
}

std::string KeyOf(const std::string& target) {
  auto query = Prepare(target);
  EXPECT_TRUE(query.ok()) << target << ": " << query.status();
  return query.ok() ? query->cache_key : "";
}

TEST(RequestTargetTest, TheRawPathKeepsItsEscapes) {
  const http::Request request = RequestFor("/v1/companies/AAPL%2Ffilings?limit=1#fragment");
  EXPECT_EQ(request.raw_path, "/v1/companies/AAPL%2Ffilings");
  EXPECT_EQ(request.path, "/v1/companies/AAPL/filings");
  EXPECT_EQ(RequestFor("http://host.example?search=a").raw_path, "/");
  EXPECT_EQ(RequestFor("https://host.example/v1/companies%2Fx?y").raw_path, "/v1/companies%2Fx");
  EXPECT_EQ(RequestFor("*").raw_path, "*");
}

TEST(RouteTableTest, EveryRouteHasAUniqueTemplateAndDataRoutesAHandler) {
  std::set<std::string_view> names;
  for (const Route& route : Routes()) {
    EXPECT_TRUE(names.insert(route.name).second) << route.name;
    EXPECT_EQ(route.kind == RouteKind::kData, route.handler != nullptr) << route.name;
    EXPECT_FALSE(route.segments.empty()) << route.name;
  }
  EXPECT_EQ(names.size(), 14u);
}

TEST(RouteTableTest, MatchesTheRawSegments) {
  EXPECT_EQ(RouteOf("/health"), "/health");
  EXPECT_EQ(RouteOf("/ready?verbose=1"), "/ready");
  EXPECT_EQ(RouteOf("/v1/companies?search=a"), "/v1/companies");
  EXPECT_EQ(RouteOf("/v1/companies/"), "/v1/companies");
  EXPECT_EQ(RouteOf("/v1/companies/AAPL"), "/v1/companies/{id}");
  EXPECT_EQ(RouteOf("/v1/companies/AAPL/filings"), "/v1/companies/{id}/filings");
  EXPECT_EQ(RouteOf("/v1/companies/AAPL/concepts/us-gaap/Assets"), "/v1/companies/{id}/concepts/{taxonomy}/{tag}");
  EXPECT_EQ(RouteOf("/v1/frames/us-gaap/Assets/USD/CY2024"), "/v1/frames/{taxonomy}/{tag}/{unit}/{period}");
  EXPECT_EQ(RouteOf("/api/xbrl/companyfacts/CIK0000320193.json"), "/api/xbrl/companyfacts/{cik}");
  EXPECT_EQ(RouteOf("/submissions/CIK0000320193.json"), "/submissions/{document}");
  EXPECT_EQ(RouteOf("http://api.example/v1/companies/AAPL"), "/v1/companies/{id}");
  // An encoded '/' stays inside its segment: one company identifier, not the filings route.
  EXPECT_EQ(RouteOf("/v1/companies/AAPL%2Ffilings"), "/v1/companies/{id}");
  EXPECT_EQ(RouteOf("/v1/companies/AAPL%2ffilings"), "/v1/companies/{id}");
  EXPECT_EQ(RouteOf("/v1/companies%2FAAPL"), "none");
  EXPECT_EQ(RouteOf("/v1%2Fcompanies/AAPL"), "none");
  EXPECT_EQ(RouteOf("/api/xbrl/companyfacts%2FCIK0000320193.json"), "none");
  // Literal segments are compared as sent.
  EXPECT_EQ(RouteOf("/v1/compan%69es/AAPL"), "none");
  EXPECT_EQ(RouteOf("/no/such/path"), "none");
  EXPECT_EQ(RouteOf("/v1/companies/AAPL/filings/extra"), "none");
}

TEST(RouteTableTest, PathValuesAreDecodedAfterTheSplit) {
  const http::Request request = RequestFor("/v1/companies/A%41PL/concepts/us-gaap/Assets");
  const RouteMatch match = MatchRoute(request.raw_path);
  ASSERT_NE(match.route, nullptr);
  ASSERT_EQ(match.raw_values.size(), 3u);
  EXPECT_EQ(match.raw_values[0], "A%41PL");
  EXPECT_EQ(KeyOf("/v1/companies/A%41PL/concepts/us-gaap/Assets"), KeyOf("/v1/companies/AAPL/concepts/us-gaap/Assets"));
  const auto slash = Prepare("/v1/companies/AAPL%2Ffilings");
  EXPECT_EQ(slash.status().code(), StatusCode::kInvalidArgument) << slash.status();
  EXPECT_NE(slash.status().message().find("malformed company identifier 'AAPL/filings'"), std::string::npos) << slash.status();
}

struct Refusal {
  std::string target;
  StatusCode code;
  std::string message_part;
};

TEST(RouteValidationTest, BadInputIsRefusedBeforeAnyQuery) {
  const std::vector<Refusal> refusals = {
      // Not UTF-8, or with control characters: PostgreSQL would refuse the first, truncate at a NUL.
      {"/v1/companies?search=%FF", StatusCode::kInvalidArgument, "parameter search must be UTF-8"},
      {"/v1/companies?search=App%C3", StatusCode::kInvalidArgument, "parameter search must be UTF-8"},
      {"/v1/companies?search=a%00b", StatusCode::kInvalidArgument, "control characters"},
      {"/v1/companies?search=a%0Ab", StatusCode::kInvalidArgument, "control characters"},
      {"/v1/companies/%FF", StatusCode::kInvalidArgument, "malformed {id} '%FF'"},
      {"/v1/companies/AAPL/concepts/us-gaap/%FF", StatusCode::kInvalidArgument, "malformed {tag}"},
      {"/v1/companies/AAPL/concepts/%ED%A0%80/Assets", StatusCode::kInvalidArgument, "malformed {taxonomy}"},
      {"/v1/companies/AAPL/filings?form=10-K,%FF", StatusCode::kInvalidArgument, "form"},
      {"/v1/companies/AAPL/statements/income?period=%FF", StatusCode::kInvalidArgument, "period"},
      // Dates PostgreSQL does not represent, or not dates.
      {"/v1/companies/AAPL/filings?from=0000-01-01", StatusCode::kInvalidArgument, "parameter from"},
      {"/v1/companies/AAPL/filings?from=-001-01-01", StatusCode::kInvalidArgument, "parameter from"},
      {"/v1/companies/AAPL/filings?to=2024-1a-01", StatusCode::kInvalidArgument, "parameter to"},
      {"/v1/companies/AAPL/filings?to=2024-01-0x", StatusCode::kInvalidArgument, "parameter to"},
      {"/v1/companies/AAPL/filings?to=%2B024-01-01", StatusCode::kInvalidArgument, "parameter to"},
      {"/v1/companies/AAPL/filings?to=2023-02-29", StatusCode::kInvalidArgument, "parameter to"},
      {"/v1/companies/AAPL/filings?from=2024-13-01", StatusCode::kInvalidArgument, "parameter from"},
      // Numbers past any column.
      {"/v1/companies/AAPL/filings?limit=1e400", StatusCode::kInvalidArgument, "parameter limit"},
      {"/v1/companies/AAPL/filings?offset=99999999999999999999", StatusCode::kInvalidArgument, "parameter offset"},
      {"/v1/companies/AAPL/filings?limit=5000", StatusCode::kInvalidArgument, "parameter limit must be an integer 1..1000"},
      {"/v1/companies?search=a&limit=99999999999999999999", StatusCode::kInvalidArgument, "parameter limit"},
      {"/v1/companies/AAPL/statements/income?limit=41", StatusCode::kInvalidArgument, "parameter limit"},
      {"/v1/companies/99999999999999999999", StatusCode::kInvalidArgument, "malformed CIK"},
      {"/v1/companies/12345678901", StatusCode::kInvalidArgument, "malformed CIK"},
      {"/api/xbrl/companyfacts/CIK99999999999999999999.json", StatusCode::kInvalidArgument, "malformed CIK"},
      {"/api/xbrl/companyfacts/CIK0000000000.json", StatusCode::kInvalidArgument, "must be positive"},
      {"/v1/frames/us-gaap/Assets/USD/CY99999", StatusCode::kInvalidArgument, "malformed period"},
      // Unknown or repeated parameters: each would be a cache key of its own.
      {"/v1/companies/AAPL?cachebust=1", StatusCode::kInvalidArgument, "unknown parameter 'cachebust'"},
      {"/v1/companies/AAPL?cachebust=1", StatusCode::kInvalidArgument, "(accepted: none)"},
      {"/v1/companies?search=a&x=1", StatusCode::kInvalidArgument, "(accepted: search, limit, offset)"},
      {"/v1/companies/AAPL/filings?Limit=10", StatusCode::kInvalidArgument, "unknown parameter 'Limit'"},
      {"/v1/companies/AAPL/filings?limit=10&limit=20", StatusCode::kInvalidArgument, "limit is given more than once"},
      {"/v1/companies/AAPL/facts?%FF=1", StatusCode::kInvalidArgument, "unknown parameter"},
      // The endpoints' own rules.
      {"/v1/companies", StatusCode::kInvalidArgument, "parameter search is required"},
      {"/v1/companies/AA%20PL", StatusCode::kInvalidArgument, "malformed company identifier"},
      {"/v1/companies/AAPL/statements/profit", StatusCode::kInvalidArgument, "unknown statement"},
      {"/v1/companies/AAPL/statements/income?period=weekly", StatusCode::kInvalidArgument, "period"},
      {"/v1/companies/AAPL/concepts/US_GAAP/Assets", StatusCode::kInvalidArgument, "malformed taxonomy"},
      {"/v1/companies/AAPL/concepts/us-gaap/Bad-Tag", StatusCode::kInvalidArgument, "malformed concept tag"},
      {"/v1/frames/us-gaap/Assets/US$/CY2024", StatusCode::kInvalidArgument, "malformed unit"},
      {"/v1/companies/AAPL/filings?form=10-K;DROP", StatusCode::kInvalidArgument, "form"},
      {"/api/xbrl/companyfacts/CIK0000320193", StatusCode::kNotFound, ".json"},
      {"/api/xbrl/frames/us-gaap/Assets/USD/CY2024", StatusCode::kNotFound, ".json"},
      {"/api/xbrl/companyconcept/CIK320193/us-gaap/Assets.json", StatusCode::kInvalidArgument, "malformed CIK"},
      {"/submissions/CIK0000320193-submissions-9.json", StatusCode::kInvalidArgument, "malformed submissions page"},
  };
  for (const Refusal& refusal : refusals) {
    const auto query = Prepare(refusal.target);
    ASSERT_FALSE(query.ok()) << refusal.target << " accepted as " << query->cache_key;
    EXPECT_EQ(query.status().code(), refusal.code) << refusal.target << ": " << query.status();
    EXPECT_NE(query.status().message().find(refusal.message_part), std::string::npos)
        << refusal.target << ": " << query.status();
  }
}

TEST(RouteValidationTest, ValidInputIsAccepted) {
  for (const std::string target :
       {"/v1/companies?search=Apple%20Inc&limit=100&offset=1000000", "/v1/companies?search=%C3%89lectricit%C3%A9",
        "/v1/companies/AAPL", "/v1/companies/CIK0000320193/facts", "/v1/companies/brk-b/filings?form=10-K,%2010-Q&from=0001-01-01&to=9999-12-31",
        "/v1/companies/AAPL/filings?to=2024-02-29", "/v1/companies/AAPL/concepts/us-gaap/Assets",
        "/v1/companies/AAPL/statements/balance?period=quarterly&limit=40", "/v1/frames/us-gaap/EarningsPerShareDiluted/USD-per-shares/CY2024Q4I",
        "/api/xbrl/companyfacts/CIK0000320193.json", "/api/xbrl/companyconcept/CIK0000320193/us-gaap/Assets.json",
        "/api/xbrl/frames/us-gaap/Assets/USD/CY2024Q4I.json", "/submissions/CIK0000320193.json",
        "/submissions/CIK0000320193-submissions-001.json"}) {
    const auto query = Prepare(target);
    EXPECT_TRUE(query.ok()) << target << ": " << query.status();
    if (query.ok()) {
      EXPECT_TRUE(static_cast<bool>(query->run)) << target;
    }
  }
}

TEST(RouteValidationTest, CacheKeysAreCanonical) {
  // One company however it is named.
  EXPECT_EQ(KeyOf("/v1/companies/aapl"), KeyOf("/v1/companies/AAPL"));
  EXPECT_EQ(KeyOf("/v1/companies/CIK0000320193/facts"), KeyOf("/v1/companies/320193/facts"));
  // Numbers as numbers, the form set in any order or with repeats.
  EXPECT_EQ(KeyOf("/v1/companies/AAPL/filings?limit=010"), KeyOf("/v1/companies/AAPL/filings?limit=10"));
  EXPECT_EQ(KeyOf("/v1/companies/AAPL/filings?form=10-Q,10-K,10-K"), KeyOf("/v1/companies/AAPL/filings?form=10-K,10-Q"));
  EXPECT_EQ(KeyOf("/v1/companies/AAPL/filings?offset=0&limit=100"), KeyOf("/v1/companies/AAPL/filings"));
  EXPECT_EQ(KeyOf("/v1/companies?search=APPLE"), KeyOf("/v1/companies?search=apple"));
  EXPECT_EQ(KeyOf("/v1/companies/AAPL/statements/income?period=annual&limit=10"), KeyOf("/v1/companies/AAPL/statements/income"));
  // Different questions, different keys.
  EXPECT_NE(KeyOf("/v1/companies/AAPL/filings?limit=11"), KeyOf("/v1/companies/AAPL/filings?limit=10"));
  EXPECT_NE(KeyOf("/v1/companies/AAPL/facts"), KeyOf("/v1/companies/AAPL"));
  EXPECT_NE(KeyOf("/v1/companies/AAPL/concepts/us-gaap/Assets"), KeyOf("/v1/companies/AAPL/concepts/us-gaap/Asset"));
}

TEST(RouteValidationTest, ProbesTakeAnyQuery) {
  // Health, readiness and metrics never read their query: a probe's extra parameter is no error.
  for (const std::string target : {"/health?x=1", "/ready?%FF", "/metrics?name[]=a"}) {
    const RouteMatch match = MatchRoute(RequestFor(target).raw_path);
    ASSERT_NE(match.route, nullptr) << target;
    EXPECT_NE(match.route->kind, RouteKind::kData) << target;
  }
}

}  // namespace
}  // namespace financialapi::service
