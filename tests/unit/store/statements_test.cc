// Standardized statements from synthetic fact lists (rules in docs/api.md), and the pure helpers of
// the query layer: company identifiers, numeric text, padded CIKs.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/store/queries.h"
#include "financialapi/store/statements.h"

namespace financialapi::store {
namespace {

using nlohmann::json;

const Company kApple{.cik = 320193, .name = "Apple Inc."};

struct FactSpec {
  std::string concept_name;
  std::string val;
  std::optional<std::string> start;
  std::string end;
  std::string form = "10-K";
  std::string filed;
  std::optional<std::int64_t> fy;
  std::optional<std::string> fp = "FY";
  std::string unit = "USD";
  std::string accn;
};

StatementFact Make(FactSpec spec) {
  StatementFact fact;
  fact.concept_name = std::move(spec.concept_name);
  fact.unit = std::move(spec.unit);
  fact.start = std::move(spec.start);
  fact.end = std::move(spec.end);
  fact.val = std::move(spec.val);
  fact.accn = spec.accn.empty() ? "accn-" + spec.form + "-" + spec.filed : std::move(spec.accn);
  fact.fy = spec.fy;
  fact.fp = std::move(spec.fp);
  fact.form = std::move(spec.form);
  fact.filed = std::move(spec.filed);
  return fact;
}

// An annual duration of Apple's fiscal 2024 (364 days) as reported by the 10-K.
StatementFact Annual(const std::string& concept_name, const std::string& val, const std::string& start = "2023-10-01",
                     const std::string& end = "2024-09-28", const std::string& filed = "2024-11-01", std::int64_t fy = 2024) {
  return Make({.concept_name = concept_name, .val = val, .start = start, .end = end, .filed = filed, .fy = fy});
}

json Build(StatementKind kind, PeriodKind period, const std::vector<StatementFact>& facts, int limit = 10) {
  auto built = BuildStatement(kApple, kind, period, limit, facts);
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? *built : json();
}

std::vector<std::string> Ends(const json& statement) {
  std::vector<std::string> ends;
  for (const auto& p : statement.at("periods")) ends.push_back(p.at("end").get<std::string>());
  return ends;
}

TEST(BuildStatementTest, DocumentShape) {
  const json s = Build(StatementKind::kIncome, PeriodKind::kAnnual,
                       {Annual("us-gaap:Revenues", "391035000000"), Annual("us-gaap:NetIncomeLoss", "93736000000")});
  EXPECT_EQ(s.at("cik"), 320193);
  EXPECT_EQ(s.at("entityName"), "Apple Inc.");
  EXPECT_EQ(s.at("statement"), "income");
  EXPECT_EQ(s.at("period"), "annual");
  EXPECT_EQ(s.at("currency"), "USD");
  ASSERT_EQ(s.at("periods").size(), 1u);
  const json& p = s.at("periods")[0];
  EXPECT_EQ(p.at("fiscalYear"), 2024);
  EXPECT_EQ(p.at("fiscalPeriod"), "FY");
  EXPECT_EQ(p.at("start"), "2023-10-01");
  EXPECT_EQ(p.at("end"), "2024-09-28");
  EXPECT_EQ(p.at("form"), "10-K");
  EXPECT_EQ(p.at("filed"), "2024-11-01");
  EXPECT_EQ(p.at("accn"), "accn-10-K-2024-11-01");
  const json& revenue = p.at("items").at("revenue");
  EXPECT_TRUE(revenue.at("value").is_number_integer());
  EXPECT_EQ(revenue.at("value").get<std::int64_t>(), 391035000000);
  EXPECT_EQ(revenue.at("unit"), "USD");
  EXPECT_EQ(revenue.at("concept"), "us-gaap:Revenues");
  EXPECT_EQ(p.at("items").at("netIncome").at("value").get<std::int64_t>(), 93736000000);
  // Items the company does not report are left out, not null.
  EXPECT_FALSE(p.at("items").contains("grossProfit"));
  EXPECT_EQ(p.at("items").size(), 2u);
}

TEST(BuildStatementTest, FallsBackAlongTheChainPerPeriod) {
  const json s = Build(
      StatementKind::kIncome, PeriodKind::kAnnual,
      {// FY2024: only the second concept of the chain.
       Annual("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "391035000000"),
       // FY2023: both; the first of the chain wins.
       Annual("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "1", "2022-09-25", "2023-09-30", "2023-11-03", 2023),
       Annual("us-gaap:Revenues", "383285000000", "2022-09-25", "2023-09-30", "2023-11-03", 2023),
       // FY2022: only the last us-gaap fallback.
       Annual("us-gaap:SalesRevenueNet", "394328000000", "2021-09-26", "2022-09-24", "2022-10-28", 2022)});
  ASSERT_EQ(s.at("periods").size(), 3u);
  const auto& periods = s.at("periods");
  EXPECT_EQ(periods[0].at("items").at("revenue").at("concept"),
            "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax");
  EXPECT_EQ(periods[0].at("items").at("revenue").at("value").get<std::int64_t>(), 391035000000);
  EXPECT_EQ(periods[1].at("items").at("revenue").at("concept"), "us-gaap:Revenues");
  EXPECT_EQ(periods[1].at("items").at("revenue").at("value").get<std::int64_t>(), 383285000000);
  EXPECT_EQ(periods[2].at("items").at("revenue").at("concept"), "us-gaap:SalesRevenueNet");
}

TEST(BuildStatementTest, AnnualTakesDurationsOf350To380Days) {
  const auto duration = [](const std::string& start, const std::string& end, const std::string& val,
                           const std::string& form = "10-K") {
    return Make({.concept_name = "us-gaap:Revenues", .val = val, .start = start, .end = end, .form = form,
                 .filed = "2024-11-01", .fy = 2024});
  };
  const json s = Build(StatementKind::kIncome, PeriodKind::kAnnual,
                       {duration("2023-10-01", "2024-09-28", "364"),           // 52 weeks
                        duration("2022-09-25", "2023-09-30", "371"),           // 53 weeks
                        duration("2023-10-01", "2024-06-29", "272", "10-Q"),   // 10-Q year to date
                        duration("2024-03-31", "2024-06-29", "90", "10-Q"),    // a quarter
                        duration("2020-01-01", "2020-12-16", "350"),           // lower bound
                        duration("2019-01-01", "2019-12-16", "349"),           // just below
                        duration("2018-01-01", "2019-01-16", "380"),           // upper bound
                        duration("2016-01-01", "2017-01-16", "381")});         // just above
  EXPECT_EQ(Ends(s), (std::vector<std::string>{"2024-09-28", "2023-09-30", "2020-12-16", "2019-01-16"}));
  for (const auto& p : s.at("periods")) {
    EXPECT_NE(p.at("items").at("revenue").at("value"), 272);
    EXPECT_NE(p.at("items").at("revenue").at("value"), 90);
  }
}

TEST(BuildStatementTest, QuarterlyTakesDurationsOf80To100DaysAndSkipsYearToDate) {
  const auto duration = [](const std::string& start, const std::string& end, const std::string& val,
                           const std::string& fp, const std::string& form = "10-Q") {
    return Make({.concept_name = "us-gaap:Revenues", .val = val, .start = start, .end = end, .form = form,
                 .filed = "2024-08-02", .fy = 2024, .fp = fp});
  };
  const json s = Build(StatementKind::kIncome, PeriodKind::kQuarterly,
                       {duration("2024-03-31", "2024-06-29", "85777000000", "Q3"),  // 90 days
                        duration("2023-10-01", "2024-06-29", "296105000000", "Q3"),  // 272-day year to date
                        duration("2023-12-31", "2024-03-30", "90753000000", "Q2"),
                        duration("2023-10-01", "2024-09-28", "391035000000", "FY", "10-K"),  // annual
                        duration("2023-01-01", "2023-03-22", "80", "Q1"),   // 80 days: lower bound
                        duration("2022-01-01", "2022-03-21", "79", "Q1"),   // 79 days
                        duration("2021-01-01", "2021-04-11", "100", "Q1"),  // 100 days: upper bound
                        duration("2020-01-01", "2020-04-11", "101", "Q1")});  // 101 days
  EXPECT_EQ(Ends(s), (std::vector<std::string>{"2024-06-29", "2024-03-30", "2023-03-22", "2021-04-11"}));
  const auto& periods = s.at("periods");
  EXPECT_EQ(s.at("period"), "quarterly");
  EXPECT_EQ(periods[0].at("start"), "2024-03-31");
  EXPECT_EQ(periods[0].at("items").at("revenue").at("value").get<std::int64_t>(), 85777000000);
  // The quarter's fiscal period is the first filing's fp, not "FY".
  EXPECT_EQ(periods[0].at("fiscalPeriod"), "Q3");
  EXPECT_EQ(periods[1].at("fiscalPeriod"), "Q2");
}

TEST(BuildStatementTest, RestatedValueWinsAndFiscalYearComesFromTheFirstFiling) {
  // Given newest filing first: the builder must not depend on the order.
  const json s = Build(
      StatementKind::kIncome, PeriodKind::kAnnual,
      {Make({.concept_name = "us-gaap:Revenues", .val = "110", .start = "2023-10-01", .end = "2024-09-28",
             .form = "10-K", .filed = "2026-10-30", .fy = 2026, .accn = "third"}),
       Make({.concept_name = "us-gaap:Revenues", .val = "100", .start = "2023-10-01", .end = "2024-09-28",
             .form = "10-K", .filed = "2024-11-01", .fy = 2024, .accn = "first"}),
       Make({.concept_name = "us-gaap:Revenues", .val = "105", .start = "2023-10-01", .end = "2024-09-28",
             .form = "10-K/A", .filed = "2025-01-15", .fy = 2024, .accn = "amendment"})});
  ASSERT_EQ(s.at("periods").size(), 1u);
  const json& p = s.at("periods")[0];
  EXPECT_EQ(p.at("items").at("revenue").at("value"), 110);
  EXPECT_EQ(p.at("accn"), "third");
  EXPECT_EQ(p.at("filed"), "2026-10-30");
  EXPECT_EQ(p.at("fiscalYear"), 2024);
}

TEST(BuildStatementTest, SourceFilingIsTheLatestOfTheFirstLineItem) {
  const json s = Build(
      StatementKind::kIncome, PeriodKind::kAnnual,
      {Annual("us-gaap:Revenues", "100"),
       Make({.concept_name = "us-gaap:NetIncomeLoss", .val = "9", .start = "2023-10-01", .end = "2024-09-28",
             .form = "10-K/A", .filed = "2025-02-01", .fy = 2024}),
       Annual("us-gaap:NetIncomeLoss", "10")});
  const json& p = s.at("periods").at(0);
  EXPECT_EQ(p.at("form"), "10-K");
  EXPECT_EQ(p.at("filed"), "2024-11-01");
  EXPECT_EQ(p.at("items").at("netIncome").at("value"), 9);
}

TEST(BuildStatementTest, FiscalYearIsNullWhenTheFirstFilingHasNone) {
  const json s = Build(StatementKind::kIncome, PeriodKind::kAnnual,
                       {Make({.concept_name = "us-gaap:Revenues", .val = "1", .start = "2013-09-29", .end = "2014-09-27",
                              .form = "8-K", .filed = "2014-01-01", .fy = std::nullopt, .fp = std::nullopt})});
  ASSERT_EQ(s.at("periods").size(), 1u);
  EXPECT_TRUE(s.at("periods")[0].at("fiscalYear").is_null());
  EXPECT_EQ(s.at("periods")[0].at("fiscalPeriod"), "FY");
}

TEST(BuildStatementTest, NewestFirstAndLimited) {
  std::vector<StatementFact> facts;
  for (int year = 2015; year <= 2024; ++year) {
    const std::string y = std::to_string(year);
    const std::string prev = std::to_string(year - 1);
    facts.push_back(Annual("us-gaap:Revenues", y, prev + "-10-01", y + "-09-28", y + "-11-01", year));
  }
  std::reverse(facts.begin() + 3, facts.end());  // any order in
  const json s = Build(StatementKind::kIncome, PeriodKind::kAnnual, facts, 3);
  EXPECT_EQ(Ends(s), (std::vector<std::string>{"2024-09-28", "2023-09-28", "2022-09-28"}));
  EXPECT_EQ(s.at("periods")[0].at("fiscalYear"), 2024);
  EXPECT_EQ(s.at("periods")[2].at("items").at("revenue").at("value"), 2022);

  const json all = Build(StatementKind::kIncome, PeriodKind::kAnnual, facts, 40);
  EXPECT_EQ(all.at("periods").size(), 10u);
  const auto ends = Ends(all);
  EXPECT_TRUE(std::is_sorted(ends.rbegin(), ends.rend()));
}

TEST(BuildStatementTest, BalanceAnnualTakesInstantsOfAnnualReports) {
  const auto instant = [](const std::string& concept_name, const std::string& end, const std::string& val,
                          const std::string& form, const std::string& fp, const std::string& filed, std::int64_t fy) {
    return Make({.concept_name = concept_name, .val = val, .start = std::nullopt, .end = end, .form = form,
                 .filed = filed, .fy = fy, .fp = fp});
  };
  const std::vector<StatementFact> facts = {
      instant("us-gaap:Assets", "2024-09-28", "364980000000", "10-K", "FY", "2024-11-01", 2024),
      instant("us-gaap:Assets", "2023-09-30", "352583000000", "10-K", "FY", "2024-11-01", 2024),
      instant("us-gaap:Assets", "2023-09-30", "352583000000", "10-K", "FY", "2023-11-03", 2023),
      instant("us-gaap:Assets", "2024-06-29", "331612000000", "10-Q", "Q3", "2024-08-02", 2024),
      instant("us-gaap:Assets", "2024-12-28", "344085000000", "10-Q", "Q1", "2025-01-31", 2025),
      instant("us-gaap:AssetsCurrent", "2024-09-28", "152987000000", "10-K", "FY", "2024-11-01", 2024),
      // A duration of a balance concept is not a balance value.
      Make({.concept_name = "us-gaap:Assets", .val = "1", .start = "2023-10-01", .end = "2024-09-28", .filed = "2024-11-01",
            .fy = 2024}),
  };
  const json annual = Build(StatementKind::kBalance, PeriodKind::kAnnual, facts);
  EXPECT_EQ(annual.at("statement"), "balance");
  EXPECT_EQ(Ends(annual), (std::vector<std::string>{"2024-09-28", "2023-09-30"}));
  const json& latest = annual.at("periods")[0];
  EXPECT_FALSE(latest.contains("start"));
  EXPECT_EQ(latest.at("items").at("totalAssets").at("value").get<std::int64_t>(), 364980000000);
  EXPECT_EQ(latest.at("items").at("totalAssets").at("concept"), "us-gaap:Assets");
  EXPECT_EQ(latest.at("items").at("currentAssets").at("value").get<std::int64_t>(), 152987000000);
  // 2023-09-30 was first reported by the FY2023 10-K, then repeated by FY2024's.
  EXPECT_EQ(annual.at("periods")[1].at("fiscalYear"), 2023);
  EXPECT_EQ(annual.at("periods")[1].at("filed"), "2024-11-01");

  const json quarterly = Build(StatementKind::kBalance, PeriodKind::kQuarterly, facts);
  EXPECT_EQ(Ends(quarterly), (std::vector<std::string>{"2024-12-28", "2024-09-28", "2024-06-29", "2023-09-30"}));
  EXPECT_EQ(quarterly.at("periods")[0].at("fiscalPeriod"), "Q1");
  EXPECT_EQ(quarterly.at("periods")[1].at("fiscalPeriod"), "FY");
}

TEST(BuildStatementTest, BalanceAnnualSkipsTenKInstantsThatAreNotFiscalYearEnds) {
  // A 10-K whose fp is not FY (a transition report tagged otherwise) and a 10-Q's instants.
  const json s = Build(StatementKind::kBalance, PeriodKind::kAnnual,
                       {Make({.concept_name = "us-gaap:Assets", .val = "1", .end = "2024-06-29", .form = "10-Q",
                              .filed = "2024-08-02", .fy = 2024, .fp = "Q3"}),
                        Make({.concept_name = "us-gaap:Assets", .val = "2", .end = "2024-03-30", .form = "10-K",
                              .filed = "2024-05-02", .fy = 2024, .fp = "Q2"}),
                        Make({.concept_name = "us-gaap:Assets", .val = "3", .end = "2023-09-30", .form = "20-F",
                              .filed = "2023-12-02", .fy = 2023, .fp = "FY"})});
  EXPECT_EQ(Ends(s), std::vector<std::string>{"2023-09-30"});
}

TEST(BuildStatementTest, IfrsCompanyInItsOwnCurrency) {
  const auto ifrs = [](const std::string& concept_name, const std::string& unit, const std::string& val,
                       std::optional<std::string> start) {
    return Make({.concept_name = concept_name, .val = val, .start = std::move(start), .end = "2023-12-31", .form = "20-F",
                 .filed = "2024-04-30", .fy = 2023, .unit = unit});
  };
  const std::vector<StatementFact> facts = {
      ifrs("ifrs-full:Revenue", "CLP", "38436000000", "2023-01-01"),
      ifrs("ifrs-full:ProfitLoss", "CLP", "12000000000", "2023-01-01"),
      ifrs("ifrs-full:BasicEarningsLossPerShare", "CLP/shares", "412.5", "2023-01-01"),
      ifrs("ifrs-full:DilutedEarningsLossPerShare", "CLP", "999", "2023-01-01"),  // wrong unit for a per-share item
      ifrs("ifrs-full:Revenue", "EUR", "1", "2023-01-01"),                        // not the statement's currency
      ifrs("ifrs-full:Assets", "CLP", "500000000000", std::nullopt),
  };
  const json income = Build(StatementKind::kIncome, PeriodKind::kAnnual, facts);
  EXPECT_EQ(income.at("currency"), "CLP");
  ASSERT_EQ(income.at("periods").size(), 1u);
  const json& items = income.at("periods")[0].at("items");
  EXPECT_EQ(items.at("revenue").at("concept"), "ifrs-full:Revenue");
  EXPECT_EQ(items.at("revenue").at("unit"), "CLP");
  EXPECT_EQ(items.at("revenue").at("value").get<std::int64_t>(), 38436000000);
  EXPECT_EQ(items.at("netIncome").at("concept"), "ifrs-full:ProfitLoss");
  EXPECT_EQ(items.at("epsBasic").at("unit"), "CLP/shares");
  EXPECT_DOUBLE_EQ(items.at("epsBasic").at("value").get<double>(), 412.5);
  EXPECT_FALSE(items.contains("epsDiluted"));

  const json balance = Build(StatementKind::kBalance, PeriodKind::kAnnual, facts);
  EXPECT_EQ(balance.at("currency"), "CLP");
  EXPECT_EQ(balance.at("periods")[0].at("items").at("totalAssets").at("concept"), "ifrs-full:Assets");
}

TEST(BuildStatementTest, UsdWinsWhenReportedElseTheMostUsedCurrency) {
  const auto fact = [](const std::string& unit, const std::string& val) {
    return Make({.concept_name = "ifrs-full:Revenue", .val = val, .start = "2023-01-01", .end = "2023-12-31",
                 .form = "20-F", .filed = "2024-04-30", .fy = 2023, .unit = unit});
  };
  const json mostly_eur = Build(StatementKind::kIncome, PeriodKind::kAnnual,
                                {fact("CLP", "1"), fact("EUR", "2"), fact("EUR", "3"), fact("shares", "4"),
                                 fact("shares", "5"), fact("shares", "6")});
  EXPECT_EQ(mostly_eur.at("currency"), "EUR");
  EXPECT_EQ(mostly_eur.at("periods")[0].at("items").at("revenue").at("unit"), "EUR");

  const json usd = Build(StatementKind::kIncome, PeriodKind::kAnnual,
                         {fact("CLP", "1"), fact("CLP", "2"), fact("CLP", "3"), fact("USD", "4")});
  EXPECT_EQ(usd.at("currency"), "USD");
  EXPECT_EQ(usd.at("periods")[0].at("items").at("revenue").at("value"), 4);
}

TEST(BuildStatementTest, PerShareItemsUseCurrencyPerShare) {
  const json s = Build(StatementKind::kIncome, PeriodKind::kAnnual,
                       {Annual("us-gaap:Revenues", "391035000000"),
                        Make({.concept_name = "us-gaap:EarningsPerShareDiluted", .val = "7.46", .start = "2024-09-29",
                              .end = "2025-09-27", .filed = "2025-10-31", .fy = 2025, .unit = "USD/shares"}),
                        Make({.concept_name = "us-gaap:EarningsPerShareBasic", .val = "6.11", .start = "2023-10-01",
                              .end = "2024-09-28", .filed = "2024-11-01", .fy = 2024, .unit = "USD/shares"}),
                        // Per-share in plain USD is not an EPS value.
                        Make({.concept_name = "us-gaap:EarningsPerShareBasic", .val = "1000", .start = "2024-09-29",
                              .end = "2025-09-27", .filed = "2025-10-31", .fy = 2025, .unit = "USD"})});
  ASSERT_EQ(s.at("periods").size(), 2u);
  const json& fy2025 = s.at("periods")[0].at("items");
  EXPECT_EQ(fy2025.at("epsDiluted").at("unit"), "USD/shares");
  EXPECT_TRUE(fy2025.at("epsDiluted").at("value").is_number_float());
  EXPECT_DOUBLE_EQ(fy2025.at("epsDiluted").at("value").get<double>(), 7.46);
  EXPECT_FALSE(fy2025.contains("epsBasic"));
  EXPECT_FALSE(fy2025.contains("revenue"));
  const json& fy2024 = s.at("periods")[1].at("items");
  EXPECT_DOUBLE_EQ(fy2024.at("epsBasic").at("value").get<double>(), 6.11);
  EXPECT_EQ(fy2024.at("revenue").at("unit"), "USD");
}

TEST(BuildStatementTest, CashFlowItems) {
  const json s = Build(StatementKind::kCashFlow, PeriodKind::kAnnual,
                       {Annual("us-gaap:NetCashProvidedByUsedInOperatingActivities", "118254000000"),
                        Annual("us-gaap:PaymentsOfDividendsCommonStock", "-15234000000"),
                        Annual("us-gaap:Revenues", "1")});  // not a cash-flow concept
  ASSERT_EQ(s.at("periods").size(), 1u);
  const json& items = s.at("periods")[0].at("items");
  EXPECT_EQ(items.at("operatingCashFlow").at("value").get<std::int64_t>(), 118254000000);
  EXPECT_EQ(items.at("dividendsPaid").at("concept"), "us-gaap:PaymentsOfDividendsCommonStock");
  EXPECT_EQ(items.at("dividendsPaid").at("value").get<std::int64_t>(), -15234000000);
  EXPECT_EQ(items.size(), 2u);
}

TEST(BuildStatementTest, NoDataIsNotFound) {
  auto none = BuildStatement(kApple, StatementKind::kIncome, PeriodKind::kAnnual, 10, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "no annual income statement data for CIK 0000320193");

  // Only a quarter: nothing annual.
  auto only_quarter = BuildStatement(
      kApple, StatementKind::kIncome, PeriodKind::kAnnual, 10,
      {Make({.concept_name = "us-gaap:Revenues", .val = "1", .start = "2024-03-31", .end = "2024-06-29", .form = "10-Q",
             .filed = "2024-08-02", .fy = 2024, .fp = "Q3"})});
  ASSERT_FALSE(only_quarter.ok());
  EXPECT_EQ(only_quarter.status().code(), StatusCode::kNotFound);

  // Only income concepts: no balance sheet.
  auto no_balance = BuildStatement(kApple, StatementKind::kBalance, PeriodKind::kQuarterly, 10,
                                   {Annual("us-gaap:Revenues", "1")});
  ASSERT_FALSE(no_balance.ok());
  EXPECT_EQ(no_balance.status().message(), "no quarterly balance statement data for CIK 0000320193");
}

TEST(StatementKindTest, ParsesNamesAndListsChains) {
  EXPECT_EQ(ParseStatementKind("income"), StatementKind::kIncome);
  EXPECT_EQ(ParseStatementKind("balance"), StatementKind::kBalance);
  EXPECT_EQ(ParseStatementKind("cashflow"), StatementKind::kCashFlow);
  EXPECT_FALSE(ParseStatementKind("Income").has_value());
  EXPECT_FALSE(ParseStatementKind("cash-flow").has_value());
  EXPECT_FALSE(ParseStatementKind("").has_value());
  EXPECT_EQ(ParsePeriodKind("annual"), PeriodKind::kAnnual);
  EXPECT_EQ(ParsePeriodKind("quarterly"), PeriodKind::kQuarterly);
  EXPECT_FALSE(ParsePeriodKind("yearly").has_value());
  for (const auto kind : {StatementKind::kIncome, StatementKind::kBalance, StatementKind::kCashFlow}) {
    EXPECT_EQ(ParseStatementKind(StatementKindName(kind)), kind);
  }

  const auto& income = LineItems(StatementKind::kIncome);
  ASSERT_EQ(income.size(), 11u);
  EXPECT_EQ(income[0].name, "revenue");
  EXPECT_EQ(income[0].chain.front(), "us-gaap:Revenues");
  EXPECT_EQ(income[0].chain[1], "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax");
  EXPECT_EQ(income[0].chain.back(), "ifrs-full:Revenue");
  int per_share = 0;
  for (const auto& item : income) {
    if (item.per_share) {
      ++per_share;
      EXPECT_TRUE(item.name == "epsBasic" || item.name == "epsDiluted") << item.name;
    }
  }
  EXPECT_EQ(per_share, 2);
  EXPECT_EQ(LineItems(StatementKind::kBalance).size(), 8u);
  EXPECT_EQ(LineItems(StatementKind::kCashFlow).size(), 6u);

  const auto concepts = ChainConcepts(StatementKind::kBalance);
  EXPECT_NE(std::find(concepts.begin(), concepts.end(), "us-gaap:Assets"), concepts.end());
  EXPECT_NE(std::find(concepts.begin(), concepts.end(), "ifrs-full:EquityAndLiabilities"), concepts.end());
  EXPECT_EQ(std::find(concepts.begin(), concepts.end(), "us-gaap:Revenues"), concepts.end());
  std::size_t total = 0;
  for (const auto& item : LineItems(StatementKind::kBalance)) total += item.chain.size();
  EXPECT_EQ(concepts.size(), total);
}

// --- queries.h helpers ----------------------------------------------------------------------------

TEST(CompanyIdTest, AcceptsTickersAndCiks) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> cik;
    const char* ticker;
  };
  for (const Case& c : {Case{"AAPL", std::nullopt, "AAPL"}, Case{"aapl", std::nullopt, "AAPL"},
                        Case{"BRK-B", std::nullopt, "BRK-B"}, Case{"brk-b", std::nullopt, "BRK-B"},
                        Case{"BF.B", std::nullopt, "BF.B"}, Case{"A", std::nullopt, "A"},
                        Case{"ABCDEFGHIJ", std::nullopt, "ABCDEFGHIJ"}, Case{"320193", 320193, ""},
                        Case{"0000320193", 320193, ""}, Case{"CIK0000320193", 320193, ""}, Case{"cik320193", 320193, ""},
                        Case{"9999999999", 9999999999, ""}}) {
    auto id = ParseCompanyId(c.text);
    ASSERT_TRUE(id.ok()) << c.text << ": " << id.status();
    EXPECT_EQ(id->cik, c.cik) << c.text;
    EXPECT_EQ(id->ticker, c.ticker) << c.text;
  }
}

TEST(CompanyIdTest, RejectsMalformedIdentifiers) {
  for (const char* text : {"", "12345678901", "CIK12345678901", "AA PL", "0", "0000000000", "CIK0000000000",
                           "ABCDEFGHIJK", "AAPL!", "A/B", "A_B", "Ä", "AAPL\n", "%41APL"}) {
    auto id = ParseCompanyId(text);
    ASSERT_FALSE(id.ok()) << "'" << text << "' accepted";
    EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(id.status().message().find(std::string("'") + text + "'"), std::string::npos) << id.status();
  }
}

TEST(NumberFromNumericTest, IntegersStayIntegersAndFractionsBecomeDoubles) {
  const json big = NumberFromNumeric("359241000000");
  EXPECT_TRUE(big.is_number_integer());
  EXPECT_EQ(big.get<std::int64_t>(), 359241000000);
  EXPECT_EQ(big.dump(), "359241000000");

  const json negative = NumberFromNumeric("-42");
  EXPECT_TRUE(negative.is_number_integer());
  EXPECT_EQ(negative.get<std::int64_t>(), -42);

  const json eps = NumberFromNumeric("7.46");
  EXPECT_TRUE(eps.is_number_float());
  EXPECT_EQ(eps.dump(), "7.46");

  const json loss = NumberFromNumeric("-1.5");
  EXPECT_TRUE(loss.is_number_float());
  EXPECT_DOUBLE_EQ(loss.get<double>(), -1.5);

  const json exponent = NumberFromNumeric("1E+3");
  EXPECT_TRUE(exponent.is_number());
  EXPECT_DOUBLE_EQ(exponent.get<double>(), 1000.0);

  // Beyond int64: still a number, not an error.
  const json huge = NumberFromNumeric("123456789012345678901234");
  EXPECT_TRUE(huge.is_number_float());
  EXPECT_DOUBLE_EQ(huge.get<double>(), 1.23456789012345678901234e23);

  EXPECT_EQ(NumberFromNumeric("0"), 0);
}

TEST(PaddedCikTest, TenDigitsAfterCik) {
  EXPECT_EQ(PaddedCik(320193), "CIK0000320193");
  EXPECT_EQ(PaddedCik(1), "CIK0000000001");
  EXPECT_EQ(PaddedCik(9999999999), "CIK9999999999");
}

}  // namespace
}  // namespace financialapi::store
