#!/usr/bin/env bash
# The checkers of fuzz/checks/config_files.h agree with the programs that read the files: for every
# file of the spec_children corpus (through fuzz-config-files dump) and every hand-written file of
# checks/testdata/<kind>/ (good-* and bad-*), the checker's verdict is the real program's:
#   postgresql.conf  postgres -C shared_buffers -D <dir>: no "syntax error" (unknown names and bad
#                    values are PostgreSQL's to judge; the checker only judges the file's form)
#   redis.conf       redis-server <file> --port 0: "Configuration loaded" (then it exits: no listener)
#   pgbouncer.ini    pgbouncer <file> on port 1 without a socket: no ERROR/FATAL before "nowhere to listen"
# The pod's paths in the generated files (data dir, include, auth_file, ports) are mapped to a temp folder.
# usage: config_checkers_test.sh <fuzz-config-files> <spec corpus> <testdata> <work dir>
set -euo pipefail
tool=$1 corpus=$2 testdata=$3 work=$4
rm -rf "$work" && mkdir -p "$work/generated"
"$tool" dump "$corpus" "$work/generated"

postgres_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_postgres=()
if [[ $(id -u) -eq 0 ]]; then as_postgres=(runuser -u postgres --); fi
failures=0 checked=0
pgbouncer_has_prepared=no
if command -v pgbouncer >/dev/null; then
  version=$(pgbouncer --version 2>/dev/null | sed -n 's/^[Pp]g[Bb]ouncer \([0-9]*\.[0-9]*\).*/\1/p' | head -n 1)
  [[ -n "$version" ]] && printf '%s\n1.21\n' "$version" | sort -V -C && [[ "$version" != 1.21 ]] || pgbouncer_has_prepared=yes
fi

verdict() {  # kind file -> "ok" or "bad" from the checker
  if "$tool" check "$1" "$2" 2>/dev/null; then echo ok; else echo bad; fi
}

real_postgres() {  # file -> ok|bad
  local dir; dir=$(mktemp -d "$work/pg.XXXXXX"); chmod 700 "$dir"
  cp "$1" "$dir/postgresql.conf"
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$dir"
  local out; out=$("${as_postgres[@]}" "$postgres_bin/postgres" -C shared_buffers -D "$dir" 2>&1 || true)
  if grep -q 'syntax error\|unterminated quoted string' <<<"$out"; then echo bad; else echo ok; fi
}

real_redis() {  # folder-with-redis.conf file -> ok|bad
  local dir; dir=$(mktemp -d "$work/redis.XXXXXX")
  sed -e "s#^dir .*#dir $dir#" -e "s#^include .*/auth.conf#include $dir/auth.conf#" -e 's#^port .*#port 0#' "$1" >"$dir/redis.conf"
  if [[ -f "$(dirname "$1")/auth.conf" ]]; then cp "$(dirname "$1")/auth.conf" "$dir/auth.conf"; else : >"$dir/auth.conf"; fi
  local out; out=$(cd "$dir" && timeout 10 redis-server "$dir/redis.conf" --port 0 2>&1 || true)
  if grep -q 'Configuration loaded' <<<"$out"; then echo ok; else echo bad; fi
}

real_pgbouncer() {  # file -> ok|bad
  local dir; dir=$(mktemp -d "$work/pgbouncer.XXXXXX"); chmod 755 "$dir"
  # max_prepared_statements is written only when the spec asks for it and needs PgBouncer 1.21 (docs/api.md);
  # an older local pgbouncer (Debian 12: 1.18) judges the rest of the file.
  local drop_prepared='/^$^/d'
  [[ $pgbouncer_has_prepared == yes ]] || drop_prepared='/^max_prepared_statements *=/d'
  sed -e "$drop_prepared" -e '/^listen_addr *=/d' -e '/^listen_port *=/d' -e '/^unix_socket_dir *=/d' -e "s#^auth_file *=.*#auth_file = $dir/userlist.txt#" \
      -e "s#^\[pgbouncer\]#[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = 1\nunix_socket_dir =#" "$1" >"$dir/pgbouncer.ini"
  if [[ -f "$(dirname "$1")/userlist.txt" ]]; then cp "$(dirname "$1")/userlist.txt" "$dir/userlist.txt"; else : >"$dir/userlist.txt"; fi
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$dir"
  local out; out=$(cd "$dir" && timeout 10 "${as_postgres[@]}" pgbouncer "$dir/pgbouncer.ini" 2>&1 || true)
  if grep -q ' ERROR \|cannot load config' <<<"$out"; then echo bad; else echo ok; fi
}

compare() {  # kind file expected-by-name(or "") real-function
  local kind=$1 file=$2 expected=$3 real=$4
  local ours theirs; ours=$(verdict "$kind" "$file"); theirs=$($real "$file")
  checked=$((checked + 1))
  if [[ "$ours" != "$theirs" ]]; then
    echo "MISMATCH $kind $file: checker $ours, $real $theirs"; failures=$((failures + 1))
  elif [[ -n "$expected" && "$ours" != "$expected" ]]; then
    echo "WRONG FIXTURE $file: both say $ours, its name says $expected"; failures=$((failures + 1))
  fi
}

for kind in postgresql.conf redis.conf pgbouncer.ini; do
  case $kind in
    postgresql.conf) real=real_postgres; [[ -x "$postgres_bin/postgres" ]] || { echo "SKIP $kind: no postgres"; continue; } ;;
    redis.conf) real=real_redis; command -v redis-server >/dev/null || { echo "SKIP $kind: no redis-server"; continue; } ;;
    pgbouncer.ini) real=real_pgbouncer; command -v pgbouncer >/dev/null || { echo "SKIP $kind: no pgbouncer"; continue; } ;;
  esac
  # Many corpus inputs generate the same file: each distinct one is checked once.
  declare -A seen=()
  for file in "$work"/generated/*/"$kind"; do
    [[ -f "$file" ]] || continue
    sum=$({ cat "$file" "$(dirname "$file")/auth.conf" "$(dirname "$file")/userlist.txt" 2>/dev/null || true; } | sha256sum | cut -c1-16)
    [[ -n "${seen[$sum]:-}" ]] && continue
    seen[$sum]=1
    compare "$kind" "$file" ok $real
  done
  unset seen
  for file in "$testdata/$kind"/*; do
    expected=ok; [[ $(basename "$file") == bad-* ]] && expected=bad
    compare "$kind" "$file" $expected $real
  done
done
echo "config checkers: $checked files, $failures disagreements"
[[ $checked -gt 0 && $failures -eq 0 ]]
