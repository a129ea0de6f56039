#include "financialapi/db/postgres.h"

#include <algorithm>
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
  // NOTICEs ("relation already exists, skipping") would otherwise go to stderr, mixed with our logs.
  PQsetNoticeProcessor(connection, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PostgresConnection>(new PostgresConnection(connection));
}

PostgresConnection::~PostgresConnection() { PQfinish(connection_); }

bool PostgresConnection::IsHealthy() const { return PQstatus(connection_) == CONNECTION_OK; }

namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The failure of a statement as a Status: Unavailable when the connection is gone, InvalidArgument
// otherwise, with the SQLSTATE in the message.
Status StatementError(const PGconn* connection, const PGresult* result) {
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? PQresultErrorMessage(result) : ConnectionError(connection);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (sqlstate != nullptr) message += " (SQLSTATE " + std::string(sqlstate) + ")";
  if (IsConnectionLoss(connection, sqlstate)) return Unavailable("PostgreSQL connection lost: " + message);
  return InvalidArgument("query failed: " + message);
}

bool Succeeded(const PGresult* result) {
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

StatusOr<QueryResult> PostgresConnection::Execute(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param.c_str());
  const int count = static_cast<int>(values.size());
  ResultPtr result(nullptr, &PQclear);
  if (prepare_statements_) {
    auto [it, inserted] = prepared_.try_emplace(sql);
    if (inserted) {
      it->second = "fapi_" + std::to_string(prepared_.size());
      ResultPtr prepared(PQprepare(connection_, it->second.c_str(), sql.c_str(), count, nullptr), &PQclear);
      if (!Succeeded(prepared.get())) {
        prepared_.erase(it);
        return StatementError(connection_, prepared.get());
      }
    }
    result.reset(PQexecPrepared(connection_, it->second.c_str(), count, values.data(), nullptr, nullptr, 0));
  } else {
    result.reset(PQexecParams(connection_, sql.c_str(), count, nullptr, values.data(), nullptr, nullptr,
                              /*resultFormat=text*/ 0));
  }
  if (!Succeeded(result.get())) return StatementError(connection_, result.get());
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

Status PostgresConnection::CopyIn(const std::string& copy_statement, std::string_view data) {
  std::unique_ptr<PGresult, decltype(&PQclear)> start(PQexec(connection_, copy_statement.c_str()), &PQclear);
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    std::string message = start ? PQresultErrorMessage(start.get()) : ConnectionError(connection_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    if (PQstatus(connection_) != CONNECTION_OK) return Unavailable("PostgreSQL connection lost: " + message);
    return InvalidArgument("COPY failed: " + message);
  }
  // Sent in pieces: libpq buffers what it is given, and one call with hundreds of MB would double the
  // memory the loader needs.
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t offset = 0; offset < data.size(); offset += kChunk) {
    const std::size_t length = std::min(kChunk, data.size() - offset);
    if (PQputCopyData(connection_, data.data() + offset, static_cast<int>(length)) != 1) {
      return Unavailable("PostgreSQL connection lost during COPY: " + ConnectionError(connection_));
    }
  }
  if (PQputCopyEnd(connection_, nullptr) != 1) {
    return Unavailable("PostgreSQL connection lost ending COPY: " + ConnectionError(connection_));
  }
  Status outcome = Status::Ok();
  while (PGresult* raw = PQgetResult(connection_)) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(raw, &PQclear);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && outcome.ok()) {
      std::string message = PQresultErrorMessage(raw);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
      outcome = IsConnectionLoss(connection_, sqlstate) ? Unavailable("PostgreSQL connection lost: " + message)
                                                        : InvalidArgument("COPY failed: " + message);
    }
  }
  return outcome;
}

void AppendCopyField(std::string& row, std::optional<std::string_view> value) {
  if (!value) {
    row += "\\N";
    return;
  }
  for (const char c : *value) {
    switch (c) {
      case '\\': row += "\\\\"; break;
      case '\t': row += "\\t"; break;
      case '\n': row += "\\n"; break;
      case '\r': row += "\\r"; break;
      default: row += c;
    }
  }
}

void AppendCopyRow(std::string& data, std::initializer_list<std::optional<std::string_view>> fields) {
  bool first = true;
  for (const auto& field : fields) {
    if (!first) data += '\t';
    AppendCopyField(data, field);
    first = false;
  }
  data += '\n';
}

}  // namespace financialapi::db
