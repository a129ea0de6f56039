// What the API does when its databases go away and come back. These stop and start the shared
// PostgreSQL and Redis, so they run alone (RUN_SERIAL).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/api/api_fixture.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::testing {
namespace {

using nlohmann::json;

int DatabasesCommand(const std::string& command) {
  const std::string line = SourcePath("hack/local-databases") + " " + command + " --state-dir " + StateDir() +
                           "/databases >/dev/null 2>&1";
  return std::system(line.c_str());
}

// The PID in the databases fixture's pids/<name>.pid.
int FixturePid(const std::string& name) {
  std::ifstream file(StateDir() + "/databases/pids/" + name + ".pid");
  int pid = 0;
  file >> pid;
  return pid;
}

// `pid` and its children (PostgreSQL's backends): a server that keeps its sockets open, and whose
// kernel still accepts connections into the listen backlog, but answers nothing, the way a hung or
// overloaded database or PgBouncer looks to a client.
std::vector<int> ProcessTree(int pid) {
  std::vector<int> tree = {pid};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    char state = 0;
    int parent = 0;
    fields >> state >> parent;
    if (parent == pid) tree.push_back(std::stoi(name));
  }
  return tree;
}

void SignalTree(int pid, int signal) {
  for (const int process : ProcessTree(pid)) ::kill(process, signal);
}

// Freezes the fixture's server `name` ("postgres" or "redis") while alive; thaws it when destroyed.
class FrozenServer {
 public:
  explicit FrozenServer(const std::string& name) : pid_(FixturePid(name)) {
    if (pid_ <= 0) {
      ADD_FAILURE() << "no pid for " << name;
      return;
    }
    SignalTree(pid_, SIGSTOP);
  }
  ~FrozenServer() { Thaw(); }
  void Thaw() {
    if (pid_ > 0) SignalTree(pid_, SIGCONT);
    pid_ = 0;
  }

 private:
  int pid_;
};

// POSTGRES_PORT of the fixture's ports file.
int PostgresPort() {
  std::ifstream file(StateDir() + "/databases/ports");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("POSTGRES_PORT=")) return std::stoi(line.substr(14));
  }
  return 0;
}

using Clock = std::chrono::steady_clock;
long Milliseconds(Clock::duration duration) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

class DatabaseFailureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_url_ = new std::string(CreateSampleDatabase("failure"));
  }
  static void TearDownTestSuite() { delete database_url_; }
  void TearDown() override {
    // Whatever happened, leave both servers running for the tests after this one.
    for (const char* name : {"postgres", "redis"}) {
      if (const int pid = FixturePid(name); pid > 0) SignalTree(pid, SIGCONT);
    }
    EXPECT_EQ(DatabasesCommand("start-redis"), 0);
    EXPECT_EQ(DatabasesCommand("start-postgres"), 0);
  }
  // An API whose every request reaches Redis (no local layer), once kRedisPath's answer is in Redis;
  // `warm` is that first answer.
  static constexpr const char* kRedisPath = "/v1/companies/AAPL/concepts/us-gaap/Assets";
  static std::unique_ptr<ApiUnderTest> ApiWithWarmRedis(HttpAnswer& warm) {
    auto config = TestConfig(*database_url_);
    config.local_cache_ttl_seconds = 0;
    auto api = std::make_unique<ApiUnderTest>(config);
    warm = api->Get(kRedisPath);
    EXPECT_EQ(warm.status, 200);
    EXPECT_EQ(api->Get(kRedisPath).Header("x-cache"), "redis");
    return api;
  }
  static inline std::string* database_url_ = nullptr;
};

