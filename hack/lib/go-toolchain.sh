# Makes a Go toolchain of at least GO_TOOLCHAIN_VERSION (hack/versions.sh) the first `go` on PATH, for
# the scripts that build upstream Go tools (hack/build-control-plane.sh). Sourced, not run.
#
#   source hack/lib/go-toolchain.sh && ensure_go_toolchain
#
# A `go` on PATH that is new enough is used as it is. Otherwise the pinned release is taken through the
# Go module proxy, the way cmd/go's own toolchain switch does it: the module
# golang.org/toolchain@v0.0.1-<version>.<os>-<arch> is downloaded with whatever older `go` exists (Debian
# 12's golang-go is 1.19) into CACHE_ROOT/go-toolchain/<version>.<os>-<arch>, once per machine, and put
# first on PATH. GOPROXY and GOSUMDB are the ones that older `go` is configured with; none is named here.
# Without any `go` at all it fails at once with one line saying what to install.

if [[ -z "${GO_TOOLCHAIN_VERSION:-}" || -z "${CACHE_ROOT:-}" ]]; then
  # shellcheck source=../versions.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../versions.sh"
fi

go_toolchain_log() { echo "go-toolchain: $*" >&2; }

# Prints "MAJOR MINOR PATCH RELEASE" for go1.26.10, go1.26 (= go1.26.0) or go1.26rc1 (RELEASE 0: a
# release candidate or beta comes before the .0 release); fails for anything else.
go_version_key() {
  local v="${1%% *}"
  v="${v#go}"
  [[ "${v}" =~ ^([0-9]+)\.([0-9]+)(\.([0-9]+))?(.*)$ ]] || return 1
  local release=1
  [[ -n "${BASH_REMATCH[5]}" ]] && release=0
  echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[4]:-0} ${release}"
}

# go_version_at_least HAVE WANT: true when Go version HAVE (as `go env GOVERSION` prints it) is WANT or
# newer. A development build ("devel ...") counts as new enough, as cmd/go counts it.
go_version_at_least() {
  [[ "$1" == devel* ]] && return 0
  local have want i
  have=($(go_version_key "$1")) || return 1
  want=($(go_version_key "$2")) || return 1
  for i in 0 1 2 3; do
    ((have[i] > want[i])) && return 0
    ((have[i] < want[i])) && return 1
  done
  return 0
}

# Prints the version of the `go` on PATH (go1.19.8), empty when there is none or it does not answer.
# Run outside any module and with GOTOOLCHAIN=local, so a go.mod cannot make it switch toolchains.
go_toolchain_current() {
  command -v go >/dev/null 2>&1 || return 0
  (cd / && GOTOOLCHAIN=local go version 2>/dev/null) | awk '{print ($3 == "devel") ? "devel" : $3}'
}

# Prints <os>-<arch> of this machine in Go's names (linux-amd64).
go_toolchain_platform() {
  local os arch
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    i?86) arch=386 ;;
    armv6* | armv7*) arch=armv6l ;;
    ppc64le) arch=ppc64le ;;
    s390x) arch=s390x ;;
    riscv64) arch=riscv64 ;;
    *) arch="$(uname -m)" ;;
  esac
  echo "${os}-${arch}"
}

