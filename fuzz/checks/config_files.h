// Checkers for the configuration files the operator writes, after the parsers of the programs that read
// them; each returns "" when the text is well-formed, else the first problem with its line. They are
// themselves checked against the real programs on the fuzz corpus (tests/unit/fuzz_checkers_test.sh).
//
// postgresql.conf (PostgreSQL's guc-file.l): each line is blank, a #-comment, or
//   name [=] value [# comment]
// with name [A-Za-z_][A-Za-z0-9_$]* (optionally one "qualifier." part) and value a quoted string
// '...' ('' or \x inside), or a bare number/word. No include/include_dir/include_if_exists: the
// operator's file loads no other file.
// redis.conf (Redis's sdssplitargs per line): a directive and its arguments, words or "..." / '...'
// quoted with balanced quotes; only the directives the operator writes, each with its arity.
// pgbouncer.ini (libusual's ini parser): [section] lines and key = value lines, no control bytes;
// [databases] values are libpq-style key=value lists with '...' quoting ('' inside).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checks/check.h"

namespace financialapi::fuzz {
namespace config_detail {

inline bool IsIdStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
inline bool IsIdChar(char c) { return IsIdStart(c) || (c >= '0' && c <= '9') || c == '$'; }
inline bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\r'; }

inline std::string At(std::size_t line, std::string_view what) { return "line " + std::to_string(line + 1) + ": " + std::string(what); }

inline void SkipBlanks(std::string_view& s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
}

// After an opening `quote`: consumes up to and including the closing one, a doubled quote standing
// for one (PgBouncer's and libpq's quoting). False when the line ends first or holds a NUL.
inline bool SkipDoubledQuoteString(std::string_view& s, char quote) {
  while (!s.empty()) {
    const char c = s.front();
    s.remove_prefix(1);
    if (c == '\0') return false;
    if (c != quote) continue;
    if (s.empty() || s.front() != quote) return true;
    s.remove_prefix(1);
  }
  return false;
}

}  // namespace config_detail

// Also fills `settings` (name lower-cased → unquoted value) for the caller's checks.
inline std::string PostgresConfProblem(std::string_view text, std::map<std::string, std::string>* settings = nullptr) {
  using namespace config_detail;
  const auto lines = SplitLines(text);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::string_view s = lines[n];
    SkipBlanks(s);
    if (s.empty() || s.front() == '#') continue;
    if (!IsIdStart(s.front())) return At(n, "a setting starts with a name");
    std::string name;
    bool qualified = false;
    while (!s.empty() && (IsIdChar(s.front()) || (s.front() == '.' && !qualified))) {
      if (s.front() == '.') {
        qualified = true;
        if (s.size() < 2 || !IsIdStart(s[1])) return At(n, "a qualified name has a name after its '.'");
      }
      name += (s.front() >= 'A' && s.front() <= 'Z') ? static_cast<char>(s.front() - 'A' + 'a') : s.front();
      s.remove_prefix(1);
    }
    if (name == "include" || name == "include_dir" || name == "include_if_exists") {
      return At(n, "the file includes another file (" + name + ")");
    }
    SkipBlanks(s);
    if (!s.empty() && s.front() == '=') s.remove_prefix(1);
    SkipBlanks(s);
    if (s.empty()) return At(n, "setting " + name + " has no value");
    std::string value;
    if (s.front() == '\'') {
      s.remove_prefix(1);
      bool closed = false;
      while (!s.empty()) {
        const char c = s.front();
        s.remove_prefix(1);
        if (c == '\\') {
          if (s.empty()) return At(n, "a backslash ends the line inside the value of " + name);
          value += s.front();
          s.remove_prefix(1);
        } else if (c == '\'') {
          if (!s.empty() && s.front() == '\'') {
            value += '\'';
            s.remove_prefix(1);
          } else {
            closed = true;
            break;
          }
        } else {
          value += c;
        }
      }
      if (!closed) return At(n, "the quoted value of " + name + " is not closed on its line");
    } else {
      // A bare value: a number with optional unit, or a word.
      while (!s.empty() && !IsBlank(s.front()) && s.front() != '#') {
        const char c = s.front();
        if (!IsIdChar(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '+' && c != ':' && c != '/') {
          return At(n, "the bare value of " + name + " has '" + std::string(1, c) + "'; it needs quotes");
        }
        value += c;
        s.remove_prefix(1);
      }
    }
    SkipBlanks(s);
    if (!s.empty() && s.front() != '#') return At(n, "text after the value of " + name);
    if (value.find('\0') != std::string::npos) return At(n, "the value of " + name + " holds a NUL");
    if (settings != nullptr) (*settings)[name] = value;
  }
  return "";
}

// sdssplitargs: the arguments of one redis.conf line, or false when its quotes do not balance or a
// closing quote is not followed by a space.
inline bool SplitRedisArgs(std::string_view s, std::vector<std::string>& args) {
  using namespace config_detail;
  while (true) {
    while (!s.empty() && (IsBlank(s.front()) || s.front() == '\v' || s.front() == '\n')) s.remove_prefix(1);
    if (s.empty()) return true;
    std::string arg;
    if (s.front() == '"' || s.front() == '\'') {
      const char quote = s.front();
      s.remove_prefix(1);
      bool closed = false;
      while (!s.empty()) {
        const char c = s.front();
        s.remove_prefix(1);
        if (c == '\\' && !s.empty() && (quote == '"' || s.front() == '\'')) {
          arg += s.front();  // (hex and letter escapes of "..." are read as the letter here: enough to balance)
          s.remove_prefix(1);
        } else if (c == quote) {
          closed = true;
          break;
        } else {
          arg += c;
        }
      }
      if (!closed || (!s.empty() && !IsBlank(s.front()))) return false;
    } else {
      while (!s.empty() && !IsBlank(s.front()) && s.front() != '\v' && s.front() != '\n') {
        arg += s.front();
        s.remove_prefix(1);
      }
    }
    args.push_back(std::move(arg));
  }
}

inline std::string RedisConfProblem(std::string_view text) {
  using namespace config_detail;
  // directive → {min, max} arguments, for the directives the operator writes.
  static const std::map<std::string, std::pair<std::size_t, std::size_t>> kArity = {
      {"bind", {1, 16}}, {"port", {1, 1}}, {"protected-mode", {1, 1}}, {"dir", {1, 1}},
      {"maxmemory", {1, 1}}, {"maxmemory-policy", {1, 1}}, {"appendonly", {1, 1}}, {"appendfsync", {1, 1}},
      {"save", {1, 64}}, {"include", {1, 1}}, {"requirepass", {1, 1}}};
  static const std::set<std::string> kPolicies = {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                                  "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"};
  const auto lines = SplitLines(text);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::string_view s = lines[n];
    SkipBlanks(s);
    if (s.empty() || s.front() == '#') continue;
    std::vector<std::string> args;
    if (!SplitRedisArgs(s, args)) return At(n, "unbalanced quotes");
    if (args.empty()) continue;
    const auto arity = kArity.find(args[0]);
    if (arity == kArity.end()) return At(n, "directive '" + args[0] + "' is not one the operator writes");
    const std::size_t count = args.size() - 1;
    if (count < arity->second.first || count > arity->second.second) {
      return At(n, args[0] + " takes " + std::to_string(arity->second.first) + ".." + std::to_string(arity->second.second) +
                       " arguments, has " + std::to_string(count));
    }
    if (args[0] == "maxmemory-policy" && !kPolicies.contains(args[1])) return At(n, "unknown maxmemory-policy " + args[1]);
    if ((args[0] == "appendonly" || args[0] == "protected-mode") && args[1] != "yes" && args[1] != "no") {
      return At(n, args[0] + " is yes or no");
    }
    if (args[0] == "requirepass" && args[1].find('\0') != std::string::npos) return At(n, "requirepass holds a NUL");
  }
  return "";
}

