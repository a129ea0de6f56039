// Shared pieces of the API server's integration tests: a database of its own per suite (on the
// shared PostgreSQL), the bundled SEC sample loaded into it, the API served in-process on a free
// loopback port, and a small HTTP client that shows headers.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "financialapi/db/postgres.h"
#include "financialapi/http/server.h"
#include "financialapi/service/api.h"
#include "financialapi/service/config.h"

namespace financialapi::testing {

// CREATE DATABASE <prefix>_<pid>_<n> on the shared server; returns its URL ("" + test failure when
// the databases fixture is not up). Dropped at the end of the process is not needed: the fixture's
// server is thrown away after the run.
std::string CreateDatabase(const std::string& prefix);

// Loads <source>/data/sec into the database at `url`; test failure when anything does not load.
void LoadSampleData(const std::string& url);

// A new database holding the loaded sample: a copy (CREATE DATABASE ... TEMPLATE) of one database the
// first caller of the run loads, so each test process pays a file copy instead of a load.
std::string CreateSampleDatabase(const std::string& prefix);

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const;
};
// A TCP connection to 127.0.0.1:<port> whose reads give up after `receive_timeout_seconds`; -1 when
// the connect fails. The caller closes it.
int ConnectLoopback(int port, int receive_timeout_seconds);

// One request on a fresh connection (Connection: close). Extra headers as {name, value}. Status 0
// when nothing (complete) came back within 20 s.
HttpAnswer Fetch(int port, const std::string& target, const std::vector<http::Header>& headers = {},
                 const std::string& method = "GET");

// The API service and an HTTP server on 127.0.0.1:<free port>, stopped when destroyed.
class ApiUnderTest {
 public:
  explicit ApiUnderTest(service::ServiceConfig config);
  ~ApiUnderTest();
  int port() const { return server_ ? server_->port() : 0; }
  HttpAnswer Get(const std::string& target, const std::vector<http::Header>& headers = {}) const {
    return Fetch(port(), target, headers);
  }
  service::FinancialApi& api() { return *api_; }

 private:
  std::unique_ptr<service::FinancialApi> api_;
  std::unique_ptr<http::Server> server_;
};

// Defaults for tests: the given database, the shared Redis with a key prefix of its own, no rate limit.
service::ServiceConfig TestConfig(const std::string& database_url);

}  // namespace financialapi::testing
