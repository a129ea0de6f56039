#!/usr/bin/env bash
# Builds the container images a local cluster with a real kubelet needs, with podman, the way a user
# builds them (docs/images.md), and caches each one as a docker-archive outside the clone, keyed by a
# hash of its inputs; a present archive is never rebuilt.
#
#   hack/build-images.sh [--only NAME[,NAME...]]   build what is missing (and what NAME needs)
#   hack/build-images.sh --print-env               print the env file; exit 1 if an archive is missing
#   hack/build-images.sh import --address SOCK [--namespace k8s.io] [--only NAME[,NAME...]]
#                                                  build what is missing, then import into a containerd
#   hack/build-images.sh inputs NAME               list the files hashed into NAME's key
#
# Images (NAME → reference; KEY = the first 12 hex digits of the image's input hash):
#   debian      localhost/financialapi/debian:bookworm (debootstrap --variant=minbase, podman import)
#   pause       localhost/financialapi/pause:KEY                   images/pause
#   postgresql  localhost/financialapi/postgresql:15-bookworm-KEY  images/postgresql
#   redis       localhost/financialapi/redis:7.0-bookworm-KEY      images/redis
#   pgbouncer   localhost/financialapi/pgbouncer:1.18-bookworm-KEY images/pgbouncer
#   operator    localhost/financialapi/financialapi-operator:VERSION-KEY  Dockerfile --target operator
#   api-server  localhost/financialapi/financial-api-server:VERSION-KEY   Dockerfile --target api-server
#
# A key hashes the Dockerfile, the files its COPY lines take from the build context (as the
# context's .dockerignore leaves them), the base image's id and the build arguments. The base image's
# key hashes its recipe (the functions below that make it); a new base has a new id, so everything
# built on it gets new keys. Archives: ${CACHE_ROOT}/images/NAME-KEY.tar (the three newest per name
# are kept), the env file: ${CACHE_ROOT}/images/images.env, build logs: ${CACHE_ROOT}/images/logs/.
# podman's own storage is only a working area: when an image must be built and its base is not
# there (a fresh storage), the base is loaded from its archive.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HACK_DIR}/.." && pwd)"
# shellcheck source=hack/versions.sh
source "${HACK_DIR}/versions.sh"

IMAGES_CACHE="${CACHE_ROOT}/images"
LOGS="${IMAGES_CACHE}/logs"
ENV_FILE="${IMAGES_CACHE}/images.env"
PREFIX="localhost/financialapi"
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
BASE_REF="${PREFIX}/debian:${DEBIAN_SUITE}"
KEEP_ARCHIVES=3
# Bumped when the way images are built changes in a way their inputs do not show.
RECIPE=1
VERSION="$(sed -n 's/^project(financialapi VERSION \([0-9.]*\).*/\1/p' "${ROOT}/CMakeLists.txt")"
[[ -n "${VERSION}" ]] || { echo "no project version in CMakeLists.txt" >&2; exit 1; }

# This machine may not raise rlimits (no CAP_SYS_RESOURCE); podman raises nofile/nproc by default and
# runc then fails ("error setting rlimit type 7"). Our own containers.conf sets lower defaults for
# `podman run` and `podman build` alike (and the flags say it again, should CONTAINERS_CONF be the
# caller's); /etc stays untouched.
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

ALL_IMAGES=(debian pause postgresql redis pgbouncer operator api-server)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

START=${SECONDS}
elapsed() { local s=$((SECONDS - START)); printf '%d:%02d' $((s / 60)) $((s % 60)); }
say() { printf '[%s] %s\n' "$(elapsed)" "$*"; }
die() { printf '[%s] error: %s\n' "$(elapsed)" "$*" >&2; exit 1; }

# --- what each image is ------------------------------------------------------------------------

