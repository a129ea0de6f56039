// A PostgreSQL connection on libpq: parameterised queries, text results, failures as Status values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "financialapi/common/status.h"

struct pg_conn;

namespace financialapi::db {

// Rows of a query result in libpq's text format; a SQL NULL is nullopt.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  long affected_rows = 0;  // INSERT/UPDATE/DELETE
};

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
  // (syntax, constraint violations: the SQLSTATE is in the message), Unavailable when the connection
  // is lost.
  StatusOr<QueryResult> Execute(const std::string& sql, const std::vector<std::string>& params = {});

  // Runs several statements separated by ';' (no parameters), e.g. a migration.
  Status ExecuteScript(const std::string& sql);

  bool IsHealthy() const;

 private:
  explicit PostgresConnection(pg_conn* connection) : connection_(connection) {}
  pg_conn* connection_;
};

}  // namespace financialapi::db
