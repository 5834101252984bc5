#!/usr/bin/env bash
# Catch-up through `dts run` (the whole incremental engine: binlog stream, decoder, schema
# tracker, mapping, applier) against a native MariaDB replica, on one sysbench backlog:
#   1. a sync task loads sbtest (full) and reaches incremental; SIGTERM pauses it at P0;
#   2. the destination's sbtest + dts_meta (its checkpoint) are dumped: the state at P0;
#   3. sysbench oltp_write_only runs SECONDS on the source: the backlog P0 -> P1;
#   4. each contender starts from the P0 dump and is timed until it has applied P1:
#      dts with each parallelism of WORKERS (`dts run`, timed from process start until the
#      checkpoint's applied set covers P1), native replica serial and 4-thread optimistic (START
#      SLAVE from gtid_slave_pos = P0 until gtid_slave_pos = P1), each ROUNDS times, alternating.
#      CHECKSUM TABLE proves the same data as the source.
#   [WORKERS="1 4"] [ROUNDS=3] [BUILDS="label=path/to/dts ..."] \
#     bench/sync_catchup_bench.sh [SECONDS=30] [TABLES=4] [TABLE_SIZE=20000] [THREADS=8]
# BUILDS compares dts builds (say, before and after a change) on one backlog; default: this tree's
# (or DTS=path). Needs a built dts, mariadb-server, sysbench, python3.
set -euo pipefail
SECS=${1:-30}; TABLES=${2:-4}; SIZE=${3:-20000}; THREADS=${4:-8}
WORKERS=${WORKERS:-1 4}
ROUNDS=${ROUNDS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DTS=${DTS:-$ROOT/build/dts}
BUILDS=${BUILDS:-dts=$DTS}
for b in $BUILDS; do [ -x "${b#*=}" ] || { echo "no dts build at ${b#*=}" >&2; exit 1; }; done
source "$ROOT/bench/lib/catchup.sh"
catchup_cluster_up dts-sync-catchup
export DTS_BENCH_PW=$PW

src "CREATE DATABASE sbtest"
$SB oltp_write_only prepare >/dev/null
cat >"$DIR/task.yaml" <<EOF
name: catchup
kind: sync
source: {endpoint: '$SRC', user: dts, password_env: DTS_BENCH_PW}
destination: {endpoint: '$DEST', user: dts, password_env: DTS_BENCH_PW}
objects:
  - database: sbtest
options: {parallelism: 4}
EOF
# 1. full + into incremental, then pause.
"$DTS" run "$DIR/task.yaml" --data-dir "$DIR/data" >"$DIR/dts0.log" 2>&1 &
PID=$!
until "$DTS" status --json --data-dir "$DIR/data" 2>/dev/null | grep -q '"phase": "incremental"'; do
  kill -0 $PID 2>/dev/null || { cat "$DIR/dts0.log" >&2; exit 1; }
  sleep 0.2
done
sleep 2
kill -TERM $PID; wait $PID
P0=$(src "SELECT @@gtid_binlog_pos")
# 2. the destination at P0.
mariadb-dump --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" --single-transaction --databases sbtest dts_meta >"$DIR/p0.sql"
cp -r "$DIR/data" "$DIR/data0"
# 3. the backlog.
echo "backlog: sysbench oltp_write_only, $TABLES tables x $SIZE rows, $THREADS threads, ${SECS}s" >&2
$SB --threads=$THREADS --time=$SECS --report-interval=0 oltp_write_only run | grep -E "transactions:|queries:" >&2
P1=$(src "SELECT @@gtid_binlog_pos")
TXNS=$(( ${P1##*-} - ${P0##*-} ))
echo "backlog: $P0 -> $P1 ($TXNS transactions)" >&2
REF_SUM=$(src "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" | awk '{print $2}' | tr '\n' ' ')

reset_dest() {
  dst "STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS dts_meta; SET GLOBAL gtid_slave_pos=''" >/dev/null 2>&1 || true
  mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" <"$DIR/p0.sql"
}

# Waits until the union of the task's checkpoint slots covers every sequence number in (P0, P1],
# polling every 50 ms like the native contenders' loop does (one mariadb client per poll; the
# poller itself starts once, so it costs the machine no more than theirs). Fails if dts exits.
wait_covered() {  # dts pid
  python3 - "$1" "$P0" "$P1" "$DIR/dest/mysqld.sock" <<'PY'
import os, subprocess, sys, time
pid, p0, p1, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
first, last = int(p0.split('-')[-1]), int(p1.split('-')[-1])
def covered():
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={sock}", "-N", "-B", "-e",
                          "SELECT applied FROM dts_meta.checkpoint WHERE task='catchup'"],
                         capture_output=True, text=True).stdout
    ivs = []
    for line in out.split():
        for part in line.split(','):
            f = part.split(':')
            if f[0] != '0': continue
            for iv in f[1:]:
                a, _, b = iv.partition('-'); ivs.append((int(a), int(b or a)))
    upto = first  # everything up to P0 is in the full data
    for a, b in sorted(ivs):
        if a > upto + 1: break
        upto = max(upto, b)
    return upto >= last
def alive():  # an exited child stays a zombie until the shell waits for it
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False
while not covered():
    if not alive():
        sys.exit(1)
    time.sleep(0.05)
PY
}

dts_run() {  # dts parallelism
  reset_dest
  rm -rf "$DIR/data"; cp -r "$DIR/data0" "$DIR/data"
  sed -i "s/parallelism: [0-9]*/parallelism: $2/" "$DIR/task.yaml"
  local d0; d0=$(cpu_of "$DEST_PID")
  local t0; t0=$(now)
  "$1" run "$DIR/task.yaml" --data-dir "$DIR/data" >"$DIR/dts$2.log" 2>&1 &
  local pid=$!
  wait_covered $pid || { cat "$DIR/dts$2.log" >&2; exit 1; }
  local t1; t1=$(now)
  echo "  $1 parallelism $2: $(python3 -c "print(f'{$t1-$t0:.2f}')") s; CPU seconds: dts $(cpu_of $pid), destination $(echo "$(cpu_of "$DEST_PID") - $d0" | bc)" >&2
  kill -TERM $pid; wait $pid || true
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

NAMES=("native replica, slave_parallel_threads=0" "native replica, 4 threads, optimistic")
CMDS=("native 0 conservative" "native 4 optimistic")
for b in $BUILDS; do
  for w in $WORKERS; do
    label="dts run, parallelism $w"; [ "$BUILDS" = "dts=$DTS" ] || label="${b%%=*} run, parallelism $w"
    NAMES+=("$label"); CMDS+=("dts_run ${b#*=} $w")
  done
done
run_rounds
echo "same data: CHECKSUM TABLE equals the source's"
