// A Kubernetes REST client on cpprestsdk: verbs on any resource type, JSON in and out, failures as
// Status values (see errors.h). Thread-safe: one Client serves many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"
#include "financialapi/kube/config.h"
#include "financialapi/kube/resource.h"

namespace financialapi::kube {

using Json = nlohmann::json;

struct ClientOptions {
  // Per request; a watch asks the server for timeoutSeconds below this.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::string user_agent = "financialapi-operator";
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t limit = 0;          // 0: no paging
  std::string continue_token;
  std::string resource_version;
};

struct ApplyOptions {
  std::string field_manager;       // required by server-side apply
  bool force = false;              // take ownership of fields another manager holds
};

enum class PropagationPolicy { kServerDefault, kBackground, kForeground, kOrphan };

struct DeleteOptions {
  PropagationPolicy propagation = PropagationPolicy::kServerDefault;
  std::optional<std::int64_t> grace_period_seconds;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path_and_query;      // "/api/v1/namespaces?limit=10"
  std::string body;
  std::string content_type = "application/json";
};

class Client {
 public:
  // InvalidArgument when the config's server URL or PEM material cannot be used.
  static StatusOr<std::unique_ptr<Client>> Create(ClusterConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClusterConfig& config() const;

  // The object, or NotFound / PermissionDenied / Unavailable ... (errors.h).
  StatusOr<Json> Get(const ResourceType& type, std::string_view ns, std::string_view name);
  // One page of a list (a *List object with metadata.continue when limit cut it short).
  StatusOr<Json> List(const ResourceType& type, std::string_view ns, const ListOptions& options = {});
  // Creates `object` in its metadata.namespace. AlreadyExists when the name is taken.
  StatusOr<Json> Create(const ResourceType& type, const Json& object);
  // Server-side apply of `object` (namespace and name from its metadata); returns the object as stored.
  // Conflict when another field manager owns a field and force is off.
  StatusOr<Json> Apply(const ResourceType& type, const Json& object, const ApplyOptions& options);
  // JSON merge patch (RFC 7386) of the object or of a subresource such as "status".
  StatusOr<Json> MergePatch(const ResourceType& type, std::string_view ns, std::string_view name,
                            const Json& patch, std::string_view subresource = {});
  // Deletes; NotFound when it is already gone.
  Status Delete(const ResourceType& type, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {});

  // Any request; the parsed JSON body (null for an empty body) or the mapped error.
  StatusOr<Json> Request(const HttpRequest& request);
  // Any request whose answer is not JSON (/readyz, /metrics): the body text, or the mapped error.
  StatusOr<std::string> RequestText(const HttpRequest& request);

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value.
std::string EncodeQueryValue(std::string_view value);

}  // namespace financialapi::kube
