#include "financialapi/store/statements.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <map>
#include <set>

namespace financialapi::store {
namespace {

using nlohmann::json;

const std::vector<LineItem> kIncome = {
    {"revenue",
     {"us-gaap:Revenues", "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
      "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax", "us-gaap:SalesRevenueNet", "ifrs-full:Revenue"}},
    {"costOfRevenue",
     {"us-gaap:CostOfRevenue", "us-gaap:CostOfGoodsAndServicesSold", "us-gaap:CostOfGoodsSold", "ifrs-full:CostOfSales"}},
    {"grossProfit", {"us-gaap:GrossProfit", "ifrs-full:GrossProfit"}},
    {"researchAndDevelopment", {"us-gaap:ResearchAndDevelopmentExpense"}},
    {"sellingGeneralAdministrative", {"us-gaap:SellingGeneralAndAdministrativeExpense"}},
    {"operatingExpenses", {"us-gaap:OperatingExpenses", "us-gaap:CostsAndExpenses"}},
    {"operatingIncome", {"us-gaap:OperatingIncomeLoss", "ifrs-full:ProfitLossFromOperatingActivities"}},
    {"incomeTaxExpense", {"us-gaap:IncomeTaxExpenseBenefit", "ifrs-full:IncomeTaxExpenseContinuingOperations"}},
    {"netIncome", {"us-gaap:NetIncomeLoss", "us-gaap:ProfitLoss", "ifrs-full:ProfitLoss"}},
    {"epsBasic", {"us-gaap:EarningsPerShareBasic", "ifrs-full:BasicEarningsLossPerShare"}, true},
    {"epsDiluted", {"us-gaap:EarningsPerShareDiluted", "ifrs-full:DilutedEarningsLossPerShare"}, true},
};
const std::vector<LineItem> kBalance = {
    {"cash", {"us-gaap:CashAndCashEquivalentsAtCarryingValue", "ifrs-full:CashAndCashEquivalents"}},
    {"currentAssets", {"us-gaap:AssetsCurrent", "ifrs-full:CurrentAssets"}},
    {"totalAssets", {"us-gaap:Assets", "ifrs-full:Assets"}},
    {"currentLiabilities", {"us-gaap:LiabilitiesCurrent", "ifrs-full:CurrentLiabilities"}},
    {"totalLiabilities", {"us-gaap:Liabilities", "ifrs-full:Liabilities"}},
    {"longTermDebt",
     {"us-gaap:LongTermDebtNoncurrent", "us-gaap:LongTermDebt", "ifrs-full:NoncurrentPortionOfNoncurrentLoansReceived"}},
    {"stockholdersEquity",
     {"us-gaap:StockholdersEquity", "us-gaap:StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest",
      "ifrs-full:Equity"}},
    {"liabilitiesAndEquity", {"us-gaap:LiabilitiesAndStockholdersEquity", "ifrs-full:EquityAndLiabilities"}},
};
const std::vector<LineItem> kCashFlow = {
    {"operatingCashFlow",
     {"us-gaap:NetCashProvidedByUsedInOperatingActivities", "ifrs-full:CashFlowsFromUsedInOperatingActivities"}},
    {"investingCashFlow",
     {"us-gaap:NetCashProvidedByUsedInInvestingActivities", "ifrs-full:CashFlowsFromUsedInInvestingActivities"}},
    {"financingCashFlow",
     {"us-gaap:NetCashProvidedByUsedInFinancingActivities", "ifrs-full:CashFlowsFromUsedInFinancingActivities"}},
    {"capitalExpenditure",
     {"us-gaap:PaymentsToAcquirePropertyPlantAndEquipment",
      "ifrs-full:PurchaseOfPropertyPlantAndEquipmentClassifiedAsInvestingActivities"}},
    {"dividendsPaid",
     {"us-gaap:PaymentsOfDividends", "us-gaap:PaymentsOfDividendsCommonStock",
      "ifrs-full:DividendsPaidClassifiedAsFinancingActivities"}},
    {"shareRepurchases", {"us-gaap:PaymentsForRepurchaseOfCommonStock"}},
};

std::optional<std::chrono::sys_days> ParseDate(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() != 10) return std::nullopt;
  std::from_chars(text.data(), text.data() + 4, y);
  std::from_chars(text.data() + 5, text.data() + 7, m);
  std::from_chars(text.data() + 8, text.data() + 10, d);
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date);
}

