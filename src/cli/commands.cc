#include "cli/commands.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "cli/binlog_command.h"
#include "cli/binlog_tail.h"
#include "cli/run_command.h"
#include "cli/subscribe_command.h"
#include "cli/task_command.h"
#include "cli/verify_command.h"

namespace dts::cli {
namespace {
int g_exit_code = 0;
}  // namespace

namespace {
std::atomic<bool> g_stop{false};
void onStopSignal(int) {
  g_stop.store(true);
}
}  // namespace

std::string defaultDataDir() {
  const char* env = std::getenv("DTS_DATA_DIR");
  return env != nullptr ? env : ".dts";
}

const std::atomic<bool>& catchStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return g_stop;
}

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
  registerSubscribeCommand(app);
  registerTaskCommands(app);
  registerVerifyCommand(app);
}

}  // namespace dts::cli
