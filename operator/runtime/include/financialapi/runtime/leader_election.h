// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a lease held by another
// identity counts as expired only when this process has seen its record unchanged for
// leaseDurationSeconds (by its own clock, so clock skew between nodes does not matter); writes use
// the lease's resourceVersion, so two candidates cannot both win. The leader stops leading once it has
// not renewed for renew_deadline, counted from the start of its last successful renewal, and every
// request of the renew loop is cancelled when that deadline passes: a stalled API server cannot keep
// it leading past renew_deadline, which is shorter than the lease_duration the others wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "financialapi/common/clock.h"
#include "financialapi/common/status.h"
#include "financialapi/kube/client.h"
#include "financialapi/common/logging.h"

namespace financialapi::runtime {

struct LeaderElectionOptions {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per process (pod name + random suffix)
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
};

class LeaderElector {
 public:
  struct Callbacks {
    std::function<void()> on_started_leading;
    std::function<void()> on_stopped_leading;              // lost the lease (not called on Stop)
    std::function<void(const std::string&)> on_new_leader;  // another holder observed
  };

  LeaderElector(kube::Client& client, LeaderElectionOptions options, Callbacks callbacks,
                const Clock& clock = SystemClock::Get());

  // Blocks: tries to acquire every retry_period until it leads, then renews until Stop() (returns OK)
  // or until a renewal did not succeed within renew_deadline (returns Unavailable: leadership lost).
  // InvalidArgument when the options cannot work (renew_deadline >= lease_duration, empty names).
  Status Run();
  // Ends Run(); when leading, gives the lease up so another candidate can take it at once.
  void Stop();
  bool IsLeader() const;

  // One attempt to acquire or renew (exposed for tests), each of its requests cancelled when
  // `deadline` (of the elector's clock) passes. True when this process holds the lease.
  bool TryAcquireOrRenew(Clock::TimePoint deadline);

 private:
  // Waits retry_period (plus jitter) but not past `until`; false when stopped.
  bool WaitRetryPeriod(std::optional<Clock::TimePoint> until = std::nullopt);
  kube::CallOptions CallBefore(Clock::TimePoint deadline) const;
  void Release();

  kube::Client& client_;
  LeaderElectionOptions options_;
  Callbacks callbacks_;
  const Clock& clock_;
  const Logger log_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool leading_ = false;
  std::string observed_record_;            // holder + renewTime + duration as last seen
  Clock::TimePoint observed_at_{};
  std::string observed_holder_;
};

}  // namespace financialapi::runtime
