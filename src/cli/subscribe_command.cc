#include "cli/subscribe_command.h"

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "common/log.h"
#include "dts/consumer.h"
#include "server/token.h"

namespace dts::cli {

int runSubscribe(const SubscribeArgs& args, std::FILE* out, const std::atomic<bool>& stop) {
  std::string url = args.server;
  if (url.empty()) {
    const char* env = std::getenv("DTS_SERVER");
    url = env != nullptr ? env : "";
  }
  if (url.empty()) {
    std::fprintf(stderr, "dts: subscribe needs a running server: --server URL or $DTS_SERVER\n");
    return 2;
  }
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"--commit-interval-ms", args.commit_interval_ms},
        {"--idle-exit-ms", args.idle_exit_ms},
        {"--max-records", args.max_records},
        {"--retry-window-ms", args.retry_window_ms}}) {
    if (value < 0) {
      std::fprintf(stderr, "dts: subscribe: %s must be 0 or more, got %lld\n", name,
                   static_cast<long long>(value));
      return 2;
    }
  }
  auto token = server::clientToken(args.data_dir.empty() ? defaultDataDir() : args.data_dir);
  if (!token.ok()) {
    std::fprintf(stderr, "dts: %s\n", token.status().message().c_str());
    return 2;
  }
  consumer::Options o;
  o.server = url;
  o.token = *token;
  if (const char* ca = std::getenv("DTS_CA_CERT"); ca != nullptr) o.ca_cert = ca;
  o.task = args.task;
  o.group = args.group;
  o.from = args.from;
  o.tables = args.tables;
  // Markers always reach the handler (it flushes at each commit marker, before the consumer may
  // commit); those not asked for are not printed, nor are they in a format that has none (the
  // consumer delivers them to us in the dts encoding).
  const bool view = !args.format.empty() && args.format != "dts";
  std::set<std::string> print_ops(args.ops.begin(), args.ops.end());
  o.ops = args.ops;
  if (view && o.ops.empty()) o.ops = {"insert", "update", "delete", "ddl"};
  if (!o.ops.empty()) {
    for (const char* marker : {"begin", "commit"}) {
      if (print_ops.count(marker) == 0 || view) o.ops.push_back(marker);
    }
  }
  o.format = args.format;
  o.parse_values = false;  // lines are printed as they came
  o.auto_commit = !args.group.empty();
  o.auto_commit_interval = std::chrono::milliseconds(args.commit_interval_ms);
  // A run meant to end (--idle-exit-ms) does not wait forever for a server it cannot reach: that
  // is an error (exit 1), never "nothing new".
  o.retry_window = std::chrono::milliseconds(args.retry_window_ms > 0 ? args.retry_window_ms
                                             : args.idle_exit_ms > 0  ? 30000
                                                                      : 0);
  o.on_retry = [](const consumer::Status& error, std::chrono::milliseconds delay) {
    spdlog::warn("subscribe: {} (retrying in {} ms)", error.message(), delay.count());
  };
  consumer::Consumer c(o);

  std::atomic<bool> done{false};
  // stop() from a watcher: the signal flag, and the idle limit. Idle means connected with no byte
  // arriving (Consumer::idleFor): never while a long record streams in, or while the server is
  // out of reach. Repeated, because a stop that lands between two requests of the consumer is
  // only seen by the next one.
  std::thread watcher([&] {
    while (!done.load()) {
      bool idle = args.idle_exit_ms > 0 && c.idleFor().count() > args.idle_exit_ms;
      if (stop.load() || idle) c.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  int64_t printed = 0;
  consumer::Status st = c.runRecords([&](const consumer::Record& r) {
    const bool marker = r.op == "begin" || r.op == "commit";
    bool print =
        (print_ops.empty() || r.op.empty() || print_ops.count(r.op) != 0) && !(view && marker);
    if (print) {
      std::fwrite(r.line.data(), 1, r.line.size(), out);
      std::fputc('\n', out);
    }
    // The consumer may commit right after a transaction's last record: a commit must never
    // cover a record still in stdio's buffer.
    if (r.op == "commit" || r.op.empty()) std::fflush(out);
    if (print) ++printed;
    return args.max_records <= 0 || printed < args.max_records;
  });
  std::fflush(out);
  done.store(true);
  watcher.join();
  if (!st.ok()) {
    std::fprintf(stderr, "dts: subscribe %s: %s\n", args.task.c_str(), st.message().c_str());
    return 1;  // what the server refused or could not do; 2 is for arguments refused above
  }
  if (!args.group.empty() && c.position() > c.lastCommitted()) {
    consumer::Status committed = c.commit();
    if (!committed.ok()) {
      std::fprintf(stderr, "dts: subscribe %s: %s\n", args.task.c_str(),
                   committed.message().c_str());
      return 1;
    }
  }
  if (!args.group.empty() && c.lastCommitted() >= 0) {
    spdlog::info("subscribe: group {} committed at offset {}", args.group, c.lastCommitted());
  } else if (!args.group.empty()) {
    spdlog::info("subscribe: nothing read; group {}'s commit is unchanged", args.group);
  }
  return 0;
}

void registerSubscribeCommand(CLI::App& app) {
  auto args = std::make_shared<SubscribeArgs>();
  auto* cmd = app.add_subcommand(
      "subscribe",
      "print a tracking task's changes as NDJSON, committing a consumer group's offset");
  cmd->add_option("task", args->task, "the tracking task")->required();
  cmd->add_option("--group", args->group,
                  "consumer group: resume after its last commit, commit as records are printed");
  cmd->add_option("--from", args->from,
                  "earliest | latest | OFFSET | TIME (2026-12-02T05:00:00Z, ms:MILLISECONDS); "
                  "default: after the group's last commit, else earliest");
  cmd->add_option("--tables", args->tables, "db.table or table (comma-separated)")->delimiter(',');
  cmd->add_option("--ops", args->ops, "insert,update,delete,ddl,begin,commit")->delimiter(',');
  cmd->add_option("--format", args->format, "record encoding the server offers (default: dts)");
  cmd->add_option("--server", args->server, "server URL (default $DTS_SERVER)");
  cmd->add_option("--data-dir", args->data_dir,
                  "the server's data dir, for its api-token when $DTS_TOKEN is not set");
  cmd->add_option("--commit-interval-ms", args->commit_interval_ms,
                  "commit after a transaction at most this often (0: after every transaction)")
      ->capture_default_str();
  cmd->add_option("--idle-exit-ms", args->idle_exit_ms,
                  "exit (after committing) once nothing came for this long (0: never)");
  cmd->add_option("--max-records", args->max_records,
                  "exit (after committing) after printing this many records (0: no limit)");
  cmd->add_option("--retry-window-ms", args->retry_window_ms,
                  "how long to keep retrying a server out of reach before failing (0: 30000 "
                  "with --idle-exit-ms, else forever)");
  cmd->callback([args] {
    const std::atomic<bool>& stop = catchStopSignals();
    setExitCode(runSubscribe(*args, stdout, stop));
  });
}

}  // namespace dts::cli
