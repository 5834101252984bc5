#!/usr/bin/env bash
# Many sync tasks in one `dts server` against as many `dts run` processes, on one source under
# sysbench load. Task i copies database sbtest into its own destination database t<i>. For each
# mode: the tasks start on an idle source and finish their full load (every destination equals the
# source); sysbench oltp_write_only then runs SECONDS at RATE transactions/s; when it stops, the
# time until every destination equals the source again (CHECKSUM TABLE) is the slowest task's lag.
# Reported per task: CPU seconds of dts during load + drain, resident memory at the end of the load
# (and the peak, VmHWM), and that drain time.
#   [DTS=build/dts] bench/server_tasks_bench.sh [TASKS=20] [SECONDS=30] [TABLES=2] [TABLE_SIZE=10000] [RATE=200]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-20}
SECS=${2:-30}
TABLES=${3:-2}
SIZE=${4:-10000}
RATE=${5:-200}
DTS=${DTS:-$ROOT/build/dts}
[ -x "$DTS" ] || { echo "no dts build at $DTS" >&2; exit 1; }
# shellcheck source=lib/catchup.sh
source "$ROOT/bench/lib/catchup.sh"
catchup_cluster_up dts-server-tasks
export DTS_BENCH_PW=$PW
src "CREATE DATABASE sbtest"
$SB oltp_write_only prepare >/dev/null

tables_of() {  # database
  local out="" t
  for t in $(seq 1 "$TABLES"); do out+="${out:+,}\`$1\`.sbtest$t"; done
  echo "$out"
}
all_equal() {
  local want; want=$(src "CHECKSUM TABLE $(tables_of sbtest)" | awk '{print $2}' | tr '\n' ' ')
  local i
  for i in $(seq 1 "$N"); do
    [ "$(dst "CHECKSUM TABLE $(tables_of "t$i")" 2>/dev/null | awk '{print $2}' | tr '\n' ' ')" = "$want" ] || return 1
  done
}
wait_equal() {  # timeout seconds
  local deadline=$(($(date +%s) + $1))
  until all_equal; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "destinations still differ after $1 s" >&2; return 1; }
    sleep 0.2
  done
}
cpu_sum() { local p s=0; for p in $PIDS; do s=$(python3 -c "print($s + $(cpu_of "$p"))"); done; echo "$s"; }
mem_sum() {  # VmRSS | VmHWM, in MB
  local p s=0
  for p in $PIDS; do s=$((s + $(awk -v k="$1:" '$1 == k {print $2}' "/proc/$p/status"))); done
  echo $((s / 1024))
}

declare -A RESULT
for mode in server run; do
  dst "DROP DATABASE IF EXISTS dts_meta" >/dev/null
  for i in $(seq 1 "$N"); do dst "DROP DATABASE IF EXISTS t$i" >/dev/null; done
  data=$DIR/data-$mode
  rm -rf "$data"
  mkdir -p "$data"
  for i in $(seq 1 "$N"); do
    cat >"$DIR/task-$i.yaml" <<EOF
name: t$i
kind: sync
source: {endpoint: '$SRC', user: dts, password_env: DTS_BENCH_PW}
destination: {endpoint: '$DEST', user: dts, password_env: DTS_BENCH_PW}
objects:
  - {database: sbtest, rename_to: t$i}
options: {parallelism: 2}
EOF
  done
  if [ "$mode" = server ]; then
    port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    "$DTS" server --data-dir "$data" --listen "127.0.0.1:$port" >"$DIR/server.log" 2>&1 &
    PIDS=$!
    until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.1; done
    export DTS_SERVER=http://127.0.0.1:$port DTS_TOKEN; DTS_TOKEN=$(cat "$data/api-token")
    for i in $(seq 1 "$N"); do "$DTS" task create -f "$DIR/task-$i.yaml" --start >/dev/null; done
  else
    PIDS=""
    for i in $(seq 1 "$N"); do
      "$DTS" run "$DIR/task-$i.yaml" --data-dir "$data" >"$DIR/run-$i.log" 2>&1 &
      PIDS+=" $!"
    done
  fi
  wait_equal 600
  echo "$mode: $N tasks through their full load; load for ${SECS}s at $RATE txn/s" >&2
  cpu0=$(cpu_sum)
  $SB --threads=4 --rate="$RATE" --time="$SECS" oltp_write_only run >/dev/null
  rss=$(mem_sum VmRSS)
  t0=$(now)
  wait_equal 600
  drain=$(python3 -c "print(f'{$(now) - $t0:.2f}')")
  cpu=$(python3 -c "print(f'{$(cpu_sum) - $cpu0:.2f}')")
  hwm=$(mem_sum VmHWM)
  # shellcheck disable=SC2086
  kill -TERM $PIDS
  for p in $PIDS; do wait "$p" || true; done
  unset DTS_SERVER DTS_TOKEN
  RESULT[$mode]=$(python3 -c "
n=$N; print(f'{$cpu/n:8.3f} {$rss/n:10.1f} {$hwm/n:10.1f} {$drain:10.2f}   ({$cpu:.2f} CPU s, {$rss} MB, {$hwm} MB peak in all)')")
done

echo
echo "$N sync tasks, sysbench ${SECS}s at $RATE txn/s on $TABLES x $SIZE rows"
echo "mode                 CPU s/task  RSS MB/task  peak MB/task  drain s"
printf "%-20s %s\n" "one dts server" "${RESULT[server]}"
printf "%-20s %s\n" "$N dts run" "${RESULT[run]}"
