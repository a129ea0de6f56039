// Keeps a Store in step with the API server: the list-then-watch state machine of client-go's
// reflector and kube-rs's watcher.
//
//   Listing ──list ok──▶ Watching(rv) ──stream ends / goes silent / fails──▶ Watching(rv) (after backoff)
//      ▲                        │
//      └────── 410 Gone ────────┘   (BOOKMARK events only move rv)
//
// After each full list the store is replaced whole and handlers see the difference; during the watch
// each event updates the store before its handler runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "financialapi/common/status.h"
#include "financialapi/kube/client.h"
#include "financialapi/runtime/store.h"

namespace financialapi::runtime {

// Where a Watcher gets its data; kube::Client behind it in production, a fake in unit tests.
class ListWatchSource {
 public:
  virtual ~ListWatchSource() = default;
  // The whole collection (a *List with metadata.resourceVersion) or the failure.
  virtual StatusOr<Json> List() = 0;
  // Streams events after `resource_version` until the stream ends (OK) or fails (Gone: relist).
  virtual Status Watch(const std::string& resource_version, const std::function<void(kube::WatchEvent&&)>& on_event,
                       kube::Cancellation* cancel) = 0;
};

struct Scope {
  std::string ns;              // "" : all namespaces
  std::string label_selector;  // "" : everything
};

// A ListWatchSource over the API server for one resource type in one scope.
std::unique_ptr<ListWatchSource> MakeClientSource(kube::Client& client, kube::ResourceType type, Scope scope,
                                                  kube::WatchOptions watch_options = {});

struct WatcherHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

struct WatcherOptions {
  std::string name = "watcher";  // for logs
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  // Applied to every object before it is stored; the default drops metadata.managedFields, which
  // reconcilers never read and which is often half of an object's size.
  std::function<void(Json&)> transform = [](Json& object) {
    if (object.contains("metadata")) object["metadata"].erase("managedFields");
  };
  // The namespace the source lists when the Store is shared with watchers of other namespaces: a
  // relist then replaces only this namespace's objects. Empty: the source lists all the Store holds.
  std::string store_namespace;
};

struct WatcherStats {
  std::uint64_t lists = 0;          // full lists done (the first one included)
  std::uint64_t relists_after_gone = 0;
  std::uint64_t watch_streams = 0;  // watch requests started
  std::uint64_t events = 0;         // ADDED/MODIFIED/DELETED applied
  std::uint64_t bookmarks = 0;
  std::uint64_t errors = 0;         // failed lists or watches (each followed by a backoff)
};

class Watcher {
 public:
  // Fills `store`, or a Store of its own when it is null.
  Watcher(std::unique_ptr<ListWatchSource> source, WatcherOptions options, WatcherHandlers handlers,
          std::shared_ptr<Store> store = nullptr);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Starts (or resumes, keeping the store and resource version) the background thread.
  void Start();
  // Stops the stream and the thread; the store keeps its content. Idempotent.
  void Stop();

  // True once the first full list is in the store.
  bool HasSynced() const { return synced_.load(); }
  // Waits for HasSynced() up to `timeout`.
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  const Store& store() const { return *store_; }
  std::string resource_version() const;
  WatcherStats stats() const;

 private:
  void Run();
  Status ListAndReplace();
  Status WatchFrom(const std::string& resource_version);
  void Apply(kube::WatchEvent&& event);
  // Sleeps for the current backoff (doubling it) unless stopped; false when stopped.
  bool Backoff();

  std::unique_ptr<ListWatchSource> source_;
  WatcherOptions options_;
  WatcherHandlers handlers_;
  std::shared_ptr<Store> store_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string resource_version_;
  bool need_list_ = true;
  bool stopping_ = false;
  std::chrono::milliseconds backoff_;
  WatcherStats stats_;
  std::shared_ptr<kube::Cancellation> cancel_;
  std::atomic<bool> synced_{false};
  std::thread thread_;
};

}  // namespace financialapi::runtime
