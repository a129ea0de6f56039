#!/usr/bin/env bash
# The chart against the shared local control plane (ctest fixture kube_cluster). Each case works in
# namespaces and a release of its own (suffix: this process id) and removes them at the end, so it
# runs next to other tests; the shared CRD financialapis.edgartools.io is never installed, adopted or
# deleted by helm here (docs/helm.md, "Tests").
#
#   tests/chart/cluster_test.sh install       STATE_DIR OPERATOR_BINARY
#   tests/chart/cluster_test.sh crd-lifecycle STATE_DIR
#   tests/chart/cluster_test.sh real-pod      STATE_DIR   (fixture real_node)
#
# install: server-side dry run of the rendered chart; helm install (namespaced, crds.install=false);
#   kubectl auth can-i as the chart's ServiceAccount; the operator binary, run out of cluster with that
#   ServiceAccount's token and the Deployment's own arguments, reconciles examples/financialapi-minimal.yaml;
#   helm uninstall leaves nothing of the release.
# real-pod: the chart as users install it, the operator running from its image (hack/build-images.sh)
#   on the real node: two pods Ready through their real probes, one leader, kubectl logs and exec,
#   a read-only root filesystem, and a minimal FinancialApi reconciled through the in-cluster API.
# crd-lifecycle: the chart's CRD template with the CRD renamed to a group of this test
#   (<pid>.chart-test.edgartools.io): adoption of a CRD applied with kubectl, helm upgrade updates it,
#   helm uninstall keeps it (crds.keep) with its objects, crds.keep=false deletes it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case_name="${1:?usage: $0 install|crd-lifecycle|real-pod STATE_DIR [OPERATOR_BINARY]}"
STATE_DIR="${2:?state dir}"
OPERATOR="${3:-}"
export KUBECONFIG="${STATE_DIR}/cluster/kubeconfig"
BIN_DIR="$(cat "${STATE_DIR}/cluster/bin-dir")"
KUBECTL="${BIN_DIR}/kubectl"
use_helm "${BIN_DIR}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/chart-e2e.XXXXXX")"
ID="$$"
RELEASE="chart-${case_name}-${ID}"
RELEASE_NS="chart-ops-${ID}"
operator_pid=""
cleanup_steps=()

