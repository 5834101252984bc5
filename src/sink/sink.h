// Sink: where transactions go at the end of the pipeline (DESIGN.md, data flow): the MySQL
// applier today; a change log (tracking) and an NDJSON file next. Every sink receives
// transactions already named for the target, in source commit order, as pieces (see
// pipeline::Transaction::first_piece), and reports its durable checkpoint the same way.
//
// Contract:
//   - apply() takes the next piece; it may block for back-pressure. The first error is sticky:
//     every later call returns it. After an error, destroy the sink and open a new one; it
//     resumes from its durable checkpoint, losing and doubling nothing.
//   - durablePosition() is the position up to which everything given is durable (MariaDB: the
//     last GTID per domain; MySQL: the applied GTID set); none before anything committed.
//   - flush() waits until everything given (whole transactions) is durable; close() flushes,
//     then releases every resource. A transaction whose last piece was not given is never
//     durable: close() discards it.
// Thread-safety: apply/flush/close from one thread; durablePosition() from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/gtid.h"
#include "pipeline/change_event.h"

namespace dts::sink {

struct SinkStats {
  uint64_t transactions_applied = 0;  // committed at the destination
  uint64_t transactions_skipped = 0;  // already applied, in a table snapshot, or filtered out
  uint64_t rows_applied = 0;
  uint64_t bytes_applied = 0;  // row payload bytes (values), not SQL text
  uint64_t ddl_applied = 0;
  // DDL statements not replayed after a restart because the destination already had them
  // (task::Degraded::kDdlReplaySkipped).
  uint64_t ddl_replays_skipped = 0;
  // Statements of views and stored routines the destination refused (the task went on without
  // the object: task::Degraded::kDdlNotApplied).
  uint64_t ddl_not_applied = 0;
  uint64_t batches = 0;
  double last_latency_ms = 0;  // source commit (sourceCommitMs) -> destination commit
  // Source commit time (ms since the epoch) of the last transaction committed; 0 before any.
  double last_source_commit_ms = 0;
  double max_latency_ms = 0;
  double rows_per_second = 0;  // since the previous stats() call
  double bytes_per_second = 0;
  size_t queued_transactions = 0;
  // A transaction received in pieces whose rows are being applied (in the destination's open
  // transaction, or written to the change log) and not yet committed: its GTID and the rows of
  // its pieces applied so far. Empty and 0 when none (task::OpenTransaction).
  std::string open_transaction_gtid;
  uint64_t open_transaction_rows = 0;
  // A change log sink (tracking): its offsets and size on disk; -1 and 0 for other sinks.
  int64_t log_first_offset = -1;
  int64_t log_end_offset = -1;
  uint64_t log_disk_bytes = 0;
  // apply() calls that had to wait: for room in the queue (the destination is the bottleneck),
  // or for a transaction conflicting with two workers to be released (parallelism lost).
  uint64_t waits_queue_full = 0;
  uint64_t waits_conflict = 0;
  // Transactions applied alone because a row of theirs fires the destination's foreign key
  // actions (sink/batch_sql.h).
  uint64_t foreign_key_action_transactions = 0;
};

// Row changes committed per table.
struct TableChanges {
  std::string database, table;  // the names the sink was given (the target's)
  uint64_t rows = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Where the reader starts: the durable checkpoint's position; none when the sink has none
  // (the task's own start applies). An error when the stored checkpoint is damaged.
  virtual Result<std::optional<mysql::GtidPosition>> resumePosition() const = 0;
  virtual Status apply(pipeline::Transaction piece) = 0;
  virtual Status flush() = 0;
  virtual Status close() = 0;
  virtual std::optional<mysql::GtidPosition> durablePosition() const = 0;
  // Any thread. stats() computes the rates since its previous call.
  virtual SinkStats stats() const = 0;
  // Row changes committed per table since the sink opened, in no particular order.
  virtual std::vector<TableChanges> changesByTable() const = 0;
  // Any thread: the error the sink's own threads met (a worker's failed transaction, a change
  // log's failed write), which its next apply(), flush() or close() returns; OK while none. The
  // engine watches it, so that a failure shows at once even when the source has nothing more to
  // send.
  virtual Status failure() const { return Status::OK(); }
};

}  // namespace dts::sink
