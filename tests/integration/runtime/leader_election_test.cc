// Two processes of the sample controller compete for one Lease: one leads and reconciles, the other
// waits and never reconciles; when the leader is killed the other takes over within the lease
// duration; on SIGTERM the leader drains and releases the lease.
#include <signal.h>

#include <chrono>

#include <gtest/gtest.h>

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

// One process of the sample controller competing for the lease.
class Candidate : public testing::ChildProcess {
 public:
  Candidate(const std::string& ns, const std::string& identity)
      : ChildProcess(MIRROR_CONTROLLER_PATH,
                     {testing::ClusterKubeconfigPath(), ns, identity, std::to_string(kLeaseDuration.count()),
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

}  // namespace
}  // namespace financialapi
