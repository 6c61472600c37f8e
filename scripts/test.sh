#!/usr/bin/env bash
# Installs everything, builds, and runs the whole test suite twice: a normal build, and a CPU-only clang build
# under AddressSanitizer and UndefinedBehaviorSanitizer, which also builds the libFuzzer targets and runs
# each for a bounded time. The README's second command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

echo "== tests: release build"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer build (clang, CPU only)"
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMAC_SANITIZE=ON -DLMAC_FUZZ=ON \
  -DLMAC_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
# OpenBLAS and libsndfile keep process-lifetime allocations: leaks are not what this run checks.
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The SmolLM2 parity tests check a shorter prefix here: the sanitizers slow a 135M-parameter forward pass ~10x.
(cd build-asan && LMAC_SMOLLM2_POSITIONS=64 ctest --output-on-failure -j"$jobs")

echo "== fuzzing: each target for ${FUZZ_SECONDS} s"
for target in build-asan/fuzz_*; do
  name=$(basename "$target" | sed 's/^fuzz_//')
  corpus=$(mktemp -d)
  seeds=fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=""
  status=0
  "$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" $seeds >"$corpus.log" 2>&1 || status=$?
  echo "$name: $(grep -E 'stat::number_of_executed_units' "$corpus.log" || echo 'no stats')"
  if [ "$status" -ne 0 ]; then tail -40 "$corpus.log"; echo "fuzz target $name failed"; exit 1; fi
  rm -rf "$corpus" "$corpus.log"
done
echo "fuzzing: no crash"