kubectl() { "${KUBECTL}" "$@"; }
helm() { "${HELM}" "$@"; }
on_exit() {
  local status=$?
  if [[ -n "${operator_pid}" ]] && kill -0 "${operator_pid}" 2>/dev/null; then kill "${operator_pid}" 2>/dev/null || true; fi
  local step
  for step in "${cleanup_steps[@]}"; do eval "${step}" >/dev/null 2>&1 || true; done
  if ((status != 0)) && [[ -f "${WORK}/operator.log" ]]; then
    echo "--- operator log (last 60 lines) ---" >&2
    tail -n 60 "${WORK}/operator.log" >&2
  fi
  rm -rf "${WORK}" "${HELM_HOME_DIR}"
  exit "${status}"
}
trap on_exit EXIT
step() { echo "[$((SECONDS))s] $*"; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls every second.
wait_for() {
  local deadline=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then fail "timed out waiting for: ${what}"; return 1; fi
    sleep 1
  done
  pass
}
new_namespace() {  # new_namespace NAME
  kubectl create namespace "$1" >/dev/null
  cleanup_steps+=("'${KUBECTL}' delete namespace '$1' --wait=false")
}
free_port() {
  "${PYTHON}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${case_name}" in

install)
  [[ -x "${OPERATOR}" ]] || { echo "operator binary not found: ${OPERATOR}" >&2; exit 2; }
  WATCH_NS="chart-apps-${ID}"
  OTHER_NS="chart-other-${ID}"
  SA="${RELEASE}-financialapi-operator"   # the chart's fullname
  for ns in "${RELEASE_NS}" "${WATCH_NS}" "${OTHER_NS}"; do new_namespace "${ns}"; done
  values=(--namespace "${RELEASE_NS}" --set-json "watchNamespaces=[\"${WATCH_NS}\"]" --set crds.install=false)

  step "helm template | kubectl apply --dry-run=server (namespaced, cluster-wide, with the CRD)"
  for extra in "" "--set-json watchNamespaces=[]" "--set crds.install=true --set-json watchNamespaces=[]"; do
    # shellcheck disable=SC2086
    if out="$(helm template "${RELEASE}" "${CHART}" "${values[@]}" ${extra} | kubectl apply --dry-run=server -f - 2>&1)"; then
      pass
    else
      fail "server-side dry run (${extra:-namespaced}): ${out}"
    fi
  done
  expect_eq "the dry run created nothing" "" \
    "$(kubectl get deployment,serviceaccount,role,rolebinding -A -l "app.kubernetes.io/instance=${RELEASE}" -o name)"

  step "helm install ${RELEASE} into ${RELEASE_NS}, watching ${WATCH_NS}"
  cleanup_steps+=("'${HELM}' uninstall '${RELEASE}' --namespace '${RELEASE_NS}'")
  cleanup_steps+=("'${KUBECTL}' delete clusterrole,clusterrolebinding -l app.kubernetes.io/instance=${RELEASE}")
  check "helm install --wait" helm install "${RELEASE}" "${CHART}" "${values[@]}" --wait --timeout 120s
  expect_eq "release deployed" "deployed" "$(helm status "${RELEASE}" -n "${RELEASE_NS}" -o json | jq -r .info.status)"
  expect_eq "Deployment available (kwok runs the pods)" "2" \
    "$(kubectl get deployment "${SA}" -n "${RELEASE_NS}" -o jsonpath='{.status.availableReplicas}')"

  step "kubectl auth can-i as the ServiceAccount"
  as="system:serviceaccount:${RELEASE_NS}:${SA}"
  lease="$(kubectl get deployment "${SA}" -n "${RELEASE_NS}" -o json |
    jq -r '.spec.template.spec.containers[0].args[] | select(startswith("--leader-election-id=")) | sub("^[^=]*="; "")')"
  expect_eq "the Lease is named after the release" "${SA}-leader" "${lease}"
  can() {  # can yes|no VERB RESOURCE [args]
    local want="$1"; shift
    local got
    got="$(kubectl auth can-i "$@" --as "${as}" 2>/dev/null || true)"
    expect_eq "can-i $*" "${want}" "${got}"
  }
  can yes list financialapis.edgartools.io -n "${WATCH_NS}"
  can yes watch financialapis.edgartools.io -n "${WATCH_NS}"
  can yes patch financialapis.edgartools.io --subresource=status -n "${WATCH_NS}"
  can yes create deployments.apps -n "${WATCH_NS}"
  can yes patch statefulsets.apps -n "${WATCH_NS}"
  can yes delete networkpolicies.networking.k8s.io -n "${WATCH_NS}"
  can yes get secrets -n "${WATCH_NS}"
  can yes create events -n "${WATCH_NS}"
  can yes patch events -n "${WATCH_NS}"
  can yes create leases.coordination.k8s.io -n "${RELEASE_NS}"
  can yes get "leases.coordination.k8s.io/${lease}" -n "${RELEASE_NS}"
  can yes update "leases.coordination.k8s.io/${lease}" -n "${RELEASE_NS}"
  can no update leases.coordination.k8s.io/someone-elses -n "${RELEASE_NS}"
  can no get leases.coordination.k8s.io -n "${WATCH_NS}"
  can no get secrets -n "${OTHER_NS}"
  can no get secrets -n "${RELEASE_NS}"
  can no create deployments.apps -n "${OTHER_NS}"
  can no list financialapis.edgartools.io --all-namespaces
  can no update financialapis.edgartools.io -n "${WATCH_NS}"
  can no delete financialapis.edgartools.io -n "${WATCH_NS}"
  can no create pods -n "${WATCH_NS}"
  can no '*' '*' --all-namespaces
  can no '*' '*' -n "${WATCH_NS}"
  can no delete namespaces
  can no create clusterrolebindings.rbac.authorization.k8s.io
  can no create rolebindings.rbac.authorization.k8s.io -n "${WATCH_NS}"
  can no delete customresourcedefinitions.apiextensions.k8s.io
  can yes get /apis/edgartools.io/v1alpha1

  step "the operator, out of cluster, with the ServiceAccount's token and the Deployment's arguments"
  KUBECTL="${KUBECTL}" "${REPO_DIR}/hack/sa-kubeconfig.sh" "${SA}" "${RELEASE_NS}" "${WORK}/sa.kubeconfig" 30m
  check "the token kubeconfig is the ServiceAccount" \
    bash -c "'${KUBECTL}' --kubeconfig '${WORK}/sa.kubeconfig' auth whoami -o jsonpath='{.status.userInfo.username}' | grep -qx '${as}'"
  mapfile -t args < <(kubectl get deployment "${SA}" -n "${RELEASE_NS}" -o json | jq -r '.spec.template.spec.containers[0].args[]')
  expect_eq "the Deployment watches ${WATCH_NS} with leader election" "--watch-namespace=${WATCH_NS} --leader-elect" \
    "$(printf '%s\n' "${args[@]}" | grep -E '^--(watch-namespace=|leader-elect$)' | tr '\n' ' ' | sed 's/ $//')"
  metrics_port="$(free_port)" health_port="$(free_port)"
  # Same arguments (0.0.0.0 included), except the ports: the pods' may be taken on this machine.
  for i in "${!args[@]}"; do
    case "${args[i]}" in
      --metrics-bind-address=*) args[i]="${args[i]%:*}:${metrics_port}" ;;
      --health-probe-bind-address=*) args[i]="${args[i]%:*}:${health_port}" ;;
    esac
  done
  "${OPERATOR}" --kubeconfig "${WORK}/sa.kubeconfig" "${args[@]}" >"${WORK}/operator.log" 2>&1 &
  operator_pid=$!
  wait_for 60 "operator /readyz" curl -sf "http://127.0.0.1:${health_port}/readyz"
  check "operator /healthz" curl -sf -o /dev/null "http://127.0.0.1:${health_port}/healthz"
  check "operator /metrics" bash -c "curl -sf 'http://127.0.0.1:${metrics_port}/metrics' | grep -q '^rest_client_requests_total'"
  wait_for 60 "the operator holds Lease ${RELEASE_NS}/${lease}" \
    bash -c "'${KUBECTL}' get lease '${lease}' -n '${RELEASE_NS}' -o jsonpath='{.spec.holderIdentity}' | grep -q ."

  step "a minimal FinancialApi in ${WATCH_NS} is reconciled"
  kubectl apply -n "${WATCH_NS}" -f "${REPO_DIR}/examples/financialapi-minimal.yaml" >/dev/null
  wait_for 180 "FinancialApi minimal Ready" \
    bash -c "'${KUBECTL}' get financialapi minimal -n '${WATCH_NS}' -o jsonpath='{.status.phase}' | grep -qx Ready"
  children="$(kubectl get deployments,statefulsets,services,secrets,configmaps,horizontalpodautoscalers,poddisruptionbudgets,networkpolicies,cronjobs,persistentvolumeclaims \
    -n "${WATCH_NS}" -l app.kubernetes.io/managed-by=financialapi-operator,app.kubernetes.io/instance=minimal -o json |
    jq -r '[.items[] | select(.metadata.ownerReferences[0].kind == "FinancialApi") | .kind] | unique | join(" ")')"
  expect_eq "kinds of the children" \
    "ConfigMap CronJob Deployment HorizontalPodAutoscaler NetworkPolicy PersistentVolumeClaim PodDisruptionBudget Secret Service StatefulSet" "${children}"
  check "the operator recorded events on the FinancialApi" \
    bash -c "'${KUBECTL}' get events -n '${WATCH_NS}' --field-selector involvedObject.name=minimal,reason=Created -o name | grep -q ."
  expect_eq "status conditions: Degraded" "False" \
    "$(kubectl get financialapi minimal -n "${WATCH_NS}" -o jsonpath='{.status.conditions[?(@.type=="Degraded")].status}')"
  forbidden="$(grep -ci 'forbidden' "${WORK}/operator.log" || true)"
  expect_eq "lines with 'forbidden' in the operator log" "0" "${forbidden}"
  kill -TERM "${operator_pid}"
  status=0; wait "${operator_pid}" || status=$?
  operator_pid=""
  expect_eq "the operator stopped cleanly on SIGTERM" "0" "${status}"

  step "helm uninstall"
  check "helm uninstall --wait" helm uninstall "${RELEASE}" -n "${RELEASE_NS}" --wait --timeout 120s
  kinds="deployments,replicasets,pods,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets,configmaps,secrets"
  left() {
    { kubectl get "${kinds}" -A -l "app.kubernetes.io/instance=${RELEASE}" -o name
      kubectl get clusterroles,clusterrolebindings,customresourcedefinitions -l "app.kubernetes.io/instance=${RELEASE}" -o name
      kubectl get clusterroles,clusterrolebindings -o name | grep -F "/${SA}" || true
      kubectl get "${kinds}" -n "${RELEASE_NS}" -o name | grep -F "/${SA}" || true
    } 2>/dev/null | sort -u
  }
  nothing_left() { [[ -z "$(left)" ]]; }
  # Pods and ReplicaSets go with the garbage collector, a moment after helm's objects.
  wait_for 60 "no objects of the release left" nothing_left || true
  expect_eq "objects of the release left after uninstall" "" "$(left)"
  expect_eq "the shared CRD is untouched" "" \
    "$(kubectl get crd financialapis.edgartools.io -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')"
  ;;

