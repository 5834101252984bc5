#!/usr/bin/env bash
# Verification benchmark: `dts verify` vs pt-table-checksum (percona-toolkit) checksumming both
# servers, on the same data and machine, in one run.
#   bench/verify_bench.sh [--tables N] [--rows N] [--rounds N] [--before PATH] [--keep] [--reuse DIR]
# Needs a built dts (build/dts, or DTS_BIN), sysbench, the mariadb client and pt-table-checksum
# (Debian: apt-get install percona-toolkit; benches run on demand, so scripts/install-deps.sh does
# not install it). Never part of tests.
#
# Data: sysbench tables in sbtest on the source, copied to the destination with mariadb-dump.
# Contenders, each --rounds times (default 3), alternating; the report gives the median and best:
#   dts        `dts verify` of a migration task sbtest -> sbtest (both servers checksum each chunk
#              at the same time; default chunk time 0.5 s; the default row hash, CRC32 as pt's)
#   dts-p2     the same with --parallelism 2 (two tables at a time, each on its own connections)
#   dts-md5    dts with --hash md5 (64-bit row hashes)
#   before     with --before PATH: that build of dts (e.g. an older commit's), its defaults
#   pt-seq     pt-table-checksum against the source, then against the destination (what an
#              operator runs to checksum two servers that are not master and replica)
#   pt-par     both pt-table-checksum runs started at the same time
# pt-table-checksum runs with its defaults (CRC32, --chunk-time 0.5) as root over the socket,
# --recursion-method=none (no replicas to wait for) and --replicate percona.checksums.
set -euo pipefail

TABLES=4
ROWS=250000
ROUNDS=3
KEEP=0
REUSE=
BEFORE=
while [ $# -gt 0 ]; do
  case "$1" in
    --tables) TABLES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --reuse) REUSE=$2; KEEP=1; shift 2 ;;
    --before) BEFORE=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DTS=${DTS_BIN:-$ROOT/build/dts}
[ -x "$DTS" ] || { echo "build dts first ($DTS)" >&2; exit 1; }
command -v pt-table-checksum >/dev/null || { echo "install percona-toolkit first" >&2; exit 1; }
# shellcheck source=bench/lib/cluster.sh
. "$ROOT/bench/lib/cluster.sh"
bench_cluster_up dts-vbench

if [ -z "$REUSE" ]; then
  for n in node-1 dest; do root $n -e "SET GLOBAL innodb_buffer_pool_size = 1073741824"; done
  echo "preparing $TABLES x $ROWS rows with sysbench, copying them to the destination ..." >&2
  sysbench_prepare "$TABLES" "$ROWS" 2
  mariadb-dump --no-defaults -uroot --socket="$CL/node-1/mysqld.sock" --single-transaction \
    --databases sbtest | root dest
fi

cat > "$WORK/task.yaml" <<YAML
name: verify_bench
kind: migration
source: {endpoint: '$SRC', user: dts, password_env: BENCH_PW}
destination: {endpoint: '$DST', user: dts, password_env: BENCH_PW}
objects: [{database: sbtest}]
YAML

pt() {  # node, log
  pt-table-checksum "h=localhost,S=$CL/$1/mysqld.sock,u=root" --databases sbtest \
    --recursion-method=none --replicate percona.checksums --no-check-replication-filters \
    --no-version-check > "$2" 2>&1 || true
  grep -q "sbtest.sbtest$TABLES" "$2" || { echo "pt-table-checksum on $1 failed:" >&2; cat "$2" >&2; exit 1; }
}

declare -A TIMES
run_dts() {  # name, binary, extra arguments
  local m=$1 bin=$2 t0 t1 rc=0; shift 2
  t0=$(now)
  "$bin" verify "$WORK/task.yaml" --data-dir "$WORK/dts-data" "$@" > "$WORK/dts.out" 2> "$WORK/dts.log" || rc=$?
  t1=$(now)
  [ "$rc" = 0 ] || { echo "$m: dts verify exited $rc:" >&2; cat "$WORK/dts.out" "$WORK/dts.log" >&2; exit 1; }
  TIMES[$m]+=" $(echo "$t1 - $t0" | bc -l)"
}
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round (load $(cut -d' ' -f1 /proc/loadavg)) ..." >&2
  [ -z "$BEFORE" ] || run_dts before "$BEFORE"
  run_dts dts "$DTS"
  run_dts dts-p2 "$DTS" --parallelism 2
  run_dts dts-md5 "$DTS" --hash md5
  cp "$WORK/dts.out" "$WORK/dts-md5.out"

  t0=$(now); pt node-1 "$WORK/pt-src.log"; pt dest "$WORK/pt-dst.log"; t1=$(now)
  TIMES[pt-seq]+=" $(echo "$t1 - $t0" | bc -l)"

  t0=$(now)
  pt node-1 "$WORK/pt-src.log" & p1=$!
  pt dest "$WORK/pt-dst.log" & p2=$!
  wait $p1; wait $p2
  t1=$(now)
  TIMES[pt-par]+=" $(echo "$t1 - $t0" | bc -l)"
done

stat() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {printf "median %.2f s, best %.2f s", a[int((NR+1)/2)], a[1]}'; }
med() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "verify bench: $TABLES tables x $ROWS rows (sysbench), source $SRC, destination $DST, $ROUNDS rounds, $(nproc) cores"
METHODS="dts dts-p2 dts-md5 pt-seq pt-par"
[ -z "$BEFORE" ] || METHODS="before $METHODS"
for m in $METHODS; do printf "  %-8s %s\n" "$m" "$(stat "${TIMES[$m]}")"; done
for m in dts dts-p2; do
  printf "  pt-seq / %s = %.2fx, pt-par / %s = %.2fx (median)\n" \
    "$m" "$(echo "$(med "${TIMES[pt-seq]}") / $(med "${TIMES[$m]}")" | bc -l)" \
    "$m" "$(echo "$(med "${TIMES[pt-par]}") / $(med "${TIMES[$m]}")" | bc -l)"
done
[ -z "$BEFORE" ] || printf "  before / dts = %.2fx (median)\n" \
  "$(echo "$(med "${TIMES[before]}") / $(med "${TIMES[dts]}")" | bc -l)"
echo "  dts verify --hash md5: $(tail -1 "$WORK/dts-md5.out")"
