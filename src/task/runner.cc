#include "task/runner.h"

#include <unistd.h>

#include <condition_variable>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "common/terminal_text.h"
#include "mysql/connection.h"
#include "mysql/gtid.h"
#include "source/cluster_source.h"
#include "source/replication_health.h"
#include "source/retry_policy.h"
#include "task/cluster_rules.h"
#include "task/full_loader.h"
#include "task/full_meta.h"
#include "task/precheck.h"
#include "task/retry_loop.h"
#include "task/run_lock.h"
#include "task/schema_copier.h"
#include "task/schema_history_store.h"
#include "task/schema_objects.h"
#include "task/verify.h"
#include "task/verify_changes.h"

namespace dts::task {

namespace {
// Milliseconds since the epoch on `clock` (the task state's times).
int64_t epochMs(Clock* clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch())
      .count();
}
}  // namespace

TaskRunner::TaskRunner(TaskConfig config, StateStore* store, RunnerOptions options)
    : config_(std::move(config)), store_(store), options_(std::move(options)) {}

void TaskRunner::say(const std::string& line) {
  if (options_.print) options_.print(line);
}

void TaskRunner::reportSchemaObjects(const SchemaObjectsResult& made,
                                     const std::vector<std::string>& not_moved) {
  if (!made.created.empty() || !made.existing.empty()) {
    std::string list;
    for (const auto& c : made.created) list += (list.empty() ? "" : ", ") + c;
    say("schema objects: " + std::to_string(made.created.size()) + " created" +
        (list.empty() ? "" : " (" + list + ")") + ", " + std::to_string(made.existing.size()) +
        " existing\n");
  }
  // Each is a destination without an object the source has: said, logged and counted.
  auto lacking = [&](const std::string& what) {
    say("  warning: " + what + "\n");
    spdlog::warn("task {}: {}", config_.name, what);
    progress_.countDegraded(Degraded::kDdlNotApplied);
  };
  for (const auto& r : made.refused) lacking("not created at the destination: " + r);
  for (const auto& n : not_moved) lacking("not moved: " + n);
}

Status TaskRunner::save() {
  std::lock_guard<std::mutex> lock(state_mu_);
  state_.tables = progress_.tables();
  progress_.storeDegraded(&state_.degraded);
  state_.updated_at_ms = epochMs(options_.clock);
  return store_->save(state_);
}

void TaskRunner::setPhase(TaskPhase phase) {
  // Not moving rows (checking again before a retry, paused, failed, completed): no rate and no
  // lag to show; the last ones read as if the task still moved data (`s2 failed ... 435414
  // rows/s ... latency 971 ms`).
  const bool moving =
      phase == TaskPhase::kSchema || phase == TaskPhase::kFull || phase == TaskPhase::kIncremental;
  if (!moving) clearRates();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_.phase = phase;
  }
  progress_.setPhase(phase);
  saveOrCount("at a phase change");
}

void TaskRunner::clearRates() {
  progress_.setLatencyMs(-1);
  std::lock_guard<std::mutex> lock(state_mu_);
  state_.rps = 0;
  state_.mbps = 0;
  state_.latency_ms = -1;
}

void TaskRunner::saveOrCount(const char* when) {
  Status st = save();
  if (st.ok()) return;
  progress_.countDegraded(Degraded::kStateSaveFailed);
  spdlog::warn("saving task state {}: {}", when, st.toString());
}

namespace {

// Fields that must match for a state to belong to this task file (options may change).
std::string identity(const TaskConfig& c) {
  TaskConfig copy = c;
  copy.options = TaskOptions{};
  copy.options.incremental = c.incremental();
  // Which node of a registered instance is read is not part of the task: positions are GTIDs of
  // the instance, valid on any of its nodes (as across a promotion). A task stopped at a hole in
  // its node's binlog (source/binlog_continuity.h) moves on by reading the primary or another
  // node, then goes back.
  if (!copy.source.instance.empty()) copy.source.secondary_node.clear();
  // exclude_tables may grow (excludedTableNowMoved): the way past a table dts cannot move that the
  // source created in a database moved whole.
  for (auto& db : copy.objects) db.exclude.clear();
  return taskToYaml(copy);
}

// A table the previous file excluded and this one moves: it was never loaded, so its rows would
// be missing at the destination. Empty when every excluded table stays excluded.
std::string excludedTableNowMoved(const TaskConfig& previous, const TaskConfig& now) {
  for (const auto& before : previous.objects) {
    for (const auto& db : now.objects) {
      if (db.database != before.database) continue;
      for (const auto& t : before.exclude)
        if (!db.excludes(t)) return mysql::quoteQualified(db.database, t);
    }
  }
  return "";
}

}  // namespace

