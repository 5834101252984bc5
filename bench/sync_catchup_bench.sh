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
# 1. full + into incremental, then pause at P0; 2. the destination at P0.
sync_to_p0 sbtest
# 3. the backlog.
echo "backlog: sysbench oltp_write_only, $TABLES tables x $SIZE rows, $THREADS threads, ${SECS}s" >&2
$SB --threads=$THREADS --time=$SECS --report-interval=0 oltp_write_only run | grep -E "transactions:|queries:" >&2
P1=$(src "SELECT @@gtid_binlog_pos")
TXNS=$(( ${P1##*-} - ${P0##*-} ))
echo "backlog: $P0 -> $P1 ($TXNS transactions)" >&2
REF_SUM=$(src "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" | awk '{print $2}' | tr '\n' ' ')

NAMES=("native replica, slave_parallel_threads=0" "native replica, 4 threads, optimistic")
CMDS=("native 0 conservative" "native 4 optimistic")
add_dts_contenders
run_rounds
echo "same data: CHECKSUM TABLE equals the source's"
