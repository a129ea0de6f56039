#!/usr/bin/env bash
# Benchmarks financial-api-server against a FastAPI + uvicorn peer of the same endpoints
# (bench/api/fastapi_peer) and against nginx serving the C++ server's answers from files, with wrk on
# loopback, on the same PostgreSQL, Redis and data (data/sec), and writes
#   bench/results/api-<date>.jsonl   the machine, the answer comparisons, one line per wrk run (with its output)
#   bench/results/api-<date>.md      the machine, the table (median of the rounds), ratios, raw wrk output
# `make bench-api` builds the server and runs this. See docs/benchmarks.md for what the numbers mean.
#
#   bench/api/run-api-bench.sh                   start everything, compare answers, measure, stop, report
#   bench/api/run-api-bench.sh report RAW.jsonl  (re)write the markdown next to RAW from its lines alone
#
# Scenarios (each server on the same URL): 1 cached concept series, 2 cached frame, 3 cached statement
# (C++, FastAPI, nginx), 4 uncached company profile (C++ and FastAPI, both with CACHE_TTL_SECONDS=0).
# Every run: a warm-up, then `wrk -t2 -c64 -d10s --latency`; each scenario twice, servers in alternating
# order. Rate limiting is off in both servers; nginx serves the C++ server's bytes as application/json.
#
# Environment: API_SERVER (the binary, default build-bench/api-server/financial-api-server),
# BENCH_BUILD_DIR (default build-bench: the venv, databases and logs go below it), API_WORKER_THREADS (the
# C++ server's WORKER_THREADS, default 4), FASTAPI_WORKERS (2), BENCH_DURATION (10), BENCH_WARMUP (3),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2, wrk's), BENCH_ROUNDS (2), BENCH_RESULTS_DIR (bench/results),
# BENCH_API_SERVERS ("cpp fastapi nginx"; without cpp, nginx serves FastAPI's bytes), API_LOAD_COMMAND
# (default "$API_SERVER load"; gets the data folder as its last argument and DATABASE_URL).
set -Eeuo pipefail

API_BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${API_BENCH_DIR}/../.." && pwd)"
RESULTS_DIR="${BENCH_RESULTS_DIR:-${REPO_DIR}/bench/results}"
PYTHON="${PYTHON:-python3}"

# --- report -------------------------------------------------------------------------------------------
if [[ "${1:-}" == report ]]; then
  RAW="$2"
  "${PYTHON}" "${API_BENCH_DIR}/report.py" "${RAW}" "${RAW%.jsonl}.md"
  exit 0
fi

BENCH_BUILD_DIR="${BENCH_BUILD_DIR:-${REPO_DIR}/build-bench}"
mkdir -p "${BENCH_BUILD_DIR}"
BENCH_BUILD_DIR="$(cd "${BENCH_BUILD_DIR}" && pwd)"
API_SERVER="${API_SERVER:-${BENCH_BUILD_DIR}/api-server/financial-api-server}"
API_LOAD_COMMAND="${API_LOAD_COMMAND:-${API_SERVER} load}"
SERVERS="${BENCH_API_SERVERS:-cpp fastapi nginx}"
WORKER_THREADS="${API_WORKER_THREADS:-4}"
FASTAPI_WORKERS="${FASTAPI_WORKERS:-2}"
DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-3}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
WRK_THREADS="${BENCH_THREADS:-2}"
ROUNDS="${BENCH_ROUNDS:-2}"
CACHE_TTL=300

STATE_DIR="${BENCH_BUILD_DIR}/api-bench-state"
LOGS="${STATE_DIR}/logs"
DB_DIR="${STATE_DIR}/databases"
VENV="${BENCH_BUILD_DIR}/fastapi-venv"
DATE="$(date -u +%Y-%m-%d)"
RAW="${RESULTS_DIR}/api-${DATE}.jsonl"
REPORT="${RESULTS_DIR}/api-${DATE}.md"
NGINX_DIR=""

source "${REPO_DIR}/hack/lib/process.sh"   # pick_port, start_process, stop_process, wait_until

STARTED=${SECONDS}
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
say() { printf '[%4ds] %s\n' $((SECONDS - STARTED)) "$*" >&2; }
has() { [[ " ${SERVERS} " == *" $1 "* ]]; }

