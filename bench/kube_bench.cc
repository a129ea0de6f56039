// kube-bench: throughput and memory of the Kubernetes client (operator/kube) and of the controller
// runtime's Watcher (operator/runtime) against a real API server. Each mode does one measurement and
// prints it as one JSON line on stdout (logs go to stderr); bench/run-kube-bench.sh starts a local
// control plane, runs the modes several times, times kubectl doing the same work and writes the report.
//
//   kube-bench manifest   --count N [--label L]                  the apply workload as a v1 List (for kubectl)
//   kube-bench apply      --namespace NS --count N --threads T   server-side apply of N ConfigMaps
//   kube-bench watch      --namespace NS --count N --threads T --observer watcher|kubectl [--kubectl PATH]
//                                                                N creates observed by a Watcher or kubectl
//   kube-bench sync       --namespace NS --count N               a fresh Watcher lists and syncs what is there
//   kube-bench populate   --namespace NS --count N --threads T [--data-bytes B] [--labels L]
//   kube-bench hold-cache --namespace NS --count N [--keep-managed-fields] [--hold-seconds S]
//                                                                memory of a synced Watcher (VmRSS, VmHWM)
//
// Common flags: --kubeconfig PATH (default $KUBECONFIG), --label L (objects carry bench=L and the
// watchers select on it), --timeout-seconds S. The client runs with qps=0 (no client-side rate limit),
// so the numbers are those of the API server and the client, not of a throttle.
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "bench_support.h"
#include "financialapi/kube/client.h"
#include "financialapi/kube/config.h"
#include "financialapi/kube/resource.h"
#include "financialapi/common/logging.h"
#include "financialapi/runtime/watcher.h"

extern char** environ;

namespace {

using financialapi::Status;
using financialapi::StatusCode;
using financialapi::StatusOr;
namespace kube = financialapi::kube;
namespace runtime = financialapi::runtime;
using financialapi::bench::CpuSeconds;
using financialapi::bench::EnsureNamespace;
using financialapi::bench::ParallelFor;
using financialapi::bench::ParseInt;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kFieldManager = "kube-bench";
constexpr const char* kSentinel = "kube-bench-sentinel";

struct Flags {
  std::string mode;
  std::string kubeconfig;
  std::string ns;
  int count = 1000;
  int threads = 1;
  int data_bytes = 0;  // 0: "value-<i>" only
  int labels = 1;      // bench=<label> plus labels-1 more
  std::string label = "kube-bench";
  std::string observer = "watcher";
  std::string kubectl = "kubectl";
  bool keep_managed_fields = false;
  int hold_seconds = 0;
  int timeout_seconds = 300;
};

const char kUsage[] =
    "usage: kube-bench MODE [flags]\n"
    "  modes: manifest | apply | watch | sync | populate | hold-cache (see bench/kube_bench.cc)\n"
    "  flags: --kubeconfig PATH --namespace NS --count N --threads T --label L --data-bytes B --labels L\n"
    "         --observer watcher|kubectl --kubectl PATH --keep-managed-fields --hold-seconds S\n"
    "         --timeout-seconds S\n";


std::optional<Flags> ParseFlags(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  std::vector<std::string> args(argv + 1, argv + argc);
  Flags flags;
  flags.mode = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name == "--keep-managed-fields") {
      flags.keep_managed_fields = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "kube-bench: " << name << " needs a value\n";
      return std::nullopt;
    }
    const std::string& value = args[++i];
    bool ok = true;
    if (name == "--kubeconfig") flags.kubeconfig = value;
    else if (name == "--namespace") flags.ns = value;
    else if (name == "--label") flags.label = value;
    else if (name == "--observer") flags.observer = value;
    else if (name == "--kubectl") flags.kubectl = value;
    else if (name == "--count") ok = ParseInt(value, flags.count) && flags.count > 0;
    else if (name == "--threads") ok = ParseInt(value, flags.threads) && flags.threads > 0;
    else if (name == "--data-bytes") ok = ParseInt(value, flags.data_bytes);
    else if (name == "--labels") ok = ParseInt(value, flags.labels) && flags.labels > 0;
    else if (name == "--hold-seconds") ok = ParseInt(value, flags.hold_seconds);
    else if (name == "--timeout-seconds") ok = ParseInt(value, flags.timeout_seconds) && flags.timeout_seconds > 0;
    else {
      std::cerr << "kube-bench: unknown flag " << name << "\n";
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "kube-bench: bad value for " << name << ": " << value << "\n";
      return std::nullopt;
    }
  }
  if (flags.mode != "manifest" && flags.ns.empty()) {
    std::cerr << "kube-bench: --namespace is required\n";
    return std::nullopt;
  }
  if (flags.observer != "watcher" && flags.observer != "kubectl") {
    std::cerr << "kube-bench: --observer must be watcher or kubectl\n";
    return std::nullopt;
  }
  return flags;
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

