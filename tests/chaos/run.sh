#!/usr/bin/env bash
# The fault suite's long version, by hand (the short one runs in CI as the CTest test chaos_test):
#   tests/chaos/run.sh [--rounds N] [--seed S] [--report FILE]
# Builds dts and chaos_test if needed, then runs N rounds of faults (default 10) with the schedule
# drawn from seed S (default: random, printed), and writes the report (default
# build/chaos-report.md). Needs root: the disk-full fault mounts a tmpfs on the data dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=10
seed=""
report="$PWD/build/chaos-report.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --report) report="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "tests/chaos/run.sh: needs root (the disk-full fault mounts a tmpfs on the data dir)" >&2
  exit 2
fi
[ -n "$seed" ] || seed=$((RANDOM * 32768 + RANDOM))
if [ ! -x build/chaos_test ] || [ ! -x build/dts ]; then nice scripts/build.sh dts chaos_test; fi
echo "chaos: $rounds rounds, seed $seed, report $report"
export DTS_CHAOS_ROUNDS="$rounds" DTS_CHAOS_SEED="$seed" DTS_CHAOS_REPORT="$report"
exec build/chaos_test