Status TaskRunner::runWithRetries(const std::atomic<bool>& stop) {
  source::RetryOptions ro;
  ro.failed_connections = std::chrono::minutes(config_.options.retry_time_for_failed_connections);
  ro.other_issues = std::chrono::minutes(config_.options.retry_time_for_other_issues);
  DTS_RETURN_IF_ERROR(ro.validate());
  source::RetryPolicy retry(ro, options_.clock);
  // Whether the next retried error goes on the outage of the newest error entry.
  bool same_outage = false;
  {
    // The last process died while retrying (its run would have cleared `retrying`): the outage
    // it rode out since its error was first seen goes on. Otherwise an unrecovered entry is an
    // outage that ended in a failure or a stop: one met now is a new one, with its own window
    // (carried from that old entry, a task started again gave up within minutes).
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!state_.retrying.empty() && !state_.errors.empty() &&
        state_.errors.back().recovered_at_ms == 0 && state_.errors.back().at_ms > 0) {
      retry.carryOutage(Clock::TimePoint(std::chrono::milliseconds(state_.errors.back().at_ms)));
      same_outage = true;
    }
  }

  // The phases stop on the caller's flag or when the task's secondary node is deleted.
  std::atomic<bool> inner_stop{false};
  std::mutex mu;
  Status node_deleted;
  std::unique_ptr<source::NodeWatch> watch;
  if (!config_.source.secondary_node.empty() && !options_.data_dir.empty()) {
    watch = std::make_unique<source::NodeWatch>(options_.data_dir, config_.source.instance,
                                                config_.source.secondary_node,
                                                options_.node_watch_interval, [&](Status deleted) {
                                                  std::lock_guard<std::mutex> lock(mu);
                                                  node_deleted = deleted;
                                                  inner_stop.store(true);
                                                });
    watch->start();
  }
  // The node's own replication from the primary: the lag is measured against the node, so a
  // node that stopped replicating would look perfectly caught up. Degraded, never a failure.
  std::unique_ptr<source::ReplicationWatch> replication;
  if (!config_.source.secondary_node.empty()) {
    auto opened = replicationWatch();
    if (opened.ok()) {
      replication = std::move(opened).value();
      replication->start();
    } else {
      spdlog::warn("task {}: not watching the replication of source node {}: {}", config_.name,
                   config_.source.secondary_node, opened.status().message());
    }
  }
  std::atomic<bool> done{false};
  std::thread bridge([&] {
    while (!done.load()) {
      if (stop.load()) inner_stop.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto deleted = [&]() {
    std::lock_guard<std::mutex> lock(mu);
    return node_deleted;
  };

  RetryLoopHooks hooks;
  hooks.attempt = [&] { return runPhases(inner_stop); };
  hooks.progress = [&] { return progress_.rowsMoved(); };
  hooks.interrupted = deleted;
  hooks.on_retry = [&](const std::string& retrying, const Status& error) {
    spdlog::warn("task {}: {}", config_.name, retrying);
    say("  " + retrying + "\n");
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      state_.retrying = retrying;
      // The first retry of this run opens a new outage unless it goes on with a carried one;
      // later ones in the run go on with the entry (a recovery in between closes it).
      recordError(&state_, error.toString(), epochMs(options_.clock), !same_outage);
      same_outage = true;
      rows_at_retry_.store(progress_.rowsMoved());
    }
    saveOrCount("while retrying");
  };
  Status st = runWithRetryWindow(retry, options_.clock, hooks, stop, inner_stop);
  done.store(true);
  bridge.join();
  if (watch) watch->stop();
  if (replication) replication->stop();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_.retrying.clear();
    // Not watched any more: what the watch last saw is history, not the node's state now.
    state_.source_replication = source::ReplicationHealth{};
  }
  return st;
}

Result<std::unique_ptr<source::ReplicationWatch>> TaskRunner::replicationWatch() {
  // A poll must never hold the task up for long: a hung node is the task's retry to report.
  DTS_ASSIGN_OR_RETURN(source::ReplicationWatch::Options wo, sourceNodeWatchOptions(config_));
  wo.interval = options_.node_watch_interval;
  wo.clock = options_.clock;
  return std::make_unique<source::ReplicationWatch>(
      std::move(wo), [this](const source::ReplicationHealth& now, bool changed) {
        source::ReplicationHealth before;
        {
          std::lock_guard<std::mutex> lock(state_mu_);
          before = state_.source_replication;
          state_.source_replication = now;
        }
        if (!changed) return;
        onReplicationChange(before, now);
        saveOrCount("when the source node's replication changed");
      });
}

