# Pinned versions of the upstream tools the local control plane is built from (sourced by hack/ scripts).
# Changing one changes the cache folder, so the next run rebuilds with the new pins.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
HELM_VERSION="${HELM_VERSION:-v3.19.5}"
# The Go that builds them (hack/lib/go-toolchain.sh fetches it when the `go` on PATH is older). The
# highest `go` line among the modules built is etcd v3.6.16's `go 1.26.0` (with `toolchain go1.26.10`);
# coredns v1.14.7 says 1.25.0, kubernetes v1.34.4, kwok v0.7.0 and helm v3.19.5 say 1.24.0.
# GO_MINIMUM_VERSION is that highest line: a `go` on PATH at least that new is used as it is.
GO_MINIMUM_VERSION="${GO_MINIMUM_VERSION:-go1.26.0}"
GO_TOOLCHAIN_VERSION="${GO_TOOLCHAIN_VERSION:-go1.26.10}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
CRI_TOOLS_VERSION="${CRI_TOOLS_VERSION:-v1.34.0}"
KUBE_NETWORK_POLICIES_VERSION="${KUBE_NETWORK_POLICIES_VERSION:-v0.8.0}"

CACHE_ROOT="${FINANCIALAPI_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/financialapi-operator}"
CONTROL_PLANE_CACHE="${CACHE_ROOT}/control-plane-k8s-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}-helm-${HELM_VERSION}"
