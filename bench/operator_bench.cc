// operator-bench: how fast the FinancialApi operator (a separate process, started by
// bench/run-operator-bench.sh) turns FinancialApi objects into their children, and how fast a raw
// client applies the same child manifests straight to the API server. Each mode prints one JSON line
// on stdout (logs go to stderr).
//
//   operator-bench expect    --spec FILE
//       how many children one FinancialApi of FILE has (per kind), as the operator builds them
//   operator-bench observe   --namespace NS --spec FILE (--create N | -- COMMAND ARGS...) [--wait-ready]
//       watches NS (the FinancialApis and every child kind, label managed-by=financialapi-operator),
//       then starts the clock and either creates N FinancialApis from FILE (names <name>-0000 ...,
//       --threads T at once) or runs COMMAND (e.g. kubectl apply -f FILE); prints when the last
//       expected child arrived in the watch and, with --wait-ready, when every FinancialApi's
//       status.phase was Ready
//   operator-bench raw-apply --namespace NS --spec FILE --count N --threads T [--db-user U --db-password P]
//       creates N FinancialApis from FILE in NS (untimed; no operator watches NS), reads them back
//       (uids, server-side defaults), renders their children with the operator's own builders
//       (platform::BuildChildren) and times server-side apply (force) of all of them on T threads
//
// FILE is one FinancialApi as JSON. Common flags: --kubeconfig PATH (default $KUBECONFIG),
// --timeout-seconds S. The bench's client runs with qps=0 (no client-side rate limit).
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
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "bench_support.h"
#include "financialapi/kube/client.h"
#include "financialapi/kube/config.h"
#include "financialapi/kube/resource.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/reconciler.h"
#include "financialapi/platform/spec.h"
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
namespace platform = financialapi::platform;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Flags {
  std::string mode;
  std::string kubeconfig;
  std::string ns;
  std::string spec_file;
  int create = 0;  // observe: FinancialApis to create (0: run the command instead)
  int count = 1;   // raw-apply: FinancialApis' worth of children
  int threads = 8;
  bool wait_ready = false;
  std::string db_user = "bench";
  std::string db_password = "bench-password";
  int timeout_seconds = 600;
  std::vector<std::string> command;  // observe: after "--"
};

const char kUsage[] =
    "usage: operator-bench MODE [flags]\n"
    "  modes: expect | observe | raw-apply (see bench/operator_bench.cc)\n"
    "  flags: --kubeconfig PATH --namespace NS --spec FILE --create N --count N --threads T --wait-ready\n"
    "         --db-user U --db-password P --timeout-seconds S [-- COMMAND ARGS...]\n";


std::optional<Flags> ParseFlags(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  std::vector<std::string> args(argv + 1, argv + argc);
  Flags flags;
  flags.mode = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name == "--") {
      flags.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (name == "--wait-ready") {
      flags.wait_ready = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "operator-bench: " << name << " needs a value\n";
      return std::nullopt;
    }
    const std::string& value = args[++i];
    bool ok = true;
    if (name == "--kubeconfig") flags.kubeconfig = value;
    else if (name == "--namespace") flags.ns = value;
    else if (name == "--spec") flags.spec_file = value;
    else if (name == "--db-user") flags.db_user = value;
    else if (name == "--db-password") flags.db_password = value;
    else if (name == "--create") ok = ParseInt(value, flags.create);
    else if (name == "--count") ok = ParseInt(value, flags.count) && flags.count > 0;
    else if (name == "--threads") ok = ParseInt(value, flags.threads) && flags.threads > 0;
    else if (name == "--timeout-seconds") ok = ParseInt(value, flags.timeout_seconds) && flags.timeout_seconds > 0;
    else {
      std::cerr << "operator-bench: unknown flag " << name << "\n";
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "operator-bench: bad value for " << name << ": " << value << "\n";
      return std::nullopt;
    }
  }
  if (flags.spec_file.empty()) {
    std::cerr << "operator-bench: --spec is required\n";
    return std::nullopt;
  }
  if (flags.mode != "expect" && flags.ns.empty()) {
    std::cerr << "operator-bench: --namespace is required\n";
    return std::nullopt;
  }
  if (flags.mode == "observe" && (flags.create > 0) == !flags.command.empty()) {
    std::cerr << "operator-bench: observe needs either --create N or -- COMMAND\n";
    return std::nullopt;
  }
  return flags;
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }
double Round3(double value) { return static_cast<double>(std::llround(value * 1000.0)) / 1000.0; }


