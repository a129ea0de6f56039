// financialapi-operator: watches FinancialApi objects and reconciles the platform they describe.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "financialapi/common/file.h"
#include "financialapi/common/random.h"
#include "financialapi/common/strings.h"
#include "financialapi/common/version.h"
#include "financialapi/kube/client.h"
#include "financialapi/platform/reconciler.h"
#include "financialapi/common/logging.h"
#include "financialapi/runtime/manager.h"
#include "financialapi/runtime/signals.h"

namespace {

using namespace financialapi;

constexpr std::string_view kUsage = R"(Usage: financialapi-operator [flags]

Watches FinancialApi objects (edgartools.io/v1alpha1) and reconciles the platform each describes.

Flags (each also read from the environment variable in brackets):
  --kubeconfig PATH                 kubeconfig (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --context NAME                    kubeconfig context (default: current-context)
  --watch-namespace NS[,NS...]      only these namespaces [WATCH_NAMESPACE] (default: all namespaces)
  --workers N                       concurrent reconciles [WORKERS] (default 2)
  --resync-period SECONDS           reconcile every FinancialApi at least this often (default 36000)
  --qps N --burst N                 client-side rate limit to the API server (default 50 / 100)
  --metrics-bind-address ADDR       /metrics on host:port, "0" to disable (default 127.0.0.1:8080)
  --health-probe-bind-address ADDR  /healthz and /readyz on host:port, "0" to disable (default 127.0.0.1:8081)
  --leader-elect                    elect a leader among replicas (a Lease) before reconciling
  --leader-election-namespace NS    namespace of the Lease [POD_NAMESPACE] (default: the pod's or "default")
  --leader-election-id NAME         name of the Lease (default financialapi-operator-leader)
  --lease-duration SECONDS          (default 15)
  --renew-deadline SECONDS          (default 10)
  --retry-period SECONDS            (default 2)
  --log-format text|json            (default text) [LOG_FORMAT]
  --log-level debug|info|warn|error (default info) [LOG_LEVEL]
  --check                           connect to the API server, print its version and exit
  --version                         print the version and exit
  --help                            print this help and exit
)";

struct Flags {
  kube::KubeconfigOptions kubeconfig;
  std::string watch_namespace = GetEnv("WATCH_NAMESPACE").value_or("");
  int workers = 2;
  double resync_period = 36000;
  double qps = 50;
  double burst = 100;
  std::string metrics_address = "127.0.0.1:8080";
  std::string health_address = "127.0.0.1:8081";
  bool leader_elect = false;
  std::string lease_namespace = GetEnv("POD_NAMESPACE").value_or("");
  std::string lease_name = "financialapi-operator-leader";
  double lease_duration = 15;
  double renew_deadline = 10;
  double retry_period = 2;
  std::string log_format = GetEnv("LOG_FORMAT").value_or("text");
  std::string log_level = GetEnv("LOG_LEVEL").value_or("info");
  bool check = false;
};

bool ParseNumber(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0' && out >= 0;
}

// Returns 0 to go on, or the exit code.
int ParseFlags(int argc, char** argv, Flags& flags) {
  if (auto workers = GetEnv("WORKERS")) flags.workers = std::atoi(workers->c_str());
  const std::map<std::string_view, std::function<bool(const char*)>> valued = {
      {"--kubeconfig", [&](const char* v) { flags.kubeconfig.path = v; return true; }},
      {"--context", [&](const char* v) { flags.kubeconfig.context = v; return true; }},
      {"--watch-namespace", [&](const char* v) { flags.watch_namespace = v; return true; }},
      {"--workers", [&](const char* v) { double n; return ParseNumber(v, n) && n >= 1 && (flags.workers = static_cast<int>(n), true); }},
      {"--qps", [&](const char* v) { return ParseNumber(v, flags.qps); }},
      {"--resync-period", [&](const char* v) { return ParseNumber(v, flags.resync_period); }},
      {"--burst", [&](const char* v) { return ParseNumber(v, flags.burst); }},
      {"--metrics-bind-address", [&](const char* v) { flags.metrics_address = v; return true; }},
      {"--health-probe-bind-address", [&](const char* v) { flags.health_address = v; return true; }},
      {"--leader-election-namespace", [&](const char* v) { flags.lease_namespace = v; return true; }},
      {"--leader-election-id", [&](const char* v) { flags.lease_name = v; return true; }},
      {"--lease-duration", [&](const char* v) { return ParseNumber(v, flags.lease_duration); }},
      {"--renew-deadline", [&](const char* v) { return ParseNumber(v, flags.renew_deadline); }},
      {"--retry-period", [&](const char* v) { return ParseNumber(v, flags.retry_period); }},
      {"--log-format", [&](const char* v) { flags.log_format = v; return true; }},
      {"--log-level", [&](const char* v) { flags.log_level = v; return true; }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    if (arg == "--version") {
      std::printf("financialapi-operator %.*s\n", static_cast<int>(kVersion.size()), kVersion.data());
      return -1;
    }
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return -1;
    }
    if (arg == "--check") { flags.check = true; continue; }
    if (arg == "--leader-elect") { flags.leader_elect = !has_inline || inline_value != "false"; continue; }
    const auto setter = valued.find(arg);
    if (setter == valued.end()) {
      std::fprintf(stderr, "error: unknown flag %.*s\n\n%.*s", static_cast<int>(arg.size()), arg.data(),
                   static_cast<int>(kUsage.size()), kUsage.data());
      return 2;
    }
    const char* value = has_inline ? inline_value.c_str() : (i + 1 < argc ? argv[++i] : nullptr);
    if (value == nullptr || !setter->second(value)) {
      std::fprintf(stderr, "error: %.*s needs a valid value\n", static_cast<int>(arg.size()), arg.data());
      return 2;
    }
  }
  return 0;
}

int Check(const kube::ClusterConfig& config) {
  auto client = kube::Client::Create(config);
  if (!client.ok()) {
    std::fprintf(stderr, "error: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto version = (*client)->Request({.method = "GET", .path_and_query = "/version"});
  if (!version.ok()) {
    std::fprintf(stderr, "error: %s\n", version.status().ToString().c_str());
    return 1;
  }
  std::printf("connected to %s: Kubernetes %s\n", config.server.c_str(), version->value("gitVersion", "unknown").c_str());
  return 0;
}

std::string Identity() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return std::string(host) + "_" + RandomHex(8);
}

}  // namespace

int main(int argc, char** argv) {
  runtime::BlockTerminationSignals();
  Flags flags;
  if (const int code = ParseFlags(argc, argv, flags); code != 0) return code < 0 ? 0 : code;

  LogFormat format{};
  LogLevel level{};
  if (!ParseLogFormat(flags.log_format, format) || !ParseLogLevel(flags.log_level, level)) {
    std::fprintf(stderr, "error: --log-format must be text or json and --log-level debug, info, warn or error\n");
    return 2;
  }
  auto watch_namespaces = platform::ParseWatchNamespaces(flags.watch_namespace);
  if (!watch_namespaces.ok()) {
    std::fprintf(stderr, "error: --watch-namespace: %s\n", watch_namespaces.status().message().c_str());
    return 2;
  }
  ConfigureLogging(format, level);
  const Logger log(LogFields{{"component", "financialapi-operator"}});

  auto config = kube::LoadDefaultConfig(flags.kubeconfig);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", config.status().ToString().c_str());
    return 1;
  }
  if (flags.check) return Check(*config);
  if (flags.lease_namespace.empty()) flags.lease_namespace = config->default_namespace;

  auto metrics = std::make_shared<runtime::RuntimeMetrics>();
  auto client = kube::Client::Create(*config, {.user_agent = "financialapi-operator/" + std::string(kVersion),
                                               .qps = flags.qps, .burst = flags.burst,
                                               .on_request = runtime::Manager::ClientRequestRecorder(metrics)});
  if (!client.ok()) {
    std::fprintf(stderr, "error: %s\n", client.status().ToString().c_str());
    return 1;
  }
  // The CRD must exist before the watch can start; say so plainly rather than retrying in silence.
  auto crd = (*client)->Discover(platform::kFinancialApis.group, platform::kFinancialApis.version, platform::kFinancialApis.kind);
  if (!crd.ok()) {
    log.Error("cannot reach the API server", {{"error", crd.status().ToString()}});
    return 1;
  }
  if (!crd->has_value()) {
    log.Error("the FinancialApi CRD (financialapis.edgartools.io) is not installed; apply crds/ or install the Helm chart");
    return 1;
  }
  const platform::MonitoringCrds monitoring = platform::DiscoverMonitoringCrds(**client);

  runtime::ManagerOptions options;
  options.identity = Identity();
  options.metrics_address = flags.metrics_address == "0" ? "" : flags.metrics_address;
  options.health_address = flags.health_address == "0" ? "" : flags.health_address;
  options.leader_election = flags.leader_elect;
  auto milliseconds = [](double seconds) { return std::chrono::milliseconds(static_cast<long>(seconds * 1000)); };
  options.leader_election_options = {.lease_namespace = flags.lease_namespace, .lease_name = flags.lease_name,
                                     .identity = options.identity,
                                     .lease_duration = milliseconds(flags.lease_duration),
                                     .renew_deadline = milliseconds(flags.renew_deadline),
                                     .retry_period = milliseconds(flags.retry_period)};
  runtime::Manager manager(**client, options, metrics);
  platform::FinancialApiReconciler reconciler(**client, &manager.events(), monitoring);
  auto controller_options = platform::FinancialApiReconciler::ControllerOptions(*watch_namespaces, flags.workers, monitoring);
  controller_options.resync_period = std::chrono::seconds(static_cast<long>(flags.resync_period));
  auto& controller = manager.AddController(std::move(controller_options), reconciler);
  reconciler.set_controller(&controller);
  runtime::OnTerminationSignal([&manager, log] {
    log.Info("termination signal: draining");
    manager.RequestStop();
  });

  log.Info("starting", {{"version", std::string(kVersion)}, {"identity", options.identity},
                        {"watchNamespaces", watch_namespaces->empty() ? "*" : Join(*watch_namespaces, ",")},
                        {"workers", std::to_string(flags.workers)}, {"leaderElection", flags.leader_elect ? "true" : "false"},
                        {"serviceMonitorCRD", monitoring.service_monitor ? "true" : "false"}});
  const Status status = manager.Run();
  if (!status.ok()) {
    log.Error("stopped", {{"error", status.ToString()}});
    if (status.reason() == runtime::kReasonLeaseLost) {
      // No destructors: they would wait for reconciles that may still write once the API server
      // answers again, while another replica leads. Kubernetes restarts the container as a follower.
      std::fflush(nullptr);
      std::_Exit(1);
    }
    return 1;
  }
  return 0;
}
