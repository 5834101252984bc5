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
#include "server/kafka_groups.h"
#include "source/replication_health.h"
#include "source/retry_policy.h"
#include "task/cluster_rules.h"
#include "task/incremental.h"
#include "task/run_lock.h"
#include "task/runner.h"
#include "task/state_store.h"
#include "task/status_view.h"
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
          {"error_history", task::pastErrorsJson(s.errors)},
          {"retrying", s.retrying},
          // The secondary node's own replication (null: not watched, e.g. the read/write
          // endpoint is read, or no process runs the task).
          {"source_replication", source::replicationHealthJson(s.source_replication)},
          {"degraded", s.degraded},
          {"updated_at_ms", s.updated_at_ms},
          {"verify", task::verifyStatusJson(s.verify)},
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
    // A tracking task's consumer groups, from the offset store the server keeps beside the
    // state (read only when it exists: a status never creates files).
    task::StatusContext ctx;
    ctx.not_running = stale;
    ctx.data_dir = data_dir;
    const std::string offsets_path = data_dir + "/kafka-offsets.db";
    if (st.kind == "tracking" && ::access(offsets_path.c_str(), F_OK) == 0) {
      auto offsets = server::kafka::OffsetStore::open(offsets_path);
      if (!offsets.ok()) return fail(offsets.status());
      auto groups = (*offsets)->groupsOf(server::kafka::trackingTopics(name));
      if (!groups.ok()) return fail(groups.status());
      for (const auto& g : *groups)
        ctx.groups.push_back({g.group_id, g.topic, g.offset, g.committed_at_ms});
    }
    if (json) {
      nlohmann::json j = toJson(st);
      j["running"] = pid.has_value();
      if (pid.has_value() && *pid > 0)
        j["pid"] = *pid;
      else
        j["pid"] = nullptr;
      if (st.kind == "tracking") {
        nlohmann::json log = task::trackingLogJson(st.tracking);
        nlohmann::json groups = nlohmann::json::array();
        for (const auto& g : ctx.groups) {
          nlohmann::json gj = {{"name", g.group},
                               {"topic", g.topic},
                               {"committed_offset", g.committed_offset},
                               {"committed_at_ms", g.committed_at_ms}};
          gj["lag"] =
              st.tracking.known()
                  ? nlohmann::json(std::max<int64_t>(
                        0, st.tracking.end_offset - std::max<int64_t>(g.committed_offset, 0)))
                  : nlohmann::json(nullptr);
          groups.push_back(std::move(gj));
        }
        j["tracking"] = {{"log", log}, {"groups", groups}};
      }
      all.push_back(std::move(j));
      continue;
    }
    std::printf("%s", task::renderTaskStatus(st, ctx).c_str());
  }
  if (json)
    std::printf("%s\n", all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
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
