#!/usr/bin/env bash
# Benchmarks the FinancialApi operator (build-bench/operator/financialapi-operator, run as a separate
# process) against local control planes of its own, side by side with a raw client applying the same
# child manifests, and writes
#   bench/results/operator-<date>.jsonl   one JSON line per measurement
#   bench/results/operator-<date>.md      the machine, medians (min to max), tables
# `make bench` (or `make bench-operator`) builds the binaries and runs this. See docs/benchmarks.md.
#
#   bench/run-operator-bench.sh                   start clusters, measure, stop them, write both files
#   bench/run-operator-bench.sh report RAW.jsonl  (re)write the markdown next to RAW from its lines alone
#
# What runs (each cluster fresh, stopped and purged at the end, on failure too):
#   cluster 1 (--nodes 20): the production example applied with kubectl, BENCH_SINGLE_RUNS times, each
#     in a fresh namespace (operator with default flags, all namespaces), until children and Ready; the
#     steady state after the last run. Then SMALL FinancialApis created at once, once per operator
#     configuration in BENCH_SMALL_CONFIGS (each a fresh operator process with --watch-namespace on a
#     fresh namespace), until Ready, then the steady state. Then the raw client on SMALL FinancialApis'
#     worth of children, with 1 and BENCH_THREADS threads, BENCH_RAW_REPEATS times.
#   cluster 2 (--nodes 30): the raw client on LARGE FinancialApis' worth, with BENCH_RAW_LARGE_THREADS.
#   one cluster (--nodes 20) per configuration in BENCH_LARGE_CONFIGS: LARGE FinancialApis at once; the
#     first until Ready plus the steady state, the others until every child is applied
#     (BENCH_LARGE_FULL_ALL=1: all until Ready plus the steady state).
#   Steady state: once the operator's work queue is idle, a window of BENCH_WINDOW_SECONDS: operator
#   requests from /metrics, resourceVersions of every FinancialApi and child before and after.
#
# Environment: OPERATOR_BENCH (default build-bench/bench/operator-bench), OPERATOR_BINARY (default
# build-bench/operator/financialapi-operator), BENCH_STATE_DIR (build-bench/bench-state),
# BENCH_SINGLE_RUNS (5), BENCH_SMALL (100), BENCH_LARGE (1000), BENCH_SMALL_CONFIGS ("default 0:2 0:8"),
# BENCH_LARGE_CONFIGS ("default 0:2"), BENCH_LARGE_FULL_ALL (0), BENCH_WINDOW_SECONDS (30),
# BENCH_RAW_REPEATS (3), BENCH_RAW_LARGE_THREADS ("8"; "" skips), BENCH_THREADS (8),
# BENCH_TIMEOUT_SECONDS (900, per wait), BENCH_RESULTS_SUFFIX ("": results/operator-<date><suffix>.*).
# A configuration is "default" (no --qps/--workers flags: qps 50, burst 100, 2 workers) or QPS:WORKERS
# (--qps QPS --workers WORKERS; --qps 0 switches the client-side rate limit off).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "${BENCH_DIR}")"
OPERATOR_BENCH="${OPERATOR_BENCH:-${REPO_DIR}/build-bench/bench/operator-bench}"
OPERATOR_BINARY="${OPERATOR_BINARY:-${REPO_DIR}/build-bench/operator/financialapi-operator}"
STATE_DIR="${BENCH_STATE_DIR:-${REPO_DIR}/build-bench/bench-state}"
CLUSTER_DIR="${STATE_DIR}/operator-cluster"
SINGLE_RUNS="${BENCH_SINGLE_RUNS:-5}"
SMALL="${BENCH_SMALL:-100}"
LARGE="${BENCH_LARGE:-1000}"
SMALL_CONFIGS="${BENCH_SMALL_CONFIGS-default 0:2 0:8}"
LARGE_CONFIGS="${BENCH_LARGE_CONFIGS-default 0:2}"
WINDOW="${BENCH_WINDOW_SECONDS:-30}"
RAW_LARGE_THREADS="${BENCH_RAW_LARGE_THREADS-8}"
LARGE_FULL_ALL="${BENCH_LARGE_FULL_ALL:-0}"
RAW_REPEATS="${BENCH_RAW_REPEATS:-3}"
THREADS="${BENCH_THREADS:-8}"
TIMEOUT="${BENCH_TIMEOUT_SECONDS:-900}"
DATE="$(date -u +%Y-%m-%d)"
RESULTS_DIR="${BENCH_DIR}/results"
RAW="${RESULTS_DIR}/operator-${DATE}${BENCH_RESULTS_SUFFIX:-}.jsonl"
REPORT="${RESULTS_DIR}/operator-${DATE}${BENCH_RESULTS_SUFFIX:-}.md"
WORK="${STATE_DIR}/operator-work"

