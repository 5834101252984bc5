// Consistent snapshots of the source for the full loader, with their exact binlog position.
//
// MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, then the snapshot's GTID position from
// SHOW STATUS LIKE 'binlog_snapshot_%' (no lock taken); when the server reports only the
// file:position, BINLOG_GTID_POS turns it into a GTID position. MySQL has no snapshot position:
// FLUSH TABLES WITH READ LOCK is held only while the snapshot opens and gtid_executed is read.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "mysql/connection.h"

namespace dts::task {

// GTID positions already computed, by "file:pos". BINLOG_GTID_POS reads the binlog file from its
// start up to pos (up to max_binlog_size per call), so snapshots opened at the same position (an
// idle source) compute it once.
using SnapshotPositionCache = std::map<std::string, std::string>;

// Opens a REPEATABLE READ consistent snapshot on src (session time zone UTC) and returns its
// exact GTID position ("" for an empty one). kFailedPrecondition when the source reports no
// position (binary log off). REQUIRES: callers sharing a cache are serialized.
Result<std::string> openSnapshot(mysql::Connection& src, SnapshotPositionCache* cache);

}  // namespace dts::task
