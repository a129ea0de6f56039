#!/usr/bin/env bash
# Benchmarks the Kubernetes client (operator/kube) and the controller runtime's Watcher against a
# local control plane of its own, side by side with kubectl doing the same work, and writes
#   bench/results/kube-<date>.jsonl   one JSON line per measurement (kube-bench's and kubectl's)
#   bench/results/kube-<date>.md      the machine, medians (min to max) of the repeats, memory
# `make bench` builds kube-bench and runs this. See docs/benchmarks.md for what the numbers mean.
#
#   bench/run-kube-bench.sh                   start a cluster, measure, stop it, write both files
#   bench/run-kube-bench.sh report RAW.jsonl  (re)write the markdown next to RAW from its lines alone
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
source "${BENCH_DIR}/lib.sh"

# --- report -------------------------------------------------------------------------------------------
# Everything the report shows comes from the raw file: its first line describes the machine and the
# run ({"bench":"run",...}), its last the end of the run ({"bench":"end",...}).


# write_report RAW REPORT
write_report() {
  local RAW="$1" REPORT="$2"
  local DATE APPLY_COUNT WATCH_COUNT MEMORY_COUNT PER_PROCESS_COUNT THREADS REPEATS
  DATE=$(run_field date | cut -c1-10)
  APPLY_COUNT=$(run_field apply_count); WATCH_COUNT=$(run_field watch_count)
  MEMORY_COUNT=$(run_field memory_count); PER_PROCESS_COUNT=$(run_field per_process_count)
  THREADS=$(run_field threads); REPEATS=$(run_field repeats)
  {
    echo "# Kubernetes client and controller runtime benchmark — ${DATE}"
    echo
    echo "Raw results: \`$(basename "${RAW}")\` (one line per measurement). Produced by \`make bench\`"
    echo "(\`bench/run-kube-bench.sh\`); see \`docs/benchmarks.md\` for what the numbers mean."
    echo
    echo "## Machine"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date (UTC) | $(run_field date) |"
    echo "| CPUs (nproc) | $(run_field nproc) |"
    echo "| CPU model | $(run_field cpu_model) |"
    echo "| memory | $(run_field memory) |"
    echo "| kernel | $(run_field kernel) |"
    echo "| load average (1/5/15 min) before / after the run | $(run_field load_before) / $(run_field end_load) |"
    echo "| Kubernetes / etcd | $(run_field kubernetes) / $(run_field etcd) (local, 127.0.0.1, same machine) |"
    echo "| commit | $(run_field commit) (\"+changes\": operator/, common/ or bench/ differed from it) |"
    echo "| kube-bench | C++ client with qps=0 (no client-side rate limit), one shared client per process |"
    echo "| repeats | ${REPEATS}; each cell is median (min to max) |"
    echo
    echo "## 1. Server-side apply of ${APPLY_COUNT} ConfigMaps (fresh namespace each)"
    echo
    echo "| client | objects | seconds | applies/s |"
    echo "|---|---|---|---|"
    echo "| kube-client, 1 thread | ${APPLY_COUNT} | $(summary '.bench == "apply" and .client == "kube-client" and .threads == 1' seconds 2) | $(summary '.bench == "apply" and .client == "kube-client" and .threads == 1' per_second) |"
    echo "| kube-client, ${THREADS} threads | ${APPLY_COUNT} | $(summary ".bench == \"apply\" and .client == \"kube-client\" and .threads == ${THREADS}" seconds 2) | $(summary ".bench == \"apply\" and .client == \"kube-client\" and .threads == ${THREADS}" per_second) |"
    echo "| \`kubectl apply --server-side -f\` (one process, one file) | ${APPLY_COUNT} | $(summary '.bench == "apply" and .client == "kubectl"' seconds 2) | $(summary '.bench == "apply" and .client == "kubectl"' per_second) |"
    echo "| \`kubectl apply --server-side\`, one process per object | ${PER_PROCESS_COUNT} | $(summary '.bench == "apply" and .client == "kubectl-per-process"' seconds 2) | $(summary '.bench == "apply" and .client == "kubectl-per-process"' per_second 1) |"
    echo
    echo "CPU used by the kube-bench process itself during the timed part: $(summary '.bench == "apply" and .client == "kube-client" and .threads == 1' client_cpu_seconds 2) s (1 thread),"
    echo "$(summary ".bench == \"apply\" and .client == \"kube-client\" and .threads == ${THREADS}" client_cpu_seconds 2) s (${THREADS} threads): the rest of the wall time is the API server and etcd."
    echo
    echo "One kubectl process per object: $(summary '.bench == "apply" and .client == "kubectl-per-process"' ms_per_process) ms per invocation."
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
    echo "The Watcher's sync used $(summary '.bench == "sync" and .client == null' client_cpu_seconds 3) s of CPU in the kube-bench process."
    echo
    echo "## 3. Memory of a Watcher synced over ${MEMORY_COUNT} ConfigMaps (4 labels, 200 bytes of data)"
    echo
    echo "Creating them: $(summary '.bench == "populate"' per_second) creates/s with ${THREADS} threads."
    echo "Baseline = the same process after building the client and making one request, before the watcher."
    echo
    echo "| managedFields | baseline VmRSS / VmHWM (MB) | synced VmRSS (MB) | synced VmHWM (MB) | VmRSS bytes/object | VmHWM bytes/object | live heap bytes/object | JSON bytes/object | sync s |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for kept in false true; do
      f=".bench == \"memory\" and .managed_fields_kept == ${kept}"
      label=$([[ ${kept} == true ]] && echo "kept (no transform)" || echo "stripped (default transform)")
      echo "| ${label} | $(median "$f" baseline_rss_mb 1) / $(median "$f" baseline_hwm_mb 1) | $(median "$f" synced_rss_mb 1) | $(median "$f" synced_hwm_mb 1) | $(summary "$f" rss_bytes_per_object) | $(summary "$f" hwm_bytes_per_object) | $(summary "$f" heap_in_use_bytes_per_object) | $(median "$f" json_bytes_per_object) | $(summary "$f" sync_seconds 2) |"
    done
    echo
    echo "MB columns are medians; bytes/object = (synced − baseline) / objects, median (min to max)."
    echo "Live heap = glibc \`mallinfo2()\` bytes in use (all arenas)."
    echo "RSS after \`malloc_trim(0)\`: $(summary '.bench == "memory" and .managed_fields_kept == false' trimmed_rss_bytes_per_object) bytes/object (stripped)."
    echo
    echo "Run time: $(run_field end_seconds) s (cluster start included, its stop not)."
  } >"${REPORT}"
}