env_var() {
  case "$1" in
    debian) echo DEBIAN ;; pause) echo PAUSE ;; postgresql) echo POSTGRES ;; redis) echo REDIS ;;
    pgbouncer) echo PGBOUNCER ;; operator) echo OPERATOR ;; api-server) echo API ;;
    *) return 1 ;;
  esac
}
# The build context: the tree, or (once snapshot_context ran) a copy of what COPY takes from it.
declare -A SNAPSHOTS=()
context_name() { case "$1" in operator | api-server) echo root ;; *) echo "$1" ;; esac; }
tree_context() { case "$1" in operator | api-server) echo "${ROOT}" ;; *) echo "${ROOT}/images/$1" ;; esac; }
context_dir() { echo "${SNAPSHOTS[$(context_name "$1")]:-$(tree_context "$1")}"; }
dockerfile() { echo "$(context_dir "$1")/Dockerfile"; }
snapshot_context() { # NAME: builds of NAME (and keys computed later) use a copy of its context
  local c dir
  c="$(context_name "$1")"
  [[ -z "${SNAPSHOTS[${c}]:-}" ]] || return 0
  dir="${IMAGES_CACHE}/work/context-${c}-$$"
  rm -rf "${dir}"
  py snapshot "$(tree_context "$1")" "$(tree_context "$1")/Dockerfile" "${dir}" || return 1
  SNAPSHOTS[${c}]="${dir}"
}
ROOTFS=""   # the debootstrap folder while the base image is made
cleanup() {
  local d
  for d in "${SNAPSHOTS[@]}"; do rm -rf "${d}"; done
  SNAPSHOTS=()
  if [[ -n "${ROOTFS}" ]]; then unmount_under "${ROOTFS}"; rm -rf "${ROOTFS}"; fi
}
build_target() { case "$1" in operator | api-server) echo "$1" ;; *) echo "" ;; esac; }
repository() {
  case "$1" in
    operator) echo "${PREFIX}/financialapi-operator" ;; api-server) echo "${PREFIX}/financial-api-server" ;;
    *) echo "${PREFIX}/$1" ;;
  esac
}
tag_of() { # NAME KEY
  case "$1" in
    debian) echo "${DEBIAN_SUITE}" ;; pause) echo "$2" ;; postgresql) echo "15-${DEBIAN_SUITE}-$2" ;;
    redis) echo "7.0-${DEBIAN_SUITE}-$2" ;; pgbouncer) echo "1.18-${DEBIAN_SUITE}-$2" ;;
    operator | api-server) echo "${VERSION}-$2" ;;
  esac
}
archive_of() { echo "${IMAGES_CACHE}/$1-$2.tar"; }

# --- hashing -----------------------------------------------------------------------------------

