#include "financialapi/runtime/leader_election.h"

#include <random>

#include "financialapi/common/time_format.h"

#include "financialapi/common/logging.h"

namespace financialapi::runtime {
namespace {

using kube::Json;

}  // namespace

LeaderElector::LeaderElector(kube::Client& client, LeaderElectionOptions options, Callbacks callbacks,
                             const Clock& clock)
    : client_(client), options_(std::move(options)), callbacks_(std::move(callbacks)), clock_(clock),
      log_(LogFields{{"lease", options_.lease_namespace + "/" + options_.lease_name}, {"identity", options_.identity}}) {}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mutex_);
  return leading_;
}

kube::CallOptions LeaderElector::CallBefore(Clock::TimePoint deadline) const {
  // The client's deadlines are on the steady clock; the elector's clock may be a test's.
  return {.deadline = std::chrono::steady_clock::now() + (deadline - clock_.Now())};
}

bool LeaderElector::TryAcquireOrRenew(Clock::TimePoint deadline) {
  const auto now_wall = std::chrono::system_clock::now();
  const auto duration_seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count();

  auto current = client_.Get(kube::resources::kLeases, options_.lease_namespace, options_.lease_name, CallBefore(deadline));
  // Observed once the answer is here, as client-go does: the record was current at least until then.
  const auto now = clock_.Now();
  if (!current.ok() && current.status().code() == StatusCode::kNotFound) {
    const Json lease = {
        {"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
        {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
        {"spec", {{"holderIdentity", options_.identity}, {"leaseDurationSeconds", duration_seconds},
                  {"acquireTime", FormatMicroTime(now_wall)}, {"renewTime", FormatMicroTime(now_wall)},
                  {"leaseTransitions", 0}}}};
    auto created = client_.Create(kube::resources::kLeases, lease, CallBefore(deadline));
    if (!created.ok()) {
      log_.Debug("could not create the lease", {{"error", created.status().ToString()}});
      return false;
    }
    std::lock_guard lock(mutex_);
    observed_record_ = created->value("/spec"_json_pointer, Json::object()).dump();
    observed_at_ = now;
    observed_holder_ = options_.identity;
    return true;
  }
  if (!current.ok()) {
    log_.Warn("could not read the lease", {{"error", current.status().ToString()}});
    return false;
  }

  Json lease = std::move(current).value();
  Json& spec = lease["spec"];
  const std::string holder = spec.value("holderIdentity", "");
  {
    std::lock_guard lock(mutex_);
    const std::string record = spec.dump();
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    if (holder != observed_holder_) {
      observed_holder_ = holder;
      if (!holder.empty() && holder != options_.identity && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
    }
    const auto held_for = std::chrono::seconds(spec.value("leaseDurationSeconds", 0));
    if (!holder.empty() && holder != options_.identity && observed_at_ + held_for > now) {
      return false;  // someone else holds a lease that has not expired
    }
  }

  const bool renewing = holder == options_.identity;
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration_seconds;
  spec["renewTime"] = FormatMicroTime(now_wall);
  if (!renewing) {
    spec["acquireTime"] = FormatMicroTime(now_wall);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  auto updated = client_.Replace(kube::resources::kLeases, lease, CallBefore(deadline));
  if (!updated.ok()) {
    log_.Debug("could not update the lease", {{"error", updated.status().ToString()}});
    return false;
  }
  std::lock_guard lock(mutex_);
  observed_record_ = updated->value("/spec"_json_pointer, Json::object()).dump();
  observed_at_ = now;
  observed_holder_ = options_.identity;
  return true;
}

bool LeaderElector::WaitRetryPeriod(std::optional<Clock::TimePoint> until) {
  // Jitter the acquire retries (up to +20 %) so candidates do not hit the lease in lockstep.
  thread_local std::mt19937 random{std::random_device{}()};
  const auto jitter = std::uniform_int_distribution<long>(0, options_.retry_period.count() / 5)(random);
  auto wait = std::chrono::duration_cast<Clock::Duration>(options_.retry_period + std::chrono::milliseconds(jitter));
  if (until) wait = std::max(Clock::Duration::zero(), std::min(wait, *until - clock_.Now()));
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, wait, [this] { return stopping_; });
}

Status LeaderElector::Run() {
  if (options_.lease_name.empty() || options_.lease_namespace.empty() || options_.identity.empty()) {
    return InvalidArgument("leader election needs a lease namespace, a lease name and an identity");
  }
  if (options_.renew_deadline >= options_.lease_duration || options_.retry_period >= options_.renew_deadline) {
    return InvalidArgument("leader election needs retry period < renew deadline < lease duration");
  }
  log_.Info("waiting to acquire the leader lease");
  // The start of the attempt that last wrote the lease: the write, and so the others' count of
  // lease_duration, came after it, so leadership counted from here ends before the lease expires.
  Clock::TimePoint renewed_from = clock_.Now();
  while (!TryAcquireOrRenew(renewed_from + options_.renew_deadline)) {
    if (!WaitRetryPeriod()) return Status::Ok();
    renewed_from = clock_.Now();
  }
  {
    std::lock_guard lock(mutex_);
    leading_ = true;
  }
  log_.Info("became leader");
  if (callbacks_.on_started_leading) callbacks_.on_started_leading();

  while (true) {
    const auto deadline = renewed_from + options_.renew_deadline;
    if (!WaitRetryPeriod(deadline)) {
      Release();
      return Status::Ok();
    }
    const auto attempt_started = clock_.Now();
    if (attempt_started < deadline && TryAcquireOrRenew(deadline)) {
      renewed_from = attempt_started;
      continue;
    }
    if (clock_.Now() >= deadline) {
      {
        std::lock_guard lock(mutex_);
        leading_ = false;
      }
      log_.Error("could not renew the leader lease within the renew deadline; leadership lost",
                 {{"renewDeadlineMs", std::to_string(options_.renew_deadline.count())}});
      if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
      return Unavailable("leader lease " + options_.lease_namespace + "/" + options_.lease_name + " lost");
    }
  }
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

void LeaderElector::Release() {
  {
    std::lock_guard lock(mutex_);
    if (!leading_) return;
    leading_ = false;
  }
  // Bounded like a renewal: a stop must not hang on an API server that stopped answering.
  const auto deadline = clock_.Now() + options_.renew_deadline;
  auto current = client_.Get(kube::resources::kLeases, options_.lease_namespace, options_.lease_name, CallBefore(deadline));
  if (!current.ok() || current->value("/spec/holderIdentity"_json_pointer, "") != options_.identity) return;
  Json lease = std::move(current).value();
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = FormatMicroTime(std::chrono::system_clock::now());
  auto released = client_.Replace(kube::resources::kLeases, lease, CallBefore(deadline));
  if (released.ok()) {
    log_.Info("released the leader lease");
  } else {
    log_.Warn("could not release the leader lease", {{"error", released.status().ToString()}});
  }
}

}  // namespace financialapi::runtime
