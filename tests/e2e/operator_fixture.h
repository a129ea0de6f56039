// End-to-end fixture: the real operator binary against the local control plane (kwok nodes,
// controller-manager, scheduler), one namespace and one operator process per test.
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "financialapi/kube/client.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/spec.h"
#include "support/child_process.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::e2e {

using kube::Json;
using namespace std::chrono_literals;
inline constexpr auto kReadyTimeout = 180s;

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& ns() const { return namespace_->name(); }

  // Starts the operator watching `watch_namespace` (this test's namespace by default; "*" for all).
  void StartOperator(const std::string& watch_namespace = "", int resync_seconds = 36000);
  void StopOperator();

  // The example file's FinancialApi, in this test's namespace (with the Secrets it names there).
  Json Example(const std::string& file = "financialapi.yaml") const;
  // Creates the Secrets an example names (the API keys Secret of the production example) in `ns`
  // unless they exist.
  void CreateExampleSecrets(const Json& example, const std::string& ns) const;
  Json Apply(const Json& financialapi);
  Json Get(const std::string& name);
  // Merge-patches the spec and returns the new generation.
  std::int64_t PatchSpec(const std::string& name, const Json& spec_patch);
  // Waits for status.phase == phase with observedGeneration == metadata.generation.
  bool WaitForPhase(const std::string& name, const std::string& phase, std::chrono::seconds timeout = kReadyTimeout);
  // Every object the operator manages for `name` in this namespace, as "Kind/name" → resourceVersion
  // (or, with `identity`, "uid generation": what changes only when the object is replaced or its spec
  // written, not when a controller updates its status).
  std::map<std::string, std::string> Children(const std::string& name, const std::string& ns = "", bool identity = false);
  std::string Condition(const Json& object, const std::string& type, const std::string& field);

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
  std::unique_ptr<testing::ChildProcess> operator_;
  int metrics_port_ = 0;
};

}  // namespace financialapi::e2e
