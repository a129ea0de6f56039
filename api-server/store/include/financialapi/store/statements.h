// Standardized financial statements built from a company's facts: each line item takes the first
// concept of its fallback chain the company reports for a period (rules in docs/api.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"
#include "financialapi/db/postgres.h"
#include "financialapi/store/queries.h"

namespace financialapi::store {

enum class StatementKind { kIncome, kBalance, kCashFlow };
enum class PeriodKind { kAnnual, kQuarterly };

// "income" | "balance" | "cashflow" / "annual" | "quarterly"; nullopt otherwise.
std::optional<StatementKind> ParseStatementKind(std::string_view text);
std::optional<PeriodKind> ParsePeriodKind(std::string_view text);
std::string_view StatementKindName(StatementKind kind);
std::string_view PeriodKindName(PeriodKind period);

struct LineItem {
  std::string_view name;                 // "revenue"
  std::vector<std::string_view> chain;   // "us-gaap:Revenues", ... in order of preference
  bool per_share = false;                // unit <currency>/shares
};
const std::vector<LineItem>& LineItems(StatementKind kind);
// Every concept any line item of `kind` may use.
std::vector<std::string> ChainConcepts(StatementKind kind);

// One fact row as the statement builder needs it.
struct StatementFact {
  std::string concept_name;  // "us-gaap:Revenues"
  std::string unit;
  std::optional<std::string> start;
  std::string end;
  std::string val;  // numeric text
  std::string accn;
  std::optional<std::int64_t> fy;
  std::optional<std::string> fp;
  std::string form;
  std::string filed;
};

// Pure: the statement document from facts (any order). NotFound when no line item has a value for
// any period ("no annual income statement data for ...").
StatusOr<nlohmann::json> BuildStatement(const Company& company, StatementKind kind, PeriodKind period, int limit,
                                        const std::vector<StatementFact>& facts);

// Reads the company's facts for the statement's concepts and builds it.
StatusOr<nlohmann::json> Statement(db::PostgresConnection& connection, const Company& company, StatementKind kind,
                                   PeriodKind period, int limit);

}  // namespace financialapi::store
