#!/usr/bin/env bash
# Benchmarks the Kubernetes client (operator/kube) and the controller runtime's Watcher against a
# local control plane of its own, side by side with kubectl doing the same work, and writes
#   bench/results/kube-<date>.jsonl   one JSON line per measurement (kube-bench's and kubectl's)
#   bench/results/kube-<date>.md      the machine, medians (min–max) of the repeats, memory
# `make bench` builds kube-bench and runs this. See docs/benchmarks.md for what the numbers mean.
#
# Environment: KUBE_BENCH (the binary, default build-bench/bench/kube-bench), BENCH_STATE_DIR (default
# build-bench/bench-state), BENCH_REPEATS (3), BENCH_APPLY_COUNT (1000), BENCH_WATCH_COUNT (2000),
# BENCH_MEMORY_COUNT (10000), BENCH_PER_PROCESS_COUNT (100), BENCH_THREADS (8).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "${BENCH_DIR}")"
KUBE_BENCH="${KUBE_BENCH:-${REPO_DIR}/build-bench/bench/kube-bench}"
STATE_DIR="${BENCH_STATE_DIR:-${REPO_DIR}/build-bench/bench-state}"
CLUSTER_DIR="${STATE_DIR}/cluster"
REPEATS="${BENCH_REPEATS:-3}"
APPLY_COUNT="${BENCH_APPLY_COUNT:-1000}"
WATCH_COUNT="${BENCH_WATCH_COUNT:-2000}"
MEMORY_COUNT="${BENCH_MEMORY_COUNT:-10000}"
PER_PROCESS_COUNT="${BENCH_PER_PROCESS_COUNT:-100}"
THREADS="${BENCH_THREADS:-8}"
DATE="$(date -u +%Y-%m-%d)"
RESULTS_DIR="${BENCH_DIR}/results"
RAW="${RESULTS_DIR}/kube-${DATE}.jsonl"
REPORT="${RESULTS_DIR}/kube-${DATE}.md"
WORK="${STATE_DIR}/work"

STARTED=${SECONDS}
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
say() { printf '[%4ds] %s\n' $((SECONDS - STARTED)) "$*" >&2; }

[[ -x "${KUBE_BENCH}" ]] || { echo "run-kube-bench: ${KUBE_BENCH} not built (make bench builds it)" >&2; exit 1; }

