# Shared helpers of the chart tests (sourced). Every check prints what it compared when it fails.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="${REPO_DIR}/charts/financialapi-operator"
PYTHON=/usr/bin/python3  # Debian's, with python3-yaml (hack/deps.sh)
[[ -x "${PYTHON}" ]] || PYTHON=python3

failures=0
checks=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
# check DESCRIPTION COMMAND...: the command must succeed (its output is shown only when it fails).
check() {
  local what="$1" output
  shift
  if output="$("$@" 2>&1)"; then pass; else fail "${what}"$'\n'"${output}"; fi
}
# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" == "$3" ]]; then pass; else fail "$1: expected [$2], got [$3]"; fi
}
# finish: the test's verdict (call last).
finish() {
  if ((failures > 0)); then
    echo "${failures} check(s) failed, ${checks} passed" >&2
    exit 1
  fi
  echo "all ${checks} checks passed"
}

# Helm with its own config, cache and data folders: nothing of the user's ~/.config/helm is read or
# written, and parallel tests do not share repository caches.
use_helm() {  # use_helm BIN_DIR
  HELM="$1/helm"
  [[ -x "${HELM}" ]] || { echo "no helm in $1" >&2; exit 1; }
  HELM_HOME_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chart-test-helm.XXXXXX")"
  export HELM_CONFIG_HOME="${HELM_HOME_DIR}/config" HELM_CACHE_HOME="${HELM_HOME_DIR}/cache" \
         HELM_DATA_HOME="${HELM_HOME_DIR}/data"
}

# Multi-document YAML on stdin → a JSON array of the non-empty documents.
yaml2json() {
  "${PYTHON}" -c 'import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)'
}
