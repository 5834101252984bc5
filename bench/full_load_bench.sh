#!/usr/bin/env bash
# Full-load benchmark: dts migration (full data only) vs mydumper+myloader vs the physical limit
# (server-side LOAD DATA of the same rows from files produced once), on the local cluster.
#   bench/full_load_bench.sh [--tables N] [--rows N] [--threads N] [--keep]
# Needs a built dts (build/dts), sysbench, mydumper/myloader, mariadb client. Never part of tests.
set -euo pipefail

TABLES=4
ROWS=250000
THREADS=4
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tables) TABLES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DTS=${DTS_BIN:-$ROOT/build/dts}
[ -x "$DTS" ] || { echo "build dts first ($DTS)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dts-bench-XXXXXX")
CL=$WORK/cluster
cleanup() {
  if [ "$KEEP" = 0 ]; then "$ROOT/scripts/cluster.sh" --dir "$CL" down >/dev/null 2>&1 || true; rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$ROOT/scripts/cluster.sh" --dir "$CL" up >/dev/null
STATUS=$("$ROOT/scripts/cluster.sh" --dir "$CL" status 2>/dev/null)
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1" <<<"$STATUS"; }
SRC=$(field 'd["nodes"][0]["endpoint"]')
DST=$(field 'd["destination"]["endpoint"]')
export BENCH_PW; BENCH_PW=$(cat "$CL/password")
SRC_HOST=${SRC%:*}; SRC_PORT=${SRC##*:}; DST_HOST=${DST%:*}; DST_PORT=${DST##*:}
src() { mariadb --no-defaults -h"$SRC_HOST" -P"$SRC_PORT" -udts -p"$BENCH_PW" "$@"; }
dst() { mariadb --no-defaults -h"$DST_HOST" -P"$DST_PORT" -udts -p"$BENCH_PW" "$@"; }
now() { date +%s.%N; }

echo "preparing $TABLES x $ROWS rows with sysbench ..." >&2
src -e "CREATE DATABASE sbtest"
sysbench oltp_read_write --db-driver=mysql --mysql-host="$SRC_HOST" --mysql-port="$SRC_PORT" --mysql-user=dts \
  --mysql-password="$BENCH_PW" --mysql-db=sbtest --tables="$TABLES" --table-size="$ROWS" --threads="$THREADS" \
  prepare >/dev/null
src -e "ANALYZE TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" >/dev/null
TOTAL=$((TABLES * ROWS))

# 1. dts: schema + full data, end to end.
cat > "$WORK/task.yaml" <<YAML
name: bench
kind: migration
source: {endpoint: '$SRC', user: dts, password_env: BENCH_PW}
destination: {endpoint: '$DST', user: dts, password_env: BENCH_PW}
objects: [{database: sbtest, rename_to: sbtest_dts}]
options: {incremental: false, parallelism: $THREADS}
YAML
echo "dts ..." >&2
t0=$(now)
"$DTS" run "$WORK/task.yaml" --data-dir "$WORK/dts-data" > "$WORK/dts.log" 2>&1 || { cat "$WORK/dts.log"; exit 1; }
t1=$(now)
DTS_S=$(echo "$t1 - $t0" | bc -l)
[ "$(dst -N -e "SELECT SUM(c) FROM (SELECT COUNT(*) c FROM sbtest_dts.sbtest1 $(for i in $(seq 2 "$TABLES"); do echo "UNION ALL SELECT COUNT(*) FROM sbtest_dts.sbtest$i"; done)) x")" = "$TOTAL" ] \
  || { echo "dts row count mismatch" >&2; exit 1; }

# 2. mydumper + myloader with the same threads.
echo "mydumper + myloader ..." >&2
t0=$(now)
mydumper -h "$SRC_HOST" -P "$SRC_PORT" -u dts -p "$BENCH_PW" -B sbtest -t "$THREADS" -r 100000 -o "$WORK/dump" >/dev/null 2>&1
t1=$(now)
myloader -h "$DST_HOST" -P "$DST_PORT" -u dts -p "$BENCH_PW" -d "$WORK/dump" -s sbtest -B sbtest_my -t "$THREADS" >/dev/null 2>&1
t2=$(now)
DUMP_S=$(echo "$t1 - $t0" | bc -l); LOAD_S=$(echo "$t2 - $t1" | bc -l); MY_S=$(echo "$t2 - $t0" | bc -l)
[ "$(dst -N -e "SELECT COUNT(*) FROM sbtest_my.sbtest1")" = "$ROWS" ] || { echo "myloader row count mismatch" >&2; exit 1; }

# 3. Physical limit: server-side LOAD DATA of files produced once (not timed), tables in parallel.
echo "LOAD DATA ..." >&2
mkdir -p "$CL/outfiles"; chmod 777 "$CL/outfiles"
dst -e "CREATE DATABASE sbtest_ld"
for i in $(seq 1 "$TABLES"); do
  src -e "SELECT * FROM sbtest.sbtest$i INTO OUTFILE '$CL/outfiles/sbtest$i.tsv'"
  dst -e "CREATE TABLE sbtest_ld.sbtest$i LIKE sbtest_dts.sbtest$i"
done
t0=$(now)
for i in $(seq 1 "$TABLES"); do
  dst -e "LOAD DATA INFILE '$CL/outfiles/sbtest$i.tsv' INTO TABLE sbtest_ld.sbtest$i" &
done
wait
t1=$(now)
LD_S=$(echo "$t1 - $t0" | bc -l)

row() { printf "%-28s %9.2f %12.0f %8.2f\n" "$1" "$2" "$(echo "$TOTAL / $2" | bc -l)" "$(echo "$MY_S / $2" | bc -l)"; }
echo
echo "full load of $TABLES x $ROWS sysbench rows ($TOTAL), $THREADS threads, $(nproc) cores"
printf "%-28s %9s %12s %8s\n" "method" "seconds" "rows/s" "speedup"
row "dts run (schema+full)" "$DTS_S"
row "mydumper+myloader" "$MY_S"
printf "  %-26s %9.2f\n  %-26s %9.2f\n" "(mydumper)" "$DUMP_S" "(myloader)" "$LOAD_S"
row "LOAD DATA INFILE (limit)" "$LD_S"
echo "speedup = (mydumper+myloader seconds) / seconds; target: dts >= 1.5"