# python3 helper: `context-hash CONTEXT DOCKERFILE`, `inputs CONTEXT DOCKERFILE`, `archive-info TAR`,
# `snapshot CONTEXT DOCKERFILE DEST`.
# Debian's python3 when there is one (a pyenv shim costs a third of a second per call).
PYTHON="$(command -v /usr/bin/python3 || command -v python3 || true)"
py() {
  [[ -n "${PYTHON}" ]] || die "python3 is needed (apt-get install python3)"
  "${PYTHON}" - "$@" <<'PY'
import hashlib, json, os, re, stat, sys, tarfile

def clean(p):
    p = os.path.normpath(p.strip()).replace(os.sep, "/")
    return p.lstrip("/") if p not in (".", "/") else "."

def translate(pattern):
    # Go filepath.Match / moby patternmatcher: * and ? stay within one path segment, ** spans them.
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out += "(.*/)?"; i += 1
            else:
                out += ".*"
            continue
        if c == "*": out += "[^/]*"
        elif c == "?": out += "[^/]"
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0: out += re.escape(c)
            else:
                cls = pattern[i + 1:j]
                out += "[" + ("^" + cls[1:] if cls.startswith("^") else cls) + "]"; i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1; out += re.escape(pattern[i])
        else: out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$")

def ignore_rules(context):
    for name in (".containerignore", ".dockerignore"):   # podman reads .containerignore first
        path = os.path.join(context, name)
        if os.path.exists(path):
            rules = []
            for line in open(path, encoding="utf-8"):
                line = line.strip()
                if not line or line.startswith("#"): continue
                negate = line.startswith("!")
                if negate: line = line[1:].strip()
                rules.append((negate, translate(clean(line))))
            return rules
    return []

def excluded(rel, rules):
    # A pattern excludes a path when it matches the path or one of its parent folders; the last
    # matching pattern wins ("!" re-includes).
    parts = rel.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for negate, rx in rules:
        if any(rx.match(c) for c in candidates):
            result = not negate
    return result

def instructions(dockerfile):
    lines, current = [], ""
    for raw in open(dockerfile, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not current and line.lstrip().startswith("#"): continue
        if current and line.lstrip().startswith("#"): continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "; continue
        current += line
        if current.strip(): lines.append(current.strip())
        current = ""
    if current.strip(): lines.append(current.strip())
    return lines

def copy_sources(dockerfile):
    sources = []
    for ins in instructions(dockerfile):
        word = ins.split(None, 1)
        if word[0].upper() not in ("COPY", "ADD") or len(word) < 2: continue
        rest = word[1].strip()
        flags = []
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" "); flags.append(flag); rest = rest.strip()
        if any(f.startswith("--from") for f in flags): continue
        args = json.loads(rest) if rest.startswith("[") else rest.split()
        for src in args[:-1]:
            if "$" in src or "://" in src:
                sys.exit(f"{dockerfile}: unsupported COPY/ADD source {src!r}")
            sources.append(clean(src))
    return sources

def context_files(context, rules):
    files = []
    for top, dirs, names in os.walk(context):
        reltop = os.path.relpath(top, context).replace(os.sep, "/")
        for n in sorted(dirs + names):
            rel = n if reltop == "." else reltop + "/" + n
            full = os.path.join(top, n)
            if (os.path.isfile(full) or os.path.islink(full)) and not excluded(rel, rules):
                files.append(rel)
    return files

def copied(context, dockerfile):
    rules = ignore_rules(context)
    files = context_files(context, rules)
    chosen = set()
    for src in copy_sources(dockerfile):
        if src == ".":
            chosen.update(files); continue
        rx = translate(src)
        for f in files:
            parts = f.split("/")
            if any(rx.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                chosen.add(f)
    return sorted(chosen)

def context_hash(context, dockerfile):
    h = hashlib.sha256()
    h.update(b"dockerfile " + hashlib.sha256(open(dockerfile, "rb").read()).hexdigest().encode() + b"\n")
    for rel in copied(context, dockerfile):
        full = os.path.join(context, rel)
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            digest, kind = hashlib.sha256(os.readlink(full).encode()).hexdigest(), "l"
        else:
            digest, kind = hashlib.sha256(open(full, "rb").read()).hexdigest(), "f"
        h.update(f"{kind} {stat.S_IMODE(st.st_mode):o} {rel} {digest}\n".encode())
    return h.hexdigest()

def archive_info(path):
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config = json.load(tar.extractfile(manifest["Config"]))
    image_id = manifest["Config"].split("/")[-1].removesuffix(".json").removeprefix("sha256:")
    print("id=" + image_id)
    print("tags=" + " ".join(manifest.get("RepoTags") or []))
    print("user=" + ((config.get("config") or {}).get("User") or ""))

def snapshot(context, dockerfile, dest):
    # A copy of exactly what COPY takes (and the Dockerfile), with modes and times: the image is built
    # from it, so its key describes what went in even when the tree changes during the build.
    import shutil
    os.makedirs(dest)
    for rel in copied(context, dockerfile) + [os.path.relpath(dockerfile, context)]:
        src, dst = os.path.join(context, rel), os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)

cmd = sys.argv[1]
if cmd == "snapshot": snapshot(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "context-hash": print(context_hash(sys.argv[2], sys.argv[3]))
elif cmd == "inputs": [print(f) for f in copied(sys.argv[2], sys.argv[3])]
elif cmd == "archive-info": archive_info(sys.argv[2])
else: sys.exit("unknown helper command " + cmd)
PY
}

sha() { sha256sum | cut -c1-64; }

# The base image's recipe: these two functions, the suite and the mirrors, hashed.
debian_key() {
  { echo "recipe ${RECIPE} ${DEBIAN_SUITE} ${DEBIAN_MIRROR} ${DEBIAN_SECURITY_MIRROR}"
    declare -f debian_rootfs debian_import; } | sha | cut -c1-12
}

# ARCHIVE.info, written before the archive is moved into place: id=IMAGE ID, tags=REFERENCE,
# user=UID:GID (from the image config). Regenerated from the archive when missing.
info_of() { # ARCHIVE FIELD
  local archive="$1"
  if [[ ! -s "${archive}.info" ]]; then
    py archive-info "${archive}" >"${archive}.info.tmp" || return 1
    mv -f "${archive}.info.tmp" "${archive}.info"
  fi
  sed -n "s/^$2=//p" "${archive}.info"
}

# KEYS[NAME]: the image's input hash (12 hex digits), set by compute_key in the calling shell (not in
# a $(...) subshell, so each is computed once per run).
declare -A KEYS=()
compute_key() { # NAME; fails when NAME is not the base and the base archive is missing
  local name="$1" base_archive base_id context_digest
  [[ -z "${KEYS[${name}]:-}" ]] || return 0
  if [[ "${name}" == debian ]]; then
    KEYS[debian]="$(debian_key)"
    return 0
  fi
  compute_key debian
  base_archive="$(archive_of debian "${KEYS[debian]}")"
  [[ -f "${base_archive}" ]] || return 1
  base_id="$(info_of "${base_archive}" id)" || return 1
  # operator and api-server share one key: one Dockerfile, one context, one build stage.
  if [[ "${name}" == api-server && -n "${KEYS[operator]:-}" ]]; then KEYS[api-server]="${KEYS[operator]}"; return 0; fi
  if [[ "${name}" == operator && -n "${KEYS[api-server]:-}" ]]; then KEYS[operator]="${KEYS[api-server]}"; return 0; fi
  context_digest="$(py context-hash "$(context_dir "${name}")" "$(dockerfile "${name}")")" || return 1
  KEYS[${name}]="$({ echo "recipe ${RECIPE}"; echo "context ${context_digest}"; echo "base ${base_id}"
                    echo "build-arg DEBIAN=${BASE_REF}"; } | sha | cut -c1-12)"
}
ref() { echo "$(repository "$1"):$(tag_of "$1" "${KEYS[$1]}")"; }
archive() { archive_of "$1" "${KEYS[$1]}"; }

