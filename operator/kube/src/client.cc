#include "financialapi/kube/client.h"

#include <condition_variable>
#include <random>
#include <system_error>
#include <thread>

#include <boost/asio/ssl/context.hpp>
#include <cpprest/http_client.h>
#include <cpprest/uri.h>

#include "financialapi/common/file.h"
#include "financialapi/common/strings.h"
#include "financialapi/common/token_bucket.h"
#include "financialapi/kube/errors.h"
#include "financialapi/kube/watch_stream.h"

namespace financialapi::kube {
namespace {

namespace http = web::http;
namespace ssl = boost::asio::ssl;
using Seconds = std::chrono::duration<double>;

// Loads the cluster's CA and the client certificate into an OpenSSL context. Throws boost's
// system_error on bad PEM; Create() calls it once up front so that error is reported as a value.
void ConfigureTls(const ClusterConfig& config, ssl::context& context) {
  if (!config.certificate_authority_pem.empty()) {
    context.add_certificate_authority(boost::asio::buffer(config.certificate_authority_pem));
  }
  if (!config.client_certificate_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(config.client_certificate_pem));
    context.use_private_key(boost::asio::buffer(config.client_key_pem), ssl::context::pem);
  }
}

// Transport failures (no HTTP answer) as Status values a caller can branch on.
Status StatusFromTransportError(const std::exception& error, const std::string& what, const std::string& server) {
  std::string message = error.what();
  const auto* http_error = dynamic_cast<const http::http_exception*>(&error);
  if (http_error != nullptr) {
    const std::error_code code = http_error->error_code();
    if (code == std::errc::timed_out || message.find("timed out") != std::string::npos) {
      return Timeout(what + ": no answer from " + server + " in time");
    }
    // cpprestsdk's asio client reports a refused connect, once every resolved endpoint has failed, as
    // "Failed to connect to any resolved endpoint" with EHOSTUNREACH; either way no request was sent.
    if (code == std::errc::connection_refused || code == std::errc::host_unreachable) {
      return Unavailable(what + ": cannot connect to " + server + " (is the API server running?): " + message)
          .WithReason(std::string(kReasonConnectFailed));
    }
  }
  if (message.find("handshake") != std::string::npos || message.find("certificate") != std::string::npos ||
      message.find("SSL") != std::string::npos) {
    return Unavailable(what + ": TLS handshake with " + server + " failed (" + message +
                       "); check that the certificate-authority in the config is the cluster's CA");
  }
  return Unavailable(what + ": " + server + ": " + message);
}

// The verb as metrics and logs name it: a GET of a collection is a LIST, of a watch a WATCH.
std::string VerbOf(const HttpRequest& request, const std::string& path_only) {
  if (request.method != "GET") return request.method;
  if (request.path_and_query.find("watch=1") != std::string::npos) return "WATCH";
  // Collection paths have an even number of segments after /api/v1 or /apis/g/v (…/namespaces/ns/kind).
  const bool core = path_only.starts_with("/api/");
  std::size_t segments = 0;
  for (const char c : path_only) segments += c == '/' ? 1U : 0U;
  const std::size_t prefix = core ? 2 : 3;
  if (segments <= prefix) return "GET";
  const std::size_t rest = segments - prefix;  // kind | kind/name | namespaces/ns/kind | namespaces/ns/kind/name[/sub]
  const bool namespaced = path_only.find("/namespaces/") != std::string::npos && rest >= 3;
  const std::size_t after_scope = namespaced ? rest - 2 : rest;
  return after_scope == 1 ? "LIST" : "GET";
}

// Requests a repeat may not harm: everything but POST (a retried create may meet AlreadyExists,
// which callers handle, so POST is retried only when no connection was made).
bool MayRetry(const std::string& method, const Status& status) {
  if (!IsTransient(status)) return false;
  if (method != "POST") return true;
  return status.reason() == kReasonConnectFailed;
}

struct Answer {
  int status = 0;
  std::string body;
  double retry_after_seconds = 0;
};

// Cancels a cpprestsdk request when `deadline` passes: a thread waits for it, unless the request
// finished first (the destructor). No deadline: a token that never fires, and no thread.
class DeadlineCanceller {
 public:
  explicit DeadlineCanceller(std::optional<std::chrono::steady_clock::time_point> deadline) {
    if (!deadline) return;
    watchdog_ = std::thread([this, at = *deadline] {
      std::unique_lock lock(mutex_);
      if (!wake_.wait_until(lock, at, [this] { return finished_; })) {
        fired_ = true;
        source_.cancel();
      }
    });
  }
  ~DeadlineCanceller() {
    if (!watchdog_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    wake_.notify_all();
    watchdog_.join();
  }
  DeadlineCanceller(const DeadlineCanceller&) = delete;
  DeadlineCanceller& operator=(const DeadlineCanceller&) = delete;

  pplx::cancellation_token token() const {
    return watchdog_.joinable() ? source_.get_token() : pplx::cancellation_token::none();
  }
  bool fired() {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  pplx::cancellation_token_source source_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool finished_ = false;
  bool fired_ = false;
  std::thread watchdog_;  // last: started once the members it uses exist
};

}  // namespace

// --- Cancellation ------------------------------------------------------------------------------------

int Cancellation::OnCancel(std::function<void()> callback) {
  auto registered = std::make_unique<Callback>(source_.get_token(), std::move(callback));
  std::lock_guard lock(mutex_);
  callbacks_.emplace(++next_id_, std::move(registered));
  return next_id_;
}

void Cancellation::Unregister(int id) {
  std::unique_ptr<Callback> removed;
  {
    std::lock_guard lock(mutex_);
    const auto found = callbacks_.find(id);
    if (found == callbacks_.end()) return;
    removed = std::move(found->second);
    callbacks_.erase(found);
  }
  removed.reset();  // blocks while the callback runs on another thread
}

std::string EncodeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') ||
        byte == '-' || byte == '_' || byte == '.' || byte == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0xFU]);
    }
  }
  return out;
}

