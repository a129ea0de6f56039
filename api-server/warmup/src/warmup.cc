#include "financialapi/warmup/warmup.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "financialapi/common/file.h"
#include "financialapi/common/strings.h"

namespace financialapi::warmup {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The flags, and the variables they fall back to.
struct Flag {
  std::string_view name;
  const char* variable;
};
enum FlagIndex : std::size_t { kApi, kTickers, kKeyFile, kTimeout, kDeadline };
constexpr std::array<Flag, 5> kFlags = {{{"--api", "WARMUP_API_URL"},
                                         {"--tickers", "WARMUP_TICKERS"},
                                         {"--api-key-file", "WARMUP_API_KEY_FILE"},
                                         {"--timeout", "WARMUP_TIMEOUT_SECONDS"},
                                         {"--deadline", "WARMUP_DEADLINE_SECONDS"}}};

bool IsTickerChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

StatusOr<int> ParsePort(std::string_view text) {
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return InvalidArgument("port '" + std::string(text) + "' is not a number 1..65535");
  }
  return port;
}

StatusOr<milliseconds> ParseSeconds(std::string_view text, long max) {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 1 || value > max) {
    return InvalidArgument("expected whole seconds 1.." + std::to_string(max) + ", got '" + std::string(text) + "'");
  }
  return milliseconds(seconds(value));
}

// A Retry-After in delay-seconds; nullopt when absent or not digits (HTTP dates are not used by the API).
std::optional<Clock::Duration> RetryAfter(const Reply& reply) {
  const auto header = reply.Header("retry-after");
  if (!header) return std::nullopt;
  const std::string_view text = Trim(*header);
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return seconds(std::min(value, 86400L));
}

// The API's {"error":{"message":...}}, else the body's first line (gzip undone), else "HTTP <status>".
std::string ErrorMessage(const Reply& reply) {
  std::string body = reply.body;
  if (const auto encoding = reply.Header("content-encoding"); encoding && AsciiLower(Trim(*encoding)) == "gzip") {
    auto plain = http::GzipDecompress(body);
    body = plain.ok() ? std::move(plain).value() : std::string();
  }
  const auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object() &&
      parsed["error"].contains("message") && parsed["error"]["message"].is_string()) {
    return parsed["error"]["message"].get<std::string>();
  }
  std::string line(Trim(body.substr(0, body.find('\n'))));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line.empty() ? "HTTP " + std::to_string(reply.status) : line;
}

std::string SecondsText(Clock::Duration duration) {
  const double value = std::chrono::duration<double>(duration).count();
  char text[32];
  std::snprintf(text, sizeof text, value == std::floor(value) ? "%.0f s" : "%.1f s", value);
  return text;
}

}  // namespace

std::string ApiUrl::HostHeader() const {
  const std::string name = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return port == 80 ? name : name + ":" + std::to_string(port);
}

StatusOr<ApiUrl> ParseApiUrl(std::string_view url) {
  const auto invalid = [&](const std::string& why) {
    return InvalidArgument("'" + std::string(url) + "' is not an API URL like http://prod-api:80: " + why);
  };
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return invalid("no http://");
  const std::string scheme = AsciiLower(url.substr(0, scheme_end));
  if (scheme != "http") {
    return invalid(scheme == "https" ? "https is not supported (the warm-up calls the API Service in the cluster)"
                                     : "the scheme must be http");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return invalid("no query or fragment");
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return invalid("no credentials in the URL");
  std::string_view host = authority;
  std::optional<std::string_view> port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed [ in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return invalid("unexpected text after ]");
    if (!after.empty()) port_text = after.substr(1);
  } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return invalid("no host");
  ApiUrl api{.host = std::string(host)};
  if (port_text) {
    auto port = ParsePort(*port_text);
    if (!port.ok()) return invalid(port.status().message());
    api.port = *port;
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  api.base_path = std::string(path);
  return api;
}

StatusOr<std::string> FirstApiKey(const std::string& path) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::string_view key = Trim(line);
    if (key.empty() || key.front() == '#') continue;
    // It goes into a header: a control character would end it early or smuggle in another.
    if (std::any_of(key.begin(), key.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return InvalidArgument(path + ": the first key holds a control character");
    }
    return std::string(key);
  }
  return InvalidArgument(path + " holds no API key (one a line; blank lines and # comments are skipped)");
}

StatusOr<std::vector<std::string>> ParseTickers(std::string_view list) {
  std::vector<std::string> tickers;
  std::string text(list);
  std::replace_if(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }, ',');
  for (const std::string_view entry : SplitAndTrim(text, ',')) {
    if (entry.empty()) continue;
    if (entry.size() > 13 || !std::all_of(entry.begin(), entry.end(), IsTickerChar)) {
      return InvalidArgument("'" + std::string(entry) +
                             "' is not a ticker or CIK (1-13 letters, digits, '.' or '-', like AAPL, BRK-B or 320193)");
    }
    if (std::find(tickers.begin(), tickers.end(), entry) == tickers.end()) tickers.emplace_back(entry);
  }
  return tickers;
}

