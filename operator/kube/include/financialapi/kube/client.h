// A Kubernetes REST client on cpprestsdk: verbs on any resource type, JSON in and out, failures as
// Status values (see errors.h). Thread-safe: one Client serves many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <vector>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "financialapi/common/status.h"
#include "financialapi/kube/config.h"
#include "financialapi/kube/resource.h"
#include "financialapi/kube/watch_stream.h"

namespace financialapi::kube {

using Json = nlohmann::json;

// One finished request, for metrics (verb is GET/LIST/WATCH/POST/PATCH/PUT/DELETE; code is the HTTP
// status, or "<error>" when no answer came).
struct RequestRecord {
  std::string verb;
  std::string code;
  std::chrono::duration<double> latency;
};

struct ClientOptions {
  // Per request; watches use their own, longer limit (timeoutSeconds plus a margin).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::string user_agent = "financialapi-operator";
  // Client-side rate limit over all requests except watch streams (<= 0: unlimited), as client-go.
  double qps = 50;
  double burst = 100;
  // Transient failures (Unavailable, Timeout, TooManyRequests) are retried this many times with
  // exponential backoff and full jitter starting at retry_base_delay; 429 honours Retry-After.
  int max_retries = 3;
  std::chrono::milliseconds retry_base_delay{200};
  // Called after every request (thread-safe callers only); nullptr: nothing recorded.
  std::function<void(const RequestRecord&)> on_request;
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

// Per call, beside the client's own limits.
struct CallOptions {
  // No answer by then: Timeout, the connection's request cancelled. Retries stop at it too (one is
  // not started when its backoff would end past it). Unset: only ClientOptions::request_timeout.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path_and_query;      // "/api/v1/namespaces?limit=10"
  std::string body;
  std::string content_type = "application/json";
  CallOptions call;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;    // start after this version ("" : from now, with synthetic ADDs)
  // Asked of the server; the stream ends cleanly after it (the HTTP limit is this plus a margin).
  int timeout_seconds = 300;
  bool allow_bookmarks = true;
  // No event and no bookmark for this long: the stream is dropped (the server sends bookmarks about
  // once a minute, so a healthy stream is never this quiet).
  std::chrono::milliseconds silence_timeout{std::chrono::seconds(150)};
};

// Lets another thread stop a blocking call (a watch) early. Thread-safe. Built on std::stop_source:
// Unregister waits for a callback that is running on another thread, so a callback never outlives
// the objects it touches.
class Cancellation {
 public:
  void Cancel() { source_.request_stop(); }
  bool IsCancelled() const { return source_.stop_requested(); }
  // Runs `callback` on Cancel() (at once, on this thread, when already cancelled). Returns an id for
  // Unregister.
  int OnCancel(std::function<void()> callback);
  // Removes the callback; if Cancel() is running it on another thread right now, waits for it.
  void Unregister(int id);

 private:
  using Callback = std::stop_callback<std::function<void()>>;
  std::stop_source source_;
  std::mutex mutex_;
  int next_id_ = 0;
  std::map<int, std::unique_ptr<Callback>> callbacks_;
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
  StatusOr<Json> Get(const ResourceType& type, std::string_view ns, std::string_view name,
                     const CallOptions& call = {});
  // One page of a list (a *List object with metadata.continue when limit cut it short).
  StatusOr<Json> List(const ResourceType& type, std::string_view ns, const ListOptions& options = {});
  // Creates `object` in its metadata.namespace. AlreadyExists when the name is taken.
  StatusOr<Json> Create(const ResourceType& type, const Json& object, const CallOptions& call = {});
  // Server-side apply of `object` (namespace and name from its metadata); returns the object as stored.
  // Conflict when another field manager owns a field and force is off.
  StatusOr<Json> Apply(const ResourceType& type, const Json& object, const ApplyOptions& options);
  // JSON merge patch (RFC 7386) of the object or of a subresource such as "status".
  StatusOr<Json> MergePatch(const ResourceType& type, std::string_view ns, std::string_view name,
                            const Json& patch, std::string_view subresource = {});
  // Server-side apply of the status subresource (the object needs apiVersion, kind, metadata.name).
  StatusOr<Json> ApplyStatus(const ResourceType& type, const Json& object, const ApplyOptions& options);
  // PUT: replaces the object; Conflict when metadata.resourceVersion is stale.
  StatusOr<Json> Replace(const ResourceType& type, const Json& object, const CallOptions& call = {});
  // Every item, following `continue` tokens page by page (options.limit, default 500 per page). The
  // result is a list whose metadata.resourceVersion is the one to watch from, and whose items carry
  // apiVersion and kind (plain list items do not). Gone when a continue token expired mid-way.
  StatusOr<Json> ListAll(const ResourceType& type, std::string_view ns, ListOptions options = {});
  // Streams changes to `on_event` until the server closes the stream (OK: watch again from the last
  // version seen), `cancel` fires (Cancelled), the stream goes silent (Timeout), the version is too
  // old (Gone: list again) or another failure (errors.h).
  Status Watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
               const std::function<void(WatchEvent&&)>& on_event, Cancellation* cancel = nullptr);
  // API discovery: the resource type serving `kind` in group/version, nullopt when the cluster does
  // not serve it (e.g. no ServiceMonitor CRD), or the error that prevented finding out.
  StatusOr<std::optional<ResourceType>> Discover(const std::string& group, const std::string& version,
                                                 const std::string& kind);
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
