#include "sample/configmap_mirror.h"

namespace financialapi::sample {

using kube::Json;

runtime::ControllerOptions ConfigMapMirror::Options(const std::vector<std::string>& namespaces) {
  runtime::ControllerOptions options;
  options.name = "configmap-mirror";
  options.primary = kube::resources::kConfigMaps;
  options.primary_label_selector = std::string(kMirrorLabel) + "=source";
  options.owned = {{kube::resources::kConfigMaps, std::string(kMirrorLabel) + "=copy"}};
  options.namespaces = namespaces;
  options.workers = 2;
  return options;
}

StatusOr<runtime::Action> ConfigMapMirror::Reconcile(const runtime::Request& request,
                                                     const runtime::ReconcileContext& context) {
  if (controller_ == nullptr) return FailedPrecondition("mirror reconciler has no controller");
  const runtime::ObjectPtr source = controller_->PrimaryCache().Get(request.Key());
  if (source == nullptr) return runtime::Action::AwaitChange();  // gone: the GC removes the copy

  const std::string copy_name = request.name + "-mirror";
  const Json data = source->value("data", Json::object());
  const Json desired = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"},
      {"metadata", {{"name", copy_name}, {"namespace", request.ns},
                    {"labels", {{kMirrorLabel, "copy"}}},
                    {"ownerReferences", Json::array({{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                                      {"name", request.name}, {"uid", (*source)["metadata"]["uid"]},
                                                      {"controller", true}, {"blockOwnerDeletion", true}}})}}},
      {"data", data}};

  // Level-based and write-free at steady state: compare with the cached copy first.
  const runtime::Store* copies = controller_->OwnedCache(kube::resources::kConfigMaps);
  if (copies != nullptr) {
    const runtime::ObjectPtr current = copies->Get(runtime::ObjectKey(request.ns, copy_name));
    if (current != nullptr && current->value("data", Json::object()) == data &&
        current->value("/metadata/ownerReferences"_json_pointer, Json::array()) == desired["metadata"]["ownerReferences"]) {
      return runtime::Action::AwaitChange();
    }
  }
  auto applied = client_.Apply(kube::resources::kConfigMaps, desired, {.field_manager = "configmap-mirror", .force = true});
  if (!applied.ok()) return applied.status();
  context.log.Info("mirrored", {{"copy", copy_name}});
  if (events_ != nullptr) {
    if (Status recorded = events_->Record(*source, runtime::EventType::kNormal, "Mirrored", "copied to " + copy_name);
        !recorded.ok()) {
      context.log.Warn("could not record event", {{"error", recorded.ToString()}});
    }
  }
  if (on_write_) on_write_(request.Key());
  return runtime::Action::AwaitChange();
}

}  // namespace financialapi::sample
