// `dts binlog ...` commands. registerBinlogCommands adds `binlog decode` (offline files); the
// network `binlog tail` registers itself under the same `binlog` subcommand from its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace dts::cli {

void registerBinlogCommands(CLI::App& app);

struct DecodeOptions {
  std::vector<std::string> files;
  uint64_t limit = 0;             // lines; 0 = no limit
  std::string tables;             // "db.t,db2.*"
  std::string format = "ndjson";  // ndjson | count
};

// Runs `binlog decode`, writing to `out` and diagnostics to `err`. Returns the exit code.
int runBinlogDecode(const DecodeOptions& options, std::FILE* out, std::FILE* err);

}  // namespace dts::cli