namespace {

// Appends "key=value" to a query string that may already hold parameters.
void AddQuery(std::string& path, std::string_view key, const std::string& value) {
  if (value.empty()) return;
  path += path.find('?') == std::string::npos ? "?" : "&";
  path += key;
  path += "=";
  path += EncodeQueryValue(value);
}

}  // namespace

// --- Client::Impl ------------------------------------------------------------------------------------

class Client::Impl {
 public:
  Impl(ClusterConfig config, ClientOptions options, const http::client::http_client_config& http_config)
      : config_(std::move(config)),
        options_(std::move(options)),
        http_(web::uri(config_.server), http_config),
        rate_limit_(options_.qps, options_.burst) {}

  const ClusterConfig& config() const { return config_; }
  const ClientOptions& options() const { return options_; }

  // One request with rate limiting and retries of transient failures, within the call's deadline.
  StatusOr<Answer> Send(const HttpRequest& request) {
    const std::string what = request.method + " " + request.path_and_query;
    const auto& deadline = request.call.deadline;
    auto past_deadline = [&](std::chrono::steady_clock::duration wait) {
      return deadline && std::chrono::steady_clock::now() + wait >= *deadline;
    };
    std::chrono::milliseconds backoff = options_.retry_base_delay;
    for (int attempt = 0;; ++attempt) {
      const auto throttled = rate_limit_.Reserve();
      if (past_deadline(throttled)) return Timeout(what + ": the caller's deadline passed before the request was sent");
      std::this_thread::sleep_for(throttled);
      auto answer = SendOnce(http_, request);
      Status failure;
      if (!answer.ok()) {
        failure = answer.status();
      } else if (answer->status == 429 || answer->status == 503 || answer->status == 504) {
        failure = StatusFromApiResponse(answer->status, answer->body, what);
      } else {
        return answer;
      }
      auto delay = std::chrono::milliseconds(Jitter(backoff));
      if (answer.ok() && answer->retry_after_seconds > 0) {
        delay = std::chrono::milliseconds(static_cast<long>(std::min(answer->retry_after_seconds, 10.0) * 1000));
      }
      if (attempt >= options_.max_retries || !MayRetry(request.method, failure) || past_deadline(delay)) {
        if (answer.ok()) return answer;  // the caller maps the HTTP answer
        return failure;
      }
      std::this_thread::sleep_for(delay);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  Status Watch(const std::string& path, const WatchOptions& options,
               const std::function<void(WatchEvent&&)>& on_event, Cancellation* cancel);

 private:
  long Jitter(std::chrono::milliseconds ceiling) {
    std::lock_guard lock(random_mutex_);
    return std::uniform_int_distribution<long>(0, ceiling.count())(random_);
  }

  // Builds the HTTP request with the headers every call carries.
  StatusOr<http::http_request> BuildRequest(const HttpRequest& request) {
    http::http_request http_request(request.method);
    http_request.set_request_uri(web::uri(request.path_and_query));
    http_request.headers().add(http::header_names::accept, "application/json, */*");
    http_request.headers().add(http::header_names::user_agent, options_.user_agent);
    FINANCIALAPI_ASSIGN_OR_RETURN(const std::string token, BearerToken());
    if (!token.empty()) http_request.headers().add(http::header_names::authorization, "Bearer " + token);
    if (!request.body.empty()) {
      http_request.headers().add(http::header_names::content_type, request.content_type);
      // The byte-vector overload: the std::string one goes through a streambuf<char> to
      // streambuf<uint8_t> cast inside cpprestsdk that UBSan rightly reports.
      http_request.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
    }
    return http_request;
  }

  // One HTTP exchange. With a deadline, a watchdog cancels the request when it passes (cpprestsdk
  // then closes the connection), so a server that stopped answering cannot hold the caller longer.
  StatusOr<Answer> SendOnce(http::client::http_client& client, const HttpRequest& request) {
    const std::string what = request.method + " " + request.path_and_query;
    FINANCIALAPI_ASSIGN_OR_RETURN(http::http_request http_request, BuildRequest(request));
    const auto started = std::chrono::steady_clock::now();
    const std::string path_only = request.path_and_query.substr(0, request.path_and_query.find('?'));
    DeadlineCanceller canceller(request.call.deadline);
    try {
      http::http_response response = client.request(http_request, canceller.token()).get();
      Answer answer;
      answer.status = static_cast<int>(response.status_code());
      answer.body = response.extract_utf8string(/*ignore_content_type=*/true).get();
      if (answer.status == 429) {
        const auto retry_after = response.headers().find("Retry-After");
        if (retry_after != response.headers().end()) answer.retry_after_seconds = std::atof(retry_after->second.c_str());
      }
      Record(VerbOf(request, path_only), std::to_string(answer.status), started);
      return answer;
    } catch (const std::exception& error) {
      Record(VerbOf(request, path_only), "<error>", started);
      if (canceller.fired()) return Timeout(what + ": no answer from " + config_.server + " within the caller's deadline");
      return StatusFromTransportError(error, what, config_.server);
    }
  }

  void Record(std::string verb, std::string code, std::chrono::steady_clock::time_point started) const {
    if (!options_.on_request) return;
    options_.on_request({std::move(verb), std::move(code), std::chrono::steady_clock::now() - started});
  }

  // The static token, or the token file's content; the file is re-read at most once a minute so a
  // rotated service-account token is picked up (as client-go does).
  StatusOr<std::string> BearerToken() {
    if (config_.bearer_token_file.empty()) return config_.bearer_token;
    std::lock_guard lock(token_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (cached_token_.empty() || now - token_read_at_ > std::chrono::minutes(1)) {
      auto token = ReadFile(config_.bearer_token_file);
      if (!token.ok()) {
        if (!cached_token_.empty()) return cached_token_;  // keep the last good token
        // Not NotFound: callers read that as "the API object does not exist".
        return Status(StatusCode::kUnauthenticated, "cannot read the bearer token file: " + token.status().message());
      }
      cached_token_ = std::string(Trim(*token));
      token_read_at_ = now;
    }
    return cached_token_;
  }

  ClusterConfig config_;
  ClientOptions options_;
  http::client::http_client http_;
  TokenBucket rate_limit_;
  std::mutex token_mutex_;
  std::string cached_token_;
  std::chrono::steady_clock::time_point token_read_at_;
  std::mutex random_mutex_;
  std::mt19937 random_{std::random_device{}()};

 public:
  // Watches get an HTTP client of their own whose limit is above the server-side timeoutSeconds.
  http::client::http_client_config watch_config;
};

// Reads the watch stream's newline-delimited JSON events as they arrive. A watchdog cancels the
// request when nothing arrived for silence_timeout, or when the caller's Cancellation fires.
Status Client::Impl::Watch(const std::string& path, const WatchOptions& options,
                           const std::function<void(WatchEvent&&)>& on_event, Cancellation* cancel) {
  const std::string what = "WATCH " + path;
  auto http_config = watch_config;
  http_config.set_timeout(std::chrono::seconds(options.timeout_seconds + 30));
  http::client::http_client client(web::uri(config_.server), http_config);
  pplx::cancellation_token_source source;
  FINANCIALAPI_ASSIGN_OR_RETURN(http::http_request request, BuildRequest({.method = "GET", .path_and_query = path}));

  std::mutex mutex;
  std::condition_variable wake;
  bool finished = false;
  bool went_silent = false;
  auto last_activity = std::chrono::steady_clock::now();
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    while (!finished) {
      const auto deadline = last_activity + options.silence_timeout;
      if (std::chrono::steady_clock::now() >= deadline) {
        went_silent = true;
        source.cancel();
        return;
      }
      wake.wait_until(lock, deadline);
    }
  });
  const int cancel_id = cancel != nullptr ? cancel->OnCancel([&source] { source.cancel(); }) : 0;
  auto stop_watchdog = [&] {
    {
      std::lock_guard lock(mutex);
      finished = true;
    }
    wake.notify_all();
    watchdog.join();
    if (cancel != nullptr) cancel->Unregister(cancel_id);
  };

  Status result;
  const auto started = std::chrono::steady_clock::now();
  try {
    const auto token = source.get_token();
    http::http_response response = client.request(request, token).get();
    Record("WATCH", std::to_string(response.status_code()), started);
    if (response.status_code() != http::status_codes::OK) {
      const std::string body = response.extract_utf8string(true).get();
      stop_watchdog();
      return StatusFromApiResponse(response.status_code(), body, what);
    }
    auto buffer = response.body().streambuf();
    WatchStreamDecoder decoder(what, on_event);
    std::vector<char> chunk(64 * 1024);
    while (result.ok()) {
      // Wait for at least one byte, then take whatever else has arrived.
      std::size_t got = buffer.getn(reinterpret_cast<unsigned char*>(chunk.data()), 1).get();
      if (got == 0) break;  // the server ended the stream
      const std::size_t available = std::min<std::size_t>(buffer.in_avail(), chunk.size() - 1);
      if (available > 0) got += buffer.getn(reinterpret_cast<unsigned char*>(chunk.data()) + 1, available).get();
      {
        std::lock_guard lock(mutex);
        last_activity = std::chrono::steady_clock::now();
      }
      result = decoder.Feed(std::string_view(chunk.data(), got));
    }
  } catch (const std::exception& error) {
    bool silent = false;
    {
      std::lock_guard lock(mutex);
      silent = went_silent;
    }
    if (silent) {
      result = Timeout(what + ": no event or bookmark for " +
                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(options.silence_timeout).count()) +
                       "s; dropped the stream");
    } else if (cancel != nullptr && cancel->IsCancelled()) {
      result = Status(StatusCode::kCancelled, what + ": cancelled");
    } else {
      result = StatusFromTransportError(error, what, config_.server);
    }
  }
  stop_watchdog();
  return result;
}

