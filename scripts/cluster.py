#!/usr/bin/env python3
"""A local MariaDB cluster for tests, demos and benchmarks (see scripts/cluster.sh).

Everything lives under one work directory: data directories, sockets, logs, the proxy's
configuration and a state file (cluster.json). Ports are free loopback ports picked at `up`,
so several clusters can run side by side. `down` stops only the processes this directory's
state file records, after checking each one's command line still names this directory.

Topology after `up`:
  node-1   primary (writable), GTID binlog
  node-2   secondary of node-1 (read_only, log_slave_updates)
  node-3   secondary of node-1
  dest     a separate server, the destination of tasks (no replication)
  endpoint a haproxy TCP proxy, the read/write endpoint: always routes to the current primary
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

STATE = "cluster.json"
USER = "dts"
REPL_USER = "repl"


def die(msg):
    print("cluster: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(workdir):
    path = os.path.join(workdir, STATE)
    if not os.path.exists(path):
        die(f"no cluster in {workdir} (run 'up' first)")
    with open(path) as f:
        return json.load(f)


def save(workdir, state):
    tmp = os.path.join(workdir, STATE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, os.path.join(workdir, STATE))


def node_dir(workdir, name):
    return os.path.join(workdir, name)


def sock(workdir, name):
    return os.path.join(node_dir(workdir, name), "mysqld.sock")


def sql(workdir, name, statement, check=True, timeout=120):
    """Runs SQL as root over the node's unix socket; returns rows as lists of strings."""
    cmd = ["mariadb", "--no-defaults", "-uroot", "--socket=" + sock(workdir, name),
           "--batch", "--skip-column-names", "-e", statement]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        if check:
            die(f"{name}: {statement[:200]!r} failed: {r.stderr.strip()}")
        return None
    return [line.split("\t") for line in r.stdout.splitlines()]


def sql_value(workdir, name, statement, check=True):
    rows = sql(workdir, name, statement, check=check)
    if not rows:
        return None
    return rows[0][0]


def alive(pid, workdir):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode(errors="replace")
    except OSError:
        return False
    return workdir in cmdline


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def tmp_dir(workdir):
    """The cluster's own tmpdir, for the bootstrap and every server: two bootstraps at once (test
    binaries run side by side) have collided on a temporary table in the shared /tmp ("Could not
    remove temporary table ... Aborting")."""
    tmp = os.path.join(workdir, ".tmp")
    os.makedirs(tmp, exist_ok=True)
    return tmp


def install_template(workdir):
    """Initialises one data directory; nodes start from copies of it (much faster)."""
    tmpl = os.path.join(workdir, ".template")
    if os.path.exists(os.path.join(tmpl, "mysql")):
        return tmpl
    os.makedirs(tmpl, exist_ok=True)
    cmd = ["mariadb-install-db", "--no-defaults", "--datadir=" + tmpl, "--tmpdir=" + tmp_dir(workdir),
           "--auth-root-authentication-method=normal", "--skip-test-db",
           "--innodb-log-file-size=48M"]
    if os.geteuid() == 0:
        cmd.append("--user=root")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        die("mariadb-install-db failed: " + r.stdout[-2000:] + r.stderr[-2000:])
    return tmpl


