#include "financialapi/service/routes.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>

#include "financialapi/common/strings.h"
#include "financialapi/store/queries.h"
#include "financialapi/store/statements.h"

namespace financialapi::service {
namespace {

using nlohmann::json;

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool AllOf(std::string_view text, bool (*allowed)(char)) {
  for (const char c : text) {
    if (!allowed(c)) return false;
  }
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z'); }
bool IsTaxonomyChar(char c) { return IsLower(c) || IsDigit(c) || c == '-'; }
bool IsTagChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }
bool IsUnitChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.'; }
bool IsFormChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '/' || c == ' '; }

Status ValidateTaxonomy(std::string_view taxonomy) {
  if (taxonomy.empty() || taxonomy.size() > 32 || !IsLower(taxonomy[0]) || !AllOf(taxonomy, IsTaxonomyChar)) {
    return InvalidArgument("malformed taxonomy '" + std::string(taxonomy) +
                           "': lower-case letters, digits and '-', like us-gaap or ifrs-full");
  }
  return Status::Ok();
}

Status ValidateTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 200 || !IsAlpha(tag[0]) || !AllOf(tag, IsTagChar)) {
    return InvalidArgument("malformed concept tag '" + std::string(tag) + "': letters, digits and '_', like Assets");
  }
  return Status::Ok();
}

// SEC writes "USD/shares" as "USD-per-shares" in URLs.
StatusOr<std::string> UnitFromUrl(std::string_view unit) {
  if (unit.empty() || unit.size() > 64 || !AllOf(unit, IsUnitChar)) {
    return InvalidArgument("malformed unit '" + std::string(unit) + "': like USD, shares or USD-per-shares");
  }
  std::string out(unit);
  for (std::size_t at = out.find("-per-"); at != std::string::npos; at = out.find("-per-", at + 1)) {
    out.replace(at, 5, "/");
  }
  return out;
}

// CY2024, CY2024Q4 (durations) and CY2024Q4I, CY2024I (instants).
Status ValidateFramePeriod(std::string_view period) {
  std::string_view rest = period;
  bool ok = rest.size() >= 6 && rest.starts_with("CY") && AllOf(rest.substr(2, 4), IsDigit);
  if (ok) {
    rest.remove_prefix(6);
    if (rest.size() >= 2 && rest[0] == 'Q' && rest[1] >= '1' && rest[1] <= '4') rest.remove_prefix(2);
    if (rest == "I") rest.remove_prefix(1);
    ok = rest.empty();
  }
  if (!ok) {
    return InvalidArgument("malformed period '" + std::string(period) +
                           "': CY2024 (year), CY2024Q4 (quarter) or CY2024Q4I (instant)");
  }
  return Status::Ok();
}

// "CIK##########" exactly, as in SEC's paths.
StatusOr<std::int64_t> SecCik(std::string_view text) {
  if (text.size() != 13 || !text.starts_with("CIK") || !AllOf(text.substr(3), IsDigit)) {
    return InvalidArgument("malformed CIK '" + std::string(text) + "': CIK followed by exactly 10 digits");
  }
  std::int64_t cik = 0;
  std::from_chars(text.data() + 3, text.data() + text.size(), cik);
  if (cik == 0) return InvalidArgument("malformed CIK '" + std::string(text) + "': must be positive");
  return cik;
}

StatusOr<std::string_view> StripJson(std::string_view segment) {
  if (!segment.ends_with(".json")) return NotFound("not found: SEC paths end in .json");
  return segment.substr(0, segment.size() - 5);
}

StatusOr<int> IntParameter(const http::Request& request, std::string_view name, int fallback, int min, int max) {
  const auto text = request.QueryValue(name);
  if (!text) return fallback;
  int value = 0;
  // from_chars refuses what does not fit an int (99999999999999999999, 1e400): no wrap, no overflow.
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return InvalidArgument("parameter " + std::string(name) + " must be an integer " + std::to_string(min) + ".." +
                           std::to_string(max) + ", got '" + std::string(*text) + "'");
  }
  return value;
}

// Exactly YYYY-MM-DD with a year 0001..9999: PostgreSQL's date type holds all of those, and refuses
// year 0, signs and anything partly numeric ("2024-1a-01"), which would otherwise reach it.
StatusOr<std::optional<std::string>> DateParameter(const http::Request& request, std::string_view name) {
  const auto text = request.QueryValue(name);
  if (!text) return std::optional<std::string>();
  const auto bad = [&] {
    return InvalidArgument("parameter " + std::string(name) + " must be a date YYYY-MM-DD (year 0001-9999), got '" +
                           std::string(*text) + "'");
  };
  const std::string_view date = *text;
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return bad();
  for (const std::size_t at : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (!IsDigit(date[at])) return bad();
  }
  int y = 0;
  unsigned m = 0, d = 0;
  std::from_chars(date.data(), date.data() + 4, y);
  std::from_chars(date.data() + 5, date.data() + 7, m);
  std::from_chars(date.data() + 8, date.data() + 10, d);
  if (y < 1 || !std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)).ok()) {
    return bad();
  }
  return std::optional<std::string>(std::string(date));
}

