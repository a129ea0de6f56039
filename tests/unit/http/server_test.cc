// The HTTP layer against a real loopback socket: a tiny blocking client speaks raw HTTP/1.x so that
// what goes over the wire (framing, headers, connection handling) is asserted, not a client's view.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "financialapi/http/server.h"

namespace financialapi::http {
namespace {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::string status_line;
  std::vector<Header> headers;  // names lower-cased by the client
  std::string body;

  std::optional<std::string> Get(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.name == name) return h.value;
    }
    return std::nullopt;
  }
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A blocking HTTP/1.x client over one TCP connection; every read gives up after 10 s.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response. The body is framed by Content-Length; without one (or for HEAD, 204, 304)
  // there is none. nullopt when the connection ends or times out first.
  std::optional<RawResponse> Read(bool head_request = false) {
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    RawResponse response;
    const std::string head = in_.substr(0, end);
    in_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    response.status_line = head.substr(0, line_end);
    if (response.status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(response.status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers.push_back({Lower(line.substr(0, colon)), value});
    }
    const auto length = response.Get("content-length");
    if (response.status == 100) return response;
    if (length && !head_request && response.status != 204 && response.status != 304) {
      const std::size_t n = std::stoul(*length);
      while (in_.size() < n) {
        if (!Fill()) return std::nullopt;
      }
      response.body = in_.substr(0, n);
      in_.erase(0, n);
    }
    return response;
  }

  std::optional<RawResponse> Get(const std::string& target) {
    if (!Send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n")) return std::nullopt;
    return Read();
  }

  // True when the server closed the connection (EOF or reset) within the receive timeout, with no
  // further bytes sent.
  bool ClosedByPeer() {
    if (!in_.empty()) return false;
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  std::size_t buffered() const { return in_.size(); }

 private:
  bool Fill() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    in_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};

// Polls `done` every 20 ms until it is true or `limit` passes; its last answer.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::unique_ptr<Server> StartServer(Handler handler, ServerOptions options = {}) {
  options.address = "127.0.0.1";
  options.port = 0;
  auto server = Server::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(server).value() : nullptr;
}

Response Text(std::string body) {
  Response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

// Records the last request the handler saw.
struct Recorder {
  std::mutex mutex;
  std::optional<Request> last;
  Handler handler() {
    return [this](const Request& request) {
      std::lock_guard lock(mutex);
      last = request;
      return Text("ok");
    };
  }
  Request Last() {
    std::lock_guard lock(mutex);
    return last.value_or(Request{});
  }
};

TEST(HttpServerTest, PassesMethodTargetDecodedPathAndQueryInOrder) {
  Recorder recorder;
  auto server = StartServer(recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.connected());
  const std::string target = "/v1/a%2Fb/c+d?search=app+le&x=%26y%3D&empty&k=1&&k=2";
  auto response = client.Get(target);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");

  const Request request = recorder.Last();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, target);
  EXPECT_EQ(request.path, "/v1/a/b/c+d");  // '+' is a space only in the query
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"search", "app le"}, {"x", "&y="}, {"empty", ""}, {"k", "1"}, {"k", "2"}};
  EXPECT_EQ(request.query, expected);
  EXPECT_EQ(request.QueryValue("k"), "1");
  EXPECT_EQ(request.QueryValue("empty"), "");
  EXPECT_EQ(request.QueryValue("missing"), std::nullopt);
  EXPECT_EQ(request.remote_address, "127.0.0.1");

  // Request state is reused per connection: a second request must not see the first one's query.
  response = client.Get("/plain");
  ASSERT_TRUE(response);
  const Request second = recorder.Last();
  EXPECT_EQ(second.path, "/plain");
  EXPECT_TRUE(second.query.empty());
}

