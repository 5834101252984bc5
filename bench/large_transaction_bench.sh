#!/usr/bin/env bash
# One large transaction through `dts run` against a native MariaDB replica (issue 11, item 7):
#   1. a table of ROWS rows of about 500 bytes; a sync task loads it (full) and reaches
#      incremental; SIGTERM pauses it at P0; the destination (table + dts_meta) is dumped;
#   2. one UPDATE of every row on the source (about ROWS x 1 KB of row images): P0 -> P1;
#   3. each contender starts from the P0 dump and is timed until it has applied P1: dts with each
#      parallelism of WORKERS (from process start until the checkpoint covers P1; its peak RSS is
#      printed), the native replica serial (START SLAVE from gtid_slave_pos = P0 until P1),
#      ROUNDS times, alternating. CHECKSUM TABLE proves the same data as the source;
#   4. also the same row events replayed through one client session as BINLOG statements
#      (bench/lib/binlog_statements.py; the replica's row code, through a connection: the floor
#      of any applier that writes through SQL, such as dts). The destination's busiest thread is
#      printed for every contender (the replica's SQL thread, or the session).
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

src "CREATE DATABASE big; USE big; CREATE TABLE big.t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(500) NOT NULL);
     INSERT INTO big.t SELECT seq, 0, REPEAT(CHAR(65 + seq % 26), 480) FROM seq_1_to_$ROWS"
sync_to_p0 big
read -r P0_FILE P0_POS < <(src "SHOW MASTER STATUS" | awk '{print $1, $2}')
t0=$(now)
src "USE big; UPDATE big.t SET n = n + 1, pad = REVERSE(CONCAT(pad, 'x'))"
echo "source: UPDATE of $ROWS rows in $(python3 -c "print(f'{$(now)-$t0:.1f}')") s; binlog $(src "SHOW BINARY LOGS" | awk '{s+=$2} END {printf "%.0f MB", s/1048576}')" >&2
P1=$(src "SELECT @@gtid_binlog_pos")
TXNS=$(( ${P1##*-} - ${P0##*-} ))
echo "backlog: $P0 -> $P1 ($TXNS transaction)" >&2
REF_SUM=$(src "CHECKSUM TABLE big.t" | awk '{print $2}')

# The same row events through a client session (the floor of any applier that writes through a
# connection): the backlog's events as BINLOG statements, which the server applies with the
# replica's own row code, piped into one `mariadb` session.
python3 "$ROOT/bench/lib/binlog_statements.py" "$DIR/node-1/data/$P0_FILE" "$P0_POS" "$DIR/binlog.sql"
binlog_statements() {
  reset_dest
  local d0 th0 t0 t1; d0=$(cpu_of "$DEST_PID"); th0=$(threads_cpu "$DEST_PID"); t0=$(now)
  mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" --max-allowed-packet=64M big <"$DIR/binlog.sql"
  t1=$(now)
  echo "  BINLOG statements: $(python3 -c "print(f'{$t1-$t0:.2f}')") s; CPU seconds: destination $(echo "$(cpu_of "$DEST_PID") - $d0" | bc) (busiest thread $(busiest_since "$th0" "$DEST_PID"))" >&2
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

NAMES=("native replica, slave_parallel_threads=0" "its row events as BINLOG statements, 1 session")
CMDS=("native 0 conservative" "binlog_statements")
add_dts_contenders
run_rounds
echo "same data: CHECKSUM TABLE equals the source's"