std::vector<std::string> Targets(const ApiUrl& api, const std::vector<std::string>& tickers) {
  constexpr std::string_view kPlaceholder = "{ticker}";
  std::vector<std::string> targets;
  targets.reserve(tickers.size() * kEndpoints.size());
  for (const std::string& ticker : tickers) {
    for (const std::string_view endpoint : kEndpoints) {
      std::string target = api.base_path + std::string(endpoint);
      target.replace(target.find(kPlaceholder), kPlaceholder.size(), ticker);
      targets.push_back(std::move(target));
    }
  }
  return targets;
}

StatusOr<Options> ParseOptions(const std::vector<std::string>& args, const EnvironmentLookup& given) {
  const EnvironmentLookup env = given ? given : [](const char* name) { return GetEnv(name); };
  Options options;
  std::vector<std::optional<std::string>> values(kFlags.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      return options;
    }
    const std::size_t equals = arg.find('=');
    const std::string_view name = std::string_view(arg).substr(0, equals);
    const auto flag = std::find_if(kFlags.begin(), kFlags.end(), [&](const Flag& f) { return f.name == name; });
    if (flag == kFlags.end()) {
      return InvalidArgument(arg.starts_with('-') ? "unknown flag " + std::string(name) + " (see --help)"
                                                  : "unexpected argument '" + arg + "' (see --help)");
    }
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return InvalidArgument(std::string(name) + ": missing value");
    }
    if (value.empty()) return InvalidArgument(std::string(name) + ": empty value");
    values[static_cast<std::size_t>(flag - kFlags.begin())] = std::move(value);
  }
  // The flag's value with the name to blame, else the variable's, else nothing.
  const auto lookup = [&](FlagIndex index) -> std::optional<std::pair<std::string, std::string>> {
    if (values[index]) return std::pair{std::string(kFlags[index].name), *values[index]};
    if (auto value = env(kFlags[index].variable); value && !value->empty()) {
      return std::pair{std::string(kFlags[index].variable), *value};
    }
    return std::nullopt;
  };
  const auto blame = [](const std::string& who, const Status& status) { return InvalidArgument(who + ": " + status.message()); };

  const auto api = lookup(kApi);
  if (!api) return InvalidArgument("no API URL: give --api URL or WARMUP_API_URL (e.g. http://prod-api:80)");
  auto url = ParseApiUrl(api->second);
  if (!url.ok()) return blame(api->first, url.status());
  options.api = std::move(url).value();

  const auto tickers = lookup(kTickers);
  if (tickers) {
    auto parsed = ParseTickers(tickers->second);
    if (!parsed.ok()) return blame(tickers->first, parsed.status());
    options.tickers = std::move(parsed).value();
  }
  if (options.tickers.empty()) return InvalidArgument("no tickers: give --tickers AAPL,MSFT or WARMUP_TICKERS");

  if (const auto key_file = lookup(kKeyFile)) {
    auto key = FirstApiKey(key_file->second);
    if (!key.ok()) return blame(key_file->first, key.status());
    options.api_key = std::move(key).value();
  }
  if (const auto timeout = lookup(kTimeout)) {
    auto parsed = ParseSeconds(timeout->second, 3600);
    if (!parsed.ok()) return blame(timeout->first, parsed.status());
    options.request_timeout = *parsed;
  }
  if (const auto deadline = lookup(kDeadline)) {
    auto parsed = ParseSeconds(deadline->second, 86400);
    if (!parsed.ok()) return blame(deadline->first, parsed.status());
    options.deadline = *parsed;
  }
  return options;
}

