#include "financialapi/store/queries.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace financialapi::store {
namespace {

const std::string& Value(const std::optional<std::string>& cell) {
  static const std::string kEmpty;
  return cell ? *cell : kEmpty;
}

json TextOrNull(const std::optional<std::string>& cell) { return cell ? json(*cell) : json(nullptr); }

std::int64_t ToInt(const std::optional<std::string>& cell) {
  std::int64_t value = 0;
  if (cell) std::from_chars(cell->data(), cell->data() + cell->size(), value);
  return value;
}

// LIKE treats % _ and \ specially; a user's prefix must match literally.
std::string EscapeLike(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}


// SEC's fact object: start only on durations, frame only where set, fy/fp always (possibly null).
json FactJson(const std::optional<std::string>& start, const std::optional<std::string>& end,
              const std::optional<std::string>& val, const std::optional<std::string>& accn,
              const std::optional<std::string>& fy, const std::optional<std::string>& fp,
              const std::optional<std::string>& form, const std::optional<std::string>& filed,
              const std::optional<std::string>& frame) {
  json fact = {{"end", Value(end)},    {"val", NumberFromNumeric(Value(val))},
               {"accn", Value(accn)},  {"fy", fy ? json(ToInt(fy)) : json(nullptr)},
               {"fp", TextOrNull(fp)}, {"form", Value(form)},
               {"filed", Value(filed)}};
  if (start) fact["start"] = *start;
  if (frame) fact["frame"] = *frame;
  return fact;
}

constexpr const char* kFactColumns = "f.start_date, f.end_date, f.val, f.accn, f.fy, f.fp, f.form, f.filed, f.frame";

json FactFromRow(const std::vector<std::optional<std::string>>& row, std::size_t first) {
  return FactJson(row[first], row[first + 1], row[first + 2], row[first + 3], row[first + 4], row[first + 5],
                  row[first + 6], row[first + 7], row[first + 8]);
}

Status UnknownTaxonomyOrConcept(db::PostgresConnection& connection, const std::string& taxonomy, const std::string& tag,
                                std::string_view what) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto known, connection.Execute("SELECT 1 FROM concepts WHERE taxonomy = $1 LIMIT 1", {taxonomy}));
  if (known.rows.empty()) return NotFound("unknown taxonomy '" + taxonomy + "'");
  return NotFound("no facts for " + taxonomy + ":" + tag + std::string(what));
}

}  // namespace

std::string TenDigitCik(std::int64_t cik) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%010lld", static_cast<long long>(cik));
  return buffer;
}

std::string PaddedCik(std::int64_t cik) { return "CIK" + TenDigitCik(cik); }

json NumberFromNumeric(std::string_view text) {
  if (text.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t integer = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
    if (error == std::errc() && end == text.data() + text.size()) return integer;
  }
  return std::strtod(std::string(text).c_str(), nullptr);
}

StatusOr<CompanyId> ParseCompanyId(std::string_view text) {
  std::string_view digits = text;
  if (digits.size() > 3 && (digits.substr(0, 3) == "CIK" || digits.substr(0, 3) == "cik")) digits.remove_prefix(3);
  const bool all_digits = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits) {
    if (digits.size() > 10) return InvalidArgument("malformed CIK '" + std::string(text) + "': at most 10 digits");
    std::int64_t cik = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), cik);
    if (cik == 0) return InvalidArgument("malformed CIK '" + std::string(text) + "': must be positive");
    return CompanyId{.cik = cik, .ticker = {}};
  }
  if (text.empty() || text.size() > 10) {
    return InvalidArgument("malformed company identifier '" + std::string(text) +
                           "': a ticker of 1-10 characters or a CIK of at most 10 digits");
  }
  std::string ticker;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '.' && c != '-') {
      return InvalidArgument("malformed company identifier '" + std::string(text) +
                             "': a ticker has only letters, digits, '.' and '-'");
    }
    ticker += static_cast<char>(std::toupper(u));
  }
  return CompanyId{.cik = std::nullopt, .ticker = std::move(ticker)};
}

StatusOr<Company> ResolveCompany(db::PostgresConnection& connection, const CompanyId& id) {
  if (id.cik) {
    FINANCIALAPI_ASSIGN_OR_RETURN(auto result, connection.Execute("SELECT cik, name FROM companies WHERE cik = $1",
                                                                  {std::to_string(*id.cik)}));
    if (result.rows.empty()) return NotFound("no company with CIK " + TenDigitCik(*id.cik));
    return Company{.cik = *id.cik, .name = Value(result.rows[0][1])};
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto result, connection.Execute("SELECT c.cik, c.name FROM tickers t JOIN companies c USING (cik) WHERE t.ticker = $1",
                                      {id.ticker}));
  if (result.rows.empty()) return NotFound("no company with ticker " + id.ticker);
  return Company{.cik = ToInt(result.rows[0][0]), .name = Value(result.rows[0][1])};
}

