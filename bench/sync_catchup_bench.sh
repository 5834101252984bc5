#!/usr/bin/env bash
# Catch-up through `dts run` (the whole incremental engine: binlog stream, decoder, schema
# tracker, mapping, applier) against a native MariaDB replica, on one sysbench backlog:
#   1. a sync task loads sbtest (full) and reaches incremental; SIGTERM pauses it at P0;
#   2. the destination's sbtest + dts_meta (its checkpoint) are dumped: the state at P0;
#   3. sysbench oltp_write_only runs SECONDS on the source: the backlog P0 -> P1;
#   4. each contender starts from the P0 dump and is timed until it has applied P1:
#      dts parallelism 1 and 4 (`dts run`, timed from process start until the checkpoint's
#      applied set covers P1), native replica serial and 4-thread optimistic (START SLAVE from
#      gtid_slave_pos = P0 until gtid_slave_pos = P1). CHECKSUM TABLE proves the same data.
#   bench/sync_catchup_bench.sh [SECONDS=30] [TABLES=4] [TABLE_SIZE=20000] [THREADS=8]
# Needs a built dts (DTS=path, default build/dts), mariadb-server, sysbench, python3.
set -euo pipefail
SECS=${1:-30}; TABLES=${2:-4}; SIZE=${3:-20000}; THREADS=${4:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DTS=${DTS:-$ROOT/build/dts}
DIR=$(mktemp -d /tmp/dts-sync-catchup-XXXXXX)
trap '"$ROOT/scripts/cluster.sh" --dir "$DIR" down >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

"$ROOT/scripts/cluster.sh" --dir "$DIR" up >/dev/null
ST=$("$ROOT/scripts/cluster.sh" --dir "$DIR" status)
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$ST"; }
SRC=$(j 'd["nodes"][0]["endpoint"]'); DEST=$(j 'd["destination"]["endpoint"]')
PWF=$(j 'd["password_file"]'); export DTS_BENCH_PW; DTS_BENCH_PW=$(cat "$PWF")
SRC_PORT=${SRC##*:}
src() { mariadb --no-defaults -uroot --socket="$DIR/node-1/mysqld.sock" -N -B -e "$1"; }
dst() { mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" -N -B -e "$1"; }
SB="sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=$SRC_PORT --mysql-user=dts --mysql-password=$DTS_BENCH_PW --mysql-db=sbtest --tables=$TABLES --table-size=$SIZE"
now() { date +%s.%N; }

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
SRC_SUM=$(src "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" | awk '{print $2}' | tr '\n' ' ')

reset_dest() {
  dst "STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS dts_meta; SET GLOBAL gtid_slave_pos=''" >/dev/null 2>&1 || true
  mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" <"$DIR/p0.sql"
}
checksum() { dst "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" | awk '{print $2}' | tr '\n' ' '; }

# True when the union of the task's checkpoint slots covers every sequence number in (P0, P1].
covered() {
  dst "SELECT applied FROM dts_meta.checkpoint WHERE task='catchup'" | python3 -c "
import sys
last = int('$P1'.split('-')[-1]); ivs = []
for line in sys.stdin:
    for part in line.strip().split(','):
        f = part.split(':')
        if f[0] != '0': continue
        for iv in f[1:]:
            a, _, b = iv.partition('-'); ivs.append((int(a), int(b or a)))
ivs.sort(); upto = int('$P0'.split('-')[-1])  # everything up to P0 is in the full data
for a, b in ivs:
    if a > upto + 1: break
    upto = max(upto, b)
sys.exit(0 if upto >= last else 1)"
}

dts_run() {  # parallelism
  reset_dest
  rm -rf "$DIR/data"; cp -r "$DIR/data0" "$DIR/data"
  sed -i "s/parallelism: [0-9]*/parallelism: $1/" "$DIR/task.yaml"
  local t0; t0=$(now)
  "$DTS" run "$DIR/task.yaml" --data-dir "$DIR/data" >"$DIR/dts$1.log" 2>&1 &
  local pid=$!
  until covered; do
    kill -0 $pid 2>/dev/null || { cat "$DIR/dts$1.log" >&2; exit 1; }
    sleep 0.05
  done
  local t1; t1=$(now)
  kill -TERM $pid; wait $pid || true
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

native() {  # threads mode
  reset_dest
  dst "DROP DATABASE dts_meta; SET GLOBAL slave_parallel_threads=$1; SET GLOBAL slave_parallel_mode='$2'; SET GLOBAL gtid_slave_pos='$P0';
       CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$SRC_PORT, MASTER_USER='repl', MASTER_PASSWORD='$DTS_BENCH_PW', MASTER_USE_GTID=slave_pos"
  local t0; t0=$(now)
  dst "START SLAVE"
  while [ "$(dst "SELECT @@gtid_slave_pos")" != "$P1" ]; do
    if dst "SHOW SLAVE STATUS\G" | grep -q "Last_SQL_Errno: [1-9]"; then dst "SHOW SLAVE STATUS\G" >&2; exit 1; fi
    sleep 0.05
  done
  local t1; t1=$(now)
  dst "STOP SLAVE; RESET SLAVE ALL" >/dev/null
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

D1=$(dts_run 1); C_D1=$(checksum)
D4=$(dts_run 4); C_D4=$(checksum)
N0=$(native 0 conservative); C_N0=$(checksum)
N4=$(native 4 optimistic); C_N4=$(checksum)
same() { [ "$1" = "$SRC_SUM" ] && echo yes || echo NO; }

printf '\n%-44s %10s %12s %10s\n' "catch-up of $TXNS transactions" "seconds" "txn/s" "= source"
row() { printf '%-44s %10s %12s %10s\n' "$1" "$2" "$(python3 -c "print(f'{$TXNS/max($2,0.001):.0f}')")" "$3"; }
row "native replica, slave_parallel_threads=0" "$N0" "$(same "$C_N0")"
row "native replica, 4 threads, optimistic" "$N4" "$(same "$C_N4")"
row "dts run, parallelism 1" "$D1" "$(same "$C_D1")"
row "dts run, parallelism 4" "$D4" "$(same "$C_D4")"
