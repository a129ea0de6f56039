#include "financialapi/runtime/watcher.h"

#include "financialapi/common/logging.h"

namespace financialapi::runtime {
namespace {

class ClientSource final : public ListWatchSource {
 public:
  ClientSource(kube::Client& client, kube::ResourceType type, Scope scope, kube::WatchOptions options)
      : client_(client), type_(std::move(type)), scope_(std::move(scope)), options_(std::move(options)) {
    options_.label_selector = scope_.label_selector;
  }

  StatusOr<Json> List() override {
    return client_.ListAll(type_, scope_.ns, {.label_selector = scope_.label_selector});
  }

  Status Watch(const std::string& resource_version, const std::function<void(kube::WatchEvent&&)>& on_event,
               kube::Cancellation* cancel) override {
    kube::WatchOptions options = options_;
    options.resource_version = resource_version;
    return client_.Watch(type_, scope_.ns, options, on_event, cancel);
  }

 private:
  kube::Client& client_;
  kube::ResourceType type_;
  Scope scope_;
  kube::WatchOptions options_;
};

std::string VersionOf(const Json& object) { return object.value("/metadata/resourceVersion"_json_pointer, ""); }

}  // namespace

std::unique_ptr<ListWatchSource> MakeClientSource(kube::Client& client, kube::ResourceType type, Scope scope,
                                                  kube::WatchOptions watch_options) {
  return std::make_unique<ClientSource>(client, std::move(type), std::move(scope), std::move(watch_options));
}

Watcher::Watcher(std::unique_ptr<ListWatchSource> source, WatcherOptions options, WatcherHandlers handlers,
                 std::shared_ptr<Store> store)
    : source_(std::move(source)), options_(std::move(options)), handlers_(std::move(handlers)),
      store_(store != nullptr ? std::move(store) : std::make_shared<Store>()), backoff_(options_.initial_backoff) {}

Watcher::~Watcher() { Stop(); }

void Watcher::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  cancel_ = std::make_shared<kube::Cancellation>();
  thread_ = std::thread([this] { Run(); });
}

void Watcher::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (cancel_) cancel_->Cancel();
    thread.swap(thread_);
  }
  changed_.notify_all();
  if (thread.joinable()) thread.join();
}

bool Watcher::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return synced_.load(); });
}

std::string Watcher::resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

WatcherStats Watcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool Watcher::Backoff() {
  std::unique_lock lock(mutex_);
  ++stats_.errors;
  const auto delay = backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  return !changed_.wait_for(lock, delay, [this] { return stopping_; });
}

void Watcher::Run() {
  while (true) {
    std::string version;
    bool list = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      list = need_list_;
      version = resource_version_;
    }
    const Status status = list ? ListAndReplace() : WatchFrom(version);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (status.ok()) continue;  // listed, or the stream ended normally: watch (again)
    if (status.code() == StatusCode::kGone) {
      Logger().Info("resource version too old; listing again", {{"watcher", options_.name}, {"resourceVersion", version}});
      std::lock_guard lock(mutex_);
      need_list_ = true;
      ++stats_.relists_after_gone;
      continue;
    }
    Logger().Warn(list ? "list failed" : "watch failed", {{"watcher", options_.name}, {"error", status.ToString()}});
    if (!Backoff()) return;
  }
}

Status Watcher::ListAndReplace() {
  auto list = source_->List();
  if (!list.ok()) return list.status();
  std::unordered_map<std::string, ObjectPtr> fresh;
  for (auto& item : (*list)["items"]) {
    options_.transform(item);
    auto object = std::make_shared<const Json>(std::move(item));
    fresh.emplace(ObjectKey(*object), std::move(object));
  }
  const std::string version = VersionOf(*list);
  std::unordered_map<std::string, ObjectPtr> previous = store_->Replace(fresh, options_.store_namespace);

  // Handlers see what changed between the old and the new content.
  for (const auto& [key, object] : fresh) {
    const auto old = previous.find(key);
    if (old == previous.end()) {
      if (handlers_.on_add) handlers_.on_add(object);
    } else if (VersionOf(*old->second) != VersionOf(*object)) {
      if (handlers_.on_update) handlers_.on_update(old->second, object);
    }
  }
  for (const auto& [key, object] : previous) {
    if (!fresh.contains(key) && handlers_.on_delete) handlers_.on_delete(object);
  }
  {
    std::lock_guard lock(mutex_);
    resource_version_ = version;
    need_list_ = false;
    ++stats_.lists;
    backoff_ = options_.initial_backoff;
  }
  synced_.store(true);
  changed_.notify_all();
  return Status::Ok();
}

Status Watcher::WatchFrom(const std::string& resource_version) {
  std::shared_ptr<kube::Cancellation> cancel;
  {
    std::lock_guard lock(mutex_);
    ++stats_.watch_streams;
    cancel = cancel_;
  }
  bool received = false;
  Status status = source_->Watch(resource_version, [&](kube::WatchEvent&& event) {
    if (!received) {
      received = true;
      std::lock_guard lock(mutex_);
      backoff_ = options_.initial_backoff;  // a stream that delivers is healthy again
    }
    Apply(std::move(event));
  }, cancel.get());
  return status;
}

void Watcher::Apply(kube::WatchEvent&& event) {
  const std::string version = VersionOf(event.object);
  if (event.type == kube::WatchEvent::Type::kBookmark) {
    std::lock_guard lock(mutex_);
    if (!version.empty()) resource_version_ = version;
    ++stats_.bookmarks;
    return;
  }
  options_.transform(event.object);
  auto object = std::make_shared<const Json>(std::move(event.object));
  switch (event.type) {
    case kube::WatchEvent::Type::kAdded:
    case kube::WatchEvent::Type::kModified: {
      ObjectPtr previous = store_->Upsert(object);
      if (previous == nullptr) {
        if (handlers_.on_add) handlers_.on_add(object);
      } else if (handlers_.on_update) {
        handlers_.on_update(previous, object);
      }
      break;
    }
    case kube::WatchEvent::Type::kDeleted: {
      ObjectPtr previous = store_->Remove(ObjectKey(*object));
      if (handlers_.on_delete) handlers_.on_delete(previous != nullptr ? previous : object);
      break;
    }
    case kube::WatchEvent::Type::kBookmark: break;
  }
  std::lock_guard lock(mutex_);
  if (!version.empty()) resource_version_ = version;
  ++stats_.events;
}

}  // namespace financialapi::runtime