bool IsAnnualForm(std::string_view form) {
  for (const std::string_view annual : {"10-K", "10-K/A", "10-KT", "10-KT/A", "20-F", "20-F/A", "40-F", "40-F/A"}) {
    if (form == annual) return true;
  }
  return false;
}

// The periodic reports whose balance-sheet instants count for quarterly statements (an 8-K's do not).
bool IsPeriodicForm(std::string_view form) {
  return IsAnnualForm(form) || form == "10-Q" || form == "10-Q/A" || form == "6-K" || form == "6-K/A";
}

// Whether a fact describes a period of the requested kind.
bool InPeriod(const StatementFact& fact, StatementKind kind, PeriodKind period) {
  if (kind == StatementKind::kBalance) {
    if (fact.start) return false;
    return period == PeriodKind::kQuarterly ? IsPeriodicForm(fact.form) : (IsAnnualForm(fact.form) && fact.fp == "FY");
  }
  if (!fact.start) return false;
  const auto start = ParseDate(*fact.start);
  const auto end = ParseDate(fact.end);
  if (!start || !end) return false;
  const auto days = (*end - *start).count();
  return period == PeriodKind::kAnnual ? (days >= 350 && days <= 380) : (days >= 80 && days <= 100);
}

// A period is its end date, and start date for durations.
using PeriodKey = std::pair<std::string, std::string>;  // (end, start or "")

struct Occurrences {
  const StatementFact* latest = nullptr;    // most recent filing: restatements win
  const StatementFact* earliest = nullptr;  // first filing: its fy is the period's fiscal year
};

bool FiledBefore(const StatementFact& a, const StatementFact& b) { return a.filed < b.filed; }

std::string ChooseCurrency(const std::vector<StatementFact>& facts) {
  std::map<std::string, int> counts;
  for (const auto& fact : facts) {
    if (fact.unit == "USD") return "USD";
    const bool iso_currency = fact.unit.size() == 3 && std::all_of(fact.unit.begin(), fact.unit.end(),
                                                                   [](char c) { return c >= 'A' && c <= 'Z'; });
    if (iso_currency) ++counts[fact.unit];
  }
  std::string best;
  int best_count = 0;
  for (const auto& [unit, count] : counts) {
    if (count > best_count) {
      best = unit;
      best_count = count;
    }
  }
  return best;
}

}  // namespace

std::optional<StatementKind> ParseStatementKind(std::string_view text) {
  if (text == "income") return StatementKind::kIncome;
  if (text == "balance") return StatementKind::kBalance;
  if (text == "cashflow") return StatementKind::kCashFlow;
  return std::nullopt;
}

std::optional<PeriodKind> ParsePeriodKind(std::string_view text) {
  if (text == "annual") return PeriodKind::kAnnual;
  if (text == "quarterly") return PeriodKind::kQuarterly;
  return std::nullopt;
}

std::string_view PeriodKindName(PeriodKind period) { return period == PeriodKind::kAnnual ? "annual" : "quarterly"; }

std::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kIncome: return "income";
    case StatementKind::kBalance: return "balance";
    case StatementKind::kCashFlow: return "cashflow";
  }
  return "income";
}

const std::vector<LineItem>& LineItems(StatementKind kind) {
  switch (kind) {
    case StatementKind::kIncome: return kIncome;
    case StatementKind::kBalance: return kBalance;
    case StatementKind::kCashFlow: return kCashFlow;
  }
  return kIncome;
}

std::vector<std::string> ChainConcepts(StatementKind kind) {
  std::vector<std::string> concepts;
  for (const auto& item : LineItems(kind)) {
    for (const auto& name : item.chain) concepts.emplace_back(name);
  }
  return concepts;
}

