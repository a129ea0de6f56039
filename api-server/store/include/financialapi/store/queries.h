// The read queries behind the API, over one PostgreSQL connection. Each returns the JSON document of
// its endpoint (shapes in docs/api.md). On failure: NotFound for an unknown company, concept or frame
// (the message says which), Unavailable when the connection is lost, Internal for rows that do not fit
// the schema. Parameters are assumed validated by the caller (service layer); they are still bound
// as query parameters, never spliced into SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"
#include "financialapi/db/postgres.h"

namespace financialapi::store {

using nlohmann::json;

// A company as the user named it: a CIK, or a ticker (upper-cased).
struct CompanyId {
  std::optional<std::int64_t> cik;
  std::string ticker;
};
// "320193", "0000320193", "CIK0000320193", "cik320193" → CIK; "aapl", "BRK-B", "BF.B" → ticker.
// InvalidArgument for anything else (empty, over 10 digits, characters outside A-Z 0-9 . -).
StatusOr<CompanyId> ParseCompanyId(std::string_view text);

struct Company {
  std::int64_t cik = 0;
  std::string name;
};
// NotFound "no company with ticker AAPLX" / "no company with CIK 0000000001".
StatusOr<Company> ResolveCompany(db::PostgresConnection& connection, const CompanyId& id);

StatusOr<json> SearchCompanies(db::PostgresConnection& connection, std::string_view name_prefix, int limit, int offset);
StatusOr<json> CompanyProfile(db::PostgresConnection& connection, const Company& company);

struct FilingFilter {
  std::vector<std::string> forms;      // empty = all
  std::optional<std::string> from;     // YYYY-MM-DD, inclusive
  std::optional<std::string> to;       // inclusive
  int limit = 100;
  int offset = 0;
};
StatusOr<json> Filings(db::PostgresConnection& connection, const Company& company, const FilingFilter& filter);

// SEC's companyfacts document. NotFound when no companyfacts document of the company is loaded.
StatusOr<json> CompanyFacts(db::PostgresConnection& connection, std::int64_t cik);
// SEC's companyconcept document. NotFound for a taxonomy no company has ("unknown taxonomy ...") and
// for a concept the company does not report.
StatusOr<json> CompanyConcept(db::PostgresConnection& connection, std::int64_t cik, const std::string& taxonomy,
                              const std::string& tag);
// SEC's frames document; `unit` as stored ("USD/shares"), `uom` as the URL had it ("USD-per-shares").
StatusOr<json> Frame(db::PostgresConnection& connection, const std::string& taxonomy, const std::string& tag,
                     const std::string& unit, const std::string& uom, const std::string& period);
// SEC's submissions document (profile + filings.recent as columnar arrays + filings.files), or one
// older page by its file name ("CIK0001318605-submissions-001.json").
StatusOr<json> Submissions(db::PostgresConnection& connection, std::int64_t cik);
StatusOr<json> SubmissionsPage(db::PostgresConnection& connection, std::int64_t cik, const std::string& page);

// PostgreSQL numeric text as a JSON number: an integer when it has no fraction and fits, else a double.
json NumberFromNumeric(std::string_view text);

// 10 digits, e.g. "0000320193", as SEC writes a CIK in text.
std::string TenDigitCik(std::int64_t cik);
// "CIK" + 10 digits, e.g. "CIK0000320193", as in SEC's file names and paths.
std::string PaddedCik(std::int64_t cik);

}  // namespace financialapi::store
