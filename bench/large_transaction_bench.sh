#!/usr/bin/env bash
# One large transaction through `dts run` against a native MariaDB replica (issue 11, item 7):
#   1. a table of ROWS rows of about 500 bytes; a sync task loads it (full) and reaches
#      incremental; SIGTERM pauses it at P0; the destination (table + dts_meta) is dumped;
#   2. one UPDATE of every row on the source (about ROWS x 1 KB of row images): P0 -> P1;
#   3. each contender starts from the P0 dump and is timed until it has applied P1: dts with each
#      parallelism of WORKERS (from process start until the checkpoint covers P1; its peak RSS is
#      printed), the native replica serial (START SLAVE from gtid_slave_pos = P0 until P1),
#      ROUNDS times, alternating. CHECKSUM TABLE proves the same data as the source.
#   [WORKERS="4"] [ROUNDS=2] [BUILDS="label=path/to/dts ..."] bench/large_transaction_bench.sh [ROWS=1000000]
# Needs a built dts, mariadb-server, python3. Takes about 2 GB of disk in /tmp.
set -euo pipefail
ROWS=${1:-1000000}
WORKERS=${WORKERS:-4}
ROUNDS=${ROUNDS:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DTS=${DTS:-$ROOT/build/dts}
BUILDS=${BUILDS:-dts=$DTS}
for b in $BUILDS; do [ -x "${b#*=}" ] || { echo "no dts build at ${b#*=}" >&2; exit 1; }; done
TABLES=1; SIZE=0  # for catchup_cluster_up's sysbench line, unused here
source "$ROOT/bench/lib/catchup.sh"
catchup_cluster_up dts-large-txn
export DTS_BENCH_PW=$PW
# The secondaries would replay the same transaction on the same cores.
"$ROOT/scripts/cluster.sh" --dir "$DIR" stop-node node-2 >/dev/null
"$ROOT/scripts/cluster.sh" --dir "$DIR" stop-node node-3 >/dev/null
checksum() { dst "CHECKSUM TABLE big.t" | awk '{print $2}'; }

src "CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(500) NOT NULL);
     INSERT INTO big.t SELECT seq, 0, REPEAT(CHAR(65 + seq % 26), 480) FROM seq_1_to_$ROWS"
cat >"$DIR/task.yaml" <<EOT
name: catchup
kind: sync
source: {endpoint: '$SRC', user: dts, password_env: DTS_BENCH_PW}
destination: {endpoint: '$DEST', user: dts, password_env: DTS_BENCH_PW}
objects:
  - database: big
options: {parallelism: 4}
EOT
"$DTS" run "$DIR/task.yaml" --data-dir "$DIR/data" >"$DIR/dts0.log" 2>&1 &
PID=$!
until "$DTS" status --json --data-dir "$DIR/data" 2>/dev/null | grep -q '"phase": "incremental"'; do
  kill -0 $PID 2>/dev/null || { cat "$DIR/dts0.log" >&2; exit 1; }
  sleep 0.5
done
sleep 2
kill -TERM $PID; wait $PID
P0=$(src "SELECT @@gtid_binlog_pos")
mariadb-dump --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" --single-transaction --databases big dts_meta >"$DIR/p0.sql"
cp -r "$DIR/data" "$DIR/data0"
t0=$(now)
src "UPDATE big.t SET n = n + 1, pad = REVERSE(CONCAT(pad, 'x'))"
echo "source: UPDATE of $ROWS rows in $(python3 -c "print(f'{$(now)-$t0:.1f}')") s; binlog $(src "SHOW BINARY LOGS" | awk '{s+=$2} END {printf "%.0f MB", s/1048576}')" >&2
P1=$(src "SELECT @@gtid_binlog_pos")
TXNS=$(( ${P1##*-} - ${P0##*-} ))
echo "backlog: $P0 -> $P1 ($TXNS transaction)" >&2
REF_SUM=$(src "CHECKSUM TABLE big.t" | awk '{print $2}')

reset_dest() {
  dst "STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS big; DROP DATABASE IF EXISTS dts_meta; SET GLOBAL gtid_slave_pos=''" >/dev/null 2>&1 || true
  mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" <"$DIR/p0.sql"
}

NAMES=("native replica, slave_parallel_threads=0")
CMDS=("native 0 conservative")
for b in $BUILDS; do
  for w in $WORKERS; do
    label="dts run, parallelism $w"; [ "$BUILDS" = "dts=$DTS" ] || label="${b%%=*} run, parallelism $w"
    NAMES+=("$label"); CMDS+=("dts_run ${b#*=} $w")
  done
done
run_rounds
echo "same data: CHECKSUM TABLE equals the source's"
