#include "financialapi/service/api.h"

#include <charconv>
#include <cstdio>
#include <chrono>
#include <vector>

#include "financialapi/common/sha256.h"
#include "financialapi/common/strings.h"
#include "financialapi/db/postgres.h"
#include "financialapi/store/queries.h"
#include "financialapi/store/schema.h"
#include "financialapi/store/statements.h"

namespace financialapi::service {
namespace {

using nlohmann::json;

enum class Endpoint {
  kHealth, kReady, kMetrics, kSearch, kCompany, kFilings, kFacts, kConcept, kStatement, kFrame,
  kSecCompanyFacts, kSecCompanyConcept, kSecFrame, kSecSubmissions, kNotFound
};

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
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return InvalidArgument("parameter " + std::string(name) + " must be an integer " + std::to_string(min) + ".." +
                           std::to_string(max) + ", got '" + std::string(*text) + "'");
  }
  return value;
}

StatusOr<std::optional<std::string>> DateParameter(const http::Request& request, std::string_view name) {
  const auto text = request.QueryValue(name);
  if (!text) return std::optional<std::string>();
  const auto bad = [&] {
    return InvalidArgument("parameter " + std::string(name) + " must be a date YYYY-MM-DD, got '" + std::string(*text) + "'");
  };
  if (text->size() != 10 || (*text)[4] != '-' || (*text)[7] != '-') return bad();
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::from_chars(text->data(), text->data() + 4, y).ec != std::errc() ||
      std::from_chars(text->data() + 5, text->data() + 7, m).ec != std::errc() ||
      std::from_chars(text->data() + 8, text->data() + 10, d).ec != std::errc() ||
      !std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)).ok()) {
    return bad();
  }
  return std::optional<std::string>(std::string(*text));
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kTooManyRequests: return 429;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout: return 503;
    default: return 500;
  }
}

http::Response ErrorFor(const Status& status) { return http::ErrorResponse(HttpStatusFor(status), status.message()); }

// One cache key per company however it was named (AAPL, aapl, 320193, CIK0000320193).
std::string CompanyKey(const store::CompanyId& id) { return id.cik ? std::to_string(*id.cik) : id.ticker; }

}  // namespace

struct FinancialApi::Route {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string_view name = "unmatched";  // route template, the metrics' endpoint label
  std::vector<std::string_view> params;
};

StatusOr<std::unique_ptr<FinancialApi>> FinancialApi::Create(const ServiceConfig& config, const Clock& clock) {
  std::unique_ptr<FinancialApi> api(new FinancialApi(config, clock));
  std::unique_ptr<RedisCache> redis;
  if (config.redis_url && config.cache_ttl_seconds > 0) {
    FINANCIALAPI_ASSIGN_OR_RETURN(auto endpoint, db::ParseRedisUrl(*config.redis_url));
    redis = std::make_unique<RedisCache>(endpoint, config.worker_threads, config.cache_key_prefix);
  }
  std::unique_ptr<LocalCache> local;
  if (config.local_cache_ttl_seconds > 0 && config.local_cache_max_bytes > 0) {
    local = std::make_unique<LocalCache>(config.local_cache_max_bytes, std::chrono::seconds(config.local_cache_ttl_seconds),
                                         clock);
  }
  FinancialApi* raw = api.get();
  CacheObserver observer{
      .on_lookup = [raw](std::string_view layer, std::string_view result) { raw->metrics_.ObserveCacheLookup(layer, result); },
      .on_redis_error =
          [raw](const Status& error) {
            raw->metrics_.SetDependencyUp("redis", false);
            raw->log_.Debug("redis cache unavailable, answering from PostgreSQL", {{"error", error.message()}});
          },
  };
  api->cache_ = std::make_unique<ResponseCache>(std::move(local), std::move(redis), config.cache_ttl_seconds,
                                                config.gzip_min_bytes, std::move(observer));
  return api;
}

namespace {

// ConfigFromEnvironment has refused a bad list already; a config built in code with one trusts nobody.
TrustedProxies TrustedProxiesOrNone(const std::string& list) {
  auto parsed = TrustedProxies::Parse(list);
  return parsed.ok() ? *parsed : TrustedProxies();
}

}  // namespace

