#include "cli/commands.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

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

// The first SIGINT/SIGTERM asks the command to stop after the work in progress (a task then
// saves its position); a second one ends the process at once, for a stop that waits on a server
// that does not answer. Either way nothing acknowledged is lost: every task resumes from its
// durable checkpoint, as after kill -9. Only async-signal-safe calls here.
void say(const char* text) {
  ssize_t n = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)n;
}
void onStopSignal(int sig) {
  if (g_stop.exchange(true)) {
    say("dts: second stop signal: exiting now; the next run resumes from the last checkpoint\n");
    ::_exit(128 + sig);
  }
  say(sig == SIGINT
          ? "dts: stopping after the work in progress (Ctrl-C again to exit at once)\n"
          : "dts: stopping after the work in progress (a second SIGTERM exits at once)\n");
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
