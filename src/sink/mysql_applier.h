// MysqlApplier: applies transactions, in source commit order, to a MySQL/MariaDB destination —
// batched, in parallel where rows do not conflict, and exactly once across crashes. It applies
// what it is given: the task's mapping (renames, column subsets, WHERE, DML kinds, DDL
// rewriting) is the pipeline's mapping stage (pipeline/mapping_stage.h), upstream of every sink.
//
// Contract for the task layer:
//   1. open(options): connects, creates `dts_meta`.`checkpoint`, reads the checkpoint.
//   2. setTableSnapshot(...) for every table the full phase loaded (rows of those transactions
//      are already in the loaded data and are skipped for that table).
//   3. Start the source stream at resumePosition() (MariaDB: the last GTID per domain; MySQL:
//      the applied set — union it with the task's own start set). When it has none, start where the
//      task would start without a checkpoint (its snapshot position). Starting earlier is always
//      safe: a transaction whose GTID is in checkpoint().applied is skipped.
//   4. apply(txn) for every transaction, in the order the source committed them. apply() returns
//      once the transaction is queued (it blocks for back-pressure and dependency waits); the
//      first apply error is sticky and returned by every later call.
//   5. flush() to wait until everything given is durably committed (e.g. before reporting
//      "caught up" or pausing); close() flushes, stops and ends every destination session. Only
//      one applier per task can be open at a time (open() waits up to fence_timeout for the
//      sessions of an earlier one to end, then fails kUnavailable). After any error: destroy the
//      applier, open a new one and resume from its checkpoint (this is also how connection loss is
//      retried: nothing is lost or applied twice).
//
// Exactly-once: every apply worker writes its checkpoint slot (checkpoint_store.h) in the same
// destination transaction as its rows; the union of the slots is exactly the applied set.
// DDL is a barrier: every earlier transaction commits first, the DDL runs alone on the control
// connection, and its GTID is recorded right after. Because DDL is not transactional, the slot-0
// row marks the DDL as pending *before* running it; if dts dies between the DDL and its record,
// the next run sees the mark and re-runs that one statement tolerating "already done" errors
// (table exists / unknown table / duplicate column or key / can't drop), which makes the replay
// of CREATE, DROP, ALTER ADD/DROP, RENAME and TRUNCATE safe (MariaDB's ALTER is atomic).
//
// A transaction given in several pieces (pipeline::Transaction::first_piece; the reader cuts
// large transactions so that memory stays bounded) is streamed: it is a barrier like DDL (every
// earlier transaction commits first), then apply worker 1 opens one destination transaction and
// runs each piece's rows in it as the piece arrives, while the next piece is being read; the
// last piece writes worker 1's checkpoint slot and commits, in that same transaction. At most
// one piece waits while another runs, so memory stays bounded by two pieces. Nothing of a
// streamed transaction is visible or durable before its commit: a dts killed in the middle
// leaves the destination transaction to be rolled back, and the reader resumes at the
// transaction's start (it is not in the checkpoint). A deadlock or lock wait timeout inside a
// streamed transaction cannot be retried in place (its earlier pieces are gone from memory):
// the destination transaction is rolled back and the applier fails with that error, which the
// task's retry policy treats as retryable (task/runner.cc): the task restarts from its
// checkpoint and reads the transaction again. Transactions that arrive whole keep the batching
// and parallelism above.
// Upserts: a row is written by deleting its identity and inserting it, so that a collision on
// another unique key of the destination stops the task (error 1062, nothing of the batch
// written) instead of REPLACE deleting that other row; only transactions the full phase's
// chunks may already hold go by REPLACE (addReplaceWindow, batch_sql.h: key conflicts). A table
// whose only unique key is the identity goes by REPLACE (faster, and the same while no key is
// added): before such a batch commits, its worker reads the table's unique keys again in the
// same transaction. Its writes hold the table's metadata lock until the commit, so no ALTER can
// add a key in between; a key added before them is seen, and the batch is rolled back and
// retried (kUnavailable) with the keys as they are.
// Upserted rows go by bulk INSERT/REPLACE (batch_sql.h) when options.bulk_replace is set and the
// destination takes arrays of parameters (MariaDB 10.2+): one prepared statement run with arrays
// of binary parameters, the same rows in the same order, without a literal for the destination to
// parse per value. A server that refuses to prepare one more statement (max_prepared_stmt_count
// reached by other clients) gets the same rows as statements, with a warning.
//
// Memory: apply() blocks while max_queued_transactions transactions or max_queued_bytes of row
// images are queued (one transaction larger than that still passes alone).
//
// Thread-safety: apply/flush/close from one thread; stats() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mysql/gtid.h"
#include "mysql/unique_keys.h"
#include "pipeline/change_event.h"
#include "sink/batch_sql.h"
#include "sink/checkpoint_store.h"
#include "sink/dependency_tracker.h"
#include "sink/destination_session.h"
#include "sink/row_prefetcher.h"
#include "sink/sink.h"

