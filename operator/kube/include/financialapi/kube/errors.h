// Turning API server answers and transport failures into Status values.
#pragma once

#include <string>

#include "financialapi/common/status.h"

namespace financialapi::kube {

// Maps a non-2xx answer onto a Status. The API server's own Status body (reason, message, field
// causes) becomes the message: 404 → NotFound, 409 AlreadyExists → AlreadyExists, other 409 →
// Conflict, 410 → Gone, 400/422 → InvalidArgument (causes listed as "field: message"),
// 401 → Unauthenticated, 403 → PermissionDenied, 429 → TooManyRequests, 504 or reason Timeout →
// Timeout, 500 → Internal, 502/503 → Unavailable. `what` names the request ("GET /api/v1/...").
// A 403 whose cause is NamespaceTerminating (a create in a namespace being deleted) is
// FailedPrecondition: no permission is missing and no retry will succeed; see IsNamespaceTerminating.
// The Status's reason() is the answer's `reason` ("AlreadyExists", "Invalid", "Conflict"), or
// "NamespaceTerminating" for that 403; empty when the body was not a Kubernetes Status.
Status StatusFromApiResponse(int http_status, const std::string& body, const std::string& what);

// True when the API server refused a create because the namespace is being deleted.
bool IsNamespaceTerminating(const Status& status);

// True for failures worth retrying with backoff: Unavailable, Timeout, TooManyRequests.
bool IsTransient(const Status& status);

}  // namespace financialapi::kube
