#!/usr/bin/env bash
# Full-load benchmark: dts migration (full data only) vs mydumper+myloader vs the physical limit
# (server-side LOAD DATA of the same rows from files produced once), on the local cluster.
#   bench/full_load_bench.sh [--tables N] [--rows N] [--threads N] [--rounds N] [--variants "auto load_data insert"] [--keep] [--reuse DIR] [--mydumper-rows N]
# Needs a built dts (build/dts, or DTS_BIN), sysbench, mydumper/myloader, mariadb client. Never part of tests.
# dts variants are values of the task option options.full.method, each into its own database:
# auto (the default: bulk_insert on MariaDB), bulk_insert, load_data, insert. Every method runs
# --rounds times (default 3), alternating; the report gives the median and the best.
# --keep leaves the cluster and its data in DIR; --reuse DIR runs again on it (no new sysbench data).
# mydumper/myloader run with the same threads and their default chunking (one file per table);
# --mydumper-rows N makes mydumper split tables into N-row files (-r N) instead.
set -euo pipefail

TABLES=4
ROWS=250000
THREADS=4
KEEP=0
VARIANTS="auto"
ROUNDS=3
REUSE=
MYDUMPER_ROWS=
while [ $# -gt 0 ]; do
  case "$1" in
    --tables) TABLES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --reuse) REUSE=$2; KEEP=1; shift 2 ;;
    --mydumper-rows) MYDUMPER_ROWS=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DTS=${DTS_BIN:-$ROOT/build/dts}
[ -x "$DTS" ] || { echo "build dts first ($DTS)" >&2; exit 1; }
# shellcheck source=bench/lib/cluster.sh
. "$ROOT/bench/lib/cluster.sh"
bench_cluster_up dts-bench
# CPU seconds (user + system) used so far by the server listening on a port, and by a client run
# under /usr/bin/time: wall time on this shared machine is noisy, CPU time much less so.
server_pid() { pgrep -f "mariadbd .*--port=$1( |\$)" | head -1; }
SRC_PID=$(server_pid "$SRC_PORT"); DST_PID=$(server_pid "$DST_PORT")
cpu_of() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
declare -A CPU_SRC CPU_DST CPU_CLIENT
mark() { M_SRC=$(cpu_of "$SRC_PID"); M_DST=$(cpu_of "$DST_PID"); }
since_mark() {  # method, then the client's /usr/bin/time output files
  local m=$1 c=0; shift
  CPU_SRC[$m]=$(echo "$(cpu_of "$SRC_PID") - $M_SRC" | bc -l)
  CPU_DST[$m]=$(echo "$(cpu_of "$DST_PID") - $M_DST" | bc -l)
  for f in "$@"; do c=$(echo "$c + $(tail -1 "$f" | awk '{print $1 + $2}')" | bc -l); done
  CPU_CLIENT[$m]=$c
}
CLIENT_TIME=(/usr/bin/time -f "%U %S")

# Servers sized like production for every contender: 1 GiB redo log and buffer pool. The test
# cluster's 48 MB redo log forces synchronous page flushing every few hundred thousand rows
# (measured: a 0.6 s stall with every process idle in a 3 s load), which says little about a
# real destination.
for n in node-1 dest; do
  root $n -e "SET GLOBAL innodb_log_file_size = 1073741824; SET GLOBAL innodb_buffer_pool_size = 1073741824"
done

TOTAL=$((TABLES * ROWS))
if [ -n "$REUSE" ]; then
  [ "$(src -N -e "SELECT COUNT(*) FROM sbtest.sbtest$TABLES")" = "$ROWS" ] || { echo "$REUSE has no $TABLES x $ROWS data" >&2; exit 1; }
  for db in $(dst -N -e "SHOW DATABASES LIKE 'sbtest%'") dts_meta; do dst -e "DROP DATABASE IF EXISTS $db"; done
  rm -rf "$WORK"/dts-data-* "$WORK/dump" "$CL/outfiles"
else
echo "preparing $TABLES x $ROWS rows with sysbench ..." >&2
sysbench_prepare "$TABLES" "$ROWS" "$THREADS"
src -e "ANALYZE TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" >/dev/null
fi

# Each measured run starts from the same state: the previous run's database dropped, and both
# servers' dirty pages flushed (innodb_max_dirty_pages_pct = 0 until none are left), so no run
# pays for the background flushing of the one before. Methods alternate within each round.
settle() {
  for n in node-1 dest; do
    root $n -N -e "SET GLOBAL innodb_io_capacity_max = 100000, innodb_io_capacity = 50000, innodb_max_dirty_pages_pct = 0"
  done
  for _ in $(seq 1 600); do
    d=$(( $(root node-1 -N -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | awk '{print $2}') + \
          $(root dest -N -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | awk '{print $2}') ))
    [ "$d" -lt 100 ] && break
    sleep 0.1
  done
  for n in node-1 dest; do
    root $n -N -e "SET GLOBAL innodb_max_dirty_pages_pct = 90, innodb_io_capacity = 200, innodb_io_capacity_max = 2000"
  done
  sleep 1
}
count_rows() {  # database
  dst -N -e "SELECT SUM(c) FROM (SELECT COUNT(*) c FROM $1.sbtest1 $(for i in $(seq 2 "$TABLES"); do echo "UNION ALL SELECT COUNT(*) FROM $1.sbtest$i"; done)) x"
}
declare -A TIMES  # method -> "t1 t2 ..."

