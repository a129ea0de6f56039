#!/usr/bin/env bash
# Unit-level checks of charts/financialapi-operator: no cluster, only helm (from the control-plane
# cache that `make test` builds first).
#
#   tests/chart/unit_test.sh lint|render|schema|crd-in-sync|rbac-matches-code|values-documented
#
# Exit 0: every check passed; 1: a check failed (each failure is printed); 77: helm is not built yet.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case_name="${1:?usage: $0 lint|render|schema|crd-in-sync|rbac-matches-code|values-documented}"

if [[ "${case_name}" != values-documented ]]; then
  if ! bin="$("${REPO_DIR}/hack/build-control-plane.sh" --print)"; then
    echo "SKIP: helm is not built yet (make control-plane)"
    exit 77
  fi
  use_helm "${bin}"
  trap 'rm -rf "${HELM_HOME_DIR}"' EXIT
fi

render() {  # render [helm template args...] → JSON array of the documents
  "${HELM}" template rel "${CHART}" --namespace ops "$@" | yaml2json
}
# jq over the last render: q FILTER
q() { jq -r "$1" <<<"${rendered}"; }

case "${case_name}" in

lint)
  check "helm lint --strict (defaults)" "${HELM}" lint --strict "${CHART}"
  check "helm lint --strict (two watched namespaces)" "${HELM}" lint --strict "${CHART}" --set 'watchNamespaces={a,b}'
  check "helm lint --strict (one replica, no leader election)" "${HELM}" lint --strict "${CHART}" \
    --set replicas=1 --set leaderElection.enabled=false
  # The packaged chart carries the CRD copy and renders the same as the folder.
  out="$(mktemp -d)"
  check "helm package" "${HELM}" package "${CHART}" --destination "${out}"
  package="${out}/financialapi-operator-0.1.0.tgz"
  check "the package holds files/crds" bash -c "tar tzf '${package}' | grep -q '^financialapi-operator/files/crds/edgartools.io_financialapis.yaml$'"
  expect_eq "the package renders like the folder" "$("${HELM}" template rel "${CHART}" | sha256sum)" \
    "$("${HELM}" template rel "${package}" | sha256sum)"
  rm -rf "${out}"
  # appVersion = the project version, and the image defaults to it.
  project_version="$(sed -n 's/^project(financialapi VERSION \([0-9.]*\).*/\1/p' "${REPO_DIR}/CMakeLists.txt")"
  expect_eq "appVersion equals the project version" "${project_version}" \
    "$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' "${CHART}/Chart.yaml")"
  expect_eq "chart version" "0.1.0" "$(sed -n 's/^version: //p' "${CHART}/Chart.yaml")"
  ;;

