// StateStore: where a task's state lives between runs (phase, incremental start position,
// progress, last error). One interface so that `dts run` (SQLite in its data dir) and a later
// `dts server` (shared store) persist tasks the same way. The exactly-once bookkeeping of the
// data itself (which chunks are loaded, the applied GTID set) lives in the destination's
// `dts_meta` database, written in the same transaction as the data; this store only says where
// the task stands and what to show.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/sqlite.h"
#include "common/status.h"
#include "source/replication_health.h"

namespace dts::task {

// created -> prechecking -> schema -> full -> incremental -> (paused | completed | failed)
enum class TaskPhase {
  kCreated,
  kPrechecking,
  kSchema,
  kFull,
  kIncremental,
  kPaused,
  kCompleted,
  kFailed
};
const char* phaseName(TaskPhase phase);
Result<TaskPhase> parsePhase(const std::string& name);

// Degraded modes: the task warned and carried on in a lesser way. Each occurrence is counted
// (Progress::countDegraded) as well as logged, persisted with the task state and shown by
// `dts status`, so an operator sees it after the log has rotated.
enum class Degraded {
  // The destination refused LOAD DATA LOCAL: the chunk was loaded again by another method, and
  // the rest of the full data went on without LOAD DATA.
  kLoadDataRefused,
  // Saving this task state failed and the task went on (the data's own bookkeeping is in the
  // destination's dts_meta; the next save writes the whole state again).
  kStateSaveFailed,
  // After a restart, a DDL whose replay the destination refused as already done (the table
  // already exists, the column is already there, ...) was skipped: dts died between applying it
  // and recording it. Normal once after a crash; repeated counts point at a DDL that the
  // destination had been given by someone else.
  kDdlReplaySkipped,
  // Incremental verification held as many changed keys as options.verify.max_changed_rows
  // allows between two checks: the rows changed beyond that were not checked.
  kVerifyRowsSkipped,
  // A source statement about a trigger or an event of a moved table or database was not applied
  // (pipeline/object_ddl.h says why), or the destination refused a view's or stored routine's
  // statement: the destination lacks that object, the rows are all there. Also every DDL
  // statement options.ddl: false left out (not applied, or not recorded by a tracking task).
  kDdlNotApplied,
};
inline constexpr Degraded kAllDegraded[] = {Degraded::kLoadDataRefused, Degraded::kStateSaveFailed,
                                            Degraded::kDdlReplaySkipped,
                                            Degraded::kVerifyRowsSkipped, Degraded::kDdlNotApplied};
// "load_data_refused", "state_save_failed", "ddl_replay_skipped", "verify_rows_skipped",
// "ddl_not_applied": the key
// in TaskState::degraded and in `dts status`.
const char* degradedName(Degraded mode);

struct TableProgress {
  std::string source_database;
  std::string source_table;
  std::string target_database;
  std::string target_table;
  uint64_t rows_done = 0;
  uint64_t rows_estimated = 0;
  uint64_t bytes_done = 0;
  bool done = false;
  // Row changes (inserts, updates, deletes) the incremental phase applied to the table, across
  // runs. After a crash (kill -9) it may fall short by what was applied since the last save, a
  // second at most; the data itself is exact.
  uint64_t changes_applied = 0;
};

// A transaction the sink receives in pieces (one larger than the reader's piece bound) while
// its rows are being applied: they are in the destination's open transaction (or written to
// the change log), and nothing of it is committed or visible before its last row. Without it a
// transaction of a million rows shows no progress at all until it commits.
struct OpenTransaction {
  std::string gtid;   // empty: no transaction is open
  uint64_t rows = 0;  // row changes applied (written) so far
  bool operator==(const OpenTransaction&) const = default;
};
// Its JSON form (the state store's, `dts status --json`'s and the API's): null when none, else
// {gtid, rows}; and back (anything else reads as none).
nlohmann::json openTransactionJson(const OpenTransaction& o);
OpenTransaction openTransactionFromJson(const nlohmann::json& j);

// Incremental verification (options.verify.incremental): rows changed by the incremental phase,
// compared by key once applied, across runs.
struct IncrementalVerifyState {
  bool enabled = false;
  uint64_t rows_checked = 0;
  uint64_t row_differences = 0;
  uint64_t rechecks = 0;  // batches read again because a row still lagged or changed again
  uint64_t skipped = 0;   // changed rows not checked: the bounded key set was full
  std::string detail;     // the latest differences (each with its key), at most a few KB
};

// The task's verification (options.verify, task/verify.h) as its last run left it.
struct VerifyState {
  std::string state;  // "" not run | running | equal | different | failed
  uint64_t tables_checked = 0, tables_total = 0;
  uint64_t row_differences = 0, schema_differences = 0;
  uint64_t rechecks = 0;        // differing chunks checked again once the destination caught up
  uint64_t chunks = 0;          // key ranges checksummed (bisection halves included)
  uint64_t chunks_resumed = 0;  // of chunks: done before the task restarted (not re-checked)
  uint64_t rows_checked = 0;    // source rows compared
  double seconds = 0;
  std::string detail;  // the report's summary lines, or the error
  // The tables that differ, as a JSON array of verifyTableJson items (task/verify.h), bounded
  // (kept as text so that this header needs no JSON library); "" or "[]" when none.
  std::string differing_tables_json;
  IncrementalVerifyState incremental;
  bool done() const { return state == "equal" || state == "different"; }
};
// The verification state as JSON (the state store's, `dts status --json`'s and the API's form),
// and back (fields it lacks are zero).
nlohmann::json verifyStateJson(const VerifyState& v);
VerifyState verifyStateFromJson(const nlohmann::json& v);
// What an operator is told of the destination (the API's and console's verify.state, `dts
// status`): `state`, but "different" once incremental verification found a changed row that
// differs, while the full comparison said equal or has not run (its own `state` is kept, which
// decides whether it runs).
std::string verifyOverallState(const VerifyState& v);
// verifyStateJson with that overall state: what `dts status --json` and the API show.
nlohmann::json verifyStatusJson(const VerifyState& v);

// A tracking task's change log (task/tracking.h) at the last progress report.
struct TrackingLogState {
  int64_t first_offset = -1;  // -1: not known (not a tracking task, or its log not open yet)
  int64_t end_offset = -1;    // records are first_offset .. end_offset-1
  uint64_t disk_bytes = 0;
  uint32_t retention_hours = 0;  // options.retention_hours
  uint64_t retention_bytes = 0;  // options.retention_bytes; 0 = no size cap
  bool known() const { return end_offset >= 0; }
};
// Its JSON form (the state store's, `dts status --json`'s): null when not known.
nlohmann::json trackingLogJson(const TrackingLogState& t);

// An error the task met. While the task retries it (or after it failed with it) it is also
// TaskState::last_error; once the task works again last_error is cleared and the error stays
// here with the time it recovered, so that a past outage is neither shown as current nor lost.
struct PastError {
  std::string message;
  int64_t at_ms = 0;            // when it was first seen (wall clock)
  int64_t recovered_at_ms = 0;  // when the task worked again; 0: not (yet) recovered
};
inline constexpr size_t kErrorHistory = 10;  // the newest errors kept in TaskState::errors
// [{message, at, at_ms, recovered_at, recovered_at_ms}, ...] oldest first (times UTC, ISO 8601;
// recovered_at null when not recovered).
nlohmann::json pastErrorsJson(const std::vector<PastError>& errors);

struct TaskState {
  std::string name;
  std::string kind;  // "migration" | "sync"
  TaskPhase phase = TaskPhase::kCreated;
  std::string config_yaml;  // the task file as taskToYaml prints it (never a password)
  // The error the task has now (retrying it, or failed with it); empty when none. Never
  // contains a password. Past errors, recovered: `errors`.
  std::string last_error;
  bool schema_done = false;  // schema created by this task (a rerun skips the conflict check)
  // The schema phase began: destination tables may exist that this task created (a run killed
  // in the middle of it), so a rerun skips the conflict check too. Saved before the first CREATE.
  bool schema_started = false;
  bool full_done = false;
  // Where incremental starts: the GTID position (mysql::GtidPosition text) of the first
  // full-data snapshot, or the source position at start when there is no full phase. nullopt
  // until known; "" when known and empty (the source had written no GTID yet: from the start).
  std::optional<std::string> start_gtid;
  std::string checkpoint_gtid;  // last applied position reported by the applier
  VerifyState verify;
  double rps = 0;
  double mbps = 0;
  double latency_ms = -1;            // source commit -> destination apply; < 0 when unknown
  OpenTransaction open_transaction;  // at the last progress report
  // While a retryable failure is being retried: "retrying since T, gives up at T+W ...".
  std::string retrying;
  // The replication health of the secondary node the task reads (source::ReplicationWatch),
  // while a run watches it; kNotWatched otherwise. A stopped node replication makes the lag
  // unknown, however small it reads: the task gets none of the primary's changes.
  source::ReplicationHealth source_replication;
  // Occurrences of each degraded mode across runs, by degradedName; a mode never seen is absent.
  // Names this build does not know (a newer dts wrote them) are kept as they are.
  std::map<std::string, uint64_t> degraded;
  int64_t updated_at_ms = 0;
  std::vector<TableProgress> tables;
  TrackingLogState tracking;      // tracking tasks
  std::vector<PastError> errors;  // the newest kErrorHistory, oldest first
};

// The task met `message` at now_ms: last_error is set, and the history gains an entry (the newest
// one, unrecovered, is updated instead: one outage retried many times is one entry; unless
// new_outage: an outage that began after the one of that entry ended without recovering, in a
// failure or a stop).
void recordError(TaskState* s, const std::string& message, int64_t now_ms, bool new_outage = false);
// The task works again: last_error is cleared and the newest unrecovered error recovers at
// now_ms. A no-op when there is none.
void recordRecovery(TaskState* s, int64_t now_ms);

class StateStore {
 public:
  virtual ~StateStore() = default;
  // The task's state; nullopt when the store has never seen the task.
  virtual Result<std::optional<TaskState>> load(const std::string& name) = 0;
  // Replaces the task's state (and its table progress) atomically.
  virtual Status save(const TaskState& state) = 0;
  virtual Result<std::vector<std::string>> list() = 0;
  // Forgets the task's state (and its table progress); OK when the store never saw it.
  virtual Status remove(const std::string& name) = 0;
};

// The SQLite store of a data dir (file data_dir/dts.db, shared with the instance registry).
// Thread-safe (one mutex); several processes may share the file.
class SqliteStateStore final : public StateStore {
 public:
  // Creates data_dir if missing.
  static Result<std::unique_ptr<SqliteStateStore>> open(const std::string& data_dir);
  Result<std::optional<TaskState>> load(const std::string& name) override;
  Status save(const TaskState& state) override;
  Result<std::vector<std::string>> list() override;
  Status remove(const std::string& name) override;

 private:
  explicit SqliteStateStore(std::unique_ptr<Sqlite> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<Sqlite> db_;
};

}  // namespace dts::task