real-pod)
  WATCH_NS="chart-real-${ID}"
  SA="${RELEASE}-financialapi-operator"
  for ns in "${RELEASE_NS}" "${WATCH_NS}"; do new_namespace "${ns}"; done
  image="$("${REPO_DIR}/hack/build-images.sh" --print-env | sed -n 's/^OPERATOR_IMAGE=//p')"
  [[ -n "${image}" ]] || { echo "no operator image built (hack/build-images.sh)" >&2; exit 1; }
  taint="$(sed -n 's/^REAL_NODE_TAINT_KEY=//p' "${STATE_DIR}/cluster/real-node.env")"
  node="$(sed -n 's/^REAL_NODE_NAME=//p' "${STATE_DIR}/cluster/real-node.env")"
  [[ -n "${taint}" ]] || { echo "the cluster has no real node" >&2; exit 1; }

  step "helm install ${RELEASE} with ${image} on ${node}"
  cleanup_steps+=("'${HELM}' uninstall '${RELEASE}' --namespace '${RELEASE_NS}'")
  check "helm install --wait" helm install "${RELEASE}" "${CHART}" --namespace "${RELEASE_NS}" \
    --set crds.install=false --set-json "watchNamespaces=[\"${WATCH_NS}\"]" \
    --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
    --set-json "nodeSelector={\"${taint}\":\"true\"}" \
    --set-json "tolerations=[{\"key\":\"${taint}\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]" \
    --wait --timeout 180s
  expect_eq "two operator pods available (real probes)" "2" \
    "$(kubectl get deployment "${SA}" -n "${RELEASE_NS}" -o jsonpath='{.status.availableReplicas}')"
  pods="$(kubectl get pods -n "${RELEASE_NS}" -l "app.kubernetes.io/instance=${RELEASE}" -o json)"
  expect_eq "the pods run on the real node" "${node} ${node}" "$(jq -r '[.items[].spec.nodeName] | join(" ")' <<<"${pods}")"
  expect_eq "their containers are containerd's" "true" \
    "$(jq -r '[.items[].status.containerStatuses[0].containerID | startswith("containerd://")] | all' <<<"${pods}")"
  expect_eq "read-only root filesystem" "true true" \
    "$(jq -r '[.items[].spec.containers[0].securityContext.readOnlyRootFilesystem] | join(" ")' <<<"${pods}")"
  pod="$(jq -r '.items[0].metadata.name' <<<"${pods}")"
  check "kubectl exec runs the operator binary in its pod" \
    bash -c "'${KUBECTL}' exec -n '${RELEASE_NS}' '${pod}' -- /usr/local/bin/financialapi-operator --version | grep -q '^financialapi-operator '"
  exec_out="$(kubectl exec -n "${RELEASE_NS}" "${pod}" -- sh -c 'id -u; touch /probe 2>&1 || true')"
  expect_eq "kubectl exec: the image's user, and / is not writable" "65532|Read-only" \
    "$(head -n1 <<<"${exec_out}")|$(grep -o 'Read-only' <<<"${exec_out}")"
  lease="${SA}-leader"
  wait_for 60 "one pod holds Lease ${lease}" \
    bash -c "'${KUBECTL}' get lease '${lease}' -n '${RELEASE_NS}' -o jsonpath='{.spec.holderIdentity}' | grep -q ."

  step "a minimal FinancialApi in ${WATCH_NS}, reconciled by the operator pod through the kubernetes Service"
  kubectl apply -n "${WATCH_NS}" -f "${REPO_DIR}/examples/financialapi-minimal.yaml" >/dev/null
  wait_for 180 "FinancialApi minimal Ready" \
    bash -c "'${KUBECTL}' get financialapi minimal -n '${WATCH_NS}' -o jsonpath='{.status.phase}' | grep -qx Ready"
  # Each pod's whole log (a label selector would cut every pod's log to its last lines).
  logs=""
  for p in $(kubectl get pods -n "${RELEASE_NS}" -l "app.kubernetes.io/instance=${RELEASE}" -o name); do
    logs+="$(kubectl logs -n "${RELEASE_NS}" "${p}" 2>&1)"$'\n'
  done
  check "kubectl logs: one pod became leader" grep -q 'became leader' <<<"${logs}"
  expect_eq "lines with 'forbidden' in the operator logs" "0" "$(grep -ci forbidden <<<"${logs}" || true)"
  check "helm uninstall --wait" helm uninstall "${RELEASE}" -n "${RELEASE_NS}" --wait --timeout 120s
  ;;

