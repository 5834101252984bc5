// Consistent snapshots of the source for the full loader, with their exact binlog position.
//
// MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, then the snapshot's GTID position from
// SHOW STATUS LIKE 'binlog_snapshot_%' (no lock taken); when the server reports only the
// file:position, BINLOG_GTID_POS turns it into a GTID position. MySQL has no snapshot position:
// FLUSH TABLES WITH READ LOCK is held only while the snapshot opens and gtid_executed is read.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"

namespace dts::task {

// GTID positions already computed, by "file:pos". BINLOG_GTID_POS reads the binlog file from its
// start up to pos (up to max_binlog_size per call), so snapshots opened at the same position (an
// idle source) compute it once.
using SnapshotPositionCache = std::map<std::string, std::string>;

// Called while no DDL can run on the source, with a second connection to it (autocommit: what it
// reads takes no lock that outlives its statement) and the snapshot's position: what it reads
// of the source's definitions is what was in force at that position.
using AtSnapshotPosition =
    std::function<Status(mysql::Connection& reader, const std::string& gtid)>;

// Opens a REPEATABLE READ consistent snapshot on src (session time zone UTC) and returns its
// exact GTID position ("" for an empty one). kFailedPrecondition when the source reports no
// position (binary log off). REQUIRES: callers sharing a cache are serialized.
//
// With at_position: DDL is held off while the snapshot opens and at_position runs. MariaDB: a
// second connection takes BACKUP STAGE BLOCK_DDL (DML goes on; writes to non-transactional tables
// wait for the few milliseconds it is held; it waits at most 30 s for a running DDL to finish,
// then fails naming it). When the server refuses the backup lock (the RELOAD privilege is
// missing), the snapshot opens without it and a warning says that a DDL committed in the same
// instant may be missed. MySQL: the global read lock that already surrounds the snapshot's
// opening. An error of at_position is returned.
Result<std::string> openSnapshot(mysql::Connection& src, SnapshotPositionCache* cache,
                                 const AtSnapshotPosition& at_position = nullptr);

// Opens a snapshot on every connection of `readers` at one instant: commits are held off on a
// connection of its own (MariaDB: BACKUP STAGE BLOCK_COMMIT, MySQL: FLUSH TABLES WITH READ LOCK,
// both waiting at most 30 s for what runs, both needing RELOAD) while each opens as openSnapshot
// does, for the few milliseconds that takes. Returns their common position; nullopt when the
// server refuses the lock for lack of privilege (nothing opened: the caller may open them one by
// one).
Result<std::optional<std::string>> openSharedSnapshot(
    const mysql::ConnectOptions& source, const std::vector<mysql::Connection*>& readers);

}  // namespace dts::task
