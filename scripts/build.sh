#!/usr/bin/env bash
# Configures and builds dts into build/ (Release with debug info).
#   scripts/build.sh            everything (binary, tests, benchmarks)
#   scripts/build.sh dts        only the named targets
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$jobs" "${targets[@]}"
