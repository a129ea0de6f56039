// The SEC document parsers against every sample document in data/sec (counts checked against an
// independent walk of the raw JSON) and against malformed or wrongly shaped documents.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/common/file.h"
#include "financialapi/sec/documents.h"
#include "support/yaml_json.h"

namespace financialapi::sec {
namespace {

using nlohmann::json;

std::string SamplePath(const std::string& relative) { return testing::SourcePath("data/sec/" + relative); }

std::string ReadSample(const std::string& relative) {
  auto text = ReadFile(SamplePath(relative));
  if (!text.ok()) throw std::runtime_error(text.status().ToString());
  return std::move(text).value();
}

// Documents of one folder: (file name, text).
std::vector<std::pair<std::string, std::string>> SampleFolder(const std::string& folder) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : std::filesystem::directory_iterator(SamplePath(folder))) {
    if (entry.path().extension() != ".json") continue;
    const std::string name = entry.path().filename().string();
    out.emplace_back(name, ReadSample(folder + "/" + name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- company_tickers.json -------------------------------------------------------------------------

TEST(CompanyTickersTest, ParsesEveryEntryInSecOrder) {
  const std::string text = ReadSample("company_tickers.json");
  const json raw = json::parse(text);
  auto entries = ParseCompanyTickers(text, "company_tickers.json");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), raw.size());
  EXPECT_EQ(entries->size(), 9610u);
  // Positions are SEC's keys as numbers, in numeric (not text) order: "10" comes after "9".
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& entry = (*entries)[i];
    ASSERT_EQ(entry.position, static_cast<int>(i));
    const json& source = raw.at(std::to_string(i));
    EXPECT_EQ(entry.cik, source.at("cik_str").get<std::int64_t>()) << i;
    EXPECT_EQ(entry.ticker, source.at("ticker").get<std::string>()) << i;
    EXPECT_EQ(entry.title, source.at("title").get<std::string>()) << i;
  }
  EXPECT_EQ((*entries)[0].ticker, "MSFT");
  EXPECT_EQ((*entries)[0].cik, 789019);
  EXPECT_EQ((*entries)[1].ticker, "AAPL");
  EXPECT_EQ((*entries)[1].cik, 320193);
}

TEST(CompanyTickersTest, RejectsWrongShapesWithTheirPointer) {
  auto no_cik = ParseCompanyTickers(R"({"0":{"ticker":"X","title":"X"}})", "t.json");
  ASSERT_FALSE(no_cik.ok());
  EXPECT_EQ(no_cik.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_cik.status().message().find("t.json: /0:"), std::string::npos) << no_cik.status();

  auto bad_cik = ParseCompanyTickers(R"({"0":{"cik_str":-5,"ticker":"X","title":"X"}})", "t.json");
  ASSERT_FALSE(bad_cik.ok());
  EXPECT_NE(bad_cik.status().message().find("/0/cik_str"), std::string::npos) << bad_cik.status();

  auto huge_cik = ParseCompanyTickers(R"({"0":{"cik_str":12345678901,"ticker":"X","title":"X"}})", "t.json");
  ASSERT_FALSE(huge_cik.ok());
  EXPECT_NE(huge_cik.status().message().find("/0/cik_str"), std::string::npos) << huge_cik.status();

  auto ticker_number = ParseCompanyTickers(R"({"7":{"cik_str":1,"ticker":7,"title":"X"}})", "t.json");
  ASSERT_FALSE(ticker_number.ok());
  EXPECT_NE(ticker_number.status().message().find("/7/ticker: expected a string"), std::string::npos)
      << ticker_number.status();

  auto not_object = ParseCompanyTickers("[1,2]", "t.json");
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.status().message().find("t.json: /: expected"), std::string::npos) << not_object.status();
}

TEST(CompanyTickersTest, AcceptsCikAsDigitString) {
  auto entries = ParseCompanyTickers(R"({"0":{"cik_str":"0000320193","ticker":"AAPL","title":"Apple"}})", "t.json");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].cik, 320193);
}

