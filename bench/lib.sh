# Shared helpers of the benchmark drivers (sourced after they set REPO_DIR, RAW, CLUSTER_DIR and
# STARTED): progress lines, the raw JSON-lines file and its summaries, the local cluster's teardown, and
# hack/lib/process.sh's pick_port.
# shellcheck source=../hack/lib/process.sh
source "${REPO_DIR}/hack/lib/process.sh"

say() { printf '[%4ds] %s\n' $((SECONDS - STARTED)) "$*" >&2; }

record() { jq -c . >>"${RAW}"; }  # one JSON object on stdin → the raw file

# summary FILTER FIELD [DIGITS]: "median (min to max)" of FIELD over the raw lines matching the jq FILTER
# (FIELD may be a jq path such as steady.writes; lines without it are skipped).
summary() {
  jq -rs --argjson d "${3:-0}" --argjson only_median "${MEDIAN_ONLY:-false}" "
    def r: if \$d == 0 then (. + 0.5 | floor | tostring) else (. * pow(10; \$d) + 0.5 | floor) / pow(10; \$d) | tostring end;
    [.[] | select($1) | .$2 | select(. != null)] | sort |
    if length == 0 then \"n/a\"
    elif length == 1 then .[0] | r
    else (if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end) as \$m
      | if \$only_median then \$m | r else \"\(\$m | r) (\(.[0] | r) to \(.[-1] | r))\" end end" "${RAW}"
}
median() { MEDIAN_ONLY=true summary "$@"; }
# run_field NAME: a field of the run's first ({"bench":"run"}) or last ({"bench":"end"}) raw line.
run_field() { jq -rs --arg f "$1" '(map(select(.bench == "run")) + map(select(.bench == "end")) | add)[$f] // "n/a"' "${RAW}"; }

cluster_down() {  # [--purge]
  "${REPO_DIR}/hack/local-cluster" down --state-dir "${CLUSTER_DIR}" "$@" >/dev/null 2>&1 || true
}
