"""What scripts/gen-collations.py and scripts/gen-charsets.py share: reading a server (a running
one over its socket, or a throwaway MariaDB started for the read) and writing or checking the
generated file."""

import subprocess
import sys
import tempfile

import cluster


def read_server(args, prefix, read):
    """read(args) against args.socket / args.host when given, else against a throwaway server
    (Debian's mariadb-server, no networking) whose socket is put in args.socket meanwhile."""
    if args.socket or getattr(args, "host", None):
        return read(args)
    work = tempfile.mkdtemp(prefix=prefix)
    node = {"name": "gen", "port": cluster.free_port(), "server_id": 1, "role": "destination",
            "pid": None}
    try:
        cluster.start_server(work, node, extra_args=["--skip-networking"])
        args.socket = cluster.sock(work, "gen")
        return read(args)
    finally:
        if node["pid"] is not None:
            cluster.stop_server(work, node)
        subprocess.run(["rm", "-rf", work])
        args.socket = None


def server_label(version):
    return "MariaDB " + version if "MariaDB" in version else "server " + version


def write_or_check(path, text, command, tool, check):
    """Writes text to path, or with check compares and exits 1 when the file differs."""
    if check:
        with open(path) as f:
            if f.read() != text:
                sys.exit("%s: %s is stale (rerun %s)" % (tool, path, command))
        return False
    with open(path, "w") as f:
        f.write(text)
    return True