// Rounds to 3 decimals for the report.
double Round3(double value) { return static_cast<double>(std::llround(value * 1000.0)) / 1000.0; }


void Emit(const Json& result) { std::cout << result.dump() << std::endl; }

// Counts requests and non-2xx answers (429s would show the server pushing back).
struct RequestCounter {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failures{0};
};

StatusOr<std::unique_ptr<kube::Client>> MakeClient(const Flags& flags, RequestCounter* counter = nullptr) {
  kube::KubeconfigOptions options;
  if (!flags.kubeconfig.empty()) options.path = flags.kubeconfig;
  FINANCIALAPI_ASSIGN_OR_RETURN(kube::ClusterConfig config, kube::LoadKubeconfig(options));
  kube::ClientOptions client_options;
  client_options.user_agent = "kube-bench";
  client_options.qps = 0;  // unlimited: measure the API server, not the client-side throttle
  client_options.burst = 0;
  if (counter != nullptr) {
    client_options.on_request = [counter](const kube::RequestRecord& record) {
      counter->requests.fetch_add(1, std::memory_order_relaxed);
      if (record.code.empty() || record.code[0] != '2') counter->failures.fetch_add(1, std::memory_order_relaxed);
    };
  }
  return kube::Client::Create(std::move(config), std::move(client_options));
}

// The benchmark's ConfigMap number `index`: labelled bench=<label>, with a value of at least
// data_bytes bytes. The same function builds the kubectl manifest, so both apply identical objects.
Json MakeConfigMap(const Flags& flags, int index, bool with_namespace) {
  char name[32];
  std::snprintf(name, sizeof name, "cm-%05d", index);
  Json labels = {{"bench", flags.label}};
  for (int i = 1; i < flags.labels; ++i) {
    labels["bench.financialapi.dev/l" + std::to_string(i)] = "v" + std::to_string(index % (10 * i));
  }
  std::string value = "value-" + std::to_string(index);
  if (flags.data_bytes > 0 && value.size() < static_cast<std::size_t>(flags.data_bytes)) {
    value.append(static_cast<std::size_t>(flags.data_bytes) - value.size(), 'x');
  }
  Json metadata = {{"name", name}, {"labels", std::move(labels)}};
  if (with_namespace) metadata["namespace"] = flags.ns;
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", std::move(metadata)}, {"data", {{"key", value}}}};
}



// How many objects labelled bench=<label> the namespace holds (to check a run did all its work).
StatusOr<std::size_t> CountObjects(kube::Client& client, const Flags& flags) {
  FINANCIALAPI_ASSIGN_OR_RETURN(Json list, client.ListAll(kube::resources::kConfigMaps, flags.ns,
                                                          {.label_selector = "bench=" + flags.label}));
  return list["items"].size();
}

std::string Selector(const Flags& flags) { return "bench=" + flags.label; }

int Fail(const Status& status) {
  std::cerr << "kube-bench: " << status.ToString() << "\n";
  return 1;
}

// --- manifest -------------------------------------------------------------------------------------------

int RunManifest(const Flags& flags) {
  Json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", Json::array()}};
  for (int i = 0; i < flags.count; ++i) list["items"].push_back(MakeConfigMap(flags, i, /*with_namespace=*/false));
  std::cout << list.dump() << std::endl;
  return 0;
}

// --- apply ----------------------------------------------------------------------------------------------