TEST(HttpServerTest, OtherMethodsAndAbsoluteFormTargets) {
  Recorder recorder;
  auto server = StartServer(recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("DELETE http://example.com/v1/x%20y?a=b HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const Request request = recorder.Last();
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.path, "/v1/x y");
  EXPECT_EQ(request.QueryValue("a"), "b");
}

TEST(HttpServerTest, RequestHeadersAreLowerCasedAndLookedUpCaseInsensitively) {
  Recorder recorder;
  auto server = StartServer(recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Api-KEY: Secret Value\r\nAccept: a\r\nAccept: b\r\n\r\n"));
  ASSERT_TRUE(client.Read());
  const Request request = recorder.Last();
  ASSERT_EQ(request.headers.size(), 4u);
  EXPECT_EQ(request.headers[1].name, "x-api-key");
  EXPECT_EQ(request.headers[1].value, "Secret Value");
  EXPECT_EQ(request.HeaderValue("X-API-Key"), "Secret Value");
  EXPECT_EQ(request.HeaderValue("accept"), "a");  // the first of repeated headers
  EXPECT_EQ(request.HeaderValue("missing"), std::nullopt);
}

TEST(HttpServerTest, ResponseCarriesStatusContentTypeLengthDateServerAndExtraHeaders) {
  auto server = StartServer([](const Request&) {
    Response response;
    response.status = 429;
    response.body = R"({"error":"slow down"})";
    response.headers = {{"Retry-After", "7"},
                        {"Content-Length", "999"},             // the server's to set: dropped
                        {"X-Injected", "a\r\nSet-Cookie: x=1"}};  // would split the response: dropped
    return response;
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  auto response = client.Get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status_line, "HTTP/1.1 429 Too Many Requests");
  EXPECT_EQ(response->Get("content-type"), "application/json");
  EXPECT_EQ(response->Get("content-length"), std::to_string(response->body.size()));
  EXPECT_EQ(response->body, R"({"error":"slow down"})");
  EXPECT_EQ(response->Get("retry-after"), "7");
  EXPECT_EQ(response->Get("x-injected"), std::nullopt);
  EXPECT_EQ(response->Get("set-cookie"), std::nullopt);
  EXPECT_EQ(response->Get("server"), "financial-api");
  const auto date = response->Get("date");
  ASSERT_TRUE(date);
  EXPECT_TRUE(std::regex_match(*date, std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)")))
      << *date;
}

TEST(HttpServerTest, KeepAliveServesSequentialAndPipelinedRequestsOnOneConnection) {
  std::atomic<int> calls{0};
  auto server = StartServer([&](const Request& request) {
    ++calls;
    return Text("echo " + request.path);
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  for (int i = 0; i < 5; ++i) {
    auto response = client.Get("/n" + std::to_string(i));
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, "echo /n" + std::to_string(i));
    EXPECT_EQ(response->Get("connection"), std::nullopt);  // HTTP/1.1 default: keep-alive
  }
  // Three requests in one write: answered in order.
  ASSERT_TRUE(client.Send("GET /p1 HTTP/1.1\r\nHost: h\r\n\r\nGET /p2 HTTP/1.1\r\nHost: h\r\n\r\n"
                          "GET /p3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  for (const char* expected : {"echo /p1", "echo /p2", "echo /p3"}) {
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, expected);
  }
  EXPECT_TRUE(client.ClosedByPeer());  // the last one asked for Connection: close
  EXPECT_EQ(calls.load(), 8);
}

// The first step of a graceful stop: still accepting and serving, but every answer closes its
// connection, so clients move off before the listener closes.
TEST(HttpServerTest, AfterBeginDrainEveryAnswerClosesItsConnectionAndNewConnectionsAreStillServed) {
  auto server = StartServer([](const Request& request) { return Text("echo " + request.path); });
  ASSERT_TRUE(server);
  Client kept_alive(server->port());
  auto before = kept_alive.Get("/before");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->Get("connection"), std::nullopt);

  server->BeginDrain();
  auto after = kept_alive.Get("/after");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "echo /after");
  EXPECT_EQ(after->Get("connection"), "close");
  EXPECT_TRUE(kept_alive.ClosedByPeer());
  Client fresh(server->port());
  auto answer = fresh.Get("/new");
  ASSERT_TRUE(answer) << "a new connection is still accepted while draining";
  EXPECT_EQ(answer->body, "echo /new");
  EXPECT_EQ(answer->Get("connection"), "close");
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  auto server = StartServer([](const Request&) { return Text("v10"); });
  ASSERT_TRUE(server);
  {
    Client client(server->port());
    ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "v10");
    EXPECT_EQ(response->Get("connection"), "close");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  {
    Client client(server->port());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto response = client.Read();
      ASSERT_TRUE(response) << i;
      EXPECT_EQ(response->Get("connection"), "keep-alive");
      EXPECT_EQ(response->Get("content-length"), "3");
    }
  }
}

TEST(HttpServerTest, HeadSendsTheGetHeadersWithoutBody) {
  auto server = StartServer([](const Request& request) {
    if (request.method != "GET" && request.method != "HEAD") return ErrorResponse(405, "method not allowed");
    return Text("hello world");
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto head = client.Read(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Get("content-length"), "11");
  EXPECT_EQ(head->Get("content-type"), "text/plain");
  // Had the body been sent, it would now be read as the start of the next response.
  auto get = client.Get("/x");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(get->body, "hello world");
  EXPECT_EQ(client.buffered(), 0u);
}

TEST(HttpServerTest, NoContentResponsesHaveNoBodyOrLength) {
  auto server = StartServer([](const Request&) {
    Response response;
    response.status = 204;
    response.body = "dropped";
    return response;
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  for (int i = 0; i < 2; ++i) {
    auto response = client.Get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 204);
    EXPECT_EQ(response->Get("content-length"), std::nullopt);
  }
  EXPECT_EQ(client.buffered(), 0u);
}

TEST(HttpServerTest, RequestBodiesArriveWithContentLengthChunkedAndExpectContinue) {
  auto server = StartServer([](const Request& request) { return Text(request.method + ":" + request.body); });
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST:hello");

  ASSERT_TRUE(client.Send("PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "PUT:abcde");

  ASSERT_TRUE(client.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.Send("data"));
  response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST:data");
}

TEST(HttpServerTest, MalformedRequestsGet400JsonAndTheConnectionCloses) {
  std::atomic<int> calls{0};
  auto server = StartServer([&](const Request&) {
    ++calls;
    return Text("ok");
  });
  ASSERT_TRUE(server);
  for (const std::string& raw : {std::string("NOT HTTP AT ALL\r\n\r\n"), std::string("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n"),
                                std::string("GET /q?a=%4 HTTP/1.1\r\nHost: h\r\n\r\n"),
                                std::string("GET relative HTTP/1.1\r\nHost: h\r\n\r\n"),
                                std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n")}) {
    Client client(server->port());
    ASSERT_TRUE(client.Send(raw));
    auto response = client.Read();
    ASSERT_TRUE(response) << raw;
    EXPECT_EQ(response->status, 400) << raw;
    EXPECT_EQ(response->Get("content-type"), "application/json");
    EXPECT_EQ(response->Get("connection"), "close");
    EXPECT_TRUE(std::regex_match(response->body, std::regex(R"(\{"error":\{"code":400,"message":"[^"]+"\}\})")))
        << response->body;
    EXPECT_TRUE(client.ClosedByPeer()) << raw;
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, HeadersOverTheLimitGet431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  auto server = StartServer([](const Request&) { return Text("ok"); }, options);
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, R"({"error":{"code":431,"message":"request headers too large"}})");
  EXPECT_TRUE(client.ClosedByPeer());

  // Just under the limit is fine.
  Client small(server->port());
  auto ok = small.Get("/?" + std::string(800, 'b'));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerTest, BodiesOverTheLimitGet413) {
  ServerOptions options;
  options.max_body_bytes = 1000;
  std::atomic<int> calls{0};
  auto server = StartServer([&](const Request& request) {
    ++calls;
    return Text(std::to_string(request.body.size()));
  }, options);
  ASSERT_TRUE(server);
  {
    Client client(server->port());
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x')));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(response->body, R"({"error":{"code":413,"message":"request body too large"}})");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  {
    Client client(server->port());  // chunked: the limit is found while reading
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                            std::string(0x800, 'y') + "\r\n0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
  }
  Client client(server->port());
  ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'x')));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "1000");
  EXPECT_EQ(calls.load(), 1);
}

// A server that takes no bodies (max_body_bytes 0) refuses one at its headers: no 100 Continue, no
// byte of it read or buffered, 413 and the connection closed, whatever framing announces it.
TEST(HttpServerTest, WithoutBodiesARequestAnnouncingOneIsRefusedAtItsHeaders) {
  ServerOptions options;
  options.max_body_bytes = 0;
  std::atomic<int> calls{0};
  auto server = StartServer([&](const Request&) {
    ++calls;
    return Text("ok");
  }, options);
  ASSERT_TRUE(server);
  for (const std::string& head :
       {std::string("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")}) {
    Client client(server->port());
    ASSERT_TRUE(client.Send(head));
    auto response = client.Read();
    ASSERT_TRUE(response) << head;
    EXPECT_EQ(response->status, 413) << head << response->status_line;
    EXPECT_EQ(response->Get("connection"), "close") << head;
    EXPECT_TRUE(client.ClosedByPeer()) << head;
  }
  EXPECT_EQ(calls.load(), 0);
  // Content-Length: 0 is no body.
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

// With a handler pool, handlers blocked (on a database, say) hold pool threads only: the I/O
// threads still accept, read and answer the inline paths.
TEST(HttpServerTest, InlinePathsAnswerWhileEveryHandlerThreadIsBlocked) {
  ServerOptions options;
  options.threads = 1;
  options.handler_threads = 2;
  options.inline_paths = {"/health"};
  std::mutex mutex;
  std::condition_variable changed;
  int blocked = 0;
  bool release = false;
  auto server = StartServer([&](const Request& request) {
    if (request.path == "/health") return Text("alive");
    std::unique_lock lock(mutex);
    ++blocked;
    changed.notify_all();
    changed.wait_for(lock, 10s, [&] { return release; });
    return Text("slow");
  }, options);
  ASSERT_TRUE(server);
  std::vector<std::thread> slow;
  std::vector<std::optional<RawResponse>> slow_answers(3);
  for (std::size_t i = 0; i < slow_answers.size(); ++i) {
    slow.emplace_back([&, i] {
      Client client(server->port());
      slow_answers[i] = client.Get("/data");
    });
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 10s, [&] { return blocked == 2; }));  // both handler threads
  }
  const auto start = std::chrono::steady_clock::now();
  Client probe(server->port());
  auto health = probe.Get("/health");
  const auto waited = std::chrono::steady_clock::now() - start;
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  for (auto& thread : slow) thread.join();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "alive");
  EXPECT_LT(waited, 1s);
  for (const auto& answer : slow_answers) {
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->body, "slow");  // the third waited for a free handler thread
  }
}

TEST(HttpServerTest, ConnectionsOverTheLimitsAreClosedAtOnce) {
  ServerOptions options;
  options.max_connections = 3;
  options.max_connections_per_client = 2;
  auto server = StartServer([](const Request&) { return Text("ok"); }, options);
  ASSERT_TRUE(server);
  // All from 127.0.0.1: two are served, the third is closed without an answer.
  auto a = std::make_unique<Client>(server->port());
  Client b(server->port());
  ASSERT_TRUE(a->Get("/"));
  ASSERT_TRUE(b.Get("/"));
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_TRUE(c.ClosedByPeer());
  // A closed connection frees its place.
  a.reset();
  EXPECT_TRUE(WaitUntil([&] {
    Client d(server->port());
    return d.Get("/").has_value();
  }));
}

// A client that sends requests but never reads the answers: once the socket buffers are full the
// write cannot finish, and the connection (with the response it pins) goes after write_timeout.
TEST(HttpServerTest, AClientThatNeverReadsIsDroppedAfterTheWriteTimeout) {
  ServerOptions options;
  options.write_timeout = 1s;
  options.idle_timeout = 30s;
  auto body = std::make_shared<const std::string>(std::string(64 << 20, 'x'));
  auto server = StartServer([&](const Request&) {
    Response response;
    response.shared_body = body;
    return response;
  }, options);
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  std::this_thread::sleep_for(200ms);
  const auto start = std::chrono::steady_clock::now();
  // The body still pinned by the write (ours, the handler's copy and the server's) until dropped.
  EXPECT_TRUE(WaitUntil([&] { return body.use_count() == 1; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(HttpServerTest, ThrowingHandlerGives500AndTheServerKeepsServing) {
  auto server = StartServer([](const Request& request) -> Response {
    if (request.path == "/std") throw std::runtime_error("secret detail");
    if (request.path == "/int") throw 42;
    return Text("fine");
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  for (const char* path : {"/std", "/int"}) {
    auto response = client.Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 500);
    EXPECT_EQ(response->Get("content-type"), "application/json");
    EXPECT_EQ(response->body, R"({"error":{"code":500,"message":"internal error"}})");
  }
  auto same_connection = client.Get("/ok");  // a handler failure is not a protocol error
  ASSERT_TRUE(same_connection);
  EXPECT_EQ(same_connection->body, "fine");
  Client other(server->port());
  auto response = other.Get("/ok");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "fine");
}

TEST(HttpServerTest, InvalidStatusFromHandlerBecomes500) {
  auto server = StartServer([](const Request&) {
    Response response;
    response.status = 42;
    return response;
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  auto response = client.Get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
}

TEST(HttpServerTest, SharedBodyIsSentInsteadOfBodyAndNotPinnedAfterwards) {
  auto cached = std::make_shared<const std::string>(std::string(200 * 1024, 'c') + "end");
  auto server = StartServer([&](const Request&) {
    Response response;
    response.body = "not this";
    response.shared_body = cached;
    return response;
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  auto response = client.Get("/cached");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Get("content-length"), std::to_string(cached->size()));
  EXPECT_EQ(response->body, *cached);
  // The connection stays open and idle; it must not keep the cached body alive.
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (cached.use_count() > 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(cached.use_count(), 1);
}

TEST(HttpServerTest, ConcurrentClientsAllGetTheirOwnAnswers) {
  ServerOptions options;
  options.threads = 4;
  auto server = StartServer([](const Request& request) {
    return Text(std::string(request.QueryValue("id").value_or("none")) + ":" + request.path);
  }, options);
  ASSERT_TRUE(server);
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Client> client;
      for (int i = 0; i < kRequests; ++i) {
        if (i % 50 == 0) client = std::make_unique<Client>(server->port());  // some fresh connections too
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        auto response = client->Get("/t" + std::to_string(t) + "?id=" + id);
        if (response && response->status == 200 && response->body == id + ":/t" + std::to_string(t)) ++correct;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(correct.load(), kThreads * kRequests);
}

TEST(HttpServerTest, IdleKeepAliveConnectionsAreClosedAfterTheTimeout) {
  ServerOptions options;
  options.idle_timeout = 1s;
  auto server = StartServer([](const Request&) { return Text("ok"); }, options);
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Get("/"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.ClosedByPeer());
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 800ms);
  EXPECT_LT(waited, 5s);
}

TEST(HttpServerTest, GracefulShutdownFinishesInFlightRequestsClosesIdleOnesAndRefusesNewOnes) {
  std::atomic<bool> slow_started{false};
  auto server = StartServer([&](const Request& request) {
    if (request.path == "/slow") {
      slow_started = true;
      std::this_thread::sleep_for(300ms);
      return Text("slow done");
    }
    return Text("quick");
  });
  ASSERT_TRUE(server);
  const int port = server->port();

  Client idle(port);  // keep-alive connection with no request in flight
  ASSERT_TRUE(idle.Get("/"));

  Client slow(port);
  ASSERT_TRUE(slow.Send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"));
  while (!slow_started) std::this_thread::sleep_for(1ms);

  const auto start = std::chrono::steady_clock::now();
  server->Shutdown(5s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 3s);  // returned once the in-flight request was done, not after the 5 s drain limit

  auto response = slow.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "slow done");
  EXPECT_EQ(response->Get("connection"), "close");
  EXPECT_TRUE(slow.ClosedByPeer());
  EXPECT_TRUE(idle.ClosedByPeer());

  Client late(port);
  EXPECT_FALSE(late.connected());
  server->Shutdown();  // idempotent
}

TEST(HttpServerTest, ShutdownClosesAHalfSentRequestAfterTheDrainLimit) {
  auto server = StartServer([](const Request&) { return Text("ok"); });
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n"));  // headers never finished
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  server->Shutdown(200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST(HttpServerTest, DestructorShutsDown) {
  int port = 0;
  {
    auto server = StartServer([](const Request&) { return Text("ok"); });
    ASSERT_TRUE(server);
    port = server->port();
    Client client(port);
    ASSERT_TRUE(client.Get("/"));
  }
  Client late(port);
  EXPECT_FALSE(late.connected());
}

TEST(HttpServerTest, StartReportsBadOptionsAndBusyPorts) {
  auto first = StartServer([](const Request&) { return Text("ok"); });
  ASSERT_TRUE(first);
  ServerOptions busy;
  busy.address = "127.0.0.1";
  busy.port = first->port();
  auto second = Server::Start(busy, [](const Request&) { return Text("ok"); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(first->port())), std::string::npos)
      << second.status();

  ServerOptions bad_address;
  bad_address.address = "not-an-ip";
  EXPECT_EQ(Server::Start(bad_address, [](const Request&) { return Text("ok"); }).status().code(),
            StatusCode::kInvalidArgument);
  ServerOptions no_threads;
  no_threads.port = 0;
  no_threads.threads = 0;
  EXPECT_EQ(Server::Start(no_threads, [](const Request&) { return Text("ok"); }).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, ErrorResponseEscapesTheMessage) {
  const Response response = ErrorResponse(404, "no \"x\" in\na\\b");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":{"code":404,"message":"no \"x\" in\na\\b"}})");
}

// --- gzip ---------------------------------------------------------------------------------------------

TEST(HttpGzipTest, RoundTripsTextBinaryAndEmptyInput) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += R"({"concept":"Revenues","value":)" + std::to_string(i * 7919) + "},";
  std::string binary;
  for (unsigned i = 0; i < 70000; ++i) binary.push_back(static_cast<char>((i * 2654435761u) >> 13));
  for (const std::string& input : {text, binary, std::string()}) {
    auto compressed = GzipCompress(input);
    ASSERT_TRUE(compressed.ok()) << compressed.status();
    ASSERT_GE(compressed->size(), 18u);  // gzip header + trailer
    EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
    auto restored = GzipDecompress(*compressed);
    ASSERT_TRUE(restored.ok()) << restored.status();
    EXPECT_EQ(*restored, input);
  }
  EXPECT_LT(GzipCompress(text)->size(), text.size() / 4);
  EXPECT_LE(GzipCompress(text, 9)->size(), GzipCompress(text, 1)->size());
}

TEST(HttpGzipTest, RejectsBadLevelsAndCorruptOrTruncatedData) {
  EXPECT_EQ(GzipCompress("x", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GzipCompress("x", -2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GzipDecompress("definitely not gzip").status().code(), StatusCode::kInvalidArgument);
  const std::string compressed = GzipCompress(std::string(10000, 'z')).value();
  EXPECT_EQ(GzipDecompress(compressed.substr(0, compressed.size() - 5)).status().code(), StatusCode::kInvalidArgument);
  std::string corrupt = compressed;
  corrupt[compressed.size() / 2] = static_cast<char>(corrupt[compressed.size() / 2] ^ 0x55);
  EXPECT_FALSE(GzipDecompress(corrupt).ok());
  EXPECT_EQ(GzipDecompress(compressed + "junk").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GzipDecompress("").status().code(), StatusCode::kInvalidArgument);
}

Request WithAcceptEncoding(std::vector<std::string> values) {
  Request request;
  for (auto& value : values) request.headers.push_back({"accept-encoding", std::move(value)});
  return request;
}

TEST(HttpGzipTest, AcceptsGzipFollowsQValues) {
  EXPECT_FALSE(AcceptsGzip(Request{}));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"gzip"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"deflate, gzip, br"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"GZip"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"x-gzip"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"gzip;q=0.5"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"br;q=1.0, gzip ; q=0.001"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"*"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"deflate, *;q=0.1"})));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding({"deflate", "gzip"})));  // any of several headers
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"deflate, br"})));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"gzip;q=0"})));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"gzip; q=0.000"})));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"*;q=0"})));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"gzip;q=0, *"})));  // refused by name beats the wildcard
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"gzip;q=abc"})));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding({"identity"})));
  Request other_header;
  other_header.headers.push_back({"accept", "gzip"});
  EXPECT_FALSE(AcceptsGzip(other_header));
}

}  // namespace
}  // namespace financialapi::http

namespace financialapi::http {
namespace {

TEST(HttpServerTest, ErrorResponseKeepsValidUtf8AndReplacesTheRest) {
  // "é" (2 bytes), "€" (3), "😀" (4) pass through; a lone 0xFF, a stray continuation byte, an overlong
  // '/' (C0 AF), a surrogate (ED A0 80) and a truncated sequence become U+FFFD.
  const Response response = ErrorResponse(404, "é € 😀 \xff \x80 \xc0\xaf \xed\xa0\x80 \xe2\x82");
  EXPECT_EQ(response.body,
            "{\"error\":{\"code\":404,\"message\":\"é € 😀 \\ufffd \\ufffd \\ufffd\\ufffd "
            "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"}}");
}

}  // namespace
}  // namespace financialapi::http
