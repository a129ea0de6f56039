#include "financialapi/kube/errors.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "financialapi/kube/client.h"
#include "financialapi/kube/resource.h"

namespace financialapi::kube {
namespace {

TEST(ApiErrorTest, MapsStatusReasonsToCodes) {
  const std::string not_found = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"configmaps \"x\" not found","reason":"NotFound","code":404})";
  const Status status = StatusFromApiResponse(404, not_found, "GET /api/v1/namespaces/a/configmaps/x");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("configmaps \"x\" not found"), std::string::npos);
  EXPECT_NE(status.message().find("GET /api/v1/namespaces/a/configmaps/x"), std::string::npos);

  EXPECT_EQ(StatusFromApiResponse(409, R"({"kind":"Status","reason":"AlreadyExists"})", "").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromApiResponse(409, R"({"kind":"Status","reason":"Conflict"})", "").code(), StatusCode::kConflict);
  EXPECT_EQ(StatusFromApiResponse(410, R"({"kind":"Status","reason":"Expired"})", "").code(), StatusCode::kGone);
  EXPECT_EQ(StatusFromApiResponse(403, "forbidden", "").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromApiResponse(401, "", "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusFromApiResponse(429, "", "").code(), StatusCode::kTooManyRequests);
  EXPECT_EQ(StatusFromApiResponse(503, "", "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromApiResponse(500, R"({"kind":"Status","reason":"Timeout"})", "").code(), StatusCode::kTimeout);
  EXPECT_EQ(StatusFromApiResponse(500, "boom", "").code(), StatusCode::kInternal);
}

TEST(ApiErrorTest, TheKubernetesReasonIsCarriedForCallersToBranchOn) {
  EXPECT_EQ(StatusFromApiResponse(409, R"({"kind":"Status","reason":"AlreadyExists"})", "").reason(), "AlreadyExists");
  EXPECT_EQ(StatusFromApiResponse(422, R"({"kind":"Status","reason":"Invalid"})", "").reason(), "Invalid");
  EXPECT_EQ(StatusFromApiResponse(404, R"({"kind":"Status","reason":"NotFound"})", "")
                .WithContext("reading the lease").reason(),
            "NotFound")
      << "context must not lose the reason";
  EXPECT_EQ(StatusFromApiResponse(502, "<html>bad gateway</html>", "").reason(), "") << "no Status body, no reason";
  // A message that merely mentions the cause is not the cause.
  const Status mentions = StatusFromApiResponse(
      403, R"json({"kind":"Status","reason":"Forbidden","message":"user cannot create (NamespaceTerminating)"})json", "");
  EXPECT_FALSE(IsNamespaceTerminating(mentions)) << mentions;
}

TEST(ApiErrorTest, InvalidListsFieldCauses) {
  const std::string invalid = R"({"kind":"Status","reason":"Invalid","code":422,
    "message":"Deployment.apps \"bad\" is invalid",
    "details":{"causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]}})";
  const Status status = StatusFromApiResponse(422, invalid, "PATCH x");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("spec.replicas: Invalid value: -1"), std::string::npos) << status;
}

TEST(ApiErrorTest, ACreateInATerminatingNamespaceIsAFailedPreconditionNotAMissingPermission) {
  // The body kube-apiserver v1.34 sends (captured from the local control plane).
  const std::string terminating = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"configmaps \"x\" is forbidden: unable to create new content in namespace p because it is being terminated",
    "reason":"Forbidden","details":{"name":"x","kind":"configmaps","causes":[{"reason":"NamespaceTerminating",
    "message":"namespace p is being terminated","field":"metadata.namespace"}]},"code":403})";
  const Status status = StatusFromApiResponse(403, terminating, "PATCH x");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(IsNamespaceTerminating(status)) << status;
  EXPECT_NE(status.message().find("because it is being terminated"), std::string::npos) << status;

  const Status denied = StatusFromApiResponse(
      403, R"({"kind":"Status","reason":"Forbidden","message":"configmaps is forbidden: User \"x\" cannot create"})", "");
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(IsNamespaceTerminating(denied));
  EXPECT_FALSE(IsNamespaceTerminating(FailedPrecondition("the namespace is fine")));
}