STARTED=${SECONDS}
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
source "${BENCH_DIR}/lib.sh"

# --- report -------------------------------------------------------------------------------------------

# config_label CONFIG: how a configuration reads in the tables.
config_label() {
  if [[ "$1" == default ]]; then echo "default (qps 50, burst 100, 2 workers)"
  else echo "qps ${1%%:*}$([[ ${1%%:*} == 0 ]] && echo " (unlimited)"), ${1##*:} workers"; fi
}

write_report() {
  local RAW="$1" REPORT="$2"
  local DATE SMALL LARGE THREADS WINDOW configs config f n
  DATE=$(run_field date | cut -c1-10)
  SMALL=$(run_field small); LARGE=$(run_field large); THREADS=$(run_field threads); WINDOW=$(run_field window_seconds)
  {
    echo "# FinancialApi operator benchmark — ${DATE}"
    echo
    echo "Raw results: \`$(basename "${RAW}")\` (one line per measurement). Produced by \`make bench\`"
    echo "(\`bench/run-operator-bench.sh\`); see \`docs/benchmarks.md\` for what the numbers mean."
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
    echo
    echo "## 1. One production FinancialApi (\`examples/financialapi.yaml\`, $(jq -rs 'map(select(.bench == "single"))[0].expected_children // "?"' "${RAW}") children), \`kubectl apply\` → children → Ready"
    echo
    echo "Operator with default flags (qps 50, burst 100, 2 workers), all namespaces. Each run in a fresh"
    echo "namespace; seconds from just before \`kubectl apply\` starts. Median (min to max) of $(jq -rs 'map(select(.bench == "single")) | length' "${RAW}") runs."
    echo
    echo "| | seconds |"
    echo "|---|---|"
    f='.bench == "single"'
    echo "| \`kubectl apply\` process (start to exit) | $(summary "$f" command_seconds 2) |"
    echo "| first child seen | $(summary "$f" first_child_seconds 2) |"
    echo "| **all children applied** | **$(summary "$f" children_seconds 2)** |"
    echo "| **\`status.phase\` Ready** | **$(summary "$f" ready_seconds 1)** |"
    echo
    echo "Operator requests per run (apply to Ready): $(summary "$f" requests.writes) writes ($(summary "$f" requests.PATCH) PATCH, $(summary "$f" requests.POST) POST),"
    echo "$(summary "$f" requests.GET) GET; $(summary "$f" requests.reconciles) reconciles."
    echo
    echo "## 2. FinancialApis created at once (scale spec: external PostgreSQL and Redis, no backups, no autoscaling, 1 API pod)"
    echo
    echo "Created by the bench with ${THREADS} threads; seconds from the first create. \"Children applied\" = every"
    echo "expected child exists (seen in a watch), not Ready. Each row: a fresh operator process with"
    echo "\`--watch-namespace\` on a fresh namespace. Requests, reconciles, CPU: from the operator's /metrics and"
    echo "/proc, from the first create to the end of the measurement (all Ready, or all children applied where"
    echo "the Ready column says n/a), divided by the number of FinancialApis. VmHWM: at the end (after the"
    echo "steady-state window where there is one). VmRSS idle: after the caches synced, before any create."
    echo
    echo "| FinancialApis | operator | children | create s | all children applied, s | FinancialApis/s | all Ready, s | writes / FA | GETs / FA | reconciles / FA | operator CPU s | VmRSS idle, MB | VmHWM, MB |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for n in $(jq -rs 'map(select(.bench == "scale") | .financialapis) | unique | .[]' "${RAW}"); do
      for config in $(jq -rs --argjson n "$n" 'map(select(.bench == "scale" and .financialapis == $n) | .config) | .[]' "${RAW}"); do
        f=".bench == \"scale\" and .financialapis == ${n} and .config == \"${config}\""
        echo "| ${n} | $(config_label "${config}") | $(median "$f" expected_children) | $(summary "$f" create_seconds 1) | **$(summary "$f" children_seconds 1)** | $(summary "$f" apis_per_second 1) | $(summary "$f" ready_seconds 1) | $(summary "$f" per_api.writes 1) | $(summary "$f" per_api.GET 1) | $(summary "$f" per_api.reconciles 1) | $(summary "$f" operator_cpu_to_end 1) | $(summary "$f" operator_idle.vmrss_mb 1) | **$(summary "$f" operator.vmhwm_mb 1)** |"
      done
    done
    echo
    echo "## 3. Raw client: the same child manifests applied directly (server-side apply, force, qps 0)"
    echo
    echo "The children the operator's builders (\`platform::BuildChildren\`) render for the same FinancialApis"
    echo "(created first, so ownerReferences carry real uids; no operator watches that namespace), applied by"
    echo "one \`kube::Client\` with 1 and ${THREADS} threads into a fresh namespace."
    echo
    echo "| FinancialApis' worth | objects | threads | seconds | objects/s | FinancialApis/s | client CPU s |"
    echo "|---|---|---|---|---|---|---|"
    for n in $(jq -rs 'map(select(.bench == "raw-apply") | .financialapis) | unique | .[]' "${RAW}"); do
      for t in $(jq -rs --argjson n "$n" 'map(select(.bench == "raw-apply" and .financialapis == $n) | .threads) | unique | .[]' "${RAW}"); do
        f=".bench == \"raw-apply\" and .financialapis == ${n} and .threads == ${t}"
        echo "| ${n} | $(median "$f" objects) | ${t} | $(summary "$f" seconds 2) | **$(summary "$f" per_second)** | $(summary "$f" financialapis_per_second) | $(summary "$f" client_cpu_seconds 2) |"
      done
    done
    echo
    echo "## 4. Steady state: ${WINDOW} s after everything was applied (and Ready)"
    echo
    echo "Operator requests from /metrics at the start and end of the window; resourceVersions of every"
    echo "FinancialApi and child read before and after it. The writers of a changed object are the field"
    echo "managers whose managedFields entry on it is dated inside the window."
    echo
    echo "The window starts once the operator's work queue is empty and no reconcile finished for 3 s (\"queued"
    echo "at Ready\": keys still in the queue when the last FinancialApi turned Ready; \"quiet after\": seconds"
    echo "until the queue was idle, with the reconciles and writes done meanwhile)."
    echo
    echo "| measurement | FinancialApis | queued at Ready | quiet after, s (reconciles, writes) | objects compared | **operator writes in the window** | writes / FA | other operator requests | reconciles | objects the operator changed | all changed objects: kind: count (writers in the window) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    jq -rs '.[] | select(.steady != null) | [
        (if .bench == "single" then "one production FinancialApi, run \(.run)"
         elif .config == "default" then "\(.financialapis) at once, default operator"
         else "\(.financialapis) at once, qps \(.config | split(":")[0]), \(.config | split(":")[1]) workers" end),
        (.financialapis | tostring), (.steady.queue_depth_at_start | tostring),
        "\(.steady.quiesce_seconds) (\(.steady.quiesce_reconciles), \(.steady.quiesce_writes))", (.steady.objects | tostring),
        "**\(.steady.writes)**", (.steady.writes_per_api | tostring),
        (.steady.other_requests | tostring), (.steady.reconciles | tostring),
        (.steady.changed_by_operator | tostring),
        (.steady.changed_by_kind | to_entries
         | if length == 0 then "0" else map("\(.key): \(.value.count) (\(.value.writers | join(", ")))") | join("; ") end)
      ] | "| " + join(" | ") + " |"' "${RAW}"
    echo
    echo "Run time: $(run_field end_seconds) s (cluster starts included)."
  } >"${REPORT}"
}

