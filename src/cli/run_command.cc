#include "cli/run_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "server/api.h"
#include "source/replication_health.h"
#include "source/retry_policy.h"
#include "task/cluster_rules.h"
#include "task/incremental.h"
#include "task/run_lock.h"
#include "task/runner.h"
#include "task/state_store.h"
#include "task/task_config.h"

namespace dts::cli {
namespace {

int fail(const Status& st, int code = 1) {
  std::fprintf(stderr, "dts: %s\n", st.message().c_str());
  return code;
}

int runTask(const std::string& file, const std::string& data_dir) {
  auto config = task::loadTaskFile(file);
  if (!config.ok()) return fail(config.status(), 2);
  // A source given as an instance reads its node or read/write endpoint; a destination that
  // is a registered secondary node is refused before anything runs.
  Status resolved = task::resolveTaskEndpoints(&config.value(), data_dir);
  if (!resolved.ok()) return fail(resolved, 2);
  auto store = task::SqliteStateStore::open(data_dir);
  if (!store.ok()) return fail(store.status());
  const std::atomic<bool>& stop = catchStopSignals();
  task::RunnerOptions options;
  options.tty = isatty(STDOUT_FILENO) != 0;
  options.print = [](const std::string& s) {
    std::fputs(s.c_str(), stdout);
    std::fflush(stdout);
  };
  options.incremental = task::defaultIncrementalFactory();
  options.data_dir = data_dir;
  task::TaskRunner runner(*config, store->get(), options);
  Status st = runner.run(stop);
  if (!st.ok()) return fail(st);
  return 0;
}

nlohmann::json toJson(const task::TaskState& s) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : s.tables) {
    tables.push_back(server::tableProgressJson(t));
  }
  return {{"name", s.name},
          {"kind", s.kind},
          {"phase", task::phaseName(s.phase)},
          {"rps", s.rps},
          {"mbps", s.mbps},
          // Unknown (null) while the node read has stopped replicating: measured against that
          // node, a small number would read as healthy.
          {"latency_ms", s.latency_ms < 0 || s.source_replication.degraded()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(s.latency_ms)},
          {"start_gtid", s.start_gtid.value_or("")},
          {"checkpoint_gtid", s.checkpoint_gtid},
          {"open_transaction", task::openTransactionJson(s.open_transaction)},
          {"last_error", s.last_error},
          {"retrying", s.retrying},
          // The secondary node's own replication (null: not watched, e.g. the read/write
          // endpoint is read, or no process runs the task).
          {"source_replication", source::replicationHealthJson(s.source_replication)},
          {"degraded", s.degraded},
          {"updated_at_ms", s.updated_at_ms},
          {"verify", task::verifyStateJson(s.verify)},
          {"tables", tables}};
}

// A phase in which some process should be running the task.
bool activePhase(task::TaskPhase p) {
  return p == task::TaskPhase::kPrechecking || p == task::TaskPhase::kSchema ||
         p == task::TaskPhase::kFull || p == task::TaskPhase::kIncremental;
}