namespace dts::sink {

struct ApplierOptions {
  mysql::ConnectOptions destination;
  std::string task;  // the checkpoint key: one per task
  std::string meta_database = "dts_meta";
  int workers = 1;                  // parallel apply connections, 1..64
  size_t batch_transactions = 512;  // source transactions per destination transaction
  size_t batch_rows = 20000;
  size_t max_statement_bytes = 1 << 20;
  size_t max_queued_transactions = 8192;  // back-pressure on apply()
  size_t max_queued_bytes = 64 << 20;     // ... and on the row images they hold
  // A worker that wakes to fewer than batch_transactions waits this long for more (latency cost
  // at most this, per batch).
  std::chrono::milliseconds batch_fill{2};
  int deadlock_retries = 10;
  // REPLACE rows go by bulk REPLACE where the destination can (see above). Measured in one run
  // each (bench/, 2 cores): one UPDATE of 1,000,000 rows of 500 bytes 18.0 s instead of 20.0 s;
  // a sysbench oltp_write_only backlog of 109,155 transactions 3.8 s instead of 4.1 s.
  bool bulk_replace = true;
  // A streamed transaction's next pieces have their rows read ahead on one more session (see
  // sink/row_prefetcher.h), opened at the first streamed transaction.
  bool prefetch = true;
  // How long open() waits for the sessions of a previous (killed) applier of the task to end.
  // Keep it below destination.read_timeout.
  std::chrono::seconds fence_timeout{30};
  Clock* clock = SystemClock::instance();
};

// The best estimate of a source transaction's commit instant, in ms since the epoch. Where the
// source records it in microseconds (commit_us, MySQL), that. Otherwise the binlog stamps whole
// seconds, so it committed within [timestamp, timestamp + 1 s), and not after dts received it.
// Latency is measured from here: while streaming live that is the receipt (ms exact, short of
// the source-to-dts delay); for a backlog, the end of the stamped second. A receipt before the
// stamp (clocks apart) or unset leaves the stamp.
double sourceCommitMs(uint32_t timestamp, uint64_t commit_us,
                      std::chrono::system_clock::time_point received);

class MysqlApplier final : public Sink {
 public:
  // REQUIRES: options.task non-empty. sessions
  // opens every destination session (the control session first, then one per worker); unset,
  // sessions are mysql::Connections to options.destination.
  static Result<std::unique_ptr<MysqlApplier>> open(ApplierOptions options,
                                                    SessionFactory sessions = {});
  ~MysqlApplier() override;
  MysqlApplier(const MysqlApplier&) = delete;
  MysqlApplier& operator=(const MysqlApplier&) = delete;