// libpq-style "key=value key='quoted value'" of a [databases] entry.
inline bool IsConnectString(std::string_view s) {
  using namespace config_detail;
  while (true) {
    SkipBlanks(s);
    if (s.empty()) return true;
    std::size_t eq = 0;
    while (eq < s.size() && (IsIdChar(s[eq]) || (s[eq] >= '0' && s[eq] <= '9'))) ++eq;
    if (eq == 0 || eq >= s.size() || s[eq] != '=') return false;
    s.remove_prefix(eq + 1);
    if (!s.empty() && s.front() == '\'') {
      s.remove_prefix(1);
      // PgBouncer refuses an empty quoted value ("syntax error in connection string").
      if (s.size() >= 2 && s[0] == '\'' && s[1] != '\'') return false;
      if (!SkipDoubledQuoteString(s, '\'')) return false;
    } else {
      if (s.empty() || IsBlank(s.front())) return false;
      while (!s.empty() && !IsBlank(s.front())) {
        if (s.front() == '\'') return false;
        s.remove_prefix(1);
      }
    }
  }
}

inline std::string PgBouncerIniProblem(std::string_view text) {
  using namespace config_detail;
  static const std::set<std::string> kKeys = {
      "listen_addr", "listen_port", "unix_socket_dir", "auth_type", "auth_file", "pool_mode", "max_client_conn",
      "default_pool_size", "ignore_startup_parameters", "max_prepared_statements", "server_tls_sslmode",
      "admin_users", "stats_users", "server_reset_query", "server_reset_query_always", "log_connections",
      "log_disconnections", "auth_query", "auth_user"};
  static const std::set<std::string> kPoolModes = {"session", "transaction", "statement"};
  static const std::set<std::string> kSslModes = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  const auto lines = SplitLines(text);
  std::string section;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::string_view s = lines[n];
    for (const char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r') return At(n, "a control byte");
    }
    SkipBlanks(s);
    if (s.empty() || s.front() == ';' || s.front() == '#') continue;
    if (s.front() == '[') {
      const std::size_t close = s.find(']');
      if (close == std::string_view::npos) return At(n, "a section header without ']'");
      section = std::string(s.substr(1, close - 1));
      if (section != "databases" && section != "pgbouncer" && section != "users") return At(n, "unknown section " + section);
      continue;
    }
    const std::size_t eq = s.find('=');
    if (eq == std::string_view::npos) return At(n, "a line that is neither a section nor key = value");
    std::string_view key = s.substr(0, eq);
    while (!key.empty() && IsBlank(key.back())) key.remove_suffix(1);
    std::string_view value = s.substr(eq + 1);
    SkipBlanks(value);
    while (!value.empty() && IsBlank(value.back())) value.remove_suffix(1);
    if (key.empty()) return At(n, "a key = value line without key");
    // libusual's ini parser stops at any other byte of a key ("syntax error in configuration").
    for (const char c : key) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && c != '_' && c != '.' && c != '-' && c != '*') {
        return At(n, "key '" + std::string(key) + "' has '" + std::string(1, c) + "', which PgBouncer's ini parser refuses");
      }
    }
    if (section.empty()) return At(n, "key = value before any section");
    if (section == "databases") {
      if (!IsConnectString(value)) return At(n, "database " + std::string(key) + " is not a key=value connect string");
      continue;
    }
    if (section == "pgbouncer") {
      if (!kKeys.contains(std::string(key))) return At(n, "unknown [pgbouncer] key " + std::string(key));
      if (key == "pool_mode" && !kPoolModes.contains(std::string(value))) return At(n, "unknown pool_mode " + std::string(value));
      if (key == "server_tls_sslmode" && !kSslModes.contains(std::string(value))) return At(n, "unknown server_tls_sslmode");
    }
  }
  return "";
}

// userlist.txt: one "user" "password" line per user, with '"' doubled inside.
inline std::string PgBouncerUserlistProblem(std::string_view text) {
  using namespace config_detail;
  const auto lines = SplitLines(text);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::string_view s = lines[n];
    if (s.empty()) continue;
    for (int field = 0; field < 2; ++field) {
      SkipBlanks(s);
      if (s.empty() || s.front() != '"') return At(n, "a field of userlist.txt is quoted");
      s.remove_prefix(1);
      if (!SkipDoubledQuoteString(s, '"')) return At(n, "a quoted field of userlist.txt is not closed on its line (or holds a NUL)");
    }
  }
  return "";
}

}  // namespace financialapi::fuzz
