# The real node of `hack/local-cluster up --real-node`: containerd + runc, CNI bridge networking, a kubelet,
# kube-proxy and CoreDNS, all inside a network namespace of its own. Sourced by hack/local-cluster, which
# sets STATE_DIR, LOGS, PKI, BIN, API_PORT and the helpers of hack/lib/process.sh.
#
# Why a network namespace: it has no route but the one to the host, so no packet to a pod or Service
# address can leave the machine (nothing to misconfigure), and its bridge, iptables chains and kube-proxy
# are its own, so two clusters on one machine do not share them. The host reaches it through a veth pair:
#
#   host  fa-node<N> 172.30.<N>.1 ──veth── eth0 172.30.<N>.2  node netns (containerd, kubelet, kube-proxy,
#                                                                 CoreDNS; pods on cni0 10.90.<N>.0/24)
#
# (10.88.0.0/16 is podman's default bridge on the host, hence 10.90 for pods.)
#
# <N> is a slot (1..250) taken atomically by creating the namespace "financialapi-node<N>". The API server
# stays on 127.0.0.1; a forwarder on 172.30.<N>.1 (only the host and the pods reach it) gives pods the
# `kubernetes` Service. Services get 10.96.<N>.0/24; the host routes pod and Service addresses of the slot
# into the namespace (with an `unreachable` fallback, so they never take the default route to the uplink).

REAL_NODE_NAME=real-node
REAL_NODE_ENV="${STATE_DIR}/real-node.env"
REAL_NODE_TAINT_KEY=financialapi.dev/real-node

# Loads the slot's addresses into the environment; fails when this state dir has no real node.
real_node_load() {
  [[ -f "${REAL_NODE_ENV}" ]] || return 1
  # shellcheck disable=SC1090
  source "${REAL_NODE_ENV}"
}

# Takes a free slot and builds the namespace, the veth pair, addresses and host routes. Sets and writes
# REAL_NODE_* variables (the API server's flags and certificate need them before it starts).
real_node_network_up() {
  local slot
  for slot in $(seq 1 250); do
    ip netns add "financialapi-node${slot}" 2>/dev/null && break
    slot=""
  done
  [[ -n "${slot}" ]] || { say "no free real-node slot (250 namespaces financialapi-node<N> exist)"; return 1; }
  local netns="financialapi-node${slot}" host_if="fa-node${slot}"
  cat >"${REAL_NODE_ENV}" <<EOF
REAL_NODE_SLOT=${slot}
REAL_NODE_NETNS=${netns}
REAL_NODE_HOST_IF=${host_if}
REAL_NODE_HOST_IP=172.30.${slot}.1
REAL_NODE_IP=172.30.${slot}.2
REAL_NODE_POD_CIDR=10.90.${slot}.0/24
REAL_NODE_SERVICE_CIDR=10.96.${slot}.0/24
REAL_NODE_KUBERNETES_SERVICE_IP=10.96.${slot}.1
REAL_NODE_RUN_DIR=/run/financialapi/node${slot}
REAL_NODE_CONTAINERD_SOCKET=/run/financialapi/node${slot}/containerd.sock
REAL_NODE_NAME=${REAL_NODE_NAME}
REAL_NODE_TAINT_KEY=${REAL_NODE_TAINT_KEY}
EOF
  real_node_load
  # A leftover interface of an earlier run of this slot (its namespace was deleted, the link may linger).
  ip link del "${host_if}" 2>/dev/null || true
  ip link add "${host_if}" type veth peer name "${host_if}n"
  ip link set "${host_if}n" netns "${netns}"
  ip addr add "${REAL_NODE_HOST_IP}/24" dev "${host_if}"
  ip link set "${host_if}" up
  in_node ip link set "${host_if}n" name eth0
  in_node ip addr add "${REAL_NODE_IP}/24" dev eth0
  in_node ip link set eth0 up
  in_node ip link set lo up
  in_node sysctl -qw net.ipv4.ip_forward=1
  local cidr
  for cidr in "${REAL_NODE_POD_CIDR}" "${REAL_NODE_SERVICE_CIDR}"; do
    ip route replace "${cidr}" via "${REAL_NODE_IP}" dev "${host_if}" metric 100
    ip route replace unreachable "${cidr}" metric 4242
  done
  mkdir -p "${REAL_NODE_RUN_DIR}"
}

# Runs a command in the node's network namespace only. (Not `ip netns exec`: it mounts a sysfs of its
# own over /sys, which hides the cgroup mounts from the kubelet and runc.)
in_node() { nsenter --net="/run/netns/${REAL_NODE_NETNS}" "$@"; }