void TaskRunner::onReplicationChange(const source::ReplicationHealth& before,
                                     const source::ReplicationHealth& now) {
  using S = source::ReplicationHealth::State;
  const std::string line = source::describeReplicationHealth(now);
  if (now.state == S::kStopped || now.state == S::kUnknown) {
    // Once per condition (the watch reports changes only): the DBA must act on the node.
    spdlog::warn("task {}: {}", config_.name, line);
    say("  warning: " + line + "\n");
  } else if (before.state == S::kStopped || before.state == S::kUnknown) {
    const std::string cleared =
        now.state == S::kRunning
            ? "replication of source node " + now.node + " running again"
            : "source node " + now.node + " replicates from nothing now (it is the primary)";
    spdlog::info("task {}: {}", config_.name, cleared);
    say("  " + cleared + "\n");
  }
}

Status TaskRunner::run(const std::atomic<bool>& stop) {
  // Claimed before the state is read: a second process never touches a running task's state.
  std::unique_ptr<TaskRunLock> claim;
  if (!options_.data_dir.empty()) {
    DTS_ASSIGN_OR_RETURN(claim, TaskRunLock::acquire(options_.data_dir, config_.name));
  }
  auto loaded = store_->load(config_.name);
  if (!loaded.ok()) return loaded.status();
  if (loaded->has_value()) {
    state_ = std::move(**loaded);
    auto previous = parseTaskYaml(state_.config_yaml);
    // A task that has written nothing anywhere yet (it never passed its precheck) takes the
    // edited file: that is how a typo the precheck found gets fixed.
    const bool wrote_nothing = !state_.schema_started && !state_.schema_done;
    if (previous.ok() && identity(*previous) != identity(config_) && !wrote_nothing) {
      return Status::FailedPrecondition(
          "task '" + config_.name +
          "' in this data dir was created from a different task file (kind, source, "
          "destination or objects changed) and has already written data; use another name, or "
          "`dts task delete " +
          config_.name + " --data-dir DIR` first (the destination's copy stays as it is)");
    }
    if (const std::string moved = previous.ok() && !wrote_nothing
                                      ? excludedTableNowMoved(*previous, config_)
                                      : std::string();
        !moved.empty()) {
      return Status::FailedPrecondition(
          "task '" + config_.name + "': " + moved +
          " was in exclude_tables and has already been left out of the full load; a task that "
          "has written data may exclude more tables, not fewer (keep it excluded, or create a "
          "new task to move it)");
    }
    if (state_.phase == TaskPhase::kCompleted) {
      say("task " + config_.name + " already completed\n");
      return Status::OK();
    }
    for (const auto& t : state_.tables) {
      auto* p =
          progress_.addTable(t.source_database, t.source_table, t.target_database, t.target_table);
      p->rows_done = t.rows_done;
      p->rows_estimated = t.rows_estimated;
      p->bytes_done = t.bytes_done;
      p->done = t.done;
      p->changes_applied = t.changes_applied;
    }
    progress_.restoreDegraded(state_.degraded);
  } else {
    state_.name = config_.name;
    state_.kind = taskKindName(config_.kind);
    state_.phase = TaskPhase::kCreated;
  }
  state_.config_yaml = taskToYaml(config_);
  // A new run has no error yet; an earlier one's stays in state_.errors (recovered once this run
  // works).
  state_.last_error.clear();
  if (config_.kind == TaskKind::kTracking) {
    state_.tracking.retention_hours = config_.options.retention_hours;
    state_.tracking.retention_bytes = config_.options.retention_bytes;
  }
  DTS_RETURN_IF_ERROR(save());

  // Progress reporter: persists state and prints, until the phases end.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread reporter([&] {
    std::unique_lock<std::mutex> lock(mu);
    int lines_drawn = 0;
    auto last_plain = std::chrono::steady_clock::now() - std::chrono::hours(1);
    while (!finished) {
      cv.wait_for(lock, options_.report_interval);
      auto now = std::chrono::steady_clock::now();
      auto rates = progress_.sample(now);
      const OpenTransaction open = progress_.sinkGauges().open_transaction;
      source::ReplicationHealth node_health;
      {
        std::lock_guard<std::mutex> slock(state_mu_);
        node_health = state_.source_replication;
        // Rates of a phase that moves data; a task completed, failed or paused moves nothing
        // (its last sample would stay in the saved state as if it still did).
        const bool moving = state_.phase == TaskPhase::kSchema ||
                            state_.phase == TaskPhase::kFull ||
                            state_.phase == TaskPhase::kIncremental;
        state_.rps = moving ? rates.rps : 0;
        state_.mbps = moving ? rates.mbps : 0;
        state_.latency_ms = progress_.latencyMs();
        state_.open_transaction = open;
        if (std::string cp = progress_.checkpoint(); !cp.empty()) state_.checkpoint_gtid = cp;
        // Streaming again (the engine says so) or rows moving again: the outage is over, and
        // its error is history (recovered at now), no longer the task's error.
        bool healthy = progress_.takeHealthy();
        if (healthy || progress_.rowsMoved() > rows_at_retry_.load()) {
          state_.retrying.clear();
          recordRecovery(&state_, epochMs(options_.clock));
        }
        if (const Progress::SinkGauges g = progress_.sinkGauges(); g.log_end_offset >= 0) {
          state_.tracking.first_offset = g.log_first_offset;
          state_.tracking.end_offset = g.log_end_offset;
          state_.tracking.disk_bytes = g.log_disk_bytes;
        }
      }
      saveOrCount("for the progress report");
      TaskPhase phase = progress_.phase();
      if (phase != TaskPhase::kFull && phase != TaskPhase::kIncremental) continue;
      std::string frame = renderProgress(
          config_.name, phase, progress_.tables(), rates, progress_.latencyMs(), options_.tty, open,
          config_.kind == TaskKind::kTracking ? &state_.tracking : nullptr, node_health);
      if (options_.tty) {
        std::string clear;
        for (int i = 0; i < lines_drawn; ++i) clear += "\x1b[1A\x1b[2K";
        lines_drawn = static_cast<int>(terminalRows(frame, terminalColumns(STDOUT_FILENO)));
        say(clear + frame);
      } else if (now - last_plain >= std::chrono::seconds(5)) {
        last_plain = now;
        say(frame);
      }
    }
  });
  Status st = runWithRetries(stop);
  {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
    cv.notify_all();
  }
  reporter.join();
  {
    // The engine has stopped: a transaction it had open at the destination was rolled back.
    std::lock_guard<std::mutex> lock(state_mu_);
    state_.open_transaction = {};
  }
  if (st.code() == Status::Code::kAborted && stop.load()) {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      state_.last_error.clear();
    }
    setPhase(TaskPhase::kPaused);
    say("task " + config_.name +
        " paused: progress saved; run again with the same data dir to resume\n");
    return Status::OK();
  }
  if (!st.ok()) {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      recordError(&state_, st.toString(), epochMs(options_.clock));
    }
    setPhase(TaskPhase::kFailed);
    return st;
  }
  return Status::OK();
}

