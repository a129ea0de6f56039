#include "financialapi/platform/reconciler.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "components/objects.h"
#include "financialapi/common/base64.h"
#include "financialapi/common/strings.h"
#include "financialapi/common/time_format.h"
#include "financialapi/kube/errors.h"

namespace financialapi::platform {
namespace {

namespace core = kube::resources;
using runtime::Action;

std::string KindName(const kube::ResourceType& type, const std::string& name) { return type.kind + "/" + name; }

// A key of a Secret the user referenced, decoded; the failure names the Secret and the key.
StatusOr<std::string> SecretKey(const Json& secret, const std::string& key) {
  const std::string encoded = secret.value("/data"_json_pointer, Json::object()).value(key, "");
  if (encoded.empty()) {
    return InvalidArgument("Secret " + secret.value("/metadata/name"_json_pointer, "") + " has no key '" + key + "'");
  }
  return Base64Decode(encoded);
}

// The API keys Secret's entry the API pods read: the Secret is mounted whole, so the file name of
// components::kApiKeysFile.
std::string ApiKeysEntry() {
  const std::string file = components::kApiKeysFile;
  return file.substr(file.rfind('/') + 1);
}

// True when the API keys file the API server would read from `keys` (one key a line, blank lines and
// '#' comments skipped) holds at least one key.
bool HoldsAnApiKey(std::string_view keys) {
  for (const std::string_view line : SplitAndTrim(keys, '\n')) {
    if (!line.empty() && line.front() != '#') return true;
  }
  return false;
}

}  // namespace

std::string FirstDifference(const Json& current, const Json& desired, const std::string& path) {
  if (desired.is_object()) {
    if (!current.is_object()) return path.empty() ? "/" : path;
    for (const auto& [key, value] : desired.items()) {
      const auto found = current.find(key);
      if (found == current.end()) return path + "/" + key;
      std::string inner = FirstDifference(*found, value, path + "/" + key);
      if (!inner.empty()) return inner;
    }
    return "";
  }
  if (desired.is_array()) {
    if (!current.is_array() || current.size() != desired.size()) return path.empty() ? "/" : path;
    for (std::size_t i = 0; i < desired.size(); ++i) {
      std::string inner = FirstDifference(current[i], desired[i], path + "/" + std::to_string(i));
      if (!inner.empty()) return inner;
    }
    return "";
  }
  if (desired.is_number() && current.is_number()) return desired.get<double>() == current.get<double>() ? "" : path;
  return current == desired ? "" : (path.empty() ? "/" : path);
}

bool Contains(const Json& current, const Json& desired) { return FirstDifference(current, desired).empty(); }

MonitoringCrds DiscoverMonitoringCrds(kube::Client& client) {
  MonitoringCrds crds;
  auto monitor = client.Discover("monitoring.coreos.com", "v1", "ServiceMonitor");
  crds.service_monitor = monitor.ok() && monitor->has_value();
  auto rule = client.Discover("monitoring.coreos.com", "v1", "PrometheusRule");
  crds.prometheus_rule = rule.ok() && rule->has_value();
  return crds;
}

FinancialApiReconciler::FinancialApiReconciler(kube::Client& client, runtime::EventRecorder* events,
                                               MonitoringCrds monitoring)
    : client_(client), events_(events), monitoring_(monitoring) {}

StatusOr<std::vector<std::string>> ParseWatchNamespaces(std::string_view text) {
  std::vector<std::string> namespaces;
  if (Trim(text).empty() || Trim(text) == "*") return namespaces;
  for (const std::string_view entry : SplitAndTrim(text, ',')) {
    const std::string name(entry);
    const bool label = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name.front())) &&
                       std::isalnum(static_cast<unsigned char>(name.back())) &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                       });
    if (!label) {
      return InvalidArgument("watch namespace '" + name + "' in '" + std::string(text) +
                             "' is not a namespace name (lowercase letters, digits and '-', at most 63)");
    }
    if (std::find(namespaces.begin(), namespaces.end(), name) == namespaces.end()) namespaces.push_back(name);
  }
  return namespaces;
}