// --- submissions ----------------------------------------------------------------------------------

void ExpectFilingsMatch(const json& arrays, const std::vector<std::string>& columns, const std::vector<Filing>& filings,
                        const std::string& name) {
  std::set<std::string> raw_columns;
  for (const auto& [column, values] : arrays.items()) raw_columns.insert(column);
  EXPECT_EQ(std::set<std::string>(columns.begin(), columns.end()), raw_columns) << name;
  EXPECT_EQ(columns.size(), raw_columns.size()) << name;
  const auto& accessions = arrays.at("accessionNumber");
  ASSERT_EQ(filings.size(), accessions.size()) << name;
  for (std::size_t i = 0; i < filings.size(); ++i) {
    EXPECT_EQ(filings[i].accession_number, accessions[i].get<std::string>()) << name << " row " << i;
    EXPECT_EQ(filings[i].form, arrays.at("form")[i].get<std::string>()) << name << " row " << i;
    EXPECT_EQ(filings[i].filing_date, arrays.at("filingDate")[i].get<std::string>()) << name << " row " << i;
    for (const auto& column : raw_columns) {
      ASSERT_EQ(filings[i].row.at(column), arrays.at(column)[i]) << name << " row " << i << " column " << column;
    }
  }
}

TEST(SubmissionsTest, EverySampleDocumentParsesWithAllItsFilings) {
  int documents = 0;
  int pages = 0;
  for (const auto& [name, text] : SampleFolder("submissions")) {
    const json raw = json::parse(text);
    const auto document_name = ParseDocumentName(name);
    ASSERT_TRUE(document_name.has_value()) << name;
    if (document_name->is_page) {
      auto page = ParseSubmissionsPage(text, name);
      ASSERT_TRUE(page.ok()) << page.status();
      ExpectFilingsMatch(raw, page->columns, page->filings, name);
      EXPECT_FALSE(page->filings.empty()) << name;
      ++pages;
      continue;
    }
    auto doc = ParseSubmissions(text, name);
    ASSERT_TRUE(doc.ok()) << doc.status();
    EXPECT_EQ(doc->cik, document_name->cik) << name;
    EXPECT_EQ(doc->cik, std::stoll(raw.at("cik").get<std::string>())) << name;
    EXPECT_EQ(doc->name, raw.at("name").get<std::string>()) << name;
    EXPECT_EQ(doc->tickers, raw.at("tickers").get<std::vector<std::string>>()) << name;
    EXPECT_FALSE(doc->profile.contains("filings")) << name;
    json raw_profile = raw;
    raw_profile.erase("filings");
    EXPECT_EQ(doc->profile, raw_profile) << name;
    EXPECT_EQ(doc->files, raw.at("filings").at("files")) << name;
    ExpectFilingsMatch(raw.at("filings").at("recent"), doc->columns, doc->recent, name);
    ++documents;
  }
  EXPECT_EQ(documents, 5);
  EXPECT_EQ(pages, 1);
}

TEST(SubmissionsTest, AppleHasItsKnownShape) {
  auto doc = ParseSubmissions(ReadSample("submissions/CIK0000320193.json"), "CIK0000320193.json");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->cik, 320193);
  EXPECT_EQ(doc->name, "Apple Inc.");
  EXPECT_EQ(doc->tickers, std::vector<std::string>{"AAPL"});
  EXPECT_EQ(doc->recent.size(), 1005u);
  EXPECT_EQ(doc->columns.size(), 15u);
  ASSERT_EQ(doc->files.size(), 1u);
  EXPECT_EQ(doc->files[0]["name"], "CIK0000320193-submissions-001.json");
  // The zero-padded string CIK stays as SEC wrote it in the profile.
  EXPECT_EQ(doc->profile["cik"], "0000320193");
}

