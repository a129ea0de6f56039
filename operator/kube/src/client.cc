#include "financialapi/kube/client.h"

#include <mutex>
#include <system_error>

#include <boost/asio/ssl/context.hpp>
#include <cpprest/http_client.h>
#include <cpprest/uri.h>

#include "financialapi/common/file.h"
#include "financialapi/common/strings.h"
#include "financialapi/kube/errors.h"

namespace financialapi::kube {
namespace {

namespace http = web::http;
namespace ssl = boost::asio::ssl;

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
    if (code == std::errc::connection_refused) {
      return Unavailable(what + ": connection to " + server + " refused (is the API server running?)");
    }
  }
  if (message.find("handshake") != std::string::npos || message.find("certificate") != std::string::npos ||
      message.find("SSL") != std::string::npos) {
    return Unavailable(what + ": TLS handshake with " + server + " failed (" + message +
                       "); check that the certificate-authority in the config is the cluster's CA");
  }
  return Unavailable(what + ": " + server + ": " + message);
}

}  // namespace

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

class Client::Impl {
 public:
  Impl(ClusterConfig config, ClientOptions options, http::client::http_client_config http_config)
      : config_(std::move(config)),
        options_(std::move(options)),
        http_(web::uri(config_.server), http_config) {}

  const ClusterConfig& config() const { return config_; }

  StatusOr<std::pair<int, std::string>> Send(const HttpRequest& request) {
    const std::string what = request.method + " " + request.path_and_query;
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
    try {
      http::http_response response = http_.request(http_request).get();
      std::string body = response.extract_utf8string(/*ignore_content_type=*/true).get();
      return std::make_pair(static_cast<int>(response.status_code()), std::move(body));
    } catch (const std::exception& error) {
      return StatusFromTransportError(error, what, config_.server);
    }
  }

 private:
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
        return token.status().WithContext("reading service-account token");
      }
      cached_token_ = std::string(Trim(*token));
      token_read_at_ = now;
    }
    return cached_token_;
  }

  ClusterConfig config_;
  ClientOptions options_;
  http::client::http_client http_;
  std::mutex token_mutex_;
  std::string cached_token_;
  std::chrono::steady_clock::time_point token_read_at_;
};

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
    return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(std::move(config), std::move(options), http_config)));
  } catch (const std::exception& error) {
    return InvalidArgument(std::string("cannot create HTTP client: ") + error.what());
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const ClusterConfig& Client::config() const { return impl_->config(); }

StatusOr<std::string> Client::RequestText(const HttpRequest& request) {
  FINANCIALAPI_ASSIGN_OR_RETURN(auto answer, impl_->Send(request));
  auto& [status, body] = answer;
  if (status < 200 || status >= 300) {
    return StatusFromApiResponse(status, body, request.method + " " + request.path_and_query);
  }
  return std::move(body);
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

StatusOr<Json> Client::Get(const ResourceType& type, std::string_view ns, std::string_view name) {
  return Request({.method = "GET", .path_and_query = type.ItemPath(ns, name)});
}

StatusOr<Json> Client::List(const ResourceType& type, std::string_view ns, const ListOptions& options) {
  std::string query;
  auto add = [&query](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    query += query.empty() ? "?" : "&";
    query += key;
    query += "=";
    query += EncodeQueryValue(value);
  };
  add("labelSelector", options.label_selector);
  add("fieldSelector", options.field_selector);
  add("limit", options.limit > 0 ? std::to_string(options.limit) : "");
  add("continue", options.continue_token);
  add("resourceVersion", options.resource_version);
  return Request({.method = "GET", .path_and_query = type.CollectionPath(ns) + query});
}

StatusOr<Json> Client::Create(const ResourceType& type, const Json& object) {
  const std::string ns = object.contains("metadata") ? object["metadata"].value("namespace", "") : "";
  return Request({.method = "POST", .path_and_query = type.CollectionPath(ns), .body = object.dump()});
}

StatusOr<Json> Client::Apply(const ResourceType& type, const Json& object, const ApplyOptions& options) {
  if (options.field_manager.empty()) return InvalidArgument("server-side apply needs a field manager");
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].contains("name")) {
    return InvalidArgument("server-side apply needs an object with metadata.name");
  }
  const auto& metadata = object["metadata"];
  const std::string ns = metadata.value("namespace", "");
  std::string path = type.ItemPath(ns, metadata["name"].get<std::string>()) +
                     "?fieldManager=" + EncodeQueryValue(options.field_manager);
  if (options.force) path += "&force=true";
  // JSON is valid YAML, so the apply-patch+yaml content type takes the JSON text as it is.
  return Request({.method = "PATCH", .path_and_query = path, .body = object.dump(),
                  .content_type = "application/apply-patch+yaml"});
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