if [[ "${1:-}" == report ]]; then
  [[ -f "${2:-}" ]] || { echo "usage: run-kube-bench.sh report RAW.jsonl" >&2; exit 2; }
  write_report "$2" "${2%.jsonl}.md"
  cat "${2%.jsonl}.md"
  exit 0
fi

[[ -x "${KUBE_BENCH}" ]] || { echo "run-kube-bench: ${KUBE_BENCH} not built (make bench builds it)" >&2; exit 1; }

cleanup() {
  local code=$?
  say "stopping the benchmark cluster"
  if ((code == 0)); then
    cluster_down --purge
  else
    cluster_down   # stopped, but its logs stay for reading
    echo "run-kube-bench: failed (exit ${code}); control-plane logs in ${CLUSTER_DIR}/logs" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh cluster for every run, so earlier runs' objects and etcd history do not weigh on it.
cluster_down --purge
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

# Measurements collect in the work folder; the results folder gets them only when the run succeeds.
FINAL_RAW="${RAW}"
RAW="${WORK}/$(basename "${FINAL_RAW}")"
: >"${RAW}"
jq -nc --arg date "$(date -u '+%Y-%m-%d %H:%M')" --arg nproc "$(nproc)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
  --arg memory "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" --arg kernel "$(uname -r)" \
  --arg load "${LOAD_BEFORE}" --arg k8s "$(kubectl_ version -o json | jq -r .serverVersion.gitVersion)" \
  --arg etcd "$("$(cat "${CLUSTER_DIR}/bin-dir")/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')" \
  --arg commit "$(git -C "${REPO_DIR}" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "${REPO_DIR}" diff --quiet HEAD -- operator common bench 2>/dev/null || echo "+changes")" \
  --argjson repeats "${REPEATS}" --argjson apply "${APPLY_COUNT}" --argjson watch "${WATCH_COUNT}" \
  --argjson memory_count "${MEMORY_COUNT}" --argjson per_process "${PER_PROCESS_COUNT}" --argjson threads "${THREADS}" \
  '{bench: "run", date: $date, nproc: $nproc, cpu_model: $cpu, memory: $memory, kernel: $kernel, load_before: $load,
    kubernetes: $k8s, etcd: $etcd, commit: $commit, repeats: $repeats, apply_count: $apply, watch_count: $watch,
    memory_count: $memory_count, per_process_count: $per_process, threads: $threads}' >>"${RAW}"
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
jq -nc --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson seconds "$((SECONDS - STARTED))" \
  '{bench: "end", end_load: $load, end_seconds: $seconds}' >>"${RAW}"
mv "${RAW}" "${FINAL_RAW}"
RAW="${FINAL_RAW}"
say "writing ${REPORT}"
write_report "${RAW}" "${REPORT}"
cat "${REPORT}"
say "done: ${REPORT}"
