// Structured logs on spdlog: a message plus key/value fields (controller, namespace, name,
// reconcileID …), printed as `msg key=value` text or as one JSON object per line.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace financialapi {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Sets the process-wide format and level (flags --log-format, --log-level). Unknown names fall back to
// text/info; ParseLog* return false for them so callers can complain.
void ConfigureLogging(LogFormat format, LogLevel level);
bool ParseLogFormat(std::string_view name, LogFormat& out);
bool ParseLogLevel(std::string_view name, LogLevel& out);

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
 public:
  Logger() = default;
  explicit Logger(LogFields fields) : fields_(std::move(fields)) {}

  // A logger that adds `key=value` to every line.
  Logger With(std::string key, std::string value) const;

  void Debug(std::string_view message, const LogFields& extra = {}) const;
  void Info(std::string_view message, const LogFields& extra = {}) const;
  void Warn(std::string_view message, const LogFields& extra = {}) const;
  void Error(std::string_view message, const LogFields& extra = {}) const;

  // The formatted line body (without time and level), for tests.
  std::string Format(std::string_view message, const LogFields& extra, LogFormat format) const;

 private:
  void Log(LogLevel level, std::string_view message, const LogFields& extra) const;
  LogFields fields_;
};

}  // namespace financialapi