render)
  # --- defaults: cluster-wide -------------------------------------------------------------------
  rendered="$(render)"
  expect_eq "kinds rendered with defaults" \
    "ClusterRole ClusterRole ClusterRoleBinding ClusterRoleBinding CustomResourceDefinition Deployment PodDisruptionBudget Role RoleBinding Service ServiceAccount" \
    "$(q '[.[].kind] | sort | join(" ")')"
  d='.[] | select(.kind == "Deployment")'
  c="${d} | .spec.template.spec.containers[0]"
  expect_eq "replicas" 2 "$(q "${d} | .spec.replicas")"
  expect_eq "image defaults to appVersion" "ghcr.io/edgartools/financialapi-operator:0.1.0" "$(q "${c} | .image")"
  expect_eq "args (cluster-wide)" \
    "--workers=2 --resync-period=36000 --qps=50 --burst=100 --metrics-bind-address=0.0.0.0:8080 --health-probe-bind-address=0.0.0.0:8081 --leader-elect --leader-election-namespace=ops --leader-election-id=rel-financialapi-operator-leader --lease-duration=15 --renew-deadline=10 --retry-period=2 --log-format=json --log-level=info" \
    "$(q "${c} | .args | join(\" \")")"
  expect_eq "liveness probe" "/healthz health" "$(q "${c} | .livenessProbe.httpGet | \"\(.path) \(.port)\"")"
  expect_eq "readiness probe" "/readyz health" "$(q "${c} | .readinessProbe.httpGet | \"\(.path) \(.port)\"")"
  expect_eq "container ports" "metrics=8080 health=8081" "$(q "${c} | [.ports[] | \"\(.name)=\(.containerPort)\"] | join(\" \")")"
  expect_eq "container securityContext" "false true false ALL" \
    "$(q "${c} | .securityContext | \"\(.allowPrivilegeEscalation) \(.readOnlyRootFilesystem) \(.privileged) \(.capabilities.drop | join(\",\"))\"")"
  expect_eq "pod securityContext" "true 65532 RuntimeDefault" \
    "$(q "${d} | .spec.template.spec.securityContext | \"\(.runAsNonRoot) \(.runAsUser) \(.seccompProfile.type)\"")"
  expect_eq "requests and limits" "50m 64Mi 500m 256Mi" \
    "$(q "${c} | .resources | \"\(.requests.cpu) \(.requests.memory) \(.limits.cpu) \(.limits.memory)\"")"
  expect_eq "replicas spread over nodes" "kubernetes.io/hostname ScheduleAnyway" \
    "$(q "${d} | .spec.template.spec.topologySpreadConstraints[0] | \"\(.topologyKey) \(.whenUnsatisfiable)\"")"
  expect_eq "PDB minAvailable, same selector as the Deployment" "1 true" \
    "$(jq -r '(.[] | select(.kind == "Deployment") | .spec.selector) as $s | .[] | select(.kind == "PodDisruptionBudget") | "\(.spec.minAvailable) \(.spec.selector == $s)"' <<<"${rendered}")"
  expect_eq "metrics Service selects the operator pods" "metrics metrics" \
    "$(q '.[] | select(.kind == "Service") | .spec.ports[0] | "\(.name) \(.targetPort)"')"
  expect_eq "the pods carry the Service's selector" "true" \
    "$(jq -r '(.[] | select(.kind == "Service") | .spec.selector) as $s | .[] | select(.kind == "Deployment") | .spec.template.metadata.labels | contains($s)' <<<"${rendered}")"
  expect_eq "ClusterRoleBinding binds the ServiceAccount" "ServiceAccount rel-financialapi-operator ops" \
    "$(q '.[] | select(.kind == "ClusterRoleBinding" and .roleRef.name == "rel-financialapi-operator") | .subjects[0] | "\(.kind) \(.name) \(.namespace)"')"
  expect_eq "no wildcard anywhere in RBAC" "" \
    "$(q '.[] | select(.kind == "Role" or .kind == "ClusterRole") | .rules[] | select([.verbs[], (.resources // [])[], (.apiGroups // [])[]] | index("*")) | tostring')"
  expect_eq "the Lease Role lives in the release namespace and names its Lease" "ops rel-financialapi-operator-leader" \
    "$(q '.[] | select(.kind == "Role") | "\(.metadata.namespace) \(.rules[] | select(.resourceNames) | .resourceNames | join(","))"')"
  expect_eq "the CRD is kept on uninstall" "keep" \
    "$(q '.[] | select(.kind == "CustomResourceDefinition") | .metadata.annotations["helm.sh/resource-policy"]')"
  expect_eq "no ServiceMonitor by default" "0" "$(q '[.[] | select(.kind == "ServiceMonitor")] | length')"

  # --- two watched namespaces: namespaced RBAC, one Deployment watching both ---------------------
  rendered="$(render --set 'watchNamespaces={a,b}')"
  expect_eq "Roles (manager per namespace + lease)" "a/rel-financialapi-operator b/rel-financialapi-operator ops/rel-financialapi-operator-leader-election" \
    "$(q '[.[] | select(.kind == "Role") | "\(.metadata.namespace)/\(.metadata.name)"] | sort | join(" ")')"
  expect_eq "RoleBindings" "a/rel-financialapi-operator b/rel-financialapi-operator ops/rel-financialapi-operator-leader-election" \
    "$(q '[.[] | select(.kind == "RoleBinding") | "\(.metadata.namespace)/\(.metadata.name)"] | sort | join(" ")')"
  expect_eq "RoleBindings bind the release's ServiceAccount" "ops/rel-financialapi-operator" \
    "$(q '[.[] | select(.kind == "RoleBinding") | .subjects[] | "\(.namespace)/\(.name)"] | unique | join(" ")')"
  expect_eq "the only ClusterRole is discovery, non-resource URLs only" "rel-financialapi-operator-discovery /apis/edgartools.io/v1alpha1,/apis/monitoring.coreos.com/v1,/version" \
    "$(q '.[] | select(.kind == "ClusterRole") | "\(.metadata.name) \(.rules | map(.nonResourceURLs // ["RESOURCES"]) | add | join(","))"')"
  expect_eq "one Deployment watches both namespaces with one Lease" \
    "rel-financialapi-operator --watch-namespace=a,b --leader-election-id=rel-financialapi-operator-leader" \
    "$(q '[.[] | select(.kind == "Deployment") | "\(.metadata.name) \(.spec.template.spec.containers[0].args | map(select(startswith("--watch-namespace") or startswith("--leader-election-id"))) | join(" "))"] | join(" ")')"
  expect_eq "one PDB" "rel-financialapi-operator" \
    "$(q '[.[] | select(.kind == "PodDisruptionBudget") | .metadata.name] | join(" ")')"
  expect_eq "the Lease Role names the one Lease" "rel-financialapi-operator-leader" \
    "$(q '.[] | select(.kind == "Role" and .metadata.namespace == "ops") | .rules[] | select(.resourceNames) | .resourceNames | join(",")')"
  rendered="$(render --set 'watchNamespaces={a}')"
  expect_eq "one watched namespace" "rel-financialapi-operator --watch-namespace=a" \
    "$(q '.[] | select(.kind == "Deployment") | "\(.metadata.name) \(.spec.template.spec.containers[0].args[0])"')"

  # --- cluster-wide, explicitly, with the other switches ------------------------------------------
  rendered="$(render --set-json 'watchNamespaces=[]' --set replicas=1 --set leaderElection.enabled=false \
    --set crds.install=false --set image.tag=9.9.9 --set logFormat=text --set logLevel=debug --set workers=4 \
    --set client.qps=20 --set client.burst=40 --set-json 'nodeSelector={"disk":"ssd"}' \
    --set-json 'tolerations=[{"key":"ops","operator":"Exists"}]' --set-json 'podAnnotations={"a":"b"}' \
    --set-json 'affinity={"nodeAffinity":{}}')"
  expect_eq "kinds (1 replica, no leader election, no CRD)" \
    "ClusterRole ClusterRole ClusterRoleBinding ClusterRoleBinding Deployment Service ServiceAccount" \
    "$(q '[.[].kind] | sort | join(" ")')"
  expect_eq "args" "--workers=4 --resync-period=36000 --qps=20 --burst=40 --metrics-bind-address=0.0.0.0:8080 --health-probe-bind-address=0.0.0.0:8081 --log-format=text --log-level=debug" \
    "$(q ".[] | select(.kind == \"Deployment\") | .spec.template.spec.containers[0].args | join(\" \")")"
  expect_eq "image tag override" "ghcr.io/edgartools/financialapi-operator:9.9.9" \
    "$(q '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].image')"
  expect_eq "nodeSelector, tolerations, affinity, podAnnotations" '{"disk":"ssd"} ops {"nodeAffinity":{}} b' \
    "$(q '.[] | select(.kind == "Deployment") | .spec.template | "\(.spec.nodeSelector | tojson) \(.spec.tolerations[0].key) \(.spec.affinity | tojson) \(.metadata.annotations.a)"')"
  rendered="$(render --set image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef --set crds.keep=false \
    --set serviceMonitor.enabled=true --api-versions monitoring.coreos.com/v1/ServiceMonitor)"
  expect_eq "image digest" "ghcr.io/edgartools/financialapi-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "$(q '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].image')"
  expect_eq "crds.keep=false drops the keep annotation" "null" \
    "$(q '.[] | select(.kind == "CustomResourceDefinition") | .metadata.annotations["helm.sh/resource-policy"]')"
  expect_eq "ServiceMonitor selects the metrics Service" "true metrics" \
    "$(jq -r '(.[] | select(.kind == "Service") | .metadata.labels) as $l | .[] | select(.kind == "ServiceMonitor") | .spec.selector.matchLabels as $m | "\($l | contains($m)) \(.spec.endpoints[0].port)"' <<<"${rendered}")"
  # The job the operator's alerts select is the Service's app.kubernetes.io/name.
  expect_eq "ServiceMonitor job label" "app.kubernetes.io/name financialapi-operator" \
    "$(q '.[] | select(.kind == "ServiceMonitor") | .spec.jobLabel as $j | "\($j) \(.metadata.labels[$j])"')"
  # --- monitoring: the operator's PrometheusRule and the dashboards ConfigMap --------------------------
  rendered="$(render --set monitoring.prometheusRule.enabled=true --set monitoring.dashboards.enabled=true \
    --set monitoring.prometheusRule.labels.release=prom --set monitoring.dashboards.namespace=grafana \
    --api-versions monitoring.coreos.com/v1/PrometheusRule)"
  expect_eq "PrometheusRule alerts (from monitoring/prometheus/operator-rules.yaml)" \
    "$(/usr/bin/python3 -c 'import sys,yaml; print(" ".join(r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r))' "${REPO_DIR}/monitoring/prometheus/operator-rules.yaml")" \
    "$(q '[.[] | select(.kind == "PrometheusRule") | .spec.groups[].rules[] | select(.alert) | .alert] | join(" ")')"
  expect_eq "PrometheusRule label for the Prometheus selector" "prom" \
    "$(q '.[] | select(.kind == "PrometheusRule") | .metadata.labels.release')"
  expect_eq "every rule selects the operator's job" "true" \
    "$(q '[.[] | select(.kind == "PrometheusRule") | .spec.groups[].rules[].expr | contains("job=\"financialapi-operator\"")] | all')"
  expect_eq "dashboards ConfigMap: namespace, sidecar label, files" "grafana 1 financialapi-operator.json financialapi.json" \
    "$(q '.[] | select(.kind == "ConfigMap") | "\(.metadata.namespace) \(.metadata.labels.grafana_dashboard) \(.data | keys | join(" "))"')"
  expect_eq "dashboards are the JSON of monitoring/grafana" \
    "$(jq -c . "${REPO_DIR}/monitoring/grafana/financialapi.json" | sha256sum)" \
    "$(q '.[] | select(.kind == "ConfigMap") | .data["financialapi.json"]' | jq -c . | sha256sum)"
  rendered="$(render --set nameOverride=fapi-op --set monitoring.prometheusRule.enabled=true \
    --api-versions monitoring.coreos.com/v1/PrometheusRule)"
  expect_eq "nameOverride moves the job selector with it" "true" \
    "$(q '[.[] | select(.kind == "PrometheusRule") | .spec.groups[].rules[].expr | contains("job=\"fapi-op\"")] | all')"
  ;;

