#include "financialapi/common/logging.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "financialapi/common/redact.h"
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace financialapi {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// A JSON string literal of any bytes: invalid UTF-8 becomes U+FFFD instead of the type_error.316
// that dump() throws by default (a log line must never throw, whatever a peer or a library sent).
std::string JsonString(std::string_view value) {
  return nlohmann::json(std::string(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Text values are quoted only when they need it, as logfmt does.
std::string TextValue(const std::string& value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\t\n") == std::string::npos;
  return plain ? value : JsonString(value);
}

}  // namespace

bool ParseLogFormat(std::string_view name, LogFormat& out) {
  if (name == "text") out = LogFormat::kText;
  else if (name == "json") out = LogFormat::kJson;
  else return false;
  return true;
}

bool ParseLogLevel(std::string_view name, LogLevel& out) {
  if (name == "debug") out = LogLevel::kDebug;
  else if (name == "info") out = LogLevel::kInfo;
  else if (name == "warn") out = LogLevel::kWarn;
  else if (name == "error") out = LogLevel::kError;
  else return false;
  return true;
}

void ConfigureLogging(LogFormat format, LogLevel level) {
  g_format.store(format);
  spdlog::set_level(ToSpdlog(level));
  if (format == LogFormat::kJson) {
    spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  }
}

Logger Logger::With(std::string key, std::string value) const {
  Logger copy = *this;
  copy.fields_.emplace_back(std::move(key), std::move(value));
  return copy;
}

std::string Logger::Format(std::string_view message, const LogFields& extra, LogFormat format) const {
  // Passwords are removed here, once for every caller: messages quote URLs and conninfo strings.
  if (format == LogFormat::kJson) {
    // The pattern supplies the braces and ts/level; this is the rest of the object.
    std::string out = "\"msg\":" + JsonString(RedactSecrets(message));
    for (const auto* fields : {&fields_, &extra}) {
      for (const auto& [key, value] : *fields) out += "," + JsonString(key) + ":" + JsonString(RedactSecrets(value));
    }
    return out;
  }
  std::string out = RedactSecrets(message);
  for (const auto* fields : {&fields_, &extra}) {
    for (const auto& [key, value] : *fields) out += " " + key + "=" + TextValue(RedactSecrets(value));
  }
  return out;
}

void Logger::Log(LogLevel level, std::string_view message, const LogFields& extra) const {
  const auto spd_level = ToSpdlog(level);
  if (!spdlog::should_log(spd_level)) return;
  // Logging is called from catch blocks and destructors: nothing may escape it (bad_alloc included).
  try {
    spdlog::log(spd_level, "{}", Format(message, extra, g_format.load()));
  } catch (...) {
  }
}

void Logger::Debug(std::string_view message, const LogFields& extra) const { Log(LogLevel::kDebug, message, extra); }
void Logger::Info(std::string_view message, const LogFields& extra) const { Log(LogLevel::kInfo, message, extra); }
void Logger::Warn(std::string_view message, const LogFields& extra) const { Log(LogLevel::kWarn, message, extra); }
void Logger::Error(std::string_view message, const LogFields& extra) const { Log(LogLevel::kError, message, extra); }

}  // namespace financialapi