int RunApply(const Flags& flags) {
  RequestCounter counter;
  auto client = MakeClient(flags, &counter);
  if (!client.ok()) return Fail(client.status());
  if (Status s = EnsureNamespace(**client, flags.ns); !s.ok()) return Fail(s);
  // Objects are built before the clock starts: the time is the client's and the server's.
  std::vector<Json> objects;
  objects.reserve(static_cast<std::size_t>(flags.count));
  for (int i = 0; i < flags.count; ++i) objects.push_back(MakeConfigMap(flags, i, /*with_namespace=*/true));
  const std::uint64_t requests_before = counter.requests.load();
  const std::uint64_t failures_before = counter.failures.load();
  const double cpu_before = CpuSeconds();
  const auto started = Clock::now();
  Status status = ParallelFor(flags.count, flags.threads, [&](int i) {
    return (*client)->Apply(kube::resources::kConfigMaps, objects[static_cast<std::size_t>(i)],
                            {.field_manager = kFieldManager}).status();
  });
  const double seconds = Seconds(Clock::now() - started);
  const double cpu_seconds = CpuSeconds() - cpu_before;
  const std::uint64_t requests = counter.requests.load() - requests_before;
  const std::uint64_t non_2xx = counter.failures.load() - failures_before;
  if (!status.ok()) return Fail(status);
  auto stored = CountObjects(**client, flags);
  if (!stored.ok()) return Fail(stored.status());
  Emit({{"bench", "apply"}, {"client", "kube-client"}, {"threads", flags.threads}, {"count", flags.count},
        {"seconds", Round3(seconds)}, {"per_second", Round3(flags.count / seconds)},
        {"requests", requests}, {"non_2xx", non_2xx}, {"client_cpu_seconds", Round3(cpu_seconds)},
        {"stored", *stored}});
  return *stored == static_cast<std::size_t>(flags.count) ? 0 : Fail(financialapi::Internal("stored count differs"));
}

// --- watch ----------------------------------------------------------------------------------------------

// What an observer has seen: the sentinel (the observer is live) and the benchmark's objects.
class Tally {
 public:
  explicit Tally(int target) : target_(target) {}

  void Saw(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (name == kSentinel) {
      sentinel_ = true;
    } else if (seen_.insert(name).second && static_cast<int>(seen_.size()) == target_) {
      done_at_ = Clock::now();
    }
    changed_.notify_all();
  }
  bool WaitSentinel(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return sentinel_; });
  }
  std::optional<Clock::time_point> WaitAll(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [this] { return done_at_.has_value(); })) return std::nullopt;
    return done_at_;
  }
  int seen() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(seen_.size());
  }

 private:
  const int target_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool sentinel_ = false;
  std::unordered_set<std::string> seen_;
  std::optional<Clock::time_point> done_at_;
};

// `kubectl get configmaps --watch -o name` as a child process whose lines feed a Tally.
class KubectlWatch {
 public:
  KubectlWatch(const Flags& flags, Tally& tally) : tally_(tally) {
    std::vector<std::string> args = {flags.kubectl, "get", "configmaps", "--namespace", flags.ns,
                                     "--selector", Selector(flags), "--watch", "--output", "name"};
    if (!flags.kubeconfig.empty()) args.insert(args.begin() + 1, {"--kubeconfig", flags.kubeconfig});
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    const int spawned = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
      close(fds[0]);
      pid_ = -1;
      return;
    }
    reader_ = std::thread([this, fd = fds[0]] { Read(fd); });
  }
  ~KubectlWatch() { Stop(); }
  KubectlWatch(const KubectlWatch&) = delete;
  KubectlWatch& operator=(const KubectlWatch&) = delete;

  bool started() const { return pid_ > 0; }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (reader_.joinable()) reader_.join();
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  void Read(int fd) {
    FILE* stream = fdopen(fd, "r");
    if (stream == nullptr) {
      close(fd);
      return;
    }
    char line[512];
    while (std::fgets(line, sizeof line, stream) != nullptr) {
      std::string name(line);
      while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
      const auto slash = name.find('/');
      if (slash != std::string::npos) name = name.substr(slash + 1);  // "configmap/cm-00001"
      tally_.Saw(name);
    }
    std::fclose(stream);
  }

  Tally& tally_;
  pid_t pid_ = -1;
  std::thread reader_;
};

std::unique_ptr<runtime::Watcher> StartWatcher(kube::Client& client, const Flags& flags,
                                               runtime::WatcherHandlers handlers) {
  runtime::WatcherOptions options;
  options.name = "kube-bench";
  if (flags.keep_managed_fields) options.transform = [](Json&) {};
  auto watcher = std::make_unique<runtime::Watcher>(
      runtime::MakeClientSource(client, kube::resources::kConfigMaps, {.ns = flags.ns, .label_selector = Selector(flags)}),
      std::move(options), std::move(handlers));
  watcher->Start();
  return watcher;
}

