#!/usr/bin/env bash
# Installs everything, builds, and runs the whole test suite twice: a normal build, and a CPU-only build
# under AddressSanitizer and UndefinedBehaviorSanitizer. The README's second command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

echo "== tests: release build"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer build (CPU only)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMAC_SANITIZE=ON -DLMAC_BENCH=OFF -DLMAC_CUDA=OFF >/dev/null
cmake --build build-asan -j"$jobs"
# OpenBLAS and libsndfile keep a few process-lifetime allocations: leaks are not what this run checks.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs")
