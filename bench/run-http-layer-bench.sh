#!/usr/bin/env bash
# HTTP layer benchmark: cpprestsdk's http_listener (http-bench-cpprest) against the Boost.Beast server
# the API server is built on (http-bench-beast, financialapi::http), with nginx serving the same bytes as
# a reference. Each answers GET /v1/cached with the same ~4 KB JSON body. All three run at once on
# 127.0.0.1 with 2 threads/workers; wrk drives them one at a time, in two rounds of alternating order
# (cpprest, beast, nginx; then nginx, beast, cpprest) so drift on the machine hits all of them alike.
# Writes bench/results/http-layer-<date>.md: the machine, a table (req/s, p50, p99, ratio to nginx,
# server CPU per request) and every raw wrk output. `make bench-http-layer` builds the two servers
# and runs this; see docs/benchmarks.md, "HTTP layer: cpprestsdk vs Boost.Beast".
#
# Environment: HTTP_BENCH_CPPREST, HTTP_BENCH_BEAST (the binaries, default build-bench/bench/...),
# NGINX (default: nginx on PATH or /usr/sbin/nginx), BENCH_SERVER_THREADS (2), BENCH_WRK_THREADS (2),
# BENCH_CONNECTIONS (64), BENCH_DURATION (seconds, 10), BENCH_WARMUP (seconds, 3), BENCH_ROUNDS (2),
# BENCH_RESULTS_DIR (bench/results).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "${BENCH_DIR}")"
CPPREST_BIN="${HTTP_BENCH_CPPREST:-${REPO_DIR}/build-bench/bench/http-bench-cpprest}"
BEAST_BIN="${HTTP_BENCH_BEAST:-${REPO_DIR}/build-bench/bench/http-bench-beast}"
NGINX_BIN="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
SERVER_THREADS="${BENCH_SERVER_THREADS:-2}"
WRK_THREADS="${BENCH_WRK_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-3}"
ROUNDS="${BENCH_ROUNDS:-2}"
RESULTS_DIR="${BENCH_RESULTS_DIR:-${BENCH_DIR}/results}"
DATE="$(date -u +%Y-%m-%d)"
REPORT="${RESULTS_DIR}/http-layer-${DATE}.md"
SERVERS=(cpprest beast nginx)