// One cache key per company however it was named (AAPL, aapl, 320193, CIK0000320193).
std::string CompanyKey(const store::CompanyId& id) { return id.cik ? std::to_string(*id.cik) : id.ticker; }


bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// --- one handler per data endpoint ---------------------------------------------------------------------

StatusOr<PreparedQuery> Search(const RouteArguments& in) {
  const auto search = in.request.QueryValue("search");
  if (!search || search->empty() || search->size() > 100) {
    return InvalidArgument("parameter search is required: a name prefix of 1-100 characters");
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(const int limit, IntParameter(in.request, "limit", 20, 1, 100));
  FINANCIALAPI_ASSIGN_OR_RETURN(const int offset, IntParameter(in.request, "offset", 0, 0, 1'000'000));
  std::string prefix(*search);
  // The search ignores case; so does its cache key.
  return PreparedQuery{
      .cache_key = "search|" + AsciiLower(prefix) + "|" + std::to_string(limit) + "|" + std::to_string(offset),
      .run = [prefix, limit, offset](db::PostgresConnection& c) { return store::SearchCompanies(c, prefix, limit, offset); }};
}

StatusOr<PreparedQuery> CompanyProfile(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto id, store::ParseCompanyId(in.path[0]));
  return PreparedQuery{.cache_key = "company|" + CompanyKey(id), .run = [id](db::PostgresConnection& c) -> StatusOr<json> {
                         FINANCIALAPI_ASSIGN_OR_RETURN(auto company, store::ResolveCompany(c, id));
                         return store::CompanyProfile(c, company);
                       }};
}

StatusOr<PreparedQuery> CompanyFacts(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto id, store::ParseCompanyId(in.path[0]));
  return PreparedQuery{.cache_key = "facts|" + CompanyKey(id), .run = [id](db::PostgresConnection& c) -> StatusOr<json> {
                         FINANCIALAPI_ASSIGN_OR_RETURN(auto company, store::ResolveCompany(c, id));
                         return store::CompanyFacts(c, company.cik);
                       }};
}

StatusOr<PreparedQuery> Filings(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto id, store::ParseCompanyId(in.path[0]));
  store::FilingFilter filter;
  FINANCIALAPI_ASSIGN_OR_RETURN(filter.limit, IntParameter(in.request, "limit", 100, 1, 1000));
  FINANCIALAPI_ASSIGN_OR_RETURN(filter.offset, IntParameter(in.request, "offset", 0, 0, 1'000'000));
  FINANCIALAPI_ASSIGN_OR_RETURN(filter.from, DateParameter(in.request, "from"));
  FINANCIALAPI_ASSIGN_OR_RETURN(filter.to, DateParameter(in.request, "to"));
  if (const auto forms = in.request.QueryValue("form"); forms && !forms->empty()) {
    for (const std::string_view form : SplitAndTrim(*forms, ',')) {
      if (form.empty() || form.size() > 20 || !AllOf(form, IsFormChar) || filter.forms.size() >= 20) {
        return InvalidArgument("parameter form must be up to 20 comma-separated form types like 10-K, got '" +
                               std::string(*forms) + "'");
      }
      filter.forms.emplace_back(form);
    }
    // The same set in another order, or with repeats, is the same query: one cache key.
    std::sort(filter.forms.begin(), filter.forms.end());
    filter.forms.erase(std::unique(filter.forms.begin(), filter.forms.end()), filter.forms.end());
  }
  std::string cache_key = "filings|" + CompanyKey(id) + "|" + std::to_string(filter.limit) + "|" +
                          std::to_string(filter.offset) + "|" + filter.from.value_or("") + "|" + filter.to.value_or("") + "|";
  for (const auto& form : filter.forms) cache_key += form + ",";
  return PreparedQuery{.cache_key = std::move(cache_key), .run = [id, filter](db::PostgresConnection& c) -> StatusOr<json> {
                         FINANCIALAPI_ASSIGN_OR_RETURN(auto company, store::ResolveCompany(c, id));
                         return store::Filings(c, company, filter);
                       }};
}

