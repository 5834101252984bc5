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
LOG=$BUILD/fuzz.log
set +e
"$BUILD/fuzz/binlog_decoder_fuzz" "$CORPUS" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=2048 \
  -artifact_prefix="$BUILD/" -print_final_stats=1 >"$LOG" 2>&1
rc=$?
set -e
tail -n 15 "$LOG"
if [[ $rc -ne 0 ]] || grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer" "$LOG"; then
  echo "fuzz: FAILED (see $LOG and the crash-* artifact in $BUILD)" >&2
  exit 1
fi
GTID_CORPUS=$BUILD/gtid-corpus
mkdir -p "$GTID_CORPUS"
GTID_LOG=$BUILD/gtid_fuzz.log
set +e
"$BUILD/fuzz/gtid_set_fuzz" "$GTID_CORPUS" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
  -artifact_prefix="$BUILD/" -print_final_stats=1 >"$GTID_LOG" 2>&1
rc=$?
set -e
tail -n 5 "$GTID_LOG"
if [[ $rc -ne 0 ]] || grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer" "$GTID_LOG"; then
  echo "fuzz: gtid_set_fuzz FAILED (see $GTID_LOG and the crash-* artifact in $BUILD)" >&2
  exit 1
fi
echo "fuzz: OK (${SECONDS_TO_RUN}s each)"