URL_CONCEPT=/v1/companies/AAPL/concepts/us-gaap/Assets
URL_FRAME=/v1/frames/us-gaap/Assets/USD/CY2024Q4I
URL_STATEMENT='/v1/companies/AAPL/statements/income?period=annual'
URL_PROFILE=/v1/companies/AAPL

for tool in wrk nginx curl jq "${PYTHON}"; do
  command -v "${tool}" >/dev/null || { echo "run-api-bench: ${tool} not found (make deps installs wrk and nginx)" >&2; exit 1; }
done
if has cpp && [[ ! -x "${API_SERVER}" ]]; then
  echo "run-api-bench: ${API_SERVER} not found; build it first (make bench-api does)" >&2
  exit 1
fi

cleanup() {
  local rc=$?
  set +e
  for name in cpp fastapi nginx; do stop_process "${name}"; done
  "${REPO_DIR}/hack/local-databases" down --state-dir "${DB_DIR}" >/dev/null 2>&1
  [[ -n "${NGINX_DIR}" && "${NGINX_DIR}" == /tmp/api-bench-nginx.* ]] && rm -rf "${NGINX_DIR}"
  ((rc == 0)) || say "failed (exit ${rc}); logs in ${LOGS}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'say "failed at line ${LINENO}: ${BASH_COMMAND}"' ERR

mkdir -p "${STATE_DIR}" "${LOGS}" "${RESULTS_DIR}"
rm -f "${STATE_DIR}"/pids/{cpp,fastapi,nginx}.pid

# --- the FastAPI peer's virtualenv (re-created when requirements.txt or the Python changes) -----------
requirements="${API_BENCH_DIR}/fastapi_peer/requirements.txt"
stamp="$(cat "${requirements}" <("${PYTHON}" -VV) | sha256sum | cut -c1-16)"
if [[ "$(cat "${VENV}/.bench-stamp" 2>/dev/null)" != "${stamp}" ]]; then
  say "creating ${VENV} (pip install -r bench/api/fastapi_peer/requirements.txt)"
  rm -rf "${VENV}"
  "${PYTHON}" -m venv "${VENV}"
  "${VENV}/bin/pip" install -q --disable-pip-version-check -r "${requirements}" >"${LOGS}/pip.log" 2>&1 \
    || { tail -n 20 "${LOGS}/pip.log" >&2; exit 1; }
  echo "${stamp}" >"${VENV}/.bench-stamp"
fi

# --- databases and data -------------------------------------------------------------------------------
say "starting PostgreSQL and Redis (${DB_DIR})"
"${REPO_DIR}/hack/local-databases" down --state-dir "${DB_DIR}" >/dev/null 2>&1 || true
"${REPO_DIR}/hack/local-databases" up --state-dir "${DB_DIR}" >/dev/null
DATABASE_URL="$(cat "${DB_DIR}/postgres-url")"
REDIS_URL="$(cat "${DB_DIR}/redis-url")"
REDIS_BASE="${REDIS_URL%/*}"          # the C++ server uses database 0, the peer database 1: no shared keys
POSTGRES_PID="$(cat "${DB_DIR}/pids/postgres.pid")"
REDIS_PID="$(cat "${DB_DIR}/pids/redis.pid")"

say "loading data/sec (${API_LOAD_COMMAND})"
load_started=${SECONDS}
# shellcheck disable=SC2086 # API_LOAD_COMMAND is a command line
DATABASE_URL="${DATABASE_URL}" ${API_LOAD_COMMAND} "${REPO_DIR}/data/sec" >"${LOGS}/load.log" 2>&1 \
  || { echo "load failed:" >&2; tail -n 20 "${LOGS}/load.log" >&2; exit 1; }
LOAD_SECONDS=$((SECONDS - load_started))

# --- servers ------------------------------------------------------------------------------------------
declare -A BASE PORTS
for name in cpp fastapi nginx; do PORTS[${name}]=$(pick_port); BASE[${name}]="http://127.0.0.1:${PORTS[${name}]}"; done

# start_servers TTL: the C++ server and the peer with CACHE_TTL_SECONDS=TTL, until /health answers.
start_servers() {
  local ttl="$1"
  if has cpp; then
    start_process cpp env DATABASE_URL="${DATABASE_URL}" REDIS_URL="${REDIS_BASE}/0" PORT="${PORTS[cpp]}" \
      WORKER_THREADS="${WORKER_THREADS}" CACHE_TTL_SECONDS="${ttl}" RATE_LIMIT_RPS=0 LOG_LEVEL=warn \
      "${API_SERVER}" serve
  fi
  if has fastapi; then
    start_process fastapi env PYTHONDONTWRITEBYTECODE=1 DATABASE_URL="${DATABASE_URL}" REDIS_URL="${REDIS_BASE}/1" \
      CACHE_TTL_SECONDS="${ttl}" \
      "${VENV}/bin/uvicorn" app:app --app-dir "${API_BENCH_DIR}/fastapi_peer" --host 127.0.0.1 \
      --port "${PORTS[fastapi]}" --workers "${FASTAPI_WORKERS}" --loop uvloop --http httptools \
      --no-access-log --log-level warning
  fi
  local name
  for name in cpp fastapi; do
    has "${name}" && wait_until 60 "${name} /health" curl -fsS "${BASE[${name}]}/health"
  done
  return 0
}
stop_servers() { stop_process cpp; stop_process fastapi; }

# start_nginx SOURCE: nginx on PORTS[nginx] serving SOURCE's answers to scenarios 1-3 from files, at the
# same paths (the query string is ignored), as application/json.
start_nginx() {
  local source="$1" n=0 url
  NGINX_DIR="$(mktemp -d /tmp/api-bench-nginx.XXXXXX)"
  chmod 755 "${NGINX_DIR}"   # nginx's workers run as nobody when started as root
  mkdir -p "${NGINX_DIR}/files" "${NGINX_DIR}/tmp"
  "${PYTHON}" "${API_BENCH_DIR}/compare.py" "${source}" "${BASE[${source}]}" "${source}" "${BASE[${source}]}" \
    "${URL_CONCEPT}" "${URL_FRAME}" "${URL_STATEMENT}" --save-dir "${NGINX_DIR}/files" >/dev/null
  chmod -R a+rX "${NGINX_DIR}/files"
  {
    echo "daemon off;"
    echo "worker_processes ${FASTAPI_WORKERS};"
    echo "pid ${NGINX_DIR}/nginx.pid;"
    echo "error_log ${LOGS}/nginx-error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    echo "  sendfile on; tcp_nopush on; tcp_nodelay on;"
    echo "  open_file_cache max=64 inactive=60s; open_file_cache_valid 60s;"
    echo "  keepalive_requests 1000000;   # wrk keeps its 64 connections; the default 1000 would close them"
    echo "  types { } default_type application/json;"
    echo "  client_body_temp_path ${NGINX_DIR}/tmp/body; proxy_temp_path ${NGINX_DIR}/tmp/proxy;"
    echo "  fastcgi_temp_path ${NGINX_DIR}/tmp/fastcgi; uwsgi_temp_path ${NGINX_DIR}/tmp/uwsgi; scgi_temp_path ${NGINX_DIR}/tmp/scgi;"
    echo "  server {"
    echo "    listen 127.0.0.1:${PORTS[nginx]};"
    for url in "${URL_CONCEPT}" "${URL_FRAME}" "${URL_STATEMENT}"; do
      echo "    location = ${url%%\?*} { alias ${NGINX_DIR}/files/${n}.json; }"
      n=$((n + 1))
    done
    echo "  }"
    echo "}"
  } >"${NGINX_DIR}/nginx.conf"
  start_process nginx nginx -e "${LOGS}/nginx-error.log" -p "${NGINX_DIR}" -c "${NGINX_DIR}/nginx.conf"
  wait_until 30 "nginx" curl -fsS -o /dev/null "${BASE[nginx]}${URL_CONCEPT}"
}

# --- measuring ----------------------------------------------------------------------------------------
CLK_TCK="$(getconf CLK_TCK)"
# tree_ticks PID: CPU clock ticks (user + system) used so far by PID and its direct children (uvicorn's
# and nginx's workers, PostgreSQL's backends). A child that exits during a run (an autovacuum worker)
# takes its ticks along, so a difference can come out low, even negative (recorded as 0).
tree_ticks() {
  # A process can end between the glob and cat's read of it: cat then fails, which is harmless here.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } |
    awk -v p="$1" '{ pid = $1; sub(/^.*\) /, ""); if (pid == p || $2 == p) t += $12 + $13 } END { print t + 0 }'
}

# run_wrk SCENARIO NAME SERVER ROUND URL CACHE: warm-up, then the measured run; one JSON line to RAW.
run_wrk() {
  local scenario="$1" name="$2" server="$3" round="$4" url="$5" cache="$6"
  local target="${BASE[${server}]}${url}" out="${STATE_DIR}/wrk-${scenario}-${server}-${round}.txt"
  local server_pid before_server before_pg before_redis wrk_cpu load
  server_pid="$(cat "${STATE_DIR}/pids/${server}.pid")"
  if ! pid_alive "${server_pid}"; then
    say "${server} is not running any more; last lines of ${LOGS}/${server}.log:"
    wait "${server_pid}" || say "its exit status: $?"
    tail -n 20 "${LOGS}/${server}.log" >&2
    return 1
  fi
  wrk -t"${WRK_THREADS}" -c"${CONNECTIONS}" -d"${WARMUP}s" "${target}" >/dev/null
  before_server=$(tree_ticks "${server_pid}"); before_pg=$(tree_ticks "${POSTGRES_PID}"); before_redis=$(tree_ticks "${REDIS_PID}")
  local TIMEFORMAT='%U %S'
  wrk_cpu=$( { time wrk -t"${WRK_THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency \
                 -s "${API_BENCH_DIR}/wrk-report.lua" "${target}" >"${out}"; } 2>&1 | awk '{ print $1 + $2 }')
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  grep '^WRK_JSON ' "${out}" | cut -d' ' -f2- | jq -c \
    --arg scenario "${scenario}" --arg name "${name}" --arg server "${server}" --argjson round "${round}" \
    --arg url "${url}" --arg cache "${cache}" --arg load "${load}" --argjson wrk_cpu "${wrk_cpu}" \
    --argjson server_cpu "$(( $(tree_ticks "${server_pid}") - before_server ))" \
    --argjson pg_cpu "$(( $(tree_ticks "${POSTGRES_PID}") - before_pg ))" \
    --argjson redis_cpu "$(( $(tree_ticks "${REDIS_PID}") - before_redis ))" --argjson tck "${CLK_TCK}" \
    --arg cmd "wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION}s --latency ${target}" \
    --rawfile output "${out}" \
    '{bench: "wrk", scenario: ($scenario | tonumber), name: $name, server: $server, round: $round, url: $url,
      cache: $cache, connections: '"${CONNECTIONS}"', threads: '"${WRK_THREADS}"'} + .
     + {cpu_s: {server: ([$server_cpu, 0] | max / $tck), postgres: ([$pg_cpu, 0] | max / $tck),
               redis: ([$redis_cpu, 0] | max / $tck), wrk: $wrk_cpu},
        load_after: $load, command: $cmd, output: ($output | sub("WRK_JSON [^\n]*\n"; ""))}' >>"${RAW}"
  say "  ${scenario} ${server} round ${round}: $(jq -r 'select(.bench == "wrk") | "\(.rps | floor) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, non-2xx \(.errors_status)"' <<<"$(tail -n 1 "${RAW}")")"
}

# measure SCENARIO NAME URL CACHE SERVER...: ROUNDS rounds, servers in order, then reversed, ...
measure() {
  local scenario="$1" name="$2" url="$3" cache="$4"; shift 4
  local servers=() s round
  for s in "$@"; do has "${s}" && servers+=("${s}"); done
  for ((round = 1; round <= ROUNDS; round++)); do
    local order=("${servers[@]}") i
    if ((round % 2 == 0)); then
      order=(); for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[i]}"); done
    fi
    for s in "${order[@]}"; do run_wrk "${scenario}" "${name}" "${s}" "${round}" "${url}" "${cache}"; done
  done
}

# compare A B URL...: JSON comparison lines into RAW; says which differ.
compare() {
  local a="$1" b="$2"; shift 2
  has "${a}" && has "${b}" || return 0
  "${PYTHON}" "${API_BENCH_DIR}/compare.py" "${a}" "${BASE[${a}]}" "${b}" "${BASE[${b}]}" "$@" >"${STATE_DIR}/compare.jsonl"
  cat "${STATE_DIR}/compare.jsonl" >>"${RAW}"
  jq -r '"  \(.a) vs \(.b) \(.url): " + (if .equal then "equal (\(.bytes | to_entries | map("\(.key) \(.value) B") | join(", ")))"
          else "DIFFERENT, \(.difference_count) differences: \(.differences[:3] | join("; "))" end)' \
    "${STATE_DIR}/compare.jsonl" >&2
}

