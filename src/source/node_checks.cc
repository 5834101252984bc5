#include "source/node_checks.h"

#include "source/replication_health.h"

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
  // Every channel (MariaDB multi-source connections, MySQL channels), under either flavour's
  // column names: the same reading as the task's replication watch (replication_health.h).
  const std::string statement = replicaStatusStatement(node.isMariaDB(), node.serverVersion());
  auto status = node.query(statement);
  std::vector<ReplicationChannel> channels;
  if (!status.ok()) {
    const unsigned errnum = node.lastErrorNumber();
    if (errnum != 1227 && errnum != 1045 && errnum != 1044) {
      out.push_back(item("secondary node", L::kFail,
                         what + ": " + statement + " failed: " + status.status().message()));
      return out;
    }
    // Not a reason to refuse the task: it reads the node all the same. But neither this check
    // nor the task can tell whether the node receives the primary's changes.
    const std::string privilege =
        replicaStatusPrivilege(status.status().message(), node.isMariaDB());
    out.push_back(item("replication status", L::kWarn,
                       "replication health unknown: needs " + privilege + " (" + statement +
                           " on " + what + " was refused to user '" + node.options().user +
                           "'): dts cannot tell whether the node replicates from the primary, "
                           "nor warn while its replication is stopped",
                       "GRANT " + replicaStatusGrant(privilege) + " ON *.* TO the dts user"));
  } else {
    auto parsed = parseReplicaStatus(*status);
    if (!parsed.ok()) {
      out.push_back(item("secondary node", L::kFail, what + ": " + parsed.status().message()));
      return out;
    }
    channels = std::move(parsed).value();
  }
  if (node_id->value_or("") == primary_id->value_or("-")) {
    out.push_back(item(
        "secondary node", L::kWarn, what + " is the primary of instance " + instance_name + " now",
        "a promoted node keeps working; choose a secondary to keep load off the primary"));
  } else if (!status.ok()) {
    // The privilege warning above says it all.
  } else if (channels.empty()) {
    out.push_back(item("secondary node", L::kFail,
                       what + " is not replicating from anything (no " + statement + " row)",
                       "select a node that is a secondary of instance " + instance_name));
  } else {
    const ReplicationChannel* from_primary = nullptr;
    std::string ids;
    for (const auto& c : channels) {
      ids += (ids.empty() ? "" : ", ") + c.source_server_id;
      if (c.source_server_id == primary_id->value_or("")) from_primary = &c;
    }
    if (from_primary == nullptr) {
      out.push_back(item("secondary node", L::kFail,
                         what + " replicates from server id " + ids + ", but the primary of " +
                             "instance " + instance_name + " has server id " +
                             primary_id->value_or("?"),
                         "select a node that replicates from this instance's primary"));
    } else {
      out.push_back(item("secondary node", L::kPass,
                         what + " replicates from the primary (server id " +
                             from_primary->source_server_id + ")"));
    }
    ReplicationHealth health = decideReplicationHealth(channels, node_name);
    if (health.degraded()) {
      out.push_back(item("replication running", L::kWarn,
                         describeReplicationHealth(health) + " (" + what + ")",
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
             "set log_slave_updates=ON (log_replica_updates on MySQL 8) and restart the node; "
             "what it applies until then never reaches its binlog: a task that reads the node "
             "stops at that hole (read the primary until the task is past it)"));
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