if [[ "${1:-}" == report ]]; then
  [[ -f "${2:-}" ]] || { echo "usage: run-operator-bench.sh report RAW.jsonl" >&2; exit 2; }
  write_report "$2" "${2%.jsonl}.md"
  cat "${2%.jsonl}.md"
  exit 0
fi

for binary in "${OPERATOR_BENCH}" "${OPERATOR_BINARY}"; do
  [[ -x "${binary}" ]] || { echo "run-operator-bench: ${binary} not built (make bench builds it)" >&2; exit 1; }
done

# --- cluster and operator -----------------------------------------------------------------------------

OPERATOR_PID=""
stop_operator() {
  [[ -n "${OPERATOR_PID}" ]] || return 0
  local i
  kill -TERM "${OPERATOR_PID}" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "${OPERATOR_PID}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${OPERATOR_PID}" 2>/dev/null || true
  wait "${OPERATOR_PID}" 2>/dev/null || true
  OPERATOR_PID=""
}
cleanup() {
  local code=$?
  stop_operator
  say "stopping the benchmark cluster"
  if ((code == 0)); then
    cluster_down --purge
  else
    cluster_down   # stopped, but its logs stay for reading
    echo "run-operator-bench: failed (exit ${code}); control-plane logs in ${CLUSTER_DIR}/logs, operator logs in ${WORK}" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# start_cluster NODES: a fresh control plane with the CRD and room for 65k more Service IPs.
start_cluster() {
  stop_operator
  cluster_down --purge
  say "starting a local control plane (${1} kwok nodes) in ${CLUSTER_DIR}"
  "${REPO_DIR}/hack/local-cluster" up --state-dir "${CLUSTER_DIR}" --nodes "$1" >"${WORK}/cluster-up.log" 2>&1 ||
    { cat "${WORK}/cluster-up.log" >&2; exit 1; }
  export KUBECONFIG="${CLUSTER_DIR}/kubeconfig"
  KUBECTL="$(cat "${CLUSTER_DIR}/bin-dir")/kubectl"
  kubectl_ apply --server-side -f "${REPO_DIR}/crds/" >/dev/null
  kubectl_ wait --for condition=established crd/financialapis.edgartools.io --timeout=60s >/dev/null
  # The local cluster's Service range is a /24 (254 addresses); LARGE FinancialApis need one each.
  kubectl_ apply -f - >/dev/null <<'EOF'
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: operator-bench}
spec: {cidrs: [10.96.0.0/16]}
EOF
  kubectl_ wait --for condition=Ready servicecidr/operator-bench --timeout=60s >/dev/null
  kubectl_ api-resources >/dev/null   # warms kubectl's discovery cache
}
kubectl_() { "${KUBECTL}" "$@"; }