int status(const std::string& data_dir, bool json, const std::string& only) {
  struct stat dir_st;
  if (::stat(data_dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode))
    return fail(
        Status::NotFound("no data dir " + data_dir + " (--data-dir, $DTS_DATA_DIR, default .dts)"));
  auto store = task::SqliteStateStore::open(data_dir);
  if (!store.ok()) return fail(store.status());
  auto names = (*store)->list();
  if (!names.ok()) return fail(names.status());
  if (!only.empty() && std::find(names->begin(), names->end(), only) == names->end())
    return fail(Status::NotFound("no task named " + only + " in data dir " + data_dir));
  nlohmann::json all = nlohmann::json::array();
  for (const auto& name : *names) {
    if (!only.empty() && name != only) continue;
    auto s = (*store)->load(name);
    if (!s.ok()) return fail(s.status());
    if (!s->has_value()) continue;
    task::TaskState st = std::move(**s);
    // The state says where the task stood when it was last saved; only a process that holds
    // the task's run lock is running it now. Without one, its rates are history, not now.
    const std::optional<pid_t> pid = task::taskRunningPid(data_dir, name);
    const bool stale = activePhase(st.phase) && !pid.has_value();
    if (stale) {
      st.rps = st.mbps = 0;
      st.latency_ms = -1;
      st.open_transaction = {};
      st.source_replication = {};
    }
    if (json) {
      nlohmann::json j = toJson(st);
      j["running"] = pid.has_value();
      if (pid.has_value() && *pid > 0)
        j["pid"] = *pid;
      else
        j["pid"] = nullptr;
      all.push_back(std::move(j));
      continue;
    }
    std::printf("%s",
                task::renderProgress(st.name, st.phase, st.tables, {st.rps, st.mbps}, st.latency_ms,
                                     false, st.open_transaction, st.source_replication)
                    .c_str());
    if (stale) {
      std::printf(
          "  not running: no process runs this task now (it was killed or crashed); state as "
          "saved at %s; `dts run FILE --data-dir %s` resumes it from its checkpoint\n",
          (st.updated_at_ms > 0
               ? source::formatTime(Clock::TimePoint(std::chrono::milliseconds(st.updated_at_ms)))
               : std::string("never"))
              .c_str(),
          data_dir.c_str());
    }
    for (const auto& t : st.tables) {
      std::string changes = t.changes_applied == 0
                                ? ""
                                : "  " + std::to_string(t.changes_applied) + " changes applied";
      std::printf("  %-40s -> %-40s %12llu / %-12llu %s%s\n",
                  (t.source_database + "." + t.source_table).c_str(),
                  (t.target_database + "." + t.target_table).c_str(),
                  static_cast<unsigned long long>(t.rows_done),
                  static_cast<unsigned long long>(t.rows_estimated), t.done ? "done" : "    ",
                  changes.c_str());
    }
    if (st.start_gtid.has_value()) {
      std::printf("  incremental start: %s\n",
                  st.start_gtid->empty() ? "(the start of the binlog)" : st.start_gtid->c_str());
    }
    if (!st.checkpoint_gtid.empty()) std::printf("  checkpoint: %s\n", st.checkpoint_gtid.c_str());
    if (!st.retrying.empty()) std::printf("  %s\n", st.retrying.c_str());
    if (st.source_replication.state == source::ReplicationHealth::State::kUnknown)
      std::printf("  %s\n", source::describeReplicationHealth(st.source_replication).c_str());
    if (!st.degraded.empty()) {
      // Paths where the task warned and went on in a lesser way (task::Degraded).
      std::string list;
      for (const auto& [mode, count] : st.degraded)
        list += (list.empty() ? "" : ", ") + mode + " " + std::to_string(count);
      std::printf("  degraded: %s\n", list.c_str());
    }
    if (!st.verify.state.empty()) {
      std::printf("  verify: %s, %llu/%llu tables, %llu row and %llu schema differences\n",
                  st.verify.state.c_str(),
                  static_cast<unsigned long long>(st.verify.tables_checked),
                  static_cast<unsigned long long>(st.verify.tables_total),
                  static_cast<unsigned long long>(st.verify.row_differences),
                  static_cast<unsigned long long>(st.verify.schema_differences));
    }
    if (st.verify.incremental.enabled) {
      const auto& i = st.verify.incremental;
      std::printf("  verify incremental: %llu changed rows checked, %llu different, %llu skipped\n",
                  static_cast<unsigned long long>(i.rows_checked),
                  static_cast<unsigned long long>(i.row_differences),
                  static_cast<unsigned long long>(i.skipped));
    }
    if (!st.last_error.empty()) std::printf("  last error: %s\n", st.last_error.c_str());
  }
  if (json)
    std::printf("%s\n", all.dump(2).c_str());
  else if (names->empty())
    std::printf("no tasks in %s\n", data_dir.c_str());
  return 0;
}

}  // namespace

void registerRunCommands(CLI::App& app) {
  struct Args {
    std::string file;
    std::string data_dir = defaultDataDir();
    bool json = false;
    std::string task;
  };
  auto args = std::make_shared<Args>();
  auto* run = app.add_subcommand(
      "run", "run a task file in the foreground (Ctrl-C pauses; run again to resume)");
  run->add_option("task", args->file, "task file (YAML)")->required();
  run->add_option("--data-dir", args->data_dir,
                  "where task state is kept (default $DTS_DATA_DIR or .dts)");
  run->callback([args] { setExitCode(runTask(args->file, args->data_dir)); });
  auto* st = app.add_subcommand("status", "show the state and progress of the tasks in a data dir");
  st->add_option("--data-dir", args->data_dir, "data dir (default $DTS_DATA_DIR or .dts)");
  st->add_option("--task", args->task, "only this task");
  st->add_flag("--json", args->json, "JSON output");
  st->callback([args] { setExitCode(status(args->data_dir, args->json, args->task)); });
}

}  // namespace dts::cli