schema)
  # Each bad value must make helm fail with a message naming the field; good values must pass.
  rejects() {  # rejects EXPECTED-MESSAGE-PART HELM-ARGS...
    local expected="$1" output
    shift
    if output="$("${HELM}" template rel "${CHART}" "$@" 2>&1 >/dev/null)"; then
      fail "helm accepted $*"
    elif [[ "${output}" != *"${expected}"* ]]; then
      fail "helm rejected $* but without naming [${expected}]: ${output}"
    else
      pass
    fi
  }
  rejects "at '/replicas': minimum" --set replicas=-1
  rejects "at '/replicas'" --set replicas=two
  rejects "at '/logFormat': value must be one of 'text', 'json'" --set logFormat=xml
  rejects "at '/logLevel': value must be one of" --set logLevel=trace
  rejects "at '/workers': minimum" --set workers=0
  rejects "at '/client/qps'" --set client.qps=-1
  rejects "at '/image/pullPolicy'" --set image.pullPolicy=Sometimes
  rejects "at '/image/digest'" --set image.digest=latest
  rejects "at '/watchNamespaces/0'" --set 'watchNamespaces={Not_A_Namespace}'
  rejects "at '/watchNamespaces'" --set 'watchNamespaces={a,a}'
  rejects "at '/leaderElection/leaseDurationSeconds'" --set leaderElection.leaseDurationSeconds=0
  rejects "at '/metrics/port': maximum" --set metrics.port=70000
  rejects "at '/serviceMonitor/interval'" --set serviceMonitor.interval=often
  rejects "at '/crds/install'" --set crds.install=maybe
  rejects "additional properties 'replica' not allowed" --set replica=3
  # What the schema cannot express, the templates check.
  rejects "leaderElection.leaseDurationSeconds (5) must be greater than leaderElection.renewDeadlineSeconds (10)" \
    --set leaderElection.leaseDurationSeconds=5
  rejects "leaderElection.renewDeadlineSeconds (2) must be greater than leaderElection.retryPeriodSeconds (2)" \
    --set leaderElection.renewDeadlineSeconds=2
  rejects "replicas is 2 but leaderElection.enabled is false" --set leaderElection.enabled=false
  rejects "client.burst (10) must be at least client.qps (50)" --set client.burst=10
  rejects "metrics.port and healthPort are both 8081" --set metrics.port=8081
  rejects "monitoring.prometheusRule.enabled is true but the cluster does not serve monitoring.coreos.com/v1 PrometheusRule" \
    --set monitoring.prometheusRule.enabled=true
  rejects "serviceMonitor.enabled is true but the cluster does not serve monitoring.coreos.com/v1 ServiceMonitor" \
    --set serviceMonitor.enabled=true
  rejects "serviceAccount.name is required" --set serviceAccount.create=false
  # Accepted: the edges of the same fields.
  check "replicas 0, one namespace, text logs, fractional timings" "${HELM}" template rel "${CHART}" \
    --set replicas=0 --set 'watchNamespaces={team-a}' --set logFormat=text --set-json leaderElection.retryPeriodSeconds=0.5 >/dev/null
  check "qps 0 (no client-side limit) with a small burst" "${HELM}" template rel "${CHART}" --set client.qps=0 --set client.burst=1 >/dev/null
  check "an existing ServiceAccount" "${HELM}" template rel "${CHART}" --set serviceAccount.create=false --set serviceAccount.name=ops >/dev/null
  ;;

