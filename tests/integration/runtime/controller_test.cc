// The sample controller (a ConfigMap mirror) through the whole runtime against the real cluster.
#include <gtest/gtest.h>

#include "financialapi/runtime/manager.h"
#include "sample/configmap_mirror.h"
#include "support/test_environment.h"

namespace financialapi::runtime {
namespace {

using namespace std::chrono_literals;
using kube::Json;
namespace resources = kube::resources;

class MirrorControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = kube::LoadKubeconfig({.path = testing::ClusterKubeconfigPath()});
    ASSERT_TRUE(config.ok()) << config.status();
    metrics_ = std::make_shared<RuntimeMetrics>();
    auto client = kube::Client::Create(*config, {.on_request = Manager::ClientRequestRecorder(metrics_)});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
    namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "mirror");
    second_namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "mirror-second");

    health_port_ = testing::FreePort();
    metrics_port_ = testing::FreePort();
    ManagerOptions options;
    options.identity = "mirror-test";
    options.health_address = "127.0.0.1:" + std::to_string(health_port_);
    options.metrics_address = "127.0.0.1:" + std::to_string(metrics_port_);
    manager_ = std::make_unique<Manager>(*client_, options, metrics_);
    mirror_ = std::make_unique<sample::ConfigMapMirror>(*client_, &manager_->events());
    mirror_->set_on_write([this](const std::string&) { ++writes_; });
    controller_ = &manager_->AddController(sample::ConfigMapMirror::Options({ns(), second_namespace_->name()}), *mirror_);
    mirror_->set_controller(controller_);
    run_ = std::thread([this] { run_status_ = manager_->Run(); });
    ASSERT_TRUE(testing::WaitFor([this] { return manager_->Ready(); }, 30s));
  }

  void TearDown() override {
    if (manager_) manager_->RequestStop();
    if (run_.joinable()) run_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_;
    manager_.reset();
    namespace_.reset();
    second_namespace_.reset();
  }

  const std::string& ns() const { return namespace_->name(); }

  void ApplySource(const std::string& name, const std::string& value, const std::string& in_namespace = "") {
    const Json source = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                         {"metadata", {{"name", name}, {"namespace", in_namespace.empty() ? ns() : in_namespace},
                                       {"labels", {{sample::kMirrorLabel, "source"}}}}},
                         {"data", {{"value", value}}}};
    ASSERT_TRUE(client_->Apply(resources::kConfigMaps, source, {.field_manager = "tests", .force = true}).ok());
  }

  // The copy's data.value, or "" when there is no copy.
  std::string CopyValue(const std::string& name, const std::string& in_namespace = "") {
    auto copy = client_->Get(resources::kConfigMaps, in_namespace.empty() ? ns() : in_namespace, name + "-mirror");
    return copy.ok() ? copy->value("/data/value"_json_pointer, "") : "";
  }

  std::shared_ptr<RuntimeMetrics> metrics_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
  std::unique_ptr<testing::ScopedNamespace> second_namespace_;  // watched too
  std::unique_ptr<Manager> manager_;
  std::unique_ptr<sample::ConfigMapMirror> mirror_;
  Controller* controller_ = nullptr;
  std::thread run_;
  Status run_status_;
  int health_port_ = 0;
  int metrics_port_ = 0;
  std::atomic<int> writes_{0};
};

TEST_F(MirrorControllerTest, WatchesEveryNamespaceItIsGivenAndNoOther) {
  testing::ScopedNamespace unwatched(*client_, "mirror-unwatched");
  ApplySource("unwatched", "u", unwatched.name());
  ApplySource("first", "1");
  ApplySource("second", "2", second_namespace_->name());
  ASSERT_TRUE(testing::WaitFor([&] { return CopyValue("first") == "1" && CopyValue("second", second_namespace_->name()) == "2"; }, 30s));
  EXPECT_EQ(controller_->PrimaryCache().Size(), 2U) << "one cache for the kind, filled from both namespaces";
  ASSERT_NE(controller_->PrimaryCache().Get(second_namespace_->name() + "/second"), nullptr);
  std::this_thread::sleep_for(1s);  // time enough for a watch of the third namespace to have acted
  EXPECT_EQ(CopyValue("unwatched", unwatched.name()), "") << "a namespace it was not given was reconciled";
  EXPECT_EQ(controller_->PrimaryCache().Get(unwatched.name() + "/unwatched"), nullptr);
}

