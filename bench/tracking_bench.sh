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
# Prints records/s (every record: begin, rows, commit) and rows/s. The goal: (append) at least
# as fast as (raw), i.e. the log is never the bottleneck. PROFILE=FILE also records the server
# with `perf` during (append) and writes the flat profile (top symbols, overall and per thread)
# to FILE; PERF_DATA=FILE keeps perf's own data for `perf report -i FILE.<label>`.
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
APPENDS=()
for build in $BUILDS; do
  LABEL=${build%%=*}; BIN=${build#*=}
  [[ -x $BIN ]] || { echo "no dts build at $BIN" >&2; exit 1; }
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; fi
  DATA=$WORK/dts-data-$LABEL
  mkdir -p "$DATA"
  "$BIN" server --data-dir "$DATA" --listen 127.0.0.1:0 --kafka-listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q "Kafka consumers on" "$WORK/server.log" && break; sleep 0.2; done
  URL=$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | cut -d' ' -f3)
  KPORT=$(grep -o 'Kafka consumers on .* (port [0-9]*' "$WORK/server.log" | grep -o '[0-9]*$')
  export DTS_TOKEN
  DTS_TOKEN=$(cat "$DATA/api-token")
  H="Authorization: Bearer $DTS_TOKEN"
  api() { curl -sf -H "$H" "$URL/api/v1/$1" "${@:2}"; }
  cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$SERVER_PID/stat"; }
  CPU0=$(cpu_s)
  api "tasks?start=true" --data-binary "name: bench
kind: tracking
source: {endpoint: '$HOST:$PORT', user: $USER, password_env: DTS_IT_PW}
objects: [{database: sbtest}]
options: {start: '$START_GTID'}" >/dev/null
  PERF_PID=
  if [[ -n ${PROFILE:-} ]]; then
    perf record -F 499 -g -o "$WORK/perf.data" -p "$SERVER_PID" >/dev/null 2>&1 &
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
  for comm in dts dts-log-append dts-log-sync; do
    { echo "-- thread $comm"; perf report -i "$WORK/perf.data" --no-children --stdio --comm "$comm" -g none \
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
