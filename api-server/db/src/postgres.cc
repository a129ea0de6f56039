#include "financialapi/db/postgres.h"

#include <cstdlib>

#include <libpq-fe.h>

namespace financialapi::db {
namespace {

std::string ConnectionError(const PGconn* connection) {
  std::string message = connection != nullptr ? PQerrorMessage(connection) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// SQLSTATE class 08 is a connection exception; 57P is operator intervention (shutdown).
bool IsConnectionLoss(const PGconn* connection, const char* sqlstate) {
  if (PQstatus(connection) != CONNECTION_OK) return true;
  if (sqlstate == nullptr) return false;
  const std::string state(sqlstate);
  return state.starts_with("08") || state.starts_with("57P");
}

}  // namespace

StatusOr<std::unique_ptr<PostgresConnection>> PostgresConnection::Connect(const std::string& url,
                                                                           int connect_timeout_seconds) {
  // libpq takes the timeout from the connection string or the environment; the URL may already carry one.
  const std::string timeout = std::to_string(connect_timeout_seconds);
  const char* keywords[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {url.c_str(), timeout.c_str(), nullptr};
  PGconn* connection = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (connection == nullptr || PQstatus(connection) != CONNECTION_OK) {
    std::string message = ConnectionError(connection);
    PQfinish(connection);
    return Unavailable("cannot connect to PostgreSQL: " + message);
  }
  return std::unique_ptr<PostgresConnection>(new PostgresConnection(connection));
}

PostgresConnection::~PostgresConnection() { PQfinish(connection_); }

bool PostgresConnection::IsHealthy() const { return PQstatus(connection_) == CONNECTION_OK; }

StatusOr<QueryResult> PostgresConnection::Execute(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                   nullptr, /*resultFormat=text*/ 0),
      &PQclear);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string message = result ? PQresultErrorMessage(result.get()) : ConnectionError(connection_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    if (sqlstate != nullptr) message += " (SQLSTATE " + std::string(sqlstate) + ")";
    if (IsConnectionLoss(connection_, sqlstate)) return Unavailable("PostgreSQL connection lost: " + message);
    return InvalidArgument("query failed: " + message);
  }
  QueryResult out;
  const int columns = PQnfields(result.get());
  const int rows = PQntuples(result.get());
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result.get(), c));
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    auto& row = out.rows.emplace_back();
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result.get(), r, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result.get(), r, c), static_cast<std::size_t>(PQgetlength(result.get(), r, c))));
      }
    }
  }
  const char* affected = PQcmdTuples(result.get());
  if (affected != nullptr && *affected != '\0') out.affected_rows = std::strtol(affected, nullptr, 10);
  return out;
}

Status PostgresConnection::ExecuteScript(const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(connection_, sql.c_str()), &PQclear);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
  std::string message = result ? PQresultErrorMessage(result.get()) : ConnectionError(connection_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (PQstatus(connection_) != CONNECTION_OK) return Unavailable("PostgreSQL connection lost: " + message);
  return InvalidArgument("script failed: " + message);
}

}  // namespace financialapi::db
