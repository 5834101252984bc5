# Shared by the catch-up benchmarks (catchup_bench.sh, sync_catchup_bench.sh); sourced, not run.
#
#   catchup_cluster_up NAME   a fresh harness cluster in /tmp/NAME-XXXXXX (torn down on exit);
#                             sets DIR SRC DEST SRC_PORT DEST_PORT PWF PW SRC_PID DEST_PID SB and
#                             defines src/dst (root SQL on node-1 / dest), now, cpu_of
#   checksum                  CHECKSUM TABLE of sbtest1..TABLES at the destination
#   native THREADS MODE       a native replica (slave_parallel_threads, slave_parallel_mode)
#                             applies P0 -> P1 from the state reset_dest (the caller's) leaves;
#                             prints its seconds
#   sync_to_p0 DB             writes $DIR/task.yaml (sync task 'catchup' of database DB,
#                             parallelism 4), runs it into incremental and pauses it there: sets
#                             P0 (the source position), dumps DB and dts_meta at the destination
#                             to $DIR/p0.sql and keeps the task's data directory as $DIR/data0
#   reset_dest                the destination back to $DIR/p0.sql (database DB), no replica
#   wait_covered PID          waits until task 'catchup's checkpoint covers (P0, P1]
#   dts_run DTS WORKERS       `DTS run` of $DIR/task.yaml (task 'catchup') from the state
#                             reset_dest and $DIR/data0 leave, with that parallelism, until
#                             wait_covered; prints its seconds
#                             (KEEP_LOGS=DIR: its log is copied there)
#   add_dts_contenders        appends `dts_run BUILD W` to CMDS (and its label to NAMES) for
#                             every build of BUILDS and parallelism of WORKERS
#   run_rounds                runs CMDS[i] (each prints seconds) ROUNDS times, contenders
#                             alternating within a round, and prints NAMES[i] with the median,
#                             the best, transactions per second (TXNS) and whether the data equals
#                             REF_SUM (default: what the first contender left)

