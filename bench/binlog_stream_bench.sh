#!/usr/bin/env bash
# Binlog streaming throughput: dts vs the raw transfer and Connector/C's replication client.
#
#   bench/binlog_stream_bench.sh [SECONDS] [TABLES] [TABLE_SIZE]
#
# Starts a harness cluster, writes a binlog with `sysbench oltp_write_only` for SECONDS (default
# 30), then reads exactly that binlog range from node-1 (same warm server, same run) with:
#   (a) dts binlog tail --format count    stream + decode every row (what dts delivers)
#   (a') dts BinlogStream only            packets + positions, no decoding (helper program)
#   (b) mariadb-binlog --read-from-remote-server --raw   the raw transfer rate, to a tmp dir
#   (c) mariadb_rpl_fetch loop            Connector/C's replication API, only counting events
# Each reader runs once to warm up, then REPEAT (default 3) times; the best run counts.
# Needs a built tree (BUILD, default ./build) with the dts binary and the bench helper.
set -euo pipefail
SECONDS_RUN=${1:-30}
TABLES=${2:-4}
TABLE_SIZE=${3:-20000}
REPEAT=${REPEAT:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DTS=$BUILD/dts
HELPER=$BUILD/bench/binlog_stream_count_bench
for b in "$DTS" "$HELPER"; do [[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 1; }; done
command -v sysbench >/dev/null || { echo "sysbench not installed" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dts-binlog-bench-XXXXXX")
cleanup() {
  "$ROOT/scripts/cluster.sh" --dir "$WORK" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting cluster in $WORK" >&2
"$ROOT/scripts/cluster.sh" --dir "$WORK" up >/dev/null
STATUS=$("$ROOT/scripts/cluster.sh" --dir "$WORK" status 2>/dev/null)
read -r HOST PORT USER PWFILE < <(python3 -c '
import json,sys
s=json.loads(sys.argv[1])
n=[n for n in s["nodes"] if n["name"]=="node-1"][0]
h,p=n["endpoint"].rsplit(":",1)
print(h,p,s["user"],s["password_file"])' "$STATUS")
export DTS_PASSWORD
DTS_PASSWORD=$(cat "$PWFILE")
q() { mariadb --no-defaults -h "$HOST" -P "$PORT" -u "$USER" -p"$DTS_PASSWORD" -N -B -e "$1"; }

SB=(sysbench oltp_write_only --db-driver=mysql --mysql-host="$HOST" --mysql-port="$PORT" --mysql-user="$USER"
    --mysql-password="$DTS_PASSWORD" --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --threads=4)
q "CREATE DATABASE sbtest"
echo "== sysbench prepare ($TABLES x $TABLE_SIZE rows)" >&2
"${SB[@]}" prepare >/dev/null
q "FLUSH BINARY LOGS"
read -r START_FILE START_POS _ < <(q "SHOW MASTER STATUS")
echo "== sysbench oltp_write_only for ${SECONDS_RUN}s" >&2
"${SB[@]}" --time="$SECONDS_RUN" --report-interval=0 run >/dev/null
read -r END_FILE END_POS _ < <(q "SHOW MASTER STATUS")
echo "== binlog range $START_FILE:$START_POS .. $END_FILE:$END_POS" >&2

best() { sort -g | head -1; }
now() { date +%s.%N; }

# (a) dts binlog tail --format count
run_dts() {
  local t0 t1 out
  t0=$(now)
  out=$("$DTS" binlog tail "mysql://$USER@$HOST:$PORT" --from-file "$START_FILE" --from-pos "$START_POS" \
        --stop-at-end --format count)
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $out"
}
# (a') BinlogStream alone, (c) mariadb_rpl_fetch
run_helper() { "$HELPER" "$1" "$HOST" "$PORT" "$USER" "$START_FILE" "$START_POS"; }
# (b) mariadb-binlog raw transfer
run_raw() {
  local dir t0 t1 bytes
  dir=$(mktemp -d "$WORK/raw-XXXXXX")
  t0=$(now)
  (cd "$dir" && mariadb-binlog --no-defaults --read-from-remote-server --raw --host="$HOST" --port="$PORT" \
     --user="$USER" --password="$DTS_PASSWORD" --start-position="$START_POS" --to-last-log \
     --result-file="$dir/" "$START_FILE" 2>/dev/null)
  t1=$(now)
  bytes=$(du -cb "$dir"/* | tail -1 | cut -f1)
  rm -rf "$dir"
  echo "$(echo "$t1 - $t0" | bc -l) $bytes"
}

echo "== warm-up" >&2
run_dts >/dev/null; run_raw >/dev/null; run_helper rpl >/dev/null; run_helper stream >/dev/null

DTS_T=(); RAW_T=(); RPL_T=(); STREAM_T=()
for i in $(seq 1 "$REPEAT"); do
  echo "== round $i" >&2
  read -r t lines < <(run_dts); DTS_T+=("$t"); DTS_LINES=$lines
  read -r t RAW_BYTES < <(run_raw); RAW_T+=("$t")
  read -r EVENTS BYTES t < <(run_helper rpl); RPL_T+=("$t")
  read -r SEVENTS SBYTES t < <(run_helper stream); STREAM_T+=("$t")
done
DTS_BEST=$(printf '%s\n' "${DTS_T[@]}" | best)
RAW_BEST=$(printf '%s\n' "${RAW_T[@]}" | best)
RPL_BEST=$(printf '%s\n' "${RPL_T[@]}" | best)
STREAM_BEST=$(printf '%s\n' "${STREAM_T[@]}" | best)

python3 - "$DTS_BEST" "$STREAM_BEST" "$RAW_BEST" "$RPL_BEST" "$DTS_LINES" "$EVENTS" "$BYTES" "$SEVENTS" "$RAW_BYTES" "$SBYTES" <<'PY'
import sys
dts, stream, raw, rpl = map(float, sys.argv[1:5])
lines, events, rpl_bytes, sevents, raw_bytes, stream_bytes = map(int, sys.argv[5:11])
mb = stream_bytes / 1e6  # whole events (header + body + checksum) as BinlogStream returned them
print(f"binlog range: {sevents} events, {mb:.1f} MB of events, {lines} row changes + DDL "
      f"(mariadb_rpl_fetch saw {events} events; mariadb-binlog wrote {raw_bytes} bytes)")
print(f"{'reader':44s} {'seconds':>8s} {'rows/s':>11s} {'events/s':>11s} {'MB/s':>8s} {'vs (b)':>7s} {'vs (c)':>7s}")
def row(name, t, rows=True):
    r = f"{lines / t:11.0f}" if rows else f"{'-':>11s}"
    print(f"{name:44s} {t:8.3f} {r} {events / t:11.0f} {mb / t:8.1f} {raw / t * 100:6.0f}% {rpl / t * 100:6.0f}%")
row("(a)  dts binlog tail --format count", dts)
row("(a') dts BinlogStream only (no decode)", stream, False)
row("(b)  mariadb-binlog --raw (raw transfer)", raw, False)
row("(c)  mariadb_rpl_fetch loop (count only)", rpl, False)
PY