json AppleSubmissionsJson() { return json::parse(ReadSample("submissions/CIK0000320193.json")); }

TEST(SubmissionsTest, TruncatedDocumentNamesTheDocumentAndTheByte) {
  const std::string text = ReadSample("submissions/CIK0000320193.json").substr(0, 5000);
  auto doc = ParseSubmissions(text, "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = doc.status().message();
  EXPECT_TRUE(message.starts_with("CIK0000320193.json: malformed JSON at byte ")) << message;
  // The input ends after 5000 bytes: the parser reports the position just past it.
  EXPECT_NE(message.find("byte 5001:"), std::string::npos) << message;
}

TEST(SubmissionsTest, SyntaxErrorNamesItsByte) {
  //                    byte: 123456789012345
  auto doc = ParseSubmissions(R"({"cik": "1", x})", "doc.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("doc.json: malformed JSON at byte 14:"), std::string::npos) << doc.status();

  auto page = ParseSubmissionsPage("", "page.json");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(page.status().message().find("page.json: malformed JSON at byte "), std::string::npos) << page.status();
}

TEST(SubmissionsTest, FilingDateThatIsNotADateNamesItsPointer) {
  json raw = AppleSubmissionsJson();
  raw["filings"]["recent"]["filingDate"][5] = "2024/01/01";
  auto doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(doc.status().message().find("CIK0000320193.json: /filings/recent/filingDate/5: expected a date"),
            std::string::npos)
      << doc.status();

  raw = AppleSubmissionsJson();
  raw["filings"]["recent"]["accessionNumber"][7] = 12;
  doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("/filings/recent/accessionNumber/7: expected a string"), std::string::npos)
      << doc.status();
}

TEST(SubmissionsTest, ColumnsOfDifferentLengthsNameTheColumn) {
  json raw = AppleSubmissionsJson();
  raw["filings"]["recent"]["form"].erase(std::size_t{0});
  auto doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(doc.status().message().find("/filings/recent/form: expected an array of 1005 values"), std::string::npos)
      << doc.status();

  auto page = ParseSubmissionsPage(R"({"accessionNumber":["a","b"],"form":["10-K"],"filingDate":["2024-01-01","2024-01-02"]})",
                                   "p.json");
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.status().message().find("p.json: /"), std::string::npos) << page.status();
  EXPECT_NE(page.status().message().find("like the other columns"), std::string::npos) << page.status();
}

TEST(SubmissionsTest, MissingRequiredFieldsNameTheirPointer) {
  json raw = AppleSubmissionsJson();
  raw.erase("cik");
  auto doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("CIK0000320193.json: /cik: expected"), std::string::npos) << doc.status();

  raw = AppleSubmissionsJson();
  raw["cik"] = "not a number";
  doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("/cik: expected a CIK"), std::string::npos) << doc.status();

  raw = AppleSubmissionsJson();
  raw["filings"]["recent"].erase("filingDate");
  doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("/filings/recent/filingDate: expected a column"), std::string::npos)
      << doc.status();

  raw = AppleSubmissionsJson();
  raw.erase("filings");
  doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("/filings: expected an object"), std::string::npos) << doc.status();

  raw = AppleSubmissionsJson();
  raw["tickers"][0] = 1;
  doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("/tickers/0: expected a string"), std::string::npos) << doc.status();

  raw = AppleSubmissionsJson();
  raw["filings"]["files"][0].erase("name");
  doc = ParseSubmissions(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("/filings/files/0: expected"), std::string::npos) << doc.status();
}

TEST(SubmissionsTest, ColumnNamesWithSlashAreEscapedInPointers) {
  auto page = ParseSubmissionsPage(
      R"({"accessionNumber":["a"],"form":["10-K"],"filingDate":["2024-01-01"],"a/b~c":5})", "p.json");
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.status().message().find("p.json: /a~1b~0c:"), std::string::npos) << page.status();
}

// --- companyfacts ---------------------------------------------------------------------------------

