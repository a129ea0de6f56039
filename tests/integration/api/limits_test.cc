// The API server's own limits, seen from a client: a GET-only API refuses a request body before
// reading it, and says nothing that invites one.
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "integration/api/api_fixture.h"

namespace financialapi::testing {
namespace {

// Sends `request` on a new connection and returns the first bytes that come back (up to 4 KiB, or
// what arrived within 5 s).
std::string FirstAnswerBytes(int port, const std::string& request) {
  const int fd = ConnectLoopback(port, 5);
  std::string answer;
  if (fd < 0) return answer;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) answer.assign(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

TEST(ApiLimitsTest, ARequestBodyIsRefusedAtOnceWithoutContinue) {
  // No database needed: /health answers without one, and the refusal comes before any handler.
  service::ServiceConfig config;
  config.database_url = "postgresql://nobody@127.0.0.1:1/none";
  config.worker_threads = 2;
  config.rate_limit_rps = 0;
  ApiUnderTest api(config);
  for (const std::string& head :
       {std::string("GET /health HTTP/1.1\r\nHost: h\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n\r\n"),
        std::string("GET /health HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")}) {
    const std::string answer = FirstAnswerBytes(api.port(), head);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 ")) << head << "answered: " << answer.substr(0, answer.find("\r\n"));
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  }
  EXPECT_EQ(api.Get("/health").status, 200);
}

}  // namespace
}  // namespace financialapi::testing