// --- Client ------------------------------------------------------------------------------------------

StatusOr<std::unique_ptr<Client>> Client::Create(ClusterConfig config, ClientOptions options) {
  if (config.server.empty()) return InvalidArgument("cluster config from " + config.source + " has no server URL");
  if (config.client_certificate_pem.empty() != config.client_key_pem.empty()) {
    return InvalidArgument("cluster config from " + config.source + ": client certificate and key must be given together");
  }
  try {
    web::uri uri(config.server);
    if (uri.scheme() != "https" && uri.scheme() != "http") {
      return InvalidArgument("server URL '" + config.server + "' must be http or https");
    }
  } catch (const std::exception& error) {
    return InvalidArgument("server URL '" + config.server + "' is not a valid URL: " + error.what());
  }
  try {
    ssl::context probe(ssl::context::tls_client);
    ConfigureTls(config, probe);
  } catch (const std::exception& error) {
    return InvalidArgument("cluster config from " + config.source + ": TLS material cannot be loaded: " + error.what());
  }

  http::client::http_client_config http_config;
  http_config.set_timeout(options.request_timeout);
  http_config.set_validate_certificates(!config.insecure_skip_tls_verify);
  http_config.set_ssl_context_callback([config](ssl::context& context) { ConfigureTls(config, context); });
  try {
    auto impl = std::make_unique<Impl>(std::move(config), std::move(options), http_config);
    impl->watch_config = http_config;
    return std::unique_ptr<Client>(new Client(std::move(impl)));
  } catch (const std::exception& error) {
    return InvalidArgument(std::string("cannot create HTTP client: ") + error.what());
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const ClusterConfig& Client::config() const { return impl_->config(); }

StatusOr<std::string> Client::RequestText(const HttpRequest& request) {
  FINANCIALAPI_ASSIGN_OR_RETURN(Answer answer, impl_->Send(request));
  if (answer.status < 200 || answer.status >= 300) {
    return StatusFromApiResponse(answer.status, answer.body, request.method + " " + request.path_and_query);
  }
  return std::move(answer.body);
}

StatusOr<Json> Client::Request(const HttpRequest& request) {
  FINANCIALAPI_ASSIGN_OR_RETURN(const std::string body, RequestText(request));
  if (body.empty()) return Json();
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Internal(request.method + " " + request.path_and_query + ": the answer is not JSON");
  }
  return parsed;
}

StatusOr<Json> Client::Get(const ResourceType& type, std::string_view ns, std::string_view name,
                           const CallOptions& call) {
  return Request({.method = "GET", .path_and_query = type.ItemPath(ns, name), .call = call});
}

StatusOr<Json> Client::List(const ResourceType& type, std::string_view ns, const ListOptions& options) {
  std::string path = type.CollectionPath(ns);
  AddQuery(path, "labelSelector", options.label_selector);
  AddQuery(path, "fieldSelector", options.field_selector);
  AddQuery(path, "limit", options.limit > 0 ? std::to_string(options.limit) : "");
  AddQuery(path, "continue", options.continue_token);
  AddQuery(path, "resourceVersion", options.resource_version);
  return Request({.method = "GET", .path_and_query = path});
}

StatusOr<Json> Client::ListAll(const ResourceType& type, std::string_view ns, ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  Json all;
  Json items = Json::array();
  while (true) {
    FINANCIALAPI_ASSIGN_OR_RETURN(Json page, List(type, ns, options));
    if (all.is_null()) {
      all = page;
      all.erase("items");
    }
    // List items carry no apiVersion/kind (watch events do); restore them as client-go does, so
    // objects look the same whichever way they arrived.
    const std::string api_version = page.value("apiVersion", "");
    std::string kind = page.value("kind", "");
    if (kind.ends_with("List")) kind.resize(kind.size() - 4);
    for (auto& item : page["items"]) {
      if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
      if (!item.contains("kind")) item["kind"] = kind;
      items.push_back(std::move(item));
    }
    const std::string next = page.value("/metadata/continue"_json_pointer, "");
    all["metadata"]["resourceVersion"] = page.value("/metadata/resourceVersion"_json_pointer, "");
    if (next.empty()) break;
    options.continue_token = next;
  }
  all["metadata"].erase("continue");
  all["items"] = std::move(items);
  return all;
}

StatusOr<Json> Client::Create(const ResourceType& type, const Json& object, const CallOptions& call) {
  const std::string ns = object.contains("metadata") ? object["metadata"].value("namespace", "") : "";
  return Request({.method = "POST", .path_and_query = type.CollectionPath(ns), .body = object.dump(), .call = call});
}

namespace {

StatusOr<std::string> ApplyPath(const ResourceType& type, const Json& object, const ApplyOptions& options,
                                std::string_view subresource) {
  if (options.field_manager.empty()) return InvalidArgument("server-side apply needs a field manager");
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].contains("name")) {
    return InvalidArgument("server-side apply needs an object with metadata.name");
  }
  const auto& metadata = object["metadata"];
  std::string path = type.ItemPath(metadata.value("namespace", ""), metadata["name"].get<std::string>());
  if (!subresource.empty()) {
    path += "/";
    path += subresource;
  }
  AddQuery(path, "fieldManager", options.field_manager);
  if (options.force) AddQuery(path, "force", "true");
  return path;
}

}  // namespace