# --- the env file --------------------------------------------------------------------------------

# Prints the env file for the current tree; fails (naming what is missing) if an archive is missing.
render_env() {
  local name var file missing=() user
  local lines=("# hack/build-images.sh --print-env (inputs of ${ROOT}); archives are docker-archive tars.")
  for name in "${ALL_IMAGES[@]}"; do
    var="$(env_var "${name}")"
    if ! compute_key "${name}" || [[ ! -f "$(archive "${name}")" ]]; then missing+=("${name}"); continue; fi
    file="$(archive "${name}")"
    lines+=("${var}_IMAGE=$(ref "${name}")" "${var}_ARCHIVE=${file}")
    user="$(info_of "${file}" user)"
    if [[ "${user}" == *:* ]]; then lines+=("${var}_UID=${user%%:*}" "${var}_GID=${user##*:}"); fi
  done
  if ((${#missing[@]})); then echo "not built yet: ${missing[*]} (run hack/build-images.sh)" >&2; return 1; fi
  printf '%s\n' "${lines[@]}"
}

write_env() {
  render_env >"${ENV_FILE}.tmp" 2>/dev/null || { rm -f "${ENV_FILE}.tmp"; return 0; }
  mv -f "${ENV_FILE}.tmp" "${ENV_FILE}"
}

# --- podman --------------------------------------------------------------------------------------

podman_setup() {
  command -v podman >/dev/null || die "podman is not installed (apt-get install podman buildah)"
  mkdir -p "${IMAGES_CACHE}" "${LOGS}"
  if [[ -z "${CONTAINERS_CONF:-}" ]]; then
    export CONTAINERS_CONF="${IMAGES_CACHE}/containers.conf"
    local conf='[containers]
# Written by hack/build-images.sh: this machine may not raise rlimits (no CAP_SYS_RESOURCE).
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]'
    [[ "$(cat "${CONTAINERS_CONF}" 2>/dev/null)" == "${conf}" ]] || printf '%s\n' "${conf}" >"${CONTAINERS_CONF}"
  fi
}

image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# Makes sure podman storage holds the base image the keys were computed with (load it from its archive
# otherwise: a fresh storage, or another base tagged since).
ensure_base() {
  local file want
  file="$(archive debian)"
  want="$(info_of "${file}" id)"
  [[ "$(image_id "${BASE_REF}")" == "${want}" ]] && return 0
  say "debian: loading ${file} into podman storage"
  podman load -q -i "${file}" >>"${LOGS}/debian.log" 2>&1 || die "podman load ${file} failed; see ${LOGS}/debian.log"
  podman tag "${want}" "${BASE_REF}"
  [[ "$(image_id "${BASE_REF}")" == "${want}" ]] || die "${BASE_REF} is not ${want} after loading ${file}"
}

run() { podman run --rm --network none --pull=never "${ULIMITS[@]}" "$@"; }

# The smoke check of each image, run after it is built and before it is archived (explicit statuses:
# it runs where errexit does not apply).
smoke() {
  local name="$1" image="$2"
  case "${name}" in
    debian) run "${image}" sh -c 'echo "Debian $(cat /etc/debian_version)"; apt-get --version | head -n1' || return 1 ;;
    operator) run "${image}" --version || return 1 ;;
    api-server)
      run "${image}" --version || return 1
      run --entrypoint /bin/sh "${image}" -c 'test -s /usr/share/financial-api/sec/company_tickers.json' || return 1 ;;
    postgresql)
      run "${image}" sh -ec 'postgres --version; initdb --version; pg_dump --version; pg_restore --version
        psql --version; gzip --version | head -n1; echo "runs as $(id -un) $(id -u):$(id -g)"
        d=$(mktemp -d); initdb -D "$d/data" -A trust -U postgres >/dev/null; echo "initdb: ok"' || return 1 ;;
    redis) run "${image}" sh -ec 'redis-server --version; redis-cli --version; echo "runs as $(id -un) $(id -u):$(id -g)"' || return 1 ;;
    pgbouncer) run "${image}" sh -ec 'pgbouncer --version | head -n1; echo "runs as $(id -un) $(id -u):$(id -g)"' || return 1 ;;
    pause) smoke_pause "${image}" || return 1 ;;
  esac
  echo "${name}: image user $(podman image inspect --format '{{.Config.User}}' "${image}")"
}

