#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang build dir and runs the binlog decoder fuzzer,
# then the GTID set's differential fuzzer, each for a bounded time. Usage: bench/fuzz.sh [seconds=60]. Fails on any crash or sanitizer report.
# Seeds: the committed binlog fixtures (split into events) and the corpus kept in build-fuzz/corpus.
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${DTS_FUZZ_BUILD:-$ROOT/build-fuzz}
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DDTS_FUZZ=ON -DDTS_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target binlog_decoder_fuzz --target gtid_set_fuzz
CORPUS=$BUILD/corpus
mkdir -p "$CORPUS"
# Seed with the fixture binlogs: mode byte 1 (MariaDB events) + {u16 length, event} records.
python3 - "$ROOT/tests/fixtures" "$CORPUS" <<'PY'
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    if not name.startswith("mariadb_types.0"):
        continue
    data = open(os.path.join(src, name), "rb").read()[4:]
    events, off = [], 0
    while off + 19 <= len(data):
        size = struct.unpack_from("<I", data, off + 9)[0]
        if size < 19 or off + size > len(data):
            break
        events.append(data[off:off + size])
        off += size
    for i in range(0, len(events), 8):
        chunk = b"".join(struct.pack("<H", len(e)) + e for e in events[i:i + 8] if len(e) < 65536)
        open(os.path.join(dst, f"seed-{name}-{i}"), "wb").write(b"\x01" + chunk)
PY
# run_fuzzer TARGET CORPUS LOG [libFuzzer flags...]: runs one target for the time budget; exits
# non-zero on a crash or sanitizer report.
run_fuzzer() {
  local target=$1 corpus=$2 log=$3
  shift 3
  mkdir -p "$corpus"
  set +e
  "$BUILD/fuzz/$target" "$corpus" -max_total_time="$SECONDS_TO_RUN" -artifact_prefix="$BUILD/" \
    -print_final_stats=1 "$@" >"$log" 2>&1
  local rc=$?
  set -e
  tail -n 15 "$log"
  if [[ $rc -ne 0 ]] || grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer" "$log"; then
    echo "fuzz: $target FAILED (see $log and the crash-* artifact in $BUILD)" >&2
    exit 1
  fi
}
run_fuzzer binlog_decoder_fuzz "$CORPUS" "$BUILD/fuzz.log" -max_len=65536 -rss_limit_mb=2048
run_fuzzer gtid_set_fuzz "$BUILD/gtid-corpus" "$BUILD/gtid_fuzz.log" -max_len=4096
echo "fuzz: OK (${SECONDS_TO_RUN}s each)"