crd-lifecycle)
  GROUP="g${ID}.chart-test.edgartools.io"
  CRD="financialapis.${GROUP}"
  new_namespace "${RELEASE_NS}"
  cleanup_steps+=("'${HELM}' uninstall '${RELEASE}' --namespace '${RELEASE_NS}'")
  cleanup_steps+=("'${KUBECTL}' delete crd '${CRD}'")
  cleanup_steps+=("'${KUBECTL}' delete clusterrole,clusterrolebinding -l app.kubernetes.io/instance=${RELEASE}")
  # A copy of the chart whose CRD is renamed to this test's group: the shared financialapis.edgartools.io
  # stays with the fixture.
  cp -r "${CHART}" "${WORK}/chart"
  crd_file="${WORK}/chart/files/crds/edgartools.io_financialapis.yaml"
  sed -i "s/^  name: financialapis\.edgartools\.io$/  name: ${CRD}/; s/^  group: edgartools\.io$/  group: ${GROUP}/" "${crd_file}"
  expect_eq "the renamed CRD renders" "${CRD} ${GROUP}" \
    "$(helm template "${RELEASE}" "${WORK}/chart" -n "${RELEASE_NS}" --show-only templates/crds.yaml | yaml2json | jq -r '.[0] | "\(.metadata.name) \(.spec.group)"')"
  values=(--namespace "${RELEASE_NS}" --set-json "watchNamespaces=[\"${RELEASE_NS}\"]" --set replicas=1)

  step "a CRD applied with kubectl (as the fixture and README do) is not silently taken over"
  kubectl apply --server-side -f "${crd_file}" >/dev/null
  if out="$(helm install "${RELEASE}" "${WORK}/chart" "${values[@]}" 2>&1)"; then
    fail "helm installed over a CRD it does not own"
  else
    check "helm names the ownership conflict: ${out}" grep -q "invalid ownership metadata" <<<"${out}"
  fi
  step "adopting it as docs/helm.md says, then installing"
  kubectl label crd "${CRD}" app.kubernetes.io/managed-by=Helm >/dev/null
  kubectl annotate crd "${CRD}" meta.helm.sh/release-name="${RELEASE}" meta.helm.sh/release-namespace="${RELEASE_NS}" >/dev/null
  check "helm install with crds.install=true" helm install "${RELEASE}" "${WORK}/chart" "${values[@]}" --wait --timeout 120s
  expect_eq "the installed CRD carries the keep policy" "keep" \
    "$(kubectl get crd "${CRD}" -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}')"
  wait_for 30 "CRD established" kubectl wait --for condition=established --timeout=5s "crd/${CRD}"
  # An object of the CRD, to see what upgrade and uninstall do to user data.
  cat >"${WORK}/object.yaml" <<OBJ
