// Two processes of the sample controller compete for one Lease: one leads and reconciles, the other
// waits and never reconciles; when the leader is killed the other takes over within the lease
// duration; on SIGTERM the leader drains and releases the lease; a leader whose connection to the API
// server stalls stops leading before the other can take the lease.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "financialapi/common/file.h"
#include "sample/configmap_mirror.h"
#include "support/child_process.h"
#include "support/test_environment.h"

namespace financialapi {
namespace {

using namespace std::chrono_literals;
using kube::Json;
namespace resources = kube::resources;

constexpr auto kLeaseDuration = 4000ms;
constexpr auto kRenewDeadline = 3000ms;
constexpr auto kRetryPeriod = 500ms;

// One process of the sample controller competing for the lease (through `kubeconfig`'s server).
class Candidate : public testing::ChildProcess {
 public:
  Candidate(const std::string& ns, const std::string& identity,
            const std::string& kubeconfig = testing::ClusterKubeconfigPath())
      : ChildProcess(MIRROR_CONTROLLER_PATH,
                     {kubeconfig, ns, identity, std::to_string(kLeaseDuration.count()),
                      std::to_string(kRenewDeadline.count()), std::to_string(kRetryPeriod.count()),
                      std::to_string(testing::FreePort())},
                     "candidate-" + identity),
        identity_(identity) {}

  const std::string& identity() const { return identity_; }
  int Reconciles() const {
    const std::string log = Log();
    int count = 0;
    for (std::size_t at = log.find("reconciled "); at != std::string::npos; at = log.find("reconciled ", at + 1)) ++count;
    return count;
  }

 private:
  std::string identity_;
};

// Forwards every connection made to its loopback port to 127.0.0.1:<upstream_port>, byte for byte,
// until Stall(): from then on no byte moves in either direction and every socket stays open. That is
// what a partition, a dead route or a hung load balancer looks like to a client: no reset, no refusal,
// just silence, which only the client's own deadlines end.
class StallingProxy {
 public:
  explicit StallingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0) {
      ADD_FAILURE() << "the proxy cannot listen";
      return;
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    threads_.emplace_back([this] { Accept(); });
  }
  ~StallingProxy() {
    stopping_ = true;
    for (auto& thread : threads_) thread.join();
    ::close(listener_);
    for (const int fd : sockets_) ::close(fd);
  }
  int port() const { return port_; }
  void Stall() { stalled_ = true; }