std::optional<std::string_view> Reply::Header(std::string_view name) const {
  const std::string wanted = AsciiLower(name);
  for (const http::Header& header : headers) {
    if (AsciiLower(header.name) == wanted) return std::string_view(header.value);
  }
  return std::nullopt;
}

Report Run(const Options& options, Transport& transport, const Clock& clock, const Sleep& given_sleep,
           const std::function<void(const RequestResult&)>& on_result) {
  const Sleep sleep = given_sleep ? given_sleep : [](Clock::Duration d) { std::this_thread::sleep_for(d); };
  std::vector<http::Header> headers = {{"Accept-Encoding", "gzip"}};
  if (options.api_key) headers.push_back({std::string(kApiKeyHeader), *options.api_key});
  const auto started = clock.Now();
  const auto deadline_at = started + options.deadline;
  const std::string deadline_text = "the " + SecondsText(options.deadline) + " deadline";

  Report report;
  for (const std::string& target : Targets(options.api, options.tickers)) {
    RequestResult result{.target = target};
    int failures = 0;  // 5xx or no answer
    Clock::Duration backoff = options.first_backoff;
    while (true) {
      const auto now = clock.Now();
      if (now >= deadline_at) {
        result.error = (result.attempts == 0 ? "not sent: " : result.error + "; then ") + deadline_text + " passed";
        break;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline_at - now);
      ++result.attempts;
      auto reply = transport.Get(target, headers, std::clamp(left, milliseconds(1), options.request_timeout));
      Clock::Duration wait{};
      if (reply.ok()) {
        result.status = reply->status;
        if (reply->status >= 200 && reply->status < 300) {
          result.ok = true;
          result.error.clear();
          break;
        }
        result.error = ErrorMessage(*reply);
        if (reply->status == 429) {
          ++result.rate_limited;
          wait = std::min<Clock::Duration>(std::max<Clock::Duration>(RetryAfter(*reply).value_or(seconds(1)), seconds(1)),
                                           options.max_rate_limit_wait);
        } else if (reply->status >= 500) {
          if (++failures >= options.max_attempts) break;
          wait = std::min<Clock::Duration>(std::max(backoff, RetryAfter(*reply).value_or(Clock::Duration{})),
                                           options.max_rate_limit_wait);
          backoff = std::min<Clock::Duration>(backoff * 2, options.max_backoff);
        } else {
          break;  // 4xx (and anything else): asking again gets the same answer
        }
      } else {
        result.status = 0;
        result.error = reply.status().ToString();
        if (++failures >= options.max_attempts) break;
        wait = backoff;
        backoff = std::min<Clock::Duration>(backoff * 2, options.max_backoff);
      }
      if (clock.Now() + wait > deadline_at) {
        result.error += "; waiting " + SecondsText(wait) + " to retry would pass " + deadline_text;
        break;
      }
      sleep(wait);
    }
    ++(result.ok ? report.succeeded : report.failed);
    if (on_result) on_result(result);
    report.results.push_back(std::move(result));
  }
  report.elapsed = clock.Now() - started;
  return report;
}

std::string FormatResult(const RequestResult& result) {
  std::string line = result.ok ? "ok " : "FAILED ";
  line += result.status == 0 ? "---" : std::to_string(result.status);
  line += " " + result.target + " attempts=" + std::to_string(result.attempts);
  if (result.rate_limited > 0) line += " (" + std::to_string(result.rate_limited) + " rate-limited)";
  if (!result.ok) line += ": " + result.error;
  return line;
}

std::string FormatSummary(const Report& report) {
  int after_rate_limit = 0, after_errors = 0;
  for (const RequestResult& result : report.results) {
    // Every attempt but the first is a retry; a 429 that ended the request was not retried.
    const int retries = std::max(0, result.attempts - 1);
    const int waited_out = result.rate_limited - (!result.ok && result.status == 429 ? 1 : 0);
    after_rate_limit += waited_out;
    after_errors += retries - waited_out;
  }
  return "warm-up: " + std::to_string(report.results.size()) + " requests, " + std::to_string(report.succeeded) +
         " succeeded, " + std::to_string(report.failed) + " failed; " + std::to_string(after_rate_limit) +
         " retries after 429, " + std::to_string(after_errors) + " after errors; " + SecondsText(report.elapsed);
}

}  // namespace financialapi::warmup
