# Shared by the one-shot benchmarks (full_load_bench.sh, verify_bench.sh); sourced, not run.
#
#   bench_cluster_up PREFIX   a harness cluster in $WORK/cluster: a fresh one in a new
#                             ${TMPDIR:-/tmp}/PREFIX-XXXXXX (torn down with $WORK on exit unless
#                             KEEP=1), or the one under $REUSE (kept). Needs ROOT; sets WORK CL
#                             SRC DST SRC_HOST SRC_PORT DST_HOST DST_PORT BENCH_PW (exported)
#                             and defines field (a JSON expression over the cluster's status),
#                             src/dst (the mariadb client as dts on node-1 / dest), root NODE ...
#                             (the client as root over NODE's socket) and now (seconds, float)
#   sysbench_prepare TABLES ROWS THREADS
#                             creates database sbtest on the source and fills it with sysbench's
#                             TABLES x ROWS rows

bench_cluster_up() {
  if [ -n "${REUSE:-}" ]; then WORK=$REUSE; else WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX"); fi
  CL=$WORK/cluster
  trap bench_cluster_cleanup EXIT
  [ -n "${REUSE:-}" ] || "$ROOT/scripts/cluster.sh" --dir "$CL" up >/dev/null
  STATUS=$("$ROOT/scripts/cluster.sh" --dir "$CL" status 2>/dev/null)
  SRC=$(field 'd["nodes"][0]["endpoint"]')
  DST=$(field 'd["destination"]["endpoint"]')
  export BENCH_PW; BENCH_PW=$(cat "$CL/password")
  SRC_HOST=${SRC%:*}; SRC_PORT=${SRC##*:}; DST_HOST=${DST%:*}; DST_PORT=${DST##*:}
}

bench_cluster_cleanup() {
  if [ "${KEEP:-0}" = 0 ]; then
    "$ROOT/scripts/cluster.sh" --dir "$CL" down >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1" <<<"$STATUS"; }
src() { mariadb --no-defaults -h"$SRC_HOST" -P"$SRC_PORT" -udts -p"$BENCH_PW" "$@"; }
dst() { mariadb --no-defaults -h"$DST_HOST" -P"$DST_PORT" -udts -p"$BENCH_PW" "$@"; }
root() { mariadb --no-defaults -uroot --socket="$CL/$1/mysqld.sock" "${@:2}"; }
now() { date +%s.%N; }

sysbench_prepare() {
  src -e "CREATE DATABASE sbtest"
  sysbench oltp_read_write --db-driver=mysql --mysql-host="$SRC_HOST" --mysql-port="$SRC_PORT" \
    --mysql-user=dts --mysql-password="$BENCH_PW" --mysql-db=sbtest --tables="$1" \
    --table-size="$2" --threads="$3" prepare >/dev/null
}
