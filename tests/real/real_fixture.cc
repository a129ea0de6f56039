#include "real/real_fixture.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>

#include "financialapi/common/file.h"
#include "support/yaml_json.h"

namespace financialapi::real {
namespace {

std::map<std::string, std::string> LoadImages() {
  std::string output;
  if (testing::RunShell(std::string(FINANCIALAPI_SOURCE_DIR) + "/hack/build-images.sh --print-env", &output) != 0) return {};
  return testing::ParseEnvLines(output);
}

bool PodCondition(const Json& pod, const std::string& type) {
  for (const auto& condition : pod["status"].value("conditions", Json::array())) {
    if (condition.value("type", "") == type) return condition.value("status", "") == "True";
  }
  return false;
}

}  // namespace

std::string Image(const std::string& variable) {
  static std::once_flag once;
  static std::map<std::string, std::string> images;
  std::call_once(once, [] { images = LoadImages(); });
  const auto found = images.find(variable);
  if (found == images.end()) {
    ADD_FAILURE() << variable << " is not in `hack/build-images.sh --print-env` (images not built?)";
    return "";
  }
  return found->second;
}

void RealNodeFixture::SetUp() {
  client_ = testing::AdminClient();
  ASSERT_NE(client_, nullptr);
  node_ = testing::RealNodeEnvironment();
  ASSERT_FALSE(node_.empty()) << "the cluster has no real node (environment.real-node.up did not run)";
  namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "real", /*wait_for_service_account=*/true);
}

void RealNodeFixture::TearDown() { namespace_.reset(); }

Json RealNodePlacement(const std::string& taint_key) {
  return {{"nodeSelector", {{taint_key, "true"}}},
          {"tolerations", Json::array({{{"key", taint_key}, {"operator", "Equal"}, {"value", "true"}, {"effect", "NoSchedule"}}})}};
}

Json ProductionExampleOnTheRealNode() {
  auto overlay_text = ReadFile(testing::SourcePath("examples/overlays/real-node.yaml"));
  if (!overlay_text.ok()) {
    ADD_FAILURE() << overlay_text.status();
    return Json();
  }
  std::string rendered = *overlay_text;
  for (const char* variable : {"API_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "PGBOUNCER_IMAGE"}) {
    const std::string placeholder = std::string("${") + variable + "}";
    for (auto at = rendered.find(placeholder); at != std::string::npos; at = rendered.find(placeholder)) {
      rendered.replace(at, placeholder.size(), Image(variable));
    }
  }
  const std::string path = testing::StateDir() + "/real-node-overlay-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << rendered;
  Json example = testing::LoadYamlFile(testing::SourcePath("examples/financialapi.yaml")).at(0);
  example.merge_patch(testing::LoadYamlFile(path).at(0));
  std::remove(path.c_str());
  return example;
}

void RealNodeFixture::CreatePod(const std::string& name, const Json& labels, const Json& container) {
  Json spec = RealNodePlacement(node_.at("REAL_NODE_TAINT_KEY"));
  spec["containers"] = Json::array({container});
  spec["terminationGracePeriodSeconds"] = 2;
  spec["enableServiceLinks"] = false;
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", ns()}, {"labels", labels}}},
              {"spec", spec}};
  auto created = client_->Create(kube::resources::kPods, pod);
  ASSERT_TRUE(created.ok()) << created.status();
}

bool RealNodeFixture::WaitForPodReady(const std::string& name, std::chrono::seconds timeout) {
  return testing::WaitFor([&] {
    auto pod = client_->Get(kube::resources::kPods, ns(), name);
    return pod.ok() && PodCondition(*pod, "Ready");
  }, timeout, std::chrono::milliseconds(500));
}

bool RealNodeFixture::WaitForPodRunning(const std::string& name, std::chrono::seconds timeout) {
  return testing::WaitFor([&] {
    auto pod = client_->Get(kube::resources::kPods, ns(), name);
    return pod.ok() && (*pod)["status"].value("phase", "") == "Running";
  }, timeout, std::chrono::milliseconds(500));
}

std::string RealNodeFixture::Describe(const std::string& name) const {
  return testing::Kubectl("describe pod -n " + ns() + " " + name).second + "\n--- logs:\n" +
         testing::Kubectl("logs -n " + ns() + " " + name + " --all-containers --tail 50").second;
}

}  // namespace financialapi::real
