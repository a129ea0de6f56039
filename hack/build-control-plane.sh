#!/usr/bin/env bash
# Builds the pinned upstream binaries of a local Kubernetes control plane from Go modules into a cache
# folder keyed by their versions. A binary already present is not rebuilt, so only the first run on a
# machine pays for the build (several minutes and a few hundred MB of module downloads).
#
#   hack/build-control-plane.sh          build what is missing, print the bin folder
#   hack/build-control-plane.sh --print  print the bin folder only (exit 1 when something is missing)
#
# Go is used here only to build these upstream tools; the product is C++.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

BIN_DIR="${CONTROL_PLANE_CACHE}/bin"
WORK_DIR="${CONTROL_PLANE_CACHE}/build"
LOG_DIR="${CONTROL_PLANE_CACHE}/logs"

# kubelet, kube-proxy, coredns, kube-network-policies (and crictl, to take its pods down) run the real node of `hack/local-cluster up --real-node`.
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy etcd etcdctl kwok helm coredns crictl kube-network-policies)

all_present() {
  local b
  for b in "${binaries[@]}"; do [[ -x "${BIN_DIR}/${b}" ]] || return 1; done
}

if [[ "${1:-}" == "--print" ]]; then
  echo "${BIN_DIR}"
  all_present
  exit $?
fi

if all_present; then
  echo "${BIN_DIR}"
  exit 0
fi

# The modules need Go >= GO_TOOLCHAIN_VERSION (etcd 3.6.16: 1.26); Debian 12's golang-go is 1.19. An older
# go fetches the pinned toolchain through the Go module proxy into the cache and puts it first on PATH.
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-toolchain.sh"
ensure_go_toolchain || exit 1
mkdir -p "${BIN_DIR}" "${WORK_DIR}" "${LOG_DIR}"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

step() { echo "build-control-plane: $*" >&2; }

# Runs a build step with its output in a log; on failure shows the log's tail and where it is.
logged() {
  local name="$1"; shift
  local log="${LOG_DIR}/${name}.log"
  if ! "$@" >"${log}" 2>&1; then
    step "FAILED: ${name}; last lines of ${log}:"
    tail -n 30 "${log}" >&2
    exit 1
  fi
}

build_kubernetes() {
  local mod_dir="${WORK_DIR}/kubernetes-${KUBERNETES_VERSION}"
  local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  mkdir -p "${mod_dir}"
  step "kubernetes ${KUBERNETES_VERSION}: resolving modules (staging modules at ${staging_version})"
  local upstream_mod
  upstream_mod="$(cd "${mod_dir}" && go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [[ -f "${upstream_mod}" ]] || { step "cannot download k8s.io/kubernetes@${KUBERNETES_VERSION}"; exit 1; }

  # k8s.io/kubernetes replaces its staging modules with local folders, which `go install` refuses.
  # A tools module of our own requires it and points each staging module at its published version.
  {
    echo "module financialapi.local/kubernetes-tools"
    echo
    grep -E '^go [0-9]' "${upstream_mod}"
    grep -E '^godebug ' "${upstream_mod}" || true
    echo
    echo "require k8s.io/kubernetes ${KUBERNETES_VERSION}"
    echo
    echo "replace ("
    sed -n -E 's#^[[:space:]]*(k8s\.io/[^[:space:]]+) => \./staging/.*#\t\1 => \1 '"${staging_version}"'#p' "${upstream_mod}"
    echo ")"
  } >"${mod_dir}/go.mod"
  step "kubernetes: $(grep -c '=> k8s.io' "${mod_dir}/go.mod") staging replaces written to ${mod_dir}/go.mod"

  local pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
              k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
              k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
  (cd "${mod_dir}" && logged kubernetes-get go get "${pkgs[@]/%/@${KUBERNETES_VERSION}}")

  local build_date ldflags=""
  build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
  done
  for pkg in "${pkgs[@]}"; do
    local name="${pkg##*/}"
    [[ -x "${BIN_DIR}/${name}" ]] && continue
    step "kubernetes: building ${name} (a few minutes on 2 cores)"
    (cd "${mod_dir}" && logged "${name}" go build -trimpath -ldflags "-s -w ${ldflags}" -o "${BIN_DIR}/${name}.tmp" "${pkg}")
    mv "${BIN_DIR}/${name}.tmp" "${BIN_DIR}/${name}"
  done
}

build_etcd() {
  local mod_dir="${WORK_DIR}/etcd-${ETCD_VERSION}"
  mkdir -p "${mod_dir}/etcd" "${mod_dir}/etcdctl"
  cat >"${mod_dir}/go.mod" <<EOF
module financialapi.local/etcd-tools

go 1.24
EOF
  cat >"${mod_dir}/etcd/main.go" <<'EOF'
// etcd server built from its Go module (Debian's etcd is older than Kubernetes supports).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  cat >"${mod_dir}/etcdctl/main.go" <<'EOF'
// etcdctl built from its Go module; the tests use it to compact etcd.
package main

import "go.etcd.io/etcd/etcdctl/v3/ctlv3"

func main() { ctlv3.MustStart() }
EOF
  step "etcd ${ETCD_VERSION}: resolving modules"
  (cd "${mod_dir}" && logged etcd-get go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" "go.etcd.io/etcd/etcdctl/v3@${ETCD_VERSION}" && logged etcd-tidy go mod tidy)
  local name
  for name in etcd etcdctl; do
    [[ -x "${BIN_DIR}/${name}" ]] && continue
    step "etcd: building ${name}"
    (cd "${mod_dir}" && logged "${name}" go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/${name}.tmp" "./${name}")
    mv "${BIN_DIR}/${name}.tmp" "${BIN_DIR}/${name}"
  done
}

# go_install NAME PKG@VERSION [BUILT_NAME]: BUILT_NAME is what `go install` calls the binary (the last
# element of the package path) when it is not NAME.
go_install() {
  local name="$1" pkg="$2" built="${3:-$1}"
  [[ -x "${BIN_DIR}/${name}" ]] && return 0
  step "building ${name} (${pkg})"
  local tmp_bin="${WORK_DIR}/gobin-${name}"
  mkdir -p "${tmp_bin}"
  GOBIN="${tmp_bin}" logged "${name}" go install -trimpath -ldflags "-s -w" "${pkg}"
  mv "${tmp_bin}/${built}" "${BIN_DIR}/${name}"
}

for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
  [[ -x "${BIN_DIR}/${b}" ]] || { build_kubernetes; break; }
done
[[ -x "${BIN_DIR}/etcd" && -x "${BIN_DIR}/etcdctl" ]] || build_etcd
go_install kwok "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
go_install helm "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
go_install coredns "github.com/coredns/coredns@${COREDNS_VERSION}"
go_install crictl "sigs.k8s.io/cri-tools/cmd/crictl@${CRI_TOOLS_VERSION}"
# The real node's NetworkPolicy engine (docs/network-policy-engines.md); its module's main package is "cmd".
go_install kube-network-policies "sigs.k8s.io/kube-network-policies/cmd@${KUBE_NETWORK_POLICIES_VERSION}" cmd

all_present || { step "some binaries are still missing in ${BIN_DIR}"; exit 1; }
step "all control-plane binaries are in ${BIN_DIR}"
echo "${BIN_DIR}"
