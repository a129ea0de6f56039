#include "financialapi/kube/config.h"

#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "financialapi/common/base64.h"
#include "financialapi/common/file.h"
#include "financialapi/common/strings.h"

namespace financialapi::kube {
namespace {

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts) and returns its body.
std::optional<YAML::Node> FindNamed(const YAML::Node& root, const char* list, const std::string& name,
                                    const char* body) {
  const YAML::Node entries = root[list];
  if (!entries || !entries.IsSequence()) return std::nullopt;
  for (const auto& entry : entries) {
    if (entry["name"] && entry["name"].as<std::string>() == name && entry[body]) return entry[body];
  }
  return std::nullopt;
}

std::string StringField(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value && value.IsScalar() ? value.as<std::string>() : std::string();
}

// Inline `<key>-data` (base64) wins over the `<key>` file path, as in kubectl.
StatusOr<std::string> Material(const YAML::Node& node, const std::string& key, const std::string& base_dir,
                               const std::string& where) {
  const std::string data = StringField(node, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded.ok()) return InvalidArgument(where + ": " + key + "-data is not valid base64");
    return decoded;
  }
  std::string path = StringField(node, key.c_str());
  if (path.empty()) return std::string();
  if (std::filesystem::path(path).is_relative() && !base_dir.empty()) path = base_dir + "/" + path;
  auto content = ReadFile(path);
  if (!content.ok()) return InvalidArgument(where + ": " + key + ": " + content.status().message());
  return content;
}

}  // namespace

StatusOr<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const KubeconfigOptions& options,
                                        const std::string& base_dir, const std::string& source) {
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) return InvalidArgument("kubeconfig " + source + " is not a YAML mapping");
    const std::string context_name = options.context.value_or(StringField(root, "current-context"));
    if (context_name.empty()) return InvalidArgument("kubeconfig " + source + " has no current-context and none was given");
    const auto context = FindNamed(root, "contexts", context_name, "context");
    if (!context) return InvalidArgument("kubeconfig " + source + " has no context '" + context_name + "'");

    const std::string cluster_name = StringField(*context, "cluster");
    const auto cluster = FindNamed(root, "clusters", cluster_name, "cluster");
    if (!cluster) return InvalidArgument("kubeconfig " + source + ": context '" + context_name + "' names cluster '" + cluster_name + "', which is not defined");

    ClusterConfig config;
    config.source = source + " (context " + context_name + ")";
    config.server = StringField(*cluster, "server");
    if (config.server.empty()) return InvalidArgument("kubeconfig " + source + ": cluster '" + cluster_name + "' has no server");
    config.insecure_skip_tls_verify = StringField(*cluster, "insecure-skip-tls-verify") == "true";
    const std::string cluster_where = "kubeconfig " + source + " cluster '" + cluster_name + "'";
    FINANCIALAPI_ASSIGN_OR_RETURN(config.certificate_authority_pem,
                                  Material(*cluster, "certificate-authority", base_dir, cluster_where));

    const std::string user_name = StringField(*context, "user");
    if (!user_name.empty()) {
      const auto user = FindNamed(root, "users", user_name, "user");
      if (!user) return InvalidArgument("kubeconfig " + source + ": context '" + context_name + "' names user '" + user_name + "', which is not defined");
      const std::string user_where = "kubeconfig " + source + " user '" + user_name + "'";
      if ((*user)["exec"] || (*user)["auth-provider"]) {
        return InvalidArgument(user_where + " uses an exec or auth-provider plugin, which this client does not run; use a token or client certificate");
      }
      FINANCIALAPI_ASSIGN_OR_RETURN(config.client_certificate_pem, Material(*user, "client-certificate", base_dir, user_where));
      FINANCIALAPI_ASSIGN_OR_RETURN(config.client_key_pem, Material(*user, "client-key", base_dir, user_where));
      config.bearer_token = StringField(*user, "token");
      config.bearer_token_file = StringField(*user, "tokenFile");
      if (!config.bearer_token_file.empty() && std::filesystem::path(config.bearer_token_file).is_relative() && !base_dir.empty()) {
        config.bearer_token_file = base_dir + "/" + config.bearer_token_file;
      }
    }
    const std::string ns = StringField(*context, "namespace");
    if (!ns.empty()) config.default_namespace = ns;
    return config;
  } catch (const YAML::Exception& error) {
    return InvalidArgument("kubeconfig " + source + " is not valid YAML: " + error.what());
  }
}

StatusOr<ClusterConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  std::string path;
  if (options.path) {
    path = *options.path;
  } else if (auto env = GetEnv("KUBECONFIG")) {
    path = env->substr(0, env->find(':'));
  } else if (auto home = GetEnv("HOME")) {
    path = *home + "/.kube/config";
  } else {
    return NotFound("no kubeconfig: neither --kubeconfig, $KUBECONFIG nor $HOME is set");
  }
  auto text = ReadFile(path);
  if (!text.ok()) return text.status().WithContext("loading kubeconfig");
  return ParseKubeconfig(*text, options, std::filesystem::path(path).parent_path().string(), path);
}

StatusOr<ClusterConfig> LoadInClusterConfig(const InClusterOptions& options) {
  const auto host = options.host ? options.host : GetEnv("KUBERNETES_SERVICE_HOST");
  const auto port = options.port ? options.port : GetEnv("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    return FailedPrecondition("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  ClusterConfig config;
  config.source = "in-cluster service account at " + options.service_account_dir;
  // An IPv6 service host needs brackets in a URL.
  config.server = "https://" + (host->find(':') != std::string::npos ? "[" + *host + "]" : *host) + ":" + *port;
  config.bearer_token_file = options.service_account_dir + "/token";
  auto token = ReadFile(config.bearer_token_file);
  if (!token.ok()) return token.status().WithContext("in-cluster config");
  if (Trim(*token).empty()) return InvalidArgument("in-cluster config: " + config.bearer_token_file + " is empty");
  auto ca = ReadFile(options.service_account_dir + "/ca.crt");
  if (!ca.ok()) return ca.status().WithContext("in-cluster config");
  config.certificate_authority_pem = std::move(ca).value();
  if (auto ns = ReadFile(options.service_account_dir + "/namespace"); ns.ok() && !Trim(*ns).empty()) {
    config.default_namespace = std::string(Trim(*ns));
  }
  return config;
}

StatusOr<ClusterConfig> LoadDefaultConfig(const KubeconfigOptions& options) {
  if (!options.path) {
    auto in_cluster = LoadInClusterConfig();
    if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kFailedPrecondition) return in_cluster;
  }
  return LoadKubeconfig(options);
}

}  // namespace financialapi::kube
