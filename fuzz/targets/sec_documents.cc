// The SEC EDGAR document parsers fed arbitrary bytes: every Parse* returns a value or an error, never
// throws, and what it accepts is loadable (fuzz/checks/postgres_values.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "checks/check.h"
#include "checks/postgres_values.h"
#include "financialapi/sec/documents.h"

namespace {

namespace sec = financialapi::sec;
namespace fuzz = financialapi::fuzz;
using fuzz::Check;

void CheckText(std::string_view text, const char* field) {
  Check(fuzz::IsPostgresText(text), std::string("accepted ") + field + " holds a NUL PostgreSQL text cannot store");
}

void CheckFilings(const std::vector<sec::Filing>& filings, const std::vector<std::string>& columns) {
  for (const auto& column : columns) CheckText(column, "column name");
  for (const sec::Filing& filing : filings) {
    CheckText(filing.accession_number, "accessionNumber");
    CheckText(filing.form, "form");
    Check(fuzz::IsCalendarDate(filing.filing_date), "accepted filingDate is not a date PostgreSQL takes: " + filing.filing_date);
    Check(fuzz::IsPostgresJsonb(filing.row), "accepted filing row is not storable as jsonb");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::NoException("sec parsers", [&] {
    if (const auto tickers = sec::ParseCompanyTickers(text, "company_tickers.json"); tickers.ok()) {
      for (const sec::TickerEntry& entry : *tickers) {
        Check(entry.cik > 0 && entry.cik <= 9'999'999'999, "accepted CIK in range");
        CheckText(entry.ticker, "ticker");
        CheckText(entry.title, "title");
      }
    }
    if (const auto submissions = sec::ParseSubmissions(text, "CIK0000320193.json"); submissions.ok()) {
      Check(submissions->cik > 0 && submissions->cik <= 9'999'999'999, "accepted CIK in range");
      CheckText(submissions->name, "name");
      for (const auto& ticker : submissions->tickers) CheckText(ticker, "ticker");
      Check(fuzz::IsPostgresJsonb(submissions->profile), "accepted profile is not storable as jsonb");
      Check(fuzz::IsPostgresJsonb(submissions->files), "accepted filings.files is not storable as jsonb");
      CheckFilings(submissions->recent, submissions->columns);
    }
    if (const auto page = sec::ParseSubmissionsPage(text, "CIK0000320193-submissions-001.json"); page.ok()) {
      CheckFilings(page->filings, page->columns);
    }
    if (const auto facts = sec::ParseCompanyFacts(text, "CIK0000320193.json"); facts.ok()) {
      Check(facts->cik > 0 && facts->cik <= 9'999'999'999, "accepted CIK in range");
      CheckText(facts->entity_name, "entityName");
      std::size_t count = 0;
      for (const sec::Concept& concept_entry : facts->concepts) {
        CheckText(concept_entry.taxonomy, "taxonomy");
        CheckText(concept_entry.tag, "tag");
        CheckText(concept_entry.label.value_or(""), "label");
        CheckText(concept_entry.description.value_or(""), "description");
        for (const sec::UnitFacts& unit : concept_entry.units) {
          CheckText(unit.unit, "unit");
          for (const sec::Fact& fact : unit.facts) {
            ++count;
            Check(fuzz::IsCalendarDate(fact.end), "accepted end is not a date PostgreSQL takes: " + fact.end);
            Check(fuzz::IsCalendarDate(fact.filed), "accepted filed is not a date PostgreSQL takes: " + fact.filed);
            if (fact.start) Check(fuzz::IsCalendarDate(*fact.start), "accepted start is not a date PostgreSQL takes: " + *fact.start);
            Check(!fact.fy || fuzz::IsPostgresInt(*fact.fy), "accepted fy does not fit the int column: " + std::to_string(fact.fy.value_or(0)));
            CheckText(fact.accn, "accn");
            CheckText(fact.form, "form");
            CheckText(fact.fp.value_or(""), "fp");
            CheckText(fact.frame.value_or(""), "frame");
          }
        }
      }
      Check(count == facts->FactCount(), "FactCount counts every fact");
    }
    (void)sec::ParseDocumentName(text);
  });
  return 0;
}