TEST_F(MirrorControllerTest, CreatesTheChildWithAControllerOwnerReference) {
  ApplySource("settings", "v1");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyValue("settings") == "v1"; }, 30s));
  auto source = client_->Get(resources::kConfigMaps, ns(), "settings");
  auto copy = client_->Get(resources::kConfigMaps, ns(), "settings-mirror");
  ASSERT_TRUE(source.ok() && copy.ok());
  const Json owners = (*copy)["metadata"]["ownerReferences"];
  ASSERT_EQ(owners.size(), 1U);
  EXPECT_EQ(owners[0]["uid"], (*source)["metadata"]["uid"]);
  EXPECT_EQ(owners[0]["controller"], true);

  ApplySource("settings", "v2");
  EXPECT_TRUE(testing::WaitFor([&] { return CopyValue("settings") == "v2"; }, 30s)) << "an update of the source follows";
}

TEST_F(MirrorControllerTest, RestoresADeletedChildAndGarbageCollectionRemovesItWithTheOwner) {
  ApplySource("restored", "x");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyValue("restored") == "x"; }, 30s));
  const std::string first_uid = client_->Get(resources::kConfigMaps, ns(), "restored-mirror")->value("/metadata/uid"_json_pointer, "");

  ASSERT_TRUE(client_->Delete(resources::kConfigMaps, ns(), "restored-mirror").ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    auto copy = client_->Get(resources::kConfigMaps, ns(), "restored-mirror");
    return copy.ok() && copy->value("/metadata/uid"_json_pointer, "") != first_uid;
  }, 30s)) << "the deleted child was not recreated";

  ASSERT_TRUE(client_->Delete(resources::kConfigMaps, ns(), "restored",
                              {.propagation = kube::PropagationPolicy::kBackground}).ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    auto copy = client_->Get(resources::kConfigMaps, ns(), "restored-mirror");
    return !copy.ok() && copy.status().code() == StatusCode::kNotFound;
  }, 90s)) << "the garbage collector did not remove the child";
}

TEST_F(MirrorControllerTest, SteadyStateMakesNoWritesAndServesProbesAndMetrics) {
  ApplySource("steady", "1");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyValue("steady") == "1"; }, 30s));
  // Settled: the copy is in the controller's own cache (a reconcile that ran before its watch event
  // arrived may have re-applied it once) and nothing is queued or running.
  auto idle = [&] { return controller_->queue().Len() == 0 && controller_->queue().InFlight() == 0; };
  ASSERT_TRUE(testing::WaitFor([&] {
    return controller_->OwnedCache(resources::kConfigMaps)->Get(ns() + "/steady-mirror") != nullptr && idle();
  }, 10s));
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(testing::WaitFor(idle, 10s));
  const int writes = writes_.load();
  const auto version = client_->Get(resources::kConfigMaps, ns(), "steady-mirror")->value("/metadata/resourceVersion"_json_pointer, "");
  // Wake the controller without changing anything it owns: only no-op reconciles may follow.
  for (int i = 0; i < 5; ++i) controller_->queue().Add(ns() + "/steady");
  ASSERT_TRUE(testing::WaitFor(idle, 10s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(writes_.load(), writes);
  EXPECT_EQ(client_->Get(resources::kConfigMaps, ns(), "steady-mirror")->value("/metadata/resourceVersion"_json_pointer, ""), version);

  EXPECT_EQ(testing::HttpGet(health_port_, "/healthz").first, 200);
  EXPECT_EQ(testing::HttpGet(health_port_, "/readyz").first, 200);
  const auto [code, metrics] = testing::HttpGet(metrics_port_, "/metrics");
  ASSERT_EQ(code, 200);
  EXPECT_NE(metrics.find("controller_runtime_reconcile_total{controller=\"configmap-mirror\",result=\"success\"}"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("workqueue_adds_total{controller=\"configmap-mirror\",name=\"configmap-mirror\"}"), std::string::npos);
  EXPECT_NE(metrics.find("rest_client_requests_total{code=\"201\",method=\"PATCH\"}"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("rest_client_requests_total{code=\"200\",method=\"WATCH\"}"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("controller_runtime_reconcile_time_seconds_bucket"), std::string::npos);
}

TEST_F(MirrorControllerTest, RepeatedEventsAreCountedNotDuplicated) {
  ApplySource("evented", "1");
  ASSERT_TRUE(testing::WaitFor([&] { return CopyValue("evented") == "1"; }, 30s));
  auto source = client_->Get(resources::kConfigMaps, ns(), "evented");
  ASSERT_TRUE(source.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(manager_->events().Record(*source, EventType::kWarning, "Tested", "same message").ok());
  }
  auto events = client_->List(resources::kEvents, ns(), {.field_selector = "reason=Tested"});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ((*events)["items"].size(), 1U);
  EXPECT_EQ((*events)["items"][0]["count"], 3);
  EXPECT_EQ((*events)["items"][0]["involvedObject"]["name"], "evented");
  EXPECT_EQ((*events)["items"][0]["type"], "Warning");
}

}  // namespace
}  // namespace financialapi::runtime
