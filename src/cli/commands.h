// Registration of the dts subcommands. Each area has its own register function in its own file
// (binlog_command.cc, run_command.cc, ...); a command's callback stores its exit code with
// setExitCode, which main returns.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>

namespace dts::cli {

void registerCommands(CLI::App& app);
void registerVersionCommand(CLI::App& app);
void registerInstanceCommands(CLI::App& app);

void setExitCode(int code);
int exitCode();

// The data dir when none is given: $DTS_DATA_DIR, else ".dts".
std::string defaultDataDir();
// SIGINT and SIGTERM set the returned flag (a long-running command stops at a checkpoint). Every
// command shares the one flag.
const std::atomic<bool>& catchStopSignals();

}  // namespace dts::cli
