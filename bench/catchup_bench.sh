#!/usr/bin/env bash
# Catch-up benchmark: a sysbench oltp_write_only backlog on the harness source, then the time a
# native MariaDB replica (serial, and parallel optimistic) and dts (parallelism 1 and 4) need to
# apply that same backlog into the destination server, each from the same starting data.
#   [WORKERS="1 2 4"] bench/catchup_bench.sh [SECONDS=30] [TABLES=4] [TABLE_SIZE=20000] [THREADS=8]
# Needs a built tree (build/catchup_apply_bench), mariadb-server, sysbench.
set -euo pipefail
SECS=${1:-30}; TABLES=${2:-4}; SIZE=${3:-20000}; THREADS=${4:-8}
WORKERS=${WORKERS:-1 2 4}  # dts apply parallelism values to measure
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HELPER=${HELPER:-$ROOT/build/bench/catchup_apply_bench}
[ -x "$HELPER" ] || HELPER=$ROOT/build/catchup_apply_bench
DIR=$(mktemp -d /tmp/dts-catchup-XXXXXX)
trap '"$ROOT/scripts/cluster.sh" --dir "$DIR" down >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

"$ROOT/scripts/cluster.sh" --dir "$DIR" up >/dev/null
ST=$("$ROOT/scripts/cluster.sh" --dir "$DIR" status)
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$ST"; }
SRC=$(j 'd["nodes"][0]["endpoint"]'); DEST=$(j 'd["destination"]["endpoint"]')
PWF=$(j 'd["password_file"]'); PW=$(cat "$PWF")
SRC_PORT=${SRC##*:}; DEST_PORT=${DEST##*:}
src() { mariadb --no-defaults -uroot --socket="$DIR/node-1/mysqld.sock" -N -B -e "$1"; }
dst() { mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" -N -B -e "$1"; }
SB="sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=$SRC_PORT --mysql-user=dts --mysql-password=$PW --mysql-db=sbtest --tables=$TABLES --table-size=$SIZE"

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
now() { date +%s.%N; }

native() {  # threads mode
  reset_dest
  dst "SET GLOBAL slave_parallel_threads=$1; SET GLOBAL slave_parallel_mode='$2'; SET GLOBAL gtid_slave_pos='$P0';
       CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$SRC_PORT, MASTER_USER='repl', MASTER_PASSWORD='$PW', MASTER_USE_GTID=slave_pos"
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

DEST_PID=$(pgrep -f "mariadbd .*--port=$DEST_PORT( |\$)" | head -1)
SRC_PID=$(pgrep -f "mariadbd .*--port=$SRC_PORT( |\$)" | head -1)
cpu_of() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
dts_run() {  # workers
  reset_dest
  local d0 s0; d0=$(cpu_of "$DEST_PID"); s0=$(cpu_of "$SRC_PID")
  local out; out=$(/usr/bin/time -f "%U %S" -o "$DIR/time" "$HELPER" "$SRC" "$DEST" dts "$PWF" "$P0" "$1" sbtest "bench$1")
  echo "dts workers=$1: $out; CPU seconds: destination $(echo "$(cpu_of "$DEST_PID") - $d0" | bc), source $(echo "$(cpu_of "$SRC_PID") - $s0" | bc), dts $(awk '{print $1 + $2}' "$DIR/time")" >&2
  python3 -c "import json; print(f'{json.loads(\"\"\"$out\"\"\")[\"seconds\"]:.2f}')"
}

checksum() { dst "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" | awk '{print $2}' | tr '\n' ' '; }

N0=$(native 0 conservative); C_N0=$(checksum)
N4=$(native 4 optimistic); C_N4=$(checksum)
declare -A D C_D
for w in $WORKERS; do D[$w]=$(dts_run "$w"); C_D[$w]=$(checksum); done
same() { [ "$1" = "$C_N0" ] && echo yes || echo NO; }

printf '\n%-44s %10s %12s %10s\n' "applier ($TXNS transactions)" "seconds" "txn/s" "same data"
row() { printf '%-44s %10s %12s %10s\n' "$1" "$2" "$(python3 -c "print(f'{$TXNS/max($2,0.001):.0f}')")" "$3"; }
row "native replica, slave_parallel_threads=0" "$N0" "yes"
row "native replica, 4 threads, optimistic" "$N4" "$(same "$C_N4")"
for w in $WORKERS; do row "dts, parallelism $w" "${D[$w]}" "$(same "${C_D[$w]}")"; done
