#include "cli/commands.h"

#include <cstdio>

#include "cli/binlog_command.h"
#include "cli/binlog_tail.h"
#include "cli/run_command.h"
#include "cli/task_command.h"
#include "cli/verify_command.h"

namespace dts::cli {
namespace {
int g_exit_code = 0;
}  // namespace

void setExitCode(int code) {
  g_exit_code = code;
}
int exitCode() {
  return g_exit_code;
}

void registerVersionCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "print the dts version");
  cmd->callback([] { std::printf("dts 0.1.0\n"); });
}

void registerCommands(CLI::App& app) {
  registerVersionCommand(app);
  registerBinlogCommands(app);
  registerBinlogTail(app);
  registerInstanceCommands(app);
  registerRunCommands(app);
  registerServerCommand(app);
  registerTaskCommands(app);
  registerVerifyCommand(app);
}

}  // namespace dts::cli