# start_operator NAME CONFIG [WATCH_NAMESPACE]: the operator as its own process; waits for /readyz.
start_operator() {
  local name="$1" config="$2" watch="${3:-}" i
  local args=(--kubeconfig "${KUBECONFIG}")
  METRICS_PORT=$(pick_port); HEALTH_PORT=$(pick_port)
  while [[ "${HEALTH_PORT}" == "${METRICS_PORT}" ]]; do HEALTH_PORT=$(pick_port); done
  args+=(--metrics-bind-address "127.0.0.1:${METRICS_PORT}" --health-probe-bind-address "127.0.0.1:${HEALTH_PORT}")
  [[ "${config}" == default ]] || args+=(--qps "${config%%:*}" --workers "${config##*:}")
  [[ -z "${watch}" ]] || args+=(--watch-namespace "${watch}")
  "${OPERATOR_BINARY}" "${args[@]}" >"${WORK}/operator-${name}.log" 2>&1 &
  OPERATOR_PID=$!
  for i in $(seq 1 300); do
    curl -sf "http://127.0.0.1:${HEALTH_PORT}/readyz" >/dev/null 2>&1 && return 0
    kill -0 "${OPERATOR_PID}" 2>/dev/null || break
    sleep 0.1
  done
  echo "run-operator-bench: the operator did not become ready; see ${WORK}/operator-${name}.log" >&2
  tail -n 20 "${WORK}/operator-${name}.log" >&2
  exit 1
}

