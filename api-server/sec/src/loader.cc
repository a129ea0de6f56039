#include "financialapi/sec/loader.h"

#include <algorithm>
#include <unordered_map>

#include "financialapi/common/file.h"
#include "financialapi/sec/documents.h"
#include "financialapi/store/queries.h"
#include "financialapi/store/schema.h"

namespace financialapi::sec {
namespace {

using nlohmann::json;

std::string Field(const std::optional<std::string>& value) { return value.value_or(""); }

// An optional string as a COPY field (nullopt = NULL) without copying it.
std::optional<std::string_view> Optional(const std::optional<std::string>& value) {
  return value ? std::optional<std::string_view>(*value) : std::nullopt;
}

// Database failures inside a document's transaction are reported against the document; a lost
// connection stays Unavailable so the caller stops.
Status ForDocument(Status status, std::string_view name) {
  if (status.ok() || status.code() == StatusCode::kUnavailable) return status;
  return Status(status.code(), std::string(name) + ": " + status.message());
}

void AppendFilingRows(std::string& copy, std::int64_t cik, std::string_view source, const std::vector<Filing>& filings) {
  const std::string cik_text = std::to_string(cik);
  for (std::size_t i = 0; i < filings.size(); ++i) {
    const Filing& f = filings[i];
    db::AppendCopyRow(copy, {cik_text, source, std::to_string(i), f.accession_number, f.form, f.filing_date, f.row.dump()});
  }
}

constexpr const char* kCopyFilings =
    "COPY filings (cik, source, position, accession_number, form, filing_date, row) FROM STDIN";

}  // namespace

Status Loader::LoadCompanyTickers(std::string_view text, std::string_view name, LoadReport& report) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const auto entries, ParseCompanyTickers(text, name));
  std::string copy;
  for (const auto& e : entries) db::AppendCopyRow(copy, {std::to_string(e.cik), e.ticker, e.title, std::to_string(e.position)});
  auto& c = connection_;
  const Status status = store::InTransaction(c, [&]() -> Status {
    FINANCIALAPI_RETURN_IF_ERROR(c.ExecuteScript(
        "CREATE TEMP TABLE ticker_load (cik bigint, ticker text, title text, position int) ON COMMIT DROP"));
    FINANCIALAPI_RETURN_IF_ERROR(c.CopyIn("COPY ticker_load FROM STDIN", copy));
    // A company's name comes from its submissions document or companyfacts when those are loaded;
    // the tickers file only names companies known from nowhere else.
    FINANCIALAPI_RETURN_IF_ERROR(
        c.Execute("INSERT INTO companies (cik, name) "
                  "SELECT DISTINCT ON (cik) cik, title FROM ticker_load ORDER BY cik, position "
                  "ON CONFLICT (cik) DO UPDATE SET name = EXCLUDED.name, updated_at = now() "
                  "WHERE companies.submissions_profile IS NULL AND companies.facts_entity_name IS NULL")
            .status());
    FINANCIALAPI_RETURN_IF_ERROR(
        c.Execute("INSERT INTO tickers (ticker, cik, position) "
                  "SELECT DISTINCT ON (upper(ticker)) upper(ticker), cik, position FROM ticker_load "
                  "ORDER BY upper(ticker), position "
                  "ON CONFLICT (ticker) DO UPDATE SET cik = EXCLUDED.cik, position = EXCLUDED.position")
            .status());
    return Status::Ok();
  });
  FINANCIALAPI_RETURN_IF_ERROR(ForDocument(status, name));
  report.ticker_entries += entries.size();
  return Status::Ok();
}

