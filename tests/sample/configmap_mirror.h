// The sample controller that proves the runtime end to end: every ConfigMap labelled
// financialapi.dev/mirror=source gets a copy "<name>-mirror" (labelled mirror=copy) that it owns as
// controller. Deleting the copy brings it back; deleting the source lets the garbage collector take
// the copy.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "financialapi/runtime/controller.h"
#include "financialapi/runtime/events.h"

namespace financialapi::sample {

inline constexpr char kMirrorLabel[] = "financialapi.dev/mirror";

class ConfigMapMirror final : public runtime::Reconciler {
 public:
  ConfigMapMirror(kube::Client& client, runtime::EventRecorder* events) : client_(client), events_(events) {}

  // The controller options for `namespaces` (empty: all; only the labelled ConfigMaps are cached).
  static runtime::ControllerOptions Options(const std::vector<std::string>& namespaces);

  void set_controller(const runtime::Controller* controller) { controller_ = controller; }
  // Called after every reconcile that wrote the copy (tests count writes, the probe logs them).
  void set_on_write(std::function<void(const std::string& key)> on_write) { on_write_ = std::move(on_write); }

  StatusOr<runtime::Action> Reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) override;

 private:
  kube::Client& client_;
  runtime::EventRecorder* events_;
  const runtime::Controller* controller_ = nullptr;
  std::function<void(const std::string&)> on_write_;
};

}  // namespace financialapi::sample