# Certificates and kubeconfigs of the node's components (after make_pki; the CA is the cluster's).
real_node_pki() {
  (
    cd "${PKI}"
    printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "${REAL_NODE_IP}" "${REAL_NODE_NAME}" >kubelet-serving.ext
    issue_certificate kubelet "/O=system:nodes/CN=system:node:${REAL_NODE_NAME}" client.ext
    issue_certificate kubelet-serving "/CN=${REAL_NODE_NAME}" kubelet-serving.ext
    issue_certificate kube-proxy "/CN=system:kube-proxy" client.ext
    issue_certificate coredns "/CN=financialapi:coredns" client.ext
  )
  local user
  for user in kubelet kube-proxy coredns; do
    write_kubeconfig "${STATE_DIR}/node/${user}.kubeconfig" "${user}" "https://${REAL_NODE_HOST_IP}:${API_PORT}"
  done
}

# The node's RBAC: the built-in roles for kubelet and kube-proxy, read access for CoreDNS.
real_node_rbac() {
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "financialapi:real-node:kubelet"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:node:${REAL_NODE_NAME}"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "financialapi:real-node:kube-proxy"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-proxier"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:kube-proxy"}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kube-network-policies, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "financialapi:kube-network-policies"}
rules:
- {apiGroups: [""], resources: [pods, namespaces, nodes], verbs: [list, watch, get]}
- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "financialapi:kube-network-policies"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "financialapi:kube-network-policies"}
subjects: [{kind: ServiceAccount, name: kube-network-policies, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "financialapi:coredns"}
rules:
- {apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "financialapi:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "financialapi:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "financialapi:coredns"}]
EOF
}

