// SEC EDGAR's JSON documents, parsed into what the loader writes. Pure: no database, no files.
//
// Every Parse* call returns InvalidArgument naming the document and the position of the problem: the
// byte offset for malformed JSON, the JSON pointer for a well-formed document of the wrong shape
// ("CIK0000320193.json: /facts/us-gaap/Assets/units/USD/3/val: expected a number").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"

namespace financialapi::sec {

// company_tickers.json: {"0":{"cik_str":789019,"ticker":"MSFT","title":"MICROSOFT CORP"},...}
struct TickerEntry {
  std::int64_t cik = 0;
  std::string ticker;
  std::string title;
  int position = 0;  // SEC's order (by market value)
};
StatusOr<std::vector<TickerEntry>> ParseCompanyTickers(std::string_view text, std::string_view document_name);

// One filing: the columns of SEC's columnar arrays for one index, by SEC's column names.
struct Filing {
  std::string accession_number;
  std::string form;
  std::string filing_date;  // YYYY-MM-DD
  nlohmann::json row;       // every column, e.g. {"accessionNumber":..., "isXBRL":0, ...}
};

// submissions/CIK##########.json
struct Submissions {
  std::int64_t cik = 0;
  std::string name;
  std::vector<std::string> tickers;
  nlohmann::json profile;  // the document without "filings"
  nlohmann::json files;    // filings.files: the older pages
  std::vector<std::string> columns;  // filings.recent's column names (sorted: nlohmann keeps objects sorted by key)
  std::vector<Filing> recent;
};
StatusOr<Submissions> ParseSubmissions(std::string_view text, std::string_view document_name);

// submissions/CIK##########-submissions-NNN.json: the columnar arrays alone.
struct SubmissionsPage {
  std::vector<std::string> columns;
  std::vector<Filing> filings;
};
StatusOr<SubmissionsPage> ParseSubmissionsPage(std::string_view text, std::string_view document_name);

// A fact as SEC publishes it. val is kept as the decimal text it had (exact in PostgreSQL numeric).
struct Fact {
  std::optional<std::string> start;
  std::string end;
  std::string val;
  std::string accn;
  std::optional<std::int64_t> fy;
  std::optional<std::string> fp;
  std::string form;
  std::string filed;
  std::optional<std::string> frame;
};
struct UnitFacts {
  std::string unit;
  std::vector<Fact> facts;
};
struct Concept {
  std::string taxonomy;
  std::string tag;
  std::optional<std::string> label;
  std::optional<std::string> description;
  std::vector<UnitFacts> units;
};
// companyfacts/CIK##########.json
struct CompanyFacts {
  std::int64_t cik = 0;
  std::string entity_name;
  std::vector<Concept> concepts;  // taxonomy by taxonomy, tags sorted by name (nlohmann's object order)
  std::size_t FactCount() const;
};
StatusOr<CompanyFacts> ParseCompanyFacts(std::string_view text, std::string_view document_name);

// The string member `key` of `object`, or nullopt when it is missing, null or not a string.
std::optional<std::string> OptionalString(const nlohmann::json& object, const char* key);

// "CIK0000320193.json" → 320193; "CIK0001318605-submissions-001.json" → 1318605 with page
// "CIK0001318605-submissions-001.json". nullopt when the name is not an SEC document name.
struct DocumentName {
  std::int64_t cik = 0;
  bool is_page = false;
};
std::optional<DocumentName> ParseDocumentName(std::string_view file_name);

}  // namespace financialapi::sec