catchup_cluster_up() {
  DIR=$(mktemp -d "/tmp/$1-XXXXXX")
  trap '"$ROOT/scripts/cluster.sh" --dir "$DIR" down >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
  "$ROOT/scripts/cluster.sh" --dir "$DIR" up >/dev/null
  local st; st=$("$ROOT/scripts/cluster.sh" --dir "$DIR" status)
  j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$st"; }
  SRC=$(j 'd["nodes"][0]["endpoint"]'); DEST=$(j 'd["destination"]["endpoint"]')
  PWF=$(j 'd["password_file"]'); PW=$(cat "$PWF")
  SRC_PORT=${SRC##*:}; DEST_PORT=${DEST##*:}
  SRC_PID=$(pgrep -f "mariadbd .*--port=$SRC_PORT( |\$)" | head -1)
  DEST_PID=$(pgrep -f "mariadbd .*--port=$DEST_PORT( |\$)" | head -1)
  SB="sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=$SRC_PORT --mysql-user=dts --mysql-password=$PW --mysql-db=sbtest --tables=$TABLES --table-size=$SIZE"
}
src() { mariadb --no-defaults -uroot --socket="$DIR/node-1/mysqld.sock" -N -B -e "$1"; }
dst() { mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" -N -B -e "$1"; }
now() { date +%s.%N; }
cpu_of() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
# Per-thread CPU: "tid ticks" for each thread of a process; busiest_since SNAPSHOT PID prints the
# CPU seconds of the thread that used the most since the snapshot (the applying thread: the
# native replica's SQL thread, or the destination session dts writes through).
threads_cpu() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"; done; }
busiest_since() { threads_cpu "$2" | awk -v snap="$1" 'BEGIN {n = split(snap, l, "\n"); for (i = 1; i <= n; i++) {split(l[i], f, " "); a[f[1]] = f[2]}} {d = $2 - a[$1]; if (d > m) m = d} END {printf "%.2f", m / 100}'; }
checksum() { dst "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$TABLES")" | awk '{print $2}' | tr '\n' ' '; }

native() {  # threads mode
  reset_dest
  dst "DROP DATABASE IF EXISTS dts_meta; SET GLOBAL slave_parallel_threads=$1; SET GLOBAL slave_parallel_mode='$2';
       SET GLOBAL gtid_slave_pos='$P0';
       CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$SRC_PORT, MASTER_USER='repl', MASTER_PASSWORD='$PW', MASTER_USE_GTID=slave_pos"
  local d0 s0 th0; d0=$(cpu_of "$DEST_PID"); s0=$(cpu_of "$SRC_PID"); th0=$(threads_cpu "$DEST_PID")
  local t0; t0=$(now)
  dst "START SLAVE"
  while [ "$(dst "SELECT @@gtid_slave_pos")" != "$P1" ]; do
    if dst "SHOW SLAVE STATUS\G" | grep -q "Last_SQL_Errno: [1-9]"; then dst "SHOW SLAVE STATUS\G" >&2; exit 1; fi
    sleep 0.05
  done
  local t1; t1=$(now)
  echo "  native replica ($1 threads, $2): $(python3 -c "print(f'{$t1-$t0:.2f}')") s; CPU seconds: destination $(echo "$(cpu_of "$DEST_PID") - $d0" | bc) (busiest thread $(busiest_since "$th0" "$DEST_PID")), source $(echo "$(cpu_of "$SRC_PID") - $s0" | bc)" >&2
  dst "STOP SLAVE; RESET SLAVE ALL" >/dev/null
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

sync_to_p0() {  # database
  DB=$1
  cat >"$DIR/task.yaml" <<EOF
name: catchup
kind: sync
source: {endpoint: '$SRC', user: dts, password_env: DTS_BENCH_PW}
destination: {endpoint: '$DEST', user: dts, password_env: DTS_BENCH_PW}
objects:
  - database: $DB
options: {parallelism: 4}
EOF
  "$DTS" run "$DIR/task.yaml" --data-dir "$DIR/data" >"$DIR/dts0.log" 2>&1 &
  local pid=$!
  until "$DTS" status --json --data-dir "$DIR/data" 2>/dev/null | grep -q '"phase": "incremental"'; do
    kill -0 $pid 2>/dev/null || { cat "$DIR/dts0.log" >&2; exit 1; }
    sleep 0.2
  done
  sleep 2
  kill -TERM $pid; wait $pid
  P0=$(src "SELECT @@gtid_binlog_pos")
  mariadb-dump --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" --single-transaction --databases "$DB" dts_meta >"$DIR/p0.sql"
  cp -r "$DIR/data" "$DIR/data0"
}

reset_dest() {
  dst "STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS dts_meta; SET GLOBAL gtid_slave_pos=''" >/dev/null 2>&1 || true
  mariadb --no-defaults -uroot --socket="$DIR/dest/mysqld.sock" <"$DIR/p0.sql"
}

# Waits until the union of the task's checkpoint slots covers every sequence number in (P0, P1],
# polling every 50 ms like the native contenders' loop does (one mariadb client per poll; the
# poller itself starts once, so it costs the machine no more than theirs). Fails if dts exits.
wait_covered() {  # dts pid
  python3 - "$1" "$P0" "$P1" "$DIR/dest/mysqld.sock" <<'PY'
import os, subprocess, sys, time
pid, p0, p1, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
first, last = int(p0.split('-')[-1]), int(p1.split('-')[-1])
def covered():
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={sock}", "-N", "-B", "-e",
                          "SELECT applied FROM dts_meta.checkpoint WHERE task='catchup'"],
                         capture_output=True, text=True).stdout
    ivs = []
    for line in out.split():
        for part in line.split(','):
            f = part.split(':')
            if f[0] != '0': continue
            for iv in f[1:]:
                a, _, b = iv.partition('-'); ivs.append((int(a), int(b or a)))
    upto = first  # everything up to P0 is in the full data
    for a, b in sorted(ivs):
        if a > upto + 1: break
        upto = max(upto, b)
    return upto >= last
def alive():  # an exited child stays a zombie until the shell waits for it
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False
while not covered():
    if not alive():
        sys.exit(1)
    time.sleep(0.05)
PY
}

dts_run() {  # dts parallelism
  reset_dest
  rm -rf "$DIR/data"; cp -r "$DIR/data0" "$DIR/data"
  sed -i "s/parallelism: [0-9]*/parallelism: $2/" "$DIR/task.yaml"
  local d0 s0 th0; d0=$(cpu_of "$DEST_PID"); s0=$(cpu_of "$SRC_PID"); th0=$(threads_cpu "$DEST_PID")
  local t0; t0=$(now)
  "$1" run "$DIR/task.yaml" --data-dir "$DIR/data" >"$DIR/dts$2.log" 2>&1 &
  local pid=$!
  wait_covered $pid || { cat "$DIR/dts$2.log" >&2; exit 1; }
  local t1; t1=$(now)
  local hwm; hwm=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  echo "  $1 parallelism $2: $(python3 -c "print(f'{$t1-$t0:.2f}')") s; CPU seconds: dts $(cpu_of $pid), destination $(echo "$(cpu_of "$DEST_PID") - $d0" | bc) (busiest thread $(busiest_since "$th0" "$DEST_PID")), source $(echo "$(cpu_of "$SRC_PID") - $s0" | bc); dts peak RSS ${hwm} MB" >&2
  kill -TERM $pid; wait $pid || true
  # KEEP_LOGS=DIR keeps each run's dts log (its timestamps show where the time went).
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS"; cp "$DIR/dts$2.log" "$KEEP_LOGS/$(basename "$1")-p$2-$(date +%s).log"; fi
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

add_dts_contenders() {
  local b w label
  for b in $BUILDS; do
    for w in $WORKERS; do
      label="dts run, parallelism $w"; [ "$BUILDS" = "dts=$DTS" ] || label="${b%%=*} run, parallelism $w"
      NAMES+=("$label"); CMDS+=("dts_run ${b#*=} $w")
    done
  done
}

run_rounds() {
  declare -A times same
  local r i t c
  for r in $(seq 1 "$ROUNDS"); do
    for i in "${!CMDS[@]}"; do
      echo "round $r: ${NAMES[$i]} (load $(cut -d' ' -f1 /proc/loadavg))" >&2
      t=$(eval "${CMDS[$i]}"); c=$(checksum)
      [ -z "${REF_SUM:-}" ] && REF_SUM=$c
      times[$i]+=" $t"
      [ "$c" = "$REF_SUM" ] || same[$i]=NO
    done
  done
  stat() {  # median|best, then times
    python3 -c "import statistics, sys; v = [float(x) for x in sys.argv[2:]]; print(f'{(statistics.median(v) if sys.argv[1] == \"median\" else min(v)):.2f}')" "$@"
  }
  printf '\n%-44s %8s %8s %10s %10s   %s\n' "catch-up of $TXNS transactions, $ROUNDS rounds" "median" "best" "txn/s" "same data" "all"
  for i in "${!CMDS[@]}"; do
    local m; m=$(stat median ${times[$i]})
    printf '%-44s %8s %8s %10s %10s   %s\n' "${NAMES[$i]}" "$m" "$(stat best ${times[$i]})" \
      "$(python3 -c "print(f'{$TXNS/max($m,0.001):.0f}')")" "${same[$i]:-yes}" "${times[$i]# }"
  done
}