cluster_down() {
  "${REPO_DIR}/hack/local-cluster" down --state-dir "${CLUSTER_DIR}" --purge >/dev/null 2>&1 || true
}
cleanup() {
  local code=$?
  say "stopping the benchmark cluster"
  cluster_down
  if ((code != 0)); then
    echo "run-kube-bench: failed (exit ${code}); control-plane logs are gone with --purge, rerun with the cluster up to inspect" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh cluster for every run, so earlier runs' objects and etcd history do not weigh on it.
cluster_down
mkdir -p "${STATE_DIR}" "${RESULTS_DIR}"
rm -rf "${WORK}"
mkdir -p "${WORK}"
say "starting a local control plane in ${CLUSTER_DIR}"
"${REPO_DIR}/hack/local-cluster" up --state-dir "${CLUSTER_DIR}" >"${WORK}/cluster-up.log" 2>&1 ||
  { cat "${WORK}/cluster-up.log" >&2; exit 1; }
export KUBECONFIG="${CLUSTER_DIR}/kubeconfig"
export KUBECACHEDIR="${STATE_DIR}/kubectl-cache"   # kubectl's discovery cache, out of ~/.kube
KUBECTL="$(cat "${CLUSTER_DIR}/bin-dir")/kubectl"
kubectl_() { "${KUBECTL}" "$@"; }
kubectl_ api-resources >/dev/null   # warms the discovery cache, as on any workstation

: >"${RAW}"
record() { jq -c . >>"${RAW}"; }                    # one JSON object on stdin → the raw file
bench() { "${KUBE_BENCH}" "$@" | tee -a "${RAW}" >/dev/null; }
now_ns() { date +%s%N; }
seconds_since() { awk -v from="$1" -v to="$(now_ns)" 'BEGIN { printf "%.3f", (to - from) / 1e9 }'; }
count_in() { kubectl_ get configmaps -n "$1" -l "bench=$2" -o name | wc -l; }
delete_namespaces() { kubectl_ delete namespace "$@" --wait=true --timeout=300s >/dev/null; }

# --- 1. apply throughput -------------------------------------------------------------------------------
"${KUBE_BENCH}" manifest --count "${APPLY_COUNT}" --label apply >"${WORK}/apply.json"
mkdir -p "${WORK}/single"
jq -c ".items[:${PER_PROCESS_COUNT}][]" "${WORK}/apply.json" | split -l 1 -d -a 4 - "${WORK}/single/cm-"
for f in "${WORK}"/single/cm-*; do mv "$f" "$f.json"; done

for ((r = 1; r <= REPEATS; r++)); do
  say "apply round ${r}/${REPEATS}: kube-client 1 thread, ${THREADS} threads; kubectl --server-side; kubectl per process"
  bench apply --namespace "kb-apply-c1-${r}" --count "${APPLY_COUNT}" --threads 1 --label apply
  bench apply --namespace "kb-apply-c${THREADS}-${r}" --count "${APPLY_COUNT}" --threads "${THREADS}" --label apply

  ns="kb-apply-k-${r}"
  kubectl_ create namespace "${ns}" >/dev/null
  t0=$(now_ns)
  kubectl_ apply --server-side --field-manager kubectl-bench -n "${ns}" -f "${WORK}/apply.json" >/dev/null
  s=$(seconds_since "${t0}")
  stored=$(count_in "${ns}" apply)
  [[ "${stored}" == "${APPLY_COUNT}" ]] || { echo "kubectl apply stored ${stored} of ${APPLY_COUNT}" >&2; exit 1; }
  jq -n --argjson s "${s}" --argjson n "${APPLY_COUNT}" --argjson stored "${stored}" \
    '{bench: "apply", client: "kubectl", threads: 1, count: $n, seconds: $s, per_second: ($n / $s), stored: $stored}' | record

  ns="kb-apply-p-${r}"
  kubectl_ create namespace "${ns}" >/dev/null
  t0=$(now_ns)
  for f in "${WORK}"/single/cm-*.json; do
    kubectl_ apply --server-side --field-manager kubectl-bench -n "${ns}" -f "$f" >/dev/null
  done
  s=$(seconds_since "${t0}")
  stored=$(count_in "${ns}" apply)
  [[ "${stored}" == "${PER_PROCESS_COUNT}" ]] || { echo "kubectl per process stored ${stored}" >&2; exit 1; }
  jq -n --argjson s "${s}" --argjson n "${PER_PROCESS_COUNT}" --argjson stored "${stored}" \
    '{bench: "apply", client: "kubectl-per-process", threads: 1, count: $n, seconds: $s, per_second: ($n / $s),
      ms_per_process: ($s * 1000 / $n), stored: $stored}' | record

  delete_namespaces "kb-apply-c1-${r}" "kb-apply-c${THREADS}-${r}" "kb-apply-k-${r}" "kb-apply-p-${r}"
done

# --- 2. watch throughput and sync ----------------------------------------------------------------------
# The two observers run in separate rounds, one after the other, each in its own namespace: the same
# creation load (another client, THREADS threads) is watched by one observer at a time.
for ((r = 1; r <= REPEATS; r++)); do
  say "watch round ${r}/${REPEATS}: ${WATCH_COUNT} creates observed by a Watcher, then by kubectl --watch; sync"
  bench watch --namespace "kb-watch-w-${r}" --count "${WATCH_COUNT}" --threads "${THREADS}" --label watch --observer watcher
  bench watch --namespace "kb-watch-k-${r}" --count "${WATCH_COUNT}" --threads "${THREADS}" --label watch \
    --observer kubectl --kubectl "${KUBECTL}"
  # A fresh Watcher lists and syncs the objects now there (WATCH_COUNT plus the sentinel).
  bench sync --namespace "kb-watch-w-${r}" --count "${WATCH_COUNT}" --label watch
  t0=$(now_ns)
  kubectl_ get configmaps -n "kb-watch-w-${r}" -l bench=watch -o json >"${WORK}/list.json"
  s=$(seconds_since "${t0}")
  n=$(jq '.items | length' "${WORK}/list.json")
  jq -n --argjson s "${s}" --argjson n "${n}" \
    '{bench: "sync", client: "kubectl-get-json", objects: $n, seconds: $s, per_second: ($n / $s)}' | record
  delete_namespaces "kb-watch-w-${r}" "kb-watch-k-${r}"