StatusOr<json> SearchCompanies(db::PostgresConnection& connection, std::string_view name_prefix, int limit, int offset) {
  const std::string pattern = EscapeLike(name_prefix) + "%";
  FINANCIALAPI_ASSIGN_OR_RETURN(auto total, connection.Execute("SELECT count(*) FROM companies WHERE name_lower LIKE lower($1)",
                                                               {pattern}));
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto rows, connection.Execute(
                     "SELECT c.cik, c.name, coalesce((SELECT json_agg(ticker ORDER BY position) FROM tickers t "
                     "WHERE t.cik = c.cik), '[]') FROM companies c WHERE c.name_lower LIKE lower($1) "
                     "ORDER BY (SELECT min(position) FROM tickers t WHERE t.cik = c.cik) NULLS LAST, c.name, c.cik "
                     "LIMIT $2 OFFSET $3",
                     {pattern, std::to_string(limit), std::to_string(offset)}));
  json companies = json::array();
  for (const auto& row : rows.rows) {
    companies.push_back({{"cik", ToInt(row[0])}, {"name", Value(row[1])}, {"tickers", json::parse(Value(row[2]))}});
  }
  return json{{"query", std::string(name_prefix)},
              {"total", ToInt(total.rows.at(0).at(0))},
              {"limit", limit},
              {"offset", offset},
              {"companies", std::move(companies)}};
}

StatusOr<json> CompanyProfile(db::PostgresConnection& connection, const Company& company) {
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto result,
      connection.Execute("SELECT c.submissions_profile, c.facts_entity_name IS NOT NULL, "
                         "(SELECT count(*) FROM filings f WHERE f.cik = c.cik), "
                         "coalesce((SELECT json_agg(ticker ORDER BY position) FROM tickers t WHERE t.cik = c.cik), '[]') "
                         "FROM companies c WHERE c.cik = $1",
                         {std::to_string(company.cik)}));
  if (result.rows.empty()) return NotFound("no company with CIK " + TenDigitCik(company.cik));
  const auto& row = result.rows[0];
  const json profile = row[0] ? json::parse(*row[0]) : json::object();
  const auto field = [&](const char* key) { return profile.contains(key) ? profile[key] : json(nullptr); };
  json tickers = profile.contains("tickers") ? profile["tickers"] : json::parse(Value(row[3]));
  return json{{"cik", company.cik},
              {"cikPadded", TenDigitCik(company.cik)},
              {"name", company.name},
              {"tickers", std::move(tickers)},
              {"exchanges", profile.contains("exchanges") ? profile["exchanges"] : json::array()},
              {"sic", field("sic")},
              {"sicDescription", field("sicDescription")},
              {"entityType", field("entityType")},
              {"category", field("category")},
              {"fiscalYearEnd", field("fiscalYearEnd")},
              {"stateOfIncorporation", field("stateOfIncorporation")},
              {"ein", field("ein")},
              {"phone", field("phone")},
              {"website", field("website")},
              {"addresses", field("addresses")},
              {"formerNames", field("formerNames")},
              {"hasFacts", Value(row[1]) == "t"},
              {"hasSubmissions", row[0].has_value()},
              {"filingCount", ToInt(row[2])}};
}

