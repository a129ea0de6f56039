// The SEC loader against the real PostgreSQL: every sample document loads, counts match the
// documents, reloading changes nothing, and a malformed document loads nothing and damages nothing.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "financialapi/common/file.h"
#include "financialapi/sec/loader.h"
#include "integration/api/api_fixture.h"
#include "support/yaml_json.h"

namespace financialapi::testing {
namespace {

using nlohmann::json;

json ReadJson(const std::filesystem::path& path) {
  auto text = ReadFile(path.string());
  EXPECT_TRUE(text.ok()) << text.status();
  return json::parse(text.ok() ? *text : "{}");
}

// Counted straight from the documents, without the loader's parser.
struct DocumentCounts {
  std::size_t concepts = 0;
  std::size_t facts = 0;
  std::size_t filings = 0;
  std::size_t tickers = 0;
};

DocumentCounts CountSampleDocuments() {
  DocumentCounts counts;
  const std::filesystem::path root = SourcePath("data/sec");
  for (const auto& entry : std::filesystem::directory_iterator(root / "companyfacts")) {
    const json doc = ReadJson(entry.path());
    for (const auto& [taxonomy, tags] : doc["facts"].items()) {
      for (const auto& [tag, body] : tags.items()) {
        ++counts.concepts;
        for (const auto& [unit, facts] : body["units"].items()) counts.facts += facts.size();
      }
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(root / "submissions")) {
    const json doc = ReadJson(entry.path());
    const json& columns = doc.contains("filings") ? doc["filings"]["recent"] : doc;
    counts.filings += columns["accessionNumber"].size();
  }
  json tickers = ReadJson(root / "company_tickers.json");
  std::set<std::string> distinct;
  for (const auto& [key, entry] : tickers.items()) distinct.insert(entry["ticker"].get<std::string>());
  counts.tickers = distinct.size();
  return counts;
}

std::int64_t Count(db::PostgresConnection& connection, const std::string& sql) {
  auto result = connection.Execute(sql);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? std::stoll(result->rows.at(0).at(0).value_or("-1")) : -1;
}

std::unique_ptr<db::PostgresConnection> Connect(const std::string& url) {
  auto connection = db::PostgresConnection::Connect(url);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? std::move(connection).value() : nullptr;
}

// Every row of the data tables, canonically ordered, hashed: equal before and after a reload.
std::string Fingerprint(db::PostgresConnection& connection) {
  auto result = connection.Execute(
      "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
      "SELECT 'f' || f.cik || c.taxonomy || c.tag || f.unit || f.unit_position || '/' || f.position || f.end_date || "
      "coalesce(f.start_date::text, '') || f.val || f.accn || coalesce(f.fy::text, '-') || coalesce(f.fp, '-') || f.form "
      "|| f.filed || coalesce(f.frame, '') AS x FROM facts f JOIN concepts c ON c.id = f.concept_id "
      "UNION ALL SELECT 'g' || cik || source || position || row::text FROM filings "
      "UNION ALL SELECT 't' || ticker || cik || position FROM tickers "
      "UNION ALL SELECT 'c' || cik || name || coalesce(submissions_profile::text, '') FROM companies) rows");
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->rows.at(0).at(0).value_or("") : "";
}

TEST(LoaderTest, LoadsEverySampleDocumentWithCountsMatchingTheDocuments) {
  const std::string url = CreateDatabase("loader_counts");
  auto connection = Connect(url);
  ASSERT_NE(connection, nullptr);
  sec::Loader loader(*connection);
  auto report = loader.LoadDirectory(SourcePath("data/sec"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->failures.empty()) << report->failures.front();

  const DocumentCounts expected = CountSampleDocuments();
  EXPECT_EQ(report->ticker_entries, 9610u);
  EXPECT_EQ(report->submissions_documents, 5u);
  EXPECT_EQ(report->submissions_pages, 1u);
  EXPECT_EQ(report->companyfacts_documents, 5u);
  EXPECT_EQ(report->facts, expected.facts);
  EXPECT_EQ(report->concepts, expected.concepts);
  EXPECT_EQ(report->filings, expected.filings);

  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM facts"), static_cast<std::int64_t>(expected.facts));
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM company_concepts"), static_cast<std::int64_t>(expected.concepts));
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM filings"), static_cast<std::int64_t>(expected.filings));
  EXPECT_GE(Count(*connection, "SELECT count(*) FROM tickers"), static_cast<std::int64_t>(expected.tickers));
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM companies WHERE submissions_profile IS NOT NULL"), 5);
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM companies WHERE facts_entity_name IS NOT NULL"), 5);
  // Exact numeric values: larger than 2^31 and fractional.
  EXPECT_EQ(Count(*connection,
                  "SELECT count(*) FROM facts f JOIN concepts c ON c.id = f.concept_id WHERE f.cik = 320193 AND "
                  "c.tag = 'Assets' AND f.end_date = '2025-09-27' AND f.val = 359241000000"),
            Count(*connection,
                  "SELECT count(*) FROM facts f JOIN concepts c ON c.id = f.concept_id WHERE f.cik = 320193 AND "
                  "c.tag = 'Assets' AND f.end_date = '2025-09-27'"));
  EXPECT_GT(Count(*connection, "SELECT count(*) FROM facts WHERE val = 7.46 AND cik = 320193"), 0);
}

TEST(LoaderTest, ReloadingTheSameDocumentsLeavesTheSameRows) {
  const std::string url = CreateDatabase("loader_reload");
  auto connection = Connect(url);
  ASSERT_NE(connection, nullptr);
  sec::Loader loader(*connection);
  ASSERT_TRUE(loader.LoadDirectory(SourcePath("data/sec")).ok());
  const std::string before = Fingerprint(*connection);
  const auto facts_before = Count(*connection, "SELECT count(*) FROM facts");
  auto again = loader.LoadDirectory(SourcePath("data/sec"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->failures.empty());
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM facts"), facts_before);
  EXPECT_FALSE(before.empty());
  EXPECT_EQ(Fingerprint(*connection), before);
}

class ScratchDirectory {
 public:
  ScratchDirectory() : path_(std::filesystem::temp_directory_path() / ("sec-" + std::to_string(::getpid()) + "-" +
                                                                       std::to_string(counter_++))) {
    std::filesystem::create_directories(path_ / "companyfacts");
    std::filesystem::create_directories(path_ / "submissions");
  }
  ~ScratchDirectory() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(LoaderTest, MalformedDocumentIsReportedWithItsPositionAndLoadsNothing) {
  const std::string url = CreateDatabase("loader_malformed");
  auto connection = Connect(url);
  ASSERT_NE(connection, nullptr);
  sec::Loader loader(*connection);
  // First a good load of Apple's facts, which the broken reload must leave intact.
  ScratchDirectory good;
  const auto source = std::filesystem::path(SourcePath("data/sec/companyfacts"));
  std::filesystem::copy_file(source / "CIK0000320193.json", good.path() / "companyfacts/CIK0000320193.json");
  ASSERT_TRUE(loader.LoadDirectory(good.path()).ok());
  const auto apple_facts = Count(*connection, "SELECT count(*) FROM facts WHERE cik = 320193");
  ASSERT_GT(apple_facts, 20000);

  ScratchDirectory broken;
  auto text = ReadFile((source / "CIK0000320193.json").string());
  ASSERT_TRUE(text.ok());
  std::ofstream(broken.path() / "companyfacts/CIK0000320193.json") << text->substr(0, text->size() / 2);
  std::filesystem::copy_file(source / "CIK0001997711.json", broken.path() / "companyfacts/CIK0001997711.json");
  // Well-formed JSON of the wrong shape: a fact's val is text.
  std::ofstream(broken.path() / "companyfacts/CIK0001045810.json")
      << R"({"cik":1045810,"entityName":"NVIDIA CORP","facts":{"us-gaap":{"Assets":{"label":"Assets","description":null,)"
      << R"("units":{"USD":[{"end":"2025-01-26","val":"lots","accn":"a","fy":2025,"fp":"FY","form":"10-K","filed":"2025-02-26"}]}}}}})";

  auto report = loader.LoadDirectory(broken.path());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->failures.size(), 2u);
  EXPECT_NE(report->failures[0].find("CIK0000320193.json: malformed JSON at byte"), std::string::npos) << report->failures[0];
  EXPECT_NE(report->failures[1].find("CIK0001045810.json: /facts/us-gaap/Assets/units/USD/0/val: expected a number"),
            std::string::npos)
      << report->failures[1];
  EXPECT_EQ(report->companyfacts_documents, 1u);  // the good one still loaded
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM facts WHERE cik = 320193"), apple_facts);
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM facts WHERE cik = 1045810"), 0);
  EXPECT_GT(Count(*connection, "SELECT count(*) FROM facts WHERE cik = 1997711"), 0);
}

TEST(LoaderTest, OlderFilingsPageNeedsItsCompanysMainDocument) {
  const std::string url = CreateDatabase("loader_page");
  auto connection = Connect(url);
  ASSERT_NE(connection, nullptr);
  ScratchDirectory only_page;
  std::filesystem::copy_file(SourcePath("data/sec/submissions/CIK0001318605-submissions-001.json"),
                             only_page.path() / "submissions/CIK0001318605-submissions-001.json");
  sec::Loader loader(*connection);
  auto report = loader.LoadDirectory(only_page.path());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_NE(report->failures[0].find("submissions document of CIK0001318605 is not loaded"), std::string::npos)
      << report->failures[0];
  EXPECT_EQ(Count(*connection, "SELECT count(*) FROM filings"), 0);
}

TEST(LoaderTest, MissingDirectoryIsNotFound) {
  const std::string url = CreateDatabase("loader_missing");
  auto connection = Connect(url);
  ASSERT_NE(connection, nullptr);
  sec::Loader loader(*connection);
  auto report = loader.LoadDirectory("/nonexistent/sec-data");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace financialapi::testing
