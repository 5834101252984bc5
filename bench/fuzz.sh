#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang build dir and runs each (the binlog decoder,
# the SQL lexer, the event-header tracker, the character set converter and the differential GTID
# set and dependency tracker fuzzers) for a bounded time. Usage: bench/fuzz.sh [seconds=60 per target]. Fails on
# any crash or sanitizer report. Seeds: the committed binlog fixtures (split into events) and the
# corpus kept in build-fuzz/corpus; DDL statements for the lexer, corpus in build-fuzz/sql_corpus.
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${DTS_FUZZ_BUILD:-$ROOT/build-fuzz}
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DDTS_FUZZ=ON -DDTS_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target binlog_decoder_fuzz sql_lexer_fuzz event_header_fuzz gtid_set_fuzz \
  dependency_tracker_fuzz charset_convert_fuzz
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
# SQL lexer seeds: first byte = options (bit 0 ANSI_QUOTES, bit 1 NO_BACKSLASH_ESCAPES).
SQL_CORPUS=$BUILD/sql_corpus
mkdir -p "$SQL_CORPUS"
python3 - "$SQL_CORPUS" <<'PY'
import os, sys
seeds = [b"\x00CREATE TABLE `a``b`.t (id int) -- c\n", b"\x01DROP TABLE \"x\", y /* z */",
         b"\x02INSERT 'a\\'b' ''", b"\x00/*!40000 ALTER TABLE t DISABLE KEYS */",
         b"\x00ALTER TABLE t RENAME TO u # x\n", b"\x00SELECT 0x1F, 1.5e-3, 0b101, _utf8mb4'x'",
         b"\x03CREATE /*M!100100 OR REPLACE */ TABLE t"]
for i, s in enumerate(seeds):
    open(os.path.join(sys.argv[1], "seed-%d" % i), "wb").write(s)
PY
run() {  # run TARGET CORPUS EXTRA_ARGS...
  local target=$1 corpus=$2
  shift 2
  local log=$BUILD/$target.log
  set +e
  "$BUILD/fuzz/$target" "$corpus" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 \
    -artifact_prefix="$BUILD/" -print_final_stats=1 "$@" >"$log" 2>&1
  local rc=$?
  set -e
  tail -n 15 "$log"
  if [[ $rc -ne 0 ]] || grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer" "$log"; then
    echo "fuzz: $target FAILED (see $log and the crash-* artifact in $BUILD)" >&2
    exit 1
  fi
  echo "fuzz: $target OK (${SECONDS_TO_RUN}s)"
}
run binlog_decoder_fuzz "$CORPUS" -max_len=65536
run sql_lexer_fuzz "$SQL_CORPUS" -max_len=4096
mkdir -p "$BUILD/event_header_corpus" "$BUILD/gtid_corpus" "$BUILD/dependency_corpus" \
  "$BUILD/charset_corpus"
run event_header_fuzz "$BUILD/event_header_corpus" -max_len=65536
run gtid_set_fuzz "$BUILD/gtid_corpus" -max_len=4096
run dependency_tracker_fuzz "$BUILD/dependency_corpus" -max_len=4096
run charset_convert_fuzz "$BUILD/charset_corpus" -max_len=1024
