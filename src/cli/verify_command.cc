#include "cli/verify_command.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "task/cluster_rules.h"
#include "task/task_config.h"
#include "task/verify.h"

namespace dts::cli {
namespace {

constexpr int kExitEqual = 0;
constexpr int kExitDifferent = 1;
constexpr int kExitError = 2;

struct VerifyArgs {
  std::string file;
  std::vector<std::string> tables;
  std::string fix;
  uint64_t max_rps = 0;
  double chunk_seconds = 0.5;
  bool json = false;
  bool schema_only = false;
  std::string hash = "crc32";
  std::string data_dir;
  int parallelism = 1;
  uint64_t chunk_rows = 0;
  uint64_t max_threads_running = 0;
  double max_slowdown = 0;
  bool restart = false;
  size_t max_rows_listed = 1000;
};

int verifyError(const Status& st) {
  std::fprintf(stderr, "dts verify: %s\n", st.message().c_str());
  return kExitError;
}

int runVerify(const VerifyArgs& args) {
  auto config = task::loadTaskFile(args.file);
  if (!config.ok()) return verifyError(config.status());
  std::string data_dir = args.data_dir.empty() ? defaultDataDir() : args.data_dir;
  // Registered instances live in the data dir; a task of plain endpoints needs none (and
  // verify must not create one where it runs).
  if (!config->source.instance.empty() || std::filesystem::exists(data_dir)) {
    Status resolved = task::resolveTaskEndpoints(&config.value(), data_dir);
    if (!resolved.ok()) return verifyError(resolved);
  }
  const std::atomic<bool>& stop = catchStopSignals();
  task::VerifyOptions options;
  options.tables = args.tables;
  options.max_rps = args.max_rps;
  options.max_reported_rows = args.max_rows_listed;
  options.chunk_seconds = args.chunk_seconds;
  options.data = !args.schema_only;
  options.hash = args.hash == "md5" ? task::RowHash::kMd5 : task::RowHash::kCrc32;
  options.parallelism = args.parallelism;
  if (args.chunk_rows > 0)
    options.initial_chunk_rows = options.min_chunk_rows = options.max_chunk_rows = args.chunk_rows;
  options.load = task::LoadLimits{args.max_threads_running, args.max_slowdown};
  // Finished chunks are recorded here, so that a run stopped or killed continues where it
  // stood; the file goes when a run ends.
  options.progress_file = data_dir + "/verify/" + config->name + ".json";
  if (args.restart) {
    std::error_code ec;
    std::filesystem::remove(options.progress_file, ec);
  }
  auto report = task::verifyTask(*config, options, stop);
  if (!report.ok()) return verifyError(report.status());
  if (!args.fix.empty()) {
    std::ofstream f(args.fix, std::ios::binary | std::ios::trunc);
    f << task::verifyFixSql(*report);
    f.close();
    if (!f) return verifyError(Status::Unavailable("cannot write the repair SQL to " + args.fix));
    // Rows past the listed ones are counted only: their repair needs another run.
    for (const auto& t : report->tables) {
      if (t.row_differences <= t.listedDifferences()) continue;
      std::fprintf(stderr,
                   "dts verify: the repair SQL in %s covers %llu of %llu row differences of %s "
                   "(--max-rows-listed %zu): run it, then verify --fix again for the rest\n",
                   args.fix.c_str(), static_cast<unsigned long long>(t.listedDifferences()),
                   static_cast<unsigned long long>(t.row_differences), t.source_table.c_str(),
                   args.max_rows_listed);
    }
  }
  std::string out = args.json ? task::verifyReportJson(*report) : task::verifyReportText(*report);
  std::fputs(out.c_str(), stdout);
  return report->equal() ? kExitEqual : kExitDifferent;
}

}  // namespace

void registerVerifyCommand(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand(
      "verify",
      "compare a task's source with its destination (exit 0 equal, 1 different, 2 error)");
  cmd->add_option("task", args->file, "task file (YAML)")->required();
  cmd->add_option("--tables", args->tables, "source tables to verify (db.table), default all")
      ->delimiter(',');
  cmd->add_option("--fix", args->fix, "write the SQL that would repair the destination to FILE");
  cmd->add_option("--max-rows-listed", args->max_rows_listed,
                  "row differences listed, and repaired by --fix, per table; more are counted "
                  "(each listed row is held in memory)")
      ->check(CLI::Range(size_t{1}, size_t{10000000}))
      ->capture_default_str();
  cmd->add_option("--max-rps", args->max_rps, "rows per second at most (0: unthrottled)");
  cmd->add_option("--chunk-time", args->chunk_seconds, "seconds per chunk to aim for")
      ->capture_default_str();
  cmd->add_option("--chunk-rows", args->chunk_rows,
                  "rows per chunk, fixed (default: sized to the chunk time)");
  cmd->add_flag("--json", args->json, "print the report as JSON");
  cmd->add_option("--hash", args->hash,
                  "row hash of the chunk checksums: crc32 (32 bits) or md5 (64 bits, slower)")
      ->check(CLI::IsMember({"crc32", "md5"}))
      ->capture_default_str();
  cmd->add_flag("--schema-only", args->schema_only, "compare schemas only");
  cmd->add_option("--parallelism", args->parallelism, "tables verified at the same time")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--max-threads-running", args->max_threads_running,
                  "pause while the source runs more threads than this (0: never)");
  cmd->add_option("--max-slowdown", args->max_slowdown,
                  "pause when a chunk runs this many times slower than the fastest (0: never)")
      ->check([](const std::string& v) -> std::string {
        double x = std::atof(v.c_str());
        return x == 0 || x > 1 ? "" : "must be 0 or more than 1";
      });
  cmd->add_flag("--restart", args->restart,
                "start over, ignoring the progress an interrupted run left in the data dir");
  cmd->add_option("--data-dir", args->data_dir,
                  "data dir with registered instances and the progress of interrupted runs"
                  " (default $DTS_DATA_DIR or .dts)");
  cmd->callback([args] { setExitCode(runVerify(*args)); });
}

}  // namespace dts::cli