# metrics: the operator's request counters by method, all writes and the FinancialApi reconciles, as JSON.
metrics() {
  curl -sf "http://127.0.0.1:${METRICS_PORT}/metrics" | awk '
    /^rest_client_requests_total\{/ { if (match($0, /method="[A-Z]+"/)) s[substr($0, RSTART + 8, RLENGTH - 9)] += $NF }
    /^controller_runtime_reconcile_total\{controller="financialapi"/ { r += $NF; if ($0 ~ /result="error"/) e += $NF }
    /^workqueue_depth\{controller="financialapi"/ { d = $NF }
    END {
      printf "{"; for (m in s) printf "\"%s\":%d,", m, s[m];
      printf "\"writes\":%d,\"reconciles\":%d,\"errors\":%d,\"depth\":%d}\n", s["PATCH"] + s["POST"] + s["PUT"] + s["DELETE"], r, e, d
    }'
}
# metrics_delta BEFORE AFTER: AFTER − BEFORE per key (missing keys count as 0); the queue depth is AFTER's.
metrics_delta() {
  jq -nc --argjson a "$1" --argjson b "$2" '($a + $b | keys) | map({(.): (($b[.] // 0) - ($a[.] // 0))}) | add | .depth = $b.depth'
}

# quiesce: waits (at most 180 s) until the operator's work queue is empty and no reconcile has finished
# for 3 s: children keep changing for a while after Ready (Deployment and PodDisruptionBudget status),
# and each change queues a reconcile. Prints the seconds waited.
quiesce() {
  local started last="" same=0 now
  started=$(date +%s.%N)
  while awk -v s="${started}" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s < 180) }'; do
    now=$(metrics | jq -r '"\(.depth) \(.reconciles)"')
    if [[ "${now%% *}" == 0 && "${now}" == "${last}" ]]; then
      same=$((same + 1))
      ((same >= 3)) && break
    else
      same=0
    fi
    last="${now}"
    sleep 1
  done
  awk -v s="${started}" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'
}
# process PID: the operator's memory (MB) and CPU time so far.
process() {
  local tick
  tick=$(getconf CLK_TCK)
  jq -nc --argjson hwm "$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status")" \
    --argjson rss "$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status")" \
    --argjson threads "$(awk '/^Threads:/ {print $2}' "/proc/$1/status")" \
    --argjson cpu "$(awk -v t="${tick}" '{print ($14 + $15) / t}' "/proc/$1/stat")" \
    '{vmhwm_mb: ($hwm / 1024 * 10 | round / 10), vmrss_mb: ($rss / 1024 * 10 | round / 10), threads: $threads, cpu_seconds: $cpu}'
}