FinancialApi::FinancialApi(const ServiceConfig& config, const Clock& clock)
    : config_(config),
      clock_(clock),
      log_(LogFields{{"component", "financial-api-server"}}),
      database_({.size = config.db_pool_size, .acquire_timeout = std::chrono::milliseconds(2000),
                 .retry_after = std::chrono::seconds(1)},
                [url = config.database_url, timeout = config.statement_timeout_ms, prepare = config.prepared_statements]()
                    -> StatusOr<std::unique_ptr<db::PostgresConnection>> {
                  FINANCIALAPI_ASSIGN_OR_RETURN(auto connection, db::PostgresConnection::Connect(url, 2));
                  // A query that runs away holds a worker thread: bound it. Sent before statements are
                  // prepared, so this one-off is not kept as a named statement on the server.
                  FINANCIALAPI_RETURN_IF_ERROR(
                      connection->Execute("SET statement_timeout = " + std::to_string(timeout)).status());
                  connection->set_prepare_statements(prepare);
                  return connection;
                }),
      rate_limiter_(config.rate_limit_rps, config.rate_limit_burst, clock),
      trusted_proxies_(TrustedProxiesOrNone(config.trusted_proxies)),
      api_keys_(config.api_keys_file ? std::optional<std::filesystem::path>(*config.api_keys_file) : std::nullopt,
                std::chrono::seconds(5), clock) {
  metrics_.SetDatabasePool(0, config.db_pool_size);
}

FinancialApi::~FinancialApi() { StopBackground(); }

StatusOr<json> FinancialApi::WithDatabase(const std::function<StatusOr<json>(db::PostgresConnection&)>& query) {
  auto lease = database_.Acquire();
  metrics_.SetDatabasePool(database_.InUse(), database_.size());
  if (!lease.ok()) {
    metrics_.SetDependencyUp("postgres", false);
    return Unavailable("PostgreSQL is unavailable: " + lease.status().message());
  }
  auto result = query(**lease);
  if (!result.ok()) {
    const Status& error = result.status();
    if (error.code() == StatusCode::kUnavailable) {
      lease->Discard();
      metrics_.SetDependencyUp("postgres", false);
      return Unavailable("PostgreSQL is unavailable: " + error.message());
    }
    if (error.reason() == db::kSqlStateUndefinedTable) {
      return Unavailable("the database schema is not set up yet (financial-api-server migrate)");
    }
    if (error.reason() == db::kSqlStateQueryCanceled) {
      return Unavailable("the query took longer than " + std::to_string(config_.statement_timeout_ms) + " ms");
    }
    if (error.code() != StatusCode::kNotFound) {
      log_.Error("query failed", {{"error", error.message()}});
      return Internal("internal error");
    }
  }
  return result;
}

http::Response FinancialApi::Serve(const http::Request& request, const std::string& cache_key,
                                   const std::function<StatusOr<json>(db::PostgresConnection&)>& query) {
  auto answer = cache_->GetOrCompute(cache_key, [&]() -> StatusOr<std::string> {
    FINANCIALAPI_ASSIGN_OR_RETURN(auto document, WithDatabase(query));
    return document.dump(-1, ' ', false, json::error_handler_t::replace);
  });
  if (!answer.ok()) return ErrorFor(answer.status());
  http::Response response;
  const CachedBody& body = *answer->body;
  if (body.gzip && http::AcceptsGzip(request)) {
    response.shared_body = body.gzip;
    response.headers.push_back({"Content-Encoding", "gzip"});
  } else {
    response.shared_body = body.body;
  }
  if (body.gzip) response.headers.push_back({"Vary", "Accept-Encoding"});
  response.headers.push_back({"X-Cache", std::string(CacheSourceName(answer->source))});
  return response;
}