 private:
  void Accept() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 100) <= 0) continue;
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      const int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(upstream);
        ::close(client);
        continue;
      }
      std::lock_guard lock(mutex_);
      sockets_.push_back(client);
      sockets_.push_back(upstream);
      threads_.emplace_back([this, client, upstream] { Forward(client, upstream); });
    }
  }
  // Copies what arrives on either socket to the other until one side closes; while stalled it reads
  // nothing (so the kernel buffers fill and the peers' writes block) and closes nothing.
  void Forward(int client, int upstream) {
    std::vector<char> buffer(64 * 1024);
    while (!stopping_) {
      if (stalled_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      pollfd ready[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (::poll(ready, 2, 50) <= 0) continue;
      for (int side = 0; side < 2; ++side) {
        if ((ready[side].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const int from = side == 0 ? client : upstream;
        const int to = side == 0 ? upstream : client;
        const ssize_t got = ::read(from, buffer.data(), buffer.size());
        if (got <= 0) {
          ::shutdown(to, SHUT_WR);
          return;
        }
        for (ssize_t sent = 0; sent < got;) {
          const ssize_t wrote = ::write(to, buffer.data() + sent, static_cast<std::size_t>(got - sent));
          if (wrote <= 0) return;
          sent += wrote;
        }
      }
    }
  }

  const int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stalled_{false};
  std::mutex mutex_;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;  // the accept thread first; it alone adds forwarders
};

// "2026-12-03T08:48:22.123Z" or "...22.123456Z" (the log's and a MicroTime's form) as a time point.
std::optional<std::chrono::system_clock::time_point> ParseUtc(const std::string& text) {
  std::tm parts{};
  int fraction_at = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                  &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &fraction_at) != 6) {
    return std::nullopt;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  auto time = std::chrono::system_clock::from_time_t(::timegm(&parts));
  const auto fraction_start = static_cast<std::size_t>(fraction_at);
  if (text.size() > fraction_start && text[fraction_start] == '.') {
    std::chrono::microseconds fraction{0};
    long scale = 100000;
    for (std::size_t i = fraction_start + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && scale > 0;
         ++i, scale /= 10) {
      fraction += std::chrono::microseconds((text[i] - '0') * scale);
    }
    time += fraction;
  }
  return time;
}

// The time stamp of the first log line that contains `message`, or nullopt.
std::optional<std::chrono::system_clock::time_point> LoggedAt(const std::string& log, const std::string& message) {
  const std::size_t at = log.find(message);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t line_start = log.rfind('\n', at);
  return ParseUtc(log.substr(line_start == std::string::npos ? 0 : line_start + 1, 30));
}

// The admin kubeconfig's server line, "server: https://127.0.0.1:<port>" (its port in group 1).
bool FindServer(const std::string& kubeconfig, std::smatch& server) {
  return std::regex_search(kubeconfig, server, std::regex(R"(server: https://127\.0\.0\.1:([0-9]+))"));
}

int ApiServerPort() {
  const std::string kubeconfig = ReadFile(testing::ClusterKubeconfigPath()).value_or("");
  std::smatch server;
  return FindServer(kubeconfig, server) ? std::stoi(server[1].str()) : 0;
}

// The cluster's admin kubeconfig with its server changed to 127.0.0.1:<port>, in a file of its own
// (the API server's certificate names 127.0.0.1, so TLS still verifies through the proxy).
std::string KubeconfigThrough(int port) {
  const std::string kubeconfig = ReadFile(testing::ClusterKubeconfigPath()).value_or("");
  std::smatch server;
  if (!FindServer(kubeconfig, server)) {
    ADD_FAILURE() << "no https://127.0.0.1 server in " << testing::ClusterKubeconfigPath();
    return "";
  }
  const std::string path = testing::StateDir() + "/" + testing::UniqueName("proxied") + ".kubeconfig";
  std::ofstream(path) << server.prefix().str() << "server: https://127.0.0.1:" << port << server.suffix().str();
  return path;
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::AdminClient();
    ASSERT_NE(client_, nullptr);
    namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "leader");
  }
  const std::string& ns() const { return namespace_->name(); }

  std::string Holder() { return LeaseField("holderIdentity"); }
  std::string LeaseField(const std::string& field) {
    auto lease = client_->Get(resources::kLeases, ns(), "mirror-leader");
    return lease.ok() ? lease->value("/spec"_json_pointer, Json::object()).value(field, "") : "";
  }
  void ApplySource(const std::string& name) {
    const Json source = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                         {"metadata", {{"name", name}, {"namespace", ns()}, {"labels", {{sample::kMirrorLabel, "source"}}}}},
                         {"data", {{"v", name}}}};
    ASSERT_TRUE(client_->Apply(resources::kConfigMaps, source, {.field_manager = "tests"}).ok());
  }
  bool CopyExists(const std::string& name) { return client_->Get(resources::kConfigMaps, ns(), name + "-mirror").ok(); }

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
};

TEST_F(LeaderElectionTest, OneLeadsTheOtherTakesOverWhenItDiesAndTheLoserNeverReconciles) {
  Candidate first(ns(), "first");
  Candidate second(ns(), "second");
  ASSERT_TRUE(testing::WaitFor([&] { return !Holder().empty(); }, 30s)) << first.Log() << second.Log();
  Candidate& leader = Holder() == "first" ? first : second;
  Candidate& follower = Holder() == "first" ? second : first;

  ApplySource("one");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyExists("one"); }, 30s)) << leader.Log();
  // The controller prints its line after the write and the Event that follows it, so the copy can be
  // visible before the line is.
  EXPECT_TRUE(testing::WaitFor([&] { return leader.Reconciles() >= 1; }, 10s)) << leader.Log();
  std::this_thread::sleep_for(2 * kRetryPeriod);
  EXPECT_EQ(follower.Reconciles(), 0) << "the follower reconciled:\n" << follower.Log();
  EXPECT_EQ(Holder(), leader.identity()) << "the leader keeps renewing";

  const auto killed_at = std::chrono::steady_clock::now();
  leader.Kill();
  ASSERT_TRUE(testing::WaitFor([&] { return Holder() == follower.identity(); }, 30s, 50ms)) << follower.Log();
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  // The bound leaves a few seconds for a loaded machine; what it rules out is waiting for anything
  // longer than the lease (a renew deadline loop, a watch timeout, a restart).
  EXPECT_LE(takeover, kLeaseDuration + 2 * kRetryPeriod + 3000ms)
      << "took " << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms";

  ApplySource("two");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyExists("two"); }, 30s)) << follower.Log();
  const std::string reconciled_two = "reconciled " + ns() + "/two by " + follower.identity();
  EXPECT_TRUE(testing::WaitFor([&] { return follower.Log().find(reconciled_two) != std::string::npos; }, 10s))
      << follower.Log();

  follower.Signal(SIGTERM);
  EXPECT_EQ(follower.WaitForExit(20s), 0) << follower.Log();
  EXPECT_EQ(Holder(), "") << "the lease is released on SIGTERM";
  EXPECT_NE(follower.Log().find("released the leader lease"), std::string::npos) << follower.Log();
}

