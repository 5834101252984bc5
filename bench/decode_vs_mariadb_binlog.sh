#!/usr/bin/env bash
# Offline decode throughput on one core: `dts binlog decode --format count` vs
# `mariadb-binlog -v --base64-output=decode-rows`, on the same binlog file(s) written by
# `sysbench oltp_write_only` (issue #3: >= 2,000,000 rows/s and >= 10x mariadb-binlog).
#
#   bench/decode_vs_mariadb_binlog.sh [SECONDS=60] [TABLES=4] [TABLE_SIZE=100000]
#
# Starts a harness cluster (scripts/cluster.sh) in a temporary directory, runs sysbench prepare,
# FLUSH BINARY LOGS, sysbench oltp_write_only run for SECONDS through the read/write endpoint,
# FLUSH BINARY LOGS, copies the binlog file(s) node-1 wrote during the run, tears the cluster
# down, then times both decoders on those files (each REPEAT=3 times after a warm-up, best run
# counts; pinned to CPU 0 with taskset when available), wall and CPU time. KEEP=DIR keeps the
# copied files in DIR; BINLOGS="a b" skips the cluster and times those files instead.
# Needs a built tree: BUILD (default ./build) holding the dts binary.
set -euo pipefail
SECONDS_RUN=${1:-60}
TABLES=${2:-4}
TABLE_SIZE=${3:-100000}
REPEAT=${REPEAT:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DTS=$BUILD/dts
[[ -x $DTS ]] || { echo "missing $DTS (build first, or set BUILD)" >&2; exit 1; }
for tool in sysbench mariadb-binlog mariadb python3; do
  command -v "$tool" >/dev/null || { echo "$tool not installed (scripts/install-deps.sh)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dts-decode-bench-XXXXXX")
CLUSTER=$WORK/cluster
FILES_DIR=$WORK/binlogs
mkdir -p "$FILES_DIR"
cluster_up=0
cleanup() {
  if [[ $cluster_up == 1 ]]; then "$ROOT/scripts/cluster.sh" --dir "$CLUSTER" down >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n ${BINLOGS:-} ]]; then
  read -r -a FILES <<<"$BINLOGS"