http::Response FinancialApi::Handle(const http::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  const Route route = Match(request.path);
  std::string endpoint(route.name);
  http::Response response;
  if (request.method != "GET" && request.method != "HEAD") {
    response = http::ErrorResponse(405, "method " + request.method + " is not allowed: use GET");
    response.headers.push_back({"Allow", "GET, HEAD"});
  } else {
    response = Dispatch(request, route, endpoint);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.ObserveRequest(request.method == "HEAD" ? "HEAD" : (request.method == "GET" ? "GET" : "OTHER"), endpoint,
                          response.status, seconds);
  if (response.status >= 500) {
    log_.Warn("request failed", {{"path", request.path}, {"status", std::to_string(response.status)},
                                 {"error", std::string(response.Body())}});
  }
  return response;
}

http::Response FinancialApi::Dispatch(const http::Request& request, const Route& route, std::string& endpoint) {
  switch (route.endpoint) {
    case Endpoint::kHealth: return http::Response{.status = 200, .body = R"({"status":"ok"})"};
    case Endpoint::kReady: return Readiness();
    case Endpoint::kMetrics: {
      metrics_.SetDatabasePool(database_.InUse(), database_.size());
      http::Response response{.status = 200, .content_type = "text/plain; version=0.0.4", .body = metrics_.Serialize()};
      return response;
    }
    case Endpoint::kNotFound:
      return http::ErrorResponse(404, "no such endpoint: " + request.path + " (see docs/api.md)");
    default: break;
  }

  // Data endpoints: key, then rate limit, then input.
  std::optional<std::string_view> key = request.HeaderValue("x-api-key");
  if (!key) {
    if (const auto authorization = request.HeaderValue("authorization"); authorization && authorization->starts_with("Bearer ")) {
      key = authorization->substr(7);
    }
  }
  if (const Status allowed = api_keys_.Check(key); !allowed.ok()) return ErrorFor(allowed);
  // Keys are not kept in the clear, here either.
  std::string client;
  if (key) {
    client = "key:" + Sha256Hex(*key);
  } else if (trusted_proxies_.empty()) {
    client = "ip:" + request.remote_address;
  } else {
    std::string forwarded_for;  // several X-Forwarded-For headers are one list, in arrival order
    for (const http::Header& header : request.headers) {
      if (header.name == "x-forwarded-for") forwarded_for += (forwarded_for.empty() ? "" : ",") + header.value;
    }
    client = "ip:" + trusted_proxies_.ClientAddress(request.remote_address, forwarded_for);
  }
  if (const auto decision = rate_limiter_.Admit(client); !decision.allowed) {
    metrics_.CountRateLimited();
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", config_.rate_limit_rps);
    auto response = http::ErrorResponse(429, "rate limit of " + std::string(rate) +
                                                 " requests/s exceeded; retry after " +
                                                 std::to_string(decision.retry_after_seconds) + " s");
    response.headers.push_back({"Retry-After", std::to_string(decision.retry_after_seconds)});
    return response;
  }

  const auto& p = route.params;
  const auto company_of = [](std::string_view id) { return store::ParseCompanyId(id); };
  const auto resolve = [](db::PostgresConnection& c, const store::CompanyId& id) { return store::ResolveCompany(c, id); };
  switch (route.endpoint) {
    case Endpoint::kSearch: {
      const auto search = request.QueryValue("search");
      if (!search || search->empty() || search->size() > 100) {
        return ErrorFor(InvalidArgument("parameter search is required: a name prefix of 1-100 characters"));
      }
      auto limit = IntParameter(request, "limit", 20, 1, 100);
      if (!limit.ok()) return ErrorFor(limit.status());
      auto offset = IntParameter(request, "offset", 0, 0, 1'000'000);
      if (!offset.ok()) return ErrorFor(offset.status());
      const std::string prefix(*search);
      // The search ignores case; so does its cache key.
      return Serve(request, "search|" + AsciiLower(prefix) + "|" + std::to_string(*limit) + "|" + std::to_string(*offset),
                   [&](db::PostgresConnection& c) { return store::SearchCompanies(c, prefix, *limit, *offset); });
    }
    case Endpoint::kCompany:
    case Endpoint::kFacts: {
      auto id = company_of(p[0]);
      if (!id.ok()) return ErrorFor(id.status());
      const bool facts = route.endpoint == Endpoint::kFacts;
      return Serve(request, (facts ? "facts|" : "company|") + CompanyKey(*id),
                   [&](db::PostgresConnection& c) -> StatusOr<json> {
                     FINANCIALAPI_ASSIGN_OR_RETURN(auto company, resolve(c, *id));
                     return facts ? store::CompanyFacts(c, company.cik) : store::CompanyProfile(c, company);
                   });
    }
    case Endpoint::kFilings: {
      auto id = company_of(p[0]);
      if (!id.ok()) return ErrorFor(id.status());
      store::FilingFilter filter;
      auto limit = IntParameter(request, "limit", 100, 1, 1000);
      if (!limit.ok()) return ErrorFor(limit.status());
      auto offset = IntParameter(request, "offset", 0, 0, 1'000'000);
      if (!offset.ok()) return ErrorFor(offset.status());
      auto from = DateParameter(request, "from");
      if (!from.ok()) return ErrorFor(from.status());
      auto to = DateParameter(request, "to");
      if (!to.ok()) return ErrorFor(to.status());
      filter.limit = *limit;
      filter.offset = *offset;
      filter.from = *from;
      filter.to = *to;
      if (const auto forms = request.QueryValue("form"); forms && !forms->empty()) {
        for (const std::string_view form : SplitAndTrim(*forms, ',')) {
          if (form.empty() || form.size() > 20 || !AllOf(form, IsFormChar) || filter.forms.size() >= 20) {
            return ErrorFor(InvalidArgument("parameter form must be up to 20 comma-separated form types like 10-K, got '" +
                                            std::string(*forms) + "'"));
          }
          filter.forms.emplace_back(form);
        }
      }
      std::string cache_key = "filings|" + CompanyKey(*id) + "|" + std::to_string(filter.limit) + "|" +
                        std::to_string(filter.offset) + "|" + filter.from.value_or("") + "|" + filter.to.value_or("") + "|";
      for (const auto& form : filter.forms) cache_key += form + ",";
      return Serve(request, cache_key, [&](db::PostgresConnection& c) -> StatusOr<json> {
        FINANCIALAPI_ASSIGN_OR_RETURN(auto company, resolve(c, *id));
        return store::Filings(c, company, filter);
      });
    }
    case Endpoint::kConcept:
    case Endpoint::kSecCompanyConcept: {
      const bool sec = route.endpoint == Endpoint::kSecCompanyConcept;
      std::string_view tag = p[2];
      if (sec) {
        auto stripped = StripJson(tag);
        if (!stripped.ok()) return ErrorFor(stripped.status());
        tag = *stripped;
      }
      store::CompanyId id;
      if (sec) {
        auto cik = SecCik(p[0]);
        if (!cik.ok()) return ErrorFor(cik.status());
        id.cik = *cik;
      } else {
        auto parsed = company_of(p[0]);
        if (!parsed.ok()) return ErrorFor(parsed.status());
        id = *parsed;
      }
      if (const Status s = ValidateTaxonomy(p[1]); !s.ok()) return ErrorFor(s);
      if (const Status s = ValidateTag(tag); !s.ok()) return ErrorFor(s);
      const std::string taxonomy(p[1]);
      const std::string tag_text(tag);
      return Serve(request, "concept|" + CompanyKey(id) + "|" + taxonomy + "|" + tag_text,
                   [&](db::PostgresConnection& c) -> StatusOr<json> {
                     FINANCIALAPI_ASSIGN_OR_RETURN(auto company, resolve(c, id));
                     return store::CompanyConcept(c, company.cik, taxonomy, tag_text);
                   });
    }
    case Endpoint::kFrame:
    case Endpoint::kSecFrame: {
      std::string_view period = p[3];
      if (route.endpoint == Endpoint::kSecFrame) {
        auto stripped = StripJson(period);
        if (!stripped.ok()) return ErrorFor(stripped.status());
        period = *stripped;
      }
      if (const Status s = ValidateTaxonomy(p[0]); !s.ok()) return ErrorFor(s);
      if (const Status s = ValidateTag(p[1]); !s.ok()) return ErrorFor(s);
      auto unit = UnitFromUrl(p[2]);
      if (!unit.ok()) return ErrorFor(unit.status());
      if (const Status s = ValidateFramePeriod(period); !s.ok()) return ErrorFor(s);
      const std::string taxonomy(p[0]), tag(p[1]), uom(p[2]), period_text(period);
      return Serve(request, "frame|" + taxonomy + "|" + tag + "|" + uom + "|" + period_text,
                   [&](db::PostgresConnection& c) { return store::Frame(c, taxonomy, tag, *unit, uom, period_text); });
    }
    case Endpoint::kStatement: {
      auto id = company_of(p[0]);
      if (!id.ok()) return ErrorFor(id.status());
      const auto kind = store::ParseStatementKind(p[1]);
      if (!kind) {
        return ErrorFor(InvalidArgument("unknown statement '" + std::string(p[1]) + "': income, balance or cashflow"));
      }
      const std::string period_text(request.QueryValue("period").value_or("annual"));
      const auto period = store::ParsePeriodKind(period_text);
      if (!period) return ErrorFor(InvalidArgument("parameter period must be annual or quarterly, got '" + period_text + "'"));
      auto limit = IntParameter(request, "limit", 10, 1, 40);
      if (!limit.ok()) return ErrorFor(limit.status());
      return Serve(request,
                   "statement|" + CompanyKey(*id) + "|" + std::string(p[1]) + "|" + period_text + "|" + std::to_string(*limit),
                   [&](db::PostgresConnection& c) -> StatusOr<json> {
                     FINANCIALAPI_ASSIGN_OR_RETURN(auto company, resolve(c, *id));
                     return store::Statement(c, company, *kind, *period, *limit);
                   });
    }
    case Endpoint::kSecCompanyFacts: {
      auto name = StripJson(p[0]);
      if (!name.ok()) return ErrorFor(name.status());
      auto cik = SecCik(*name);
      if (!cik.ok()) return ErrorFor(cik.status());
      return Serve(request, "companyfacts|" + std::to_string(*cik),
                   [&](db::PostgresConnection& c) { return store::CompanyFacts(c, *cik); });
    }
    case Endpoint::kSecSubmissions: {
      auto name = StripJson(p[0]);
      if (!name.ok()) return ErrorFor(name.status());
      const std::string_view document = *name;
      auto cik = SecCik(document.substr(0, std::min<std::size_t>(13, document.size())));
      if (!cik.ok()) return ErrorFor(cik.status());
      if (document.size() == 13) {
        return Serve(request, "submissions|" + std::to_string(*cik),
                     [&](db::PostgresConnection& c) { return store::Submissions(c, *cik); });
      }
      const std::string_view suffix = document.substr(13);
      if (!suffix.starts_with("-submissions-") || suffix.size() != 16 || !AllOf(suffix.substr(13), IsDigit)) {
        return ErrorFor(InvalidArgument("malformed submissions page '" + std::string(p[0]) +
                                        "': CIK##########-submissions-NNN.json"));
      }
      const std::string page(p[0]);
      return Serve(request, "submissions-page|" + page,
                   [&](db::PostgresConnection& c) { return store::SubmissionsPage(c, *cik, page); });
    }
    default: break;
  }
  endpoint = "unmatched";
  return http::ErrorResponse(404, "no such endpoint: " + request.path);
}

http::Response FinancialApi::Readiness() {
  if (shutting_down_) {
    return http::Response{.status = 503, .body = R"({"status":"shutting down"})"};
  }
  std::lock_guard lock(readiness_mutex_);
  const auto now = clock_.Now();
  // Probes from every kubelet and load balancer would otherwise each cost a query.
  if (readiness_ && now - readiness_checked_ < std::chrono::seconds(1)) return *readiness_;
  json report = {{"status", "ready"}};
  bool ready = true;
  const auto database = WithDatabase([this](db::PostgresConnection& c) -> StatusOr<json> {
    // The server applies the schema itself (idempotent, under an advisory lock), so a fresh database
    // becomes usable without a separate migration step; until then it is not ready.
    if (!schema_ready_) {
      FINANCIALAPI_RETURN_IF_ERROR(store::Migrate(c).status());
      schema_ready_ = true;
    }
    FINANCIALAPI_RETURN_IF_ERROR(c.Execute("SELECT 1").status());
    return json();
  });
  if (database.ok()) {
    report["postgres"] = {{"status", "up"}};
    metrics_.SetDependencyUp("postgres", true);
  } else {
    ready = false;
    report["postgres"] = {{"status", "down"}, {"detail", database.status().message()}};
  }
  if (RedisCache* redis = cache_->redis(); redis == nullptr) {
    report["redis"] = {{"status", "disabled"},
                       {"detail", config_.redis_url ? "caching is off (CACHE_TTL_SECONDS=0)" : "REDIS_URL is not set"}};
  } else if (const Status pong = redis->Ping(); pong.ok()) {
    report["redis"] = {{"status", "up"}};
    metrics_.SetDependencyUp("redis", true);
  } else {
    report["redis"] = {{"status", "down"}, {"detail", "serving from PostgreSQL: " + pong.message()}};
    metrics_.SetDependencyUp("redis", false);
  }
  if (const Status keys = api_keys_.FileStatus(); !keys.ok()) report["apiKeys"] = {{"status", "error"}, {"detail", keys.message()}};
  if (!ready) report["status"] = "unavailable";
  readiness_ = http::Response{.status = ready ? 200 : 503,
                              .body = report.dump(-1, ' ', false, json::error_handler_t::replace)};
  readiness_checked_ = now;
  return *readiness_;
}

void FinancialApi::RefreshGauges() {
  metrics_.SetDatabasePool(database_.InUse(), database_.size());
  if (RedisCache* redis = cache_->redis()) {
    if (auto memory = redis->ReadMemory(); memory.ok()) {
      metrics_.SetRedisMemory(static_cast<double>(memory->used_bytes), static_cast<double>(memory->max_bytes));
      metrics_.SetDependencyUp("redis", true);
    } else {
      metrics_.SetDependencyUp("redis", false);
    }
  }
}

void FinancialApi::StartBackground() {
  std::lock_guard lock(background_mutex_);
  if (background_.joinable()) return;
  background_stop_ = false;
  background_ = std::thread([this] {
    std::unique_lock wait_lock(background_mutex_);
    while (!background_stop_) {
      wait_lock.unlock();
      RefreshGauges();
      wait_lock.lock();
      background_wake_.wait_for(wait_lock, std::chrono::seconds(15), [this] { return background_stop_; });
    }
  });
}

void FinancialApi::StopBackground() {
  {
    std::lock_guard lock(background_mutex_);
    background_stop_ = true;
  }
  background_wake_.notify_all();
  if (background_.joinable()) background_.join();
}

FinancialApi::Route FinancialApi::Match(std::string_view path) {
  using R = FinancialApi::Route;
  const auto s = Split(path);
  const auto n = s.size();
  if (n == 1 && s[0] == "health") return R{Endpoint::kHealth, "/health", {}};
  if (n == 1 && s[0] == "ready") return R{Endpoint::kReady, "/ready", {}};
  if (n == 1 && s[0] == "metrics") return R{Endpoint::kMetrics, "/metrics", {}};
  if (n >= 2 && s[0] == "v1" && s[1] == "companies") {
    if (n == 2) return R{Endpoint::kSearch, "/v1/companies", {}};
    if (n == 3) return R{Endpoint::kCompany, "/v1/companies/{id}", {s[2]}};
    if (n == 4 && s[3] == "filings") return R{Endpoint::kFilings, "/v1/companies/{id}/filings", {s[2]}};
    if (n == 4 && s[3] == "facts") return R{Endpoint::kFacts, "/v1/companies/{id}/facts", {s[2]}};
    if (n == 6 && s[3] == "concepts") {
      return R{Endpoint::kConcept, "/v1/companies/{id}/concepts/{taxonomy}/{tag}", {s[2], s[4], s[5]}};
    }
    if (n == 5 && s[3] == "statements") return R{Endpoint::kStatement, "/v1/companies/{id}/statements/{statement}", {s[2], s[4]}};
  }
  if (n == 6 && s[0] == "v1" && s[1] == "frames") {
    return R{Endpoint::kFrame, "/v1/frames/{taxonomy}/{tag}/{unit}/{period}", {s[2], s[3], s[4], s[5]}};
  }
  if (n >= 3 && s[0] == "api" && s[1] == "xbrl") {
    if (n == 4 && s[2] == "companyfacts") return R{Endpoint::kSecCompanyFacts, "/api/xbrl/companyfacts/{cik}", {s[3]}};
    if (n == 6 && s[2] == "companyconcept") {
      return R{Endpoint::kSecCompanyConcept, "/api/xbrl/companyconcept/{cik}/{taxonomy}/{tag}", {s[3], s[4], s[5]}};
    }
    if (n == 7 && s[2] == "frames") {
      return R{Endpoint::kSecFrame, "/api/xbrl/frames/{taxonomy}/{tag}/{unit}/{period}", {s[3], s[4], s[5], s[6]}};
    }
  }
  if (n == 2 && s[0] == "submissions") return R{Endpoint::kSecSubmissions, "/submissions/{document}", {s[1]}};
  return R{};
}

}  // namespace financialapi::service