  // The checkpoint read at open().
  const Checkpoint& checkpoint() const { return resume_; }
  // The position of the longest prefix of the given transactions that is committed at the
  // destination (MariaDB: the last GTID per domain; MySQL: the applied set): what a status
  // shows as the checkpoint. Any thread.
  std::optional<mysql::GtidPosition> durablePosition() const override;
  // Where to start the source stream (see the contract above); none = the task's own start.
  Result<std::optional<mysql::GtidPosition>> resumePosition() const override;

  // Transactions in `gtids` (a mysql::GtidSet text or a MariaDB position) are already contained in
  // the rows the full phase loaded for table db.table (the target's name, as the applier's events
  // carry it): their row events for that table are skipped. REQUIRES: before the first apply().
  Status setTableSnapshot(const std::string& db, const std::string& table,
                          const std::string& gtids);
  // Transactions in `gtids` (a mysql::GtidSet text or a MariaDB position; calls add up) may
  // already be contained in rows the full phase loaded (its chunks' snapshot positions): their
  // rows go by REPLACE, which lets the mix of snapshots converge (batch_sql.h: key conflicts).
  // Every other row's upsert fails on a collision with another unique key, rather than deleting
  // the other row. REQUIRES: before the first apply().
  Status addReplaceWindow(const std::string& gtids);

  Status apply(pipeline::Transaction txn) override;
  Status flush() override;
  Status close() override;

  SinkStats stats() const override;
  Status failure() const override;

  std::vector<TableChanges> changesByTable() const override;

 private:
  struct Txn {
    uint64_t seq = 0;
    mysql::Gtid id;
    std::string gtid;
    double commit_ms = 0;                                // sourceCommitMs
    std::vector<pipeline::ChangeEvent> events;           // mapped
    std::vector<std::shared_ptr<const TableKeys>> keys;  // per event (shared per table)
    std::vector<uint64_t> hashes;
    size_t rows = 0;
    size_t bytes = 0;
    size_t memory = 0;                 // ChangeEvent::memory_bytes of events
    std::vector<TableChanges> tables;  // rows per table (a run of events per entry)
    // A piece of a streamed transaction (see the header comment): `begins` opens the
    // destination transaction, `commits` ends it (and then rows, bytes and tables count the
    // whole transaction, for the stats).
    bool streamed = false;
    // A row fires foreign key actions at the destination (batch_sql.h): the transaction runs
    // alone.
    bool acting = false;
    bool begins = false;
    bool commits = false;
    // A streamed piece's statements, built by the apply thread while the worker runs the
    // piece before (events are then empty); whole transactions are built by their worker.
    std::vector<BatchStep> statements;
    bool prebuilt = false;
    uint64_t piece = 0;  // a streamed piece's number, from 1 (RowPrefetcher)
  };
  // The streamed transaction whose pieces are arriving (apply thread only).
  struct Streaming {
    std::shared_ptr<Txn> head;  // seq, id, gtid
    bool skip = false;          // already applied
    bool started = false;       // a piece went to the worker: the destination transaction is open
    size_t rows = 0;
    size_t bytes = 0;
    std::vector<TableChanges> tables;
  };
  struct Worker {
    int slot = 0;
    std::unique_ptr<DestinationSession> conn;
    std::thread thread;
    std::deque<std::shared_ptr<Txn>> queue;
    std::condition_variable cv;  // queue not empty, or stopping (under mu_)
    bool waiting = false;        // sleeping on cv
    bool busy = false;
    mysql::GtidSet extras;         // committed by this worker beyond base_
    uint64_t written_version = 0;  // base_version_ in the last checkpoint row it wrote
  };
  struct OrderEntry {
    uint64_t seq;
    mysql::Gtid id;
    std::string gtid;
    bool done = false;
  };