Status TaskRunner::runPhases(const std::atomic<bool>& stop) {
  DTS_ASSIGN_OR_RETURN(pipeline::Mapping mapping, config_.mapping());
  // A retry checks again in the phase it retries (with `retrying` set, nothing moving): a task
  // seen going back to prechecking reads as one starting over.
  TaskPhase current;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    current = state_.phase;
  }
  const bool retry_in_phase =
      phases_ran_ && (current == TaskPhase::kSchema || current == TaskPhase::kFull ||
                      current == TaskPhase::kIncremental);
  phases_ran_ = true;
  if (retry_in_phase) {
    clearRates();
  } else {
    setPhase(TaskPhase::kPrechecking);
  }
  PrecheckOptions pre;
  {
    // Tables a killed run created in its schema phase are this task's, not conflicts.
    std::lock_guard<std::mutex> lock(state_mu_);
    pre.schema_started = state_.schema_done || state_.schema_started;
  }
  DTS_ASSIGN_OR_RETURN(PrecheckReport report, runPrecheck(config_, mapping, pre));
  if (std::string table = report.toString(); table != last_precheck_) {
    say("precheck:\n" + table);
    last_precheck_ = std::move(table);
  }
  DTS_RETURN_IF_ERROR(report.toStatus());
  if (stop.load()) return Status::Aborted("stopped");
  std::set<std::pair<std::string, std::string>> selected;
  for (const auto& t : report.catalog) {
    selected.emplace(t.route.source_database, t.route.source_table);
    if (progress_.findTable(t.route.source_database, t.route.source_table) == nullptr) {
      auto* p = progress_.addTable(t.route.source_database, t.route.source_table,
                                   t.route.target_database, t.route.target_table);
      // A tracking task loads nothing: its tables have no rows to estimate. Nor does a table
      // the selection gained after the full data (created, or renamed into it, during
      // incremental): its rows came as changes, and it is no table left to load.
      bool after_full = false;
      {
        std::lock_guard<std::mutex> lock(state_mu_);
        after_full = state_.full_done;
      }
      if (after_full)
        p->done = true;
      else if (config_.kind != TaskKind::kTracking)
        p->rows_estimated = t.estimated_rows;
    }
  }
  // Tables of an earlier run that the source no longer has (dropped, or renamed: the new name
  // is in the catalog) are not this task's any more: `dts status` stops listing them.
  for (const auto& t : progress_.tables()) {
    if (!selected.count({t.source_database, t.source_table}))
      progress_.forgetTable(t.source_database, t.source_table);
  }

  DTS_ASSIGN_OR_RETURN(auto src_opts, config_.source.connectOptions());
  if (config_.kind == TaskKind::kTracking) {
    // No schema and no full data: the change log starts at options.start (a GTID set), or at the
    // oldest binlog when options.start is a time (the log drops what committed before it), or
    // at the source's position now (below).
    std::lock_guard<std::mutex> lock(state_mu_);
    state_.schema_done = state_.full_done = true;
    if (!state_.start_gtid.has_value() && !config_.options.start.empty())
      state_.start_gtid = config_.options.start_ms >= 0 ? "" : config_.options.start;
  }
  mysql::ConnectOptions dest_opts;
  if (!state_.schema_done || !state_.full_done) {
    DTS_ASSIGN_OR_RETURN(dest_opts, config_.destination.connectOptions());
  }
  if (!state_.schema_done) {
    setPhase(TaskPhase::kSchema);
    DTS_ASSIGN_OR_RETURN(auto src, mysql::Connection::connect(src_opts));
    DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_opts));
    bool first_write = false;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      first_write = !state_.schema_started;
    }
    if (first_write) {
      // Nothing of this task is at the destination yet: what dts_meta holds under its name is
      // an earlier task's (deleted, or run from another data dir), and must not count as this
      // one's chunks loaded or transactions applied.
      DTS_ASSIGN_OR_RETURN(uint64_t removed,
                           forgetEarlierTask(*dest, config_.name, report.catalog));
      if (removed > 0) {
        say("  removed " + std::to_string(removed) + " rows an earlier task named " + config_.name +
            " left in the destination's dts_meta\n");
        spdlog::warn("task {}: removed {} rows of an earlier task of the same name from dts_meta",
                     config_.name, removed);
      }
    }
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      state_.schema_started = true;
    }
    // Durable before the first CREATE, or a run killed after it could never pass the conflict
    // check again.
    DTS_RETURN_IF_ERROR(save());
    DTS_ASSIGN_OR_RETURN(SchemaResult schema, copySchema(*src, *dest, report.catalog, mapping));
    say("schema: " + std::to_string(schema.created.size()) + " tables created, " +
        std::to_string(schema.existing.size()) + " existing\n");
    for (const auto& w : schema.warnings) say("  warning: " + w + "\n");
    if (!report.schema_objects) {
      DTS_ASSIGN_OR_RETURN(report.schema_objects,
                           planSchemaObjects(*src, mapping, config_.incremental()));
    }
    const SchemaObjectPlan& objects = *report.schema_objects;
    DTS_ASSIGN_OR_RETURN(SchemaObjectsResult made,
                         copySchemaObjects(*src, *dest, objects.create, mapping));
    reportSchemaObjects(made, objects.not_moved);
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      state_.schema_done = true;
    }
    DTS_RETURN_IF_ERROR(save());
  }
  if (stop.load()) return Status::Aborted("stopped");

  if (!state_.full_done) {
    setPhase(TaskPhase::kFull);
    FullLoadOptions fo;
    fo.task = config_.name;
    fo.parallelism = config_.options.parallelism;
    fo.limits = config_.options.full;
    fo.chunk_rows = config_.options.full_chunk_rows;
    fo.method = config_.options.full_method;
    fo.insert_ignore = config_.options.conflicting_tables == ConflictPolicy::kIgnore;
    // The schema history starts at the first snapshot's position, with the definitions in
    // force there: a DDL between it and the start of the incremental phase is then replayed onto
    // the definitions it changed, not onto ones that already hold it.
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      fo.hold_ddl_at_first_snapshot = config_.incremental() && !state_.start_gtid.has_value();
      fo.one_snapshot = !config_.incremental();
    }
    FullLoader loader(src_opts, dest_opts, report.catalog, fo, &progress_, &stop, options_.clock);
    auto started = std::chrono::steady_clock::now();
    // The definitions read while DDL is held off on the source, written once it is not: DDL at
    // the destination (dts_meta's CREATE) would wait for that hold when both are one server.
    std::optional<std::string> starting_definitions;
    size_t starting_tables = 0;
    DTS_RETURN_IF_ERROR(loader.run([&](const std::string& gtid, mysql::Connection* reader) {
      {
        std::lock_guard<std::mutex> lock(state_mu_);
        if (state_.start_gtid.has_value()) return Status::OK();
      }
      if (reader != nullptr) {
        std::vector<std::pair<std::string, std::string>> tables;
        for (const CatalogTable& t : report.catalog) {
          tables.emplace_back(t.route.source_database, t.route.source_table);
        }
        DTS_ASSIGN_OR_RETURN(
            starting_definitions,
            readStartingDefinitions(*reader, mapping, std::move(tables), &starting_tables));
        return Status::OK();
      }
      if (starting_definitions.has_value()) {
        DTS_ASSIGN_OR_RETURN(auto store, SchemaHistoryStore::open(dest_opts, config_.name));
        DTS_RETURN_IF_ERROR(store->clear());
        DTS_RETURN_IF_ERROR(store->save(1, "", *starting_definitions));
        starting_definitions.reset();
        spdlog::info("task {}: schema history starts at {} with the definitions of {} tables",
                     config_.name, gtid.empty() ? "the source's first transaction" : gtid,
                     starting_tables);
      }
      {
        std::lock_guard<std::mutex> lock(state_mu_);
        state_.start_gtid = gtid;
      }
      // Persisted before any row of this snapshot can commit (the loader waits for us). When it
      // cannot be (a full disk under the data dir), no row may commit: a run killed then would
      // start the incremental phase at a later snapshot and miss the changes in between to the
      // chunks already loaded. The attempt fails and is retried (RetryPolicy: a full disk is a
      // retryable other issue), with the position taken again.
      Status st = save();
      if (!st.ok()) {
        {
          std::lock_guard<std::mutex> lock(state_mu_);
          state_.start_gtid.reset();
        }
        return st.withContext("saving the incremental start position");
      }
      return Status::OK();
    }));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      state_.full_done = true;
    }
    DTS_RETURN_IF_ERROR(save());
    uint64_t rows = 0;
    for (const auto& t : progress_.tables()) rows += t.rows_done;
    say("full data: " + std::to_string(report.catalog.size()) + " tables, " + std::to_string(rows) +
        " rows in " + std::to_string(secs).substr(0, std::to_string(secs).find('.') + 2) + " s\n");
  }
  const VerifySettings& vs = config_.options.verify;
  bool verify = vs.full || vs.schema;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    verify = verify && !state_.verify.done();
  }
  if (!config_.incremental()) {
    {
      // The destination takes over: the moved tables' triggers now belong there (never before
      // the rows are in: they would act on every row loaded).
      DTS_ASSIGN_OR_RETURN(auto src, mysql::Connection::connect(src_opts));
      if (!report.schema_objects) {
        DTS_ASSIGN_OR_RETURN(report.schema_objects, planSchemaObjects(*src, mapping, false));
      }
      if (!report.schema_objects->triggers.empty()) {
        DTS_ASSIGN_OR_RETURN(auto trigger_dest_opts, config_.destination.connectOptions());
        DTS_ASSIGN_OR_RETURN(auto dest_conn, mysql::Connection::connect(trigger_dest_opts));
        DTS_ASSIGN_OR_RETURN(
            SchemaObjectsResult made,
            copySchemaObjects(*src, *dest_conn, report.schema_objects->triggers, mapping));
        reportSchemaObjects(made, {});
      }
    }
    if (verify) runVerification(stop, false);
    if (stop.load()) return Status::Aborted("stopped");
    setPhase(TaskPhase::kCompleted);
    say("task " + config_.name + " completed\n");
    return Status::OK();
  }
  if (stop.load()) return Status::Aborted("stopped");

  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!state_.start_gtid.has_value()) {
      // No snapshot was opened (nothing selected): incremental starts at the source's position now.
      auto src = mysql::Connection::connect(src_opts);
      if (!src.ok()) return src.status();
      auto pos = (*src)->queryValue((*src)->isMariaDB() ? "SELECT @@GLOBAL.gtid_binlog_pos"
                                                        : "SELECT @@GLOBAL.gtid_executed");
      if (!pos.ok()) return pos.status();
      state_.start_gtid = pos->value_or("");
    }
  }
  setPhase(TaskPhase::kIncremental);
  if (!options_.incremental) {
    return Status::Unsupported(
        "incremental phase: no binlog applier in this build; full data is done and the "
        "incremental start position is saved (" +
        (state_.start_gtid->empty() ? "from the start" : *state_.start_gtid) + ")");
  }
  IncrementalContext ctx{config_, mapping, report.catalog, options_.data_dir, nullptr};
  // Incremental verification: the engine reports every change's key, bounded by
  // max_changed_rows between two checks.
  std::unique_ptr<ChangedKeys> changed;
  if (vs.incremental) {
    changed = std::make_unique<ChangedKeys>(report.catalog, vs.max_changed_rows);
    ctx.on_read = [keys = changed.get()](const pipeline::Transaction& t) { keys->add(t); };
  }
  DTS_ASSIGN_OR_RETURN(auto engine, options_.incremental(ctx));
  // The start was read from the source (@@gtid_binlog_pos, @@gtid_executed) or given as
  // options.start; its text tells its flavour.
  auto start_r = mysql::GtidPosition::parseStored(*state_.start_gtid);
  if (!start_r.ok()) {
    return start_r.status().withContext("incremental phase of task '" + config_.name +
                                        "': its start position");
  }
  const std::optional<mysql::GtidPosition> start = std::move(start_r).value();
  // Verification runs beside the incremental phase and ends with it.
  std::atomic<bool> verify_stop{false};
  std::thread verifier, incremental_verifier;
  if (verify) verifier = std::thread([&] { runVerification(verify_stop, true); });
  if (changed)
    incremental_verifier =
        std::thread([&] { runIncrementalVerification(verify_stop, changed.get()); });
  Status applied = engine->run(start, &progress_, stop);
  verify_stop.store(true);
  if (verifier.joinable()) verifier.join();
  if (incremental_verifier.joinable()) incremental_verifier.join();
  DTS_RETURN_IF_ERROR(applied);
  if (stop.load()) return Status::Aborted("stopped");
  setPhase(TaskPhase::kCompleted);
  return Status::OK();
}

