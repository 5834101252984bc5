// `dts subscribe TASK [--group G] [--from ...] [--tables ...] [--ops ...] [--format ...]
// [--server URL]`: prints a tracking task's records as NDJSON (one record per line, as the HTTP
// endpoint sends them) through the consumer library (include/dts/consumer.h), committing the
// group's offset as it goes (after a transaction, at most every --commit-interval-ms) and when
// it stops. SIGINT/SIGTERM commit what was printed and exit 0. Output is flushed before every
// commit, so a commit never covers a record that was not written out (at-least-once).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

namespace dts::cli {

struct SubscribeArgs {
  std::string task;
  std::string group;
  std::string from;
  std::vector<std::string> tables;
  std::vector<std::string> ops;
  std::string format;
  std::string server;    // default $DTS_SERVER
  std::string data_dir;  // the token when $DTS_TOKEN is not set
  int64_t commit_interval_ms = 1000;
  int64_t idle_exit_ms = 0;  // > 0: exit (committing) once nothing came for this long
  int64_t max_records = 0;   // > 0: exit (committing) after this many records
  // > 0: fail (exit 1) once the server was out of reach this long; 0: 30 s with idle_exit_ms,
  // else retry forever.
  int64_t retry_window_ms = 0;
};

// Runs the subscription until `stop`, an unrecoverable error, --idle-exit-ms or --max-records;
// records go to `out`, messages to stderr. The exit code: 0, 1 (error), 2 (bad arguments).
int runSubscribe(const SubscribeArgs& args, std::FILE* out, const std::atomic<bool>& stop);

void registerSubscribeCommand(CLI::App& app);

}  // namespace dts::cli