Status Loader::LoadSubmissions(std::string_view text, std::string_view name, LoadReport& report) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const auto doc, ParseSubmissions(text, name));
  std::string copy;
  AppendFilingRows(copy, doc.cik, "recent", doc.recent);
  std::optional<std::string> business_location;
  if (const auto* location = doc.profile.contains("addresses") ? &doc.profile["addresses"] : nullptr;
      location != nullptr && location->is_object() && location->contains("business") &&
      (*location)["business"].is_object()) {
    business_location = OptionalString((*location)["business"], "stateOrCountry");
  }
  const std::string cik = std::to_string(doc.cik);
  auto& c = connection_;
  const Status status = store::InTransaction(c, [&]() -> Status {
    FINANCIALAPI_RETURN_IF_ERROR(
        c.Execute("INSERT INTO companies (cik, name, sic, sic_description, entity_type, category, fiscal_year_end, "
                  "state_of_incorporation, business_location, submissions_profile, submissions_files, "
                  "submissions_columns) "
                  "VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), "
                  "NULLIF($8, ''), NULLIF($9, ''), $10::jsonb, $11::jsonb, $12::jsonb) "
                  "ON CONFLICT (cik) DO UPDATE SET name = EXCLUDED.name, sic = EXCLUDED.sic, "
                  "sic_description = EXCLUDED.sic_description, entity_type = EXCLUDED.entity_type, "
                  "category = EXCLUDED.category, fiscal_year_end = EXCLUDED.fiscal_year_end, "
                  "state_of_incorporation = EXCLUDED.state_of_incorporation, "
                  "business_location = EXCLUDED.business_location, submissions_profile = EXCLUDED.submissions_profile, "
                  "submissions_files = EXCLUDED.submissions_files, submissions_columns = EXCLUDED.submissions_columns, "
                  "updated_at = now()",
                  {cik, doc.name, Field(OptionalString(doc.profile, "sic")),
                   Field(OptionalString(doc.profile, "sicDescription")), Field(OptionalString(doc.profile, "entityType")),
                   Field(OptionalString(doc.profile, "category")), Field(OptionalString(doc.profile, "fiscalYearEnd")),
                   Field(OptionalString(doc.profile, "stateOfIncorporation")), Field(business_location),
                   doc.profile.dump(), doc.files.dump(), json(doc.columns).dump()})
            .status());
    FINANCIALAPI_RETURN_IF_ERROR(c.Execute("DELETE FROM filings WHERE cik = $1 AND source = 'recent'", {cik}).status());
    FINANCIALAPI_RETURN_IF_ERROR(c.CopyIn(kCopyFilings, copy));
    for (std::size_t i = 0; i < doc.tickers.size(); ++i) {
      // After the tickers file's entries (which keep their rank); a ticker the file gives to another
      // company stays with that company.
      FINANCIALAPI_RETURN_IF_ERROR(c.Execute("INSERT INTO tickers (ticker, cik, position) VALUES (upper($1), $2, $3) "
                                             "ON CONFLICT (ticker) DO NOTHING",
                                             {doc.tickers[i], cik, std::to_string(1'000'000 + i)})
                                       .status());
    }
    return Status::Ok();
  });
  FINANCIALAPI_RETURN_IF_ERROR(ForDocument(status, name));
  ++report.submissions_documents;
  report.filings += doc.recent.size();
  return Status::Ok();
}

Status Loader::LoadSubmissionsPage(std::int64_t cik, std::string_view text, std::string_view name, LoadReport& report) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const auto page, ParseSubmissionsPage(text, name));
  std::string copy;
  AppendFilingRows(copy, cik, name, page.filings);
  const std::string cik_text = std::to_string(cik);
  auto& c = connection_;
  const Status status = store::InTransaction(c, [&]() -> Status {
    FINANCIALAPI_ASSIGN_OR_RETURN(
        auto company, c.Execute("SELECT 1 FROM companies WHERE cik = $1 AND submissions_profile IS NOT NULL", {cik_text}));
    if (company.rows.empty()) {
      return FailedPrecondition("an older-filings page, but the submissions document of " +
                                store::PaddedCik(cik) + " is not loaded");
    }
    FINANCIALAPI_RETURN_IF_ERROR(
        c.Execute("DELETE FROM filings WHERE cik = $1 AND source = $2", {cik_text, std::string(name)}).status());
    FINANCIALAPI_RETURN_IF_ERROR(c.CopyIn(kCopyFilings, copy));
    return Status::Ok();
  });
  FINANCIALAPI_RETURN_IF_ERROR(ForDocument(status, name));
  ++report.submissions_pages;
  report.filings += page.filings.size();
  return Status::Ok();
}

