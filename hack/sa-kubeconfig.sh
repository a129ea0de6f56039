#!/usr/bin/env bash
# Writes a kubeconfig that authenticates as a ServiceAccount (a token from the TokenRequest API) against
# the cluster of the current KUBECONFIG: how the operator runs out of cluster with exactly the
# permissions the Helm chart gives it (the local cluster's kwok nodes run no containers).
#
#   hack/sa-kubeconfig.sh SERVICEACCOUNT NAMESPACE OUTPUT [DURATION, default 24h]
# Uses $KUBECTL (default: kubectl on PATH).
set -euo pipefail
sa="${1:?usage: $0 SERVICEACCOUNT NAMESPACE OUTPUT [DURATION]}" namespace="${2:?}" output="${3:?}" duration="${4:-24h}"
kubectl="${KUBECTL:-kubectl}"
token="$("${kubectl}" create token "${sa}" -n "${namespace}" --duration "${duration}")"
server="$("${kubectl}" config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')"
ca="$("${kubectl}" config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
umask 077
cat >"${output}" <<KC
apiVersion: v1
kind: Config
clusters: [{name: cluster, cluster: {server: "${server}", certificate-authority-data: "${ca}"}}]
users: [{name: ${sa}, user: {token: "${token}"}}]
contexts: [{name: ${sa}, context: {cluster: cluster, user: ${sa}, namespace: "${namespace}"}}]
current-context: ${sa}
KC
