// Proves the local control plane is a real one: controllers, scheduler, kwok kubelets, garbage
// collection, volume binding and server-side apply all behave as in a cluster.
#include <gtest/gtest.h>

#include "financialapi/common/file.h"
#include "financialapi/kube/client.h"
#include "financialapi/kube/errors.h"
#include "support/test_environment.h"

namespace financialapi {
namespace {

using kube::Json;
namespace resources = kube::resources;
using namespace std::chrono_literals;

constexpr auto kRolloutTimeout = 120s;

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::AdminClient();
    ASSERT_NE(client_, nullptr);
    namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "control-plane", /*wait_for_service_account=*/true);
  }
  void TearDown() override { namespace_.reset(); }

  const std::string& ns() const { return namespace_->name(); }

  Json PodTemplate(const std::string& app) const {
    return {{"metadata", {{"labels", {{"app", app}}}}},
            {"spec", {{"containers", Json::array({{{"name", "web"}, {"image", "nginx:1.27"},
                                                   {"ports", Json::array({{{"containerPort", 80}}})}}})}}}};
  }

  Json DeploymentManifest(const std::string& name, int replicas) const {
    return {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"namespace", ns()}}},
            {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", name}}}}},
                      {"template", PodTemplate(name)}}}};
  }

  // Number of items a label-selected list returns, or -1 when the list fails.
  int CountItems(const kube::ResourceType& type, const std::string& selector) {
    auto list = client_->List(type, ns(), {.label_selector = selector});
    return list.ok() ? static_cast<int>((*list)["items"].size()) : -1;
  }

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
};

bool HasCondition(const Json& object, const std::string& type, const std::string& status) {
  const auto conditions = object.value("/status/conditions"_json_pointer, Json::array());
  for (const auto& condition : conditions) {
    if (condition.value("type", "") == type && condition.value("status", "") == status) return true;
  }
  return false;
}

// "data-db-0=Bound data-db-1=Pending" for a list of claims, or the list's error.
std::string ClaimPhases(const StatusOr<Json>& claims) {
  if (!claims.ok()) return claims.status().ToString();
  std::string out;
  for (const auto& claim : (*claims)["items"]) {
    out += (out.empty() ? "" : " ") + claim["metadata"].value("name", "?") + "=" +
           claim.value("/status/phase"_json_pointer, "(no phase)");
  }
  return out.empty() ? "no claims" : out;
}

TEST_F(ControlPlaneTest, DeploymentWithTwoReplicasBecomesAvailableOnKwokNodes) {
  auto applied = client_->Apply(resources::kDeployments, DeploymentManifest("web", 2), {.field_manager = "tests"});
  ASSERT_TRUE(applied.ok()) << applied.status();

  Json deployment;
  const bool available = testing::WaitFor([&] {
    auto current = client_->Get(resources::kDeployments, ns(), "web");
    if (!current.ok()) return false;
    deployment = *current;
    return deployment.value("/status/availableReplicas"_json_pointer, 0) == 2 &&
           HasCondition(deployment, "Available", "True");
  }, kRolloutTimeout);
  ASSERT_TRUE(available) << "Deployment never became Available: " << deployment.dump(2);

  auto pods = client_->List(resources::kPods, ns(), {.label_selector = "app=web"});
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ((*pods)["items"].size(), 2U);
  for (const auto& pod : (*pods)["items"]) {
    EXPECT_EQ(pod.value("/status/phase"_json_pointer, ""), "Running");
    EXPECT_TRUE(HasCondition(pod, "Ready", "True")) << pod["metadata"]["name"];
    EXPECT_TRUE(pod.value("/spec/nodeName"_json_pointer, "").starts_with("kwok-node-")) << "scheduled by kube-scheduler";
  }
}

