#!/usr/bin/env bash
# `make run`: brings the platform up locally and shows what came up. `make down` (run.sh down) stops it.
#
# The local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes), the Helm
# chart (CRD, ServiceAccount, RBAC, Deployment …) in namespace financialapi-system, the operator as a
# local process authenticated as the chart's ServiceAccount (kwok nodes run no containers) with the
# chart Deployment's own arguments, the production example FinancialApi in namespace "finance" until it
# is Ready, and throw-away PostgreSQL and Redis with the bundled SEC data (data/sec) loaded and the C++
# API server answering on 127.0.0.1:18000. With KUBECONFIG pointing at another cluster it installs the
# chart there instead.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "${HACK_DIR}")"
BUILD_DIR="${BUILD_DIR:-${REPO_DIR}/build}"
STATE="${REPO_DIR}/.local"
started=${SECONDS}

step() { printf '\n==> [%3ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf '\nmake run FAILED at step: %s\n  look at: %s\n' "$1" "$2" >&2; exit 1; }

stop_pid_file() {
  local file="$1"
  if [[ -f "${file}" ]]; then
    kill -TERM "$(cat "${file}")" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$(cat "${file}")" 2>/dev/null || break; sleep 0.2; done
    rm -f "${file}"
  fi
}

stop_operator() { stop_pid_file "${STATE}/operator.pid"; }
stop_api_server() { stop_pid_file "${STATE}/api-server.pid"; }

if [[ "${1:-}" == "down" ]]; then
  stop_api_server
  stop_operator
  "${HACK_DIR}/local-databases" down --state-dir "${STATE}/databases" || true
  "${HACK_DIR}/local-cluster" down --state-dir "${STATE}/cluster" || true
  exit 0
fi

CHART="${REPO_DIR}/charts/financialapi-operator"
RELEASE=financialapi-operator
RELEASE_NS=financialapi-system
BIN="$("${HACK_DIR}/build-control-plane.sh" --print)"  # kubectl and helm of the pinned versions
kubectl() { "${BIN}/kubectl" "$@"; }
helm() { "${BIN}/helm" "$@"; }

# helm upgrade --install of the chart; a CRD applied earlier with kubectl (an older make run, the
# README's manual path) is handed over to the release first, as docs/helm.md describes.
install_chart() {
  if kubectl get crd financialapis.edgartools.io >/dev/null 2>&1 &&
     [[ -z "$(kubectl get crd financialapis.edgartools.io -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')" ]]; then
    kubectl label crd financialapis.edgartools.io app.kubernetes.io/managed-by=Helm --overwrite >/dev/null
    kubectl annotate crd financialapis.edgartools.io meta.helm.sh/release-name="${RELEASE}" \
      meta.helm.sh/release-namespace="${RELEASE_NS}" --overwrite >/dev/null
  fi
  helm upgrade --install "${RELEASE}" "${CHART}" --namespace "${RELEASE_NS}" --create-namespace "$@" \
    >"${STATE}/helm.log" 2>&1
}

if [[ -n "${KUBECONFIG:-}" && "${KUBECONFIG}" != "${STATE}/cluster/kubeconfig" ]]; then
  mkdir -p "${STATE}"
  step "KUBECONFIG is set: checking the configured cluster"
  "${BUILD_DIR}/operator/financialapi-operator" --check || fail "cluster check" "KUBECONFIG=${KUBECONFIG}"
  step "installing the chart into it (release ${RELEASE} in ${RELEASE_NS})"
  install_chart --wait --timeout 5m || fail "helm upgrade --install" "${STATE}/helm.log"
  kubectl get deployment,pods -n "${RELEASE_NS}" -l app.kubernetes.io/instance="${RELEASE}"
  echo
  echo "Next: kubectl create namespace finance; kubectl apply -n finance -f examples/financialapi.yaml"
  echo "The API server image (spec.api.image) must be pullable there: see docs/images.md."
  exit 0
fi

step "local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)"
"${HACK_DIR}/local-cluster" up --state-dir "${STATE}/cluster" >/dev/null || fail "local control plane" "${STATE}/cluster/logs/"
export KUBECONFIG="${STATE}/cluster/kubeconfig"

step "PostgreSQL and Redis on 127.0.0.1"
"${HACK_DIR}/local-databases" up --state-dir "${STATE}/databases" >/dev/null || fail "databases" "${STATE}/databases/logs/"
source "${STATE}/databases/env"

step "Helm chart ${CHART#"${REPO_DIR}/"} → release ${RELEASE} in ${RELEASE_NS} (CRD, ServiceAccount, RBAC, Deployment)"
install_chart --set replicas=1 || fail "helm upgrade --install" "${STATE}/helm.log"
kubectl wait --for condition=established --timeout=60s crd/financialapis.edgartools.io >/dev/null

step "operator as the chart's ServiceAccount, with the chart Deployment's arguments (log: ${STATE}/operator.log)"
stop_operator
KUBECTL="${BIN}/kubectl" "${HACK_DIR}/sa-kubeconfig.sh" "${RELEASE}" "${RELEASE_NS}" "${STATE}/operator.kubeconfig" \
  || fail "ServiceAccount token" "kubectl create token ${RELEASE} -n ${RELEASE_NS}"
mapfile -t args < <(kubectl get deployment "${RELEASE}" -n "${RELEASE_NS}" -o json | jq -r '.spec.template.spec.containers[0].args[]')
for i in "${!args[@]}"; do
  case "${args[i]}" in
    --metrics-bind-address=*) args[i]=--metrics-bind-address=127.0.0.1:18080 ;;
    --health-probe-bind-address=*) args[i]=--health-probe-bind-address=127.0.0.1:18081 ;;
    --log-format=*) args[i]=--log-format=text ;;
  esac
