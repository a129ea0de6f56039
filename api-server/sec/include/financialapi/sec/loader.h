// Loads SEC EDGAR documents into PostgreSQL (schema: api-server/store/migrations).
//
// Each document is loaded in one transaction that replaces what the same document loaded before, so
// loading the same documents again leaves the same rows, and a document that fails (malformed, or
// rejected by the database) leaves nothing of itself behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "financialapi/common/status.h"
#include "financialapi/db/postgres.h"

namespace financialapi::sec {

struct LoadReport {
  std::size_t ticker_entries = 0;       // rows of company_tickers.json
  std::size_t submissions_documents = 0;
  std::size_t submissions_pages = 0;
  std::size_t filings = 0;
  std::size_t companyfacts_documents = 0;
  std::size_t concepts = 0;             // (company, concept) pairs
  std::size_t facts = 0;
  std::vector<std::string> failures;    // one line per document that did not load: "<file>: <why>"
};

class Loader {
 public:
  explicit Loader(db::PostgresConnection& connection) : connection_(connection) {}

  // Applies the schema migrations, then loads <dir>/company_tickers.json, <dir>/submissions/*.json
  // (main documents before their older pages) and <dir>/companyfacts/*.json, whichever exist.
  // Documents that fail are listed in LoadReport::failures and the others still load. NotFound when
  // `dir` does not exist; Unavailable when PostgreSQL goes away (the load stops there).
  // `progress` (optional) is told each file name as it is loaded.
  StatusOr<LoadReport> LoadDirectory(const std::filesystem::path& dir,
                                     const std::function<void(std::string_view)>& progress = {});

  // One document each; InvalidArgument naming the document when it is malformed or the database
  // rejects it, Unavailable when the connection is lost. Counts are added to `report`.
  Status LoadCompanyTickers(std::string_view text, std::string_view name, LoadReport& report);
  Status LoadSubmissions(std::string_view text, std::string_view name, LoadReport& report);
  // An older-filings page of a company whose main submissions document is already loaded
  // (FailedPrecondition otherwise).
  Status LoadSubmissionsPage(std::int64_t cik, std::string_view text, std::string_view name, LoadReport& report);
  Status LoadCompanyFacts(std::string_view text, std::string_view name, LoadReport& report);

 private:
  db::PostgresConnection& connection_;
};

}  // namespace financialapi::sec