else
  echo "== starting cluster in $CLUSTER" >&2
  cluster_up=1
  "$ROOT/scripts/cluster.sh" --dir "$CLUSTER" up >/dev/null
  STATUS=$("$ROOT/scripts/cluster.sh" --dir "$CLUSTER" status 2>/dev/null)
  read -r EP_HOST EP_PORT N1_HOST N1_PORT USER PWFILE < <(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
n = [n for n in s["nodes"] if n["name"] == "node-1"][0]
eh, ep = s["endpoint"].rsplit(":", 1)
nh, np = n["endpoint"].rsplit(":", 1)
print(eh, ep, nh, np, s["user"], s["password_file"])' "$STATUS")
  PASSWORD=$(cat "$PWFILE")
  q() { mariadb --no-defaults -h "$N1_HOST" -P "$N1_PORT" -u "$USER" -p"$PASSWORD" -N -B -e "$1"; }

  # Column names in TABLE_MAP, as dts recommends (both decoders then print real names). The dts
  # user may not set it; root can through the node's socket when this script runs as that OS user.
  ROW_METADATA=$(mariadb --no-defaults -S "$CLUSTER/node-1/mysqld.sock" -u root -N -B \
    -e "SET GLOBAL binlog_row_metadata = FULL; SELECT @@binlog_row_metadata" 2>/dev/null ||
    q "SELECT @@binlog_row_metadata")
  echo "== binlog_row_metadata = $ROW_METADATA" >&2
  q "CREATE DATABASE IF NOT EXISTS sbtest"
  SB=(sysbench oltp_write_only --db-driver=mysql --mysql-host="$EP_HOST" --mysql-port="$EP_PORT" --mysql-user="$USER"
      --mysql-password="$PASSWORD" --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --threads=4)
  echo "== sysbench prepare ($TABLES x $TABLE_SIZE rows)" >&2
  "${SB[@]}" prepare >/dev/null
  q "FLUSH BINARY LOGS"
  FIRST=$(q "SHOW MASTER STATUS" | cut -f1)
  echo "== sysbench oltp_write_only for ${SECONDS_RUN}s via $EP_HOST:$EP_PORT" >&2
  "${SB[@]}" --time="$SECONDS_RUN" --report-interval=0 run >/dev/null
  q "FLUSH BINARY LOGS"
  LAST=$(q "SHOW MASTER STATUS" | cut -f1)  # the new, empty file: not copied
  DATA=$CLUSTER/node-1/data
  FILES=()
  for f in $(q "SHOW BINARY LOGS" | cut -f1); do
    if [[ ! $f < $FIRST && $f < $LAST ]]; then
      cp "$DATA/$f" "$FILES_DIR/$f"
      FILES+=("$FILES_DIR/$f")
    fi
  done
  "$ROOT/scripts/cluster.sh" --dir "$CLUSTER" down >/dev/null 2>&1 || true
  cluster_up=0
fi
[[ ${#FILES[@]} -gt 0 ]] || { echo "no binlog files written during the run" >&2; exit 1; }
BYTES=$(cat "${FILES[@]}" | wc -c)
echo "== ${#FILES[@]} file(s), $BYTES bytes: ${FILES[*]##*/}" >&2
if [[ -n ${KEEP:-} ]]; then mkdir -p "$KEEP" && cp "${FILES[@]}" "$KEEP/"; fi

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then PIN=(taskset -c 0); fi
# Runs "$@" (stdout to $OUT) once to warm up, then REPEAT times; prints the best wall time and
# the best CPU time (user + sys of the child). On a shared machine the CPU time is the figure
# to trust: the wall time also counts the waits for the core.
best_time() {
  python3 - "$OUT" "$REPEAT" "${PIN[@]}" "$@" <<'PY'
import os, subprocess, sys, time
out, repeat, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
best_wall = best_cpu = None
for i in range(repeat + 1):
    with open(out, "wb") as f:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=f)
        _, status, ru = os.wait4(p.pid, 0)  # rusage in microseconds, not clock ticks
        wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed")
    cpu = ru.ru_utime + ru.ru_stime
    if i == 0:
        continue
    best_wall = wall if best_wall is None else min(best_wall, wall)
    best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
print(f"{best_wall:.4f} {best_cpu:.4f}")
PY
}

OUT=$WORK/dts.out
read -r DTS_WALL DTS_CPU < <(best_time "$DTS" binlog decode --format count "${FILES[@]}")
LINES=$(tail -n 1 "$OUT")
# mariadb-binlog -v prints one "### INSERT INTO" / "### UPDATE" / "### DELETE FROM" per row.
mariadb-binlog --no-defaults -v --base64-output=decode-rows "${FILES[@]}" >"$WORK/mb.out"
MB_ROWS=$(grep -cE '^### (INSERT INTO|UPDATE|DELETE FROM) ' "$WORK/mb.out" || true)
rm -f "$WORK/mb.out"
OUT=/dev/null
read -r MB_WALL MB_CPU < <(best_time mariadb-binlog --no-defaults -v --base64-output=decode-rows "${FILES[@]}")

python3 - "$LINES" "$MB_ROWS" "$DTS_WALL" "$DTS_CPU" "$MB_WALL" "$MB_CPU" "$BYTES" "${PIN[*]:-unpinned}" <<'PY'
import sys
lines, mb_rows, dts_wall, dts_cpu, mb_wall, mb_cpu, nbytes, pin = sys.argv[1:]
lines, mb_rows, nbytes = int(lines), int(mb_rows), int(nbytes)
dts_wall, dts_cpu, mb_wall, mb_cpu = map(float, (dts_wall, dts_cpu, mb_wall, mb_cpu))
rate = lambda rows, s: rows / s if s > 0 else float("inf")
print(f"binlog: {nbytes/1e6:.1f} MB, {pin}, best of runs")
print(f"{'decoder':<60} {'rows':>9} {'wall s':>8} {'cpu s':>8} {'rows/s wall':>12} {'rows/s cpu':>12}")
for name, rows, w, c in (("dts binlog decode --format count", lines, dts_wall, dts_cpu),
                         ("mariadb-binlog -v --base64-output=decode-rows >/dev/null", mb_rows, mb_wall, mb_cpu)):
    print(f"{name:<60} {rows:>9} {w:>8.3f} {c:>8.3f} {rate(rows, w):>12,.0f} {rate(rows, c):>12,.0f}")
print(f"ratio dts / mariadb-binlog: {rate(lines, dts_wall) / rate(mb_rows, mb_wall):.1f}x wall, "
      f"{rate(lines, dts_cpu) / rate(mb_rows, mb_cpu):.1f}x cpu")
if lines != mb_rows:
    print(f"WARNING: dts counted {lines} lines, mariadb-binlog printed {mb_rows} rows", file=sys.stderr)
PY
