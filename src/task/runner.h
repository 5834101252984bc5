// TaskRunner: drives one task through its state machine, persisting every transition:
//   created -> prechecking -> schema -> full -> incremental -> (paused | completed | failed)
// A run stopped on request (stop flag: SIGINT/SIGTERM in the CLI) ends `paused` with whole chunks
// / applied transactions kept; the next run with the same state store resumes where it stood
// (precheck again, schema skipped once done, pending chunks only, incremental from the
// checkpoint). Used by `dts run` and, later, by the server: no terminal or signal code here.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mysql/gtid.h"
#include "pipeline/change_event.h"
#include "pipeline/mapping.h"
#include "source/replication_health.h"
#include "task/catalog.h"
#include "task/progress.h"
#include "task/schema_objects.h"
#include "task/state_store.h"
#include "task/task_config.h"

namespace dts::task {

class ChangedKeys;

// The incremental phase: the source binlog stream from a position handed to the applier. A seam,
// so the runner does not depend on how the stream and the applier are built.
class IncrementalEngine {
 public:
  virtual ~IncrementalEngine() = default;
  // Streams and applies changes from `start` (none: the beginning of the source's binlog), or
  // from the destination's own checkpoint when that is further, until stop becomes true
  // (returns OK) or an error. Reports latency and rows through progress.
  virtual Status run(const std::optional<mysql::GtidPosition>& start, Progress* progress,
                     const std::atomic<bool>& stop) = 0;
};

struct IncrementalContext {
  const TaskConfig& config;
  const pipeline::Mapping& mapping;
  const std::vector<CatalogTable>& tables;
  // RunnerOptions::data_dir: where a tracking task's change log lives (task/tracking.h).
  std::string data_dir;
  // Called with every transaction piece as read from the source (source names, before the
  // mapping stage), from the engine's thread: incremental verification's key collector. Optional.
  std::function<void(const pipeline::Transaction&)> on_read;
};
using IncrementalFactory =
    std::function<Result<std::unique_ptr<IncrementalEngine>>(const IncrementalContext&)>;

struct RunnerOptions {
  // Where progress and messages go (the CLI passes stdout); null: nowhere.
  std::function<void(const std::string&)> print;
  bool tty = false;                                 // redraw bars instead of plain lines
  std::chrono::milliseconds report_interval{1000};  // progress persisted and printed
  IncrementalFactory incremental;                   // null: incremental unavailable
  Clock* clock = SystemClock::instance();
  // The data dir whose instance registry the task's source comes from; with a secondary node,
  // the runner watches the registry and fails the task when the node is deleted.
  std::string data_dir;
  // How often the node watch checks the registry, and the replication watch reads the secondary
  // node's replica status (a stopped or broken node replication is shown, never fatal).
  std::chrono::milliseconds node_watch_interval{2000};
};

class TaskRunner {
 public:
  TaskRunner(TaskConfig config, StateStore* store, RunnerOptions options);

  // Runs until the task completes, fails, or stop becomes true. OK for completed and for paused
  // on request; the error (also persisted as last_error) otherwise.
  Status run(const std::atomic<bool>& stop);

  Progress& progress() { return progress_; }

 private:
  Status runPhases(const std::atomic<bool>& stop);
  // runPhases again and again while the failure is retryable and the retry window
  // (options.retry_time_for_*) is open; each attempt resumes from the saved state (see
  // retry_loop.h; the window is measured on options.clock).
  Status runWithRetries(const std::atomic<bool>& stop);
  // The watch of the source's secondary node's replication (source/replication_health.h),
  // reporting into state_.source_replication.
  Result<std::unique_ptr<source::ReplicationWatch>> replicationWatch();
  // Logs (and prints) the start and the end of a degraded node replication.
  void onReplicationChange(const source::ReplicationHealth& before,
                           const source::ReplicationHealth& now);
  Status save();
  // save() for the paths that go on when it fails: the failure is logged and counted
  // (Degraded::kStateSaveFailed). when: "at a phase change", for the log.
  void saveOrCount(const char* when);
  // No rate and no lag to show (nothing moves: checking again, paused, failed, completed).
  void clearRates();
  void setPhase(TaskPhase phase);
  // options.verify (task/verify.h), results into state_.verify. online: the incremental phase
  // runs meanwhile, so a differing chunk is re-checked once progress_'s checkpoint has passed
  // the source position at which it was read. A failed verification is recorded, never fails
  // the task.
  void runVerification(const std::atomic<bool>& stop, bool online);
  // options.verify.incremental: every interval, the rows `changed` collected are compared by key
  // once the destination has applied them (RowVerifier), until stop; results into
  // state_.verify.incremental. Errors are recorded and the next interval tries again.
  void runIncrementalVerification(const std::atomic<bool>& stop, ChangedKeys* changed);
  // Returns once the destination holds the source position `pos` (the task's start position
  // merged with progress_'s checkpoint covers it); kAborted when stop becomes true first.
  Status waitApplied(const std::string& start, const std::string& pos,
                     const std::atomic<bool>& stop);
  void say(const std::string& line);
  // Says what copySchemaObjects did; each object the destination lacks is also logged and
  // counted (Degraded::kDdlNotApplied).
  void reportSchemaObjects(const SchemaObjectsResult& made,
                           const std::vector<std::string>& not_moved);

  TaskConfig config_;
  StateStore* store_;
  RunnerOptions options_;
  Progress progress_;
  std::mutex state_mu_;
  TaskState state_;
  // Rows moved when the last "retrying" line was recorded: once more have moved, the outage is
  // over and the line is cleared.
  std::atomic<uint64_t> rows_at_retry_{0};
  // The precheck table last printed: a retry attempt prints it again only when it changed (the
  // "retrying" line already names the failure), so a long outage does not flood the log.
  std::string last_precheck_;
  bool phases_ran_ = false;  // runPhases ran before in this process: a call now is a retry
};

}  // namespace dts::task