Status TaskRunner::waitApplied(const std::string& start, const std::string& pos,
                               const std::atomic<bool>& stop) {
  // Applied: the start position (everything before it came with full data) merged with the
  // applier's checkpoint covers the position. A position the two cannot be compared with (other
  // flavour, unparsable) is waited for until stop: never a false alarm.
  DTS_ASSIGN_OR_RETURN(auto read_at, mysql::GtidPosition::parseStored(pos));
  if (!read_at.has_value()) return Status::OK();  // read before any transaction
  const mysql::GtidPosition want = *read_at;
  const mysql::GtidFlavor flavor = want.flavor();
  while (!stop.load()) {
    auto have = mysql::GtidPosition::parse(start, flavor);
    auto cp = mysql::GtidPosition::parse(progress_.checkpoint(), flavor);
    if (have.ok() && cp.ok() && have->merge(*cp).ok()) {
      mysql::GtidPosition merged = *have;
      if (merged.merge(want).ok() && merged == *have) return Status::OK();
    }
    options_.clock->sleepFor(std::chrono::milliseconds(200));
  }
  return Status::Aborted("stopped while waiting for the destination to apply " + pos);
}

namespace {

VerifyOptions verifyOptionsOf(const TaskConfig& config) {
  const VerifySettings& vs = config.options.verify;
  VerifyOptions vo;
  vo.schema = vs.schema;
  vo.data = vs.full;
  vo.max_rps = vs.max_rps > 0 ? vs.max_rps : config.options.full.max_rps;
  vo.load = LoadLimits{vs.max_threads_running, vs.max_slowdown};
  vo.parallelism = vs.parallelism;
  return vo;
}

}  // namespace