Status Loader::LoadCompanyFacts(std::string_view text, std::string_view name, LoadReport& report) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const auto doc, ParseCompanyFacts(text, name));
  const std::string cik = std::to_string(doc.cik);
  std::string concept_copy;
  for (std::size_t i = 0; i < doc.concepts.size(); ++i) {
    const auto& entry = doc.concepts[i];
    db::AppendCopyRow(concept_copy, {entry.taxonomy, entry.tag, Optional(entry.label), Optional(entry.description),
                                     std::to_string(i)});
  }
  auto& c = connection_;
  const Status status = store::InTransaction(c, [&]() -> Status {
    FINANCIALAPI_RETURN_IF_ERROR(
        c.Execute("INSERT INTO companies (cik, name, facts_entity_name) VALUES ($1, $2, $2) "
                  "ON CONFLICT (cik) DO UPDATE SET facts_entity_name = EXCLUDED.facts_entity_name, "
                  "name = CASE WHEN companies.submissions_profile IS NULL THEN EXCLUDED.name ELSE companies.name END, "
                  "updated_at = now()",
                  {cik, doc.entity_name})
            .status());
    FINANCIALAPI_RETURN_IF_ERROR(c.ExecuteScript(
        "CREATE TEMP TABLE concept_load (taxonomy text, tag text, label text, description text, position int) "
        "ON COMMIT DROP"));
    FINANCIALAPI_RETURN_IF_ERROR(c.CopyIn("COPY concept_load FROM STDIN", concept_copy));
    FINANCIALAPI_RETURN_IF_ERROR(
        c.Execute("INSERT INTO concepts (taxonomy, tag) SELECT taxonomy, tag FROM concept_load ON CONFLICT DO NOTHING")
            .status());
    // Replaces the company's concepts; its facts go with them (ON DELETE CASCADE).
    FINANCIALAPI_RETURN_IF_ERROR(c.Execute("DELETE FROM company_concepts WHERE cik = $1", {cik}).status());
    FINANCIALAPI_ASSIGN_OR_RETURN(
        auto ids, c.Execute("INSERT INTO company_concepts (cik, concept_id, label, description, position) "
                            "SELECT $1, concepts.id, l.label, l.description, l.position FROM concept_load l "
                            "JOIN concepts USING (taxonomy, tag) RETURNING position, concept_id",
                            {cik}));
    std::vector<std::string> concept_ids(doc.concepts.size());
    for (const auto& row : ids.rows) concept_ids.at(std::stoul(row.at(0).value())) = row.at(1).value();
    std::string facts;
    for (std::size_t i = 0; i < doc.concepts.size(); ++i) {
      for (std::size_t u = 0; u < doc.concepts[i].units.size(); ++u) {
        const auto& unit = doc.concepts[i].units[u];
        for (std::size_t position = 0; position < unit.facts.size(); ++position) {
          const Fact& f = unit.facts[position];
          const std::optional<std::string> fy = f.fy ? std::optional<std::string>(std::to_string(*f.fy)) : std::nullopt;
          db::AppendCopyRow(facts, {cik, concept_ids[i], unit.unit, std::to_string(u), std::to_string(position),
                                    Optional(f.start), f.end, f.val, f.accn, Optional(fy), Optional(f.fp), f.form,
                                    f.filed, Optional(f.frame)});
        }
      }
    }
    return c.CopyIn(
        "COPY facts (cik, concept_id, unit, unit_position, position, start_date, end_date, val, accn, fy, fp, form, "
        "filed, frame) FROM STDIN",
        facts);
  });
  FINANCIALAPI_RETURN_IF_ERROR(ForDocument(status, name));
  ++report.companyfacts_documents;
  report.concepts += doc.concepts.size();
  report.facts += doc.FactCount();
  return Status::Ok();
}

StatusOr<LoadReport> Loader::LoadDirectory(const std::filesystem::path& dir,
                                           const std::function<void(std::string_view)>& progress) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return NotFound(dir.string() + " is not a directory");
  FINANCIALAPI_RETURN_IF_ERROR(store::Migrate(connection_).status());
  LoadReport report;
  // Runs one document; a failure of the document is recorded and the load goes on, a lost database
  // ends it.
  const auto load = [&](const std::filesystem::path& path, const auto& loader) -> Status {
    const std::string name = path.filename().string();
    if (progress) progress(name);
    auto text = ReadFile(path.string());
    Status status = text.ok() ? loader(*text, name) : text.status().WithContext(name);
    if (status.code() == StatusCode::kUnavailable) return status;
    if (!status.ok()) report.failures.push_back(status.message());
    return Status::Ok();
  };
  const auto json_files = [&](const std::filesystem::path& folder) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  };

  if (const auto tickers = dir / "company_tickers.json"; std::filesystem::exists(tickers, error)) {
    FINANCIALAPI_RETURN_IF_ERROR(load(tickers, [&](std::string_view text, std::string_view name) {
      return LoadCompanyTickers(text, name, report);
    }));
  }
  const auto submissions = json_files(dir / "submissions");
  // Main documents first: a page belongs to a company its main document creates.
  for (const bool pages : {false, true}) {
    for (const auto& path : submissions) {
      const auto document = ParseDocumentName(path.filename().string());
      if (!document) {
        if (!pages) report.failures.push_back(path.filename().string() + ": not an SEC submissions file name");
        continue;
      }
      if (document->is_page != pages) continue;
      FINANCIALAPI_RETURN_IF_ERROR(load(path, [&](std::string_view text, std::string_view name) {
        return pages ? LoadSubmissionsPage(document->cik, text, name, report) : LoadSubmissions(text, name, report);
      }));
    }
  }
  for (const auto& path : json_files(dir / "companyfacts")) {
    FINANCIALAPI_RETURN_IF_ERROR(load(path, [&](std::string_view text, std::string_view name) {
      return LoadCompanyFacts(text, name, report);
    }));
  }
  return report;
}

}  // namespace financialapi::sec