// A source whose list is empty at a given resource version, so the Watcher's watch replays every
// event after it from the API server's watch cache: the rate at which events go through the client's
// stream decoding, the transform and the store, without waiting for anything to be created.
class ReplaySource final : public runtime::ListWatchSource {
 public:
  ReplaySource(std::unique_ptr<runtime::ListWatchSource> inner, std::string resource_version)
      : inner_(std::move(inner)), resource_version_(std::move(resource_version)) {}
  StatusOr<Json> List() override {
    return Json{{"apiVersion", "v1"}, {"kind", "ConfigMapList"},
                {"metadata", {{"resourceVersion", resource_version_}}}, {"items", Json::array()}};
  }
  Status Watch(const std::string& resource_version, const std::function<void(kube::WatchEvent&&)>& on_event,
               kube::Cancellation* cancel) override {
    return inner_->Watch(resource_version, on_event, cancel);
  }

 private:
  std::unique_ptr<runtime::ListWatchSource> inner_;
  std::string resource_version_;
};

std::string NameOf(const runtime::ObjectPtr& object) {
  return object->value("/metadata/name"_json_pointer, std::string());
}

int RunWatch(const Flags& flags) {
  const auto timeout = std::chrono::seconds(flags.timeout_seconds);
  RequestCounter counter;
  auto creator = MakeClient(flags, &counter);  // the load: its own client, as another process would be
  if (!creator.ok()) return Fail(creator.status());
  if (Status s = EnsureNamespace(**creator, flags.ns); !s.ok()) return Fail(s);

  Tally tally(flags.count);
  std::unique_ptr<kube::Client> observer_client;
  std::unique_ptr<runtime::Watcher> watcher;
  std::unique_ptr<KubectlWatch> kubectl;
  if (flags.observer == "watcher") {
    auto client = MakeClient(flags);
    if (!client.ok()) return Fail(client.status());
    observer_client = std::move(*client);
    watcher = StartWatcher(*observer_client, flags,
                           {.on_add = [&tally](const runtime::ObjectPtr& object) { tally.Saw(NameOf(object)); }});
    if (!watcher->WaitForSync(timeout)) return Fail(financialapi::Timeout("watcher did not sync"));
  } else {
    kubectl = std::make_unique<KubectlWatch>(flags, tally);
    if (!kubectl->started()) return Fail(financialapi::Internal("cannot start " + flags.kubectl));
  }
  // The observer is live once it reports the sentinel (listed or watched): the clock starts after.
  Json sentinel = MakeConfigMap(flags, 0, true);
  sentinel["metadata"]["name"] = kSentinel;
  auto created_sentinel = (*creator)->Create(kube::resources::kConfigMaps, sentinel);
  if (!created_sentinel.ok()) return Fail(created_sentinel.status());
  const std::string sentinel_version =
      created_sentinel->value("/metadata/resourceVersion"_json_pointer, std::string());
  if (!tally.WaitSentinel(60s)) return Fail(financialapi::Timeout("the observer did not report the sentinel"));

  std::vector<Json> objects;
  objects.reserve(static_cast<std::size_t>(flags.count));
  for (int i = 0; i < flags.count; ++i) objects.push_back(MakeConfigMap(flags, i, /*with_namespace=*/true));
  const std::uint64_t requests_before = counter.requests.load();
  const std::uint64_t failures_before = counter.failures.load();
  const auto started = Clock::now();
  Status status = ParallelFor(flags.count, flags.threads, [&](int i) {
    return (*creator)->Create(kube::resources::kConfigMaps, objects[static_cast<std::size_t>(i)]).status();
  });
  const auto created_at = Clock::now();
  if (!status.ok()) return Fail(status);
  const auto observed_at = tally.WaitAll(timeout);
  if (!observed_at) {
    return Fail(financialapi::Timeout("observer saw " + std::to_string(tally.seen()) + " of " +
                                      std::to_string(flags.count)));
  }
  if (watcher) watcher->Stop();
  if (kubectl) kubectl->Stop();
  const double create_seconds = Seconds(created_at - started);
  const double observe_seconds = Seconds(*observed_at - started);
  Json result = {{"bench", "watch"}, {"observer", flags.observer}, {"count", flags.count},
                 {"create_threads", flags.threads}, {"create_seconds", Round3(create_seconds)},
                 {"create_per_second", Round3(flags.count / create_seconds)},
                 {"observe_seconds", Round3(observe_seconds)},
                 {"observe_per_second", Round3(flags.count / observe_seconds)},
                 {"lag_after_last_create_ms", Round3(Seconds(*observed_at - created_at) * 1000.0)},
                 {"create_requests", counter.requests.load() - requests_before},
                 {"create_non_2xx", counter.failures.load() - failures_before}};
  if (watcher) {
    const auto stats = watcher->stats();
    result["watch_streams"] = stats.watch_streams;
    result["watch_errors"] = stats.errors;
    result["store_size"] = watcher->store().Size();

    // The same events again, replayed from the sentinel's resource version by a fresh Watcher.
    Tally replayed(flags.count);
    runtime::WatcherOptions options;
    options.name = "kube-bench-replay";
    const auto replay_started = Clock::now();
    runtime::Watcher replay(
        std::make_unique<ReplaySource>(
            runtime::MakeClientSource(*observer_client, kube::resources::kConfigMaps,
                                      {.ns = flags.ns, .label_selector = Selector(flags)}),
            sentinel_version),
        std::move(options), {.on_add = [&replayed](const runtime::ObjectPtr& object) { replayed.Saw(NameOf(object)); }});
    replay.Start();
    const auto replayed_at = replayed.WaitAll(timeout);
    replay.Stop();
    if (!replayed_at || replay.stats().relists_after_gone > 0) {
      return Fail(financialapi::Internal("replay from resourceVersion " + sentinel_version + " did not deliver " +
                                         std::to_string(flags.count) + " events"));
    }
    const double replay_seconds = Seconds(*replayed_at - replay_started);
    result["replay_seconds"] = Round3(replay_seconds);
    result["replay_per_second"] = Round3(flags.count / replay_seconds);
  }
  Emit(result);
  return 0;
}