# go_toolchain_fetch VERSION PLATFORM DEST: downloads golang.org/toolchain@v0.0.1-VERSION.PLATFORM with
# the `go` on PATH and moves its tree to DEST (a complete GOROOT).
go_toolchain_fetch() {
  local version="$1" platform="$2" dest="$3"
  local module="golang.org/toolchain@v0.0.1-${version}.${platform}"
  local tmp="${dest}.download.$$"
  local json dir err
  rm -rf "${tmp}"
  mkdir -p "${tmp}" || return 1
  go_toolchain_log "fetching ${module} through GOPROXY=$(cd / && GOTOOLCHAIN=local go env GOPROXY) (about 75 MB, once per machine)"
  # An empty module cache of its own, so the result can be moved out whole and the rest thrown away.
  json="$(cd "${tmp}" && GOTOOLCHAIN=local GOWORK=off GOMODCACHE="${tmp}/mod" go mod download -json "${module}" 2>"${tmp}/stderr")"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
  if [[ -z "${dir}" || ! -f "${dir}/bin/go" ]]; then
    err="$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
    [[ -n "${err}" ]] || err="$(tail -n 1 "${tmp}/stderr")"
    go_toolchain_log "cannot download ${module}: ${err:-no Dir in the answer of go mod download}"
    chmod -R u+w "${tmp}" 2>/dev/null
    rm -rf "${tmp}"
    return 1
  fi
  # The module cache is read-only and a module zip keeps no file modes: make the tree ours, then set the
  # execute bits as cmd/go's toolchain switch does (pkg/tool and lib first, bin/go last).
  chmod -R u+w "${dir}" &&
    find "${dir}/pkg/tool" -type f -exec chmod a+x {} + &&
    { [[ ! -d "${dir}/lib" ]] || find "${dir}/lib" -type f -name 'go_?*_?*_exec' -exec chmod a+x {} +; } &&
    chmod a+x "${dir}"/bin/* || { go_toolchain_log "cannot set the execute bits in ${dir}"; return 1; }
  # Another run may have finished the same download meanwhile: keep whichever landed first.
  if [[ ! -x "${dest}/bin/go" ]]; then
    rm -rf "${dest}"
    mv -T "${dir}" "${dest}" 2>/dev/null || [[ -x "${dest}/bin/go" ]] ||
      { go_toolchain_log "cannot move ${dir} to ${dest}"; return 1; }
  fi
  chmod -R u+w "${tmp}" 2>/dev/null
  rm -rf "${tmp}"
}

# ensure_go_toolchain: afterwards `go` on PATH is GO_MINIMUM_VERSION or newer (the one on PATH when it
# is, else GO_TOOLCHAIN_VERSION, fetched), or it has failed with a message (returns 1). Exports PATH (and
# GOROOT, GOPROXY, GOSUMDB when it switched toolchains).
ensure_go_toolchain() {
  local want="${GO_TOOLCHAIN_VERSION}" have platform dest
  have="$(go_toolchain_current)"
  # A go that satisfies every module's `go` line builds them as it is: no download, and its build
  # cache stays valid.
  if [[ -n "${have}" ]] && go_version_at_least "${have}" "${GO_MINIMUM_VERSION:-${want}}"; then
    return 0
  fi
  platform="$(go_toolchain_platform)"
  dest="${CACHE_ROOT}/go-toolchain/${want}.${platform}"
  if [[ ! -x "${dest}/bin/go" ]]; then
    if [[ -z "${have}" ]]; then
      go_toolchain_log "no 'go' found: install Go (Debian: apt-get install golang-go, any version) so ${want} can be fetched through the Go module proxy, or put Go ${want#go} or newer on PATH"
      return 1
    fi
    go_toolchain_log "${have} is older than ${GO_MINIMUM_VERSION:-${want}}, which the pinned modules need; fetching ${want}"
    mkdir -p "${dest%/*}" || return 1
    go_toolchain_fetch "${want}" "${platform}" "${dest}" || return 1
  fi
  # The fetched toolchain reads its own go.env: keep the proxy and checksum database the older go uses.
  if [[ -n "${have}" ]]; then
    [[ -n "${GOPROXY:-}" ]] || export GOPROXY="$(cd / && GOTOOLCHAIN=local go env GOPROXY)"
    [[ -n "${GOSUMDB:-}" ]] || export GOSUMDB="$(cd / && GOTOOLCHAIN=local go env GOSUMDB)"
  fi
  export GOROOT="${dest}"
  export PATH="${dest}/bin:${PATH}"
  hash -r
  have="$(go_toolchain_current)"
  if [[ "${have}" != "${want}" ]]; then
    go_toolchain_log "${dest}/bin/go reports '${have}', expected ${want}; remove ${dest} and run again"
    return 1
  fi
  go_toolchain_log "using ${want} from ${dest}"
}