struct RawCounts {
  std::size_t concepts = 0;
  std::size_t facts = 0;
};
RawCounts CountRaw(const json& raw) {
  RawCounts counts;
  for (const auto& [taxonomy, tags] : raw.at("facts").items()) {
    for (const auto& [tag, body] : tags.items()) {
      ++counts.concepts;
      for (const auto& [unit, facts] : body.at("units").items()) counts.facts += facts.size();
    }
  }
  return counts;
}

// A fact's val text as a JSON number, nullopt unless the whole text is one.
std::optional<json> NumberText(const std::string& text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.find_first_of(".eE") == std::string::npos) {
    std::int64_t integer = 0;
    const auto [end, error] = std::from_chars(first, last, integer);
    if (error == std::errc() && end == last) return json(integer);
    return std::nullopt;
  }
  double number = 0;
  const auto [end, error] = std::from_chars(first, last, number);
  if (error == std::errc() && end == last) return json(number);
  return std::nullopt;
}

// Every parsed fact against its raw JSON: val reads back as the same number, optional fields are
// present exactly when SEC wrote them (and non-null).
void ExpectFactsMatch(const json& raw, const CompanyFacts& parsed, const std::string& name) {
  std::size_t concept_index = 0;
  for (const auto& [taxonomy, tags] : raw.at("facts").items()) {
    for (const auto& [tag, body] : tags.items()) {
      ASSERT_LT(concept_index, parsed.concepts.size()) << name;
      const Concept& c = parsed.concepts[concept_index++];
      ASSERT_EQ(c.taxonomy, taxonomy) << name;
      ASSERT_EQ(c.tag, tag) << name;
      EXPECT_EQ(c.label.has_value(), body.at("label").is_string()) << name << " " << tag;
      EXPECT_EQ(c.description.has_value(), body.at("description").is_string()) << name << " " << tag;
      ASSERT_EQ(c.units.size(), body.at("units").size()) << name << " " << tag;
      std::size_t unit_index = 0;
      for (const auto& [unit, facts] : body.at("units").items()) {
        const UnitFacts& u = c.units[unit_index++];
        ASSERT_EQ(u.unit, unit) << name << " " << tag;
        ASSERT_EQ(u.facts.size(), facts.size()) << name << " " << tag << " " << unit;
        for (std::size_t i = 0; i < facts.size(); ++i) {
          const json& r = facts[i];
          const Fact& f = u.facts[i];
          const std::optional<json> val = NumberText(f.val);
          json rebuilt = {{"end", f.end},
                          {"val", val ? *val : json(f.val)},
                          {"accn", f.accn},
                          {"fy", f.fy ? json(*f.fy) : json(nullptr)},
                          {"fp", f.fp ? json(*f.fp) : json(nullptr)},
                          {"form", f.form},
                          {"filed", f.filed}};
          if (f.start) rebuilt["start"] = *f.start;
          if (f.frame) rebuilt["frame"] = *f.frame;
          // Integers must keep SEC's digits exactly; decimals must read back as the same double.
          const bool same_text = r.at("val").is_number_float() || f.val == r.at("val").dump();
          if (rebuilt != r || !same_text) {
            ADD_FAILURE() << name << " " << taxonomy << ":" << tag << " " << unit << " #" << i << ": parsed "
                          << rebuilt.dump() << " (val text '" << f.val << "'), document " << r.dump();
            return;
          }
        }
      }
    }
  }
  EXPECT_EQ(concept_index, parsed.concepts.size()) << name;
}

