// The client against the real API server: authentication variants, paging, discovery, status.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "financialapi/common/file.h"
#include "financialapi/kube/client.h"
#include "support/test_environment.h"

namespace financialapi::kube {
namespace {

using namespace std::chrono_literals;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = testing::AdminClient();
    ASSERT_NE(admin_, nullptr);
    namespace_ = std::make_unique<testing::ScopedNamespace>(*admin_, "client");
  }
  const std::string& ns() const { return namespace_->name(); }

  // A token for a new ServiceAccount in the test namespace (TokenRequest API).
  std::string ServiceAccountToken(const std::string& name) {
    EXPECT_TRUE(admin_->Create(resources::kServiceAccounts,
                               {{"apiVersion", "v1"}, {"kind", "ServiceAccount"},
                                {"metadata", {{"name", name}, {"namespace", ns()}}}}).ok());
    auto token = admin_->Request({.method = "POST",
                                  .path_and_query = resources::kServiceAccounts.ItemPath(ns(), name) + "/token",
                                  .body = Json({{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"},
                                                {"spec", {{"expirationSeconds", 3600}}}}).dump()});
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? (*token)["status"]["token"].get<std::string>() : "";
  }

  std::unique_ptr<Client> admin_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
};

TEST_F(ClientTest, TokenAuthenticatesAsTheServiceAccountAndRbacDecides) {
  const std::string token = ServiceAccountToken("reader");
  ClusterConfig config = admin_->config();
  config.client_certificate_pem.clear();
  config.client_key_pem.clear();
  config.bearer_token = token;
  auto client = Client::Create(config);
  ASSERT_TRUE(client.ok()) << client.status();

  auto denied = (*client)->List(resources::kConfigMaps, ns());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("system:serviceaccount:" + ns() + ":reader"), std::string::npos)
      << denied.status();

  ASSERT_TRUE(admin_->Create(kube::ResourceType{"rbac.authorization.k8s.io", "v1", "roles", "Role", true},
                             {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "Role"},
                              {"metadata", {{"name", "read-configmaps"}, {"namespace", ns()}}},
                              {"rules", Json::array({{{"apiGroups", {""}}, {"resources", {"configmaps"}},
                                                      {"verbs", {"get", "list"}}}})}}).ok());
  ASSERT_TRUE(admin_->Create(kube::ResourceType{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true},
                             {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "RoleBinding"},
                              {"metadata", {{"name", "reader"}, {"namespace", ns()}}},
                              {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "read-configmaps"}}},
                              {"subjects", Json::array({{{"kind", "ServiceAccount"}, {"name", "reader"}, {"namespace", ns()}}})}}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return (*client)->List(resources::kConfigMaps, ns()).ok(); }, 10s))
      << "the RoleBinding never took effect";

  ClusterConfig wrong = config;
  wrong.bearer_token = "not-a-token";
  auto anonymous = Client::Create(wrong);
  ASSERT_TRUE(anonymous.ok());
  auto rejected = (*anonymous)->List(resources::kConfigMaps, ns());
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ClientTest, InClusterConfigFromAPodLikeFolder) {
  const std::string token = ServiceAccountToken("pod");
  const auto folder = std::filesystem::temp_directory_path() / testing::UniqueName("serviceaccount");
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "token") << token;
  std::ofstream(folder / "ca.crt") << admin_->config().certificate_authority_pem;
  std::ofstream(folder / "namespace") << ns();
  const std::string server = admin_->config().server;  // https://127.0.0.1:PORT
  const std::string port = server.substr(server.rfind(':') + 1);

  auto config = LoadInClusterConfig({.service_account_dir = folder.string(), .host = "127.0.0.1", .port = port});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->default_namespace, ns());
  auto client = Client::Create(*config);
  ASSERT_TRUE(client.ok()) << client.status();
  // Authenticated as the pod's service account: discovery is open to every authenticated user.
  auto discovered = (*client)->Discover("apps", "v1", "Deployment");
  ASSERT_TRUE(discovered.ok()) << discovered.status();
  EXPECT_TRUE(discovered->has_value());
  auto review = (*client)->Request({.method = "POST",
                                    .path_and_query = "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                    .body = Json({{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}}).dump()});
  ASSERT_TRUE(review.ok()) << review.status();
  EXPECT_EQ(review->value("/status/userInfo/username"_json_pointer, ""), "system:serviceaccount:" + ns() + ":pod");
  std::filesystem::remove_all(folder);
}

TEST_F(ClientTest, ListAllFollowsContinueTokens) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(admin_->Create(resources::kConfigMaps,
                               {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                {"metadata", {{"name", "page-" + std::to_string(i)}, {"namespace", ns()},
                                              {"labels", {{"paged", "yes"}}}}}}).ok());
  }
  auto page = admin_->List(resources::kConfigMaps, ns(), {.label_selector = "paged=yes", .limit = 10});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ((*page)["items"].size(), 10U);
  EXPECT_FALSE(page->value("/metadata/continue"_json_pointer, "").empty());

  auto all = admin_->ListAll(resources::kConfigMaps, ns(), {.label_selector = "paged=yes", .limit = 10});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*all)["items"].size(), 25U);
  EXPECT_FALSE(all->value("/metadata/resourceVersion"_json_pointer, "").empty());
}

TEST_F(ClientTest, DiscoveryTellsWhichKindsTheClusterServes) {
  auto deployments = admin_->Discover("apps", "v1", "Deployment");
  ASSERT_TRUE(deployments.ok()) << deployments.status();
  ASSERT_TRUE(deployments->has_value());
  EXPECT_EQ((*deployments)->plural, "deployments");
  EXPECT_TRUE((*deployments)->namespaced);

  auto nodes = admin_->Discover("", "v1", "Node");
  ASSERT_TRUE(nodes.ok());
  ASSERT_TRUE(nodes->has_value());
  EXPECT_FALSE((*nodes)->namespaced);

  auto service_monitor = admin_->Discover("monitoring.coreos.com", "v1", "ServiceMonitor");
  ASSERT_TRUE(service_monitor.ok()) << service_monitor.status();
  EXPECT_FALSE(service_monitor->has_value()) << "no Prometheus operator CRDs in the local cluster";
}

TEST_F(ClientTest, StatusSubresourceAndMergePatch) {
  // Deployment status is written through the status subresource only.
  const Json deployment = {
      {"apiVersion", "apps/v1"}, {"kind", "Deployment"},
      {"metadata", {{"name", "patched"}, {"namespace", ns()}}},
      {"spec", {{"replicas", 0}, {"selector", {{"matchLabels", {{"app", "p"}}}}},
                {"template", {{"metadata", {{"labels", {{"app", "p"}}}}},
                              {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}}}}}}};
  ASSERT_TRUE(admin_->Create(resources::kDeployments, deployment).ok());
  auto labelled = admin_->MergePatch(resources::kDeployments, ns(), "patched", {{"metadata", {{"labels", {{"tier", "web"}}}}}});
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ((*labelled)["metadata"]["labels"]["tier"], "web");

  auto status = admin_->MergePatch(resources::kDeployments, ns(), "patched",
                                   {{"status", {{"observedGeneration", 42}}}}, "status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ((*status)["status"]["observedGeneration"], 42);
}

}  // namespace
}  // namespace financialapi::kube
