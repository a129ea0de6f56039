// The watcher against the real API server, including the failures it must survive: an API server
// restart, etcd compaction past its resource version and a stream that goes silent.
#include <gtest/gtest.h>

#include "financialapi/runtime/watcher.h"
#include "support/test_environment.h"

namespace financialapi::runtime {
namespace {

using namespace std::chrono_literals;
using kube::Json;
namespace resources = kube::resources;

Json ConfigMap(const std::string& ns, const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"watched", "yes"}}}}},
          {"data", {{"value", value}}}};
}

class WatcherIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::AdminClient();
    ASSERT_NE(client_, nullptr);
    namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "watch");
  }
  void TearDown() override {
    if (watcher_) watcher_->Stop();
    namespace_.reset();
  }
  const std::string& ns() const { return namespace_->name(); }

  void StartWatcher(kube::WatchOptions watch_options = {}) {
    WatcherOptions options;
    options.name = "test";
    options.initial_backoff = 100ms;
    options.max_backoff = 1s;
    watcher_ = std::make_unique<Watcher>(
        MakeClientSource(*client_, resources::kConfigMaps, {.ns = ns(), .label_selector = "watched=yes"}, watch_options),
        options,
        WatcherHandlers{.on_add = [this](const ObjectPtr& o) { Note("ADDED", o); },
                        .on_update = [this](const ObjectPtr&, const ObjectPtr& o) { Note("MODIFIED", o); },
                        .on_delete = [this](const ObjectPtr& o) { Note("DELETED", o); }});
    watcher_->Start();
    ASSERT_TRUE(watcher_->WaitForSync(30s));
  }

  void Note(const std::string& what, const ObjectPtr& object) {
    std::lock_guard lock(mutex_);
    seen_.push_back(what + " " + (*object)["metadata"]["name"].get<std::string>() + " " +
                    object->value("/data/value"_json_pointer, ""));
  }
  std::vector<std::string> Seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  // True when the store holds exactly these name → value pairs.
  bool StoreHolds(const std::map<std::string, std::string>& expected) {
    if (watcher_->store().Size() != expected.size()) return false;
    for (const auto& [name, value] : expected) {
      const ObjectPtr object = watcher_->store().Get(ns() + "/" + name);
      if (object == nullptr || object->value("/data/value"_json_pointer, "") != value) return false;
    }
    return true;
  }

  void Apply(const std::string& name, const std::string& value) {
    auto applied = client_->Apply(resources::kConfigMaps, ConfigMap(ns(), name, value), {.field_manager = "tests", .force = true});
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
  std::unique_ptr<Watcher> watcher_;
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

TEST_F(WatcherIntegrationTest, EventsArriveInOrder) {
  StartWatcher();
  Apply("a", "1");
  Apply("a", "2");
  Apply("b", "1");
  ASSERT_TRUE(client_->Delete(resources::kConfigMaps, ns(), "a").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Seen().size() >= 4; }, 30s)) << ::testing::PrintToString(Seen());
  EXPECT_EQ(Seen(), (std::vector<std::string>{"ADDED a 1", "MODIFIED a 2", "ADDED b 1", "DELETED a 2"}));
  EXPECT_TRUE(StoreHolds({{"b", "1"}}));
  EXPECT_EQ(watcher_->stats().lists, 1U);
}

TEST_F(WatcherIntegrationTest, SurvivesAnApiServerRestartWithoutLosingAnUpdate) {
  Apply("before", "1");
  StartWatcher();
  ASSERT_TRUE(StoreHolds({{"before", "1"}}));
  std::string output;
  ASSERT_EQ(testing::ClusterCommand("restart-apiserver", &output), 0) << output;
  // The watcher's stream broke; these land while it is still reconnecting.
  Apply("before", "2");
  Apply("during", "1");
  EXPECT_TRUE(testing::WaitFor([&] { return StoreHolds({{"before", "2"}, {"during", "1"}}); }, 60s))
      << ::testing::PrintToString(Seen());
  Apply("after", "1");
  EXPECT_TRUE(testing::WaitFor([&] { return StoreHolds({{"before", "2"}, {"during", "1"}, {"after", "1"}}); }, 30s));
  EXPECT_GE(watcher_->stats().watch_streams, 2U);
}

