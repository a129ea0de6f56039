# Shared helpers for the hack/ scripts that run local servers: free ports, background processes with
# PID files and logs, and bounded waits. Expects STATE_DIR and LOGS to be set by the caller.

PICKED_PORTS=" "

# Prints a TCP port on 127.0.0.1 that nothing listens on and this script has not handed out yet.
# Ports come from below the kernel's ephemeral range (ip_local_port_range), so an outgoing connection
# cannot take the port between this check and the server's bind.
pick_port() {
  local port attempt low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  ((low > 11000)) || low=32768
  for attempt in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    [[ "${PICKED_PORTS}" == *" ${port} "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      PICKED_PORTS+="${port} "
      echo "${port}"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

pid_alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# start_process NAME COMMAND ARGS... : runs it detached (its own session), logs to LOGS/NAME.log.
start_process() {
  local name="$1"; shift
  mkdir -p "${LOGS}" "${STATE_DIR}/pids"
  setsid "$@" >>"${LOGS}/${name}.log" 2>&1 </dev/null &
  echo $! >"${STATE_DIR}/pids/${name}.pid"
}

# stop_process NAME: SIGTERM, up to 15 s grace, then SIGKILL.
stop_process() {
  local name="$1" pid_file="${STATE_DIR}/pids/$1.pid" pid i
  [[ -f "${pid_file}" ]] || return 0
  pid=$(cat "${pid_file}")
  if pid_alive "${pid}"; then
    kill -TERM "${pid}" 2>/dev/null || true
    for i in $(seq 1 150); do pid_alive "${pid}" || break; sleep 0.1; done
    pid_alive "${pid}" && kill -KILL "${pid}" 2>/dev/null || true
    for i in $(seq 1 50); do pid_alive "${pid}" || break; sleep 0.1; done
  fi
  rm -f "${pid_file}"
}

# wait_until SECONDS WHAT COMMAND...: retries COMMAND until it succeeds; on timeout names WHAT, the
# processes that died and the tail of their logs, then fails.
wait_until() {
  local limit="$1" what="$2"; shift 2
  local deadline=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${limit}s waiting for ${what}" >&2
      report_dead_processes
      return 1
    fi
    sleep 0.5
  done
}

report_dead_processes() {
  local pid_file name
  for pid_file in "${STATE_DIR}"/pids/*.pid; do
    [[ -f "${pid_file}" ]] || continue
    name=$(basename "${pid_file}" .pid)
    if ! pid_alive "$(cat "${pid_file}")"; then
      echo "--- ${name} is not running; last lines of ${LOGS}/${name}.log:" >&2
      tail -n 20 "${LOGS}/${name}.log" >&2 || true
    fi
  done
}