TEST_F(ControlPlaneTest, DeletingADeploymentGarbageCollectsItsReplicaSetAndPods) {
  ASSERT_TRUE(client_->Apply(resources::kDeployments, DeploymentManifest("doomed", 2), {.field_manager = "tests"}).ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    return CountItems(resources::kReplicaSets, "app=doomed") == 1 && CountItems(resources::kPods, "app=doomed") == 2;
  }, kRolloutTimeout)) << "the Deployment controller never made a ReplicaSet with two Pods";

  const Status deleted = client_->Delete(resources::kDeployments, ns(), "doomed",
                                         {.propagation = kube::PropagationPolicy::kBackground});
  ASSERT_TRUE(deleted.ok()) << deleted;

  EXPECT_TRUE(testing::WaitFor([&] {
    return CountItems(resources::kReplicaSets, "app=doomed") == 0 && CountItems(resources::kPods, "app=doomed") == 0;
  }, kRolloutTimeout)) << "ReplicaSets left: " << CountItems(resources::kReplicaSets, "app=doomed")
                       << ", Pods left: " << CountItems(resources::kPods, "app=doomed");
}

TEST_F(ControlPlaneTest, StatefulSetWithVolumeClaimTemplateBecomesReady) {
  const Json statefulset = {
      {"apiVersion", "apps/v1"}, {"kind", "StatefulSet"},
      {"metadata", {{"name", "db"}, {"namespace", ns()}}},
      {"spec", {{"serviceName", "db"}, {"replicas", 2}, {"selector", {{"matchLabels", {{"app", "db"}}}}},
                {"template", PodTemplate("db")},
                {"volumeClaimTemplates", Json::array({{
                    {"metadata", {{"name", "data"}}},
                    {"spec", {{"accessModes", Json::array({"ReadWriteOnce"})}, {"storageClassName", "local-storage"},
                              {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}})}}}};
  auto applied = client_->Apply(resources::kStatefulSets, statefulset, {.field_manager = "tests"});
  ASSERT_TRUE(applied.ok()) << applied.status();

  Json current;
  const bool ready = testing::WaitFor([&] {
    auto got = client_->Get(resources::kStatefulSets, ns(), "db");
    if (!got.ok()) return false;
    current = *got;
    return current.value("/status/readyReplicas"_json_pointer, 0) == 2;
  }, kRolloutTimeout);
  ASSERT_TRUE(ready) << "StatefulSet never became ready: " << current.dump(2);

  // The scheduler places a Pod once its claim names a volume; the PV controller writes the claim's
  // phase Bound in a later step, so right after readyReplicas reached 2 a claim can still be Pending.
  StatusOr<Json> claims = Json();
  const bool bound = testing::WaitFor([&] {
    claims = client_->List(resources::kPersistentVolumeClaims, ns());
    if (!claims.ok() || (*claims)["items"].size() != 2) return false;
    for (const auto& claim : (*claims)["items"]) {
      if (claim.value("/status/phase"_json_pointer, "") != "Bound") return false;
    }
    return true;
  }, kRolloutTimeout);
  ASSERT_TRUE(bound) << "the StatefulSet's two claims did not both become Bound: " << ClaimPhases(claims);
  ASSERT_TRUE(claims.ok()) << claims.status();
  ASSERT_EQ((*claims)["items"].size(), 2U);
  for (const auto& claim : (*claims)["items"]) {
    EXPECT_EQ(claim.value("/status/phase"_json_pointer, ""), "Bound") << claim["metadata"]["name"];
  }
}

TEST_F(ControlPlaneTest, ServerSideApplyOfTheSameObjectTwiceDoesNotWrite) {
  Json config_map = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                     {"metadata", {{"name", "settings"}, {"namespace", ns()}}},
                     {"data", {{"mode", "fast"}}}};
  auto first = client_->Apply(resources::kConfigMaps, config_map, {.field_manager = "tests"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = client_->Apply(resources::kConfigMaps, config_map, {.field_manager = "tests"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*first)["metadata"]["resourceVersion"], (*second)["metadata"]["resourceVersion"]);

  config_map["data"]["mode"] = "safe";
  auto changed = client_->Apply(resources::kConfigMaps, config_map, {.field_manager = "tests"});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_NE((*second)["metadata"]["resourceVersion"], (*changed)["metadata"]["resourceVersion"]);
  EXPECT_EQ((*changed)["data"]["mode"], "safe");
}

TEST_F(ControlPlaneTest, ApplyConflictWithAnotherFieldManagerIsAValue) {
  Json config_map = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                     {"metadata", {{"name", "shared"}, {"namespace", ns()}}}, {"data", {{"owner", "first"}}}};
  ASSERT_TRUE(client_->Apply(resources::kConfigMaps, config_map, {.field_manager = "first"}).ok());
  config_map["data"]["owner"] = "second";
  auto conflict = client_->Apply(resources::kConfigMaps, config_map, {.field_manager = "second"});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), StatusCode::kConflict) << conflict.status();
  EXPECT_NE(conflict.status().message().find("data.owner"), std::string::npos) << conflict.status();

  auto forced = client_->Apply(resources::kConfigMaps, config_map, {.field_manager = "second", .force = true});
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ((*forced)["data"]["owner"], "second");
}

TEST_F(ControlPlaneTest, ClientErrorsCarryTheApiServersReason) {
  auto missing = client_->Get(resources::kConfigMaps, ns(), "does-not-exist");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  const Json invalid = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
                        {"metadata", {{"name", "bad"}, {"namespace", ns()}}},
                        {"spec", {{"replicas", -1}, {"selector", {{"matchLabels", {{"app", "bad"}}}}},
                                  {"template", PodTemplate("bad")}}}};
  auto rejected = client_->Apply(resources::kDeployments, invalid, {.field_manager = "tests"});
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rejected.status().message().find("spec.replicas"), std::string::npos) << rejected.status();

  const Json config_map = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "once"}, {"namespace", ns()}}}};
  ASSERT_TRUE(client_->Create(resources::kConfigMaps, config_map).ok());
  auto again = client_->Create(resources::kConfigMaps, config_map);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(ControlPlaneTest, CreatesInATerminatingNamespaceAreRecognised) {
  // A finalizer the test owns keeps the deleted namespace in Terminating until the test removes it.
  const Json held = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                     {"metadata", {{"name", "held"}, {"namespace", ns()}, {"finalizers", {"tests.financialapi.io/hold"}}}}};
  ASSERT_TRUE(client_->Create(resources::kConfigMaps, held).ok());
  ASSERT_TRUE(client_->Delete(resources::kNamespaces, "", ns()).ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    auto namespace_object = client_->Get(resources::kNamespaces, "", ns());
    return namespace_object.ok() && namespace_object->value("/status/phase"_json_pointer, "") == "Terminating";
  }, 30s));

  const Json fresh = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "fresh"}, {"namespace", ns()}}}};
  auto refused = client_->Apply(resources::kConfigMaps, fresh, {.field_manager = "tests"});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(kube::IsNamespaceTerminating(refused.status())) << refused.status();
  // Updating what exists is still allowed there; only new content is refused.
  EXPECT_TRUE(client_->MergePatch(resources::kConfigMaps, ns(), "held", {{"data", {{"k", "v"}}}}).ok());

  ASSERT_TRUE(client_->MergePatch(resources::kConfigMaps, ns(), "held", {{"metadata", {{"finalizers", nullptr}}}}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return client_->Get(resources::kNamespaces, "", ns()).status().code() == StatusCode::kNotFound; }, 60s));
}

TEST(ClusterConnectionTest, WrongCertificateAuthorityIsAClearError) {
  auto config = kube::LoadKubeconfig({.path = testing::ClusterKubeconfigPath()});
  ASSERT_TRUE(config.ok()) << config.status();
  // The API server's own serving certificate is not a CA for itself: verification must fail.
  auto other_ca = ReadFile(testing::StateDir() + "/cluster/pki/apiserver.crt");
  ASSERT_TRUE(other_ca.ok()) << other_ca.status();
  config->certificate_authority_pem = *other_ca;
  auto client = kube::Client::Create(*config, {.request_timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(client.ok()) << client.status();
  auto version = (*client)->Request({.path_and_query = "/version"});
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(version.status().message().find("TLS"), std::string::npos) << version.status();
}

TEST(ClusterConnectionTest, ReportsTheServerVersion) {
  auto client = testing::AdminClient();
  ASSERT_NE(client, nullptr);
  auto version = client->Request({.path_and_query = "/version"});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->value("major", ""), "1");
  EXPECT_TRUE(version->value("gitVersion", "").starts_with("v1.")) << version->dump();
}

}  // namespace
}  // namespace financialapi
