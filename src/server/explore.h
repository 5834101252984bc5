// The API calls that look at databases before a task exists (the console's instance page and task
// wizard, docs/api.md "Exploring"): an instance's nodes read live, node discovery, a connection
// test, and browsing a source's databases, tables and columns. The engine does the work
// (source/instance_probe.h, source/node_checks.h, source/cluster_source.h, task/catalog.h); this
// file parses the JSON bodies and shapes the answers. Passwords are read from bodies and the
// registry, never written into an answer.
//
// A connection body ("connection spec") is either a registered instance:
//   {"instance": "shop", "secondary_node": "node-2"}        (secondary_node optional)
// or a plain endpoint:
//   {"endpoint": "h:p", "user": "dts", "password": "..."}   (or "password_env": "VAR")
#pragma once

#include <string>

#include "server/api.h"
#include "source/instance.h"

namespace dts::server {

// GET /api/v1/instances/NAME/nodes: {"instance", "endpoint": probe, "nodes": [probe...]}, each
// probe {name, endpoint, reachable, error, role, server_id, version, read_only, replication:
// {io_running, sql_running, master_server_id, seconds_behind, error} | null, gtid_position}.
HttpResponse instanceNodesLive(source::InstanceRegistry& registry, const std::string& name);

// POST /api/v1/instances/NAME/discover: adds the nodes the primary reports that are new (never
// removes one); {"found": [...], "added": [...], "instance": {...}}.
HttpResponse discoverInstance(source::InstanceRegistry& registry, const std::string& name);

// POST /api/v1/connections/test: body = a connection spec + "role": "source" (default) |
// "destination". 200 with {"ok", "endpoint", "message", "hint", "version", "read_only",
// "checks": [{name, level: pass|warn|fail, message, hint}]}: a failed test is an answer, not an
// error. A destination that is a registered node of an instance is refused (ok false,
// "refused": true) before any connection. 400 for a malformed body (field named).
HttpResponse testConnection(source::InstanceRegistry& registry, const std::string& body);

// POST /api/v1/browse: body = a connection spec (+ "database": NAME). Without database:
// {"databases": [names]}; with: {"database", "tables": [{name, estimated_rows, has_key,
// columns: [{name, type, nullable, generated}]}]}. A connection failure is 503 unavailable.
HttpResponse browseSource(source::InstanceRegistry& registry, const std::string& body);

}  // namespace dts::server
