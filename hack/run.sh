#!/usr/bin/env bash
# `make run`: brings the platform up locally, for real, and shows the API it deployed answering.
# `make down` (run.sh down) stops it.
#
# The local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes) with its real
# node (containerd, kubelet, kube-proxy, CoreDNS, NetworkPolicy engine: hack/lib/real-node.sh), the
# images built here (hack/build-images.sh, cached by their inputs), the Helm chart with the operator
# running from its image on the real node, then the production example FinancialApi in namespace
# "finance" through the overlay that fits this machine (examples/overlays/real-node.yaml: images,
# resource requests, placement) until it is Ready, and a port-forward of its API Service to
# 127.0.0.1:18000. With KUBECONFIG pointing at another cluster it installs the chart there instead.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "${HACK_DIR}")"
BUILD_DIR="${BUILD_DIR:-${REPO_DIR}/build}"
STATE="${REPO_DIR}/.local"
API_PORT=18000
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

if [[ "${1:-}" == "down" ]]; then
  stop_pid_file "${STATE}/port-forward.pid"
  # What earlier versions of make run started on the host (an operator process, an API server and
  # databases of its own), should they still run.
  stop_pid_file "${STATE}/api-server.pid"
  stop_pid_file "${STATE}/operator.pid"
  [[ -d "${STATE}/databases" ]] && { "${HACK_DIR}/local-databases" down --state-dir "${STATE}/databases" || true; }
  "${HACK_DIR}/local-cluster" down --state-dir "${STATE}/cluster" || true
  exit 0
fi

CHART="${REPO_DIR}/charts/financialapi-operator"
RELEASE=financialapi-operator
RELEASE_NS=financialapi-system
BIN="$("${HACK_DIR}/build-control-plane.sh")"  # kubectl and helm of the pinned versions (built once)
kubectl() { "${BIN}/kubectl" "$@"; }
helm() { "${BIN}/helm" "$@"; }
mkdir -p "${STATE}"

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

# The local cluster's own kubeconfig (as an earlier make run told to export it) is not "another cluster".
if [[ -n "${KUBECONFIG:-}" && "$(realpath -m "${KUBECONFIG}")" != "${STATE}/cluster/kubeconfig" ]]; then
  step "KUBECONFIG is set: checking the configured cluster"
  make -C "${REPO_DIR}" build >/dev/null
  "${BUILD_DIR}/operator/financialapi-operator" --check || fail "cluster check" "KUBECONFIG=${KUBECONFIG}"
  step "installing the chart into it (release ${RELEASE} in ${RELEASE_NS})"
  install_chart --wait --timeout 5m || fail "helm upgrade --install" "${STATE}/helm.log"
  kubectl get deployment,pods -n "${RELEASE_NS}" -l app.kubernetes.io/instance="${RELEASE}"
  echo
  echo "Next: kubectl create namespace finance; kubectl apply -n finance -f examples/financialapi.yaml"
  echo "The images (spec.*.image, the chart's image.repository) must be pullable there: see docs/images.md."
  exit 0
fi

step "images (hack/build-images.sh; cached by their inputs, the first build compiles for ~15 min)"
"${HACK_DIR}/build-images.sh" >"${STATE}/images.log" 2>&1 || fail "image build" "${STATE}/images.log"
images="$("${HACK_DIR}/build-images.sh" --print-env)"
image() { sed -n "s/^$1=//p" <<<"${images}"; }

step "local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes) and its real node"
"${HACK_DIR}/local-cluster" up --state-dir "${STATE}/cluster" --real-node >"${STATE}/cluster-up.log" 2>&1 ||
  fail "local control plane" "${STATE}/cluster-up.log and ${STATE}/cluster/logs/"
export KUBECONFIG="${STATE}/cluster/kubeconfig"
source "${STATE}/cluster/real-node.env"
kubectl get nodes -o wide

operator_image="$(image OPERATOR_IMAGE)"
step "Helm chart → release ${RELEASE} in ${RELEASE_NS}: the operator from ${operator_image} on ${REAL_NODE_NAME}"
install_chart --set replicas=1 --set image.repository="${operator_image%:*}" --set image.tag="${operator_image##*:}" \
  --set image.pullPolicy=Never --set-json "nodeSelector={\"${REAL_NODE_TAINT_KEY}\":\"true\"}" \
  --set-json "tolerations=[{\"key\":\"${REAL_NODE_TAINT_KEY}\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]" \
  --wait --timeout 3m || fail "helm upgrade --install" "${STATE}/helm.log; kubectl logs -n ${RELEASE_NS} deploy/${RELEASE}"

