// `dts binlog tail mysql://USER:PASS@HOST:PORT ...`: reads a live server's binlog as a replica
// (mysql/binlog_stream.h), completes table definitions from information_schema
// (source/schema_tracker.h) and prints one NDJSON line per row change or DDL (pipeline/ndjson.h),
// flushed per line, or only their count. The password may come from DTS_PASSWORD instead of the
// URI; it never appears in any output (messages use redactUri).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "common/status.h"
#include "mysql/connection.h"

namespace dts::cli {

struct TailOptions {
  std::string uri;
  std::optional<std::string> from_gtid;  // given, even empty: start after this GTID set
  std::string from_file;
  std::optional<uint64_t> from_pos;
  bool from_now = false;
  uint64_t limit = 0;             // lines; 0 = no limit
  std::string tables;             // "db.t,db2.*"
  std::string format = "ndjson";  // ndjson | count
  std::optional<uint32_t> server_id;
  bool stop_at_end = false;  // exit 0 once everything the server has was read
  uint32_t heartbeat_ms = 5000;
  uint32_t read_timeout_s = 30;
};

// "mysql://user:pass@host:port" (user and password may be %-encoded; the port defaults to 3306)
// into connection options. An empty password in the URI is taken from `env_password` when set.
// kInvalidArgument for anything else; the message never contains the password.
Result<mysql::ConnectOptions> parseMysqlUri(const std::string& uri, const char* env_password);

// Runs the command; output to `out`, diagnostics to `err`. Returns the exit code: 0 after
// --limit lines (or at the end with --stop-at-end), 1 on any error (the message names the
// endpoint and the binlog position).
int runBinlogTail(const TailOptions& options, std::FILE* out, std::FILE* err);

// Adds `tail` under the `binlog` subcommand (creating `binlog` if it is not there yet).
void registerBinlogTail(CLI::App& app);

}  // namespace dts::cli