crd-in-sync)
  # 1. The chart's copy is byte for byte crds/ (same files).
  check "hack/sync-chart-files.sh --check" "${REPO_DIR}/hack/sync-chart-files.sh" --check
  # 2. What the chart installs is crds/, field for field, apart from the labels and annotation the
  #    chart adds to metadata.
  rendered="$(render)"
  source_json="$(cat "${REPO_DIR}"/crds/*.yaml | yaml2json)"
  strip='map(.metadata.labels |= with_entries(select(.key | test("^(helm.sh/chart|app.kubernetes.io/(instance|version|managed-by))$") | not))
             | .metadata.annotations |= (. // {} | del(.["helm.sh/resource-policy"])) | if .metadata.annotations == {} then del(.metadata.annotations) else . end)
         | sort_by(.metadata.name)'
  expect_eq "number of CRDs" "$(jq length <<<"${source_json}")" "$(q '[.[] | select(.kind == "CustomResourceDefinition")] | length')"
  if diff <(jq -S "${strip}" <<<"${source_json}") <(jq -S "[.[] | select(.kind == \"CustomResourceDefinition\")] | ${strip}" <<<"${rendered}"); then
    pass
  else
    fail "the rendered CRD differs from crds/ (diff above: < crds/, > chart)"
  fi
  ;;

rbac-matches-code)
  # The manager rules (ClusterRole of the default render) and the Lease rules must be exactly what
  # the operator's code calls: a new child kind or API call without a rule fails here, and so does a
  # rule the code does not use.
  rendered="$(render)"
  flatten='[.rules[] | . as $r | ($r.apiGroups // [""])[] as $g | ($r.resources // [])[] as $res | $r.verbs[] as $v | "\($g)/\($res):\($v)"] | sort | join("\n")'
  actual_manager="$(q ".[] | select(.kind == \"ClusterRole\" and .metadata.name == \"rel-financialapi-operator\") | ${flatten}")"
  actual_lease="$(q ".[] | select(.kind == \"Role\") | ${flatten}")"
  expected="$("${PYTHON}" - "${REPO_DIR}" <<'PY'