// A Status whose members are not the types the API server sends (found by the watch_stream fuzz target
// in an ERROR event: "kind": 410) is still an error value, never nlohmann's type_error.
TEST(ApiErrorTest, AStatusBodyOfTheWrongShapeIsStillAnErrorValue) {
  for (const std::string body : {R"({"kind":410,"code":410})", R"({"kind":"Status","reason":7,"message":["x"]})",
                                 R"({"kind":"Status","details":{"causes":[{"reason":1,"field":2,"message":3}]}})",
                                 R"({"kind":"Status","details":{"causes":"not a list"}})"}) {
    Status status;
    EXPECT_NO_THROW(status = StatusFromApiResponse(410, body, "WATCH configmaps")) << body;
    EXPECT_FALSE(status.ok()) << body;
    EXPECT_NE(status.message().find("HTTP 410"), std::string::npos) << status;
  }
}

TEST(ApiErrorTest, TransientCodesAreRetryable) {
  EXPECT_TRUE(IsTransient(Unavailable("x")));
  EXPECT_TRUE(IsTransient(Timeout("x")));
  EXPECT_TRUE(IsTransient(Status(StatusCode::kTooManyRequests, "x")));
  EXPECT_FALSE(IsTransient(NotFound("x")));
  EXPECT_FALSE(IsTransient(Status(StatusCode::kConflict, "x")));
}

TEST(ResourceTypeTest, BuildsCorePathsAndGroupPaths) {
  EXPECT_EQ(resources::kPods.CollectionPath("ns"), "/api/v1/namespaces/ns/pods");
  EXPECT_EQ(resources::kPods.CollectionPath(""), "/api/v1/pods");
  EXPECT_EQ(resources::kDeployments.ItemPath("ns", "web"), "/apis/apps/v1/namespaces/ns/deployments/web");
  EXPECT_EQ(resources::kNodes.ItemPath("ignored", "n1"), "/api/v1/nodes/n1");
  EXPECT_EQ(resources::kDeployments.ApiVersion(), "apps/v1");
  EXPECT_EQ(resources::kConfigMaps.ApiVersion(), "v1");
}

TEST(ClientTest, EncodesQueryValues) {
  EXPECT_EQ(EncodeQueryValue("app=web,tier in (a,b)"), "app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
  EXPECT_EQ(EncodeQueryValue("financialapi-operator"), "financialapi-operator");
}

TEST(ClientTest, CreateRejectsUnusableConfig) {
  auto no_server = Client::Create(ClusterConfig{});
  ASSERT_FALSE(no_server.ok());
  EXPECT_EQ(no_server.status().code(), StatusCode::kInvalidArgument);

  ClusterConfig half_cert;
  half_cert.server = "https://127.0.0.1:1";
  half_cert.client_certificate_pem = "CERT";
  EXPECT_FALSE(Client::Create(half_cert).ok());

  ClusterConfig bad_pem;
  bad_pem.server = "https://127.0.0.1:1";
  bad_pem.certificate_authority_pem = "not a certificate";
  auto bad = Client::Create(bad_pem);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("TLS material"), std::string::npos) << bad.status();
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  ClusterConfig config;
  config.server = "http://127.0.0.1:1";
  auto client = Client::Create(config, {.request_timeout = std::chrono::seconds(5)});
  ASSERT_TRUE(client.ok()) << client.status();
  auto answer = (*client)->Request({.path_and_query = "/version"});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable) << answer.status();
  // The POST retry decision reads this reason, not the message text.
  EXPECT_EQ(answer.status().reason(), kReasonConnectFailed) << answer.status();
}

}  // namespace
}  // namespace financialapi::kube

namespace financialapi::kube {
namespace {

TEST(CancellationTest, UnregisterWaitsForACallbackRunningOnAnotherThread) {
  Cancellation cancellation;
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  const int id = cancellation.OnCancel([&] {
    started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finished = true;
  });
  std::thread canceller([&] { cancellation.Cancel(); });
  while (!started) std::this_thread::yield();
  cancellation.Unregister(id);
  EXPECT_TRUE(finished.load()) << "Unregister returned while the callback still ran";
  canceller.join();
  EXPECT_TRUE(cancellation.IsCancelled());

  bool ran_at_once = false;
  cancellation.Unregister(cancellation.OnCancel([&] { ran_at_once = true; }));
  EXPECT_TRUE(ran_at_once) << "registering after Cancel runs the callback immediately";
}

}  // namespace
}  // namespace financialapi::kube