runtime::ControllerOptions FinancialApiReconciler::ControllerOptions(const std::vector<std::string>& watch_namespaces,
                                                                     int workers, const MonitoringCrds& crds) {
  runtime::ControllerOptions options;
  options.name = "financialapi";
  options.primary = kFinancialApis;
  options.namespaces = watch_namespaces;
  options.workers = workers;
  const std::string children = std::string(kManagedByLabel) + "=" + kManagedBy;
  for (const kube::ResourceType* kind : ChildKinds()) {
    if (kind == &resources::kServiceMonitors && !crds.service_monitor) continue;
    if (kind == &resources::kPrometheusRules && !crds.prometheus_rule) continue;
    options.owned.push_back({*kind, children});
  }
  return options;
}

runtime::ObjectPtr FinancialApiReconciler::Cached(const kube::ResourceType& type, const std::string& ns,
                                                  const std::string& name) const {
  const runtime::Store* store = controller_->OwnedCache(type);
  return store == nullptr ? nullptr : store->Get(runtime::ObjectKey(ns, name));
}

void FinancialApiReconciler::Event(const Json& object, runtime::EventType type, const std::string& reason,
                                   const std::string& message, const runtime::ReconcileContext& context) {
  if (events_ == nullptr) return;
  if (Status recorded = events_->Record(object, type, reason, message); !recorded.ok()) {
    context.log.Warn("could not record event", {{"reason", reason}, {"error", recorded.ToString()}});
  }
}

StatusOr<std::string> FinancialApiReconciler::GeneratedSecretValue(const FinancialApi& api, const std::string& name,
                                                                   const std::string& key) {
  // The cache first; on a miss the API server (the cache may lag just after the Secret was created,
  // and generating again would change a password the database already uses).
  runtime::ObjectPtr cached = Cached(core::kSecrets, api.ns, name);
  Json secret;
  if (cached != nullptr) {
    secret = *cached;
  } else {
    auto fetched = client_.Get(core::kSecrets, api.ns, name);
    if (fetched.ok()) {
      secret = std::move(fetched).value();
    } else if (fetched.status().code() != StatusCode::kNotFound) {
      return fetched.status();
    }
  }
  if (!secret.is_null()) {
    auto value = SecretKey(secret, key);
    if (value.ok() && !value->empty()) return value;
  }
  return GeneratePassword();
}

StatusOr<runtime::ObjectPtr> FinancialApiReconciler::ExistingChild(const kube::ResourceType& type, const std::string& ns,
                                                                   const std::string& name, runtime::ObjectPtr cached) {
  if (cached != nullptr) return cached;
  // Not in the cache: not created yet, the cache lagging, or an object without the managed-by label
  // (the caches hold only labelled ones). Only the API server can tell.
  auto fetched = client_.Get(type, ns, name);
  if (fetched.ok()) return std::make_shared<const Json>(std::move(fetched).value());
  if (fetched.status().code() == StatusCode::kNotFound) return runtime::ObjectPtr();
  return fetched.status();
}

