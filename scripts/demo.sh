#!/usr/bin/env bash
# The main job for a new user: installs dependencies, builds dts, starts a local cluster
# (primary, two secondaries, a read/write endpoint, a destination) under .work/demo, and prints
# its endpoints. Tear down with: scripts/cluster.sh --dir .work/demo down
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
dir=.work/demo
if [ -f "$dir/cluster.json" ]; then scripts/cluster.sh --dir "$dir" down >/dev/null; fi
scripts/cluster.sh --dir "$dir" up >/dev/null
scripts/cluster.sh --dir "$dir" status
echo "cluster is up; user $(python3 -c "import json;print(json.load(open('$dir/cluster.json'))['user'])"), password in $dir/password"
echo "tear down with: scripts/cluster.sh --dir $dir down"
