#include "support/test_environment.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

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

int RunShell(const std::string& line, std::string* output) {
  FILE* pipe = ::popen((line + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) text.append(buffer, n);
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ClusterCommand(const std::string& command, std::string* output) {
  return RunShell(std::string(FINANCIALAPI_SOURCE_DIR) + "/hack/local-cluster " + command + " --state-dir " + StateDir() +
                      "/cluster",
                  output);
}

std::pair<int, std::string> Kubectl(const std::string& args) {
  const std::string kubectl = ReadTrimmed(StateDir() + "/cluster/bin-dir") + "/kubectl";
  std::string output;
  const int code = RunShell(kubectl + " --kubeconfig " + ClusterKubeconfigPath() + " " + args, &output);
  return {code, output};
}

std::map<std::string, std::string> ParseEnvLines(std::string_view text) {
  std::map<std::string, std::string> values;
  for (const std::string_view line : SplitAndTrim(text, '\n')) {
    const auto equals = line.find('=');
    if (equals != std::string_view::npos && !line.starts_with('#')) {
      values[std::string(line.substr(0, equals))] = std::string(line.substr(equals + 1));
    }
  }
  return values;
}

std::map<std::string, std::string> RealNodeEnvironment() {
  auto text = ReadFile(StateDir() + "/cluster/real-node.env");
  return text.ok() ? ParseEnvLines(*text) : std::map<std::string, std::string>{};
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  kube::ClusterConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(port);
  auto client = kube::Client::Create(config, {.request_timeout = std::chrono::seconds(5), .max_retries = 0});
  if (!client.ok()) return {0, client.status().ToString()};
  // Non-2xx answers come back as errors whose message carries "HTTP <code>".
  auto text = (*client)->RequestText({.path_and_query = path});
  if (text.ok()) return {200, *text};
  const std::string message = text.status().message();
  const auto http = message.find("HTTP ");
  if (http == std::string::npos) return {0, message};
  return {std::atoi(message.c_str() + http + 5), message};
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

ScopedNamespace::ScopedNamespace(kube::Client& client, const std::string& prefix, bool wait_for_service_account)
    : client_(client), name_(UniqueName(prefix)) {
  auto created = client_.Create(kube::resources::kNamespaces,
                                {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}});
  EXPECT_TRUE(created.ok()) << created.status();
  if (!wait_for_service_account) return;
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