StatusOr<Inputs> FinancialApiReconciler::ResolveInputs(const FinancialApi& api, Failure& failure) {
  const FinancialApiSpec& s = api.spec;
  Inputs inputs;
  auto user_secret = [&](const std::string& name, const std::string& purpose) -> std::optional<Json> {
    auto secret = client_.Get(core::kSecrets, api.ns, name);
    if (secret.ok()) return std::move(secret).value();
    if (secret.status().code() == StatusCode::kNotFound) {
      failure = {"SecretNotFound", "Secret " + api.ns + "/" + name + " (" + purpose + ") does not exist"};
    } else {
      failure = {"SecretUnreadable", "Secret " + api.ns + "/" + name + " (" + purpose + "): " + secret.status().message()};
    }
    return std::nullopt;
  };

  if (s.postgres.managed) {
    inputs.postgres_user = s.postgres.user;
    FINANCIALAPI_ASSIGN_OR_RETURN(inputs.postgres_password, GeneratedSecretValue(api, PostgresName(api), "POSTGRES_PASSWORD"));
  } else {
    auto secret = user_secret(s.postgres.external->credentials_secret, "spec.postgres.external.credentialsSecretRef");
    if (!secret) return failure.reason == "SecretNotFound" ? NotFound(failure.message) : Unavailable(failure.message);
    auto user = SecretKey(*secret, "username");
    auto password = SecretKey(*secret, "password");
    if (!user.ok() || !password.ok()) {
      failure = {"InvalidSecret", (!user.ok() ? user.status() : password.status()).message()};
      return InvalidArgument(failure.message);
    }
    const std::string secret_name = "Secret " + api.ns + "/" + s.postgres.external->credentials_secret;
    for (const Status& checked : {CheckCredential(*user, secret_name + " key 'username'"),
                                 CheckCredential(*password, secret_name + " key 'password'")}) {
      if (!checked.ok()) {
        failure = {"InvalidSecret", checked.message()};
        return InvalidArgument(failure.message);
      }
    }
    inputs.postgres_user = *user;
    inputs.postgres_password = *password;
  }
  if (s.redis.managed) {
    FINANCIALAPI_ASSIGN_OR_RETURN(inputs.redis_password, GeneratedSecretValue(api, RedisName(api), "REDIS_PASSWORD"));
  } else if (s.redis.external->password_secret) {
    auto secret = user_secret(*s.redis.external->password_secret, "spec.redis.external.passwordSecretRef");
    if (!secret) return NotFound(failure.message);
    auto password = SecretKey(*secret, "password");
    if (!password.ok()) {
      failure = {"InvalidSecret", password.status().message()};
      return InvalidArgument(failure.message);
    }
    inputs.redis_password = *password;
  }
  if (s.api.api_keys_secret) {
    auto secret = user_secret(*s.api.api_keys_secret, "spec.api.apiKeysSecretRef");
    if (!secret) return NotFound(failure.message);
    // Without the entry the mounted file is missing (or empty) and the API would run without keys:
    // fail closed, before any child (the Deployment) is applied.
    auto keys = SecretKey(*secret, ApiKeysEntry());
    if (!keys.ok() || !HoldsAnApiKey(*keys)) {
      failure = {"InvalidSecret", "Secret " + api.ns + "/" + *s.api.api_keys_secret + " (spec.api.apiKeysSecretRef) has no key '" +
                                      ApiKeysEntry() + "' holding an API key (one a line): the API is not rolled out without keys"};
      return InvalidArgument(failure.message);
    }
  }
  inputs.service_monitor_crd = monitoring_.service_monitor;
  inputs.prometheus_rule_crd = monitoring_.prometheus_rule;
  return inputs;
}

Observed FinancialApiReconciler::Observe(const FinancialApi& api) const {
  Observed observed;
  if (runtime::ObjectPtr deployment = Cached(core::kDeployments, api.ns, ApiName(api))) {
    const Json& d = *deployment;
    observed.api_found = true;
    observed.api_replicas = d.value("/spec/replicas"_json_pointer, 1);
    // With autoscaling the Deployment starts at one pod until the autoscaler raises it to its minimum;
    // ready means the minimum is met.
    if (api.spec.autoscaling.enabled) observed.api_replicas = std::max(observed.api_replicas, api.spec.autoscaling.min_replicas);
    observed.api_ready = d.value("/status/readyReplicas"_json_pointer, 0);
    observed.api_updated = d.value("/status/updatedReplicas"_json_pointer, 0);
    observed.api_available = d.value("/status/availableReplicas"_json_pointer, 0);
    observed.api_rolled_out = d.value("/status/observedGeneration"_json_pointer, 0) >= d.value("/metadata/generation"_json_pointer, 0) &&
                              observed.api_updated >= observed.api_replicas &&
                              d.value("/status/replicas"_json_pointer, 0) == observed.api_updated;
  }
  auto statefulset_ready = [&](const std::string& name) {
    runtime::ObjectPtr set = Cached(core::kStatefulSets, api.ns, name);
    return set != nullptr && set->value("/status/readyReplicas"_json_pointer, 0) >= 1;
  };
  observed.postgres_ready = !api.spec.postgres.managed || statefulset_ready(PostgresName(api));
  observed.redis_ready = !api.spec.redis.managed || statefulset_ready(RedisName(api));
  if (api.spec.postgres.pgbouncer.enabled) {
    runtime::ObjectPtr pool = Cached(core::kDeployments, api.ns, PgBouncerName(api));
    observed.pgbouncer_ready = pool != nullptr && pool->value("/status/availableReplicas"_json_pointer, 0) >= 1;
  }
  if (api.spec.data.load) {
    const std::string job = LoaderJobName(api);
    const runtime::ObjectPtr cached = Cached(resources::kJobs, api.ns, job);
    observed.data = ObserveDataLoad(job, cached.get());
  }
  return observed;
}