void Emit(const Json& result) { std::cout << result.dump() << std::endl; }

int Fail(const Status& status) {
  std::cerr << "operator-bench: " << status.ToString() << "\n";
  return 1;
}

struct RequestCounter {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failures{0};
};

StatusOr<std::unique_ptr<kube::Client>> MakeClient(const Flags& flags, RequestCounter* counter = nullptr) {
  kube::KubeconfigOptions options;
  if (!flags.kubeconfig.empty()) options.path = flags.kubeconfig;
  FINANCIALAPI_ASSIGN_OR_RETURN(kube::ClusterConfig config, kube::LoadKubeconfig(options));
  kube::ClientOptions client_options;
  client_options.user_agent = "operator-bench";
  client_options.qps = 0;  // unlimited: the API server's limit, not a client-side throttle
  client_options.burst = 0;
  if (counter != nullptr) {
    client_options.on_request = [counter](const kube::RequestRecord& record) {
      counter->requests.fetch_add(1, std::memory_order_relaxed);
      if (record.code.empty() || record.code[0] != '2') counter->failures.fetch_add(1, std::memory_order_relaxed);
    };
  }
  return kube::Client::Create(std::move(config), std::move(client_options));
}

StatusOr<Json> ReadSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return financialapi::NotFound("cannot read " + path);
  Json object = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object() || object.value("kind", "") != "FinancialApi") {
    return financialapi::InvalidArgument(path + " is not one FinancialApi as JSON");
  }
  return object;
}

// The FinancialApi number `index` of a scale run: the template with a numbered name.
Json NumberedApi(const Json& spec, const std::string& ns, int index) {
  Json object = spec;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%04d", index);
  object["metadata"] = {{"name", spec["metadata"].value("name", "fa") + suffix}, {"namespace", ns}};
  return object;
}

// Inputs as the operator resolves them in the benchmark cluster: no monitoring CRDs; external
// database credentials from the bench's Secret; generated passwords for managed databases.
platform::Inputs BenchInputs(const platform::FinancialApi& api, const Flags& flags) {
  platform::Inputs inputs;
  if (api.spec.postgres.managed) {
    inputs.postgres_user = api.spec.postgres.user;
    inputs.postgres_password = platform::GeneratePassword();
  } else {
    inputs.postgres_user = flags.db_user;
    inputs.postgres_password = flags.db_password;
  }
  if (api.spec.redis.managed) inputs.redis_password = platform::GeneratePassword();
  return inputs;
}

StatusOr<std::vector<platform::Child>> ChildrenOf(const Json& object, const Flags& flags) {
  FINANCIALAPI_ASSIGN_OR_RETURN(platform::FinancialApi api, platform::ParseFinancialApi(object));
  return platform::BuildChildren(api, BenchInputs(api, flags));
}

