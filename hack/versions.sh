# Pinned versions of the upstream tools the local control plane is built from (sourced by hack/ scripts).
# Changing one changes the cache folder, so the next run rebuilds with the new pins.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
HELM_VERSION="${HELM_VERSION:-v3.19.5}"

CACHE_ROOT="${FINANCIALAPI_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/financialapi-operator}"
CONTROL_PLANE_CACHE="${CACHE_ROOT}/control-plane-k8s-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}-helm-${HELM_VERSION}"
