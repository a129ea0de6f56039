// kubeconfig parsing (kube::ParseKubeconfig) fed arbitrary YAML: a config or an error, never an
// exception; an accepted config has a server and a namespace, and names the context it came from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "checks/check.h"
#include "financialapi/kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // File references are read (certificate-authority: /path): keep the fuzzer from reading devices
  // that never end or block. Relative references resolve against a folder that does not exist.
  for (const char* device : {"/dev", "/proc", "/sys"}) {
    if (text.find(device) != std::string::npos) return 0;
  }
  financialapi::fuzz::NoException("ParseKubeconfig", [&] {
    for (const auto& options : {financialapi::kube::KubeconfigOptions{},
                                financialapi::kube::KubeconfigOptions{.path = std::nullopt, .context = "fuzz"}}) {
      const auto config = financialapi::kube::ParseKubeconfig(text, options, "/nonexistent-fuzz-dir", "fuzz.yaml");
      if (!config.ok()) continue;
      financialapi::fuzz::Check(!config->server.empty(), "an accepted kubeconfig has a server");
      financialapi::fuzz::Check(!config->default_namespace.empty(), "an accepted kubeconfig has a namespace");
    }
  });
  return 0;
}
