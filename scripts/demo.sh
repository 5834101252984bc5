#!/usr/bin/env bash
# The main job for a new user: installs dependencies, builds dts, starts a local cluster
# (primary node-1, secondaries node-2 and node-3, a read/write endpoint, a destination) under
# .work/demo, registers it as instance "demo", puts sysbench load on it through the endpoint,
# starts `dts server` and creates, through its API, a sync task that reads the secondary node
# node-2, whose live progress `dts task status --watch` follows. After DEMO_SECONDS (default 60)
# the load stops, the task catches up, and the destination is compared with the primary table by
# table. The cluster and the server stay up (the API URL and token are printed); stop them with:
#   kill -TERM $(cat .work/demo/server.pid); scripts/cluster.sh --dir .work/demo down
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_SECONDS=${DEMO_SECONDS:-60}
bash scripts/install-deps.sh
bash scripts/build.sh dts

dir=$PWD/.work/demo
dts=$PWD/build/dts
if [ -f "$dir/server.pid" ]; then kill -TERM "$(cat "$dir/server.pid")" 2>/dev/null || true; sleep 1; fi
if [ -f "$dir/cluster.json" ]; then scripts/cluster.sh --dir "$dir" down >/dev/null; fi
rm -rf "$dir"
scripts/cluster.sh --dir "$dir" up >/dev/null
endpoint() { python3 -c "import json,sys; s=json.load(open('$dir/status.json')); print($1)"; }
scripts/cluster.sh --dir "$dir" status > "$dir/status.json"
EP=$(endpoint "s['endpoint']")
DEST=$(endpoint "s['destination']['endpoint']")
export DEMO_PW; DEMO_PW=$(cat "$dir/password")
echo "== local cluster: read/write endpoint $EP, destination $DEST"
scripts/cluster.sh --dir "$dir" status | python3 -c "
import json,sys
s=json.load(sys.stdin)
for n in s['nodes']: print('   %-7s %-9s %s  gtid %s' % (n['name'], n['role'], n['endpoint'], n.get('gtid_binlog_pos','')))"

echo "== registering the cluster as instance 'demo' (nodes discovered from the primary)"
cat > "$dir/instance.yaml" <<YAML
name: demo
endpoint: "$EP"
user: dts
password_env: DEMO_PW
YAML
"$dts" instance create -f "$dir/instance.yaml" --data-dir "$dir/dts"
"$dts" instance discover demo --data-dir "$dir/dts"

echo "== source data: sysbench, 4 tables x 20000 rows in database shop"
sb=(--db-driver=mysql --mysql-host="${EP%:*}" --mysql-port="${EP##*:}" --mysql-user=dts
    --mysql-password="$DEMO_PW" --mysql-db=shop --tables=4 --table-size=20000)
mariadb --no-defaults -h"${EP%:*}" -P"${EP##*:}" -udts -p"$DEMO_PW" -e "CREATE DATABASE shop"
sysbench oltp_write_only "${sb[@]}" prepare >/dev/null
( while true; do sysbench oltp_write_only "${sb[@]}" --threads=2 --rate=200 --time=0 \
    --mysql-ignore-errors=all run >/dev/null 2>&1 || sleep 0.5; done ) &
load=$!
cleanup() { kill "$load" 2>/dev/null || true; pkill -f "sysbench oltp_write_only.*--mysql-port=${EP##*:}" 2>/dev/null || true; }
trap cleanup EXIT

cat > "$dir/task.yaml" <<YAML
name: demo-sync
kind: sync
source: {instance: demo, secondary_node: node-2}
destination: {endpoint: "$DEST", user: dts, password_env: DEMO_PW}
objects:
  - database: shop
options:
  parallelism: 4
  retry_time_for_failed_connections: 30
YAML
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
export DTS_SERVER=http://127.0.0.1:$port
"$dts" server --data-dir "$dir/dts" --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
echo $! > "$dir/server.pid"
for _ in $(seq 1 100); do
  if curl -fsS "$DTS_SERVER/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "$DTS_SERVER/healthz" >/dev/null || { cat "$dir/server.log"; exit 1; }
export DTS_TOKEN; DTS_TOKEN=$(cat "$dir/dts/api-token")
echo "== dts server: API $DTS_SERVER/api/v1 (docs/api.md), metrics $DTS_SERVER/metrics"
echo "   token (Authorization: Bearer ...): $DTS_TOKEN"
echo "== creating sync task demo-sync through the API: reads secondary node node-2"
"$dts" task create -f "$dir/task.yaml" --start
echo "== following it with dts task status --watch for ${DEMO_SECONDS}s under load"
timeout --foreground "$DEMO_SECONDS" "$dts" task status demo-sync --watch || true
echo
echo "== stopping the load; waiting for the destination to catch up"
cleanup
same=0
for _ in $(seq 1 120); do
  a=$(mariadb --no-defaults -N -h"${EP%:*}" -P"${EP##*:}" -udts -p"$DEMO_PW" -e "CHECKSUM TABLE shop.sbtest1, shop.sbtest2, shop.sbtest3, shop.sbtest4" | awk '{print $2}' | tr '\n' ' ')
  b=$(mariadb --no-defaults -N -h"${DEST%:*}" -P"${DEST##*:}" -udts -p"$DEMO_PW" -e "CHECKSUM TABLE shop.sbtest1, shop.sbtest2, shop.sbtest3, shop.sbtest4" 2>/dev/null | awk '{print $2}' | tr '\n' ' ')
  if [ "$a" = "$b" ]; then same=1; break; fi
  sleep 1
done
echo
"$dts" task status demo-sync
if [ "$same" = 1 ]; then
  echo "== destination equals the primary (CHECKSUM TABLE of 4 tables: $a)"
else
  echo "== destination differs from the primary: source [$a] destination [$b]" >&2
  exit 1
fi
echo "== the server and the cluster are still up; try:"
echo "   export DTS_SERVER=$DTS_SERVER DTS_TOKEN=$DTS_TOKEN"
echo "   $dts task list; $dts task events demo-sync; curl -s \$DTS_SERVER/metrics | grep dts_task_"
echo "   stop them: kill -TERM \$(cat $dir/server.pid); scripts/cluster.sh --dir $dir down"