void TaskRunner::runIncrementalVerification(const std::atomic<bool>& stop, ChangedKeys* changed) {
  VerifyOptions vo = verifyOptionsOf(config_);
  std::string start;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_.verify.incremental.enabled = true;
    start = state_.start_gtid.value_or("");
  }
  vo.wait_applied = [this, start, &stop](const std::string& pos) {
    return waitApplied(start, pos, stop);
  };
  const auto interval = std::chrono::seconds(config_.options.verify.interval_seconds);
  uint64_t dropped_seen = changed->dropped();
  std::unique_ptr<RowVerifier> rows_verifier;
  while (!stop.load()) {
    for (auto waited = std::chrono::milliseconds(0); waited < interval && !stop.load();
         waited += std::chrono::milliseconds(100))
      options_.clock->sleepFor(std::chrono::milliseconds(100));
    if (stop.load()) break;
    std::vector<ChangedRows> batch = changed->take();
    uint64_t dropped = changed->dropped();
    if (dropped > dropped_seen) {
      spdlog::warn(
          "task {}: incremental verification skipped {} changed rows (more than {} "
          "between two checks: options.verify.max_changed_rows)",
          config_.name, dropped - dropped_seen, config_.options.verify.max_changed_rows);
      progress_.countDegraded(Degraded::kVerifyRowsSkipped);
      std::lock_guard<std::mutex> lock(state_mu_);
      state_.verify.incremental.skipped += dropped - dropped_seen;
      dropped_seen = dropped;
    }
    if (batch.empty()) continue;
    if (rows_verifier == nullptr) {
      auto opened = RowVerifier::open(config_, vo);
      if (!opened.ok()) {
        spdlog::warn("task {}: incremental verification: {}", config_.name,
                     opened.status().message());
        std::lock_guard<std::mutex> lock(state_mu_);
        for (const auto& rows : batch) state_.verify.incremental.skipped += rows.keys.size();
        continue;
      }
      rows_verifier = std::move(opened).value();
    }
    for (const auto& rows : batch) {
      TableVerifyResult result;
      Status st = rows_verifier->compare(rows, stop, &result);
      std::lock_guard<std::mutex> lock(state_mu_);
      auto& inc = state_.verify.incremental;
      if (!st.ok()) {
        if (st.code() == Status::Code::kAborted) break;
        spdlog::warn("task {}: incremental verification: {}", config_.name, st.message());
        inc.skipped += rows.keys.size();
        rows_verifier.reset();  // connections may be gone: reopened next time
        break;
      }
      inc.rows_checked += result.source_rows;
      inc.row_differences += result.row_differences;
      inc.rechecks += result.rechecks;
      if (result.row_differences > 0) {
        VerifyReport one;
        one.task = config_.name;
        one.tables.push_back(result);
        // The differences only: no table line (its counts are this batch's), no totals line.
        std::string text = verifyReportText(one);
        text = text.substr(0, text.rfind("DIFFERENT:"));
        text = result.source_table + " -> " + result.target_table + ":\n" +
               text.substr(text.find('\n') + 1);
        // One log line per line of the report (the log escapes a newline inside a message).
        spdlog::warn("task {}: incremental verification found {} row(s) different:", config_.name,
                     result.row_differences);
        for (std::string_view line : split(text, '\n'))
          if (!line.empty()) spdlog::warn("task {}:   {}", config_.name, line);
        constexpr size_t kMaxDetail = 4000;
        inc.detail += text;
        if (inc.detail.size() > kMaxDetail)
          inc.detail = inc.detail.substr(inc.detail.size() - kMaxDetail);
      }
    }
  }
}

