// The financial-api-server binary stopped the way Kubernetes stops a pod in a rollout: SIGTERM while
// clients keep sending. The pod's endpoint leaves the Service only some time after the SIGTERM (the
// endpoint controller, then every kube-proxy), so the server must keep serving through
// SHUTDOWN_DELAY_SECONDS, answer /ready with 503 meanwhile, and only then stop accepting and finish
// what is in flight. The load here plays the Service: it keeps sending new connections until it has
// seen /ready answer 503, and a while longer, as a kube-proxy that has not caught up yet would.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "api_fixture.h"
#include "support/child_process.h"
#include "support/test_environment.h"

namespace financialapi {
namespace {

using namespace std::chrono_literals;

constexpr int kShutdownDelaySeconds = 4;
constexpr int kShutdownDrainSeconds = 10;
// How long after /ready first answered 503 the load keeps coming (an endpoint update on its way).
constexpr auto kEndpointPropagation = 1s;

class ServerProcess : public testing::ChildProcess {
 public:
  ServerProcess(const std::string& database_url, int port)
      : ChildProcess("/usr/bin/env",
                     {"DATABASE_URL=" + database_url, "REDIS_URL=" + testing::RedisUrl(),
                      "CACHE_KEY_PREFIX=" + testing::UniqueName("shutdown") + ":", "RATE_LIMIT_RPS=0",
                      "PORT=" + std::to_string(port), "LOG_FORMAT=json",
                      "SHUTDOWN_DELAY_SECONDS=" + std::to_string(kShutdownDelaySeconds),
                      "SHUTDOWN_DRAIN_SECONDS=" + std::to_string(kShutdownDrainSeconds), API_SERVER_PATH, "serve"},
                     "api-server-shutdown") {}
};

// Clients sending one request after the other, each on a new connection, until told to stop.
class Load {
 public:
  Load(int port, int clients) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, port] {
        while (!stop_) {
          const auto answer = testing::Fetch(port, "/v1/companies/AAPL");
          if (answer.status == 200) {
            ++succeeded_;
            continue;
          }
          ++failed_;
          std::lock_guard lock(mutex_);
          if (first_failure_.empty()) {
            first_failure_ = answer.status == 0 ? "no answer" : "status " + std::to_string(answer.status) + ": " + answer.body;
          }
        }
      });
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  int succeeded() const { return succeeded_; }
  int failed() const { return failed_; }
  std::string first_failure() {
    std::lock_guard lock(mutex_);
    return first_failure_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> succeeded_{0};
  std::atomic<int> failed_{0};
  std::mutex mutex_;
  std::string first_failure_;
  std::vector<std::thread> threads_;
};

TEST(ApiServerShutdownTest, SigtermKeepsServingThroughTheDelayWithReadinessDownThenDrainsWithoutAFailedRequest) {
  const std::string database = testing::CreateSampleDatabase("shutdown");
  ASSERT_FALSE(database.empty());
  const int port = testing::FreePort();
  ServerProcess server(database, port);
  ASSERT_TRUE(testing::WaitFor([&] { return testing::Fetch(port, "/ready").status == 200; }, 60s)) << server.Log();

  Load load(port, 4);
  ASSERT_TRUE(testing::WaitFor([&] { return load.succeeded() >= 20; }, 30s)) << server.Log();
  const auto signalled_at = std::chrono::steady_clock::now();
  server.Signal(SIGTERM);

  // Readiness goes down at once; the server keeps answering everything else.
  const bool not_ready = testing::WaitFor([&] { return testing::Fetch(port, "/ready").status == 503; }, 3s, 50ms);
  std::this_thread::sleep_for(kEndpointPropagation);
  load.Stop();
  const auto load_stopped_after = std::chrono::steady_clock::now() - signalled_at;
  EXPECT_TRUE(not_ready) << "/ready never answered 503 after SIGTERM:\n" << server.Log();
  EXPECT_EQ(load.failed(), 0) << load.failed() << " of " << load.failed() + load.succeeded()
                              << " requests failed in the "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(load_stopped_after).count()
                              << " ms after SIGTERM (first: " << load.first_failure() << "):\n" << server.Log();
  EXPECT_GT(load.succeeded(), 20);

  // Past the delay it stops accepting and exits once the drain is done.
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(kShutdownDelaySeconds + kShutdownDrainSeconds + 10)), 0)
      << server.Log();
  EXPECT_GE(std::chrono::steady_clock::now() - signalled_at, std::chrono::seconds(kShutdownDelaySeconds))
      << "it stopped before the delay was over:\n" << server.Log();
  EXPECT_NE(server.Log().find("\"msg\":\"stopped\""), std::string::npos) << server.Log();
}

}  // namespace
}  // namespace financialapi
