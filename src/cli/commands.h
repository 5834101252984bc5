// Registration of the dts subcommands. Each area has its own register function in its own file
// (binlog_command.cc, run_command.cc, ...); a command's callback stores its exit code with
// setExitCode, which main returns.
#pragma once

#include <CLI/CLI.hpp>

namespace dts::cli {

void registerCommands(CLI::App& app);
void registerVersionCommand(CLI::App& app);
void registerInstanceCommands(CLI::App& app);

void setExitCode(int code);
int exitCode();

}  // namespace dts::cli