done
"${BUILD_DIR}/operator/financialapi-operator" --kubeconfig "${STATE}/operator.kubeconfig" "${args[@]}" \
  >"${STATE}/operator.log" 2>&1 &
echo $! >"${STATE}/operator.pid"
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:18081/readyz >/dev/null && break; sleep 0.5; done
curl -sf http://127.0.0.1:18081/readyz >/dev/null || fail "operator" "${STATE}/operator.log"

step "examples/financialapi.yaml in namespace finance: waiting for Ready"
kubectl create namespace finance --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -n finance -f "${REPO_DIR}/examples/financialapi.yaml" >/dev/null
phase=""
for _ in $(seq 1 180); do
  phase=$(kubectl get financialapi prod -n finance -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [[ "${phase}" == Ready ]] && break
  sleep 1
done
[[ "${phase}" == Ready ]] || fail "FinancialApi Ready (phase ${phase:-none})" "kubectl describe financialapi prod -n finance; ${STATE}/operator.log"

API="${BUILD_DIR}/api-server/financial-api-server"
step "API server: loading the bundled SEC data (data/sec) into PostgreSQL"
"${API}" load "${REPO_DIR}/data/sec" 2>"${STATE}/api-load.log" || fail "SEC data load" "${STATE}/api-load.log"

step "API server on 127.0.0.1:18000 (log: ${STATE}/api-server.log)"
stop_api_server
PORT=18000 "${API}" serve >"${STATE}/api-server.log" 2>&1 &
echo $! >"${STATE}/api-server.pid"
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:18000/ready >/dev/null && break; sleep 0.5; done
curl -sf http://127.0.0.1:18000/ready >/dev/null || fail "API server ready" "${STATE}/api-server.log"

step "what came up"
helm list -n "${RELEASE_NS}"
echo
kubectl get financialapi -n finance
echo
kubectl get deployments,statefulsets,services,hpa,pdb,networkpolicies,cronjobs,secrets,configmaps,pvc \
  -n finance -l app.kubernetes.io/instance=prod
echo
kubectl get events -n finance --field-selector involvedObject.kind=FinancialApi

cat <<EOF

Up in $((SECONDS - started))s. To use the cluster:
  export KUBECONFIG=${KUBECONFIG}
  export PATH=${BIN}:\$PATH      # kubectl, helm, etcdctl built for this cluster
  kubectl describe financialapi prod -n finance
  kubectl patch financialapi prod -n finance --type merge -p '{"spec":{"autoscaling":{"minReplicas":5}}}'
API server (log ${STATE}/api-server.log; every endpoint in docs/api.md):
  curl -s localhost:18000/v1/companies/AAPL | jq .name
  curl -s 'localhost:18000/v1/companies/AAPL/statements/income?period=annual&limit=2' | jq '.periods[0].items.epsDiluted'
  curl -s localhost:18000/v1/frames/us-gaap/Assets/USD/CY2024Q4I | jq '.data[] | {entityName, val}'
  curl -s 'localhost:18000/v1/companies?search=micro' | jq '.companies[0]'
  curl -s localhost:18000/api/xbrl/companyconcept/CIK0000320193/us-gaap/Assets.json | jq '.units.USD[-1]'
  curl -s localhost:18000/metrics | grep ^http_requests_total
Operator:     as system:serviceaccount:${RELEASE_NS}:${RELEASE} (kubeconfig ${STATE}/operator.kubeconfig), log ${STATE}/operator.log, metrics http://127.0.0.1:18080/metrics, probes http://127.0.0.1:18081/readyz
Databases:    postgresql://postgres:***@${DATABASE_URL#*@}   ${REDIS_URL}   (env in ${STATE}/databases/env)
Logs:         ${STATE}/cluster/logs/  ${STATE}/databases/logs/
Stop it all:  make down
EOF