// Children per kind of one FinancialApi of the template.
StatusOr<std::map<std::string, int>> ExpectedPerKind(const Json& spec, const Flags& flags) {
  Json object = NumberedApi(spec, flags.ns.empty() ? "default" : flags.ns, 0);
  object["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000";
  FINANCIALAPI_ASSIGN_OR_RETURN(std::vector<platform::Child> children, ChildrenOf(object, flags));
  std::map<std::string, int> kinds;
  for (const auto& child : children) ++kinds[child.type->kind];
  return kinds;
}

int Total(const std::map<std::string, int>& kinds) {
  int total = 0;
  for (const auto& [kind, n] : kinds) total += n;
  return total;
}



Status CreateApis(kube::Client& client, const Json& spec, const std::string& ns, int count, int threads) {
  return ParallelFor(count, threads, [&](int i) {
    auto created = client.Create(platform::kFinancialApis, NumberedApi(spec, ns, i));
    if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
    return created.status();
  });
}

// The kinds the operator creates here (the monitoring CRDs are not installed in the bench cluster).
std::vector<const kube::ResourceType*> WatchedKinds() {
  std::vector<const kube::ResourceType*> kinds;
  for (const kube::ResourceType* kind : platform::ChildKinds()) {
    if (kind == &platform::resources::kServiceMonitors || kind == &platform::resources::kPrometheusRules) continue;
    kinds.push_back(kind);
  }
  return kinds;
}

bool ControlledByFinancialApi(const Json& object) {
  for (const auto& owner : object.value("/metadata/ownerReferences"_json_pointer, Json::array())) {
    if (owner.value("controller", false) && owner.value("kind", "") == platform::kFinancialApis.kind) return true;
  }
  return false;
}

std::string NameOf(const Json& object) { return object.value("/metadata/name"_json_pointer, std::string()); }

// --- expect ---------------------------------------------------------------------------------------------

int RunExpect(const Flags& flags) {
  auto spec = ReadSpec(flags.spec_file);
  if (!spec.ok()) return Fail(spec.status());
  auto kinds = ExpectedPerKind(*spec, flags);
  if (!kinds.ok()) return Fail(kinds.status());
  Emit({{"children", Total(*kinds)}, {"per_kind", *kinds}});
  return 0;
}

// --- observe --------------------------------------------------------------------------------------------

// What the watches have seen since the clock started.
class Progress {
 public:
  Progress(int expected_children, int expected_apis) : expected_children_(expected_children), expected_apis_(expected_apis) {}

  void Start(Clock::time_point at) {
    std::lock_guard lock(mutex_);
    started_ = at;
  }
  void Child(const std::string& kind, const Json& object) {
    if (!ControlledByFinancialApi(object)) return;
    std::lock_guard lock(mutex_);
    if (!children_.insert(kind + "/" + NameOf(object)).second) return;
    ++per_kind_[kind];
    const auto now = Clock::now();
    const int n = static_cast<int>(children_.size());
    if (n == 1) first_child_ = now;
    if (!half_children_ && 2 * n >= expected_children_) half_children_ = now;
    if (n == expected_children_) all_children_ = now;
    changed_.notify_all();
  }
  void Api(const Json& object) {
    std::lock_guard lock(mutex_);
    const std::string name = NameOf(object);
    if (object.value("/status/phase"_json_pointer, std::string()) == "Ready") {
      if (ready_.insert(name).second && static_cast<int>(ready_.size()) == expected_apis_ && !all_ready_) {
        all_ready_ = Clock::now();
      }
    } else {
      ready_.erase(name);
    }
    changed_.notify_all();
  }
  bool WaitChildren(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return all_children_.has_value(); });
  }
  bool WaitReady(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return all_ready_.has_value(); });
  }
  // Seconds from the start to each milestone (null when not reached) and the counts.
  Json Report() {
    std::lock_guard lock(mutex_);
    auto since = [this](const std::optional<Clock::time_point>& at) -> Json {
      return at ? Json(Round3(Seconds(*at - started_))) : Json(nullptr);
    };
    return {{"first_child_seconds", since(first_child_)}, {"half_children_seconds", since(half_children_)},
            {"children_seconds", since(all_children_)}, {"ready_seconds", since(all_ready_)},
            {"children_seen", children_.size()}, {"ready_seen", ready_.size()}, {"children_seen_per_kind", per_kind_}};
  }
  int children() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(children_.size());
  }

 private:
  const int expected_children_;
  const int expected_apis_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Clock::time_point started_{};
  std::set<std::string> children_;
  std::map<std::string, int> per_kind_;
  std::set<std::string> ready_;
  std::optional<Clock::time_point> first_child_, half_children_, all_children_, all_ready_;
};