# --- run ----------------------------------------------------------------------------------------------
commit="$(git -C "${REPO_DIR}" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "${REPO_DIR}" status --porcelain -- api-server bench/api 2>/dev/null)" ]] && commit+="+changes"
pkg_versions="$("${VENV}/bin/pip" freeze 2>/dev/null | grep -Ei '^(fastapi|uvicorn|uvloop|httptools|asyncpg|redis|hiredis|orjson|starlette)==' | paste -sd' ')"
jq -cn --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg nproc "$(nproc)" \
  --arg cpu_model "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
  --arg memory "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
  --arg kernel "$(uname -r)" --arg load_before "${LOAD_BEFORE}" --arg commit "${commit}" \
  --arg servers "${SERVERS}" --arg worker_threads "${WORKER_THREADS}" --arg fastapi_workers "${FASTAPI_WORKERS}" \
  --arg nginx "$(nginx -v 2>&1 | sed 's/^nginx version: //')" --arg wrk "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)" \
  --arg python "$("${VENV}/bin/python" -V 2>&1)" --arg packages "${pkg_versions}" \
  --arg postgres "$(psql --version 2>/dev/null | awk '{ print $3 }')" \
  --arg redis "$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')" \
  --arg api_server "$(has cpp && "${API_SERVER}" --version 2>/dev/null | head -n 1 || echo n/a)" \
  --arg build_type "$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$(dirname "${API_SERVER}")")/CMakeCache.txt" 2>/dev/null || true)" \
  --argjson load_seconds "${LOAD_SECONDS}" \
  '{bench: "run", date: $date, nproc: $nproc, cpu_model: $cpu_model, memory: $memory, kernel: $kernel,
    load_before: $load_before, commit: $commit, servers: $servers, worker_threads: $worker_threads,
    fastapi_workers: $fastapi_workers, nginx: $nginx, wrk: $wrk, python: $python, packages: $packages,
    postgres: $postgres, redis: $redis, api_server: $api_server, build_type: $build_type, load_seconds: $load_seconds,
    duration_s: '"${DURATION}"', warmup_s: '"${WARMUP}"', connections: '"${CONNECTIONS}"',
    wrk_threads: '"${WRK_THREADS}"', rounds: '"${ROUNDS}"', cache_ttl: '"${CACHE_TTL}"'}' >"${RAW}"