// --- sync -----------------------------------------------------------------------------------------------

int RunSync(const Flags& flags) {
  RequestCounter counter;
  auto client = MakeClient(flags, &counter);
  if (!client.ok()) return Fail(client.status());
  // A first request sets up TLS and the connection, as a running operator has long done.
  if (auto ns = (*client)->Get(kube::resources::kNamespaces, "", flags.ns); !ns.ok()) return Fail(ns.status());
  const std::uint64_t requests_before = counter.requests.load();
  const double cpu_before = CpuSeconds();
  const auto started = Clock::now();
  auto watcher = StartWatcher(**client, flags, {});
  if (!watcher->WaitForSync(std::chrono::seconds(flags.timeout_seconds))) {
    return Fail(financialapi::Timeout("watcher did not sync"));
  }
  const double seconds = Seconds(Clock::now() - started);
  const double cpu_seconds = CpuSeconds() - cpu_before;
  const std::size_t size = watcher->store().Size();
  const std::uint64_t list_requests = counter.requests.load() - requests_before;
  watcher->Stop();
  Emit({{"bench", "sync"}, {"objects", size}, {"seconds", Round3(seconds)},
        {"per_second", Round3(static_cast<double>(size) / seconds)}, {"requests", list_requests},
        {"client_cpu_seconds", Round3(cpu_seconds)}});
  if (size < static_cast<std::size_t>(flags.count)) {
    return Fail(financialapi::Internal("store holds " + std::to_string(size) + ", expected " +
                                       std::to_string(flags.count)));
  }
  return 0;
}

// --- populate -------------------------------------------------------------------------------------------

int RunPopulate(const Flags& flags) {
  auto client = MakeClient(flags);
  if (!client.ok()) return Fail(client.status());
  if (Status s = EnsureNamespace(**client, flags.ns); !s.ok()) return Fail(s);
  const auto started = Clock::now();
  Status status = ParallelFor(flags.count, flags.threads, [&](int i) {
    auto created = (*client)->Create(kube::resources::kConfigMaps, MakeConfigMap(flags, i, true));
    if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
    return created.status();
  });
  const double seconds = Seconds(Clock::now() - started);
  if (!status.ok()) return Fail(status);
  auto stored = CountObjects(**client, flags);
  if (!stored.ok()) return Fail(stored.status());
  Json sample = MakeConfigMap(flags, 1, true);
  Emit({{"bench", "populate"}, {"count", flags.count}, {"threads", flags.threads}, {"seconds", Round3(seconds)},
        {"per_second", Round3(flags.count / seconds)}, {"stored", *stored}, {"data_bytes", flags.data_bytes},
        {"labels", flags.labels}, {"sample_request_bytes", sample.dump().size()}});
  return 0;
}

// --- hold-cache -----------------------------------------------------------------------------------------

