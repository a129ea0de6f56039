#include "e2e/operator_fixture.h"

namespace financialapi::e2e {

void OperatorTest::SetUp() {
  client_ = testing::AdminClient();
  ASSERT_NE(client_, nullptr);
  namespace_ = std::make_unique<testing::ScopedNamespace>(*client_, "e2e", /*wait_for_service_account=*/true);
}

void OperatorTest::TearDown() {
  if (::testing::Test::HasFailure() && operator_) {
    std::cerr << "--- operator log (last 6000 bytes) ---\n";
    const std::string log = operator_->Log();
    std::cerr << log.substr(log.size() > 6000 ? log.size() - 6000 : 0) << "\n";
  }
  StopOperator();
  namespace_.reset();
}

void OperatorTest::StartOperator(const std::string& watch_namespace, int resync_seconds) {
  metrics_port_ = testing::FreePort();
  std::vector<std::string> args = {"--kubeconfig", testing::ClusterKubeconfigPath(),
                                   "--metrics-bind-address", "127.0.0.1:" + std::to_string(metrics_port_),
                                   "--health-probe-bind-address", "127.0.0.1:" + std::to_string(testing::FreePort()),
                                   "--resync-period", std::to_string(resync_seconds), "--log-level", "debug"};
  const std::string scope = watch_namespace.empty() ? ns() : watch_namespace;
  if (scope != "*") {
    args.push_back("--watch-namespace");
    args.push_back(scope);
  }
  operator_ = std::make_unique<testing::ChildProcess>(OPERATOR_PATH, args, "operator");
}

void OperatorTest::StopOperator() {
  if (!operator_) return;
  operator_->Signal(SIGTERM);
  EXPECT_EQ(operator_->WaitForExit(30s), 0) << "the operator did not stop cleanly:\n" << operator_->Log();
  operator_.reset();
}

Json OperatorTest::Example(const std::string& file) const {
  Json object = testing::LoadYamlFile(testing::SourcePath("examples/" + file)).at(0);
  object["metadata"]["namespace"] = ns();
  CreateExampleSecrets(object, ns());
  return object;
}

void OperatorTest::CreateExampleSecrets(const Json& example, const std::string& in_ns) const {
  const std::string name = example.value("/spec/api/apiKeysSecretRef/name"_json_pointer, "");
  if (name.empty() || client_->Get(kube::resources::kSecrets, in_ns, name).ok()) return;
  auto created = client_->Create(kube::resources::kSecrets, {{"apiVersion", "v1"}, {"kind", "Secret"},
                                                            {"metadata", {{"name", name}, {"namespace", in_ns}}},
                                                            {"stringData", {{"keys", "e2e-key\n"}}}});
  EXPECT_TRUE(created.ok()) << created.status();
}

Json OperatorTest::Apply(const Json& financialapi) {
  auto applied = client_->Apply(platform::kFinancialApis, financialapi, {.field_manager = "e2e", .force = true});
  EXPECT_TRUE(applied.ok()) << applied.status();
  return applied.ok() ? *applied : Json();
}

Json OperatorTest::Get(const std::string& name) {
  auto object = client_->Get(platform::kFinancialApis, ns(), name);
  return object.ok() ? *object : Json();
}

std::int64_t OperatorTest::PatchSpec(const std::string& name, const Json& spec_patch) {
  auto patched = client_->MergePatch(platform::kFinancialApis, ns(), name, {{"spec", spec_patch}});
  EXPECT_TRUE(patched.ok()) << patched.status();
  return patched.ok() ? patched->value("/metadata/generation"_json_pointer, std::int64_t{0}) : -1;
}

bool OperatorTest::WaitForPhase(const std::string& name, const std::string& phase, std::chrono::seconds timeout) {
  return testing::WaitFor([&] {
    const Json object = Get(name);
    return object.value("/status/phase"_json_pointer, "") == phase &&
           object.value("/status/observedGeneration"_json_pointer, std::int64_t{-1}) ==
               object.value("/metadata/generation"_json_pointer, std::int64_t{0});
  }, timeout, 500ms);
}

std::map<std::string, std::string> OperatorTest::Children(const std::string& name, const std::string& in_ns, bool identity) {
  std::map<std::string, std::string> out;
  const std::string selector = std::string(platform::kInstanceLabel) + "=" + name + "," + platform::kManagedByLabel + "=" +
                               platform::kManagedBy;
  for (const kube::ResourceType* kind : platform::ChildKinds()) {
    auto list = client_->List(*kind, in_ns.empty() ? ns() : in_ns, {.label_selector = selector});
    if (!list.ok()) continue;  // monitoring kinds are absent without their CRDs
    for (const auto& item : (*list)["items"]) {
      // StatefulSet volume claims carry the labels too but are not the operator's children.
      if (item.value("/metadata/ownerReferences"_json_pointer, Json::array()).empty()) continue;
      out[kind->kind + "/" + item["metadata"]["name"].get<std::string>()] =
          identity ? item["metadata"]["uid"].get<std::string>() + " " + std::to_string(item["metadata"].value("generation", 0))
                   : item["metadata"]["resourceVersion"].get<std::string>();
    }
  }
  return out;
}

std::string OperatorTest::Condition(const Json& object, const std::string& type, const std::string& field) {
  for (const auto& condition : object.value("/status/conditions"_json_pointer, Json::array())) {
    if (condition.value("type", "") == type) return condition.value(field, "");
  }
  return "";
}

}  // namespace financialapi::e2e