  MysqlApplier(ApplierOptions options, SessionFactory sessions);
  Status start();
  Status applyPiece(pipeline::Transaction piece);
  // SET SESSION of the source session's instant, time zone, sql_mode (NO_DIR_IN_CREATE added
  // unless holds_no_rows: a view or routine keeps the source's mode) and
  // explicit_defaults_for_timestamp, for one DDL statement.
  // fractional_seconds false: without the fractional-seconds mode (an older destination).
  Result<std::string> ddlSessionSql(const pipeline::DdlSession& s, bool holds_no_rows,
                                    bool fractional_seconds);
  // Runs ddlSessionSql on the control session (without the fractional-seconds mode on a
  // destination that refuses its name, with a warning).
  Status setDdlSession(const pipeline::DdlSession& s, bool holds_no_rows, const std::string& gtid);
  // How the batch's upserts treat other unique keys: kReplace when a transaction of it is in the
  // replace window (addReplaceWindow).
  KeyConflicts keyConflicts(const std::vector<std::shared_ptr<Txn>>& batch) const;
  // The statements that apply the batch's events (BatchSql); touches no shared state. guarded
  // set: tables whose only unique key is the identity go by REPLACE and are listed there (their
  // keys are read again before the commit: checkGuardedKeys); null (a streamed piece, whose
  // commit comes pieces later): every upsert of kFail is DELETE + INSERT.
  Status buildStatements(const std::vector<std::shared_ptr<Txn>>& batch,
                         std::vector<BatchStep>* statements, bool bulk_replace,
                         BatchSql::GuardedTables* guarded = nullptr) const;
  // Inside the worker's open destination transaction, after its writes: whether the unique keys
  // of each guarded table are still its identity alone. "" when they are; else what changed (a
  // key added since they were read: its REPLACE may have deleted another row, which the
  // rollback brings back; the task retries with the keys as they are then).
  Result<std::string> guardedKeysChanged(Worker* w, const BatchSql::GuardedTables& guarded);
  // Runs one bulk upsert of a batch, or its statements of at most round_limit bytes when the
  // server prepares no more statements or the bulk would not fit in one round trip (the server
  // drops a connection sent more than its max_allowed_packet, `packet`: "gone away", which
  // would be retried for the whole window). One row that alone does not fit fails naming the
  // limit.
  Status runBulk(Worker* w, const BulkReplace& bulk, size_t round_limit, uint64_t packet);
  // Moves txn's events into t: DDL into *ddl, rows (minus table-snapshot skips) into t->events,
  // counted per table in t->tables.
  Status takeEvents(pipeline::Transaction& txn, Txn* t, std::vector<pipeline::ChangeEvent>* ddl);
  // Fills t's keys, rows, bytes and memory (and its key hashes when with_hashes).
  Status describeRows(Txn* t, bool with_hashes);
  // A destination session set up as every applier session is.
  Result<std::unique_ptr<DestinationSession>> connect();
  // Numbers streamed piece t and hands its rows' reads to the prefetcher (made on first use).
  void prefetchPiece(Txn* t);
  // Skips transaction seq (nothing of it to apply); now and then records the checkpoint.
  // commit_ms: its source commit (sourceCommitMs); 0 when it does not count for the lag.
  Status skipTransaction(uint64_t seq, bool may_write_checkpoint, double commit_ms = 0);
  void workerLoop(Worker* w);
  Status applyBatch(Worker* w, const std::vector<std::shared_ptr<Txn>>& batch);
  // Runs a transaction's DDL on the control session, the pending DDL named in the checkpoint
  // meanwhile. rows_follow (CREATE TABLE ... SELECT): the transaction's rows, queued next,
  // complete it; otherwise it is done and checkpointed here.
  Status applyDdl(const std::shared_ptr<Txn>& txn, const std::vector<pipeline::ChangeEvent>& ddl,
                  bool rows_follow = false);
  Status writeControlSlot(const std::string& pending_ddl);
  // MD5 of the destination's definitions (tables, columns, indexes, constraints, partitions,
  // views, routines, triggers) in the databases DDL statement d names; "" when it cannot be read.
  std::string ddlFingerprint(const pipeline::ChangeEvent& d);
  // The keys of ev's table at the destination, read once per table definition.
  Result<std::shared_ptr<const TableKeys>> tableKeys(const pipeline::ChangeEvent& ev);
  // Cuts from a row event the columns its destination table computes (generated columns:
  // writing one is an error, and the destination derives it from the others), as the
  // destination's information_schema says, once per table definition.
  Status dropGeneratedColumns(pipeline::ChangeEvent* ev);
  // REQUIRES: mu_ held.
  void markDoneLocked(uint64_t seq);
  Status waitIdleLocked(std::unique_lock<std::mutex>& lock);
  const mysql::GtidPosition& positionLocked() const { return position_; }

