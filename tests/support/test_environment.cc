#include "support/test_environment.h"

#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "financialapi/common/file.h"
#include "financialapi/common/strings.h"

namespace financialapi::testing {
namespace {

std::string ReadTrimmed(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? std::string(Trim(*text)) : std::string();
}

}  // namespace

std::string StateDir() { return GetEnv("FINANCIALAPI_TEST_STATE_DIR").value_or(FINANCIALAPI_TEST_STATE_DIR); }
std::string ClusterKubeconfigPath() { return StateDir() + "/cluster/kubeconfig"; }
std::string PostgresUrl() { return ReadTrimmed(StateDir() + "/databases/postgres-url"); }
std::string RedisUrl() { return ReadTrimmed(StateDir() + "/databases/redis-url"); }

std::unique_ptr<kube::Client> AdminClient() {
  auto config = kube::LoadKubeconfig({.path = ClusterKubeconfigPath()});
  if (!config.ok()) {
    ADD_FAILURE() << "the local cluster is not up (run through ctest/make test): " << config.status();
    return nullptr;
  }
  auto client = kube::Client::Create(*config);
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return nullptr;
  }
  return std::move(client).value();
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout, std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

ScopedNamespace::ScopedNamespace(kube::Client& client, const std::string& prefix)
    : client_(client), name_(UniqueName(prefix)) {
  auto created = client_.Create(kube::resources::kNamespaces,
                                {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}});
  EXPECT_TRUE(created.ok()) << created.status();
  // Pods need the namespace's default ServiceAccount, which the controller-manager creates.
  const bool ready = WaitFor([&] { return client_.Get(kube::resources::kServiceAccounts, name_, "default").ok(); },
                             std::chrono::seconds(30));
  EXPECT_TRUE(ready) << "no default ServiceAccount in namespace " << name_;
}

ScopedNamespace::~ScopedNamespace() {
  auto deleted = client_.Delete(kube::resources::kNamespaces, "", name_);
  if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) ADD_FAILURE() << deleted;
}

}  // namespace financialapi::testing