TEST_F(WatcherIntegrationTest, RelistsWhenEtcdWasCompactedPastItsVersion) {
  for (int i = 0; i < 5; ++i) Apply("keep-" + std::to_string(i), "0");
  StartWatcher();
  const std::string old_version = watcher_->resource_version();
  watcher_->Stop();  // keeps the store and the version, like a watcher cut off for a long time

  for (int i = 0; i < 5; ++i) Apply("keep-" + std::to_string(i), "1");
  for (int i = 0; i < 5; ++i) Apply("new-" + std::to_string(i), "1");
  ASSERT_TRUE(client_->Delete(resources::kConfigMaps, ns(), "keep-0").ok());
  std::string output;
  ASSERT_EQ(testing::ClusterCommand("compact-etcd", &output), 0) << output;
  // The API server's watch cache could still serve the old version from memory; a restart drops that
  // cache, so only etcd (compacted) can answer, and it says 410 Gone.
  ASSERT_EQ(testing::ClusterCommand("restart-apiserver", &output), 0) << output;

  watcher_->Start();
  std::map<std::string, std::string> expected;
  for (int i = 1; i < 5; ++i) expected["keep-" + std::to_string(i)] = "1";
  for (int i = 0; i < 5; ++i) expected["new-" + std::to_string(i)] = "1";
  EXPECT_TRUE(testing::WaitFor([&] { return StoreHolds(expected); }, 60s)) << "store size " << watcher_->store().Size();
  // A list replaces the store first, then calls the handlers, then counts itself: wait for those too.
  const auto saw_delete = [&] {
    const auto seen = Seen();
    return std::find(seen.begin(), seen.end(), "DELETED keep-0 0") != seen.end();
  };
  EXPECT_TRUE(testing::WaitFor([&] { return watcher_->stats().lists >= 2U && saw_delete(); }, 10s))
      << "lists " << watcher_->stats().lists << ", seen " << ::testing::PrintToString(Seen());
  EXPECT_GE(watcher_->stats().relists_after_gone, 1U) << "watch from " << old_version << " should have been Gone";
  EXPECT_EQ(watcher_->stats().lists, 2U);
  const auto seen = Seen();
  EXPECT_NE(std::find(seen.begin(), seen.end(), "DELETED keep-0 0"), seen.end()) << "the relist reports the delete it missed";
}

TEST_F(WatcherIntegrationTest, ASilentStreamIsDroppedAndResumed) {
  kube::WatchOptions options;
  options.silence_timeout = 2s;
  StartWatcher(options);
  Apply("first", "1");
  ASSERT_TRUE(testing::WaitFor([&] { return StoreHolds({{"first", "1"}}); }, 30s));
  const auto errors_before = watcher_->stats().errors;

  std::string output;
  ASSERT_EQ(testing::ClusterCommand("pause-apiserver", &output), 0) << output;
  std::this_thread::sleep_for(4s);  // longer than the silence timeout
  ASSERT_EQ(testing::ClusterCommand("resume-apiserver", &output), 0) << output;
  // The drop is counted once the cancelled request has returned, which a loaded machine may delay; a
  // stream that was never dropped would simply carry on after the resume and count nothing.
  EXPECT_TRUE(testing::WaitFor([&] { return watcher_->stats().errors > errors_before; }, 10s))
      << "the silent stream was not dropped";

  ASSERT_TRUE(testing::WaitFor([&] { return client_->Get(resources::kConfigMaps, ns(), "first").ok(); }, 30s));
  Apply("second", "1");
  EXPECT_TRUE(testing::WaitFor([&] { return StoreHolds({{"first", "1"}, {"second", "1"}}); }, 30s));
}

}  // namespace
}  // namespace financialapi::runtime
