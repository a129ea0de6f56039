#!/usr/bin/env bash
# Installs the Debian packages the project builds, tests and runs with. Idempotent: when every package
# is already installed it does nothing (no apt-get update, no network).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  # C++ libraries
  libcpprest-dev libboost-dev libssl-dev zlib1g-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev libpq-dev libhiredis-dev
  # fuzzing (make fuzz): clang with libFuzzer and its sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # servers and tools the tests start on loopback
  postgresql redis-server pgbouncer prometheus curl jq python3-yaml
  # benchmarks: load generator and the static-file baseline of make bench-api
  wrk nginx
  # Go builds the upstream control-plane binaries once (hack/build-control-plane.sh)
  golang-go
  # the real node of the local cluster (hack/local-cluster --real-node): runtime, CNI, Service proxy
  containerd runc containernetworking-plugins iptables conntrack ipset iproute2 socat util-linux
  # images built here without a registry (hack/build-images.sh): a Debian base by debootstrap, podman
  debootstrap podman buildah uidmap
)

missing=()
for p in "${packages[@]}"; do
  # golang-go is only needed when no Go toolchain is on PATH already.
  if [[ "$p" == golang-go ]] && command -v go >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian server packages start system services on install; the tests run their own throw-away
# instances on loopback, so the system ones are not needed (and would hold the default ports).
for svc in postgresql redis-server pgbouncer prometheus nginx; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $sudo systemctl stop "$svc" || true
  fi
done
echo "deps: done"