real_node_configs() {
  local node="${STATE_DIR}/node"
  mkdir -p "${node}/cni/net.d" "${node}/cni/ipam" "${node}/kubelet" "${node}/containerd"
  cat >"${node}/containerd.toml" <<EOF
version = 2
root = "${node}/containerd"
state = "${REAL_NODE_RUN_DIR}/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "${REAL_NODE_CONTAINERD_SOCKET}"
[ttrpc]
  address = "${REAL_NODE_CONTAINERD_SOCKET}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${node}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE runc cannot give sandboxes the default -998 (PLATFORM_NOTES.md).
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${node}/cni/net.d"
EOF
  cat >"${node}/cni/net.d/10-financialapi.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "financialapi-node${REAL_NODE_SLOT}",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "${node}/cni/ipam",
              "ranges": [[{"subnet": "${REAL_NODE_POD_CIDR}", "gateway": "${REAL_NODE_POD_CIDR%.0/24}.1"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # Pods resolve cluster names only: there is nothing outside the machine to ask.
  printf 'search cluster.local\n' >"${node}/resolv.conf"
  cat >"${node}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${REAL_NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: ${PKI}/kubelet-serving.crt
tlsPrivateKeyFile: ${PKI}/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://${REAL_NODE_CONTAINERD_SOCKET}
# What runs here without systemd and without CAP_SYS_RESOURCE (PLATFORM_NOTES.md).
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
localStorageCapacityIsolation: false
clusterDNS: [${REAL_NODE_IP}]
clusterDomain: cluster.local
resolvConf: ${node}/resolv.conf
registerWithTaints:
- {key: ${REAL_NODE_TAINT_KEY}, value: "true", effect: NoSchedule}
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
maxPods: 60
shutdownGracePeriod: 0s
EOF
  cat >"${node}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${node}/kube-proxy.kubeconfig}
hostnameOverride: ${REAL_NODE_NAME}
mode: iptables
clusterCIDR: ${REAL_NODE_POD_CIDR}
bindAddress: ${REAL_NODE_IP}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [${REAL_NODE_IP}/32]
iptables: {localhostNodePorts: false}
# conntrack sysctls are not this namespace's to set: leave them as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  cat >"${node}/Corefile" <<EOF
.:53 {
    bind ${REAL_NODE_IP}
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${node}/coredns.kubeconfig local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
EOF
}

# Starts the node's processes (after the API server and the forwarder are up).
real_node_start() {
  local node="${STATE_DIR}/node"
  PAUSE_IMAGE="$(real_node_image PAUSE_IMAGE)" || return 1
  real_node_configs
  real_node_rbac || return 1
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 2>/dev/null || true
  start_process containerd nsenter --net="/run/netns/${REAL_NODE_NETNS}" /usr/bin/containerd --config "${node}/containerd.toml"
  wait_until 60 "containerd" ctr --address "${REAL_NODE_CONTAINERD_SOCKET}" version || return 1
  # Images built here (hack/build-images.sh), cached outside the clone; pods use IfNotPresent/Never.
  build_images import --address "${REAL_NODE_CONTAINERD_SOCKET}" >>"${LOGS}/images.log" 2>&1 ||
    { say "importing images into the real node failed; see ${LOGS}/images.log"; return 1; }
  start_process kubelet nsenter --net="/run/netns/${REAL_NODE_NETNS}" "${BIN}/kubelet" \
    --config "${node}/kubelet.yaml" --kubeconfig "${node}/kubelet.kubeconfig" \
    --root-dir "${node}/kubelet" --cert-dir "${node}/kubelet/pki" \
    --hostname-override "${REAL_NODE_NAME}" --node-ip "${REAL_NODE_IP}" \
    --node-labels "${REAL_NODE_TAINT_KEY}=true,type=real"
  start_process kube-proxy nsenter --net="/run/netns/${REAL_NODE_NETNS}" "${BIN}/kube-proxy" --config "${node}/kube-proxy.yaml"
  start_process coredns nsenter --net="/run/netns/${REAL_NODE_NETNS}" "${BIN}/coredns" -conf "${node}/Corefile"
  real_node_network_policies || return 1
  wait_until 120 "real node Ready" kubectl_ wait --for=condition=Ready "node/${REAL_NODE_NAME}" --timeout=5s || return 1
  wait_until 60 "CoreDNS ready" in_node curl -sf http://127.0.0.1:8181/ready || return 1
}

# The image builder (hack/build-images.sh; BUILD_IMAGES may name another with the same interface).
build_images() { "${BUILD_IMAGES:-${HACK_DIR}/build-images.sh}" "$@"; }

# NetworkPolicy enforcement: sigs.k8s.io/kube-network-policies decides every new pod connection that
# the kernel queues to it. Upstream queues with an nftables `queue` rule, which this kernel lacks
# (CONFIG_NFT_QUEUE is off; the iptables NFQUEUE target is built in), so the node's own iptables rules
# below queue the same packets (docs/network-policy-engines.md); the verdicts are the engine's.
real_node_network_policies() {
  local node="${STATE_DIR}/node" account="${STATE_DIR}/node/serviceaccount"
  mkdir -p "${account}"
  # It reads in-cluster credentials only: a token of its ServiceAccount, given in a mount namespace of
  # its own over /run/secrets, as the kubelet would give it to a pod.
  kubectl_ create token kube-network-policies -n kube-system --duration 48h >"${account}/token"
  cp "${PKI}/ca.crt" "${account}/ca.crt"
  echo kube-system >"${account}/namespace"
  in_node iptables -t mangle -N FINANCIALAPI-NETPOL 2>/dev/null || in_node iptables -t mangle -F FINANCIALAPI-NETPOL
  in_node iptables -t mangle -A FINANCIALAPI-NETPOL -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  # The node's own processes (kubelet probes, the API server's logs/exec) are not pod traffic.
  in_node iptables -t mangle -A FINANCIALAPI-NETPOL -m owner --uid-owner 0 -j RETURN
  in_node iptables -t mangle -A FINANCIALAPI-NETPOL -s "${REAL_NODE_POD_CIDR}" -j NFQUEUE --queue-num 100
  in_node iptables -t mangle -A FINANCIALAPI-NETPOL -d "${REAL_NODE_POD_CIDR}" -j NFQUEUE --queue-num 100
  # Last in POSTROUTING: a verdict of "accept" ends the chain, so nothing may come after it.
  in_node iptables -t mangle -C POSTROUTING -j FINANCIALAPI-NETPOL 2>/dev/null ||
    in_node iptables -t mangle -A POSTROUTING -j FINANCIALAPI-NETPOL
  start_process network-policies nsenter --net="/run/netns/${REAL_NODE_NETNS}" unshare --mount --propagation private \
    env KUBERNETES_SERVICE_HOST="${REAL_NODE_HOST_IP}" KUBERNETES_SERVICE_PORT="${API_PORT}" \
    sh -c 'mount -t tmpfs -o size=1m tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
           cp "$1"/* /run/secrets/kubernetes.io/serviceaccount/ && shift && exec "$@"' sh "${account}" \
    "${BIN}/kube-network-policies" --hostname-override "${REAL_NODE_NAME}" --disable-nri \
    --netfilter-bug-1766-fix=false --metrics-bind-address 127.0.0.1:9080
  wait_until 60 "kube-network-policies metrics" in_node curl -sf http://127.0.0.1:9080/metrics || return 1
}

# One image reference from the image builder's env file, building the images first when any is missing.
real_node_image() {
  local name="$1" env
  if ! env="$(build_images --print-env 2>/dev/null)"; then
    say "building the images (cached by their inputs; the first build takes minutes): ${LOGS}/images.log"
    build_images >>"${LOGS}/images.log" 2>&1 || { say "building images failed; see ${LOGS}/images.log"; return 1; }
    env="$(build_images --print-env)" || return 1
  fi
  sed -n "s/^${name}=//p" <<<"${env}"
}

# Forwards the API server's port from the host side of the veth to 127.0.0.1, so pods reach it.
real_node_forwarder() {
  start_process apiserver-forwarder socat "TCP-LISTEN:${API_PORT},bind=${REAL_NODE_HOST_IP},fork,reuseaddr" \
    "TCP:127.0.0.1:${API_PORT}"
}

# Takes everything down and leaves no process, mount, interface, route or rule of the node behind.
real_node_down() {
  real_node_load || return 0
  local node="${STATE_DIR}/node" sock="${REAL_NODE_CONTAINERD_SOCKET}"
  stop_process kubelet
  # Through the CRI, so that CNI releases addresses and the pods' namespaces and mounts are removed.
  if [[ -S "${sock}" ]] && [[ -x "${BIN:-}/crictl" ]]; then
    timeout 60 "${BIN}/crictl" --runtime-endpoint "unix://${sock}" rmp --all --force >/dev/null 2>&1 || true
  fi
  stop_process coredns & stop_process kube-proxy & stop_process network-policies & stop_process apiserver-forwarder & wait
  stop_process containerd
  # Shims outlive containerd, and containers outlive their shims: end whatever still runs in the node.
  local pid
  for pid in $(ip netns pids "${REAL_NODE_NETNS}" 2>/dev/null); do kill -KILL "${pid}" 2>/dev/null || true; done
  for pid in $(real_node_container_pids); do kill -KILL "${pid}" 2>/dev/null || true; done
  real_node_unmount "${node}"
  real_node_unmount "${REAL_NODE_RUN_DIR}"
  local cidr
  for cidr in "${REAL_NODE_POD_CIDR}" "${REAL_NODE_SERVICE_CIDR}"; do
    ip route del "${cidr}" via "${REAL_NODE_IP}" 2>/dev/null || true
    ip route del unreachable "${cidr}" metric 4242 2>/dev/null || true
  done
  ip link del "${REAL_NODE_HOST_IF}" 2>/dev/null || true
  ip netns del "${REAL_NODE_NETNS}" 2>/dev/null || true
  rm -rf "${REAL_NODE_RUN_DIR}" "${node}/containerd" "${node}/kubelet" "${node}/cni/ipam"
  rmdir /run/financialapi 2>/dev/null || true
  # The containers' cgroups (containerd puts them under k8s.io; rmdir removes only empty ones, so a
  # node of another cluster keeps its own), and the shared mount `ip netns add` made of /run/netns
  # once no namespace is left in it.
  rmdir /sys/fs/cgroup/*/k8s.io 2>/dev/null || true
  if [[ -z "$(ls -A /run/netns 2>/dev/null)" ]] && findmnt -n /run/netns >/dev/null 2>&1; then
    umount /run/netns 2>/dev/null || true
  fi
  rm -f "${REAL_NODE_ENV}"
}

# Processes whose root is a container root filesystem of this node (runc's rootfs under containerd's state).
real_node_container_pids() {
  local proc root
  for proc in /proc/[0-9]*; do
    root=$(readlink "${proc}/root" 2>/dev/null) || continue
    [[ "${root}" == "${REAL_NODE_RUN_DIR}/"* ]] && echo "${proc#/proc/}"
  done
}

# Unmounts every mount point below DIR, deepest first.
real_node_unmount() {
  local dir="$1" mount_point
  [[ -d "${dir}" ]] || return 0
  while read -r mount_point; do
    umount "${mount_point}" 2>/dev/null || umount -l "${mount_point}" 2>/dev/null || true
  done < <(awk -v dir="${dir}/" 'index($2, dir) == 1 {print $2}' /proc/self/mounts | sort -r)
}