step "examples/financialapi.yaml + examples/overlays/real-node.yaml in namespace finance: waiting for Ready"
kubectl create namespace finance --dry-run=client -o yaml | kubectl apply -f - >/dev/null
if ! kubectl get secret prod-api-keys -n finance >/dev/null 2>&1; then
  kubectl create secret generic prod-api-keys -n finance --from-literal=keys="local-$(openssl rand -hex 16)" >/dev/null
fi
api_key="$(kubectl get secret prod-api-keys -n finance -o jsonpath='{.data.keys}' | base64 -d | head -n1)"
API_IMAGE="$(image API_IMAGE)" POSTGRES_IMAGE="$(image POSTGRES_IMAGE)" REDIS_IMAGE="$(image REDIS_IMAGE)" \
  PGBOUNCER_IMAGE="$(image PGBOUNCER_IMAGE)" envsubst <"${REPO_DIR}/examples/overlays/real-node.yaml" >"${STATE}/overlay.yaml"
kubectl patch --local --type merge -f "${REPO_DIR}/examples/financialapi.yaml" --patch-file "${STATE}/overlay.yaml" -o yaml |
  kubectl apply -n finance -f - >/dev/null
phase=""
for _ in $(seq 1 300); do
  phase=$(kubectl get financialapi prod -n finance -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [[ "${phase}" == Ready ]] && break
  sleep 2
done
[[ "${phase}" == Ready ]] || fail "FinancialApi Ready (phase ${phase:-none})" \
  "kubectl describe financialapi prod -n finance; kubectl get pods -n finance; kubectl logs -n ${RELEASE_NS} deploy/${RELEASE}"

step "port-forward of service/prod-api to 127.0.0.1:${API_PORT} (log: ${STATE}/port-forward.log)"
stop_pid_file "${STATE}/port-forward.pid"
kubectl port-forward -n finance --address 127.0.0.1 service/prod-api "${API_PORT}:80" >"${STATE}/port-forward.log" 2>&1 &
echo $! >"${STATE}/port-forward.pid"
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:${API_PORT}/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:${API_PORT}/ready" >/dev/null || fail "API ready through the port-forward" "${STATE}/port-forward.log"

step "what came up"
helm list -n "${RELEASE_NS}"
echo
kubectl get financialapi -n finance
echo
kubectl get pods -n finance -o wide
echo
kubectl get deployments,statefulsets,services,hpa,pdb,networkpolicies,cronjobs,jobs,pvc -n finance -l app.kubernetes.io/instance=prod
echo
echo "The API the operator deployed, answering from its pods:"
curl -s -H "X-API-Key: ${api_key}" "http://127.0.0.1:${API_PORT}/v1/companies/AAPL" | jq -c '{ticker: .tickers[0], name, cik}' 2>/dev/null || true

cat <<EOF

Up in $((SECONDS - started))s. To use the cluster:
  export KUBECONFIG=${KUBECONFIG}
  export PATH=${BIN}:\$PATH      # kubectl, helm, etcdctl built for this cluster
  kubectl describe financialapi prod -n finance
  kubectl logs -n finance deploy/prod-api          # real pods: logs, exec, port-forward work
  kubectl patch financialapi prod -n finance --type merge -p '{"spec":{"postgres":{"parameters":{"work_mem":"16MB"}}}}'
The API (every endpoint in docs/api.md; API keys are on: the key is in secret prod-api-keys):
  KEY=${api_key}
  curl -s -H "X-API-Key: \$KEY" localhost:${API_PORT}/v1/companies/AAPL | jq .name
  curl -s -H "X-API-Key: \$KEY" 'localhost:${API_PORT}/v1/companies/AAPL/statements/income?period=annual&limit=2' | jq '.periods[0].items.epsDiluted'
  curl -s -H "X-API-Key: \$KEY" localhost:${API_PORT}/v1/frames/us-gaap/Assets/USD/CY2024Q4I | jq '.data[] | {entityName, val}'
  curl -s -H "X-API-Key: \$KEY" localhost:${API_PORT}/api/xbrl/companyconcept/CIK0000320193/us-gaap/Assets.json | jq '.units.USD[-1]'
  curl -s localhost:${API_PORT}/metrics | grep ^http_requests_total
Operator:     kubectl logs -n ${RELEASE_NS} deploy/${RELEASE}
Logs:         ${STATE}/cluster/logs/ (control plane and real node), ${STATE}/images.log
Stop it all:  make down
EOF