# The pause binary runs as PID 1 until SIGTERM (what `podman stop` sends) and then exits 0 at once.
smoke_pause() {
  local image="$1" id code t0
  run "${image}" -v || return 1
  id="$(podman run -d --network none --pull=never "${ULIMITS[@]}" "${image}")" || return 1
  sleep 1
  if [[ "$(podman inspect --format '{{.State.Running}}' "${id}")" != true ]]; then
    podman logs "${id}"; podman rm -f "${id}" >/dev/null; return 1
  fi
  t0=${SECONDS}
  podman stop -t 20 "${id}" >/dev/null || return 1
  code="$(podman inspect --format '{{.State.ExitCode}}' "${id}")"
  podman rm -f "${id}" >/dev/null
  echo "pause: stopped by SIGTERM within $((SECONDS - t0))s, exit code ${code}"
  [[ "${code}" == 0 ]] && ((SECONDS - t0 < 15))
}

# --- the base image ------------------------------------------------------------------------------

# Makes DIR a minimal Debian root filesystem from Debian's archive, configured like the official
# debian:*-slim images (sources for updates and security, no service starts during package
# installs, no documentation or locales, no apt caches, no host-specific files).
debian_rootfs() {
  local dir="$1"
  debootstrap --variant=minbase "${DEBIAN_SUITE}" "${dir}" "${DEBIAN_MIRROR}" || return 1
  [[ -x "${dir}/usr/bin/apt-get" ]] || return 1
  rm -f "${dir}/etc/apt/sources.list"
  cat >"${dir}/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${DEBIAN_MIRROR}
Suites: ${DEBIAN_SUITE} ${DEBIAN_SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_SECURITY_MIRROR}
Suites: ${DEBIAN_SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf '#!/bin/sh\n# No init system in a container: package scripts start no services.\nexit 101\n' >"${dir}/usr/sbin/policy-rc.d"
  chmod 0755 "${dir}/usr/sbin/policy-rc.d"
  cat >"${dir}/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As in debian:*-slim: no documentation, manual pages or translations in images.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"${dir}/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"${dir}/etc/apt/apt.conf.d/docker-no-languages"
  find "${dir}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "${dir}/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "${dir}"/usr/share/{man,groff,info,lintian,linda}/* "${dir}"/usr/share/locale/*
  rm -rf "${dir}"/var/cache/apt/*.bin "${dir}"/var/cache/apt/archives/*.deb "${dir}"/var/lib/apt/lists/* \
    "${dir}"/var/log/* "${dir}"/tmp/* "${dir}"/var/tmp/* "${dir}/debootstrap"
  : >"${dir}/etc/resolv.conf"
  : >"${dir}/etc/hostname"
  rm -f "${dir}/etc/machine-id" "${dir}/var/lib/dbus/machine-id"
}

debian_import() {
  local dir="$1" ref="$2"
  tar --numeric-owner --xattrs --xattrs-include='*' -C "${dir}" -c . |
    podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' --message "debootstrap --variant=minbase ${DEBIAN_SUITE} ${DEBIAN_MIRROR}" - "${ref}"
}

unmount_under() { # unmounts whatever a failed debootstrap left mounted under DIR
  local m
  for m in $(awk -v d="$1" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "${m}" || true; done
}

build_debian() {
  local log="$1" dir="${IMAGES_CACHE}/work/debian-rootfs"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  mkdir -p "${IMAGES_CACHE}/work"
  unmount_under "${dir}"; rm -rf "${dir}"
  ROOTFS="${dir}"
  debian_rootfs "${dir}" >>"${log}" 2>&1 && debian_import "${dir}" "${BASE_REF}" >>"${log}" 2>&1
  local rc=$?
  unmount_under "${dir}"; rm -rf "${dir}"
  ROOTFS=""
  return "${rc}"
}

# --- building ------------------------------------------------------------------------------------

# build NAME: builds, smoke-checks and archives one image unless its archive exists.
build() {
  local name="$1" image archive log t0=${SECONDS} target other
  compute_key "${name}" || die "${name}: no key (the base image is missing)"
  if [[ -f "$(archive "${name}")" ]]; then
    say "${name}: cached $(ref "${name}") ($(archive "${name}"))"
    return 0
  fi
  if [[ "${name}" != debian && -z "${SNAPSHOTS[$(context_name "${name}")]:-}" ]]; then
    # Build from a copy and key by what the copy holds (the tree may change while this builds).
    snapshot_context "${name}" || die "${name}: copying its build context failed"
    for other in "${ALL_IMAGES[@]}"; do
      [[ "$(context_name "${other}")" != "$(context_name "${name}")" ]] || unset "KEYS[${other}]"
    done
    compute_key "${name}" || die "${name}: no key"
    [[ ! -f "$(archive "${name}")" ]] || { say "${name}: cached $(ref "${name}") ($(archive "${name}"))"; return 0; }
  fi
  image="$(ref "${name}")"
  archive="$(archive "${name}")"
  log="${LOGS}/${name}.log"
  : >"${log}"
  say "${name}: building ${image} (log: ${log})"
  if [[ "${name}" == debian ]]; then
    build_debian "${log}" || { tail -n 30 "${log}" >&2; die "${name}: debootstrap/import failed; see ${log}"; }
  else
    ensure_base
    target="$(build_target "${name}")"
    podman build --network host --pull=never "${ULIMITS[@]}" \
      --build-arg "DEBIAN=${BASE_REF}" ${target:+--target "${target}"} \
      -f "$(dockerfile "${name}")" -t "${image}" "$(context_dir "${name}")" >>"${log}" 2>&1 ||
      { tail -n 30 "${log}" >&2; die "${name}: podman build failed; see ${log}"; }
  fi
  say "${name}: built in $((SECONDS - t0))s; smoke check"
  if ! smoke "${name}" "${image}" >>"${log}.smoke" 2>&1; then
    sed 's/^/    /' "${log}.smoke"; cat "${log}.smoke" >>"${log}"; rm -f "${log}.smoke"
    die "${name}: smoke check failed; see ${log}"
  fi
  sed 's/^/    /' "${log}.smoke"; cat "${log}.smoke" >>"${log}"; rm -f "${log}.smoke"
  podman save -q --format docker-archive -o "${archive}.tmp" "${image}" >>"${log}" 2>&1 ||
    { rm -f "${archive}.tmp"; die "${name}: podman save failed; see ${log}"; }
  py archive-info "${archive}.tmp" >"${archive}.info"
  mv -f "${archive}.tmp" "${archive}"
  say "${name}: done in $((SECONDS - t0))s: ${archive} ($(du -h "${archive}" | cut -f1))"
  prune "${name}"
}

# Keeps the newest KEEP_ARCHIVES archives of NAME; removes the older ones and their podman tags.
prune() {
  local name="$1" old tag
  ls -1t "${IMAGES_CACHE}/${name}"-*.tar 2>/dev/null | tail -n +$((KEEP_ARCHIVES + 1)) | while read -r old; do
    tag="$(sed -n 's/^tags=//p' "${old}.info" 2>/dev/null || true)"
    [[ -n "${tag}" && "${tag}" != "${BASE_REF}" ]] && podman rmi "${tag}" >/dev/null 2>&1 || true
    rm -f "${old}" "${old}.info"
    say "${name}: removed the old archive ${old}"
  done
}

# Images NAME needs before it (the base), then NAME.
with_dependencies() {
  local name out=()
  for name in "$@"; do
    [[ "${name}" == debian ]] || out+=(debian)
    out+=("${name}")
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

lock() {
  mkdir -p "${IMAGES_CACHE}"
  exec 9>"${IMAGES_CACHE}/.lock"
  if ! flock -n 9; then
    say "waiting for another hack/build-images.sh (${IMAGES_CACHE}/.lock)"
    flock 9
  fi
}

build_all() {
  local name
  podman_setup
  lock
  mkdir -p "${IMAGES_CACHE}/work"
  trap cleanup EXIT
  for name in $(with_dependencies "$@"); do build "${name}"; done
  cleanup
  write_env
  [[ -f "${ENV_FILE}" ]] && say "env file: ${ENV_FILE}"
  say "all done"
}

# --- importing into containerd -------------------------------------------------------------------

import_all() { # ADDRESS NAMESPACE NAME...
  local address="$1" ns="$2" name image file present t0; shift 2
  command -v ctr >/dev/null || die "ctr is not installed (apt-get install containerd)"
  ctr --address "${address}" version >/dev/null 2>&1 || die "no containerd answers on ${address}"
  for name in "$@"; do
    [[ "${name}" == debian ]] && continue   # the base is only needed for building
    compute_key "${name}" || die "${name}: no key"
    image="$(ref "${name}")"; file="$(archive "${name}")"
    present="$(ctr --address "${address}" -n "${ns}" images ls -q)"
    if grep -qxF "${image}" <<<"${present}"; then
      say "${name}: ${image} already in containerd (${ns})"; continue
    fi
    t0=${SECONDS}
    ctr --address "${address}" -n "${ns}" images import --all-platforms "${file}" >>"${LOGS}/import.log" 2>&1 ||
      die "${name}: ctr images import ${file} failed; see ${LOGS}/import.log"
    grep -qxF "${image}" <<<"$(ctr --address "${address}" -n "${ns}" images ls -q)" ||
      die "${name}: imported ${file}, but containerd has no ${image}; see ${LOGS}/import.log"
    say "${name}: imported ${image} into containerd (${ns}) in $((SECONDS - t0))s"
  done
}

# --- command line --------------------------------------------------------------------------------

main() {
  local command=build only=() address="" namespace=k8s.io name
  if [[ "${1:-}" == import || "${1:-}" == inputs ]]; then command="$1"; shift; fi
  while (($#)); do
    case "$1" in
      --print-env) command=print-env ;;
      --only) [[ -n "${2:-}" ]] || die "--only needs a name"; IFS=, read -ra names <<<"$2"; only+=("${names[@]}"); shift ;;
      --only=*) IFS=, read -ra names <<<"${1#--only=}"; only+=("${names[@]}") ;;
      --address) address="${2:-}"; shift ;;
      --address=*) address="${1#--address=}" ;;
      --namespace) namespace="${2:-}"; shift ;;
      --namespace=*) namespace="${1#--namespace=}" ;;
      -h | --help) usage; exit 0 ;;
      *) if [[ "${command}" == inputs && -z "${only[*]:-}" ]]; then only=("$1"); else usage >&2; exit 2; fi ;;
    esac
    shift
  done
  for name in "${only[@]}"; do env_var "${name}" >/dev/null || die "unknown image ${name} (one of: ${ALL_IMAGES[*]})"; done
  ((${#only[@]})) || only=("${ALL_IMAGES[@]}")
  case "${command}" in
    print-env) render_env ;;
    inputs)
      [[ "${only[0]}" != debian ]] || { declare -f debian_rootfs debian_import; exit 0; }
      py inputs "$(context_dir "${only[0]}")" "$(dockerfile "${only[0]}")" ;;
    build) build_all "${only[@]}" ;;
    import)
      [[ -n "${address}" ]] || die "import needs --address <containerd socket>"
      build_all "${only[@]}"
      import_all "${address}" "${namespace}" "${only[@]}" ;;
  esac
}

main "$@"
