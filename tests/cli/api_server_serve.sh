#!/usr/bin/env bash
# The financial-api-server binary as the Deployment runs it: `load` the bundled SEC sample into a
# database of its own, `serve` it, answer through HTTP, refuse a bad configuration by name, and exit 0
# after a graceful SIGTERM.
set -euo pipefail
server="$1" state="$2" source_dir="$3"
fail() { echo "FAIL: $*" >&2; [[ -f "${log:-}" ]] && tail -n 20 "${log}" >&2; exit 1; }

admin_url="$(cat "${state}/postgres-url")"
database="cli_serve_$$"
psql -q "${admin_url}" -c "CREATE DATABASE ${database}" >/dev/null
export DATABASE_URL="${admin_url%/*}/${database}"
export REDIS_URL="$(cat "${state}/redis-url")"
export CACHE_KEY_PREFIX="cli-serve-$$:" RATE_LIMIT_RPS=0 LOG_FORMAT=json

"${server}" load "${source_dir}/data/sec" >"/tmp/load-$$.out" 2>/dev/null || fail "load exited $?"
grep -q "loaded: 9610 ticker entries, 5 submissions documents" "/tmp/load-$$.out" || fail "load said: $(cat /tmp/load-$$.out)"
rm -f "/tmp/load-$$.out"

if PORT=not-a-port "${server}" serve 2>"/tmp/bad-$$.err"; then fail "serve accepted PORT=not-a-port"; fi
grep -q "PORT: expected an integer" "/tmp/bad-$$.err" || fail "bad PORT message: $(cat /tmp/bad-$$.err)"
rm -f "/tmp/bad-$$.err"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="/tmp/serve-$$.log"
PORT="${port}" "${server}" serve >"${log}" 2>&1 &
pid=$!
trap 'kill -9 ${pid} 2>/dev/null || true; rm -f "${log}"' EXIT
for _ in $(seq 1 300); do  # up to 30 s: an ASan build on a busy runner starts slowly
  curl -fs "http://127.0.0.1:${port}/ready" >/dev/null && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:${port}/ready" | grep -q '"status":"ready"' || fail "not ready"
curl -fs "http://127.0.0.1:${port}/v1/companies/AAPL" | grep -q '"name":"Apple Inc."' || fail "no Apple profile"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/v1/companies/NOPE")
[[ "${code}" == 404 ]] || fail "unknown ticker answered ${code}"

kill -TERM "${pid}"
rc=0
wait "${pid}" || rc=$?
[[ ${rc} -eq 0 ]] || fail "serve exited ${rc} after SIGTERM"
grep -q '"msg":"shutting down"' "${log}" || fail "no shutdown line in the log"
grep -q '"msg":"stopped"' "${log}" || fail "no stopped line in the log"
echo "serve: loaded, answered, refused a bad PORT, stopped gracefully"