STARTED=${SECONDS}
say() { printf '[%4ds] %s\n' $((SECONDS - STARTED)) "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in wrk curl cmp; do command -v "${tool}" >/dev/null || die "${tool} not found (make deps installs it)"; done
[[ -x "${NGINX_BIN}" ]] || die "nginx not found at ${NGINX_BIN} (make deps installs it)"
[[ -x "${CPPREST_BIN}" ]] || die "${CPPREST_BIN} not built (make bench-http-layer builds it)"
[[ -x "${BEAST_BIN}" ]] || die "${BEAST_BIN} not built (make bench-http-layer builds it)"

# The work folder must be readable by nginx's workers, which drop root for `nobody`.
STATE_DIR="$(mktemp -d /tmp/financialapi-http-bench.XXXXXX)"
chmod 755 "${STATE_DIR}"
LOGS="${STATE_DIR}/logs"
# shellcheck source=../hack/lib/process.sh
source "${REPO_DIR}/hack/lib/process.sh"

cleanup() {
  local rc=$?
  for name in "${SERVERS[@]}"; do stop_process "${name}"; done
  if ((rc != 0)); then
    report_dead_processes || true
    for log in "${LOGS}"/*.log; do [[ -s "${log}" ]] && { echo "--- ${log}:" >&2; tail -n 20 "${log}" >&2; }; done
  fi
  rm -rf "${STATE_DIR}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- servers -----------------------------------------------------------------------------------------
mkdir -p "${STATE_DIR}/www/v1" "${STATE_DIR}/nginx-temp" "${LOGS}"
BODY="${STATE_DIR}/www/v1/cached"
"${BEAST_BIN}" --write-body "${BODY}"
chmod 644 "${BODY}"
chmod -R a+rX "${STATE_DIR}/www"
BODY_BYTES=$(stat -c %s "${BODY}")

declare -A PORT URL
for name in "${SERVERS[@]}"; do
  PORT[${name}]=$(pick_port)
  URL[${name}]="http://127.0.0.1:${PORT[${name}]}/v1/cached"
done

# Static file with its descriptor cached: nginx at its best for a body it serves from memory.
# keepalive_requests is raised so nginx, like the other two, never closes wrk's connections midway.
cat >"${STATE_DIR}/nginx.conf" <<EOF
worker_processes ${SERVER_THREADS};
daemon off;
pid ${STATE_DIR}/nginx.pid;
error_log ${LOGS}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 60s;
  keepalive_requests 100000000;
  open_file_cache max=16 inactive=60s;
  client_body_temp_path ${STATE_DIR}/nginx-temp/body;
  proxy_temp_path ${STATE_DIR}/nginx-temp/proxy;
  fastcgi_temp_path ${STATE_DIR}/nginx-temp/fastcgi;
  uwsgi_temp_path ${STATE_DIR}/nginx-temp/uwsgi;
  scgi_temp_path ${STATE_DIR}/nginx-temp/scgi;
  types { }
  server {
    listen 127.0.0.1:${PORT[nginx]};
    root ${STATE_DIR}/www;
    location = /v1/cached { default_type application/json; }
    location / { return 404; }
  }
}
EOF

start_process cpprest "${CPPREST_BIN}" --port "${PORT[cpprest]}" --threads "${SERVER_THREADS}"
start_process beast "${BEAST_BIN}" --port "${PORT[beast]}" --threads "${SERVER_THREADS}"
start_process nginx "${NGINX_BIN}" -e "${LOGS}/nginx-error.log" -c "${STATE_DIR}/nginx.conf"

answers_same_body() {
  curl -sf -o "${STATE_DIR}/check-$1" "${URL[$1]}" && cmp -s "${STATE_DIR}/check-$1" "${BODY}"
}
for name in "${SERVERS[@]}"; do
  wait_until 20 "${name} on port ${PORT[${name}]}" answers_same_body "${name}"
  content_type=$(curl -sf -o /dev/null -w '%{content_type}' "${URL[${name}]}")
  [[ "${content_type}" == application/json* ]] || die "${name} answers Content-Type ${content_type}"
done
say "cpprest :${PORT[cpprest]}, beast :${PORT[beast]}, nginx :${PORT[nginx]}: each sends the same ${BODY_BYTES} bytes"

# CPU ticks (user + system) of a server: its process, plus nginx's worker processes.
server_pids() {
  local pid
  pid=$(cat "${STATE_DIR}/pids/$1.pid")
  echo "${pid}"
  if [[ "$1" == nginx ]]; then pgrep -P "${pid}" || true; fi
}
cpu_ticks() {
  local total=0 pid ticks
  for pid in $(server_pids "$1" | sort -u); do
    # Fields after "pid (comm) ": utime and stime are the 12th and 13th.
    ticks=$(sed 's/^.*) //' "/proc/${pid}/stat" 2>/dev/null | awk '{print $12 + $13}') || ticks=0
    total=$((total + ${ticks:-0}))
  done
  echo "${total}"
}
CLK_TCK=$(getconf CLK_TCK)

# --- measuring ---------------------------------------------------------------------------------------
for name in "${SERVERS[@]}"; do
  say "warm-up ${name} (${WARMUP}s)"
  wrk -t"${WRK_THREADS}" -c"${CONNECTIONS}" -d"${WARMUP}s" "${URL[${name}]}" >/dev/null
done

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
RUNS=()  # "round name file cpu_ticks"
for round in $(seq 1 "${ROUNDS}"); do
  if ((round % 2 == 1)); then order=(cpprest beast nginx); else order=(nginx beast cpprest); fi
  for name in "${order[@]}"; do
    say "round ${round}: ${name}: wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION}s --latency"
    out="${STATE_DIR}/wrk-${round}-${name}.txt"
    before=$(cpu_ticks "${name}")
    wrk -t"${WRK_THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency "${URL[${name}]}" >"${out}"
    after=$(cpu_ticks "${name}")
    RUNS+=("${round} ${name} ${out} $((after - before))")
    pid_alive "$(cat "${STATE_DIR}/pids/${name}.pid")" || die "${name} died during the run"
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ------------------------------------------------------------------------------------------
# wrk prints latencies as 812.00us, 1.23ms, 1.05s or 2.00m; everything is reported in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
    printf "%.3f", n }'
}
rps_of() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
pct_of() { to_ms "$(awk -v p="$2" '$1 == p {print $2; exit}' "$1")"; }
requests_of() { awk '/requests in/ {print $1; exit}' "$1"; }
errors_of() {
  awk '/Socket errors:/ {gsub(",", ""); e += $4 + $6 + $8 + $10} /Non-2xx or 3xx responses:/ {e += $5}
       END {print e + 0}' "$1"
}
mean() { awk '{s += $1; n++} END {if (n) printf "%.3f", s / n; else print "n/a"}'; }

declare -A RPS P50 P99 CPU_US
for run in "${RUNS[@]}"; do
  read -r round name file ticks <<<"${run}"
  RPS[${name}]+="$(rps_of "${file}")"$'\n'
  P50[${name}]+="$(pct_of "${file}" 50%)"$'\n'
  P99[${name}]+="$(pct_of "${file}" 99%)"$'\n'
  CPU_US[${name}]+="$(awk -v t="${ticks}" -v hz="${CLK_TCK}" -v n="$(requests_of "${file}")" \
    'BEGIN {printf "%.2f", n ? t / hz * 1e6 / n : 0}')"$'\n'
done
mean_of() { local -n values=$1; printf '%s' "${values[$2]}" | grep -v '^$' | mean; }

nginx_rps=$(mean_of RPS nginx)
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit="$(git -C "${REPO_DIR}" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "${REPO_DIR}" diff --quiet HEAD -- api-server/http bench 2>/dev/null || echo "+changes")"
nginx_version=$("${NGINX_BIN}" -v 2>&1 | sed 's/^nginx version: //')
wrk_version=$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}' || true)
cpprest_version=$(dpkg-query -W -f='${Version}' libcpprest-dev 2>/dev/null || echo unknown)
boost_version=$(dpkg-query -W -f='${Version}' libboost-dev 2>/dev/null || echo unknown)

mkdir -p "${RESULTS_DIR}"
{
  echo "# HTTP layer benchmark: cpprestsdk vs Boost.Beast (nginx as reference) — ${DATE}"
  echo
  echo "Produced by \`make bench-http-layer\` (\`bench/run-http-layer-bench.sh\`); see \`docs/benchmarks.md\`,"
  echo "\"HTTP layer: cpprestsdk vs Boost.Beast\". Every server answers \`GET /v1/cached\` with the same"
  echo "${BODY_BYTES}-byte JSON body (\`bench/http_layer/cached_body.h\`) on 127.0.0.1, with ${SERVER_THREADS} threads (nginx: ${SERVER_THREADS} workers)."
  echo "wrk runs on the same machine: \`wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION}s --latency\`, after a ${WARMUP} s warm-up of each"
  echo "server; ${ROUNDS} rounds, alternating the order (cpprest, beast, nginx / nginx, beast, cpprest)."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date (UTC) | $(date -u +%Y-%m-%dT%H:%M:%SZ) |"
  echo "| CPUs (nproc) | $(nproc) |"
  echo "| CPU model | ${cpu_model} |"
  echo "| memory | $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
  echo "| kernel | $(uname -sr) |"
  echo "| load average (1/5/15 min) before / after measuring | ${LOAD_BEFORE} / ${LOAD_AFTER} |"
  echo "| cpprestsdk / Boost / nginx / wrk | ${cpprest_version} / ${boost_version} / ${nginx_version} / ${wrk_version} |"
  echo "| commit | ${commit} (\"+changes\": api-server/http or bench/ differed from it) |"
  echo
  echo "## Results (mean of the ${ROUNDS} rounds)"
  echo
  echo "| server | req/s | p50 (ms) | p99 (ms) | req/s vs nginx | server CPU per request (µs) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in "${SERVERS[@]}"; do
    rps=$(mean_of RPS "${name}")
    label=${name}
    [[ "${name}" == cpprest ]] && label="cpprestsdk http_listener"
    [[ "${name}" == beast ]] && label="Boost.Beast (financialapi::http)"
    [[ "${name}" == nginx ]] && label="nginx (static file)"
    printf '| %s | %.0f | %.3f | %.3f | %.2f | %.1f |\n' "${label}" "${rps}" "$(mean_of P50 "${name}")" \
      "$(mean_of P99 "${name}")" "$(awk -v a="${rps}" -v b="${nginx_rps}" 'BEGIN {print b ? a / b : 0}')" \
      "$(mean_of CPU_US "${name}")"
  done
  echo
  echo "Server CPU per request: user + system time of the server's processes during the run (from"
  echo "/proc/PID/stat) divided by the requests wrk completed. wrk itself shares the ${SERVER_THREADS} CPUs."
  echo
  echo "## Every run"
  echo
  echo "| round | server | req/s | p50 (ms) | p99 (ms) | requests | errors (socket + non-2xx) | server CPU (s) |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|"
  for run in "${RUNS[@]}"; do
    read -r round name file ticks <<<"${run}"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${round}" "${name}" "$(rps_of "${file}")" \
      "$(pct_of "${file}" 50%)" "$(pct_of "${file}" 99%)" "$(requests_of "${file}")" "$(errors_of "${file}")" \
      "$(awk -v t="${ticks}" -v hz="${CLK_TCK}" 'BEGIN {printf "%.2f", t / hz}')"
  done
  echo
  echo "## Raw wrk output"
  for run in "${RUNS[@]}"; do
    read -r round name file ticks <<<"${run}"
    echo
    echo "### Round ${round}: ${name} (${URL[${name}]%%/v1/cached}/v1/cached)"
    echo
    echo '```'
    cat "${file}"
    echo '```'
  done
} >"${REPORT}"

say "wrote ${REPORT}"
sed -n '/^## Results/,/^## Every run/p' "${REPORT}" | head -n -1 >&2
