// The real node of the local cluster (hack/local-cluster --real-node): pods run in containerd on a real
// kubelet, kube-proxy answers Services from the host and from pods, CoreDNS resolves cluster names, and
// nothing but the host is reachable from the node's network namespace.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "real/real_fixture.h"

namespace financialapi::real {
namespace {

using namespace std::chrono_literals;

const kube::ResourceType kNetworkPolicies{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true};

// Sends PING to a Redis at ip:port over plain TCP and returns what came back ("" when nothing did).
std::string RedisPing(const std::string& ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval timeout{.tv_sec = 3, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    constexpr char kPing[] = "PING\r\n";
    if (::send(fd, kPing, sizeof(kPing) - 1, 0) > 0) {
      char buffer[64];
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n > 0) reply.assign(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

class RealNodeTest : public RealNodeFixture {
 protected:
  // A Redis pod (the Redis image built here) on the real node, with a Service in front of it.
  void StartRedis(const std::string& name) {
    Json container = {{"name", "redis"},
                      {"image", Image("REDIS_IMAGE")},
                      {"imagePullPolicy", "Never"},
                      {"command", Json::array({"redis-server", "--port", "6379", "--save", "", "--appendonly", "no", "--protected-mode", "no"})},
                      {"ports", Json::array({{{"name", "redis"}, {"containerPort", 6379}}})},
                      {"readinessProbe", {{"tcpSocket", {{"port", "redis"}}}, {"periodSeconds", 1}}}};
    CreatePod(name, {{"app", name}}, container);
    Json service = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", name}, {"namespace", ns()}}},
                    {"spec", {{"selector", {{"app", name}}}, {"ports", Json::array({{{"port", 6379}, {"targetPort", "redis"}}})}}}};
    auto created = client_->Create(kube::resources::kServices, service);
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_TRUE(WaitForPodReady(name)) << Describe(name);
  }

  // A pod with redis-cli that idles, for `kubectl exec` to connect from.
  void StartClient(const std::string& name) {
    Json container = {{"name", "client"},
                      {"image", Image("REDIS_IMAGE")},
                      {"imagePullPolicy", "Never"},
                      {"command", Json::array({"sleep", "3600"})}};
    CreatePod(name, {{"app", name}}, container);
    ASSERT_TRUE(WaitForPodRunning(name)) << Describe(name);
  }
};

TEST_F(RealNodeTest, PodRunsInContainerdAndKubectlLogsAndExecReachIt) {
  ASSERT_NO_FATAL_FAILURE(StartRedis("cache"));
  auto pod = client_->Get(kube::resources::kPods, ns(), "cache");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)["spec"]["nodeName"], node_.at("REAL_NODE_NAME"));
  // A real container has a container ID from containerd and an address from the node's pod range.
  const std::string container_id = (*pod)["status"]["containerStatuses"][0].value("containerID", "");
  EXPECT_TRUE(container_id.starts_with("containerd://")) << container_id;
  const std::string pod_ip = (*pod)["status"].value("podIP", "");
  const std::string pod_range = node_.at("REAL_NODE_POD_CIDR");
  EXPECT_TRUE(pod_ip.starts_with(pod_range.substr(0, pod_range.rfind('.') + 1))) << pod_ip << " not in " << pod_range;

  std::string logs;
  EXPECT_TRUE(testing::WaitFor([&] {
    logs = testing::Kubectl("logs -n " + ns() + " cache").second;
    return logs.find("Ready to accept connections") != std::string::npos;
  }, 30s)) << logs;
  const auto [code, output] = testing::Kubectl("exec -n " + ns() + " cache -- redis-cli ping");
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "PONG\n");
}

TEST_F(RealNodeTest, ServiceAnswersFromTheHostAndFromAPodByItsDnsName) {
  ASSERT_NO_FATAL_FAILURE(StartRedis("cache"));
  auto service = client_->Get(kube::resources::kServices, ns(), "cache");
  ASSERT_TRUE(service.ok()) << service.status();
  const std::string cluster_ip = (*service)["spec"].value("clusterIP", "");
  // kube-proxy programs the Service once it sees the ready endpoint: wait for the answer, not the rule.
  std::string reply;
  EXPECT_TRUE(testing::WaitFor([&] { return (reply = RedisPing(cluster_ip, 6379)) == "+PONG\r\n"; }, 60s, 500ms))
      << "from the host to " << cluster_ip << ":6379: '" << reply << "'";

  ASSERT_NO_FATAL_FAILURE(StartClient("client"));
  const std::string name = "cache." + ns() + ".svc.cluster.local";
  std::pair<int, std::string> result;
  EXPECT_TRUE(testing::WaitFor([&] {
    result = testing::Kubectl("exec -n " + ns() + " client -- redis-cli -h " + name + " ping");
    return result.first == 0 && result.second == "PONG\n";
  }, 60s, 1s)) << "from a pod to " << name << ": " << result.second;
}

TEST_F(RealNodeTest, NetworkPolicyIsEnforcedByTheEngine) {
  ASSERT_NO_FATAL_FAILURE(StartRedis("cache"));
  ASSERT_NO_FATAL_FAILURE(StartClient("client"));
  auto ping = [&] { return testing::Kubectl("exec -n " + ns() + " client -- timeout 3 redis-cli -h cache ping"); };
  std::pair<int, std::string> result;
  ASSERT_TRUE(testing::WaitFor([&] { return (result = ping()).second == "PONG\n"; }, 60s, 1s)) << result.second;

  Json policy = {{"apiVersion", "networking.k8s.io/v1"},
                 {"kind", "NetworkPolicy"},
                 {"metadata", {{"name", "cache-from-api-only"}, {"namespace", ns()}}},
                 {"spec", {{"podSelector", {{"matchLabels", {{"app", "cache"}}}}},
                           {"policyTypes", Json::array({"Ingress"})},
                           {"ingress", Json::array({{{"from", Json::array({{{"podSelector", {{"matchLabels", {{"role", "api"}}}}}}})},
                                                     {"ports", Json::array({{{"port", 6379}}})}}})}}}};
  auto created = client_->Create(kNetworkPolicies, policy);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(testing::WaitFor([&] { return (result = ping()).first != 0; }, 30s, 1s))
      << "a pod the policy does not admit still reached Redis: " << result.second;

  ASSERT_EQ(testing::Kubectl("label pod -n " + ns() + " client role=api").first, 0);
  EXPECT_TRUE(testing::WaitFor([&] { return (result = ping()).second == "PONG\n"; }, 30s, 1s))
      << "a pod the policy admits cannot reach Redis: " << result.second;
}

TEST_F(RealNodeTest, TheNodesNetworkHasNoRouteButToTheHost) {
  // Asked of the routing table only: no packet is sent. The node's namespace knows its veth subnet and
  // its pods' bridge, nothing else, so a pod or Service address can never take a way out.
  std::string output;
  const int code = testing::RunShell("ip netns exec " + node_.at("REAL_NODE_NETNS") + " ip route get 203.0.113.7", &output);
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find("unreachable"), std::string::npos) << output;
  EXPECT_EQ(testing::RunShell("ip netns exec " + node_.at("REAL_NODE_NETNS") + " ip route get " + node_.at("REAL_NODE_HOST_IP")), 0);
}

}  // namespace
}  // namespace financialapi::real
