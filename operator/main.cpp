// financialapi-operator: watches FinancialApi objects and reconciles the platform they describe.
#include <cstdio>
#include <string>
#include <string_view>

#include "financialapi/common/version.h"
#include "financialapi/kube/client.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: financialapi-operator [flags]

Runs the FinancialApi operator against the cluster in the kubeconfig (or in-cluster config).

Flags:
  --kubeconfig PATH   kubeconfig to use (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --context NAME      kubeconfig context (default: current-context)
  --check             connect to the API server, print its version and exit
  --version           print the version and exit
  --help              print this help and exit
)";

int Check(const financialapi::kube::KubeconfigOptions& options) {
  using financialapi::kube::Client;
  auto config = financialapi::kube::LoadDefaultConfig(options);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", config.status().ToString().c_str());
    return 1;
  }
  auto client = Client::Create(*config);
  if (!client.ok()) {
    std::fprintf(stderr, "error: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto version = (*client)->Request({.method = "GET", .path_and_query = "/version"});
  if (!version.ok()) {
    std::fprintf(stderr, "error: %s\n", version.status().ToString().c_str());
    return 1;
  }
  std::printf("connected to %s: Kubernetes %s\n", config->server.c_str(),
              version->value("gitVersion", "unknown").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  financialapi::kube::KubeconfigOptions options;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto next = [&](std::string_view flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %.*s needs a value\n", static_cast<int>(flag.size()), flag.data());
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--version") {
      std::printf("financialapi-operator %.*s\n", static_cast<int>(financialapi::kVersion.size()), financialapi::kVersion.data());
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (arg == "--check") {
      check = true;
    } else if (arg == "--kubeconfig" || arg == "--context") {
      const char* value = next(arg);
      if (value == nullptr) return 2;
      (arg == "--kubeconfig" ? options.path : options.context) = value;
    } else {
      std::fprintf(stderr, "error: unknown flag %.*s\n\n%.*s", static_cast<int>(arg.size()), arg.data(),
                   static_cast<int>(kUsage.size()), kUsage.data());
      return 2;
    }
  }
  if (check) return Check(options);
  std::fprintf(stderr, "financialapi-operator: the controller runtime is not built yet (issue 3); only --check works\n");
  return 1;
}
