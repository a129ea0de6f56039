// Two processes of the sample controller compete for one Lease: one leads and reconciles, the other
// waits and never reconciles; when the leader is killed the other takes over within the lease
// duration; on SIGTERM the leader drains and releases the lease.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "financialapi/common/file.h"
#include "sample/configmap_mirror.h"
#include "support/test_environment.h"

namespace financialapi {
namespace {

using namespace std::chrono_literals;
using kube::Json;
namespace resources = kube::resources;

constexpr auto kLeaseDuration = 4000ms;
constexpr auto kRenewDeadline = 3000ms;
constexpr auto kRetryPeriod = 500ms;

class Candidate {
 public:
  Candidate(const std::string& ns, const std::string& identity) : identity_(identity) {
    log_path_ = (std::filesystem::temp_directory_path() / testing::UniqueName("candidate-" + identity)).string();
    const std::string port = std::to_string(testing::FreePort());
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      const std::string kubeconfig = testing::ClusterKubeconfigPath();
      const std::string lease = std::to_string(kLeaseDuration.count());
      const std::string renew = std::to_string(kRenewDeadline.count());
      const std::string retry = std::to_string(kRetryPeriod.count());
      ::execl(MIRROR_CONTROLLER_PATH, MIRROR_CONTROLLER_PATH, kubeconfig.c_str(), ns.c_str(), identity.c_str(),
              lease.c_str(), renew.c_str(), retry.c_str(), port.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Candidate() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove(log_path_);
  }

  const std::string& identity() const { return identity_; }
  std::string Log() const { return ReadFile(log_path_).value_or(""); }
  int Reconciles() const {
    const std::string log = Log();
    int count = 0;
    for (std::size_t at = log.find("reconciled "); at != std::string::npos; at = log.find("reconciled ", at + 1)) ++count;
    return count;
  }
  void Signal(int signal) const { ::kill(pid_, signal); }
  // The exit code after it ends within `timeout`, or -1.
  int WaitForExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  void Kill() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string identity_;
  std::string log_path_;
  pid_t pid_ = -1;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::AdminClient();
    ASSERT_NE(client_, nullptr);
    namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "leader");
  }
  const std::string& ns() const { return namespace_->name(); }

  std::string Holder() {
    auto lease = client_->Get(resources::kLeases, ns(), "mirror-leader");
    return lease.ok() ? lease->value("/spec/holderIdentity"_json_pointer, "") : "";
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
  std::this_thread::sleep_for(2 * kRetryPeriod);
  EXPECT_GE(leader.Reconciles(), 1) << leader.Log();
  EXPECT_EQ(follower.Reconciles(), 0) << "the follower reconciled:\n" << follower.Log();
  EXPECT_EQ(Holder(), leader.identity()) << "the leader keeps renewing";

  const auto killed_at = std::chrono::steady_clock::now();
  leader.Kill();
  ASSERT_TRUE(testing::WaitFor([&] { return Holder() == follower.identity(); }, 30s, 50ms)) << follower.Log();
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LE(takeover, kLeaseDuration + 2 * kRetryPeriod + 1000ms)
      << "took " << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms";

  ApplySource("two");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyExists("two"); }, 30s)) << follower.Log();
  EXPECT_NE(follower.Log().find("reconciled " + ns() + "/two by " + follower.identity()), std::string::npos);

  follower.Signal(SIGTERM);
  EXPECT_EQ(follower.WaitForExit(20s), 0) << follower.Log();
  EXPECT_EQ(Holder(), "") << "the lease is released on SIGTERM";
  EXPECT_NE(follower.Log().find("released the leader lease"), std::string::npos) << follower.Log();
}

}  // namespace
}  // namespace financialapi
