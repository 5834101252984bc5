// dts verify TASK.yaml [--tables db.t,...] [--fix FILE] [--max-rps N] [--json] [--data-dir DIR]
// Compares the task's source with its destination (task/verify.h) and prints a summary (or JSON).
// Exit code: 0 equal, 1 differences found, 2 verification could not run (bad task file,
// unreachable server, ...). --fix writes the repair SQL to FILE; it never runs it.
#pragma once

#include <CLI/CLI.hpp>

namespace dts::cli {

void registerVerifyCommand(CLI::App& app);

}  // namespace dts::cli
