#!/usr/bin/env bash
# The test cluster fixture: the local control plane, then the project's CRDs, served. The real node's
# network is made here (the API server's flags need it); environment.real-node.up starts the node, so
# the tests on kwok nodes need not wait for the images it imports.
set -euo pipefail
state="$1" source_dir="$2"
"${source_dir}/hack/local-cluster" up --state-dir "${state}" --real-node=later
kubectl="$(cat "${state}/bin-dir")/kubectl"
"${kubectl}" --kubeconfig "${state}/kubeconfig" apply --server-side -f "${source_dir}/crds/" >/dev/null
# kubectl wait fails at once ("<nil> is of the type <nil>, expected []interface{}") while the new CRD
# has no status.conditions yet, instead of waiting: so it is asked again until then.
for attempt in $(seq 1 60); do
  "${kubectl}" --kubeconfig "${state}/kubeconfig" wait --for condition=established --timeout=60s \
    crd/financialapis.edgartools.io >/dev/null 2>&1 && break
  [[ ${attempt} -lt 60 ]] || { echo "the FinancialApi CRD was not established within a minute" >&2; exit 1; }
  sleep 1
done
echo "CRDs installed"
