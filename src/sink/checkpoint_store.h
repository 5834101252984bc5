// CheckpointStore: the applier's exactly-once record, kept in the destination itself so it
// commits in the same transaction as the data it describes.
//
//   `dts_meta`.`checkpoint` (task, slot) -> applied, position, pending_ddl
//
// Slot 0 belongs to the applier's control connection (DDL, idle flushes), slots 1..N to its apply
// workers. Every row holds a set of source GTIDs that are durably applied (each worker writes its
// row in the same transaction as its rows), so the union of a task's rows is exactly what is
// applied, whatever instant the process died at. `position` is the MariaDB GTID position
// ("domain-server-seq" per domain) of the longest prefix of the source stream known applied when
// the row was written: the stream can resume there. pending_ddl names a DDL that was started
// but whose completion was not recorded (DDL is not transactional).
// Not thread-safe: one store per connection.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "mysql/gtid.h"
#include "sink/destination_session.h"

namespace dts::sink {

struct Checkpoint {
  mysql::GtidSet applied;  // union of every slot
  // MariaDB: per domain, the furthest position of the applied prefix of the stream (merged
  // over every slot); empty when none (always for MySQL, whose position is `applied`).
  mysql::GtidPosition position{mysql::GtidFlavor::kMariaDb};
  std::string pending_ddl;  // the GTID of a DDL that may or may not have been applied; "" none
};

class CheckpointStore {
 public:
  CheckpointStore(std::string meta_database, std::string task)
      : meta_db_(std::move(meta_database)), task_(std::move(task)) {}

  // Creates the database and table when missing.
  Status ensureSchema(DestinationSession& conn) const;
  // Reads every slot of the task. An empty Checkpoint when the task has none.
  Result<Checkpoint> read(DestinationSession& conn) const;
  // The statement that writes one slot (run it inside the data transaction).
  std::string upsertSql(int slot, const mysql::GtidSet& applied,
                        const mysql::GtidPosition& position, const std::string& pending_ddl) const;
  // Deletes every slot of the task (a task that starts over).
  Status clear(DestinationSession& conn) const;

  const std::string& task() const { return task_; }

 private:
  std::string table() const;
  std::string meta_db_;
  std::string task_;
};

}  // namespace dts::sink
