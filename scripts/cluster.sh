#!/usr/bin/env bash
# A local MariaDB cluster (primary, two GTID secondaries, a read/write endpoint through haproxy,
# and a destination server) under one work directory. See scripts/cluster.py for the details.
#   scripts/cluster.sh [--dir DIR] up|down|status|promote NODE|add NODE|remove NODE
exec python3 "$(dirname "$0")/cluster.py" "$@"