apiVersion: ${GROUP}/v1alpha1
kind: FinancialApi
metadata: {name: keepme, namespace: ${RELEASE_NS}}
spec: {}
OBJ
  wait_for 30 "an object of the new CRD created" kubectl apply -f "${WORK}/object.yaml"

  step "helm upgrade with a changed CRD updates it in the cluster"
  check "the CRD has no printer column Chart yet" \
    bash -c "! '${KUBECTL}' get crd '${CRD}' -o json | jq -e '.spec.versions[0].additionalPrinterColumns[] | select(.name == \"Chart\")'"
  "${PYTHON}" - "${crd_file}" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
marker = "      additionalPrinterColumns:\n"
assert marker in text
text = text.replace(marker, marker + "        - {name: Chart, type: string, jsonPath: .metadata.name, description: added by the chart test}\n", 1)
open(path, "w").write(text)
PY
  check "helm upgrade" helm upgrade "${RELEASE}" "${WORK}/chart" "${values[@]}" --wait --timeout 120s
  expect_eq "the cluster's CRD has the new printer column" "added by the chart test" \
    "$(kubectl get crd "${CRD}" -o json | jq -r '.spec.versions[0].additionalPrinterColumns[] | select(.name == "Chart") | .description')"
  check "the object survived the upgrade" kubectl get -f "${WORK}/object.yaml"

  step "helm uninstall keeps the CRD (crds.keep) and the objects"
  check "helm uninstall" helm uninstall "${RELEASE}" -n "${RELEASE_NS}" --wait --timeout 120s
  check "the CRD is still there" kubectl get crd "${CRD}"
  check "the object is still there" kubectl get -f "${WORK}/object.yaml"
  expect_eq "nothing else of the release left" "" \
    "$( { kubectl get deployments,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets -n "${RELEASE_NS}" -l "app.kubernetes.io/instance=${RELEASE}" -o name
          kubectl get clusterroles,clusterrolebindings -l "app.kubernetes.io/instance=${RELEASE}" -o name; } 2>/dev/null)"

  step "re-installing adopts the kept CRD; with crds.keep=false uninstall deletes it"
  check "helm install again (crds.keep=false)" helm install "${RELEASE}" "${WORK}/chart" "${values[@]}" --set crds.keep=false --wait --timeout 120s
  # Helm decides from the manifest it stored for the release (adoption leaves the live annotation).
  expect_eq "no keep policy in the release's manifest" "null" \
    "$(helm get manifest "${RELEASE}" -n "${RELEASE_NS}" | yaml2json | jq -r '.[] | select(.kind == "CustomResourceDefinition") | .metadata.annotations["helm.sh/resource-policy"]')"
  check "helm uninstall" helm uninstall "${RELEASE}" -n "${RELEASE_NS}" --wait --timeout 120s
  wait_for 60 "the CRD deleted" bash -c "! '${KUBECTL}' get crd '${CRD}'"
  expect_eq "the shared CRD is untouched" "" \
    "$(kubectl get crd financialapis.edgartools.io -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')"
  ;;

*) echo "unknown case ${case_name}" >&2; exit 2 ;;
esac
finish