StatusOr<Action> FinancialApiReconciler::Reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) {
  if (controller_ == nullptr) return FailedPrecondition("FinancialApi reconciler has no controller");
  const runtime::ObjectPtr cached = controller_->PrimaryCache().Get(request.Key());
  if (cached == nullptr) return Action::AwaitChange();  // deleted: the garbage collector removes the children
  const Json& object = *cached;
  if (object.contains("/metadata/deletionTimestamp"_json_pointer)) return Action::AwaitChange();
  const Json previous_status = object.value("status", Json::object());
  const std::string previous_phase = previous_status.value("phase", "");
  const std::string now = FormatTime(std::chrono::system_clock::now());

  auto write_status = [&](const Json& status) -> Status {
    if (SameStatus(status, previous_status)) return Status::Ok();
    // A merge patch keeps what it does not name: a field the status no longer has (status.data once
    // loading is off) is removed with null, or it would stay and differ on every reconcile.
    Json patch = status;
    if (previous_status.is_object()) {
      for (const auto& [key, value] : previous_status.items()) {
        if (!patch.contains(key)) patch[key] = nullptr;
      }
    }
    auto patched = client_.MergePatch(kFinancialApis, request.ns, request.name, {{"status", patch}}, "status");
    if (!patched.ok()) {
      if (patched.status().code() == StatusCode::kNotFound) return Status::Ok();  // deleted meanwhile
      return patched.status().WithContext("writing status");
    }
    ++writes_;
    const std::string phase = status.value("phase", "");
    if (phase != previous_phase) {
      const bool bad = phase == "Degraded";
      std::string message = "phase " + (previous_phase.empty() ? std::string("(none)") : previous_phase) + " -> " + phase;
      for (const auto& condition : status["conditions"]) {
        if (condition["type"] == (bad ? "Degraded" : "Ready")) message += ": " + condition.value("message", "");
      }
      Event(object, bad ? runtime::EventType::kWarning : runtime::EventType::kNormal, phase, message, context);
    }
    return Status::Ok();
  };

  auto parsed = ParseFinancialApi(object);
  if (!parsed.ok()) {
    // A spec the schema let through but that cannot work: say so, and wait for the next spec change.
    FinancialApi shell;
    shell.name = request.name;
    shell.ns = request.ns;
    shell.generation = object.value("/metadata/generation"_json_pointer, std::int64_t{0});
    shell.spec.data.load = false;  // what the spec asks to load is unknown: no data status
    Observed observed;
    observed.failure_reason = parsed.status().reason().empty() ? "InvalidSpec" : parsed.status().reason();
    observed.failure_message = parsed.status().message();
    context.log.Warn("invalid spec", {{"error", parsed.status().message()}});
    FINANCIALAPI_RETURN_IF_ERROR(write_status(ComputeStatus(shell, observed, previous_status, now)));
    return Action::AwaitChange();
  }
  const FinancialApi& api = *parsed;

  if (api.spec.paused) {
    FINANCIALAPI_RETURN_IF_ERROR(write_status(ComputeStatus(api, Observe(api), previous_status, now)));
    return Action::AwaitChange();
  }

  Failure failure;
  auto inputs = ResolveInputs(api, failure);
  if (!inputs.ok()) {
    Observed observed = Observe(api);
    observed.failure_reason = failure.reason.empty() ? "InputsUnavailable" : failure.reason;
    observed.failure_message = failure.reason.empty() ? inputs.status().message() : failure.message;
    FINANCIALAPI_RETURN_IF_ERROR(write_status(ComputeStatus(api, observed, previous_status, now)));
    Event(object, runtime::EventType::kWarning, observed.failure_reason, observed.failure_message, context);
    return inputs.status();  // requeued with backoff: the Secret may appear
  }

  // Apply what differs.
  const std::vector<Child> children = BuildChildren(api, *inputs);
  std::set<std::string> wanted;
  std::vector<std::string> created;
  std::vector<std::string> conflicts;
  for (const Child& child : children) {
    const std::string name = child.object["metadata"]["name"].get<std::string>();
    wanted.insert(KindName(*child.type, name));
    const runtime::Store* store = controller_->OwnedCache(*child.type);
    const runtime::ObjectPtr cached_child = store != nullptr ? store->Get(runtime::ObjectKey(api.ns, name)) : nullptr;
    auto existing = ExistingChild(*child.type, api.ns, name, cached_child);
    if (!existing.ok()) {
      if (failure.reason.empty()) failure = {"ApplyFailed", KindName(*child.type, name) + ": " + existing.status().message()};
      continue;
    }
    const Json* current = existing->get();
    if (current != nullptr && runtime::ControllerUid(*current) != api.uid) {
      // Not this FinancialApi's: a forced apply would take it over and give it an ownerReference (so
      // the garbage collector would delete it with the FinancialApi). Leave it alone and say so.
      conflicts.push_back(KindName(*child.type, name));
      context.log.Warn("child name taken by an object this FinancialApi does not control",
                       {{"child", KindName(*child.type, name)}, {"controller", runtime::ControllerUid(*current)}});
      continue;
    }
    if (current != nullptr) {
      const std::string difference = FirstDifference(*current, child.object);
      if (difference.empty()) continue;
      context.log.Debug("child differs", {{"child", KindName(*child.type, name)}, {"field", difference}});
    }
    auto applied = client_.Apply(*child.type, child.object, {.field_manager = kFieldManager, .force = true});
    if (!applied.ok() && kube::IsNamespaceTerminating(applied.status())) {
      // The namespace is being deleted and this FinancialApi with it: recreating what the namespace
      // controller removes would only be refused again, and an Event or a Degraded status would be noise.
      context.log.Info("namespace is being deleted; not recreating children", {{"child", KindName(*child.type, name)}});
      return Action::AwaitChange();
    }
    if (!applied.ok()) {
      if (failure.reason.empty()) failure = {"ApplyFailed", KindName(*child.type, name) + ": " + applied.status().message()};
      context.log.Error("apply failed", {{"child", KindName(*child.type, name)}, {"error", applied.status().ToString()}});
      continue;
    }
    ++writes_;
    if (store != nullptr && current == nullptr) created.push_back(KindName(*child.type, name));
  }
  if (!conflicts.empty()) {
    // Before an apply failure: it needs someone to delete or rename the object, retries do not help.
    const bool one = conflicts.size() == 1;
    const std::string them = one ? "it" : "them";
    failure = {"ChildConflict", Join(conflicts, ", ") + (one ? " exists and is" : " exist and are") +
                                    " not controlled by this FinancialApi (uid " + api.uid +
                                    "), so the operator neither changes nor deletes " + them + ": delete or rename " + them +
                                    ", or give the FinancialApi another name"};
  }
  if (!created.empty()) {
    Event(object, runtime::EventType::kNormal, "Created",
          "created " + std::to_string(created.size()) + " children: " + Join(created, ", "), context);
  }

  // Prune what this FinancialApi owns and the spec no longer asks for.
  for (const kube::ResourceType* kind : ChildKinds()) {
    const runtime::Store* store = controller_->OwnedCache(*kind);
    if (store == nullptr) continue;
    for (const runtime::ObjectPtr& child : store->ListControlledBy(api.uid)) {
      const std::string name = child->value("/metadata/name"_json_pointer, "");
      if (wanted.contains(KindName(*kind, name))) continue;
      if (child->contains("/metadata/deletionTimestamp"_json_pointer)) continue;
      const Status deleted = client_.Delete(*kind, api.ns, name, {.propagation = kube::PropagationPolicy::kBackground});
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
        if (failure.reason.empty()) failure = {"PruneFailed", KindName(*kind, name) + ": " + deleted.message()};
        continue;
      }
      ++writes_;
      context.log.Info("pruned", {{"child", KindName(*kind, name)}});
    }
  }

  Observed observed = Observe(api);
  observed.failure_reason = failure.reason;
  observed.failure_message = failure.message;
  std::vector<std::string> missing;
  if (api.spec.monitoring.service_monitor && !inputs->service_monitor_crd) missing.push_back("ServiceMonitor");
  if (api.spec.monitoring.prometheus_rule && !inputs->prometheus_rule_crd) missing.push_back("PrometheusRule");
  if (!missing.empty()) {
    observed.monitoring_message = "the cluster does not serve monitoring.coreos.com/v1 " + missing.front() +
                                  (missing.size() > 1 ? " and " + missing.back() : "") +
                                  " (install the Prometheus Operator CRDs, then restart the operator, which looks for them at start); monitoring objects were not created";
  }
  FINANCIALAPI_RETURN_IF_ERROR(write_status(ComputeStatus(api, observed, previous_status, now)));
  if (!failure.reason.empty()) {
    Event(object, runtime::EventType::kWarning, failure.reason, failure.message, context);
    return Status(StatusCode::kUnavailable, failure.reason + ": " + failure.message);
  }
  return Action::AwaitChange();
}

}  // namespace financialapi::platform
