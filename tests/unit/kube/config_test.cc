#include "financialapi/kube/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "financialapi/common/base64.h"

namespace financialapi::kube {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kube-config-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ + "/" + name) << content;
  }

 private:
  std::string path_;
};

constexpr char kTwoContexts[] = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: Q0EtUEVN
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    certificate-authority: certs/ca.pem
users:
- name: dev-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: prod-user
  user:
    token: s3cr3t
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: finance}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
)";

TEST(KubeconfigTest, CurrentContextWithInlineCertificates) {
  auto config = ParseKubeconfig(kTwoContexts, {}, "/nowhere", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->certificate_authority_pem, "CA-PEM");
  EXPECT_EQ(config->client_certificate_pem, "CERT");
  EXPECT_EQ(config->client_key_pem, "KEY");
  EXPECT_EQ(config->default_namespace, "finance");
  EXPECT_TRUE(config->bearer_token.empty());
}

TEST(KubeconfigTest, NamedContextWithTokenAndRelativeCaFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/certs");
  dir.Write("certs/ca.pem", "FILE-CA");
  auto config = ParseKubeconfig(kTwoContexts, {.context = "prod"}, dir.path(), "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://prod.example:443");
  EXPECT_EQ(config->certificate_authority_pem, "FILE-CA");
  EXPECT_EQ(config->bearer_token, "s3cr3t");
  EXPECT_EQ(config->default_namespace, "default");
}

TEST(KubeconfigTest, ErrorsNameTheProblem) {
  auto missing_context = ParseKubeconfig(kTwoContexts, {.context = "staging"}, "", "test.yaml");
  ASSERT_FALSE(missing_context.ok());
  EXPECT_NE(missing_context.status().message().find("no context 'staging'"), std::string::npos);

  auto missing_ca_file = ParseKubeconfig(kTwoContexts, {.context = "prod"}, "/nowhere", "test.yaml");
  ASSERT_FALSE(missing_ca_file.ok());
  EXPECT_NE(missing_ca_file.status().message().find("certificate-authority"), std::string::npos)
      << missing_ca_file.status();

  auto not_yaml = ParseKubeconfig("clusters: [unclosed", {}, "", "broken.yaml");
  ASSERT_FALSE(not_yaml.ok());
  EXPECT_EQ(not_yaml.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_yaml.status().message().find("broken.yaml"), std::string::npos);

  const std::string exec_plugin = R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://x"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)";
  auto exec = ParseKubeconfig(exec_plugin, {}, "", "exec.yaml");
  ASSERT_FALSE(exec.ok());
  EXPECT_NE(exec.status().message().find("exec"), std::string::npos);

  const std::string bad_base64 = R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://x", certificate-authority-data: "!!!"}}]
contexts: [{name: c, context: {cluster: k}}]
)";
  auto base64 = ParseKubeconfig(bad_base64, {}, "", "b64.yaml");
  ASSERT_FALSE(base64.ok());
  EXPECT_NE(base64.status().message().find("certificate-authority-data"), std::string::npos);
}

TEST(KubeconfigTest, LoadReadsTheFileNamedByThePath) {
  TempDir dir;
  dir.Write("config", kTwoContexts);
  auto config = LoadKubeconfig({.path = dir.path() + "/config"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  auto missing = LoadKubeconfig({.path = dir.path() + "/absent"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(InClusterConfigTest, ReadsAPodsServiceAccountFolder) {
  TempDir dir;
  dir.Write("token", "eyJhbGciOi.token\n");
  dir.Write("ca.crt", "CLUSTER-CA");
  dir.Write("namespace", "operators\n");
  auto config = LoadInClusterConfig({.service_account_dir = dir.path(), .host = "10.0.0.1", .port = "443"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->certificate_authority_pem, "CLUSTER-CA");
  EXPECT_EQ(config->bearer_token_file, dir.path() + "/token");
  EXPECT_EQ(config->default_namespace, "operators");

  auto ipv6 = LoadInClusterConfig({.service_account_dir = dir.path(), .host = "fd00::1", .port = "443"});
  ASSERT_TRUE(ipv6.ok());
  EXPECT_EQ(ipv6->server, "https://[fd00::1]:443");
}

TEST(InClusterConfigTest, OutsideAPodOrWithoutTokenIsAnError) {
  TempDir dir;
  auto no_token = LoadInClusterConfig({.service_account_dir = dir.path(), .host = "10.0.0.1", .port = "443"});
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_token.status().message().find("token"), std::string::npos);
}

}  // namespace
}  // namespace financialapi::kube