TEST_F(DatabaseFailureTest, RedisDownAnswersFromPostgresAndReadinessSaysSo) {
  HttpAnswer warm;
  const auto owned = ApiWithWarmRedis(warm);
  ASSERT_EQ(warm.status, 200);
  ApiUnderTest& api = *owned;
  const std::string path = kRedisPath;

  ASSERT_EQ(DatabasesCommand("stop-redis"), 0);
  for (int i = 0; i < 5; ++i) {
    const auto answer = api.Get(path);
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.Header("x-cache"), "miss");
    EXPECT_EQ(answer.body, warm.body);
  }
  EXPECT_TRUE(WaitFor([&] {
    const auto ready = api.Get("/ready");
    const json body = json::parse(ready.body, nullptr, false);
    return ready.status == 200 && !body.is_discarded() && body["redis"]["status"] == "down" &&
           body["redis"]["detail"].get<std::string>().find("serving from PostgreSQL") != std::string::npos;
  }, std::chrono::seconds(5)));

  ASSERT_EQ(DatabasesCommand("start-redis"), 0);
  // Redis is retried at most once a second; the cache fills again.
  EXPECT_TRUE(WaitFor([&] { return api.Get(path).Header("x-cache") == "redis"; }, std::chrono::seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return json::parse(api.Get("/ready").body)["redis"]["status"] == "up"; },
                      std::chrono::seconds(5)));
}

TEST_F(DatabaseFailureTest, PostgresDownGives503AtOnceAndRecoversByItself) {
  auto config = TestConfig(*database_url_);
  config.cache_ttl_seconds = 0;  // every request reaches PostgreSQL
  ApiUnderTest api(config);
  const std::string path = "/v1/companies/MSFT";
  ASSERT_EQ(api.Get(path).status, 200);

  ASSERT_EQ(DatabasesCommand("stop-postgres"), 0);
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const auto answer = api.Get(path);
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(answer.status, 503) << answer.body;
    const json body = json::parse(answer.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded());
    EXPECT_NE(body["error"]["message"].get<std::string>().find("PostgreSQL is unavailable"), std::string::npos);
    // Not hanging: far below the 5 s statement timeout and 2 s connect timeout a stuck request would take.
    EXPECT_LT(waited, std::chrono::seconds(2));
  }
  EXPECT_EQ(api.Get("/health").status, 200);
  HttpAnswer ready;
  EXPECT_TRUE(WaitFor([&] {
    ready = api.Get("/ready");
    return ready.status == 503;
  }, std::chrono::seconds(5)));
  EXPECT_EQ(json::parse(ready.body)["postgres"]["status"], "down");
  // No internals in answers: libpq's message names the host, port and user; the answers do not.
  const std::string port = std::to_string(PostgresPort());
  for (const auto& body : {ready.body, api.Get(path).body}) {
    EXPECT_EQ(body.find("127.0.0.1"), std::string::npos) << body;
    EXPECT_EQ(body.find(port), std::string::npos) << body;
    EXPECT_EQ(body.find("port"), std::string::npos) << body;
  }

  ASSERT_EQ(DatabasesCommand("start-postgres"), 0);
  EXPECT_TRUE(WaitFor([&] { return api.Get(path).status == 200; }, std::chrono::seconds(15)));
  EXPECT_TRUE(WaitFor([&] { return api.Get("/ready").status == 200; }, std::chrono::seconds(5)));
}

