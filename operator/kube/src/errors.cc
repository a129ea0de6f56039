#include "financialapi/kube/errors.h"

#include <nlohmann/json.hpp>

namespace financialapi::kube {
namespace {

// The cause the NamespaceLifecycle admission plugin attaches to its 403 (corev1.NamespaceTerminatingCause).
constexpr std::string_view kNamespaceTerminatingCause = "NamespaceTerminating";

StatusCode CodeFor(int http_status, const std::string& reason) {
  if (reason == "Timeout" || reason == "ServerTimeout") return StatusCode::kTimeout;
  switch (http_status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kConflict;
    case 410: return StatusCode::kGone;
    case 422: return StatusCode::kInvalidArgument;
    case 429: return StatusCode::kTooManyRequests;
    case 502:
    case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kTimeout;
    default: return http_status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
}

// The member as a string, or "" when it is absent or not a string: nlohmann's value() throws
// type_error.302 for a member of another type, and the body is whatever the other end sent.
std::string StringMember(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto member = object.find(key);
  return member != object.end() && member->is_string() ? member->get<std::string>() : "";
}

}  // namespace

Status StatusFromApiResponse(int http_status, const std::string& body, const std::string& what) {
  std::string reason;
  std::string message;
  bool namespace_terminating = false;
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && StringMember(parsed, "kind") == "Status") {
    reason = StringMember(parsed, "reason");
    message = StringMember(parsed, "message");
    const auto details = parsed.find("details");
    if (details != parsed.end() && details->is_object() && details->contains("causes") &&
        (*details)["causes"].is_array()) {
      std::string causes;
      for (const auto& cause : (*details)["causes"]) {
        if (!cause.is_object()) continue;
        if (StringMember(cause, "reason") == kNamespaceTerminatingCause) namespace_terminating = true;
        if (!causes.empty()) causes += "; ";
        const std::string field = StringMember(cause, "field");
        causes += field.empty() ? StringMember(cause, "message") : field + ": " + StringMember(cause, "message");
      }
      // The top-level message usually repeats the causes; add them only when it does not.
      if (!causes.empty() && message.find(causes) == std::string::npos) message += " [" + causes + "]";
    }
  } else {
    message = body.size() > 512 ? body.substr(0, 512) + "..." : body;
  }
  namespace_terminating = namespace_terminating && http_status == 403;
  std::string text = what + " -> HTTP " + std::to_string(http_status);
  if (!reason.empty()) text += " " + reason;
  if (namespace_terminating) text += " (" + std::string(kNamespaceTerminatingCause) + ")";
  if (!message.empty()) text += ": " + message;
  if (namespace_terminating) return {StatusCode::kFailedPrecondition, std::move(text), std::string(kNamespaceTerminatingCause)};
  return {CodeFor(http_status, reason), std::move(text), std::move(reason)};
}

bool IsNamespaceTerminating(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition && status.reason() == kNamespaceTerminatingCause;
}

bool IsTransient(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kTimeout ||
         status.code() == StatusCode::kTooManyRequests;
}

}  // namespace financialapi::kube