import glob, re, sys
repo = sys.argv[1]
src = lambda p: open(f"{repo}/{p}").read()
# ResourceType constants: name -> (group, plural)
types = {}
for path in ["operator/kube/include/financialapi/kube/resource.h",
             "operator/financialapi/include/financialapi/platform/builders.h",
             "operator/financialapi/include/financialapi/platform/spec.h"]:
    for name, group, plural in re.findall(r'ResourceType (k\w+)\{"([^"]*)", "[^"]*", "([^"]*)"', src(path)):
        types[name] = (group, plural)
builders = src("operator/financialapi/src/builders.cc")
children = re.findall(r'&(?:core|resources)::(k\w+)', re.search(r'ChildKinds\(\) \{(.*?)\n\}', builders, re.S).group(1))
assert children, "no ChildKinds found"
manager, lease = set(), set()
def add(rules, kind, verbs, sub=""):
    group, plural = types[kind]
    for v in verbs:
        rules.add(f"{group}/{plural}{sub}:{v}")
# The controller watches (list + watch) the primary kind and every child kind; the reconciler applies
# children server-side (patch; create when absent) and prunes them (delete).
add(manager, "kFinancialApis", ["list", "watch"])
for kind in children:
    add(manager, kind, ["list", "watch", "create", "patch", "delete"])