TEST(CompanyFactsTest, EverySampleDocumentParsesWithAllItsFacts) {
  int documents = 0;
  for (const auto& [name, text] : SampleFolder("companyfacts")) {
    const json raw = json::parse(text);
    auto facts = ParseCompanyFacts(text, name);
    ASSERT_TRUE(facts.ok()) << facts.status();
    const auto document_name = ParseDocumentName(name);
    ASSERT_TRUE(document_name.has_value()) << name;
    EXPECT_EQ(facts->cik, document_name->cik) << name;
    EXPECT_EQ(facts->cik, raw.at("cik").get<std::int64_t>()) << name;
    EXPECT_EQ(facts->entity_name, raw.at("entityName").get<std::string>()) << name;
    const RawCounts counts = CountRaw(raw);
    EXPECT_EQ(facts->concepts.size(), counts.concepts) << name;
    EXPECT_EQ(facts->FactCount(), counts.facts) << name;
    EXPECT_GT(counts.facts, 0u) << name;
    ExpectFactsMatch(raw, *facts, name);
    ++documents;
  }
  EXPECT_EQ(documents, 5);
}

const Fact* FindFact(const CompanyFacts& facts, std::string_view taxonomy, std::string_view tag, std::string_view unit,
                     const std::function<bool(const Fact&)>& match) {
  for (const auto& c : facts.concepts) {
    if (c.taxonomy != taxonomy || c.tag != tag) continue;
    for (const auto& u : c.units) {
      if (u.unit != unit) continue;
      for (const auto& f : u.facts) {
        if (match(f)) return &f;
      }
    }
  }
  return nullptr;
}

class AppleFactsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto parsed = ParseCompanyFacts(ReadSample("companyfacts/CIK0000320193.json"), "CIK0000320193.json");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    apple_ = new CompanyFacts(std::move(parsed).value());
  }
  static void TearDownTestSuite() {
    delete apple_;
    apple_ = nullptr;
  }
  static CompanyFacts* apple_;
};
CompanyFacts* AppleFactsTest::apple_ = nullptr;

TEST_F(AppleFactsTest, CrossCheckFiguresFromTheReadme) {
  ASSERT_NE(apple_, nullptr);
  EXPECT_EQ(apple_->cik, 320193);
  EXPECT_EQ(apple_->entity_name, "Apple Inc.");
  const Fact* assets = FindFact(*apple_, "us-gaap", "Assets", "USD",
                                [](const Fact& f) { return f.end == "2025-09-27" && f.form == "10-K"; });
  ASSERT_NE(assets, nullptr);
  EXPECT_EQ(assets->val, "359241000000");  // beyond 2^31, kept exact
  EXPECT_FALSE(assets->start.has_value());  // an instant
  EXPECT_EQ(assets->accn, "0000320193-25-000079");
  EXPECT_EQ(assets->fy, 2025);
  EXPECT_EQ(assets->fp, "FY");
  EXPECT_EQ(assets->filed, "2025-10-31");

  const Fact* eps = FindFact(*apple_, "us-gaap", "EarningsPerShareDiluted", "USD/shares", [](const Fact& f) {
    return f.start == "2024-09-29" && f.end == "2025-09-27" && f.form == "10-K";
  });
  ASSERT_NE(eps, nullptr);
  EXPECT_EQ(eps->val, "7.46");
  EXPECT_EQ(eps->frame, "CY2025");
}

TEST_F(AppleFactsTest, NullFiscalYearAndPeriodStayUnset) {
  ASSERT_NE(apple_, nullptr);
  // An 8-K of 2015 re-reports 2013's payables with "fy":null,"fp":null.
  const Fact* recast = FindFact(*apple_, "us-gaap", "AccountsPayableCurrent", "USD", [](const Fact& f) {
    return f.end == "2013-09-28" && f.form == "8-K";
  });
  ASSERT_NE(recast, nullptr);
  EXPECT_FALSE(recast->fy.has_value());
  EXPECT_FALSE(recast->fp.has_value());
  EXPECT_EQ(recast->val, "22367000000");
  EXPECT_EQ(recast->frame, "CY2013Q3I");
}

