#include "financialapi/db/postgres.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <libpq-fe.h>

#include "financialapi/common/redact.h"
#include "financialapi/common/strings.h"

namespace financialapi::db {
namespace {

std::string ConnectionError(const PGconn* connection) {
  return std::string(Trim(connection != nullptr ? PQerrorMessage(connection) : "out of memory"));
}

// `message` with the URL's password, as written and percent-decoded, replaced by "***": libpq quotes
// parts of a URL it cannot parse (not always the whole URL, which RedactSecrets would recognise), and
// these messages reach logs.
std::string WithoutPassword(std::string message, std::string_view url) {
  message = RedactSecrets(message);
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return message;
  const std::string_view authority = url.substr(scheme + 3, url.find('/', scheme + 3) - (scheme + 3));
  const std::size_t at = authority.rfind('@');
  const std::size_t colon = authority.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) return message;
  const std::string written(authority.substr(colon + 1, at - colon - 1));
  std::string decoded;
  if (!PercentDecode(written, false, decoded)) decoded.clear();
  for (const std::string& secret : {written, decoded}) {
    if (secret.empty()) continue;
    for (std::size_t found = message.find(secret); found != std::string::npos; found = message.find(secret, found + 3)) {
      message.replace(found, secret.size(), "***");
    }
  }
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
    std::string message = WithoutPassword(ConnectionError(connection), url);
    PQfinish(connection);
    return Unavailable("cannot connect to PostgreSQL: " + message);
  }
  // NOTICEs ("relation already exists, skipping") would otherwise go to stderr, mixed with our logs.
  PQsetNoticeProcessor(connection, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PostgresConnection>(new PostgresConnection(connection));
}

PostgresConnection::~PostgresConnection() { PQfinish(connection_); }

bool PostgresConnection::IsHealthy() const { return !abandoned_ && PQstatus(connection_) == CONNECTION_OK; }

void PostgresConnection::ResultDeleter::operator()(pg_result* result) const { PQclear(result); }

namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The failure of a statement as a Status: Unavailable when the connection is gone, InvalidArgument
// ("<what>: ...") otherwise; the SQLSTATE is the Status's reason and is also in the message.
Status StatementError(const PGconn* connection, const PGresult* result, std::string_view what = "query failed") {
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? std::string(Trim(PQresultErrorMessage(result))) : ConnectionError(connection);
  if (sqlstate != nullptr) message += " (SQLSTATE " + std::string(sqlstate) + ")";
  const std::string reason = sqlstate != nullptr ? sqlstate : "";
  if (IsConnectionLoss(connection, sqlstate)) return Unavailable("PostgreSQL connection lost: " + message).WithReason(reason);
  return InvalidArgument(std::string(what) + ": " + message).WithReason(reason);
}

bool Succeeded(const PGresult* result) {
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

StatusOr<PostgresConnection::OwnedResult> PostgresConnection::AwaitResult() {
  const auto deadline = std::chrono::steady_clock::now() + query_deadline_;
  const auto give_up = [&]() -> Status {
    // libpq 15's PQcancel connects and then waits for the server to close, with no time limit: on a
    // server that does not answer it would hang as the query did. The server's statement_timeout
    // (shorter than the deadline) ends the statement if the server is alive; this side stops waiting.
    abandoned_ = true;
    return Unavailable("PostgreSQL did not answer within " + std::to_string(query_deadline_.count()) + " ms")
        .WithReason(std::string(kReasonDeadlineExceeded));
  };
  // A blocking-mode connection has sent the whole query by the time PQsend* returns; only the wait for
  // the answer can last.
  OwnedResult kept;
  while (true) {
    while (PQisBusy(connection_) != 0) {
      int wait_ms = -1;
      if (query_deadline_.count() > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return give_up();
        wait_ms = static_cast<int>(left.count());
      }
      pollfd descriptor{.fd = PQsocket(connection_), .events = POLLIN, .revents = 0};
      const int ready = poll(&descriptor, 1, wait_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return give_up();
      // Readable, closed or failed: libpq reads what there is and reports a closed connection itself.
      if (ready < 0 || PQconsumeInput(connection_) == 0) {
        return Unavailable("PostgreSQL connection lost: " + ConnectionError(connection_));
      }
    }
    OwnedResult next(PQgetResult(connection_));
    if (!next) return kept;
    if (!kept || (Succeeded(kept.get()) && !Succeeded(next.get()))) kept = std::move(next);
  }
}

StatusOr<QueryResult> PostgresConnection::Execute(const std::string& sql, const std::vector<std::string>& params) {
  if (abandoned_) return Unavailable("PostgreSQL connection was abandoned after a deadline; reconnect");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param.c_str());
  const int count = static_cast<int>(values.size());
  const auto send_failed = [&] { return Unavailable("PostgreSQL connection lost: " + ConnectionError(connection_)); };
  OwnedResult result;
  if (prepare_statements_) {
    auto [it, inserted] = prepared_.try_emplace(sql);
    if (inserted) {
      it->second = "fapi_" + std::to_string(prepared_.size());
      if (PQsendPrepare(connection_, it->second.c_str(), sql.c_str(), count, nullptr) == 0) {
        prepared_.erase(it);
        return send_failed();
      }
      auto prepared = AwaitResult();
      if (!prepared.ok() || !Succeeded(prepared->get())) {
        prepared_.erase(it);
        if (!prepared.ok()) return prepared.status();
        return StatementError(connection_, prepared->get());
      }
    }
    if (PQsendQueryPrepared(connection_, it->second.c_str(), count, values.data(), nullptr, nullptr, 0) == 0) {
      return send_failed();
    }
  } else if (PQsendQueryParams(connection_, sql.c_str(), count, nullptr, values.data(), nullptr, nullptr,
                               /*resultFormat=text*/ 0) == 0) {
    return send_failed();
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(result, AwaitResult());
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
  if (abandoned_) return Unavailable("PostgreSQL connection was abandoned after a deadline; reconnect");
  if (PQsendQuery(connection_, sql.c_str()) == 0) {
    return Unavailable("PostgreSQL connection lost: " + ConnectionError(connection_));
  }
  FINANCIALAPI_ASSIGN_OR_RETURN(auto result, AwaitResult());
  if (Succeeded(result.get())) return Status::Ok();
  return StatementError(connection_, result.get(), "script failed");
}

Status PostgresConnection::CopyIn(const std::string& copy_statement, std::string_view data) {
  ResultPtr start(PQexec(connection_, copy_statement.c_str()), &PQclear);
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) return StatementError(connection_, start.get(), "COPY failed");
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
    ResultPtr result(raw, &PQclear);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && outcome.ok()) outcome = StatementError(connection_, raw, "COPY failed");
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

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
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
