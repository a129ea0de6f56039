// A process running the sample controller with leader election, for the two-process leader election
// test. Prints "reconciled <key>" for every write, so the test can tell who reconciled.
//   mirror-controller KUBECONFIG NAMESPACE IDENTITY LEASE_MS RENEW_MS RETRY_MS HEALTH_PORT
#include <cstdio>
#include <cstdlib>

#include "financialapi/common/logging.h"
#include "financialapi/runtime/manager.h"
#include "financialapi/runtime/signals.h"
#include "sample/configmap_mirror.h"

int main(int argc, char** argv) {
  using namespace financialapi;
  if (argc != 8) {
    std::fprintf(stderr, "usage: mirror-controller KUBECONFIG NAMESPACE IDENTITY LEASE_MS RENEW_MS RETRY_MS HEALTH_PORT\n");
    return 2;
  }
  runtime::BlockTerminationSignals();
  // The operator's text format (UTC time stamps): the stalled-leader test compares them with the lease's.
  ConfigureLogging(LogFormat::kText, LogLevel::kInfo);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string ns = argv[2];
  const std::string identity = argv[3];

  auto config = kube::LoadKubeconfig({.path = std::string(argv[1])});
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 1;
  }
  auto metrics = std::make_shared<runtime::RuntimeMetrics>();
  auto client = kube::Client::Create(*config, {.on_request = runtime::Manager::ClientRequestRecorder(metrics)});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  runtime::ManagerOptions options;
  options.identity = identity;
  options.metrics_address = "";
  options.health_address = std::string("127.0.0.1:") + argv[7];
  options.leader_election = true;
  options.leader_election_options = {.lease_namespace = ns, .lease_name = "mirror-leader", .identity = identity,
                                     .lease_duration = std::chrono::milliseconds(std::atol(argv[4])),
                                     .renew_deadline = std::chrono::milliseconds(std::atol(argv[5])),
                                     .retry_period = std::chrono::milliseconds(std::atol(argv[6]))};
  runtime::Manager manager(**client, options, metrics);
  sample::ConfigMapMirror mirror(**client, &manager.events());
  mirror.set_on_write([&identity](const std::string& key) { std::printf("reconciled %s by %s\n", key.c_str(), identity.c_str()); });
  auto& controller = manager.AddController(sample::ConfigMapMirror::Options({ns}), mirror);
  mirror.set_controller(&controller);

  runtime::OnTerminationSignal([&manager] { manager.RequestStop(); });
  const Status status = manager.Run();
  std::printf("stopped: %s\n", status.ToString().c_str());
  if (status.reason() == runtime::kReasonLeaseLost) {
    std::fflush(nullptr);
    std::_Exit(1);  // as the operator does: no destructor waits for a reconcile after the lease is gone
  }
  return status.ok() ? 0 : 1;
}