void TaskRunner::runVerification(const std::atomic<bool>& stop, bool online) {
  VerifyOptions vo = verifyOptionsOf(config_);
  if (!options_.data_dir.empty())
    vo.progress_file = options_.data_dir + "/verify/" + config_.name + ".task.json";
  std::string start;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    IncrementalVerifyState incremental = state_.verify.incremental;
    state_.verify = VerifyState{};
    state_.verify.incremental = incremental;
    state_.verify.state = "running";
    state_.verify.tables_total = progress_.tables().size();
    start = state_.start_gtid.value_or("");
  }
  saveOrCount("when verification started");
  if (online) {
    vo.wait_applied = [this, start, &stop](const std::string& pos) {
      return waitApplied(start, pos, stop);
    };
  }
  // What the status shows of the differences (the full report is `dts verify`'s job): bounded, so
  // the state stays small whatever the tables hold.
  constexpr size_t kShownTables = 20, kShownRows = 20, kShownValueBytes = 200;
  auto differing = std::make_shared<nlohmann::json>(nlohmann::json::array());
  vo.on_table = [this, differing](const TableVerifyResult& t) {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!t.equal() && differing->size() < kShownTables) {
      differing->push_back(verifyTableJson(t, kShownRows, kShownValueBytes));
      state_.verify.differing_tables_json =
          differing->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    state_.verify.chunks += t.chunks;
    state_.verify.rows_checked += t.source_rows;
    ++state_.verify.tables_checked;
    state_.verify.row_differences += t.row_differences;
    state_.verify.schema_differences += t.schema.size() + (t.data_skipped_reason.empty() ? 0 : 1);
    state_.verify.rechecks += t.rechecks;
    state_.verify.chunks_resumed += t.chunks_resumed;
  };
  auto report = verifyTask(config_, vo, stop);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (report.ok()) {
      state_.verify.state = report->equal() ? "equal" : "different";
      state_.verify.seconds = report->seconds;
      std::string text = verifyReportText(*report);
      constexpr size_t kMaxDetail = 4000;  // the full report is `dts verify`'s job
      state_.verify.detail = text.size() > kMaxDetail ? text.substr(0, kMaxDetail) + "...\n" : text;
    } else {
      state_.verify.state = report.status().code() == Status::Code::kAborted ? "" : "failed";
      state_.verify.detail = report.status().message();
    }
  }
  if (report.ok()) {
    say("verification: " + std::string(report->equal() ? "equal" : "DIFFERENT") + ", " +
        std::to_string(report->rowDifferences()) + " row and " +
        std::to_string(report->schemaDifferences()) + " schema differences\n");
  } else if (report.status().code() != Status::Code::kAborted) {
    spdlog::warn("task {}: verification failed: {}", config_.name, report.status().message());
  }
  saveOrCount("after verification");
}

}  // namespace dts::task
