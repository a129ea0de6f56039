// Errors as values (in the spirit of LevelDB's Status and abseil's StatusOr): library code never throws;
// third-party exceptions are caught where those libraries are called and turned into a Status.
#pragma once

#include <cassert>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace financialapi {

// The kinds of failure callers branch on. Kubernetes API errors map onto these (see kube/errors.h),
// and so do database and HTTP failures.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the caller or a user (HTTP 400/422, Kubernetes Invalid)
  kNotFound,            // 404
  kAlreadyExists,       // 409 AlreadyExists
  kConflict,            // 409 Conflict: stale resourceVersion or a field-manager conflict
  kGone,                // 410: resourceVersion too old, relist
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kTooManyRequests,     // 429
  kTimeout,             // the request or the server timed out
  kUnavailable,         // connection refused, reset, 503: transient, worth retrying
  kFailedPrecondition,  // the system is not in a state to do this (e.g. a missing CRD)
  kInternal,            // a bug or an unexpected answer
  kCancelled,           // the caller asked to stop
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(StatusCode code, std::string message, std::string reason)
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // A machine-readable reason finer than the code, for callers to branch on instead of searching the
  // message: the Kubernetes Status `reason` ("AlreadyExists", "NamespaceTerminating"), a PostgreSQL
  // SQLSTATE ("42P01"), or one of the project's own tokens (kReasonConnectFailed). Empty when the
  // producer had none.
  const std::string& reason() const { return reason_; }

  // "NotFound: deployments.apps \"x\" not found"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("loading kubeconfig: ..."); the code and
  // the reason are kept.
  Status WithContext(std::string_view context) const;

  // Returns a copy carrying `reason` (an OK status stays OK and carries none).
  Status WithReason(std::string reason) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

// Reasons the project itself produces (the others come from the Kubernetes API or PostgreSQL).
// The TCP connection was never established (refused, unreachable), so no request reached the server
// and even a non-idempotent one may be retried.
inline constexpr std::string_view kReasonConnectFailed = "ConnectFailed";

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

// Shorthands used throughout the project.
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }

// A value or the Status saying why there is none. Accessing the value of a failed StatusOr is a bug
// (asserted in debug builds).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}                 // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {          // NOLINT: implicit by design
    assert(!status_.ok() && "StatusOr built from an OK status carries no value");
    if (status_.ok()) status_ = Internal("StatusOr constructed from OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace financialapi

// Propagates a failed Status out of the current function.
#define FINANCIALAPI_RETURN_IF_ERROR(expr)                  \
  do {                                                      \
    ::financialapi::Status financialapi_status_ = (expr);   \
    if (!financialapi_status_.ok()) return financialapi_status_; \
  } while (0)

#define FINANCIALAPI_CONCAT_INNER(a, b) a##b
#define FINANCIALAPI_CONCAT(a, b) FINANCIALAPI_CONCAT_INNER(a, b)
// `FINANCIALAPI_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a StatusOr or returns its Status.
#define FINANCIALAPI_ASSIGN_OR_RETURN(lhs, expr)                                              \
  auto FINANCIALAPI_CONCAT(financialapi_or_, __LINE__) = (expr);                              \
  if (!FINANCIALAPI_CONCAT(financialapi_or_, __LINE__).ok())                                   \
    return FINANCIALAPI_CONCAT(financialapi_or_, __LINE__).status();                           \
  lhs = std::move(FINANCIALAPI_CONCAT(financialapi_or_, __LINE__)).value()
