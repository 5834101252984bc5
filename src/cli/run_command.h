// dts run TASK.yaml [--data-dir DIR]    run a task in the foreground (SIGINT/SIGTERM: pause)
// dts status [--data-dir DIR] [--json]  the state of the tasks of a data dir
#pragma once

#include <CLI/CLI.hpp>

namespace dts::cli {

void registerRunCommands(CLI::App& app);

}  // namespace dts::cli
