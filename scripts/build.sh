#!/usr/bin/env bash
# Configures and builds dts into build/ (Release with debug info, or DTS_BUILD_TYPE).
#   scripts/build.sh            everything (binary, tests, benchmarks)
#   scripts/build.sh dts        only the named targets
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# DTS_WERROR=ON (scripts/test.sh, CI) makes warnings errors; a user's build never fails on them.
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
# DTS_BUILD_TYPE (default RelWithDebInfo): CI builds Release once, for the tests and the package.
cmake -S . -B build -DCMAKE_BUILD_TYPE="${DTS_BUILD_TYPE:-RelWithDebInfo}" -DDTS_WERROR="${DTS_WERROR:-OFF}" "${launcher[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$jobs" "${targets[@]}"