// Runs a command to completion (stdout and stderr to this process's stderr); its exit code or -1.
int RunCommand(const std::vector<std::string>& command) {
  std::vector<std::string> args = command;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int RunObserve(const Flags& flags) {
  const auto timeout = std::chrono::seconds(flags.timeout_seconds);
  auto spec = ReadSpec(flags.spec_file);
  if (!spec.ok()) return Fail(spec.status());
  auto kinds = ExpectedPerKind(*spec, flags);
  if (!kinds.ok()) return Fail(kinds.status());
  const int apis = flags.create > 0 ? flags.create : 1;
  const int expected = Total(*kinds) * apis;

  auto client = MakeClient(flags);
  if (!client.ok()) return Fail(client.status());
  if (Status s = EnsureNamespace(**client, flags.ns); !s.ok()) return Fail(s);

  Progress progress(expected, apis);
  const std::string selector = std::string(platform::kManagedByLabel) + "=" + platform::kManagedBy;
  std::vector<std::unique_ptr<runtime::Watcher>> watchers;
  for (const kube::ResourceType* kind : WatchedKinds()) {
    const std::string kind_name = kind->kind;
    auto on_child = [&progress, kind_name](const runtime::ObjectPtr& object) { progress.Child(kind_name, *object); };
    watchers.push_back(std::make_unique<runtime::Watcher>(
        runtime::MakeClientSource(**client, *kind, {.ns = flags.ns, .label_selector = selector}),
        runtime::WatcherOptions{.name = "operator-bench-" + kind->plural},
        runtime::WatcherHandlers{.on_add = on_child,
                                 .on_update = [on_child](const runtime::ObjectPtr&, const runtime::ObjectPtr& now) { on_child(now); }}));
  }
  auto on_api = [&progress](const runtime::ObjectPtr& object) { progress.Api(*object); };
  watchers.push_back(std::make_unique<runtime::Watcher>(
      runtime::MakeClientSource(**client, platform::kFinancialApis, {.ns = flags.ns}),
      runtime::WatcherOptions{.name = "operator-bench-financialapis"},
      runtime::WatcherHandlers{.on_add = on_api,
                               .on_update = [on_api](const runtime::ObjectPtr&, const runtime::ObjectPtr& now) { on_api(now); }}));
  for (auto& watcher : watchers) watcher->Start();
  for (auto& watcher : watchers) {
    if (!watcher->WaitForSync(60s)) return Fail(financialapi::Timeout("a watch did not sync"));
  }
  if (progress.children() != 0) {
    return Fail(financialapi::FailedPrecondition("namespace " + flags.ns + " already holds children"));
  }

  Json result = {{"bench", "observe"}, {"namespace", flags.ns}, {"financialapis", apis},
                 {"expected_children", expected}, {"children_per_api", Total(*kinds)}, {"expected_per_kind", *kinds}};
  const auto started = Clock::now();
  progress.Start(started);
  if (flags.create > 0) {
    Status created = CreateApis(**client, *spec, flags.ns, flags.create, flags.threads);
    result["create_seconds"] = Round3(Seconds(Clock::now() - started));
    result["create_threads"] = flags.threads;
    if (!created.ok()) return Fail(created);
  } else {
    const int code = RunCommand(flags.command);
    result["command_seconds"] = Round3(Seconds(Clock::now() - started));
    if (code != 0) return Fail(financialapi::Internal("the command exited with " + std::to_string(code)));
  }
  const bool children_done = progress.WaitChildren(timeout);
  bool ready_done = false;
  if (children_done && flags.wait_ready) {
    const auto left = timeout - std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started);
    ready_done = progress.WaitReady(std::max(left, std::chrono::seconds(1)));
  }
  for (auto& watcher : watchers) watcher->Stop();
  result.update(progress.Report());
  result["timed_out"] = !children_done || (flags.wait_ready && !ready_done);
  Emit(result);
  return children_done ? 0 : Fail(financialapi::Timeout("saw " + std::to_string(progress.children()) + " of " +
                                                         std::to_string(expected) + " children"));
}

