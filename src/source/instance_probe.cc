#include "source/instance_probe.h"

namespace dts::source {
namespace {

std::string column(const mysql::QueryResult& r, const std::string& name) {
  if (r.rows.empty()) return "";
  for (size_t i = 0; i < r.columns.size() && i < r.rows[0].size(); ++i)
    if (r.columns[i] == name) return r.rows[0][i].value_or("");
  return "";
}

}  // namespace

Result<mysql::ConnectOptions> instanceConnectOptions(const Instance& instance,
                                                     const std::string& endpoint) {
  mysql::ConnectOptions o;
  DTS_ASSIGN_OR_RETURN(o.password, instance.resolvePassword());
  DTS_ASSIGN_OR_RETURN(o.endpoint, mysql::Endpoint::parse(endpoint));
  o.user = instance.user;
  return o;
}

NodeProbe probeNode(const mysql::ConnectOptions& options, const std::string& name,
                    std::chrono::seconds timeout) {
  NodeProbe p;
  p.name = name;
  p.endpoint = options.endpoint.toString();
  mysql::ConnectOptions o = options;
  o.connect_timeout = timeout;
  o.read_timeout = timeout;
  o.write_timeout = timeout;
  auto conn = mysql::Connection::connect(o);
  if (!conn.ok()) {
    p.error = conn.status().message();
    return p;
  }
  auto vars = (*conn)->query("SELECT @@server_id, @@version, @@read_only");
  if (!vars.ok() || vars->rows.empty() || vars->rows[0].size() < 3) {
    p.error = vars.ok() ? "no answer to SELECT @@server_id" : vars.status().message();
    return p;
  }
  p.reachable = true;
  p.server_id = vars->rows[0][0].value_or("");
  p.version = vars->rows[0][1].value_or("");
  p.read_only = vars->rows[0][2].value_or("0") != "0";
  // MariaDB has gtid_binlog_pos; MySQL gtid_executed.
  auto gtid = (*conn)->queryValue("SELECT @@gtid_binlog_pos");
  if (!gtid.ok()) gtid = (*conn)->queryValue("SELECT @@gtid_executed");
  if (gtid.ok()) p.gtid_position = gtid->value_or("");
  auto status = (*conn)->query("SHOW SLAVE STATUS");
  if (!status.ok()) {
    p.error = "SHOW SLAVE STATUS: " + status.status().message() +
              " (grant SLAVE MONITOR on MariaDB, REPLICATION CLIENT on MySQL)";
  } else if (!status->rows.empty()) {
    p.replicating = true;
    p.io_running = column(*status, "Slave_IO_Running");
    p.sql_running = column(*status, "Slave_SQL_Running");
    p.master_server_id = column(*status, "Master_Server_Id");
    std::string behind = column(*status, "Seconds_Behind_Master");
    if (!behind.empty()) {
      try {
        p.seconds_behind = std::stoll(behind);
      } catch (const std::exception&) {
        // A value that is not a number is shown as unknown.
      }
    }
    p.replication_error = column(*status, "Last_IO_Error");
    if (p.replication_error.empty()) p.replication_error = column(*status, "Last_SQL_Error");
  }
  p.role = p.replicating ? "secondary" : "standalone";
  return p;
}

Result<InstanceProbe> probeInstance(const Instance& instance, std::chrono::seconds timeout) {
  DTS_RETURN_IF_ERROR(instance.resolvePassword().status());
  auto options = [&](const std::string& endpoint) {
    return instanceConnectOptions(instance, endpoint);
  };
  InstanceProbe out;
  DTS_ASSIGN_OR_RETURN(auto ep, options(instance.endpoint));
  out.endpoint = probeNode(ep, "", timeout);
  for (const auto& n : instance.nodes) {
    auto o = options(n.endpoint);
    if (!o.ok()) {
      NodeProbe p;
      p.name = n.name;
      p.endpoint = n.endpoint;
      p.error = o.status().message();
      out.nodes.push_back(p);
      continue;
    }
    NodeProbe p = probeNode(*o, n.name, timeout);
    if (p.reachable && out.endpoint.reachable && p.server_id == out.endpoint.server_id)
      p.role = "primary";
    out.nodes.push_back(std::move(p));
  }
  if (out.endpoint.reachable) out.endpoint.role = "primary";
  return out;
}

Result<std::vector<InstanceNode>> discoverNodes(mysql::Connection& primary) {
  std::vector<InstanceNode> found;
  DTS_ASSIGN_OR_RETURN(auto self,
                       primary.query("SELECT @@server_id, @@report_host, @@report_port, @@port"));
  if (!self.rows.empty() && self.rows[0].size() >= 4) {
    const auto& r = self.rows[0];
    std::string host = r[1].value_or("");
    std::string port = r[2].value_or("0") != "0" ? *r[2] : r[3].value_or("3306");
    if (!host.empty()) found.push_back({"node-" + r[0].value_or("?"), host + ":" + port});
  }
  auto hosts = primary.query("SHOW SLAVE HOSTS");
  if (!hosts.ok()) {
    return hosts.status().withContext(
        "listing the secondaries (SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN on MariaDB, "
        "REPLICATION SLAVE on MySQL; or add nodes by hand)");
  }
  for (const auto& r : hosts->rows) {
    // Server_id, Host, Port, Master_id. A binlog reader that is not a server (dts's own tasks,
    // mariadb-binlog, other CDC tools) registers without a port: not a node.
    if (r.size() < 3 || !r[1] || r[1]->empty()) continue;
    if (!r[2] || *r[2] == "0") continue;
    found.push_back({"node-" + r[0].value_or("?"), *r[1] + ":" + *r[2]});
  }
  return found;
}

std::vector<InstanceNode> newNodes(const Instance& instance,
                                   const std::vector<InstanceNode>& found) {
  std::vector<InstanceNode> out;
  for (const auto& n : found) {
    bool known = false;
    for (const auto& k : instance.nodes)
      known = known || k.endpoint == n.endpoint || k.name == n.name;
    for (const auto& k : out) known = known || k.endpoint == n.endpoint || k.name == n.name;
    if (!known) out.push_back(n);
  }
  return out;
}

}  // namespace dts::source
