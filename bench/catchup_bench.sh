#!/usr/bin/env bash
# Catch-up benchmark: a sysbench oltp_write_only backlog on the harness source, then the time a
# native MariaDB replica (serial, and parallel optimistic) and dts (parallelism 1 and 4) need to
# apply that same backlog into the destination server, each from the same starting data. Every
# contender runs ROUNDS times, contenders alternating within a round; the table shows the median
# and the best (this machine's timings vary by 20% from run to run).
#   [WORKERS="1 2 4"] [ROUNDS=3] [BUILDS="label=path/to/catchup_apply_bench ..."] \
#     bench/catchup_bench.sh [SECONDS=30] [TABLES=4] [TABLE_SIZE=20000] [THREADS=8]
# BUILDS compares applier builds (say, before and after a change) on one backlog; default: this
# tree's. Needs a built tree (build/catchup_apply_bench), mariadb-server, sysbench.
set -euo pipefail
SECS=${1:-30}; TABLES=${2:-4}; SIZE=${3:-20000}; THREADS=${4:-8}
WORKERS=${WORKERS:-1 2 4}  # dts apply parallelism values to measure
ROUNDS=${ROUNDS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HELPER=$ROOT/build/bench/catchup_apply_bench
[ -x "$HELPER" ] || HELPER=$ROOT/build/catchup_apply_bench
BUILDS=${BUILDS:-dts=$HELPER}
for b in $BUILDS; do [ -x "${b#*=}" ] || { echo "no applier build at ${b#*=}" >&2; exit 1; }; done
source "$ROOT/bench/lib/catchup.sh"
catchup_cluster_up dts-catchup

src "CREATE DATABASE sbtest"
$SB oltp_write_only prepare >/dev/null
DUMP=$DIR/sbtest.sql
mariadb-dump --no-defaults -uroot --socket="$DIR/node-1/mysqld.sock" --single-transaction --databases sbtest >"$DUMP"
P0=$(src "SELECT @@gtid_binlog_pos")
echo "backlog: sysbench oltp_write_only, $TABLES tables x $SIZE rows, $THREADS threads, ${SECS}s" >&2
$SB --threads=$THREADS --time=$SECS --report-interval=0 oltp_write_only run | grep -E "transactions:|queries:" >&2
P1=$(src "SELECT @@gtid_binlog_pos")
TXNS=$(( ${P1##*-} - ${P0##*-} ))
echo "backlog: $P0 -> $P1 ($TXNS transactions)" >&2

reset_dest() {
  dst "STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS dts_meta; SET GLOBAL gtid_slave_pos=''" >/dev/null 2>&1 || true
  mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" <"$DUMP"
}
dts_run() {  # helper workers label
  reset_dest
  local d0 s0; d0=$(cpu_of "$DEST_PID"); s0=$(cpu_of "$SRC_PID")
  local out; out=$(/usr/bin/time -f "%U %S" -o "$DIR/time" "$1" "$SRC" "$DEST" dts "$PWF" "$P0" "$2" sbtest "bench$2")
  echo "$3: $out; CPU seconds: destination $(echo "$(cpu_of "$DEST_PID") - $d0" | bc), source $(echo "$(cpu_of "$SRC_PID") - $s0" | bc), dts $(awk '{print $1 + $2}' "$DIR/time")" >&2
  python3 -c "import json; print(f'{json.loads(\"\"\"$out\"\"\")[\"seconds\"]:.2f}')"
}

# Contenders, in the order they run within a round.
NAMES=("native replica, slave_parallel_threads=0" "native replica, 4 threads, optimistic")
CMDS=("native 0 conservative" "native 4 optimistic")
for b in $BUILDS; do
  for w in $WORKERS; do
    label="${b%%=*}, parallelism $w"; [ "$BUILDS" = "dts=$HELPER" ] && label="dts, parallelism $w"
    NAMES+=("$label"); CMDS+=("dts_run ${b#*=} $w '$label'")
  done
done
run_rounds