// --- raw-apply ------------------------------------------------------------------------------------------

int RunRawApply(const Flags& flags) {
  auto spec = ReadSpec(flags.spec_file);
  if (!spec.ok()) return Fail(spec.status());
  RequestCounter counter;
  auto client = MakeClient(flags, &counter);
  if (!client.ok()) return Fail(client.status());
  if (Status s = EnsureNamespace(**client, flags.ns); !s.ok()) return Fail(s);
  // The owners exist (no operator watches this namespace), so the ownerReferences carry real uids.
  if (Status s = CreateApis(**client, *spec, flags.ns, flags.count, 8); !s.ok()) return Fail(s);
  auto listed = (*client)->ListAll(platform::kFinancialApis, flags.ns);
  if (!listed.ok()) return Fail(listed.status());
  std::vector<platform::Child> children;
  for (const Json& object : (*listed)["items"]) {
    auto built = ChildrenOf(object, flags);
    if (!built.ok()) return Fail(built.status());
    for (auto& child : *built) children.push_back(std::move(child));
  }
  const int fas = static_cast<int>((*listed)["items"].size());
  const int objects = static_cast<int>(children.size());

  const std::uint64_t requests_before = counter.requests.load();
  const std::uint64_t failures_before = counter.failures.load();
  const double cpu_before = CpuSeconds();
  const auto started = Clock::now();
  Status status = ParallelFor(objects, flags.threads, [&](int i) {
    const platform::Child& child = children[static_cast<std::size_t>(i)];
    return (*client)->Apply(*child.type, child.object, {.field_manager = platform::kFieldManager, .force = true}).status();
  });
  const double seconds = Seconds(Clock::now() - started);
  const double cpu_seconds = CpuSeconds() - cpu_before;
  const std::uint64_t requests = counter.requests.load() - requests_before;
  const std::uint64_t non_2xx = counter.failures.load() - failures_before;
  if (!status.ok()) return Fail(status);

  // Check: every child is stored.
  std::size_t stored = 0;
  const std::string selector = std::string(platform::kManagedByLabel) + "=" + platform::kManagedBy;
  for (const kube::ResourceType* kind : WatchedKinds()) {
    auto list = (*client)->ListAll(*kind, flags.ns, {.label_selector = selector});
    if (!list.ok()) return Fail(list.status());
    for (const Json& item : (*list)["items"]) if (ControlledByFinancialApi(item)) ++stored;
  }
  Emit({{"bench", "raw-apply"}, {"namespace", flags.ns}, {"financialapis", fas}, {"objects", objects},
        {"threads", flags.threads}, {"seconds", Round3(seconds)}, {"per_second", Round3(objects / seconds)},
        {"financialapis_per_second", Round3(fas / seconds)}, {"requests", requests}, {"non_2xx", non_2xx},
        {"client_cpu_seconds", Round3(cpu_seconds)}, {"stored", stored}});
  return stored == children.size() ? 0 : Fail(financialapi::Internal("stored count differs"));
}

}  // namespace

int main(int argc, char** argv) {
  const auto flags = ParseFlags(argc, argv);
  if (!flags) {
    std::cerr << kUsage;
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("operator-bench"));
  financialapi::ConfigureLogging(financialapi::LogFormat::kText, financialapi::LogLevel::kWarn);

  if (flags->mode == "expect") return RunExpect(*flags);
  if (flags->mode == "observe") return RunObserve(*flags);
  if (flags->mode == "raw-apply") return RunRawApply(*flags);
  std::cerr << "operator-bench: unknown mode " << flags->mode << "\n" << kUsage;
  return 2;
}
