// End-to-end tests with one operator for every namespace, or with cluster-wide changes (CRDs): they
// run alone (RUN_SERIAL) so no other test's operator sees their namespaces or CRDs.
#include "e2e/operator_fixture.h"

namespace financialapi::e2e {
namespace {

namespace core = kube::resources;

TEST_F(OperatorTest, TwoFinancialApisInTwoNamespacesDoNotTouchEachOther) {
  testing::ScopedNamespace other(*client_, "e2e-other", /*wait_for_service_account=*/true);
  StartOperator("*");
  const Json first = Apply(Example());
  Json second_object = Example();
  second_object["metadata"]["namespace"] = other.name();
  CreateExampleSecrets(second_object, other.name());
  auto second = client_->Apply(platform::kFinancialApis, second_object, {.field_manager = "e2e"});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(WaitForPhase("prod", "Ready")) << Get("prod").dump(2);
  ASSERT_TRUE(testing::WaitFor([&] {
    auto object = client_->Get(platform::kFinancialApis, other.name(), "prod");
    return object.ok() && object->value("/status/phase"_json_pointer, "") == "Ready";
  }, kReadyTimeout));

  for (const auto& [ns, uid] : {std::pair{ns(), first["metadata"]["uid"].get<std::string>()},
                                std::pair{other.name(), (*second)["metadata"]["uid"].get<std::string>()}}) {
    auto deployment = client_->Get(core::kDeployments, ns, "prod-api");
    ASSERT_TRUE(deployment.ok());
    EXPECT_EQ((*deployment)["metadata"]["ownerReferences"][0]["uid"], uid) << ns;
  }
  const auto others_children = Children("prod", other.name(), /*identity=*/true);
  ASSERT_FALSE(others_children.empty());

  ASSERT_TRUE(client_->Delete(platform::kFinancialApis, ns(), "prod", {.propagation = kube::PropagationPolicy::kBackground}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return Children("prod").empty(); }, 120s, 1s));
  EXPECT_EQ(Children("prod", other.name(), /*identity=*/true), others_children)
      << "deleting one platform replaced or rewrote the other's children";
  auto still = client_->Get(platform::kFinancialApis, other.name(), "prod");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->value("/status/phase"_json_pointer, ""), "Ready");
}

TEST_F(OperatorTest, MonitoringObjectsAppearWhenThePrometheusOperatorCrdsExist) {
  const kube::ResourceType crds = kube::resources::kCustomResourceDefinitions;
  for (const Json& crd : testing::LoadYamlFile(testing::SourcePath("tests/e2e/monitoring-crds.yaml"))) {
    ASSERT_TRUE(client_->Apply(crds, crd, {.field_manager = "e2e", .force = true}).ok());
  }
  ASSERT_TRUE(testing::WaitFor([&] {
    auto found = client_->Discover("monitoring.coreos.com", "v1", "PrometheusRule");
    return found.ok() && found->has_value();
  }, 30s));
  StartOperator();
  Apply(Example());
  ASSERT_TRUE(WaitForPhase("prod", "Ready")) << Get("prod").dump(2);
  EXPECT_EQ(Condition(Get("prod"), "MonitoringAvailable", "status"), "True");
  auto monitor = client_->Get(platform::resources::kServiceMonitors, ns(), "prod-api");
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  EXPECT_EQ((*monitor)["spec"]["endpoints"][0]["path"], "/metrics");
  auto rule = client_->Get(platform::resources::kPrometheusRules, ns(), "prod-api");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_NE((*rule)["spec"].dump().find("FinancialApiErrorBudgetFastBurn"), std::string::npos);

  PatchSpec("prod", {{"monitoring", {{"serviceMonitor", false}}}});
  EXPECT_TRUE(testing::WaitFor([&] {
    auto gone = client_->Get(platform::resources::kServiceMonitors, ns(), "prod-api");
    return !gone.ok() && gone.status().code() == StatusCode::kNotFound;
  }, 60s)) << "the ServiceMonitor was not pruned";
  EXPECT_TRUE(client_->Get(platform::resources::kPrometheusRules, ns(), "prod-api").ok());

  StopOperator();
  for (const char* name : {"servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"}) {
    EXPECT_TRUE(client_->Delete(crds, "", name).ok());
  }
}

}  // namespace
}  // namespace financialapi::e2e
