// A PostgreSQL connection on libpq: parameterised queries, text results, failures as Status values.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "financialapi/common/status.h"

struct pg_conn;
struct pg_result;

namespace financialapi::db {

// SQLSTATEs callers branch on (Status::reason() of a failed Execute).
inline constexpr std::string_view kSqlStateUndefinedTable = "42P01";
inline constexpr std::string_view kSqlStateQueryCanceled = "57014";  // statement_timeout fired
// Reason of the Unavailable an Execute returns when the server did not answer within the query deadline.
inline constexpr std::string_view kReasonDeadlineExceeded = "DeadlineExceeded";

// Rows of a query result in libpq's text format; a SQL NULL is nullopt.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  long affected_rows = 0;  // INSERT/UPDATE/DELETE
};

// Appends one field of a COPY text-format row, escaped; nullopt is SQL NULL. The caller adds '\t'
// between fields and '\n' after the last.
void AppendCopyField(std::string& row, std::optional<std::string_view> value);

// Appends one row: the fields escaped, separated by '\t', ended by '\n'.
void AppendCopyRow(std::string& data, std::initializer_list<std::optional<std::string_view>> fields);

// A text[] literal to pass as one parameter ($1::text[]): every element double-quoted, with '"' and
// '\' escaped.
std::string TextArrayLiteral(const std::vector<std::string>& values);

class PostgresConnection {
 public:
  // Connects with a libpq URL or key=value string. Unavailable when the server cannot be reached or
  // refuses the login; the message is libpq's with the password removed.
  static StatusOr<std::unique_ptr<PostgresConnection>> Connect(const std::string& url,
                                                               int connect_timeout_seconds = 5);
  ~PostgresConnection();
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // Runs one statement with $1..$n text parameters. InvalidArgument for SQL errors the caller caused
  // (syntax, constraint violations), Unavailable when the connection is lost; either way the
  // Status's reason() is the SQLSTATE when the server sent one (and the message repeats it).
  StatusOr<QueryResult> Execute(const std::string& sql, const std::vector<std::string>& params = {});

  // When on, Execute prepares each distinct SQL text once per connection (a named server-side
  // statement) and then only binds and executes it: PostgreSQL stops parsing and planning the same
  // query on every request, which is most of a short query's cost. For connections that run the same
  // few queries over and over (the API's); one-off statements (the loader's) are better without.
  // PgBouncer supports this in transaction mode from 1.21 with max_prepared_statements > 0.
  void set_prepare_statements(bool on) { prepare_statements_ = on; }

  // Runs several statements separated by ';' (no parameters), e.g. a migration.
  Status ExecuteScript(const std::string& sql);

  // How long Execute and ExecuteScript wait for the server's answer (0 = no limit). statement_timeout
  // ends a slow statement on the server; this ends the wait for a server that does not answer at all
  // (stopped, overloaded, a network path that drops packets). When it fires the call returns
  // Unavailable with reason kReasonDeadlineExceeded and the connection is unusable (IsHealthy() is
  // false): the server may still answer the abandoned query later. Set it a little longer than
  // statement_timeout, so that the server's own cancel comes first when the server is alive.
  void set_query_deadline(std::chrono::milliseconds deadline) { query_deadline_ = deadline; }

  // Streams `data` (COPY text format: tab-separated fields, one row per line, see AppendCopyField)
  // into `copy_statement` ("COPY t (a, b) FROM STDIN"). InvalidArgument when the server rejects a row
  // (its message names the line), Unavailable when the connection is lost.
  Status CopyIn(const std::string& copy_statement, std::string_view data);

  bool IsHealthy() const;

 private:
  explicit PostgresConnection(pg_conn* connection) : connection_(connection) {}
  // Sends nothing; waits until the query sent last has all its results, at most query_deadline_.
  // The first failed result, else the last one.
  struct ResultDeleter {
    void operator()(pg_result* result) const;
  };
  using OwnedResult = std::unique_ptr<pg_result, ResultDeleter>;
  StatusOr<OwnedResult> AwaitResult();

  pg_conn* connection_;
  bool prepare_statements_ = false;
  std::chrono::milliseconds query_deadline_{0};
  bool abandoned_ = false;  // a query was given up on: the connection's protocol state is unknown
  std::unordered_map<std::string, std::string> prepared_;  // SQL text → statement name
};

}  // namespace financialapi::db
