// Kubernetes Events (core/v1, what `kubectl describe` shows) about the objects a controller manages.
// A repeat of the same event (same object, type, reason and message) updates the existing Event's
// count and lastTimestamp instead of creating another, as client-go's EventCorrelator does.
#pragma once

#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "financialapi/common/status.h"
#include "financialapi/kube/client.h"

namespace financialapi::runtime {

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  // `component` is the reporting controller ("financialapi-operator"), `instance` this process.
  EventRecorder(kube::Client& client, std::string component, std::string instance);

  // Records an event about `object` (which needs apiVersion, kind and metadata). Failures are
  // returned, never thrown; callers usually log and go on (an event is not worth a failed reconcile).
  Status Record(const kube::Json& object, EventType type, const std::string& reason, const std::string& message);

  std::size_t cached_events() const;

 private:
  struct Seen {
    std::string ns;
    std::string name;
    int count = 1;
  };

  kube::Client& client_;
  std::string component_;
  std::string instance_;
  mutable std::mutex mutex_;
  // Most recent first, bounded: old entries fall off, and a repeat of one of them just starts a new Event.
  std::list<std::pair<std::string, Seen>> recent_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Seen>>::iterator> index_;
};

}  // namespace financialapi::runtime
