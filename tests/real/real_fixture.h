// Fixture of the real-pod tests: the shared local cluster's real node (environment.real-node.up), one
// namespace per test, and the images hack/build-images.sh built for it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "financialapi/kube/client.h"
#include "support/test_environment.h"

namespace financialapi::real {

using kube::Json;

// An image reference from `hack/build-images.sh --print-env` (e.g. "REDIS_IMAGE"); fails the test when
// it is absent.
std::string Image(const std::string& variable);

// What places a pod on the real node (tainted and labelled `taint_key`=true).
Json RealNodePlacement(const std::string& taint_key);

// examples/financialapi.yaml (the production example) through examples/overlays/real-node.yaml, with
// the images built here filled in: what `make run` applies.
Json ProductionExampleOnTheRealNode();

class RealNodeFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& ns() const { return namespace_->name(); }

  // Creates a pod with one container on the real node.
  void CreatePod(const std::string& name, const Json& labels, const Json& container);
  bool WaitForPodReady(const std::string& name, std::chrono::seconds timeout = std::chrono::seconds(120));
  bool WaitForPodRunning(const std::string& name, std::chrono::seconds timeout = std::chrono::seconds(120));
  // `kubectl describe pod` and the pod's logs, for failure messages.
  std::string Describe(const std::string& name) const;

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<testing::ScopedNamespace> namespace_;
  std::map<std::string, std::string> node_;  // real-node.env
};

}  // namespace financialapi::real
