#!/usr/bin/env bash
# Tracking tasks (issue 15, item 7): how fast a change log is appended while a tracking task
# catches up a binlog backlog, and how fast one consumer reads it back, against the source's raw
# binlog transfer rate, all in the same run on the same warm server.
#
#   [BUILDS="before=path/to/dts after=path/to/dts"] bench/tracking_bench.sh [SECONDS] [TABLES] [TABLE_SIZE]
#
# Starts a harness cluster, writes a backlog with `sysbench oltp_write_only` for SECONDS (default
# 30), then:
#   (raw)    mariadb_rpl_fetch loop over exactly that binlog range: the bare fetch loop of
#            bench/binlog_stream_bench.sh (bench/binlog_stream_count_bench rpl), the rate at
#            which the binlog arrives; also (stream) dts' BinlogStream without decoding, and
#            (rawlog) the same loop writing every event unchanged to a file in CRC-checked 1 MiB
#            batches (binlog_stream_count_bench rpl-append): the physical limit of a log that
#            would store the binlog's own events instead of encoded records
#   (decode) `dts binlog tail --format count` over the same range: dts' reader alone
#   (ndjson) `dts binlog tail` printing NDJSON: the reader and a JSON encoding of every row
#   (append) a tracking task under `dts server` started at the backlog's first GTID: from its
#            incremental phase until its log holds the backlog's end (decode + encode + append +
#            fsync of every transaction), once per build of BUILDS, with the server's CPU time
#   (kafka)  kcat reading the whole log over the Kafka protocol (SASL/PLAIN), to its end
#   (kafka xN) CONSUMERS (default 4) kcat at once, each reading the whole log: what N consumer
#            groups reading the same new records cost
#   (http)   `dts subscribe --from earliest` (the consumer library) printing every record, and
#            curl of GET .../changes (the bare endpoint), to the end
#   (live)   after the stages above, once per build of BUILDS in a fresh server: a tracking
#            task of another sysbench database (sblive, prepared before the backlog) started at
#            the source's current position; once it is incremental and caught up, `sysbench
#            oltp_write_only` (4 threads) writes for LIVE_SECONDS (default 20) while the source's
#            GTID, the log's end offset and the task's replication_lag_seconds are sampled every
#            second; then the time from sysbench's end until the task's checkpoint is the
#            source's final GTID (drain). Prints the source's transactions/s, rows/s and
#            records/s, the records/s the log appended in the same window, the max and last lag,
#            the drain time, the server's CPU and, every second, what the source committed, what
#            the log appended, the lag and the transactions the log lacked
# Prints records/s (every record: begin, rows, commit) and rows/s. The goal: (append) at least
# as fast as (raw), i.e. the log is never the bottleneck; and live, (live): the log appends as
# fast as the source commits, its lag stays flat and it drains at once when the source stops.
# Last, per build, the catch-up ratio: (append)'s records/s over the records/s the source wrote
# at full speed in (live), and how long an hour of such writing takes to append.
# PROFILE=FILE also records the whole machine with `perf record -a` during (append) (attached to
# the server's pid, perf missed the appender thread the task starts later) and writes the flat
# profile (top symbols, overall and per thread name) to FILE; PERF_DATA=FILE keeps perf's own data
# for `perf report -i FILE.<label>` (e.g. `--comm dts-log-append --sort dso,sym`); PERF_RECORD
# replaces perf's sampling options (default `-F 999 -g`; `-F 499 --call-graph dwarf` gives dts's
# own call chains, which frame pointers do not).
set -euo pipefail
SECONDS_RUN=${1:-30}
TABLES=${2:-4}
TABLE_SIZE=${3:-20000}
CONSUMERS=${CONSUMERS:-4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DTS=$BUILD/dts
HELPER=$BUILD/bench/binlog_stream_count_bench
for b in "$DTS" "$HELPER"; do [[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 1; }; done
for c in sysbench kcat curl bc; do command -v $c >/dev/null || { echo "$c not installed" >&2; exit 1; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dts-tracking-bench-XXXXXX")
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  "$ROOT/scripts/cluster.sh" --dir "$WORK" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting cluster in $WORK" >&2
"$ROOT/scripts/cluster.sh" --dir "$WORK" up >/dev/null
STATUS=$("$ROOT/scripts/cluster.sh" --dir "$WORK" status 2>/dev/null)
read -r HOST PORT USER PWFILE < <(python3 -c '
import json,sys
s=json.loads(sys.argv[1])
n=[n for n in s["nodes"] if n["name"]=="node-1"][0]
h,p=n["endpoint"].rsplit(":",1)
print(h,p,s["user"],s["password_file"])' "$STATUS")
export DTS_PASSWORD DTS_IT_PW
DTS_PASSWORD=$(cat "$PWFILE")
DTS_IT_PW=$DTS_PASSWORD
# The secondaries would replay the backlog on the same cores while we measure.
"$ROOT/scripts/cluster.sh" --dir "$WORK" stop-node node-2 >/dev/null
"$ROOT/scripts/cluster.sh" --dir "$WORK" stop-node node-3 >/dev/null
q() { mariadb --no-defaults -h "$HOST" -P "$PORT" -u "$USER" -p"$DTS_PASSWORD" -N -B -e "$1"; }
now() { date +%s.%N; }

SB=(sysbench oltp_write_only --db-driver=mysql --mysql-host="$HOST" --mysql-port="$PORT" --mysql-user="$USER"
    --mysql-password="$DTS_PASSWORD" --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --threads=4)
q "CREATE DATABASE sbtest"
echo "== sysbench prepare ($TABLES x $TABLE_SIZE rows)" >&2
"${SB[@]}" prepare >/dev/null
# (live) writes to its own database, prepared now: after the backlog, the binlog gets nothing else.
SB_LIVE=("${SB[@]/--mysql-db=sbtest/--mysql-db=sblive}")
q "CREATE DATABASE sblive"
"${SB_LIVE[@]}" prepare >/dev/null
q "FLUSH BINARY LOGS"
read -r START_FILE START_POS _ < <(q "SHOW MASTER STATUS")
START_GTID=$(q "SELECT @@GLOBAL.gtid_binlog_pos")
echo "== sysbench oltp_write_only for ${SECONDS_RUN}s" >&2
"${SB[@]}" --time="$SECONDS_RUN" --report-interval=0 run >/dev/null
END_GTID=$(q "SELECT @@GLOBAL.gtid_binlog_pos")
echo "== backlog $START_GTID .. $END_GTID" >&2

# (raw), (stream): warm-up once, then the best of 3
"$HELPER" rpl "$HOST" "$PORT" "$USER" "$START_FILE" "$START_POS" >/dev/null
RAW_T=9999; STREAM_T=9999; RAWLOG_T=9999
for _ in 1 2 3; do
  read -r EVENTS BYTES t < <("$HELPER" rpl "$HOST" "$PORT" "$USER" "$START_FILE" "$START_POS")
  RAW_T=$(echo "if ($t < $RAW_T) $t else $RAW_T" | bc -l)
  read -r _ _ t < <("$HELPER" stream "$HOST" "$PORT" "$USER" "$START_FILE" "$START_POS")
  STREAM_T=$(echo "if ($t < $STREAM_T) $t else $STREAM_T" | bc -l)
  read -r _ _ t < <("$HELPER" rpl-append "$HOST" "$PORT" "$USER" "$START_FILE" "$START_POS" "$WORK/rawlog.bin")
  RAWLOG_T=$(echo "if ($t < $RAWLOG_T) $t else $RAWLOG_T" | bc -l)
  rm -f "$WORK/rawlog.bin"
done

# (decode), (ndjson): dts' own reader over the same range, counting rows, then printing NDJSON
# (what the log encodes, without compressing or writing it): the work (append) cannot avoid.
tail_range() {
  "$DTS" binlog tail "mysql://$USER@$HOST:$PORT" --from-file "$START_FILE" --from-pos "$START_POS" \
    --stop-at-end "$@"
}
tail_range --format count >/dev/null
DECODE_T=9999; NDJSON_T=9999
for _ in 1 2 3; do
  t0=$(now); tail_range --format count >/dev/null; t=$(echo "$(now) - $t0" | bc -l)
  DECODE_T=$(echo "if ($t < $DECODE_T) $t else $DECODE_T" | bc -l)
  t0=$(now); tail_range >/dev/null; t=$(echo "$(now) - $t0" | bc -l)
  NDJSON_T=$(echo "if ($t < $NDJSON_T) $t else $NDJSON_T" | bc -l)
done

# (append), then (kafka) and (http) on the log it wrote, once per build of BUILDS
# ("label=path/to/dts ...", default: this tree's dts), each in a fresh server and data dir.
BUILDS=${BUILDS:-dts=$DTS}
[[ -n ${PROFILE:-} ]] && : >"$PROFILE"
field() { python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))"; }
# `dts server` BIN with data dir DATA (fresh), stopping the previous one: sets SERVER_PID, URL,
# KPORT, DTS_TOKEN, H (the API's authorization header) and DATA.
start_server() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; fi
  DATA=$2
  mkdir -p "$DATA"
  "$1" server --data-dir "$DATA" --listen 127.0.0.1:0 --kafka-listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q "Kafka consumers on" "$WORK/server.log" && break; sleep 0.2; done
  URL=$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | cut -d' ' -f3)
  KPORT=$(grep -o 'Kafka consumers on .* (port [0-9]*' "$WORK/server.log" | grep -o '[0-9]*$')
  export DTS_TOKEN
  DTS_TOKEN=$(cat "$DATA/api-token")
  H="Authorization: Bearer $DTS_TOKEN"
}
api() { curl -sf -H "$H" "$URL/api/v1/$1" "${@:2}"; }
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$SERVER_PID/stat"; }
APPENDS=()
for build in $BUILDS; do
  LABEL=${build%%=*}; BIN=${build#*=}
  [[ -x $BIN ]] || { echo "no dts build at $BIN" >&2; exit 1; }
  start_server "$BIN" "$WORK/dts-data-$LABEL"
  CPU0=$(cpu_s)
  api "tasks?start=true" --data-binary "name: bench
kind: tracking
source: {endpoint: '$HOST:$PORT', user: $USER, password_env: DTS_IT_PW}
objects: [{database: sbtest}]
options: {start: '$START_GTID'}" >/dev/null
  PERF_PID=
  if [[ -n ${PROFILE:-} ]]; then
    perf record ${PERF_RECORD:--F 999 -g} -a -o "$WORK/perf.data" >/dev/null 2>&1 &
    PERF_PID=$!
  fi
# One poller (a process per poll would take CPU from the task it times): from the incremental
# phase until the checkpoint is the backlog's end, polled every 20 ms.
APPEND_T=$(python3 - "$URL" "$DTS_TOKEN" "$END_GTID" <<'PY'
import json, sys, time, urllib.request
url, token, end = sys.argv[1:4]
def get(path):
    req = urllib.request.Request(url + "/api/v1/tasks/bench" + path,
                                 headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
def log_end():
    try:
        return get("/groups/none")["end_offset"]
    except Exception:  # the log is opened once the incremental phase starts
        return 0
# The status' checkpoint is published every 500 ms; the log's end offset is live. The end is the
# first poll that saw the final end offset, known once the checkpoint is the backlog's end.
t0 = None
seen = []  # (time, end offset)
while True:
    st = get("")
    if st.get("phase") == "failed":
        sys.exit("task failed: " + json.dumps(st))
    if t0 is None and st.get("phase") == "incremental":
        t0 = time.monotonic()
    if t0 is not None:
        seen.append((time.monotonic(), log_end()))
        if st.get("checkpoint_gtid") == end:
            final = log_end()
            t1 = next(t for t, e in seen if e == final) if any(e == final for _, e in seen) else time.monotonic()
            print(f"{t1 - t0:.3f}")
            break
    time.sleep(0.02)
PY
)
APPEND_CPU=$(echo "$(cpu_s) - $CPU0" | bc -l)
cp "$WORK/server.log" "${SERVER_LOG:-/dev/null}" 2>/dev/null || true
if [[ -n $PERF_PID ]]; then
  kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
  { echo "== build $LABEL"; perf report -i "$WORK/perf.data" --no-children --stdio --percent-limit 1 -g none 2>/dev/null \
    | grep -v "^#" | grep -v "^$" | head -40 || true; } >>"$PROFILE"
  { echo "-- by thread"; perf report -i "$WORK/perf.data" --no-children --stdio --sort comm -g none 2>/dev/null \
      | grep -v "^#" | grep -v "^$" | head -12 || true; } >>"$PROFILE"
  if [[ -n ${PERF_DATA:-} ]]; then cp "$WORK/perf.data" "$PERF_DATA.$LABEL"; fi
  # The reader's thread keeps the binary's name (15 characters at most).
  for comm in "$(basename "$BIN" | cut -c1-15)" dts-log-append dts-log-sync; do
    { echo "-- thread $comm"; perf report -i "$WORK/perf.data" --no-children --stdio --comm "$comm" -g none --sort dso,sym \
        --percent-limit 1 2>/dev/null | grep -v "^#" | grep -v "^$" | head -25 || true; } >>"$PROFILE"
  done
fi
  RECORDS=$(api tasks/bench/groups/none | field end_offset)
  LOG_BYTES=$(du -sb "$DATA/changes/bench" | cut -f1)
  # (kafka), (http): one consumer reads this build's whole log
  # Every record's offset, one per line, from the beginning to the end of the log.
  kcat_all() {
    kcat -b "127.0.0.1:$KPORT" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
      -X sasl.username=bench -X sasl.password="$DTS_TOKEN" -C -t bench -p 0 -o beginning -e -q -f '%o\n'
  }
  kcat_all >/dev/null  # warm-up
  t0=$(now); C0=$(cpu_s)
  KN=$(kcat_all | wc -l)
  KAFKA_T=$(echo "$(now) - $t0" | bc -l); KAFKA_CPU=$(echo "$(cpu_s) - $C0" | bc -l)
  t0=$(now)
  SN=$("$DTS" subscribe bench --server "$URL" --from earliest --max-records "$RECORDS" | wc -l)
  SUB_T=$(echo "$(now) - $t0" | bc -l)
  t0=$(now)
  CN=$(curl -sN -H "$H" "$URL/api/v1/tasks/bench/changes?from=earliest&wait_ms=0" | wc -l)
  CURL_T=$(echo "$(now) - $t0" | bc -l)
  # (kafka xN): CONSUMERS kcat at once (consumer groups reading the same records)
  t0=$(now); C0=$(cpu_s)
  PIDS=()
  for _ in $(seq "$CONSUMERS"); do
    (kcat_all | wc -l >>"$WORK/kn") &
    PIDS+=($!)
  done
  wait "${PIDS[@]}"
  MULTI_T=$(echo "$(now) - $t0" | bc -l); MULTI_CPU=$(echo "$(cpu_s) - $C0" | bc -l)
  MN=$(awk '{s += $1} END {print s}' "$WORK/kn"); rm -f "$WORK/kn"
  PEAK=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  APPENDS+=("$LABEL $APPEND_T $APPEND_CPU $KAFKA_T $KN $SUB_T $SN $CURL_T $CN $MULTI_T $MN $KAFKA_CPU $MULTI_CPU $PEAK $LOG_BYTES")
done
ROWS=$(curl -sN -H "$H" "$URL/api/v1/tasks/bench/changes?from=earliest&wait_ms=0&ops=insert,update,delete" | wc -l)

# (live), once per build in a fresh server: a tracking task of sblive started at the source's
# current position; once it is incremental and caught up, sysbench writes as fast as it can for
# LIVE_SECONDS while one poller samples, once a second, the source's GTID, the log's end and the
# task's lag; then how long the task takes to reach the source's final GTID.
LIVE_SECONDS=${LIVE_SECONDS:-20}
LIVES=()
for build in $BUILDS; do
  LABEL=${build%%=*}; BIN=${build#*=}
  echo "== (live) [$LABEL] sysbench for ${LIVE_SECONDS}s against a tracking task" >&2
  start_server "$BIN" "$WORK/dts-live-$LABEL"
  api "tasks?start=true" --data-binary "name: live
kind: tracking
source: {endpoint: '$HOST:$PORT', user: $USER, password_env: DTS_IT_PW}
objects: [{database: sblive}]" >/dev/null
  OUT=$(python3 - "$URL" "$DTS_TOKEN" "$SERVER_PID" "$HOST" "$PORT" "$USER" \
    "${SB_LIVE[@]}" --time="$LIVE_SECONDS" --report-interval=0 run <<'PY'
import json, os, re, subprocess, sys, time, urllib.request
url, token, pid, host, port, user = sys.argv[1:7]
sysbench = sys.argv[7:]
def get(path=""):
    req = urllib.request.Request(url + "/api/v1/tasks/live" + path,
                                 headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
# One client session for every sample: a process per sample would read the GTID tens of ms late.
client = subprocess.Popen(["mariadb", "--no-defaults", "-h", host, "-P", port, "-u", user,
                           "-p" + os.environ["DTS_PASSWORD"], "-N", "-B", "--unbuffered"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
def source_gtid():
    client.stdin.write("SELECT @@GLOBAL.gtid_binlog_pos;\n")
    client.stdin.flush()
    return client.stdout.readline().strip()
def seqs(gtid):  # "D-S-N,..." -> {domain: N}
    return {int(g.split("-")[0]): int(g.split("-")[2]) for g in (gtid or "").split(",") if g.strip()}
def behind(target, checkpoint):  # transactions of target not yet in checkpoint
    c = seqs(checkpoint)
    return sum(max(0, n - c.get(d, 0)) for d, n in seqs(target).items())
def cpu():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
def log_end(st):
    return (st.get("tracking") or {}).get("log_end_offset", 0)
# Incremental and caught up: the stream's last packet was a heartbeat and nothing is queued.
deadline = time.monotonic() + 300
while True:
    st = get()
    if st.get("phase") == "failed":
        sys.exit("task failed: " + json.dumps(st))
    if st.get("phase") == "incremental" and st.get("replication_lag_seconds") == 0:
        break
    if time.monotonic() > deadline:
        sys.exit("the live task did not catch up: " + json.dumps(st))
    time.sleep(0.2)
g0 = source_gtid()
e0 = log_end(get())
cpu0, t0 = cpu(), time.monotonic()
run = subprocess.Popen(sysbench, stdout=subprocess.PIPE, text=True)
samples = []  # (seconds, source transactions since t0, log records since t0, lag s)
while True:
    try:  # sysbench exits during a wait: the window ends then, not at the next second
        run.wait(timeout=1 - (time.monotonic() - t0) % 1)
        break
    except subprocess.TimeoutExpired:
        pass
    st, g = get(), source_gtid()
    lag = st.get("replication_lag_seconds")
    samples.append((time.monotonic() - t0, behind(g, g0), log_end(st) - e0, -1 if lag is None else lag))
t1, cpu1 = time.monotonic(), cpu()
out = run.communicate()[0]
g1 = source_gtid()
e1 = log_end(get())
m = re.search(r"transactions:\s+\d+\s+\(([\d.]+) per sec", out)
sb_tps = float(m.group(1)) if m else -1
# Drained: the checkpoint (published every 500 ms) has the source's final GTID; the log's end
# offset is live, so the end is the first poll that saw the final end offset.
seen = []
while True:
    st = get()
    seen.append((time.monotonic(), log_end(st)))
    if behind(g1, st.get("checkpoint_gtid")) == 0:
        final = log_end(get())
        t2 = next((t for t, e in seen if e == final), time.monotonic())
        break
    time.sleep(0.02)
trend = ";".join(f"{t:.3f}:{n}:{r}:{lag:.3f}" for t, n, r, lag in samples) or "-"
client.stdin.close()
client.wait()
print(f"{t1 - t0:.3f} {behind(g1, g0)} {sb_tps} {e1 - e0} {final - e0} {max(0.0, t2 - t1):.3f} {cpu1 - cpu0:.2f}"
      f" {e0} {trend}")
PY
)
  read -r _ _ _ _ _ _ _ E0 _ <<<"$OUT"
  LIVE_ROWS=$(api "tasks/live/changes?from=$E0&wait_ms=0&ops=insert,update,delete" -N | wc -l)
  LIVES+=("$LABEL $OUT $LIVE_ROWS")
done

python3 - "$EVENTS" "$BYTES" "$RAW_T" "$STREAM_T" "$RECORDS" "$ROWS" "$DECODE_T" "$NDJSON_T" "$(IFS=,; echo "${APPENDS[*]}")" "$RAWLOG_T" "$CONSUMERS" <<'PY'
import sys
events, nbytes = int(sys.argv[1]), int(sys.argv[2])
raw, stream = map(float, sys.argv[3:5])
records, rows = int(sys.argv[5]), int(sys.argv[6])
decode, ndjson = float(sys.argv[7]), float(sys.argv[8])
consumers = int(sys.argv[11])
# Per build, in the order the loop above appends them.
builds = [a.split(" ") for a in sys.argv[9].split(",")]
builds = [(label, float(t), float(cpu), float(kafka), int(kn), float(sub), int(sn), float(curl), int(cn),
           float(multi), int(mn), float(kafka_cpu), float(multi_cpu), int(peak), int(log_bytes))
          for label, t, cpu, kafka, kn, sub, sn, curl, cn, multi, mn, kafka_cpu, multi_cpu, peak, log_bytes in builds]
print(f"backlog: {events} binlog events, {nbytes / 1e6:.1f} MB; log: {records} records ({rows} row changes)")
print(f"{'stage':52s} {'seconds':>8s} {'records/s':>11s} {'rows/s':>10s} {'MB/s':>7s} {'vs raw':>7s}")
def row(name, t, n=records):
    print(f"{name:52s} {t:8.3f} {n / t:11.0f} {rows / t:10.0f} {nbytes / 1e6 / t:7.1f} {raw / t * 100:6.0f}%")
row("(raw)    mariadb_rpl_fetch loop (binlog arrives)", raw)
row("(stream) dts BinlogStream, no decoding", stream)
row("(rawlog) fetch loop writing the events unchanged", float(sys.argv[10]))
row("(decode) dts binlog tail --format count", decode)
row("(ndjson) dts binlog tail (NDJSON to /dev/null)", ndjson)
for label, t, *_ in builds:
    row(f"(append) tracking task catching up [{label}]"[:52], t)
for label, _, _, kafka, kn, sub, sn, curl, cn, multi, mn, *_ in builds:
    row(f"(kafka)  kcat, whole log [{label}]"[:52], kafka, kn)
    row(f"(kafka)  {consumers} kcat at once, total [{label}]"[:52], multi, mn)
    row(f"(http)   dts subscribe [{label}]"[:52], sub, sn)
    row(f"(http)   curl GET .../changes [{label}]"[:52], curl, cn)
for label, _, cpu, _, kn, _, _, _, _, _, mn, kafka_cpu, multi_cpu, peak, log_bytes in builds:
    # The consumers' own CPU (kcat decoding and printing) is not counted: with several groups
    # per task, what matters is what each costs the server.
    print(f"[{label}] dts server CPU while one kcat reads the log: {kafka_cpu * 1e6 / kn:.2f} us per record;"
          f" while {consumers} read at once: {multi_cpu * 1e6 / mn:.2f} us per record delivered")
    print(f"[{label}] dts server CPU during (append): {cpu:.2f} s ({cpu * 1e6 / records:.2f} us per record);"
          f" log on disk {log_bytes / 1e6:.1f} MB ({log_bytes / records:.0f} bytes per record);"
          f" peak resident memory {peak / 1024:.0f} MB")
PY

python3 - "$(IFS=,; echo "${LIVES[*]}")" "$RECORDS" "$(IFS=,; echo "${APPENDS[*]}")" <<'PY'
import sys
records = int(sys.argv[2])
append_t = {a.split(" ")[0]: float(a.split(" ")[1]) for a in sys.argv[3].split(",")}
for live in sys.argv[1].split(","):
    label, t, txns, sb_tps, window, total, drain, cpu, _, trend, rows = live.split(" ")
    t, sb_tps, drain, cpu = float(t), float(sb_tps), float(drain), float(cpu)
    txns, window, total, rows = int(txns), int(window), int(total), int(rows)
    samples = [tuple(float(x) for x in s.split(":")) for s in trend.split(";")] if trend != "-" else []
    lags = [lag for _, _, _, lag in samples if lag >= 0]
    # Transactions the log lacked at each sample (every transaction here has as many records);
    # the source's GTID is read just after the log's end, so a few count as behind when none is.
    behind = [n - r * txns / max(total, 1) for _, n, r, _ in samples]
    print(f"[{label}] (live) source for {t:.1f} s: {txns / t:.0f} transactions/s (sysbench: {sb_tps:.0f}),"
          f" {rows / t:.0f} rows/s, {total / t:.0f} records/s; the log appended {window / t:.0f} records/s"
          f" in the same window ({window / max(total, 1) * 100:.0f}% of them)")
    print(f"[{label}] (live) lag: max {max(lags, default=-1):.3f} s, last {lags[-1] if lags else -1:.3f} s"
          f" (sampled every second), at most {max(behind, default=0):.0f} transactions behind;"
          f" drained {drain:.3f} s after the source stopped;"
          f" dts server CPU in the window {cpu:.2f} s ({cpu * 1e6 / max(window, 1):.2f} us per record)")
    # Per sample: what the source committed and the log appended since the previous one, and the lag.
    trend, prev = [], (0.0, 0, 0)
    for (s, n, r, lag), b in zip(samples, behind):
        trend.append(f"{(n - prev[1]) / (s - prev[0]):.0f}/{(r - prev[2]) / (s - prev[0]):.0f}/{lag:.3f}/{b:.0f}")
        prev = (s, n, r)
    print(f"[{label}] (live) each second, source transactions/s / log records/s / lag s / transactions behind: "
          + " ".join(trend))
    # How many times faster than the source writes at full speed the log appends a backlog: a
    # source-side outage of an hour (or a task started an hour back) is caught up in 60/x minutes.
    if label in append_t and total > 0:
        x = records / append_t[label] / (total / t)
        print(f"[{label}] catch-up: (append) {records / append_t[label]:.0f} records/s is {x:.1f}x what the"
              f" source wrote at full speed in (live): an hour of such writing is appended in {60 / x:.1f} min")
PY