StatusOr<Json> Client::Apply(const ResourceType& type, const Json& object, const ApplyOptions& options) {
  FINANCIALAPI_ASSIGN_OR_RETURN(std::string path, ApplyPath(type, object, options, {}));
  // JSON is valid YAML, so the apply-patch+yaml content type takes the JSON text as it is.
  return Request({.method = "PATCH", .path_and_query = path, .body = object.dump(),
                  .content_type = "application/apply-patch+yaml"});
}

StatusOr<Json> Client::ApplyStatus(const ResourceType& type, const Json& object, const ApplyOptions& options) {
  FINANCIALAPI_ASSIGN_OR_RETURN(std::string path, ApplyPath(type, object, options, "status"));
  return Request({.method = "PATCH", .path_and_query = path, .body = object.dump(),
                  .content_type = "application/apply-patch+yaml"});
}

StatusOr<Json> Client::Replace(const ResourceType& type, const Json& object, const CallOptions& call) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].contains("name")) {
    return InvalidArgument("replace needs an object with metadata.name");
  }
  const auto& metadata = object["metadata"];
  return Request({.method = "PUT",
                  .path_and_query = type.ItemPath(metadata.value("namespace", ""), metadata["name"].get<std::string>()),
                  .body = object.dump(),
                  .call = call});
}