# ExistingChild reads a child absent from the cache with the child's own type (no adoption): get on
# every child kind.
if re.search(r'client_\.Get\(type,', src("operator/financialapi/src/reconciler.cc")):
    for kind in children:
        add(manager, kind, ["get"])
# Direct calls: client_.Verb(ResourceType, ...)
verb_of = {"Get": ["get"], "List": ["list"], "ListAll": ["list"], "Create": ["create"], "Replace": ["update"],
           "MergePatch": ["patch"], "Apply": ["create", "patch"], "Delete": ["delete"], "Watch": ["watch"]}
files = glob.glob(f"{repo}/operator/financialapi/src/*.cc") + glob.glob(f"{repo}/operator/runtime/src/*.cc")
for path in files:
    for line in open(path):
        for method, kind in re.findall(r'client_\.(\w+)\((?:[\w:]*::)?(k\w+)', line):
            sub = "/status" if method == "MergePatch" and '"status"' in line else ""
            add(lease if kind == "kLeases" else manager, kind, verb_of[method], sub)
# blockOwnerDeletion on the children's ownerReferences: update on the owner's finalizers (admission).
# The components build the children (components/objects.cc makes their metadata).
children_sources = builders + "".join(open(p).read() for p in glob.glob(f"{repo}/operator/financialapi/src/components/*.cc"))
if re.search(r'"blockOwnerDeletion", true', children_sources):
    add(manager, "kFinancialApis", ["update"], "/finalizers")
print("\n".join(sorted(manager)))
print("---")
print("\n".join(sorted(lease)))
PY
)"
  expect_eq "manager rules = the code's calls" "${expected%%$'\n'---*}" "${actual_manager}"
  expect_eq "Lease rules = leader election's calls" "${expected##*---$'\n'}" "${actual_lease}"
  ;;

values-documented)
  # Every key in values.yaml has a comment: on the line above (a comment block) or on the same line.
  undocumented="$(awk '
    /^[[:space:]]*#/ { commented = 1; next }
    /^[[:space:]]*$/ { commented = 0; next }
    /^[[:space:]]*[A-Za-z][A-Za-z0-9_]*:/ {
      if (!commented && $0 !~ /#/) print NR ": " $0
      commented = 0; next
    }
    { commented = 0 }' "${CHART}/values.yaml")"
  expect_eq "keys without a comment in values.yaml" "" "${undocumented}"
  # Every top-level key is in the schema, and the schema knows no key values.yaml lacks.
  keys_values="$(grep -oE '^[A-Za-z][A-Za-z0-9_]*' "${CHART}/values.yaml" | sort | tr '\n' ' ')"
  keys_schema="$(jq -r '.properties | keys - ["global"] | sort | join(" ")' "${CHART}/values.schema.json") "
  expect_eq "top-level keys of values.yaml and values.schema.json" "${keys_schema}" "${keys_values}"
  ;;

*) echo "unknown case ${case_name}" >&2; exit 2 ;;
esac
finish
