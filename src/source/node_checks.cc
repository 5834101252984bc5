#include "source/node_checks.h"

namespace dts::source {

const char* levelName(CheckItem::Level level) {
  switch (level) {
    case CheckItem::Level::kPass: return "pass";
    case CheckItem::Level::kWarn: return "warn";
    case CheckItem::Level::kFail: return "fail";
  }
  return "?";
}

namespace {

CheckItem item(std::string name, CheckItem::Level level, std::string detail,
               std::string hint = "") {
  return CheckItem{std::move(name), level, std::move(detail), std::move(hint)};
}

std::string field(const mysql::QueryResult& r, const std::string& column) {
  if (r.rows.empty()) return "";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == column) return r.rows[0][i].value_or("");
  }
  return "";
}

}  // namespace

std::vector<CheckItem> checkSecondaryNode(mysql::Connection& node, mysql::Connection& primary,
                                          const std::string& node_name,
                                          const std::string& instance_name) {
  using L = CheckItem::Level;
  std::vector<CheckItem> out;
  const std::string what = "node " + node_name + " (" + node.options().endpoint.toString() + ")";

  auto primary_id = primary.queryValue("SELECT @@server_id");
  auto node_id = node.queryValue("SELECT @@server_id");
  if (!primary_id.ok() || !node_id.ok()) {
    out.push_back(item("secondary node", L::kFail,
                       "cannot read server ids: " +
                           (primary_id.ok() ? node_id.status() : primary_id.status()).message()));
    return out;
  }
  auto status = node.query("SHOW SLAVE STATUS");
  if (!status.ok()) {
    out.push_back(item("secondary node", L::kFail,
                       what + ": SHOW SLAVE STATUS failed: " + status.status().message(),
                       "grant the dts user SLAVE MONITOR (MariaDB) or REPLICATION CLIENT (MySQL)"));
    return out;
  }
  if (node_id->value_or("") == primary_id->value_or("-")) {
    out.push_back(item(
        "secondary node", L::kWarn, what + " is the primary of instance " + instance_name + " now",
        "a promoted node keeps working; choose a secondary to keep load off the primary"));
  } else if (status->rows.empty()) {
    out.push_back(item("secondary node", L::kFail,
                       what + " is not replicating from anything (no SHOW SLAVE STATUS row)",
                       "select a node that is a secondary of instance " + instance_name));
  } else {
    std::string master_id = field(*status, "Master_Server_Id");
    if (master_id != primary_id->value_or("")) {
      out.push_back(item("secondary node", L::kFail,
                         what + " replicates from server id " + master_id +
                             ", but the primary of " + "instance " + instance_name +
                             " has server id " + primary_id->value_or("?"),
                         "select a node that replicates from this instance's primary"));
    } else {
      out.push_back(item("secondary node", L::kPass,
                         what + " replicates from the primary (server id " + master_id + ")"));
    }
    std::string io = field(*status, "Slave_IO_Running");
    std::string sql = field(*status, "Slave_SQL_Running");
    if (io != "Yes" || sql != "Yes") {
      out.push_back(item("replication running", L::kWarn,
                         "Slave_IO_Running=" + io + ", Slave_SQL_Running=" + sql + " on " + what +
                             ": " + field(*status, "Last_Error"),
                         "START SLAVE on the node; the task reads only what the node has applied"));
    } else {
      out.push_back(item("replication running", L::kPass, "IO and SQL threads running"));
    }
  }

  auto vars = node.query("SELECT @@log_bin, @@log_slave_updates, @@binlog_format");
  if (!vars.ok()) {
    out.push_back(item("log_slave_updates", L::kFail, vars.status().message()));
    return out;
  }
  const auto& row = vars->rows.at(0);
  if (row[0].value_or("0") != "1") {
    out.push_back(item("log_bin", L::kFail, what + " has no binary log",
                       "start the node with log_bin (and log_slave_updates=ON)"));
  }
  if (row[1].value_or("0") != "1") {
    out.push_back(
        item("log_slave_updates", L::kFail,
             what + " does not write replicated changes to its binlog (log_slave_updates=OFF)",
             "set log_slave_updates=ON (log_replica_updates on MySQL 8) and restart the node"));
  } else {
    out.push_back(item("log_slave_updates", L::kPass, "ON"));
  }
  if (row[2].value_or("") != "ROW") {
    out.push_back(item("binlog_format", L::kFail,
                       what + " has binlog_format=" + row[2].value_or("?"),
                       "SET GLOBAL binlog_format=ROW on the node (and in its configuration)"));
  }
  return out;
}

CheckItem checkDestinationWritable(mysql::Connection& destination) {
  using L = CheckItem::Level;
  auto r = destination.queryValue("SELECT @@read_only");
  if (!r.ok()) return item("destination writable", L::kFail, r.status().message());
  if (r->value_or("0") != "0") {
    return item("destination writable", L::kFail,
                "destination " + destination.options().endpoint.toString() +
                    " is read-only (read_only=ON); a secondary node cannot be the destination",
                "choose a writable primary as the destination");
  }
  return item("destination writable", L::kPass, "read_only=OFF");
}

}  // namespace dts::source