done

# --- 3. memory of a synced cache ------------------------------------------------------------------------
say "memory: creating ${MEMORY_COUNT} ConfigMaps (4 labels, 200 bytes of data) with ${THREADS} threads"
bench populate --namespace kb-memory --count "${MEMORY_COUNT}" --threads "${THREADS}" --label memory \
  --data-bytes 200 --labels 4
for ((r = 1; r <= REPEATS; r++)); do
  say "memory round ${r}/${REPEATS}: hold-cache (managedFields stripped, then kept)"
  bench hold-cache --namespace kb-memory --count "${MEMORY_COUNT}" --label memory
  bench hold-cache --namespace kb-memory --count "${MEMORY_COUNT}" --label memory --keep-managed-fields
done
# The cluster is purged right after; no need to wait for 10,000 deletions.
kubectl_ delete namespace kb-memory --wait=false >/dev/null

# --- report ---------------------------------------------------------------------------------------------
say "writing ${REPORT}"
K8S_VERSION=$(kubectl_ version -o json | jq -r .serverVersion.gitVersion)
ETCD_VERSION=$("$(cat "${CLUSTER_DIR}/bin-dir")/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')

# summary FILTER FIELD [DIGITS]: "median (min–max)" of FIELD over the raw lines matching the jq FILTER.
summary() {
  jq -rs --argjson d "${3:-0}" "
    def r: if \$d == 0 then (. + 0.5 | floor | tostring) else (. * pow(10; \$d) + 0.5 | floor) / pow(10; \$d) | tostring end;
    [.[] | select($1) | .$2] | sort |
    if length == 0 then \"n/a\"
    else (if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end) as \$m
      | \"\(\$m | r) (\(.[0] | r)–\(.[-1] | r))\" end" "${RAW}"
}

{
  echo "# Kubernetes client and controller runtime benchmark — ${DATE}"
  echo
  echo "Raw results: \`kube-${DATE}.jsonl\` (one line per measurement). Produced by \`make bench\`"
  echo "(\`bench/run-kube-bench.sh\`); see \`docs/benchmarks.md\` for what the numbers mean."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
  echo "| CPUs (nproc) | $(nproc) |"
  echo "| CPU model | $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
  echo "| memory | $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
  echo "| kernel | $(uname -r) |"
  echo "| load average before the run | ${LOAD_BEFORE} |"
  echo "| Kubernetes / etcd | ${K8S_VERSION} / ${ETCD_VERSION} (local, 127.0.0.1, same machine) |"
  echo "| kube-bench | C++ client with qps=0 (no client-side rate limit), one shared client per process |"
  echo "| repeats | ${REPEATS}; each cell is median (min–max) |"
  echo
  echo "## 1. Server-side apply of ${APPLY_COUNT} ConfigMaps (fresh namespace each)"
  echo
  echo "| client | objects | seconds | applies/s |"
  echo "|---|---|---|---|"
  echo "| kube-client, 1 thread | ${APPLY_COUNT} | $(summary '.bench == "apply" and .client == "kube-client" and .threads == 1' seconds 2) | $(summary '.bench == "apply" and .client == "kube-client" and .threads == 1' per_second) |"
  echo "| kube-client, ${THREADS} threads | ${APPLY_COUNT} | $(summary ".bench == \"apply\" and .client == \"kube-client\" and .threads == ${THREADS}" seconds 2) | $(summary ".bench == \"apply\" and .client == \"kube-client\" and .threads == ${THREADS}" per_second) |"
  echo "| \`kubectl apply --server-side -f\` (one process, one file) | ${APPLY_COUNT} | $(summary '.bench == "apply" and .client == "kubectl"' seconds 2) | $(summary '.bench == "apply" and .client == "kubectl"' per_second) |"
  echo "| \`kubectl apply --server-side\`, one process per object | ${PER_PROCESS_COUNT} | $(summary '.bench == "apply" and .client == "kubectl-per-process"' seconds 2) | $(summary '.bench == "apply" and .client == "kubectl-per-process"' per_second) ($(summary '.bench == "apply" and .client == "kubectl-per-process"' ms_per_process) ms per process) |"
  echo
  echo "## 2. Watch: ${WATCH_COUNT} ConfigMaps created by another client (${THREADS} threads)"
  echo
  echo "Observers in separate rounds and namespaces (one observer at a time under the same load). Time"
  echo "from the first create to the N-th object seen by the observer."
  echo
  echo "| observer | creates/s (the load) | objects/s seen | seen after last create (ms) |"
  echo "|---|---|---|---|"
  echo "| runtime::Watcher (store) | $(summary '.bench == "watch" and .observer == "watcher"' create_per_second) | $(summary '.bench == "watch" and .observer == "watcher"' observe_per_second) | $(summary '.bench == "watch" and .observer == "watcher"' lag_after_last_create_ms 1) |"
  echo "| \`kubectl get --watch -o name\` | $(summary '.bench == "watch" and .observer == "kubectl"' create_per_second) | $(summary '.bench == "watch" and .observer == "kubectl"' observe_per_second) | $(summary '.bench == "watch" and .observer == "kubectl"' lag_after_last_create_ms 1) |"
  echo
  echo "Replay (a fresh Watcher watching from before the ${WATCH_COUNT} creates, events served from the API"
  echo "server's watch cache into the store): $(summary '.bench == "watch" and .observer == "watcher"' replay_per_second) objects/s,"
  echo "$(summary '.bench == "watch" and .observer == "watcher"' replay_seconds 3) s."
  echo
  echo "Initial list + sync of $((WATCH_COUNT + 1)) existing objects:"
  echo
  echo "| client | seconds | objects/s |"
  echo "|---|---|---|"
  echo "| runtime::Watcher (ListAll, 500 per page, into the store) | $(summary '.bench == "sync" and .client == null' seconds 3) | $(summary '.bench == "sync" and .client == null' per_second) |"
  echo "| \`kubectl get -o json\` (whole process) | $(summary '.bench == "sync" and .client == "kubectl-get-json"' seconds 3) | $(summary '.bench == "sync" and .client == "kubectl-get-json"' per_second) |"
  echo
  echo "## 3. Memory of a Watcher synced over ${MEMORY_COUNT} ConfigMaps (4 labels, 200 bytes of data)"
  echo
  echo "Creating them: $(summary '.bench == "populate"' per_second) creates/s with ${THREADS} threads."
  echo "Baseline = the same process after building the client and making one request, before the watcher."
  echo
  echo "| managedFields | baseline RSS / HWM (MB) | synced RSS (MB) | synced VmHWM (MB) | RSS bytes/object | VmHWM bytes/object | live heap bytes/object | JSON bytes/object | sync s |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for kept in false true; do
    f=".bench == \"memory\" and .managed_fields_kept == ${kept}"
    label=$([[ ${kept} == true ]] && echo "kept (no transform)" || echo "stripped (default transform)")
    echo "| ${label} | $(summary "$f" baseline_rss_mb 1) / $(summary "$f" baseline_hwm_mb 1) | $(summary "$f" synced_rss_mb 1) | $(summary "$f" synced_hwm_mb 1) | $(summary "$f" rss_bytes_per_object) | $(summary "$f" hwm_bytes_per_object) | $(summary "$f" heap_in_use_bytes_per_object) | $(summary "$f" json_bytes_per_object) | $(summary "$f" sync_seconds 2) |"
  done
  echo
  echo "RSS after \`malloc_trim(0)\`: $(summary '.bench == "memory" and .managed_fields_kept == false' trimmed_rss_bytes_per_object) bytes/object (stripped)."
  echo
  echo "Total run time: $((SECONDS - STARTED)) s (cluster start and stop included)."
} >"${REPORT}"

cat "${REPORT}"
say "done: ${REPORT}"
