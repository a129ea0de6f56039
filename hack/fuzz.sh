#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/ and runs each one for a
# bounded time, then merges what it found new into the committed corpus (fuzz/corpus/<target>, -merge=1
# keeps only inputs that add coverage). docs/fuzzing.md describes the targets and their invariants.
#
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_TARGETS  space-separated targets (default: all, in fuzz/CMakeLists.txt's order)
#   FUZZ_JOBS     parallel fuzzing processes per target (default 1)
#   FUZZ_BUILD_DIR (default build-fuzz), FUZZ_CXX (default clang++-14)
#
# A crash, leak, timeout or failed invariant stops the run with the target's output; the input is in
# build-fuzz/artifacts/<target>/ (replay it: build-fuzz/fuzz/<target>-fuzzer <file>).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
cxx=${FUZZ_CXX:-clang++-14}
all_targets=$(sed -n 's/^set(FINANCIALAPI_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/CMakeLists.txt)
targets=${FUZZ_TARGETS:-$all_targets}

command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (hack/deps.sh installs clang-14 and libclang-rt-14-dev)" >&2; exit 1; }
cmake -S . -B "$build_dir" -G "${CMAKE_GENERATOR:-Ninja}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DFINANCIALAPI_FUZZ=ON -DFINANCIALAPI_BUILD_TESTS=OFF -DFINANCIALAPI_BUILD_BENCH=OFF >/dev/null
# shellcheck disable=SC2046
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target $(for t in $targets; do printf '%s-fuzzer ' "$t"; done)

for target in $targets; do
  binary=$build_dir/fuzz/$target-fuzzer
  corpus=fuzz/corpus/$target
  artifacts=$build_dir/artifacts/$target
  work=$build_dir/corpus/$target   # what this run finds; merged into $corpus below
  mkdir -p "$artifacts" "$work" "$corpus"
  log=$build_dir/artifacts/$target.log
  echo "fuzz: $target for ${seconds}s ($jobs job(s)), log $log"
  args=(-max_total_time="$seconds" -artifact_prefix="$artifacts/" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  [[ -f fuzz/dictionaries/$target.dict ]] && args+=(-dict="fuzz/dictionaries/$target.dict")
  if [[ $jobs -gt 1 ]]; then args+=(-fork="$jobs"); fi
  if ! "$binary" "${args[@]}" "$work" "$corpus" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $target found a failure; input in $artifacts/" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" || tail -n 3 "$log"
  # Keep only what adds coverage to the committed corpus.
  "$binary" -merge=1 "$corpus" "$work" >>"$log" 2>&1
  echo "fuzz: $target corpus: $(find "$corpus" -type f | wc -l) files, $(du -sb "$corpus" | cut -f1) bytes"
done