StatusOr<json> Filings(db::PostgresConnection& connection, const Company& company, const FilingFilter& filter) {
  // NULL parameters are passed as empty strings turned into NULL by NULLIF.
  const std::string params_sql =
      "WITH p AS (SELECT $1::bigint AS cik, NULLIF($2, '')::text[] AS forms, NULLIF($3, '')::date AS from_date, "
      "NULLIF($4, '')::date AS to_date) ";
  const std::vector<std::string> params = {std::to_string(company.cik),
                                           filter.forms.empty() ? std::string() : db::TextArrayLiteral(filter.forms),
                                           filter.from.value_or(""), filter.to.value_or("")};
  const std::string condition =
      " FROM filings f, p WHERE f.cik = p.cik AND (p.forms IS NULL OR f.form = ANY(p.forms)) "
      "AND (p.from_date IS NULL OR f.filing_date >= p.from_date) AND (p.to_date IS NULL OR f.filing_date <= p.to_date)";
  FINANCIALAPI_ASSIGN_OR_RETURN(auto total, connection.Execute(params_sql + "SELECT count(*)" + condition, params));
  auto page_params = params;
  page_params.push_back(std::to_string(filter.limit));
  page_params.push_back(std::to_string(filter.offset));
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto rows, connection.Execute(params_sql + "SELECT f.row" + condition +
                                        " ORDER BY f.filing_date DESC, f.accession_number DESC LIMIT $5 OFFSET $6",
                                    page_params));
  json filings = json::array();
  for (const auto& row : rows.rows) filings.push_back(json::parse(Value(row[0])));
  return json{{"cik", company.cik},
              {"total", ToInt(total.rows.at(0).at(0))},
              {"limit", filter.limit},
              {"offset", filter.offset},
              {"filings", std::move(filings)}};
}

StatusOr<json> CompanyFacts(db::PostgresConnection& connection, std::int64_t cik) {
  const std::string cik_text = std::to_string(cik);
  FINANCIALAPI_ASSIGN_OR_RETURN(auto company, connection.Execute("SELECT facts_entity_name FROM companies WHERE cik = $1",
                                                                 {cik_text}));
  if (company.rows.empty() || !company.rows[0][0]) return NotFound("no company facts for CIK " + TenDigitCik(cik));
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto rows, connection.Execute(std::string("SELECT co.taxonomy, co.tag, cc.label, cc.description, f.unit, ") +
                                        kFactColumns +
                                        " FROM company_concepts cc JOIN concepts co ON co.id = cc.concept_id "
                                        "LEFT JOIN facts f ON f.cik = cc.cik AND f.concept_id = cc.concept_id "
                                        "WHERE cc.cik = $1 ORDER BY cc.position, f.unit_position, f.position",
                                    {cik_text}));
  json facts = json::object();
  json* units = nullptr;
  const std::string* last_taxonomy = nullptr;
  const std::string* last_tag = nullptr;
  for (const auto& row : rows.rows) {
    if (last_taxonomy == nullptr || *last_taxonomy != Value(row[0]) || *last_tag != Value(row[1])) {
      json& concept_entry = facts[Value(row[0])][Value(row[1])];
      concept_entry = {{"label", TextOrNull(row[2])}, {"description", TextOrNull(row[3])}, {"units", json::object()}};
      units = &concept_entry["units"];
      last_taxonomy = &Value(row[0]);
      last_tag = &Value(row[1]);
    }
    if (!row[4]) continue;  // a concept without facts
    (*units)[*row[4]].push_back(FactFromRow(row, 5));
  }
  return json{{"cik", cik}, {"entityName", Value(company.rows[0][0])}, {"facts", std::move(facts)}};
}

StatusOr<json> CompanyConcept(db::PostgresConnection& connection, std::int64_t cik, const std::string& taxonomy,
                              const std::string& tag) {
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto rows, connection.Execute(std::string("SELECT c.facts_entity_name, cc.label, cc.description, f.unit, ") +
                                        kFactColumns +
                                        " FROM concepts co JOIN company_concepts cc ON cc.concept_id = co.id "
                                        "JOIN companies c ON c.cik = cc.cik "
                                        "LEFT JOIN facts f ON f.cik = cc.cik AND f.concept_id = cc.concept_id "
                                        "WHERE co.taxonomy = $2 AND co.tag = $3 AND cc.cik = $1 "
                                        "ORDER BY f.unit_position, f.position",
                                    {std::to_string(cik), taxonomy, tag}));
  if (rows.rows.empty()) {
    return UnknownTaxonomyOrConcept(connection, taxonomy, tag, " in the facts of CIK " + TenDigitCik(cik));
  }
  json units = json::object();
  for (const auto& row : rows.rows) {
    if (row[3]) units[*row[3]].push_back(FactFromRow(row, 4));
  }
  const auto& first = rows.rows[0];
  return json{{"cik", cik},
              {"taxonomy", taxonomy},
              {"tag", tag},
              {"label", TextOrNull(first[1])},
              {"description", TextOrNull(first[2])},
              {"entityName", Value(first[0])},
              {"units", std::move(units)}};
}