struct Memory {
  long rss_kb = -1;
  long hwm_kb = -1;
  long heap_kb = -1;  // bytes glibc malloc has handed out and not had back (all arenas, mmapped chunks too)
};

Memory ReadMemory() {
  Memory memory;
  const struct mallinfo2 heap = mallinfo2();
  memory.heap_kb = static_cast<long>((heap.uordblks + heap.hblkhd) / 1024);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    long value = 0;
    fields >> key >> value;
    if (key == "VmRSS:") memory.rss_kb = value;
    if (key == "VmHWM:") memory.hwm_kb = value;
  }
  return memory;
}

double PerObject(long after_kb, long before_kb, std::size_t objects) {
  if (objects == 0) return 0;
  return Round3(static_cast<double>(after_kb - before_kb) * 1024.0 / static_cast<double>(objects));
}

int RunHoldCache(const Flags& flags) {
  auto client = MakeClient(flags);
  if (!client.ok()) return Fail(client.status());
  // Baseline: the client is built and has made a request (TLS, connection, thread pool are set up).
  if (auto ns = (*client)->Get(kube::resources::kNamespaces, "", flags.ns); !ns.ok()) return Fail(ns.status());
  const Memory baseline = ReadMemory();
  const auto started = Clock::now();
  auto watcher = StartWatcher(**client, flags, {});
  if (!watcher->WaitForSync(std::chrono::seconds(flags.timeout_seconds))) {
    return Fail(financialapi::Timeout("watcher did not sync"));
  }
  const double seconds = Seconds(Clock::now() - started);
  const Memory synced = ReadMemory();
  malloc_trim(0);  // returns freed heap pages (the list pages' text and parse buffers) to the kernel
  const Memory trimmed = ReadMemory();

  // For comparison: the cached objects' size as compact JSON text (measured after the memory reads).
  std::size_t json_bytes = 0;
  const auto objects = watcher->store().List();
  for (const auto& object : objects) json_bytes += object->dump().size();
  const std::size_t size = objects.size();
  if (flags.hold_seconds > 0) std::this_thread::sleep_for(std::chrono::seconds(flags.hold_seconds));
  watcher->Stop();

  const auto mb = [](long kb) { return Round3(static_cast<double>(kb) / 1024.0); };
  Emit({{"bench", "memory"}, {"objects", size}, {"managed_fields_kept", flags.keep_managed_fields},
        {"sync_seconds", Round3(seconds)},
        {"baseline_rss_mb", mb(baseline.rss_kb)}, {"baseline_hwm_mb", mb(baseline.hwm_kb)},
        {"synced_rss_mb", mb(synced.rss_kb)}, {"synced_hwm_mb", mb(synced.hwm_kb)},
        {"trimmed_rss_mb", mb(trimmed.rss_kb)},
        {"rss_bytes_per_object", PerObject(synced.rss_kb, baseline.rss_kb, size)},
        {"hwm_bytes_per_object", PerObject(synced.hwm_kb, baseline.hwm_kb, size)},
        {"trimmed_rss_bytes_per_object", PerObject(trimmed.rss_kb, baseline.rss_kb, size)},
        {"heap_in_use_bytes_per_object", PerObject(synced.heap_kb, baseline.heap_kb, size)},
        {"json_bytes_per_object", size == 0 ? 0.0 : Round3(static_cast<double>(json_bytes) / static_cast<double>(size))}});
  if (size < static_cast<std::size_t>(flags.count)) {
    return Fail(financialapi::Internal("store holds " + std::to_string(size) + ", expected " +
                                       std::to_string(flags.count)));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto flags = ParseFlags(argc, argv);
  if (!flags) {
    std::cerr << kUsage;
    return 2;
  }
  // Results own stdout; the runtime's logs (warnings only) go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("kube-bench"));
  financialapi::ConfigureLogging(financialapi::LogFormat::kText, financialapi::LogLevel::kWarn);

  if (flags->mode == "manifest") return RunManifest(*flags);
  if (flags->mode == "apply") return RunApply(*flags);
  if (flags->mode == "watch") return RunWatch(*flags);
  if (flags->mode == "sync") return RunSync(*flags);
  if (flags->mode == "populate") return RunPopulate(*flags);
  if (flags->mode == "hold-cache") return RunHoldCache(*flags);
  std::cerr << "kube-bench: unknown mode " << flags->mode << "\n" << kUsage;
  return 2;
}
