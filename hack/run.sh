#!/usr/bin/env bash
# `make run`: brings the platform up locally and shows what came up. `make down` (run.sh down) stops it.
#
# Today: the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes) and
# throw-away PostgreSQL and Redis, then a connection check of the operator and the API server binaries.
# The operator, the chart, a sample FinancialApi and the API server with SEC data join as their issues land.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "${HACK_DIR}")"
BUILD_DIR="${BUILD_DIR:-${REPO_DIR}/build}"
STATE="${REPO_DIR}/.local"
started=${SECONDS}

step() { printf '\n==> [%3ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf '\nmake run FAILED at step: %s\n  look at: %s\n' "$1" "$2" >&2; exit 1; }

if [[ "${1:-}" == "down" ]]; then
  "${HACK_DIR}/local-databases" down --state-dir "${STATE}/databases" || true
  "${HACK_DIR}/local-cluster" down --state-dir "${STATE}/cluster" || true
  exit 0
fi

if [[ -n "${KUBECONFIG:-}" && "${KUBECONFIG}" != "${STATE}/cluster/kubeconfig" ]]; then
  step "KUBECONFIG is set: checking the configured cluster"
  "${BUILD_DIR}/operator/financialapi-operator" --check || fail "cluster check" "KUBECONFIG=${KUBECONFIG}"
  echo "Installing the operator into a configured cluster arrives with the Helm chart (charts/); nothing was changed."
  echo "Unset KUBECONFIG to run the embedded local control plane instead."
  exit 0
fi

step "local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)"
"${HACK_DIR}/local-cluster" up --state-dir "${STATE}/cluster" >/dev/null || fail "local control plane" "${STATE}/cluster/logs/"
export KUBECONFIG="${STATE}/cluster/kubeconfig"
BIN="$(cat "${STATE}/cluster/bin-dir")"

step "PostgreSQL and Redis on 127.0.0.1"
"${HACK_DIR}/local-databases" up --state-dir "${STATE}/databases" >/dev/null || fail "databases" "${STATE}/databases/logs/"
source "${STATE}/databases/env"

step "operator: connection check against the local API server"
"${BUILD_DIR}/operator/financialapi-operator" --check || fail "operator check" "${STATE}/cluster/logs/kube-apiserver.log"

step "API server: connection check against PostgreSQL and Redis"
"${BUILD_DIR}/api-server/financial-api-server" check || fail "API server check" "${STATE}/databases/logs/"

step "what came up"
"${BIN}/kubectl" get nodes
echo
"${BIN}/kubectl" get storageclass

cat <<EOF

Up in $((SECONDS - started))s. To use the cluster:
  export KUBECONFIG=${KUBECONFIG}
  export PATH=${BIN}:\$PATH      # kubectl, helm, etcdctl built for this cluster
  kubectl get nodes
Databases:    postgresql://postgres:***@${DATABASE_URL#*@}   ${REDIS_URL}   (env in ${STATE}/databases/env)
Logs:         ${STATE}/cluster/logs/  ${STATE}/databases/logs/
Stop it all:  make down
EOF