say "cached: starting the servers with CACHE_TTL_SECONDS=${CACHE_TTL} (C++ WORKER_THREADS=${WORKER_THREADS}, uvicorn --workers ${FASTAPI_WORKERS})"
start_servers "${CACHE_TTL}"
say "comparing answers"
compare cpp fastapi "${URL_CONCEPT}" "${URL_FRAME}" "${URL_STATEMENT}" "${URL_PROFILE}"
if has nginx; then
  nginx_source=cpp; has cpp || nginx_source=fastapi
  start_nginx "${nginx_source}"
  say "nginx serves ${nginx_source}'s answers"
  compare nginx "${nginx_source}" "${URL_CONCEPT}" "${URL_FRAME}" "${URL_STATEMENT}"
fi
measure 1 "cached concept series" "${URL_CONCEPT}" cached cpp fastapi nginx
measure 2 "cached frame" "${URL_FRAME}" cached cpp fastapi nginx
measure 3 "cached statement" "${URL_STATEMENT}" cached cpp fastapi nginx
stop_process nginx
stop_servers

say "uncached: restarting the servers with CACHE_TTL_SECONDS=0"
start_servers 0
compare cpp fastapi "${URL_PROFILE}"
measure 4 "uncached company profile" "${URL_PROFILE}" uncached cpp fastapi
stop_servers

jq -cn --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson s $((SECONDS - STARTED)) \
  '{bench: "end", end_load: $load, seconds: $s}' >>"${RAW}"
"${PYTHON}" "${API_BENCH_DIR}/report.py" "${RAW}" "${REPORT}"
say "done: ${REPORT}"
"${PYTHON}" "${API_BENCH_DIR}/report.py" "${RAW}" - --table-only