StatusOr<json> Frame(db::PostgresConnection& connection, const std::string& taxonomy, const std::string& tag,
                     const std::string& unit, const std::string& uom, const std::string& period) {
  // SEC marks one fact per company and calendar period with `frame`; DISTINCT ON keeps one even if a
  // reload ever produced two.
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto rows,
      connection.Execute("SELECT DISTINCT ON (f.cik) f.accn, f.cik, coalesce(c.facts_entity_name, c.name), "
                         "c.business_location, f.start_date, f.end_date, f.val, cc.label, cc.description "
                         "FROM concepts co JOIN facts f ON f.concept_id = co.id "
                         "JOIN companies c ON c.cik = f.cik "
                         "JOIN company_concepts cc ON cc.cik = f.cik AND cc.concept_id = f.concept_id "
                         "WHERE co.taxonomy = $1 AND co.tag = $2 AND f.unit = $3 AND f.frame = $4 "
                         "ORDER BY f.cik, f.filed DESC",
                         {taxonomy, tag, unit, period}));
  if (rows.rows.empty()) {
    return UnknownTaxonomyOrConcept(connection, taxonomy, tag, " in " + uom + " for frame " + period);
  }
  json data = json::array();
  for (const auto& row : rows.rows) {
    const std::string& location = Value(row[3]);
    // SEC writes US states as "US-CA"; other locations as their code.
    const bool us_state = location.size() == 2 && std::isalpha(static_cast<unsigned char>(location[0])) &&
                          std::isalpha(static_cast<unsigned char>(location[1]));
    json point = {{"accn", Value(row[0])},
                  {"cik", ToInt(row[1])},
                  {"entityName", Value(row[2])},
                  {"loc", us_state ? "US-" + location : location},
                  {"end", Value(row[5])},
                  {"val", NumberFromNumeric(Value(row[6]))}};
    if (row[4]) point["start"] = *row[4];
    data.push_back(std::move(point));
  }
  const auto& first = rows.rows[0];
  return json{{"taxonomy", taxonomy},      {"tag", tag},
              {"ccp", period},             {"uom", uom},
              {"label", TextOrNull(first[7])}, {"description", TextOrNull(first[8])},
              {"pts", data.size()},        {"data", std::move(data)}};
}

namespace {

// Rebuilds SEC's columnar arrays from filing rows, in `columns` order.
json ColumnarFilings(const json& columns, const db::QueryResult& rows) {
  json arrays = json::object();
  for (const auto& column : columns) arrays[column.get<std::string>()] = json::array();
  for (const auto& row : rows.rows) {
    const json filing = json::parse(Value(row[0]));
    for (auto& [column, values] : arrays.items()) values.push_back(filing.contains(column) ? filing[column] : json(nullptr));
  }
  return arrays;
}

}  // namespace

StatusOr<json> Submissions(db::PostgresConnection& connection, std::int64_t cik) {
  const std::string cik_text = std::to_string(cik);
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto company, connection.Execute("SELECT submissions_profile, submissions_files, submissions_columns FROM companies "
                                       "WHERE cik = $1 AND submissions_profile IS NOT NULL",
                                       {cik_text}));
  if (company.rows.empty()) return NotFound("no submissions for CIK " + TenDigitCik(cik));
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto filings, connection.Execute("SELECT row FROM filings WHERE cik = $1 AND source = 'recent' ORDER BY position",
                                       {cik_text}));
  json document = json::parse(Value(company.rows[0][0]));
  document["filings"] = {{"recent", ColumnarFilings(json::parse(Value(company.rows[0][2])), filings)},
                         {"files", json::parse(Value(company.rows[0][1]))}};
  return document;
}

StatusOr<json> SubmissionsPage(db::PostgresConnection& connection, std::int64_t cik, const std::string& page) {
  const std::string cik_text = std::to_string(cik);
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto company, connection.Execute("SELECT submissions_columns FROM companies WHERE cik = $1 AND "
                                       "submissions_profile IS NOT NULL",
                                       {cik_text}));
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto filings, connection.Execute("SELECT row FROM filings WHERE cik = $1 AND source = $2 ORDER BY position",
                                       {cik_text, page}));
  if (company.rows.empty() || filings.rows.empty()) return NotFound("no submissions page " + page);
  // A page's columns are those of its rows (the first row has them all); the main document's order
  // is used for the ones it shares.
  json columns = json::parse(Value(company.rows[0][0]));
  const json first = json::parse(Value(filings.rows[0][0]));
  for (const auto& [column, value] : first.items()) {
    if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column);
  }
  json page_columns = json::array();
  for (const auto& column : columns) {
    if (first.contains(column.get<std::string>())) page_columns.push_back(column);
  }
  return ColumnarFilings(page_columns, filings);
}

}  // namespace financialapi::store
