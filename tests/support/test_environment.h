// Where the shared test servers are and small helpers for tests that talk to them. The servers are
// started once per `ctest` run by the environment.* fixture tests (tests/CMakeLists.txt); each test
// isolates itself with its own namespace, table or key prefix.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "financialapi/kube/client.h"

namespace financialapi::testing {

// $FINANCIALAPI_TEST_STATE_DIR, else the folder CMake configured (build/test-state).
std::string StateDir();
std::string ClusterKubeconfigPath();
std::string PostgresUrl();  // "" when the databases fixture did not run
std::string RedisUrl();

// A client with the local cluster's admin credentials; nullptr (and a test failure) when the cluster
// fixture is not up.
std::unique_ptr<kube::Client> AdminClient();

// Runs `hack/local-cluster <command> --state-dir <the test cluster>` and returns its exit code; its
// output goes to `output` when given.
int ClusterCommand(const std::string& command, std::string* output = nullptr);

// Runs `line` with /bin/sh (stderr joined to stdout); the exit code (-1 when it did not exit), the
// output in `output` when given.
int RunShell(const std::string& line, std::string* output = nullptr);

// Runs the cluster's kubectl with the admin kubeconfig and `args` (shell words); exit code and output.
std::pair<int, std::string> Kubectl(const std::string& args);

// The KEY=VALUE lines of an env file (blank lines and # comments skipped).
std::map<std::string, std::string> ParseEnvLines(std::string_view text);

// The real node's addresses and names (hack/local-cluster's real-node.env: REAL_NODE_NAME,
// REAL_NODE_IP, REAL_NODE_HOST_IP, REAL_NODE_POD_CIDR, …); empty when the cluster has no real node.
std::map<std::string, std::string> RealNodeEnvironment();

// A TCP port on 127.0.0.1 that was free a moment ago (for servers a test starts).
int FreePort();

// GET http://127.0.0.1:<port><path>; the status code (0 when nothing answered) and body.
std::pair<int, std::string> HttpGet(int port, const std::string& path);

// A DNS-1123 name unique to this process and call: "<prefix>-<pid>-<n>".
std::string UniqueName(const std::string& prefix);

// Polls `done` every `interval` until it returns true or `timeout` passes; returns its last answer.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = std::chrono::milliseconds(250));

// Creates a namespace and deletes it when destroyed (the namespace controller removes its content).
// Tests that create Pods wait for the namespace's default ServiceAccount, which the
// controller-manager creates and Pod admission requires.
class ScopedNamespace {
 public:
  ScopedNamespace(kube::Client& client, const std::string& prefix, bool wait_for_service_account = false);
  ~ScopedNamespace();
  ScopedNamespace(const ScopedNamespace&) = delete;
  ScopedNamespace& operator=(const ScopedNamespace&) = delete;
  const std::string& name() const { return name_; }

 private:
  kube::Client& client_;
  std::string name_;
};

}  // namespace financialapi::testing
