// The warm-up's Beast client over loopback: against the API server's own HTTP layer, and against a raw
// socket server that shows connections and bytes (keep-alive, reconnects, answers that are not HTTP).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "financialapi/http/server.h"
#include "financialapi/warmup/warmup.h"

namespace financialapi::warmup {
namespace {

using namespace std::chrono_literals;

ApiUrl Loopback(int port) { return {.host = "127.0.0.1", .port = port}; }

// Accepts connections one at a time and answers each request (a GET: its head) with the next of
// `answers`; closes the connection after an answer marked `close`, and stops when the answers run out.
class RawServer {
 public:
  struct Answer {
    std::string raw;
    bool close = false;
  };
  explicit RawServer(std::vector<Answer> answers) : answers_(std::move(answers)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    ::shutdown(listener_, SHUT_RDWR);  // unblocks accept
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    std::size_t next = 0;
    while (next < answers_.size()) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      std::string received;
      char buffer[4096];
      while (next < answers_.size()) {
        const auto end = received.find("\r\n\r\n");
        if (end == std::string::npos) {
          const auto n = ::recv(fd, buffer, sizeof buffer, 0);
          if (n <= 0) break;
          received.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(received.substr(0, end));
        }
        received.erase(0, end + 4);
        const Answer& answer = answers_[next++];
        (void)::send(fd, answer.raw.data(), answer.raw.size(), MSG_NOSIGNAL);
        if (answer.close) break;
      }
      ::close(fd);
    }
  }

  std::vector<Answer> answers_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}";

TEST(WarmupTransportTest, RequestsShareOneKeptAliveConnection) {
  RawServer server({{kOk}, {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 5\r\n\r\nslow!"}, {kOk}});
  const auto transport = MakeHttpTransport(Loopback(server.port()));
  const auto first = transport->Get("/v1/companies/AAPL", {{"X-API-Key", "key-one"}}, 5s);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "{}");
  EXPECT_EQ(first->Header("content-type"), "application/json");
  const auto limited = transport->Get("/v1/companies/MSFT", {}, 5s);
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->Header("RETRY-AFTER"), "3");
  EXPECT_EQ(limited->body, "slow!");
  ASSERT_TRUE(transport->Get("/v1/companies/NVDA", {}, 5s).ok());
  EXPECT_EQ(server.connections(), 1);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(requests[0].starts_with("GET /v1/companies/AAPL HTTP/1.1\r\n")) << requests[0];
  EXPECT_NE(requests[0].find("X-API-Key: key-one"), std::string::npos) << requests[0];
  EXPECT_NE(requests[0].find("Host: 127.0.0.1:" + std::to_string(server.port())), std::string::npos) << requests[0];
  EXPECT_EQ(requests[1].find("X-API-Key"), std::string::npos) << requests[1];
}

TEST(WarmupTransportTest, ReconnectsWhenTheServerClosesTheConnection) {
  // Connection: close is honoured; a connection closed without a word (idle timeout) is retried once.
  RawServer server({{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true}, {kOk, true}, {kOk}});
  const auto transport = MakeHttpTransport(Loopback(server.port()));
  for (int i = 0; i < 3; ++i) {
    const auto reply = transport->Get("/v1/companies/AAPL", {}, 5s);
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status();
    EXPECT_EQ(reply->status, 200);
  }
  EXPECT_EQ(server.connections(), 3);
}

TEST(WarmupTransportTest, AnAnswerThatIsNotHttpIsInternal) {
  RawServer server({{"SSH-2.0-OpenSSH_9.2\r\n\r\n", true}});
  const auto reply = MakeHttpTransport(Loopback(server.port()))->Get("/", {}, 5s);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal) << reply.status();
}

TEST(WarmupTransportTest, RefusedIsUnavailable) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);  // bound once, nobody listens there now
  const auto reply = MakeHttpTransport(Loopback(ntohs(address.sin_port)))->Get("/", {}, 5s);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable) << reply.status();
  EXPECT_NE(reply.status().message().find("connecting to 127.0.0.1:"), std::string::npos) << reply.status();
}

class WarmupTransportServerTest : public ::testing::Test {
 protected:
  void Start(std::chrono::seconds idle_timeout) {
    auto server = http::Server::Start(
        {.address = "127.0.0.1", .port = 0, .threads = 2, .idle_timeout = idle_timeout}, [](const http::Request& request) {
          if (request.path == "/slow") std::this_thread::sleep_for(1500ms);
          http::Response response{.body = R"({"key":")" + std::string(request.HeaderValue("x-api-key").value_or("")) + "\"}"};
          return response;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }
  std::unique_ptr<http::Server> server_;
};

TEST_F(WarmupTransportServerTest, TalksToTheApiServersHttpLayer) {
  Start(60s);
  const auto transport = MakeHttpTransport(Loopback(server_->port()));
  for (int i = 0; i < 3; ++i) {
    const auto reply = transport->Get("/v1/companies/AAPL", {{"X-API-Key", "k" + std::to_string(i)}}, 5s);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, R"({"key":"k)" + std::to_string(i) + "\"}");
  }
}

TEST_F(WarmupTransportServerTest, AfterTheServersIdleTimeoutTheNextRequestStillSucceeds) {
  Start(1s);
  const auto transport = MakeHttpTransport(Loopback(server_->port()));
  ASSERT_TRUE(transport->Get("/a", {}, 5s).ok());
  std::this_thread::sleep_for(2s);  // the server closes the idle connection
  const auto reply = transport->Get("/b", {}, 5s);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->status, 200);
}

TEST_F(WarmupTransportServerTest, ASlowAnswerTimesOutAndTheNextRequestGetsANewConnection) {
  Start(60s);
  const auto transport = MakeHttpTransport(Loopback(server_->port()));
  const auto started = std::chrono::steady_clock::now();
  const auto slow = transport->Get("/slow", {}, 200ms);
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kTimeout) << slow.status();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  const auto next = transport->Get("/fast", {}, 5s);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace financialapi::warmup