# snapshot NS: every FinancialApi and every child (controller ownerReference to a FinancialApi) in NS as
# [{k, rv, writers}], writers = field managers with a managedFields entry dated at or after $2.
CHILD_KINDS="secrets,configmaps,services,persistentvolumeclaims,statefulsets.apps,deployments.apps,horizontalpodautoscalers.autoscaling,poddisruptionbudgets.policy,networkpolicies.networking.k8s.io,cronjobs.batch"
snapshot() {
  local ns="$1" since="$2"
  {
    kubectl_ get financialapis.edgartools.io -n "${ns}" -o json --show-managed-fields
    kubectl_ get "${CHILD_KINDS}" -n "${ns}" -l app.kubernetes.io/managed-by=financialapi-operator -o json --show-managed-fields
  } | jq -cs --arg since "${since}" '[.[].items[]
      | select(.kind == "FinancialApi" or any(.metadata.ownerReferences[]?; .controller == true and .kind == "FinancialApi"))
      | {k: "\(.kind)/\(.metadata.name)", rv: .metadata.resourceVersion,
         writers: [.metadata.managedFields[]? | select(.time >= $since) | .manager] | unique}]'
}

# steady NS APIS: the steady-state window; prints its JSON.
steady() {
  local ns="$1" apis="$2" since m0 m1 delta mq quiet
  mq=$(metrics)
  quiet=$(quiesce)
  since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  m0=$(metrics)
  snapshot "${ns}" "${since}" >"${WORK}/snapshot-0.json"
  sleep "${WINDOW}"
  snapshot "${ns}" "${since}" >"${WORK}/snapshot-1.json"
  m1=$(metrics)
  delta=$(metrics_delta "${m0}" "${m1}")
  jq -nc --argjson d "${delta}" --argjson apis "${apis}" --argjson window "${WINDOW}" --argjson quiet "${quiet}" \
    --argjson before_quiet "$(metrics_delta "${mq}" "${m0}")" --argjson mq "${mq}" \
    --slurpfile a "${WORK}/snapshot-0.json" --slurpfile b "${WORK}/snapshot-1.json" '
    ($a[0] | map({(.k): .rv}) | add // {}) as $before
    | [$b[0][] | select($before[.k] != null and $before[.k] != .rv)] as $changed
    | {window_seconds: $window, quiesce_seconds: $quiet, quiesce_reconciles: $before_quiet.reconciles,
       quiesce_writes: $before_quiet.writes, queue_depth_at_start: $mq.depth, objects: ($b[0] | length), writes: $d.writes, writes_per_api: ($d.writes / $apis),
       other_requests: (($d | del(.writes, .reconciles, .errors, .depth) | add // 0) - $d.writes), requests: $d,
       reconciles: $d.reconciles,
       changed: ($changed | length),
       changed_by_operator: ($changed | map(select(.writers | index("financialapi-operator"))) | length),
       changed_by_kind: ($changed | group_by(.k | split("/")[0])
         | map({key: (.[0].k | split("/")[0]), value: {count: length, writers: ([.[].writers[]] | unique)}}) | from_entries),
       added: ([$b[0][] | select($before[.k] == null)] | length)}'
}

# --- measurements -------------------------------------------------------------------------------------

mkdir -p "${STATE_DIR}" "${RESULTS_DIR}"
rm -rf "${WORK}"
mkdir -p "${WORK}"
FINAL_RAW="${RAW}"
RAW="${WORK}/$(basename "${FINAL_RAW}")"
: >"${RAW}"
export KUBECACHEDIR="${STATE_DIR}/kubectl-cache"

# The scale spec: no pods but one API pod, no volume claims, no autoscaler (see docs/benchmarks.md).
cat >"${WORK}/scale.json" <<'EOF'
{"apiVersion": "edgartools.io/v1alpha1", "kind": "FinancialApi", "metadata": {"name": "fa"},
 "spec": {"api": {"replicas": 1}, "autoscaling": {"enabled": false},
          "postgres": {"managed": false, "external": {"host": "db.example", "credentialsSecretRef": {"name": "db-creds"}},
                       "backup": {"enabled": false}},
          "redis": {"managed": false, "external": {"host": "cache.example"}}}}
EOF

start_cluster 20
jq -nc --arg date "$(date -u '+%Y-%m-%d %H:%M')" --arg nproc "$(nproc)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
  --arg memory "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" --arg kernel "$(uname -r)" \
  --arg load "${LOAD_BEFORE}" --arg k8s "$(kubectl_ version -o json | jq -r .serverVersion.gitVersion)" \
  --arg etcd "$("$(cat "${CLUSTER_DIR}/bin-dir")/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')" \
  --arg commit "$(git -C "${REPO_DIR}" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "${REPO_DIR}" diff --quiet HEAD -- operator common bench 2>/dev/null || echo "+changes")" \
  --argjson runs "${SINGLE_RUNS}" --argjson small "${SMALL}" --argjson large "${LARGE}" --arg small_configs "${SMALL_CONFIGS}" \
  --arg large_configs "${LARGE_CONFIGS}" --argjson window "${WINDOW}" --argjson threads "${THREADS}" \
  '{bench: "run", date: $date, nproc: $nproc, cpu_model: $cpu, memory: $memory, kernel: $kernel, load_before: $load,
    kubernetes: $k8s, etcd: $etcd, commit: $commit, single_runs: $runs, small: $small, large: $large,
    small_configs: $small_configs, large_configs: $large_configs, window_seconds: $window, threads: $threads}' >>"${RAW}"
kubectl_ create --dry-run=client -o json -f "${REPO_DIR}/examples/financialapi.yaml" >"${WORK}/production.json"

# --- 1. one production FinancialApi, kubectl apply → children → Ready ----------------------------------
start_operator single default
IDLE=$(process "${OPERATOR_PID}")
for ((r = 1; r <= SINGLE_RUNS; r++)); do
  ns="op-single-${r}"
  say "single ${r}/${SINGLE_RUNS}: kubectl apply -f examples/financialapi.yaml in ${ns}, until children and Ready"
  kubectl_ create namespace "${ns}" >/dev/null
  m0=$(metrics)
  result=$("${OPERATOR_BENCH}" observe --namespace "${ns}" --spec "${WORK}/production.json" --wait-ready \
    --timeout-seconds "${TIMEOUT}" -- "${KUBECTL}" apply -n "${ns}" -f "${REPO_DIR}/examples/financialapi.yaml" 2>>"${WORK}/observe.log")
  m1=$(metrics)
  steady_json=null
  if ((r == SINGLE_RUNS)); then
    say "single ${r}/${SINGLE_RUNS}: steady state for ${WINDOW}s"
    steady_json=$(steady "${ns}" 1)
  fi
  jq -c --argjson run "${r}" --argjson requests "$(metrics_delta "${m0}" "${m1}")" --argjson steady "${steady_json}" \
    --argjson operator "$(process "${OPERATOR_PID}")" --argjson idle "${IDLE}" \
    '. + {bench: "single", run: $run, config: "default", requests: $requests, operator: $operator, operator_idle: $idle}
     + (if $steady == null then {} else {steady: $steady} end)' <<<"${result}" | record
  # The FinancialApi first (the garbage collector removes its children), then the namespace.
  kubectl_ delete financialapis --all -n "${ns}" --wait=true --timeout=120s >/dev/null
  kubectl_ delete namespace "${ns}" --wait=true --timeout=180s >/dev/null
done
stop_operator

# --- 2. FinancialApis created at once ------------------------------------------------------------------
# scale_run N CONFIG full|children: a fresh operator restricted to a fresh namespace; N created at once.
# full: until every child is applied and every FinancialApi Ready, then the steady state; children:
# until every child is applied (Ready at this size is the control plane's pace, not the operator's).
scale_run() {
  local n="$1" config="$2" mode="$3" ns m0 m1 result steady_json idle at_end wait_ready=()
  ns="op-${n}-${config/:/-}"
  ns="${ns//default/d}"
  kubectl_ create namespace "${ns}" >/dev/null
  kubectl_ create secret generic db-creds -n "${ns}" --from-literal=username=bench --from-literal=password=bench-password >/dev/null
  start_operator "${ns}" "${config}" "${ns}"
  idle=$(process "${OPERATOR_PID}")
  m0=$(metrics)
  [[ "${mode}" == full ]] && wait_ready=(--wait-ready)
  say "scale: ${n} FinancialApis at once, operator $(config_label "${config}"), namespace ${ns}, until ${mode/full/Ready}"
  result=$("${OPERATOR_BENCH}" observe --namespace "${ns}" --spec "${WORK}/scale.json" --create "${n}" \
    --threads "${THREADS}" "${wait_ready[@]}" --timeout-seconds "${TIMEOUT}" 2>>"${WORK}/observe.log")
  m1=$(metrics)
  at_end=$(process "${OPERATOR_PID}")
  steady_json=null
  if [[ "${mode}" == full ]]; then
    say "scale: children $(jq -r .children_seconds <<<"${result}") s, Ready $(jq -r .ready_seconds <<<"${result}") s; steady state for ${WINDOW}s"
    steady_json=$(steady "${ns}" "${n}")
  else
    say "scale: children $(jq -r .children_seconds <<<"${result}") s"
  fi
  jq -c --arg config "${config}" --arg mode "${mode}" --argjson requests "$(metrics_delta "${m0}" "${m1}")" \
    --argjson steady "${steady_json}" --argjson operator "$(process "${OPERATOR_PID}")" --argjson at_end "${at_end}" \
    --argjson idle "${idle}" --argjson n "${n}" '
    . + {bench: "scale", config: $config, mode: $mode, requests: $requests, operator: $operator,
         operator_at_end: $at_end, operator_idle: $idle,
         operator_cpu_to_end: (($at_end.cpu_seconds - $idle.cpu_seconds) * 100 | round / 100),
         apis_per_second: (if .children_seconds then ($n / .children_seconds * 10 | round / 10) else null end),
         per_api: ($requests | del(.depth) | map_values(. / $n * 100 | round / 100))}
    + (if $steady == null then {} else {steady: $steady} end)' <<<"${result}" | record
  stop_operator
}

# raw_run N THREADS REPEAT
raw_run() {
  say "raw client: ${1} FinancialApis' worth of children, ${2} thread(s) (round ${3})"
  "${OPERATOR_BENCH}" raw-apply --namespace "raw-${1}-t${2}-${3}" --spec "${WORK}/scale.json" --count "$1" \
    --threads "$2" --timeout-seconds "${TIMEOUT}" 2>>"${WORK}/raw.log" | jq -c --argjson r "$3" '. + {round: $r}' | record
}

for config in ${SMALL_CONFIGS}; do scale_run "${SMALL}" "${config}" full; done
for ((r = 1; r <= RAW_REPEATS; r++)); do
  raw_run "${SMALL}" 1 "$r"
  raw_run "${SMALL}" "${THREADS}" "$r"
done

# LARGE: a fresh cluster for each measurement, so one's pods and controllers' work do not weigh on the next.
if [[ -n "${RAW_LARGE_THREADS}" ]]; then
  start_cluster 30   # each raw round's Deployments make one pod per FinancialApi
  for t in ${RAW_LARGE_THREADS}; do raw_run "${LARGE}" "$t" 1; done
fi
mode=full
for config in ${LARGE_CONFIGS}; do
  start_cluster 20   # one API pod per FinancialApi
  scale_run "${LARGE}" "${config}" "${mode}"
  [[ "${LARGE_FULL_ALL}" == 1 ]] || mode=children
done

# --- report ---------------------------------------------------------------------------------------------
jq -nc --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson seconds "$((SECONDS - STARTED))" \
  '{bench: "end", end_load: $load, end_seconds: $seconds}' >>"${RAW}"
mv "${RAW}" "${FINAL_RAW}"
RAW="${FINAL_RAW}"
say "writing ${REPORT}"
write_report "${RAW}" "${REPORT}"
cat "${REPORT}"
say "done: ${REPORT}"