StatusOr<json> BuildStatement(const Company& company, StatementKind kind, PeriodKind period, int limit,
                              const std::vector<StatementFact>& facts) {
  const std::string currency = ChooseCurrency(facts);
  // concept → period → occurrences, for facts in the statement's currency and period kind.
  std::map<std::string, std::map<PeriodKey, Occurrences>, std::less<>> by_concept;
  for (const auto& item : LineItems(kind)) {
    const std::string unit = item.per_share ? currency + "/shares" : currency;
    for (const auto& concept_name : item.chain) {
      for (const auto& fact : facts) {
        if (fact.concept_name != concept_name || fact.unit != unit || !InPeriod(fact, kind, period)) continue;
        auto& occurrences = by_concept[std::string(concept_name)][{fact.end, fact.start.value_or("")}];
        if (occurrences.latest == nullptr || !FiledBefore(fact, *occurrences.latest)) occurrences.latest = &fact;
        if (occurrences.earliest == nullptr || FiledBefore(fact, *occurrences.earliest)) occurrences.earliest = &fact;
      }
    }
  }
  std::set<PeriodKey, std::greater<>> periods;  // newest first
  for (const auto& [concept_name, by_period] : by_concept) {
    for (const auto& [key, occurrences] : by_period) periods.insert(key);
  }
  if (periods.empty()) {
    return NotFound("no " + std::string(PeriodKindName(period)) + " " + std::string(StatementKindName(kind)) +
                    " statement data for CIK " + TenDigitCik(company.cik));
  }
  json out_periods = json::array();
  for (const auto& key : periods) {
    if (static_cast<int>(out_periods.size()) >= limit) break;
    json items = json::object();
    const StatementFact* source = nullptr;
    const StatementFact* first_report = nullptr;
    for (const auto& item : LineItems(kind)) {
      for (const auto& concept_name : item.chain) {
        const auto concept_it = by_concept.find(concept_name);
        if (concept_it == by_concept.end()) continue;
        const auto found = concept_it->second.find(key);
        if (found == concept_it->second.end()) continue;
        const StatementFact& fact = *found->second.latest;
        items[std::string(item.name)] = {{"value", NumberFromNumeric(fact.val)}, {"unit", fact.unit},
                                         {"concept", std::string(concept_name)}};
        if (source == nullptr) source = &fact;
        if (first_report == nullptr || FiledBefore(*found->second.earliest, *first_report)) {
          first_report = found->second.earliest;
        }
        break;
      }
    }
    json entry = {{"fiscalYear", first_report->fy ? json(*first_report->fy) : json(nullptr)},
                  {"fiscalPeriod", period == PeriodKind::kAnnual ? json("FY")
                                                                  : (first_report->fp ? json(*first_report->fp) : json(nullptr))},
                  {"end", key.first},
                  {"form", source->form},
                  {"filed", source->filed},
                  {"accn", source->accn},
                  {"items", std::move(items)}};
    if (!key.second.empty()) entry["start"] = key.second;
    out_periods.push_back(std::move(entry));
  }
  return json{{"cik", company.cik},
              {"entityName", company.name},
              {"statement", StatementKindName(kind)},
              {"period", PeriodKindName(period)},
              {"currency", currency},
              {"periods", std::move(out_periods)}};
}

StatusOr<json> Statement(db::PostgresConnection& connection, const Company& company, StatementKind kind,
                         PeriodKind period, int limit) {
  FINANCIALAPI_ASSIGN_OR_RETURN(
      auto rows, connection.Execute("SELECT co.taxonomy || ':' || co.tag, f.unit, f.start_date, f.end_date, f.val, "
                                    "f.accn, f.fy, f.fp, f.form, f.filed FROM facts f "
                                    "JOIN concepts co ON co.id = f.concept_id "
                                    // (taxonomy, tag) pairs, so the lookup uses the concepts' unique index
                                    "WHERE f.cik = $1 AND (co.taxonomy, co.tag) IN (SELECT split_part(n, ':', 1), "
                                    "split_part(n, ':', 2) FROM unnest($2::text[]) AS n) "
                                    "ORDER BY f.filed, f.concept_id, f.unit_position, f.position",
                                    {std::to_string(company.cik), db::TextArrayLiteral(ChainConcepts(kind))}));
  std::vector<StatementFact> facts;
  facts.reserve(rows.rows.size());
  for (auto& row : rows.rows) {
    StatementFact fact;
    fact.concept_name = row[0].value_or("");
    fact.unit = row[1].value_or("");
    fact.start = row[2];
    fact.end = row[3].value_or("");
    fact.val = row[4].value_or("0");
    fact.accn = row[5].value_or("");
    if (row[6]) fact.fy = std::stoll(*row[6]);
    fact.fp = row[7];
    fact.form = row[8].value_or("");
    fact.filed = row[9].value_or("");
    facts.push_back(std::move(fact));
  }
  return BuildStatement(company, kind, period, limit, facts);
}

}  // namespace financialapi::store