run_dts() {  # method
  local v=$1
  cat > "$WORK/task-$v.yaml" <<YAML
name: bench_$v
kind: migration
source: {endpoint: '$SRC', user: dts, password_env: BENCH_PW}
destination: {endpoint: '$DST', user: dts, password_env: BENCH_PW}
objects: [{database: sbtest, rename_to: sbtest_$v}]
options: {incremental: false, parallelism: $THREADS, full: {method: $v}}
YAML
  dst -e "DROP DATABASE IF EXISTS sbtest_$v; DELETE FROM dts_meta.full_chunks WHERE task = 'bench_$v'; DELETE FROM dts_meta.full_tables WHERE task = 'bench_$v'" 2>/dev/null || true
  rm -rf "$WORK/dts-data-$v"; settle
  echo "dts ($v, load $(cut -d' ' -f1 /proc/loadavg)) ..." >&2
  mark; local t0; t0=$(now)
  "${CLIENT_TIME[@]}" -o "$WORK/time-$v" "$DTS" run "$WORK/task-$v.yaml" --data-dir "$WORK/dts-data-$v" \
    > "$WORK/dts-$v.log" 2>&1 || { cat "$WORK/dts-$v.log"; exit 1; }
  local t1; t1=$(now); since_mark "$v" "$WORK/time-$v"
  TIMES[$v]+=" $(echo "$t1 - $t0" | bc -l)"
  [ "$(count_rows "sbtest_$v")" = "$TOTAL" ] || { echo "dts ($v) row count mismatch" >&2; exit 1; }
  [ "$(dst -N -e "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'sbtest_$v' AND INDEX_NAME LIKE 'k\\_%'")" = "$TABLES" ] \
    || { echo "dts ($v): a secondary key k_N is missing" >&2; exit 1; }
}

run_my() {
  dst -e "DROP DATABASE IF EXISTS sbtest_my"; rm -rf "$WORK/dump"; settle
  echo "mydumper + myloader (load $(cut -d' ' -f1 /proc/loadavg)) ..." >&2
  mark; local t0; t0=$(now)
  "${CLIENT_TIME[@]}" -o "$WORK/time-mydumper" mydumper -h "$SRC_HOST" -P "$SRC_PORT" -u dts -p "$BENCH_PW" -B sbtest \
    -t "$THREADS" ${MYDUMPER_ROWS:+-r "$MYDUMPER_ROWS"} -o "$WORK/dump" >/dev/null 2>&1
  local t1; t1=$(now)
  "${CLIENT_TIME[@]}" -o "$WORK/time-myloader" myloader -h "$DST_HOST" -P "$DST_PORT" -u dts -p "$BENCH_PW" \
    -d "$WORK/dump" -s sbtest -B sbtest_my -t "$THREADS" >/dev/null 2>&1
  local t2; t2=$(now); since_mark my "$WORK/time-mydumper" "$WORK/time-myloader"
  DUMP_S=$(echo "$t1 - $t0" | bc -l); LOAD_S=$(echo "$t2 - $t1" | bc -l)
  TIMES[my]+=" $(echo "$t2 - $t0" | bc -l)"
  [ "$(count_rows sbtest_my)" = "$TOTAL" ] || { echo "myloader row count mismatch" >&2; exit 1; }
}

# Physical limit: server-side LOAD DATA INFILE of files written once (not timed), tables in
# parallel, into tables without their secondary keys, which are added afterwards: the same work
# at the destination as dts does, minus reading the source and moving the bytes.
run_ld() {
  if [ ! -f "$CL/outfiles/sbtest1.tsv" ]; then
    mkdir -p "$CL/outfiles"; chmod 777 "$CL/outfiles"
    for i in $(seq 1 "$TABLES"); do src -e "SELECT * FROM sbtest.sbtest$i INTO OUTFILE '$CL/outfiles/sbtest$i.tsv'"; done
  fi
  dst -e "DROP DATABASE IF EXISTS sbtest_ld; CREATE DATABASE sbtest_ld"
  for i in $(seq 1 "$TABLES"); do
    dst -e "CREATE TABLE sbtest_ld.sbtest$i LIKE sbtest_my.sbtest$i; ALTER TABLE sbtest_ld.sbtest$i DROP INDEX k_$i"
  done
  settle
  echo "LOAD DATA (load $(cut -d' ' -f1 /proc/loadavg)) ..." >&2
  mark; local t0; t0=$(now)
  for i in $(seq 1 "$TABLES"); do
    dst -e "LOAD DATA INFILE '$CL/outfiles/sbtest$i.tsv' INTO TABLE sbtest_ld.sbtest$i; ALTER TABLE sbtest_ld.sbtest$i ADD INDEX k_$i (k)" &
  done
  wait
  local t1; t1=$(now); since_mark ld
  TIMES[ld]+=" $(echo "$t1 - $t0" | bc -l)"
  [ "$(count_rows sbtest_ld)" = "$TOTAL" ] || { echo "LOAD DATA row count mismatch" >&2; exit 1; }
}

