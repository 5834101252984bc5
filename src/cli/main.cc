// The dts command: parses arguments and hands each subcommand to the engine. The only file
// without tests of its own; everything it calls lives in dts_core.
#include <sys/stat.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "common/log.h"

int main(int argc, char** argv) {
  // Every file dts makes is owner-only from its creation: the data dir's databases and their
  // SQLite -wal/-shm/-journal, task files, tokens and change logs hold passwords or the
  // replicated rows, and `dts verify --fix` writes rows too. One umask covers the files made by
  // libraries and by code to come, where a mode at each open() would miss some; the known
  // writers also ask for 0600 themselves (dts_core used without this main).
  ::umask(077);
  CLI::App app{"dts: data transmission service for MySQL and MariaDB"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  dts::cli::registerCommands(app);
  app.parse_complete_callback([&] { dts::initLogging(log_level); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return dts::cli::exitCode();
}
