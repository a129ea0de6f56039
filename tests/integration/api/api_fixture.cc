#include "integration/api/api_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>

#include <gtest/gtest.h>

#include "financialapi/sec/loader.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::testing {

namespace {

// A connection to the shared server's `postgres` database (nullptr and a test failure without one),
// and the URL of another database on it.
std::unique_ptr<db::PostgresConnection> AdminConnection() {
  const std::string url = PostgresUrl();
  if (url.empty()) {
    ADD_FAILURE() << "the databases fixture did not run";
    return nullptr;
  }
  auto admin = db::PostgresConnection::Connect(url);
  if (!admin.ok()) {
    ADD_FAILURE() << admin.status();
    return nullptr;
  }
  return std::move(admin).value();
}

std::string DatabaseUrl(const std::string& database) {
  const std::string url = PostgresUrl();  // ends in /postgres
  return url.substr(0, url.rfind('/') + 1) + database;
}

std::string UniqueDatabaseName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

}  // namespace

std::string CreateDatabase(const std::string& prefix) {
  auto admin = AdminConnection();
  if (!admin) return "";
  const std::string name = UniqueDatabaseName(prefix);
  if (auto created = admin->Execute("CREATE DATABASE " + name); !created.ok()) {
    ADD_FAILURE() << created.status();
    return "";
  }
  return DatabaseUrl(name);
}

void LoadSampleData(const std::string& url) {
  auto connection = db::PostgresConnection::Connect(url);
  ASSERT_TRUE(connection.ok()) << connection.status();
  sec::Loader loader(**connection);
  auto report = loader.LoadDirectory(SourcePath("data/sec"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->failures.empty()) << report->failures.front();
}

std::string CreateSampleDatabase(const std::string& prefix) {
  auto admin = AdminConnection();
  if (!admin) return "";
  const std::string name = UniqueDatabaseName(prefix);
  // One process at a time: the first loads the template, the others wait and copy it.
  EXPECT_TRUE(admin->Execute("SELECT pg_advisory_lock(4242)").ok());
  auto exists = admin->Execute("SELECT 1 FROM pg_database WHERE datname = 'sec_sample_template'");
  if (exists.ok() && exists->rows.empty()) {
    EXPECT_TRUE(admin->Execute("CREATE DATABASE sec_sample_loading").ok());
    LoadSampleData(DatabaseUrl("sec_sample_loading"));
    EXPECT_TRUE(admin->Execute("ALTER DATABASE sec_sample_loading RENAME TO sec_sample_template").ok());
  }
  auto created = admin->Execute("CREATE DATABASE " + name + " TEMPLATE sec_sample_template");
  EXPECT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(admin->Execute("SELECT pg_advisory_unlock(4242)").ok());
  return DatabaseUrl(name);
}

std::string HttpAnswer::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

int ConnectLoopback(int port, int receive_timeout_seconds) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const timeval receive_timeout{.tv_sec = receive_timeout_seconds, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpAnswer Fetch(int port, const std::string& target, const std::vector<http::Header>& headers,
                 const std::string& method) {
  HttpAnswer answer;
  // A server that stops answering makes the test fail (status 0), not hang until ctest's timeout.
  const int fd = ConnectLoopback(port, 20);
  if (fd < 0) return answer;
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& header : headers) request += header.name + ": " + header.value + "\r\n";
  request += "\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[65536];
  while (true) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.size() < 12) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  std::size_t line_start = raw.find("\r\n") + 2;
  while (line_start < head_end) {
    const auto line_end = raw.find("\r\n", line_start);
    const std::string line = raw.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      answer.headers[name] = value;
    }
    line_start = line_end + 2;
  }
  answer.body = raw.substr(head_end + 4);
  return answer;
}

service::ServiceConfig TestConfig(const std::string& database_url) {
  static std::atomic<int> counter{0};
  service::ServiceConfig config;
  config.database_url = database_url;
  config.redis_url = RedisUrl();
  config.cache_key_prefix = "test:" + std::to_string(::getpid()) + ":" + std::to_string(counter++) + ":";
  config.worker_threads = 4;
  config.db_pool_size = 4;
  config.rate_limit_rps = 0;
  return config;
}

ApiUnderTest::ApiUnderTest(service::ServiceConfig config) {
  auto api = service::FinancialApi::Create(config);
  if (!api.ok()) {
    ADD_FAILURE() << api.status();
    return;
  }
  api_ = std::move(api).value();
  config.port = 0;
  auto server = http::Server::Start(service::HttpServerOptions(config, "127.0.0.1"),
                                    [api = api_.get()](const http::Request& request) { return api->Handle(request); });
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return;
  }
  server_ = std::move(server).value();
}

ApiUnderTest::~ApiUnderTest() {
  if (server_) server_->Shutdown(std::chrono::seconds(5));
}

}  // namespace financialapi::testing