METHODS="$VARIANTS my ld"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r of $ROUNDS" >&2
  # Rotate the order each round so no method always runs first (after sysbench prepare).
  read -r -a all <<<"$METHODS"; k=$(( (r - 1) % ${#all[@]} ))
  order="${all[*]:$k} ${all[*]:0:$k}"
  for m in $order; do
    case "$m" in my) run_my ;; ld) [ -n "$(dst -N -e "SHOW DATABASES LIKE 'sbtest_my'")" ] || run_my; run_ld ;; *) run_dts "$m" ;; esac
  done
done
FIRST=${VARIANTS%% *}
stat_of() {  # "best"|"median" times...
  python3 -c "import sys,statistics; v=sorted(map(float,sys.argv[2:])); print(f'{(v[0] if sys.argv[1]==\"best\" else statistics.median(v)):.3f}')" "$@"
}
MY_S=$(stat_of median ${TIMES[my]}); MY_BEST=$(stat_of best ${TIMES[my]})
# Paired: the median over rounds of mydumper+myloader's time / this method's time in the same
# round (a round's contenders run back to back, so they share the machine's mood of the moment).
paired() {  # method
  python3 -c "import sys,statistics; a=sys.argv[1].split(); b=sys.argv[2].split(); print(f'{statistics.median(float(x)/float(y) for x, y in zip(a, b)):.2f}')" "${TIMES[my]}" "${TIMES[$1]}"
}
row() {  # label, method
  local label=$1 m=$2
  local med best; med=$(stat_of median ${TIMES[$m]}); best=$(stat_of best ${TIMES[$m]})
  printf "%-28s %9.2f %9.2f %12.0f %8.2f %8.2f %8s   %s\n" "$label" "$med" "$best" "$(echo "$TOTAL / $med" | bc -l)" \
    "$(echo "$MY_S / $med" | bc -l)" "$(echo "$MY_BEST / $best" | bc -l)" "$(paired "$m")" \
    "$(for t in ${TIMES[$m]}; do printf '%.2f ' "$t"; done)"
}
echo
echo "full load of $TABLES x $ROWS sysbench rows ($TOTAL), $THREADS threads, $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "servers: innodb_log_file_size 1 GiB, innodb_buffer_pool_size 1 GiB (source and destination)"
printf "%-28s %9s %9s %12s %8s %8s %8s   %s\n" "method" "median s" "best s" "rows/s" "speedup" "(best)" "(paired)" "every round, s"
for v in $VARIANTS; do row "dts run ($v)" "$v"; done
row "mydumper+myloader${MYDUMPER_ROWS:+ -r $MYDUMPER_ROWS}" my
printf "  %-26s %9.2f   (last round)\n  %-26s %9.2f\n" "(mydumper)" "$DUMP_S" "(myloader)" "$LOAD_S"
row "LOAD DATA INFILE (limit)" ld
echo "speedup = mydumper+myloader median / median (best: best / best; paired: median of the rounds' ratios); target: dts >= 1.5"
echo
printf "%-28s %9s %9s %9s %9s\n" "CPU seconds (last round)" "source" "dest" "client" "total"
cpu_row() { printf "%-28s %9.2f %9.2f %9.2f %9.2f\n" "$1" "${CPU_SRC[$2]}" "${CPU_DST[$2]}" "${CPU_CLIENT[$2]}" \
  "$(echo "${CPU_SRC[$2]} + ${CPU_DST[$2]} + ${CPU_CLIENT[$2]}" | bc -l)"; }
for v in $VARIANTS; do cpu_row "dts run ($v)" "$v"; done
cpu_row "mydumper+myloader${MYDUMPER_ROWS:+ -r $MYDUMPER_ROWS}" my
cpu_row "LOAD DATA INFILE (limit)" ld
printf "dts (%s) vs LOAD DATA limit: %.2f x the limit's median time\n" "$FIRST" "$(echo "$(stat_of median ${TIMES[$FIRST]}) / $(stat_of median ${TIMES[ld]})" | bc -l)"
