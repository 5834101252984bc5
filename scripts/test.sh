#!/usr/bin/env bash
# The test command (README, CI): builds dts, runs the unit tests under ASan+UBSan, then every
# integration test (against real MariaDB servers started on loopback) under CTest.
#   scripts/test.sh            everything
#   scripts/test.sh -R binlog  only CTest tests matching a pattern (the sanitizer pass is skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh
bash scripts/check-format.sh
DTS_WERROR=ON bash scripts/build.sh

if [ $# -eq 0 ]; then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDTS_SANITIZE=ON -DDTS_BENCH=OFF -DDTS_WERROR=ON "${launcher[@]}" >/dev/null
  cmake --build build-asan -j"$jobs" --target dts_unit_tests
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./build-asan/dts_unit_tests --gtest_brief=1
fi

echo "== all tests (CTest)"
cd build
# The unit tests just ran under the sanitizers; CTest runs them again only when asked for by a
# pattern.
skip=()
if [ $# -eq 0 ]; then skip=(-E '^unit$'); fi
# Integration tests mostly wait on servers they start on their own ports: two at a time.
ctest --output-on-failure --timeout 1800 -j"$jobs" "${skip[@]}" "$@"