StatusOr<PreparedQuery> ConceptOf(const store::CompanyId& id, std::string_view taxonomy, std::string_view tag) {
  FINANCIALAPI_RETURN_IF_ERROR(ValidateTaxonomy(taxonomy));
  FINANCIALAPI_RETURN_IF_ERROR(ValidateTag(tag));
  std::string taxonomy_text(taxonomy), tag_text(tag);
  return PreparedQuery{.cache_key = "concept|" + CompanyKey(id) + "|" + taxonomy_text + "|" + tag_text,
                       .run = [id, taxonomy_text, tag_text](db::PostgresConnection& c) -> StatusOr<json> {
                         FINANCIALAPI_ASSIGN_OR_RETURN(auto company, store::ResolveCompany(c, id));
                         return store::CompanyConcept(c, company.cik, taxonomy_text, tag_text);
                       }};
}

StatusOr<PreparedQuery> Concept(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto id, store::ParseCompanyId(in.path[0]));
  return ConceptOf(id, in.path[1], in.path[2]);
}

StatusOr<PreparedQuery> SecCompanyConcept(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::string_view tag, StripJson(in.path[2]));
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::int64_t cik, SecCik(in.path[0]));
  return ConceptOf(store::CompanyId{.cik = cik, .ticker = {}}, in.path[1], tag);
}

StatusOr<PreparedQuery> FrameOf(std::string_view taxonomy, std::string_view tag, std::string_view unit_in_url,
                                std::string_view period) {
  FINANCIALAPI_RETURN_IF_ERROR(ValidateTaxonomy(taxonomy));
  FINANCIALAPI_RETURN_IF_ERROR(ValidateTag(tag));
  FINANCIALAPI_ASSIGN_OR_RETURN(std::string unit, UnitFromUrl(unit_in_url));
  FINANCIALAPI_RETURN_IF_ERROR(ValidateFramePeriod(period));
  std::string taxonomy_text(taxonomy), tag_text(tag), uom(unit_in_url), period_text(period);
  return PreparedQuery{.cache_key = "frame|" + taxonomy_text + "|" + tag_text + "|" + uom + "|" + period_text,
                       .run = [=](db::PostgresConnection& c) {
                         return store::Frame(c, taxonomy_text, tag_text, unit, uom, period_text);
                       }};
}

StatusOr<PreparedQuery> Frame(const RouteArguments& in) { return FrameOf(in.path[0], in.path[1], in.path[2], in.path[3]); }

StatusOr<PreparedQuery> SecFrame(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::string_view period, StripJson(in.path[3]));
  return FrameOf(in.path[0], in.path[1], in.path[2], period);
}

StatusOr<PreparedQuery> Statement(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto id, store::ParseCompanyId(in.path[0]));
  const std::string& statement = in.path[1];
  const auto kind = store::ParseStatementKind(statement);
  if (!kind) return InvalidArgument("unknown statement '" + statement + "': income, balance or cashflow");
  const std::string period_text(in.request.QueryValue("period").value_or("annual"));
  const auto period = store::ParsePeriodKind(period_text);
  if (!period) return InvalidArgument("parameter period must be annual or quarterly, got '" + period_text + "'");
  FINANCIALAPI_ASSIGN_OR_RETURN(const int limit, IntParameter(in.request, "limit", 10, 1, 40));
  return PreparedQuery{
      .cache_key = "statement|" + CompanyKey(id) + "|" + statement + "|" + period_text + "|" + std::to_string(limit),
      .run = [id, kind = *kind, period = *period, limit](db::PostgresConnection& c) -> StatusOr<json> {
        FINANCIALAPI_ASSIGN_OR_RETURN(auto company, store::ResolveCompany(c, id));
        return store::Statement(c, company, kind, period, limit);
      }};
}

StatusOr<PreparedQuery> SecCompanyFacts(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::string_view name, StripJson(in.path[0]));
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::int64_t cik, SecCik(name));
  return PreparedQuery{.cache_key = "companyfacts|" + std::to_string(cik),
                       .run = [cik](db::PostgresConnection& c) { return store::CompanyFacts(c, cik); }};
}

StatusOr<PreparedQuery> SecSubmissions(const RouteArguments& in) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::string_view document, StripJson(in.path[0]));
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::int64_t cik, SecCik(document.substr(0, std::min<std::size_t>(13, document.size()))));
  if (document.size() == 13) {
    return PreparedQuery{.cache_key = "submissions|" + std::to_string(cik),
                         .run = [cik](db::PostgresConnection& c) { return store::Submissions(c, cik); }};
  }
  const std::string_view suffix = document.substr(13);
  if (!suffix.starts_with("-submissions-") || suffix.size() != 16 || !AllOf(suffix.substr(13), IsDigit)) {
    return InvalidArgument("malformed submissions page '" + in.path[0] + "': CIK##########-submissions-NNN.json");
  }
  std::string page = in.path[0];
  return PreparedQuery{.cache_key = "submissions-page|" + page,
                       .run = [cik, page](db::PostgresConnection& c) { return store::SubmissionsPage(c, cik, page); }};
}

