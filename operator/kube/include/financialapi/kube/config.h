// How to reach and authenticate to a Kubernetes API server: from a kubeconfig file or from inside a pod.
#pragma once

#include <optional>
#include <string>

#include "financialapi/common/status.h"

namespace financialapi::kube {

// Everything the HTTP client needs. PEM material is held in memory: file references in a kubeconfig
// are read when it is loaded (relative paths resolve against the kubeconfig's folder).
struct ClusterConfig {
  std::string server;                  // "https://127.0.0.1:6443"
  std::string certificate_authority_pem;  // empty: the system trust store
  bool insecure_skip_tls_verify = false;
  std::string client_certificate_pem;  // client-certificate auth (both or neither)
  std::string client_key_pem;
  std::string bearer_token;            // static token
  std::string bearer_token_file;       // re-read as it rotates (in-cluster service-account token)
  std::string default_namespace = "default";
  std::string source;                  // where this came from, for error messages
};

struct KubeconfigOptions {
  std::optional<std::string> path;     // --kubeconfig; else $KUBECONFIG (first entry); else ~/.kube/config
  std::optional<std::string> context;  // else current-context
};

// Loads a kubeconfig. Failures: NotFound (no file), InvalidArgument (unparsable YAML, missing
// context/cluster/user, unreadable or invalid certificate data, unsupported auth such as exec plugins),
// each naming the file and the entry.
StatusOr<ClusterConfig> LoadKubeconfig(const KubeconfigOptions& options = {});

// Parses kubeconfig text; `base_dir` resolves relative file references; `source` names it in errors.
StatusOr<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const KubeconfigOptions& options,
                                        const std::string& base_dir, const std::string& source);

struct InClusterOptions {
  // Folder holding token, ca.crt and namespace (a pod's mounted service-account volume).
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Overrides for $KUBERNETES_SERVICE_HOST / $KUBERNETES_SERVICE_PORT (tests).
  std::optional<std::string> host;
  std::optional<std::string> port;
};

// Config for a process running in a pod. FailedPrecondition when not in a cluster (no service host
// variables), NotFound/InvalidArgument when the service-account files are missing or empty.
StatusOr<ClusterConfig> LoadInClusterConfig(const InClusterOptions& options = {});

// The operator's rule: an explicit --kubeconfig wins, then in-cluster config when running in a pod,
// then $KUBECONFIG / ~/.kube/config.
StatusOr<ClusterConfig> LoadDefaultConfig(const KubeconfigOptions& options = {});

}  // namespace financialapi::kube