// client-go's contract: a leader that could not renew within renewDeadline stops leading, and since
// renewDeadline < leaseDuration it has stopped before any other candidate may take the lease. A
// stalled connection is the hard case: nothing fails, requests just never answer.
TEST_F(LeaderElectionTest, ALeaderWhoseApiServerStallsStopsLeadingBeforeTheOtherTakesTheLease) {
  StallingProxy proxy(ApiServerPort());
  const std::string proxied_kubeconfig = KubeconfigThrough(proxy.port());
  ASSERT_FALSE(proxied_kubeconfig.empty());
  Candidate first(ns(), "first", proxied_kubeconfig);
  ASSERT_TRUE(testing::WaitFor([&] { return Holder() == "first"; }, 30s)) << first.Log();
  Candidate second(ns(), "second");  // straight to the API server
  ASSERT_TRUE(testing::WaitFor([&] { return second.Log().find("leader is elsewhere") != std::string::npos; }, 30s))
      << second.Log();
  ApplySource("one");
  ASSERT_TRUE(testing::WaitFor([&] { return first.Reconciles() >= 1; }, 30s)) << first.Log();

  proxy.Stall();
  ASSERT_TRUE(testing::WaitFor([&] { return Holder() == "second"; }, 30s, 50ms))
      << "the second never took the lease:\n" << second.Log();
  const auto taken_at = ParseUtc(LeaseField("acquireTime"));
  ASSERT_TRUE(taken_at.has_value()) << "acquireTime '" << LeaseField("acquireTime") << "'";
  // Waiting longer shows when (or whether) the first noticed at all.
  const std::string lost = "leadership lost";
  const std::string workers_stopped = "the workers take no more keys";
  testing::WaitFor([&] { return first.Log().find(workers_stopped) != std::string::npos; }, 15s);
  const auto lost_at = LoggedAt(first.Log(), lost);
  ASSERT_TRUE(lost_at.has_value()) << "the other candidate took the lease while the first still led (no '" << lost
                                   << "' within 15 s after the takeover):\n" << first.Log();
  EXPECT_LT(*lost_at, *taken_at) << "the first stopped leading "
                                 << std::chrono::duration_cast<std::chrono::milliseconds>(*lost_at - *taken_at).count()
                                 << " ms after the second took the lease:\n" << first.Log();
  const auto stopped_at = LoggedAt(first.Log(), workers_stopped);
  ASSERT_TRUE(stopped_at.has_value()) << "the workers were not stopped:\n" << first.Log();
  EXPECT_LT(*stopped_at, *taken_at) << "the first's workers stopped "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(*stopped_at - *taken_at).count()
                                    << " ms after the second took the lease:\n" << first.Log();
  EXPECT_EQ(first.WaitForExit(10s), 1) << "a replica that lost the lease exits (to restart as a follower):\n"
                                       << first.Log();

  ApplySource("two");
  const std::string reconciled_two = "reconciled " + ns() + "/two by second";
  EXPECT_TRUE(testing::WaitFor([&] { return second.Log().find(reconciled_two) != std::string::npos; }, 30s))
      << second.Log();
  EXPECT_EQ(first.Log().find("/two by first"), std::string::npos) << first.Log();
}

}  // namespace
}  // namespace financialapi