std::vector<Route> BuildRoutes() {
  std::vector<Route> routes = {
      {.name = "/health", .kind = RouteKind::kHealth},
      {.name = "/ready", .kind = RouteKind::kReady},
      {.name = "/metrics", .kind = RouteKind::kMetrics},
      {.name = "/v1/companies", .query_parameters = {"search", "limit", "offset"}, .handler = Search},
      {.name = "/v1/companies/{id}", .handler = CompanyProfile},
      {.name = "/v1/companies/{id}/filings", .query_parameters = {"form", "from", "to", "limit", "offset"}, .handler = Filings},
      {.name = "/v1/companies/{id}/facts", .handler = CompanyFacts},
      {.name = "/v1/companies/{id}/concepts/{taxonomy}/{tag}", .handler = Concept},
      {.name = "/v1/companies/{id}/statements/{statement}", .query_parameters = {"period", "limit"}, .handler = Statement},
      {.name = "/v1/frames/{taxonomy}/{tag}/{unit}/{period}", .handler = Frame},
      {.name = "/api/xbrl/companyfacts/{cik}", .handler = SecCompanyFacts},
      {.name = "/api/xbrl/companyconcept/{cik}/{taxonomy}/{tag}", .handler = SecCompanyConcept},
      {.name = "/api/xbrl/frames/{taxonomy}/{tag}/{unit}/{period}", .handler = SecFrame},
      {.name = "/submissions/{document}", .handler = SecSubmissions},
  };
  for (Route& route : routes) route.segments = Split(route.name);
  return routes;
}

bool IsPlaceholder(std::string_view segment) { return segment.starts_with('{') && segment.ends_with('}'); }

}  // namespace

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = BuildRoutes();
  return routes;
}

RouteMatch MatchRoute(std::string_view raw_path) {
  const std::vector<std::string_view> segments = Split(raw_path);
  for (const Route& route : Routes()) {
    if (route.segments.size() != segments.size()) continue;
    RouteMatch match{.route = &route, .raw_values = {}};
    for (std::size_t i = 0; i < segments.size() && match.route; ++i) {
      if (IsPlaceholder(route.segments[i])) {
        match.raw_values.push_back(segments[i]);
      } else if (route.segments[i] != segments[i]) {
        match.route = nullptr;
      }
    }
    if (match.route) return match;
  }
  return {};
}

StatusOr<PreparedQuery> PrepareQuery(const RouteMatch& match, const http::Request& request) {
  if (!match.route || match.route->kind != RouteKind::kData) return NotFound("no such endpoint");
  const Route& route = *match.route;
  RouteArguments arguments{.path = {}, .request = request};
  std::size_t value_index = 0;
  for (const std::string_view segment : route.segments) {
    if (!IsPlaceholder(segment)) continue;
    const std::string_view raw = match.raw_values[value_index++];
    std::string decoded;
    // Text PostgreSQL would refuse (not UTF-8) or truncate (NUL) stops here, as a client error.
    if (!PercentDecode(raw, false, decoded) || !IsUtf8(decoded) || HasControlCharacter(decoded)) {
      return InvalidArgument("malformed " + std::string(segment) + " '" + std::string(raw) +
                             "': UTF-8 text without control characters");
    }
    arguments.path.push_back(std::move(decoded));
  }
  for (std::size_t i = 0; i < request.query.size(); ++i) {
    const auto& [name, value] = request.query[i];
    if (std::find(route.query_parameters.begin(), route.query_parameters.end(), name) == route.query_parameters.end()) {
      std::string accepted = route.query_parameters.empty() ? "none" : "";
      for (const std::string_view known : route.query_parameters) accepted += (accepted.empty() ? "" : ", ") + std::string(known);
      // Refused rather than ignored: each made-up parameter would be a cache key of its own.
      return InvalidArgument("unknown parameter '" + name + "' for " + std::string(route.name) + " (accepted: " + accepted + ")");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (request.query[j].first == name) return InvalidArgument("parameter " + name + " is given more than once");
    }
    if (!IsUtf8(value) || HasControlCharacter(value)) {
      return InvalidArgument("parameter " + name + " must be UTF-8 text without control characters");
    }
  }
  return route.handler(arguments);
}

}  // namespace financialapi::service
