#!/usr/bin/env bash
# Fails when a C++ file of the project is not laid out as .clang-format says (the test command and
# CI run it). scripts/check-format.sh --fix rewrites them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h' 'fuzz/*.cc' 'fuzz/*.h' 'include/*.h' 'examples/*.cc')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/dts-format.$$; then
  grep -E '^[^ ].*(warning|error):' /tmp/dts-format.$$ | head -20
  echo "check-format: $(grep -cE 'warning:|error:' /tmp/dts-format.$$) places differ from .clang-format; run scripts/check-format.sh --fix" >&2
  rm -f /tmp/dts-format.$$
  exit 1
fi
rm -f /tmp/dts-format.$$
echo "check-format: ${#files[@]} files follow .clang-format"
