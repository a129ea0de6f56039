#include "financialapi/sec/documents.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <algorithm>

namespace financialapi::sec {
namespace {

using nlohmann::json;

// Shape errors carry the JSON pointer of the offending value so a user can find it in a 4 MB file.
Status ShapeError(std::string_view document, const std::string& pointer, std::string_view expected) {
  return InvalidArgument(std::string(document) + ": " + (pointer.empty() ? "/" : pointer) + ": expected " +
                         std::string(expected));
}

std::string Escape(std::string_view key);

// PostgreSQL's text and jsonb cannot hold U+0000: a document with one would fail half-way through its
// load, so it is refused here with the pointer of the first string (or key) holding one.
std::optional<std::string> FirstNul(const json& value, const std::string& pointer) {
  if (value.is_string()) {
    if (value.get_ref<const std::string&>().find('\0') != std::string::npos) return pointer;
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      std::string at = pointer + "/" + Escape(key);
      if (key.find('\0') != std::string::npos) {
        // The message names the key without the NUL itself (messages go to logs and JSON).
        std::string printable;
        for (const char c : at) printable += c == '\0' ? std::string("\\u0000") : std::string(1, c);
        return printable;
      }
      if (auto found = FirstNul(member, at)) return found;
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (auto found = FirstNul(value[i], pointer + "/" + std::to_string(i))) return found;
    }
  }
  return std::nullopt;
}

StatusOr<json> ParseJson(std::string_view text, std::string_view document) {
  try {
    json parsed = json::parse(text.begin(), text.end());
    if (const auto nul = FirstNul(parsed, "")) {
      return ShapeError(document, *nul, "text without U+0000 (PostgreSQL cannot store it)");
    }
    return parsed;
  } catch (const json::parse_error& e) {
    // nlohmann's message repeats the position; keep its explanation after the last ": ".
    std::string detail = e.what();
    if (const auto colon = detail.rfind(": "); colon != std::string::npos) detail = detail.substr(colon + 2);
    return InvalidArgument(std::string(document) + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + detail);
  } catch (const json::out_of_range& e) {
    // A number too large for a double ("1e999"): nlohmann reports it without a byte offset.
    return InvalidArgument(std::string(document) + ": malformed JSON: a number too large for a double (" + e.what() + ")");
  }
}

std::string Escape(std::string_view key) {
  // RFC 6901: '~' → "~0", '/' → "~1" (units like "USD/shares" are keys).
  std::string out;
  for (const char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

StatusOr<std::int64_t> CikValue(const json& value, std::string_view document, const std::string& pointer) {
  if (value.is_number_unsigned() || value.is_number_integer()) {
    const auto cik = value.get<std::int64_t>();
    if (cik > 0 && cik <= 9'999'999'999) return cik;
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    std::int64_t cik = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), cik);
    if (error == std::errc() && end == text.data() + text.size() && cik > 0 && cik <= 9'999'999'999) return cik;
  }
  return ShapeError(document, pointer, "a CIK (a positive number of at most 10 digits)");
}

StatusOr<std::string> StringField(const json& object, const char* key, std::string_view document,
                                  const std::string& pointer) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return ShapeError(document, pointer + "/" + key, "a string");
  return it->get<std::string>();
}

// YYYY-MM-DD naming a real day of the years 0001..9999 (PostgreSQL's date refuses "2024-13-45" and
// year 0000, and would fail the load half-way).
bool IsDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (const std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const auto number = [&](std::size_t from, std::size_t length) {
    int value = 0;
    for (std::size_t i = from; i < from + length; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

// The columnar arrays of filings.recent or an older page, turned into rows.
Status ParseFilingColumns(const json& arrays, std::string_view document, const std::string& pointer,
                          std::vector<std::string>& columns, std::vector<Filing>& filings) {
  if (!arrays.is_object()) return ShapeError(document, pointer, "an object of columns");
  std::size_t rows = 0;
  bool first = true;
  for (const auto& [column, values] : arrays.items()) {
    if (!values.is_array()) return ShapeError(document, pointer + "/" + Escape(column), "an array");
    if (!first && values.size() != rows) {
      return ShapeError(document, pointer + "/" + Escape(column),
                        "an array of " + std::to_string(rows) + " values like the other columns");
    }
    rows = values.size();
    first = false;
    columns.push_back(column);
  }
  for (const char* required : {"accessionNumber", "form", "filingDate"}) {
    if (!arrays.contains(required)) return ShapeError(document, pointer + "/" + required, "a column");
  }
  filings.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    Filing filing;
    filing.row = json::object();
    for (const auto& column : columns) filing.row[column] = arrays[column][i];
    const auto at = [&](const char* column) { return pointer + "/" + column + "/" + std::to_string(i); };
    if (!filing.row["accessionNumber"].is_string()) return ShapeError(document, at("accessionNumber"), "a string");
    if (!filing.row["form"].is_string()) return ShapeError(document, at("form"), "a string");
    if (!filing.row["filingDate"].is_string() || !IsDate(filing.row["filingDate"].get_ref<const std::string&>())) {
      return ShapeError(document, at("filingDate"), "a date YYYY-MM-DD");
    }
    filing.accession_number = filing.row["accessionNumber"].get<std::string>();
    filing.form = filing.row["form"].get<std::string>();
    filing.filing_date = filing.row["filingDate"].get<std::string>();
    filings.push_back(std::move(filing));
  }
  return Status::Ok();
}

StatusOr<Fact> ParseFact(const json& value, std::string_view document, const std::string& pointer) {
  if (!value.is_object()) return ShapeError(document, pointer, "a fact object");
  Fact fact;
  FINANCIALAPI_ASSIGN_OR_RETURN(fact.end, StringField(value, "end", document, pointer));
  if (!IsDate(fact.end)) return ShapeError(document, pointer + "/end", "a date YYYY-MM-DD");
  if (const auto start = value.find("start"); start != value.end()) {
    if (!start->is_string() || !IsDate(start->get_ref<const std::string&>())) {
      return ShapeError(document, pointer + "/start", "a date YYYY-MM-DD");
    }
    fact.start = start->get<std::string>();
  }
  const auto val = value.find("val");
  if (val == value.end() || !val->is_number()) return ShapeError(document, pointer + "/val", "a number");
  if (val->is_number_float()) {
    // nlohmann prints the shortest text that reads back as the same double, which is what SEC wrote.
    fact.val = val->dump();
  } else if (val->is_number_unsigned()) {
    fact.val = std::to_string(val->get<std::uint64_t>());
  } else {
    fact.val = std::to_string(val->get<std::int64_t>());
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(fact.accn, StringField(value, "accn", document, pointer));
  if (const auto fy = value.find("fy"); fy != value.end() && !fy->is_null()) {
    // facts.fy is an int column.
    if (!fy->is_number_integer() || (fy->is_number_unsigned() && fy->get<std::uint64_t>() > INT32_MAX) ||
        (!fy->is_number_unsigned() && (fy->get<std::int64_t>() < INT32_MIN || fy->get<std::int64_t>() > INT32_MAX))) {
      return ShapeError(document, pointer + "/fy", "a year or null");
    }
    fact.fy = fy->get<std::int64_t>();
  }
  if (const auto fp = value.find("fp"); fp != value.end() && !fp->is_null()) {
    if (!fp->is_string()) return ShapeError(document, pointer + "/fp", "a string or null");
    fact.fp = fp->get<std::string>();
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(fact.form, StringField(value, "form", document, pointer));
  FINANCIALAPI_ASSIGN_OR_RETURN(fact.filed, StringField(value, "filed", document, pointer));
  if (!IsDate(fact.filed)) return ShapeError(document, pointer + "/filed", "a date YYYY-MM-DD");
  if (const auto frame = value.find("frame"); frame != value.end()) {
    if (!frame->is_string()) return ShapeError(document, pointer + "/frame", "a string");
    fact.frame = frame->get<std::string>();
  }
  return fact;
}

}  // namespace

std::optional<std::string> OptionalString(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

StatusOr<std::vector<TickerEntry>> ParseCompanyTickers(std::string_view text, std::string_view document) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const json parsed, ParseJson(text, document));
  if (!parsed.is_object()) return ShapeError(document, "", "an object of entries");
  std::vector<TickerEntry> entries;
  entries.reserve(parsed.size());
  for (const auto& [key, value] : parsed.items()) {
    const std::string pointer = "/" + Escape(key);
    if (!value.is_object() || !value.contains("cik_str")) return ShapeError(document, pointer, "{cik_str, ticker, title}");
    TickerEntry entry;
    FINANCIALAPI_ASSIGN_OR_RETURN(entry.cik, CikValue(value["cik_str"], document, pointer + "/cik_str"));
    FINANCIALAPI_ASSIGN_OR_RETURN(entry.ticker, StringField(value, "ticker", document, pointer));
    FINANCIALAPI_ASSIGN_OR_RETURN(entry.title, StringField(value, "title", document, pointer));
    // Keys are "0", "1", ...; their number is SEC's order (nlohmann sorts keys as text).
    int position = 0;
    const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), position);
    entry.position = (error == std::errc() && end == key.data() + key.size()) ? position : static_cast<int>(entries.size());
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.position < b.position; });
  return entries;
}

StatusOr<Submissions> ParseSubmissions(std::string_view text, std::string_view document) {
  FINANCIALAPI_ASSIGN_OR_RETURN(json parsed, ParseJson(text, document));
  if (!parsed.is_object()) return ShapeError(document, "", "a submissions object");
  Submissions out;
  if (!parsed.contains("cik")) return ShapeError(document, "/cik", "a CIK");
  FINANCIALAPI_ASSIGN_OR_RETURN(out.cik, CikValue(parsed["cik"], document, "/cik"));
  FINANCIALAPI_ASSIGN_OR_RETURN(out.name, StringField(parsed, "name", document, ""));
  if (const auto tickers = parsed.find("tickers"); tickers != parsed.end()) {
    if (!tickers->is_array()) return ShapeError(document, "/tickers", "an array of strings");
    for (std::size_t i = 0; i < tickers->size(); ++i) {
      if (!(*tickers)[i].is_string()) return ShapeError(document, "/tickers/" + std::to_string(i), "a string");
      out.tickers.push_back((*tickers)[i].get<std::string>());
    }
  }
  const auto filings = parsed.find("filings");
  if (filings == parsed.end() || !filings->is_object()) return ShapeError(document, "/filings", "an object");
  const auto recent = filings->find("recent");
  if (recent == filings->end()) return ShapeError(document, "/filings/recent", "an object of columns");
  FINANCIALAPI_RETURN_IF_ERROR(ParseFilingColumns(*recent, document, "/filings/recent", out.columns, out.recent));
  out.files = filings->value("files", json::array());
  if (!out.files.is_array()) return ShapeError(document, "/filings/files", "an array");
  for (std::size_t i = 0; i < out.files.size(); ++i) {
    if (!out.files[i].is_object() || !out.files[i].contains("name") || !out.files[i]["name"].is_string()) {
      return ShapeError(document, "/filings/files/" + std::to_string(i), "{name, filingCount, filingFrom, filingTo}");
    }
  }
  parsed.erase("filings");
  out.profile = std::move(parsed);
  return out;
}

StatusOr<SubmissionsPage> ParseSubmissionsPage(std::string_view text, std::string_view document) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const json parsed, ParseJson(text, document));
  SubmissionsPage out;
  FINANCIALAPI_RETURN_IF_ERROR(ParseFilingColumns(parsed, document, "", out.columns, out.filings));
  return out;
}

