// What an instance's servers say about themselves right now: each node's role (primary or
// secondary, read live from the server, never from the registry), its replication state and lag,
// and the nodes the primary knows of (discovery). Used by the API and `dts instance discover`.
//
// Nothing here changes the registry; the caller decides what to add. Connections use short
// timeouts so that one unreachable node costs seconds, not minutes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "source/instance.h"

namespace dts::source {

struct NodeProbe {
  std::string name;      // the registered node name ("" for the read/write endpoint)
  std::string endpoint;  // host:port
  bool reachable = false;
  std::string error;  // why it was not reachable or could not be read ("" when fine)
  // "primary": the server the read/write endpoint routes to; "secondary": replicating from
  // something; "standalone": neither; "unknown": not reachable.
  std::string role = "unknown";
  std::string server_id;
  std::string version;
  bool read_only = false;
  // Replication (secondaries): SHOW SLAVE STATUS.
  bool replicating = false;  // there is a SHOW SLAVE STATUS row
  std::string io_running;    // Slave_IO_Running: Yes | No | Connecting
  std::string sql_running;   // Slave_SQL_Running: Yes | No
  std::string master_server_id;
  std::optional<int64_t> seconds_behind;  // Seconds_Behind_Master; nullopt when NULL
  std::string replication_error;          // Last_IO_Error / Last_SQL_Error
  std::string gtid_position;              // @@gtid_binlog_pos (MariaDB) / @@gtid_executed
};

struct InstanceProbe {
  NodeProbe endpoint;            // the read/write endpoint itself
  std::vector<NodeProbe> nodes;  // each registered node, in registry order
};

// Options to connect to endpoint (the instance's own, or one of its nodes') with the instance's
// user and password. Errors: an unset password_env, a malformed endpoint.
Result<mysql::ConnectOptions> instanceConnectOptions(const Instance& instance,
                                                     const std::string& endpoint);

// Connects to one server and reads what it says of itself. Never fails: an unreachable server
// is a probe with reachable=false and the error. timeout: connect and read timeout.
NodeProbe probeNode(const mysql::ConnectOptions& options, const std::string& name,
                    std::chrono::seconds timeout);

// Probes the instance's read/write endpoint and every node (credentials from the instance) and
// sets each node's role: primary when its server id is the endpoint's, else secondary when it
// replicates. Errors: only an unset password_env.
Result<InstanceProbe> probeInstance(const Instance& instance,
                                    std::chrono::seconds timeout = std::chrono::seconds(3));

// The nodes the primary reports, named node-<server_id>: itself (report_host, else nothing) and
// the secondaries of SHOW SLAVE HOSTS (which announce report_host/report_port; binlog readers
// registered without a port, such as dts's own tasks, are not nodes). Errors name the query and
// the privilege it needs.
Result<std::vector<InstanceNode>> discoverNodes(mysql::Connection& primary);

// Of `found`, those whose name and endpoint are both new to the instance (what discovery adds:
// it never renames or removes a registered node).
std::vector<InstanceNode> newNodes(const Instance& instance,
                                   const std::vector<InstanceNode>& found);

}  // namespace dts::source