def start_server(workdir, node, extra_args=()):
    d = node_dir(workdir, node["name"])
    data = os.path.join(d, "data")
    if not os.path.exists(data):
        shutil.copytree(install_template(workdir), data, symlinks=True)
    args = ["mariadbd", "--no-defaults", "--datadir=" + data,
            "--port=%d" % node["port"], "--bind-address=127.0.0.1",
            "--socket=" + sock(workdir, node["name"]),
            "--pid-file=" + os.path.join(d, "mysqld.pid"),
            "--log-error=" + os.path.join(d, "error.log"),
            "--server-id=%d" % node["server_id"],
            "--skip-name-resolve", "--max-connections=1000",
            # Secondaries announce their direct endpoint (SHOW SLAVE HOSTS; dts instance discover).
            "--report-host=127.0.0.1", "--report-port=%d" % node["port"],
            "--performance-schema=OFF", "--innodb-buffer-pool-size=256M",
            "--innodb-log-file-size=48M",
            # Fast enough for tests on a shared 2-core machine; dts' exactly-once guarantee does
            # not depend on the source's durability settings.
            "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
            "--innodb-use-native-aio=0", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci", "--max-allowed-packet=256M",
            "--secure-file-priv=" + workdir, "--tmpdir=" + tmp_dir(workdir),
            "--local-infile=1"]
    if node["role"] != "destination":
        args += ["--log-bin=" + os.path.join(data, "binlog"), "--binlog-format=ROW",
                 "--binlog-row-image=FULL", "--log-slave-updates=ON", "--gtid-strict-mode=ON",
                 "--gtid-domain-id=0", "--relay-log=" + os.path.join(data, "relay"),
                 "--slave-net-timeout=10", "--expire-logs-days=0"]
    if os.geteuid() == 0:
        args.append("--user=root")
    args += list(extra_args)
    log = open(os.path.join(d, "stdout.log"), "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    node["pid"] = proc.pid
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            with open(os.path.join(d, "error.log"), errors="replace") as f:
                die(f"{node['name']} exited at start:\n" + f.read()[-3000:])
        if sql(workdir, node["name"], "SELECT 1", check=False) is not None:
            return
        time.sleep(0.1)
    die(f"{node['name']} did not start within 60 s (see {d}/error.log)")


def stop_server(workdir, node, timeout=60):
    pid = node.get("pid")
    if not pid or not alive(pid, workdir):
        node["pid"] = None
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and alive(pid, workdir):
        time.sleep(0.05)
    if alive(pid, workdir):
        os.kill(pid, signal.SIGKILL)
        while alive(pid, workdir):
            time.sleep(0.05)
    node["pid"] = None


def setup_users(workdir, name, password):
    # Not logged: every node gets the same accounts on its own, so the users never
    # travel through replication (and a node added later has them too).
    grants = ("SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, "
              "CREATE VIEW, SHOW VIEW, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, "
              "TRIGGER, CREATE ROUTINE, ALTER ROUTINE, EVENT, RELOAD, PROCESS, FILE, "
              "REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, REPLICATION MASTER ADMIN")
    sql(workdir, name,
        "SET sql_log_bin=0;"
        f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{password}';"
        f"ALTER USER '{USER}'@'%' IDENTIFIED BY '{password}';"
        f"GRANT {grants} ON *.* TO '{USER}'@'%';"
        f"CREATE USER IF NOT EXISTS '{REPL_USER}'@'%' IDENTIFIED BY '{password}';"
        f"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{REPL_USER}'@'%';"
        "FLUSH PRIVILEGES;")


def replicate_from(workdir, state, name, primary):
    p = node_by_name(state, primary)
    sql(workdir, name,
        "STOP SLAVE; "
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={p['port']}, "
        f"MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{state['password']}', "
        "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE;")


def node_by_name(state, name):
    for n in state["nodes"]:
        if n["name"] == name:
            return n
    die(f"no node named {name!r} (nodes: {', '.join(n['name'] for n in state['nodes'])})")


def write_proxy(workdir, state):
    primary = node_by_name(state, state["primary"])
    cfg = os.path.join(workdir, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 24h
    timeout server 24h
listen rw
    bind 127.0.0.1:{state['endpoint_port']}
    server primary 127.0.0.1:{primary['port']}
""")
    pidfile = os.path.join(workdir, "haproxy.pid")
    old = read_pid(pidfile)
    cmd = ["haproxy", "-f", cfg, "-D", "-p", pidfile]
    if old and alive(old, workdir):
        # A reload: the new process takes the listening port over; the old one ends with its
        # connections (and those to a stopped primary break, as after a real failover).
        cmd += ["-sf", str(old)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        die("haproxy failed: " + r.stderr)
    state["proxy_pid"] = read_pid(pidfile)


def wait_endpoint(state, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1",
                            "-P%d" % state["endpoint_port"], "-u" + USER,
                            "-p" + state["password"], "-N", "-e", "SELECT @@server_id"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == str(
                node_by_name(state, state["primary"])["server_id"]):
            return
        time.sleep(0.1)
    die("read/write endpoint does not reach the primary")


def cmd_up(workdir):
    if os.path.exists(os.path.join(workdir, STATE)):
        state = load(workdir)
        if any(n.get("pid") and alive(n["pid"], workdir) for n in all_servers(state)):
            die(f"a cluster is already running in {workdir} (run 'down' first)")
    os.makedirs(workdir, exist_ok=True)
    workdir = os.path.realpath(workdir)
    password = secrets.token_hex(12)
    with open(os.path.join(workdir, "password"), "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(password)
    state = {"dir": workdir, "user": USER, "password": password,
             "endpoint_port": free_port(), "primary": "node-1", "next_server_id": 4,
             "nodes": [], "destination": None}
    ports = set([state["endpoint_port"]])

    def new_port():
        while True:
            p = free_port()
            if p not in ports:
                ports.add(p)
                return p
    for i, name in enumerate(["node-1", "node-2", "node-3"], start=1):
        state["nodes"].append({"name": name, "port": new_port(), "server_id": i,
                               "role": "primary" if i == 1 else "secondary", "pid": None})
    state["destination"] = {"name": "dest", "port": new_port(), "server_id": 100,
                            "role": "destination", "pid": None}
    for n in all_servers(state):
        os.makedirs(node_dir(workdir, n["name"]), exist_ok=True)
    install_template(workdir)
    save(workdir, state)
    for n in all_servers(state):
        start_server(workdir, n)
        save(workdir, state)
        setup_users(workdir, n["name"], password)
    for n in state["nodes"]:
        if n["role"] == "secondary":
            sql(workdir, n["name"], "SET GLOBAL read_only=ON")
            replicate_from(workdir, state, n["name"], "node-1")
            n["master"] = "node-1"
    write_proxy(workdir, state)
    save(workdir, state)
    wait_endpoint(state)
    cmd_status(workdir)


def all_servers(state):
    out = list(state["nodes"])
    if state.get("destination"):
        out.append(state["destination"])
    return out


def gtid_pos(workdir, name):
    return sql_value(workdir, name, "SELECT @@gtid_binlog_pos", check=False) or ""


def cmd_status(workdir, out=sys.stdout):
    state = load(workdir)
    nodes = []
    for n in state["nodes"]:
        running = bool(n.get("pid")) and alive(n["pid"], workdir)
        entry = {"name": n["name"], "role": n["role"] if running else "stopped",
                 "endpoint": "127.0.0.1:%d" % n["port"], "server_id": n["server_id"],
                 "running": running}
        if running:
            entry["gtid_binlog_pos"] = gtid_pos(workdir, n["name"])
            entry["gtid_slave_pos"] = sql_value(workdir, n["name"], "SELECT @@gtid_slave_pos",
                                                check=False) or ""
            entry["read_only"] = sql_value(workdir, n["name"], "SELECT @@read_only",
                                           check=False) == "1"
            if n["role"] == "secondary":
                entry["replicating_from"] = n.get("master")
        nodes.append(entry)
    d = state["destination"]
    dest = {"name": d["name"], "endpoint": "127.0.0.1:%d" % d["port"],
            "running": bool(d.get("pid")) and alive(d["pid"], workdir)}
    doc = {"dir": state["dir"], "user": state["user"],
           "password_file": os.path.join(state["dir"], "password"),
           "endpoint": "127.0.0.1:%d" % state["endpoint_port"], "primary": state["primary"],
           "nodes": nodes, "destination": dest}
    json.dump(doc, out, indent=2)
    out.write("\n")


def wait_caught_up(workdir, name, pos, timeout=120):
    if not pos:
        return
    r = sql_value(workdir, name, f"SELECT MASTER_GTID_WAIT('{pos}', {timeout})")
    if r != "0":
        die(f"{name} did not catch up to {pos} within {timeout} s")


def cmd_promote(workdir, name):
    state = load(workdir)
    target = node_by_name(state, name)
    old = node_by_name(state, state["primary"])
    if target["name"] == old["name"]:
        die(f"{name} is already the primary")
    if not (target.get("pid") and alive(target["pid"], workdir)):
        die(f"{name} is not running")
    # 1. Stop writes on the old primary (accounts without READ ONLY ADMIN, like dts and
    #    sysbench's, are refused from here on), then read its final position.
    sql(workdir, old["name"], "SET GLOBAL read_only=ON")
    final = gtid_pos(workdir, old["name"])
    # 2. Every running secondary catches up to it, so nothing is lost.
    others = [n for n in state["nodes"] if n["role"] == "secondary" and n.get("pid")
              and alive(n["pid"], workdir)]
    for n in others:
        wait_caught_up(workdir, n["name"], final)
    # 3. The target becomes a writable primary.
    sql(workdir, name, "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=OFF")
    target["role"] = "primary"
    target["master"] = None
    state["primary"] = name
    # 4. The other secondaries follow it.
    for n in others:
        if n["name"] != name:
            replicate_from(workdir, state, n["name"], name)
            n["master"] = name
    # 5. The endpoint routes to it, and the old primary stops.
    write_proxy(workdir, state)
    save(workdir, state)
    stop_server(workdir, old)
    old["role"] = "stopped"
    save(workdir, state)
    wait_endpoint(state)
    print(json.dumps({"promoted": name, "old_primary": old["name"], "position": final}))


def cmd_add(workdir, name):
    state = load(workdir)
    if any(n["name"] == name for n in all_servers(state)):
        die(f"a node named {name!r} already exists")
    used = {n["port"] for n in all_servers(state)} | {state["endpoint_port"]}
    port = free_port()
    while port in used:
        port = free_port()
    node = {"name": name, "port": port, "server_id": state["next_server_id"],
            "role": "secondary", "pid": None, "master": state["primary"]}
    state["next_server_id"] += 1
    state["nodes"].append(node)
    os.makedirs(node_dir(workdir, name), exist_ok=True)
    save(workdir, state)
    start_server(workdir, node)
    save(workdir, state)
    setup_users(workdir, name, state["password"])
    sql(workdir, name, "SET GLOBAL read_only=ON")
    replicate_from(workdir, state, name, state["primary"])
    wait_caught_up(workdir, name, gtid_pos(workdir, state["primary"]))
    print(json.dumps({"added": name, "endpoint": "127.0.0.1:%d" % port}))


def cmd_remove(workdir, name):
    state = load(workdir)
    node = node_by_name(state, name)
    if name == state["primary"]:
        die(f"{name} is the primary; promote another node first")
    stop_server(workdir, node)
    state["nodes"] = [n for n in state["nodes"] if n["name"] != name]
    save(workdir, state)
    shutil.rmtree(node_dir(workdir, name), ignore_errors=True)
    print(json.dumps({"removed": name}))


def cmd_stop_node(workdir, name):
    """Stops a node's server without removing it (a node going down)."""
    state = load(workdir)
    node = node_by_name(state, name) if name != "dest" else state["destination"]
    stop_server(workdir, node)
    save(workdir, state)


def cmd_start_node(workdir, name, extra_args=()):
    """Starts a stopped node again on the same port and data (a node coming back). Extra
    arguments go to mariadbd for this start only (e.g. --log-slave-updates=OFF)."""
    state = load(workdir)
    node = node_by_name(state, name) if name != "dest" else state["destination"]
    if node.get("pid") and alive(node["pid"], workdir):
        die(f"{name} is already running")
    if node["role"] == "stopped":
        die(f"{name} was the old primary and is out of the cluster")
    start_server(workdir, node, extra_args)
    save(workdir, state)


def cmd_down(workdir):
    path = os.path.join(workdir, STATE)
    if not os.path.exists(path):
        print(f"cluster: nothing to stop in {workdir}")
        return
    state = load(workdir)
    pid = read_pid(os.path.join(workdir, "haproxy.pid"))
    if pid and alive(pid, workdir):
        os.kill(pid, signal.SIGTERM)
    for n in all_servers(state):
        stop_server(workdir, n)
    save(workdir, state)
    for n in all_servers(state):
        shutil.rmtree(node_dir(workdir, n["name"]), ignore_errors=True)
    shutil.rmtree(os.path.join(workdir, ".template"), ignore_errors=True)
    for f in (STATE, "haproxy.cfg", "haproxy.pid", "password"):
        try:
            os.remove(os.path.join(workdir, f))
        except OSError:
            pass
    print(f"cluster: stopped and removed {workdir}")


USAGE = """usage: cluster.sh [--dir DIR] COMMAND
  up               start node-1 (primary), node-2 and node-3 (secondaries), dest, and the
                   read/write endpoint; prints status
  status           every node's role, endpoint and GTID position, as JSON
  promote NODE     failover: NODE catches up and becomes primary, the endpoint follows,
                   the old primary stops
  add NODE         start one more secondary of the current primary
  remove NODE      stop a secondary and delete its data
  stop-node NODE   stop a node's server, keeping its data (start-node brings it back)
  start-node NODE [MARIADBD_ARG...]
  down             stop everything this directory started and delete its data
DIR defaults to $DTS_CLUSTER_DIR, else .work/cluster in the repository."""


def main(argv):
    workdir = os.environ.get("DTS_CLUSTER_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".work", "cluster")
    args = list(argv)
    if len(args) >= 2 and args[0] == "--dir":
        workdir = args[1]
        args = args[2:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    workdir = os.path.abspath(workdir)
    cmd, rest = args[0], args[1:]
    one = {"promote": cmd_promote, "add": cmd_add, "remove": cmd_remove,
           "stop-node": cmd_stop_node, "start-node": cmd_start_node}
    if cmd == "start-node" and rest:
        cmd_start_node(workdir, rest[0], rest[1:])
    elif cmd in one:
        if len(rest) != 1:
            die(f"{cmd} needs a node name")
        one[cmd](workdir, rest[0])
    elif cmd == "up" and not rest:
        cmd_up(workdir)
    elif cmd == "down" and not rest:
        cmd_down(workdir)
    elif cmd == "status" and not rest:
        cmd_status(workdir)
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