// PostgreSQL (or PgBouncer in front of it) accepts connections but answers nothing. Before, every
// request and /health with it waited forever; now the requests in flight end at their deadline
// (statement_timeout + 1 s), the pool trips, later requests get their 503 at once, /health answers
// at once throughout, /ready says down within its probe timeout, and all recovers when it answers.
TEST_F(DatabaseFailureTest, HungPostgresCostsOneDeadlineAndNeverStopsHealth) {
  auto config = TestConfig(*database_url_);
  config.cache_ttl_seconds = 0;  // every request reaches PostgreSQL
  config.statement_timeout_ms = 1000;  // client deadline 2 s
  ApiUnderTest api(config);
  const std::string path = "/v1/companies/MSFT";
  ASSERT_EQ(api.Get(path).status, 200);
  ASSERT_TRUE(WaitFor([&] { return api.Get("/ready").status == 200; }, std::chrono::seconds(10)));

  FrozenServer frozen("postgres");
  // As many requests as the server has threads, all on the hung database at once.
  constexpr int kInFlight = 4;
  std::vector<HttpAnswer> answers(kInFlight);
  std::vector<long> waited(kInFlight);
  std::vector<std::thread> clients;
  for (int i = 0; i < kInFlight; ++i) {
    clients.emplace_back([&, i] {
      const auto started = Clock::now();
      answers[static_cast<std::size_t>(i)] = api.Get(path);
      waited[static_cast<std::size_t>(i)] = Milliseconds(Clock::now() - started);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // they are waiting on PostgreSQL now
  const auto health_started = Clock::now();
  const auto health = api.Get("/health");
  const long health_ms = Milliseconds(Clock::now() - health_started);
  const auto ready_started = Clock::now();
  const auto ready_early = api.Get("/ready");
  const long ready_ms = Milliseconds(Clock::now() - ready_started);
  for (auto& client : clients) client.join();
  EXPECT_EQ(health.status, 200);
  EXPECT_LT(health_ms, 500) << "/health waited for the database";
  EXPECT_NE(ready_early.status, 0);
  EXPECT_LT(ready_ms, 1500) << "/ready waited for the database";
  for (int i = 0; i < kInFlight; ++i) {
    EXPECT_EQ(answers[static_cast<std::size_t>(i)].status, 503) << answers[static_cast<std::size_t>(i)].body;
    EXPECT_LT(waited[static_cast<std::size_t>(i)], 5000) << "request " << i;
  }
  // The pool has tripped: the next requests do not wait for a deadline each.
  for (int i = 0; i < 5; ++i) {
    const auto started = Clock::now();
    const auto answer = api.Get(path);
    EXPECT_EQ(answer.status, 503) << answer.body;
    EXPECT_LT(Milliseconds(Clock::now() - started), 500);
  }
  EXPECT_TRUE(WaitFor([&] {
    const auto started = Clock::now();
    const auto ready = api.Get("/ready");
    EXPECT_LT(Milliseconds(Clock::now() - started), 1500);
    return ready.status == 503;
  }, std::chrono::seconds(10)));

  frozen.Thaw();
  EXPECT_TRUE(WaitFor([&] { return api.Get(path).status == 200; }, std::chrono::seconds(15)));
  EXPECT_TRUE(WaitFor([&] { return api.Get("/ready").status == 200; }, std::chrono::seconds(10)));
}

// Redis accepts connections but answers nothing: a request that finds it hung costs one command
// timeout (500 ms), after which Redis is skipped for a second, so the others answer from PostgreSQL
// at their usual speed; before, every request paid the timeout (for GET and again for SET).
TEST_F(DatabaseFailureTest, HungRedisCostsOneTimeoutNotOneEveryRequest) {
  HttpAnswer warm;
  const auto owned = ApiWithWarmRedis(warm);
  ASSERT_EQ(warm.status, 200);
  ApiUnderTest& api = *owned;
  const std::string path = kRedisPath;
  constexpr int kRequests = 20;
  const auto measure = [&](const char* label) {
    std::vector<long> latencies;
    for (int i = 0; i < kRequests; ++i) {
      const auto started = Clock::now();
      const auto answer = api.Get(path);
      latencies.push_back(Milliseconds(Clock::now() - started));
      EXPECT_EQ(answer.status, 200) << answer.body;
      EXPECT_EQ(answer.body, warm.body);
    }
    std::vector<long> sorted = latencies;
    std::sort(sorted.begin(), sorted.end());
    long total = 0;
    for (const long latency : latencies) total += latency;
    std::cout << label << ": " << kRequests << " requests in " << total << " ms, median " << sorted[kRequests / 2]
              << " ms, max " << sorted.back() << " ms\n";
    return total;
  };
  measure("redis up");
  FrozenServer frozen("redis");
  const long hung_total = measure("redis hung");
  EXPECT_LT(hung_total, 3000) << "every request waited for the hung Redis";
  const auto health_started = Clock::now();
  EXPECT_EQ(api.Get("/health").status, 200);
  EXPECT_LT(Milliseconds(Clock::now() - health_started), 500);
  EXPECT_TRUE(WaitFor([&] {
    const auto started = Clock::now();
    const auto ready = api.Get("/ready");
    EXPECT_LT(Milliseconds(Clock::now() - started), 1500);
    const json body = json::parse(ready.body, nullptr, false);
    return ready.status == 200 && !body.is_discarded() && body["redis"]["status"] == "down";
  }, std::chrono::seconds(10)));

  frozen.Thaw();
  EXPECT_TRUE(WaitFor([&] { return api.Get(path).Header("x-cache") == "redis"; }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace financialapi::testing