StatusOr<Json> Client::MergePatch(const ResourceType& type, std::string_view ns, std::string_view name,
                                  const Json& patch, std::string_view subresource) {
  std::string path = type.ItemPath(ns, name);
  if (!subresource.empty()) {
    path += "/";
    path += subresource;
  }
  return Request({.method = "PATCH", .path_and_query = path, .body = patch.dump(),
                  .content_type = "application/merge-patch+json"});
}

Status Client::Watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
                     const std::function<void(WatchEvent&&)>& on_event, Cancellation* cancel) {
  if (cancel != nullptr && cancel->IsCancelled()) return {StatusCode::kCancelled, "watch cancelled"};
  std::string path = type.CollectionPath(ns) + "?watch=1";
  if (options.allow_bookmarks) AddQuery(path, "allowWatchBookmarks", "true");
  AddQuery(path, "resourceVersion", options.resource_version);
  AddQuery(path, "timeoutSeconds", std::to_string(options.timeout_seconds));
  AddQuery(path, "labelSelector", options.label_selector);
  AddQuery(path, "fieldSelector", options.field_selector);
  return impl_->Watch(path, options, on_event, cancel);
}

StatusOr<std::optional<ResourceType>> Client::Discover(const std::string& group, const std::string& version,
                                                       const std::string& kind) {
  const std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  auto list = Request({.method = "GET", .path_and_query = path});
  if (!list.ok()) {
    if (list.status().code() == StatusCode::kNotFound) return std::optional<ResourceType>();
    return list.status();
  }
  for (const auto& resource : (*list)["resources"]) {
    const std::string name = resource.value("name", "");
    if (resource.value("kind", "") == kind && name.find('/') == std::string::npos) {
      return std::optional<ResourceType>(ResourceType{group, version, name, kind, resource.value("namespaced", true)});
    }
  }
  return std::optional<ResourceType>();
}

Status Client::Delete(const ResourceType& type, std::string_view ns, std::string_view name,
                      const DeleteOptions& options) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  switch (options.propagation) {
    case PropagationPolicy::kServerDefault: break;
    case PropagationPolicy::kBackground: body["propagationPolicy"] = "Background"; break;
    case PropagationPolicy::kForeground: body["propagationPolicy"] = "Foreground"; break;
    case PropagationPolicy::kOrphan: body["propagationPolicy"] = "Orphan"; break;
  }
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  auto result = Request({.method = "DELETE", .path_and_query = type.ItemPath(ns, name), .body = body.dump()});
  return result.ok() ? Status::Ok() : result.status();
}

}  // namespace financialapi::kube
