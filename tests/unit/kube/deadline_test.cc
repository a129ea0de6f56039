// A per-call deadline ends a request to a server that accepted the connection and then went silent
// (no reset, no answer): what a stalled network path looks like, which only the client can end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "financialapi/kube/client.h"
#include "financialapi/kube/resource.h"

namespace financialapi::kube {
namespace {

using namespace std::chrono_literals;

// Listens on a loopback port and never accepts: the kernel completes the handshake, nothing answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ClientDeadlineTest, ARequestToASilentServerEndsAtTheCallersDeadlineAsTimeout) {
  SilentServer server;
  ClusterConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(server.port());
  config.source = "test";
  auto client = Client::Create(config, {.request_timeout = 30s, .max_retries = 3});
  ASSERT_TRUE(client.ok()) << client.status();

  const auto started = std::chrono::steady_clock::now();
  auto lease = (*client)->Get(resources::kLeases, "default", "any", {.deadline = started + 400ms});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), StatusCode::kTimeout) << lease.status();
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 3s) << "the 30 s request timeout and the retries were not cut short by the deadline";
}

}  // namespace
}  // namespace financialapi::kube