TEST_F(AppleFactsTest, StartOnlyOnDurations) {
  ASSERT_NE(apple_, nullptr);
  std::size_t instants = 0;
  std::size_t durations = 0;
  for (const auto& c : apple_->concepts) {
    for (const auto& u : c.units) {
      for (const auto& f : u.facts) {
        if (f.start) {
          ++durations;
          EXPECT_LE(*f.start, f.end) << c.tag;
        } else {
          ++instants;
        }
      }
    }
  }
  EXPECT_GT(instants, 0u);
  EXPECT_GT(durations, 0u);
  const Fact* revenue = FindFact(*apple_, "us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax", "USD",
                                 [](const Fact& f) { return f.end == "2025-09-27" && f.form == "10-K"; });
  ASSERT_NE(revenue, nullptr);
  ASSERT_TRUE(revenue->start.has_value());
}

std::string MinimalFacts(const std::string& unit, const std::string& fact) {
  return R"({"cik":320193,"entityName":"X","facts":{"us-gaap":{"Assets":{"label":null,"description":"d","units":{")" +
         unit + R"(":[)" + fact + "]}}}}}";
}
constexpr const char* kGoodFact =
    R"({"end":"2024-01-01","val":1,"accn":"a","fy":2024,"fp":"FY","form":"10-K","filed":"2024-02-01"})";

TEST(CompanyFactsTest, MinimalDocumentParses) {
  auto facts = ParseCompanyFacts(MinimalFacts("USD", kGoodFact), "m.json");
  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_EQ(facts->concepts.size(), 1u);
  EXPECT_FALSE(facts->concepts[0].label.has_value());
  EXPECT_EQ(facts->concepts[0].description, "d");
  ASSERT_EQ(facts->FactCount(), 1u);
  EXPECT_EQ(facts->concepts[0].units[0].facts[0].val, "1");

  auto negative = ParseCompanyFacts(
      MinimalFacts("USD", R"({"end":"2024-01-01","val":-1.5,"accn":"a","fy":null,"fp":null,"form":"10-K","filed":"2024-02-01"})"),
      "m.json");
  ASSERT_TRUE(negative.ok()) << negative.status();
  EXPECT_EQ(negative->concepts[0].units[0].facts[0].val, "-1.5");

  auto empty = ParseCompanyFacts(R"({"cik":5,"entityName":"E","facts":{}})", "e.json");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->FactCount(), 0u);
}

TEST(CompanyFactsTest, ValAsStringNamesItsPointer) {
  json raw = json::parse(ReadSample("companyfacts/CIK0000320193.json"));
  raw["facts"]["us-gaap"]["Assets"]["units"]["USD"][3]["val"] = "359241000000";
  auto facts = ParseCompanyFacts(raw.dump(), "CIK0000320193.json");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(facts.status().message(), "CIK0000320193.json: /facts/us-gaap/Assets/units/USD/3/val: expected a number");
}