StatusOr<CompanyFacts> ParseCompanyFacts(std::string_view text, std::string_view document) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const json parsed, ParseJson(text, document));
  if (!parsed.is_object()) return ShapeError(document, "", "a companyfacts object");
  CompanyFacts out;
  if (!parsed.contains("cik")) return ShapeError(document, "/cik", "a CIK");
  FINANCIALAPI_ASSIGN_OR_RETURN(out.cik, CikValue(parsed["cik"], document, "/cik"));
  FINANCIALAPI_ASSIGN_OR_RETURN(out.entity_name, StringField(parsed, "entityName", document, ""));
  const auto facts = parsed.find("facts");
  // A company with no XBRL data has "facts": {} (or, in older dumps, an empty array).
  if (facts == parsed.end() || !(facts->is_object() || (facts->is_array() && facts->empty()))) {
    return ShapeError(document, "/facts", "an object of taxonomies");
  }
  for (const auto& [taxonomy, tags] : facts->items()) {
    const std::string taxonomy_pointer = "/facts/" + Escape(taxonomy);
    if (!tags.is_object()) return ShapeError(document, taxonomy_pointer, "an object of concepts");
    for (const auto& [tag, body] : tags.items()) {
      const std::string pointer = taxonomy_pointer + "/" + Escape(tag);
      if (!body.is_object()) return ShapeError(document, pointer, "{label, description, units}");
      Concept concept_entry{.taxonomy = taxonomy, .tag = tag, .label = OptionalString(body, "label"),
                            .description = OptionalString(body, "description"), .units = {}};
      const auto units = body.find("units");
      if (units == body.end() || !units->is_object()) return ShapeError(document, pointer + "/units", "an object of units");
      for (const auto& [unit, values] : units->items()) {
        const std::string unit_pointer = pointer + "/units/" + Escape(unit);
        if (!values.is_array()) return ShapeError(document, unit_pointer, "an array of facts");
        UnitFacts unit_facts{.unit = unit, .facts = {}};
        unit_facts.facts.reserve(values.size());
        for (std::size_t i = 0; i < values.size(); ++i) {
          FINANCIALAPI_ASSIGN_OR_RETURN(auto fact, ParseFact(values[i], document, unit_pointer + "/" + std::to_string(i)));
          unit_facts.facts.push_back(std::move(fact));
        }
        concept_entry.units.push_back(std::move(unit_facts));
      }
      out.concepts.push_back(std::move(concept_entry));
    }
  }
  return out;
}

std::size_t CompanyFacts::FactCount() const {
  std::size_t count = 0;
  for (const auto& c : concepts) {
    for (const auto& u : c.units) count += u.facts.size();
  }
  return count;
}

std::optional<DocumentName> ParseDocumentName(std::string_view file_name) {
  if (!file_name.starts_with("CIK") || !file_name.ends_with(".json") || file_name.size() < 18) return std::nullopt;
  const std::string_view digits = file_name.substr(3, 10);
  std::int64_t cik = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), cik);
  if (error != std::errc() || end != digits.data() + digits.size() || cik <= 0) return std::nullopt;
  const std::string_view rest = file_name.substr(13, file_name.size() - 13 - 5);
  if (rest.empty()) return DocumentName{.cik = cik, .is_page = false};
  if (rest.starts_with("-submissions-") && rest.size() > 13) return DocumentName{.cik = cik, .is_page = true};
  return std::nullopt;
}

}  // namespace financialapi::sec