  ApplierOptions options_;
  SessionFactory sessions_;
  CheckpointStore store_;
  Checkpoint resume_;
  std::unique_ptr<DestinationSession> control_;
  bool bulk_replace_ = false;  // options.bulk_replace and the destination takes it
  // The destination's flavor (how BatchSql writes a -0), asked once at the start.
  mysql::ServerFlavor destination_flavor_ = mysql::ServerFlavor::kMariaDb;
  std::atomic<bool> prepare_refused_logged_{false};
  // The destination's foreign keys that act, by the table they reference (batch_sql.h): read
  // at the first row, again after each DDL.
  std::optional<mysql::ReferencingActionsMap> fk_actions_;
  std::map<std::pair<std::string, std::string>, mysql::GtidSet> snapshots_;
  mysql::GtidSet replace_window_;  // addReplaceWindow
  // By the events' table_info (one per table definition; held so that its address is not
  // reused while cached); cleared after DDL.
  struct CachedKeys {
    std::shared_ptr<const mysql::TableInfo> info;
    std::shared_ptr<const TableKeys> keys;
  };
  std::unordered_map<const mysql::TableInfo*, CachedKeys> key_cache_;
  struct Writable {
    std::shared_ptr<const mysql::TableInfo> info;    // the definition it was read for
    std::shared_ptr<const mysql::TableInfo> target;  // without generated columns; null: none
    std::vector<size_t> kept;                        // target column -> column of info
  };
  std::unordered_map<const mysql::TableInfo*, Writable> writable_cache_;
  uint64_t next_seq_ = 0;
  std::optional<Streaming> streaming_;
  // Apply thread only: streamed pieces numbered so far, and their rows' reader (made at the
  // first piece; null when options.prefetch is off or its session could not be opened).
  uint64_t pieces_ = 0;
  std::unique_ptr<RowPrefetcher> prefetcher_;
  bool prefetcher_tried_ = false;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::vector<std::unique_ptr<Worker>> workers_;
  DependencyTracker tracker_;
  std::deque<OrderEntry> order_;
  mysql::GtidSet base_;  // applied at open + the applied prefix since
  // MariaDB: the last GTID per domain of the committed prefix (empty for MySQL).
  mysql::GtidPosition position_{mysql::GtidFlavor::kMariaDb};
  uint64_t base_version_ = 0;
  uint64_t persisted_version_ = 0;
  std::string persisted_pending_ddl_;  // slot 0's pending DDL as last written
  Clock::TimePoint last_control_write_{};
  size_t queued_ = 0;         // whole transactions and streamed pieces given to workers
  size_t queued_pieces_ = 0;  // of queued_: streamed pieces (stats() counts their transaction once)
  size_t queued_memory_ = 0;  // their Txn::memory
  bool stream_committing_ = false;  // a streamed transaction's last piece is queued or running
  bool acting_pending_ = false;     // a transaction with foreign key actions is queued or running
  bool stopping_ = false;
  Status error_;

  SinkStats stats_;
  std::map<std::pair<std::string, std::string>, uint64_t> changes_by_table_;  // committed rows
  mutable Clock::TimePoint rate_time_{};
  mutable uint64_t rate_rows_ = 0;
  mutable uint64_t rate_bytes_ = 0;
};

}  // namespace dts::sink