TEST(CompanyFactsTest, WrongShapesNameTheirPointer) {
  struct Case {
    std::string document;
    std::string pointer;
  };
  const std::vector<Case> cases = {
      {MinimalFacts("USD/shares", R"({"end":"2024-01-01","val":"1","accn":"a","fy":1,"fp":"FY","form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD~1shares/0/val"},
      {MinimalFacts("USD", R"({"end":"2024-13","val":1,"accn":"a","fy":1,"fp":"FY","form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD/0/end"},
      {MinimalFacts("USD", R"({"start":20240101,"end":"2024-01-01","val":1,"accn":"a","fy":1,"fp":"FY","form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD/0/start"},
      {MinimalFacts("USD", R"({"end":"2024-01-01","val":1,"accn":"a","fy":"2024","fp":"FY","form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD/0/fy"},
      {MinimalFacts("USD", R"({"end":"2024-01-01","val":1,"accn":"a","fy":1,"fp":3,"form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD/0/fp"},
      {MinimalFacts("USD", R"({"end":"2024-01-01","val":1,"fy":1,"fp":"FY","form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD/0/accn"},
      {MinimalFacts("USD", R"({"end":"2024-01-01","val":1,"accn":"a","fy":1,"fp":"FY","form":"10-K","filed":"yesterday"})"),
       "/facts/us-gaap/Assets/units/USD/0/filed"},
      {MinimalFacts("USD", R"({"end":"2024-01-01","val":1,"accn":"a","fy":1,"fp":"FY","form":"10-K","filed":"2024-02-01","frame":1})"),
       "/facts/us-gaap/Assets/units/USD/0/frame"},
      {MinimalFacts("USD", kGoodFact + std::string(",7")), "/facts/us-gaap/Assets/units/USD/1"},
      {MinimalFacts("USD", R"({"end":"2024-01-01","val":null,"accn":"a","fy":1,"fp":"FY","form":"10-K","filed":"2024-02-01"})"),
       "/facts/us-gaap/Assets/units/USD/0/val"},
      {R"({"entityName":"X","facts":{}})", "/cik"},
      {R"({"cik":0,"entityName":"X","facts":{}})", "/cik"},
      {R"({"cik":1,"facts":{}})", "/entityName"},
      {R"({"cik":1,"entityName":"X"})", "/facts"},
      {R"({"cik":1,"entityName":"X","facts":{"dei":[]}})", "/facts/dei"},
      {R"({"cik":1,"entityName":"X","facts":{"dei":{"A":{"label":null}}}})", "/facts/dei/A/units"},
      {R"({"cik":1,"entityName":"X","facts":{"dei":{"A":{"units":{"pure":{}}}}}})", "/facts/dei/A/units/pure"},
  };
  for (const auto& c : cases) {
    auto facts = ParseCompanyFacts(c.document, "doc.json");
    ASSERT_FALSE(facts.ok()) << c.document;
    EXPECT_EQ(facts.status().code(), StatusCode::kInvalidArgument) << c.document;
    EXPECT_TRUE(facts.status().message().starts_with("doc.json: " + c.pointer + ": expected"))
        << c.document << "\n  → " << facts.status().message();
  }
}

TEST(CompanyFactsTest, TruncatedDocumentNamesTheByte) {
  const std::string text = ReadSample("companyfacts/CIK0001997711.json");
  const std::string truncated = text.substr(0, text.size() / 2);
  auto facts = ParseCompanyFacts(truncated, "CIK0001997711.json");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(facts.status().message().find("CIK0001997711.json: malformed JSON at byte " +
                                          std::to_string(truncated.size() + 1) + ":"),
            std::string::npos)
      << facts.status();
}

// --- document names -------------------------------------------------------------------------------

// Found by the sec_documents fuzz target: documents the parsers accepted that PostgreSQL refuses, so
// the load failed half-way at the database instead of naming the value: dates that are no day
// (month 13, day 45, year 0000), a fiscal year past the int column, U+0000 in any string or key.
TEST(CompanyFactsTest, ValuesPostgresRefusesNameTheirPointer) {
  struct Case {
    std::string document;
    std::string message;
  };
  const auto fact = [](const std::string& members) {
    return MinimalFacts("USD", R"({"val":1,"accn":"a","form":"10-K",)" + members + "}");
  };
  const std::vector<Case> cases = {
      {fact(R"("end":"2024-13-01","filed":"2024-02-01")"), "m.json: /facts/us-gaap/Assets/units/USD/0/end: expected a date YYYY-MM-DD"},
      {fact(R"("end":"2023-02-29","filed":"2024-02-01")"), "m.json: /facts/us-gaap/Assets/units/USD/0/end: expected a date YYYY-MM-DD"},
      {fact(R"("end":"2024-01-01","filed":"0000-01-01")"), "m.json: /facts/us-gaap/Assets/units/USD/0/filed: expected a date YYYY-MM-DD"},
      {fact(R"("end":"2024-01-01","filed":"2024-02-01","start":"2024-04-31")"), "m.json: /facts/us-gaap/Assets/units/USD/0/start: expected a date YYYY-MM-DD"},
      {fact(R"("end":"2024-01-01","filed":"2024-02-01","fy":2147483648)"), "m.json: /facts/us-gaap/Assets/units/USD/0/fy: expected a year or null"},
      {fact(R"("end":"2024-01-01","filed":"2024-02-01","fy":18446744073709551615)"), "m.json: /facts/us-gaap/Assets/units/USD/0/fy: expected a year or null"},
      {fact(R"("end":"2024-01-01","filed":"2024-02-01","frame":"CY\u00002024")"), "m.json: /facts/us-gaap/Assets/units/USD/0/frame: expected text without U+0000 (PostgreSQL cannot store it)"},
      {R"({"cik":5,"entityName":"E\u0000","facts":{}})", "m.json: /entityName: expected text without U+0000 (PostgreSQL cannot store it)"},
  };
  for (const Case& c : cases) {
    auto facts = ParseCompanyFacts(c.document, "m.json");
    ASSERT_FALSE(facts.ok()) << c.document;
    EXPECT_EQ(facts.status().message(), c.message) << c.document;
  }
  const auto leap_day = ParseCompanyFacts(fact(R"("end":"2024-02-29","filed":"2000-02-29","fy":2024)"), "m.json");
  EXPECT_TRUE(leap_day.ok()) << leap_day.status();
  auto filing = ParseSubmissionsPage(R"({"accessionNumber":["a"],"form":["4"],"filingDate":["2024-00-10"]})", "p.json");
  ASSERT_FALSE(filing.ok());
  EXPECT_EQ(filing.status().message(), "p.json: /filingDate/0: expected a date YYYY-MM-DD");
  auto profile = ParseSubmissionsPage(R"({"accessionNumber":["a"],"form":["4"],"filingDate":["2024-01-10"],"x\u0000":[1]})", "p.json");
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.status().message(), "p.json: /x\\u0000: expected text without U+0000 (PostgreSQL cannot store it)");
}

// Found by the sec_documents fuzz target: a number too large for a double ("1e0804") made nlohmann
// throw out_of_range.406, which ParseJson did not catch (it caught parse_error only).
TEST(CompanyFactsTest, NumberTooLargeForADoubleIsMalformedJson) {
  for (const auto& parse : {+[](std::string_view t) { return ParseCompanyFacts(t, "m.json").status(); },
                            +[](std::string_view t) { return ParseSubmissions(t, "m.json").status(); },
                            +[](std::string_view t) { return ParseSubmissionsPage(t, "m.json").status(); },
                            +[](std::string_view t) { return ParseCompanyTickers(t, "m.json").status(); }}) {
    Status status;
    ASSERT_NO_THROW(status = parse(R"({"cik":19700000001e0804})"));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(status.message().rfind("m.json: malformed JSON: a number too large for a double", 0), 0u) << status;
  }
}

TEST(DocumentNameTest, RecognizesSecFileNames) {
  const auto main = ParseDocumentName("CIK0000320193.json");
  ASSERT_TRUE(main.has_value());
  EXPECT_EQ(main->cik, 320193);
  EXPECT_FALSE(main->is_page);

  const auto page = ParseDocumentName("CIK0001318605-submissions-001.json");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->cik, 1318605);
  EXPECT_TRUE(page->is_page);

  const auto largest = ParseDocumentName("CIK9999999999.json");
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->cik, 9999999999);
}

TEST(DocumentNameTest, RejectsOtherNames) {
  for (const char* name : {"", "CIK.json", "CIK320193.json", "CIK00003201930.json", "CIK0000000000.json",
                           "cik0000320193.json", "CIK0000320193.JSON", "CIK0000320193.json.gz", "CIK00003201x3.json",
                           "CIK-000320193.json", "CIK0000320193-submissions-.json", "CIK0000320193-other.json",
                           "company_tickers.json", "README.md"}) {
    EXPECT_FALSE(ParseDocumentName(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace financialapi::sec
