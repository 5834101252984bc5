// Prechecks for cluster sources: the selected node is a secondary of the instance's primary
// that logs the changes it replicates, and the destination is writable. Each check is named and
// says pass/warn/fail with a fix hint, in words an operator can act on.
#pragma once

#include <string>
#include <vector>

#include "mysql/connection.h"

namespace dts::source {

struct CheckItem {
  enum class Level { kPass, kWarn, kFail };
  std::string name;  // "secondary node", "log_slave_updates", ...
  Level level = Level::kPass;
  std::string detail;  // what was found
  std::string hint;    // how to fix it (empty on pass)
};

const char* levelName(CheckItem::Level level);

// node: a connection to the selected node's direct endpoint; primary: to the instance's
// read/write endpoint. Checks that the node replicates from that primary (by server id, on any
// of its channels), that its replication threads run, and that it writes what it replicates to
// its own binlog (log_bin, log_slave_updates, binlog_format=ROW). A user that may not read the
// replica status gets a warning ("replication status": replication health unknown, needs
// PRIVILEGE), not a failure: the task reads the node all the same.
std::vector<CheckItem> checkSecondaryNode(mysql::Connection& node, mysql::Connection& primary,
                                          const std::string& node_name,
                                          const std::string& instance_name);

// The destination must accept writes: read_only (and super_read_only) OFF.
CheckItem checkDestinationWritable(mysql::Connection& destination);

}  // namespace dts::source
