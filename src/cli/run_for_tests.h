// A dts command run inside a test's process: what the commands an app registers make of the
// words of a command line, with the exit code and what they printed.
#pragma once

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"

namespace dts::cli::testing {

struct CommandRun {
  int exit_code = 0;
  std::string out, err;  // stdout, stderr
};

// Parses args ("instance list --data-dir D") on an app set up by `with` (e.g. registering its
// commands), which runs the command's callback; a parse error is answered as main() does.
template <typename With>
CommandRun runInProcess(With with, const std::string& args) {
  CommandRun r;
  CLI::App app;
  with(app);
  setExitCode(0);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  try {
    app.parse(args, /*program_name_included=*/false);
  } catch (const CLI::ParseError& e) {
    setExitCode(app.exit(e));
  }
  r.err = ::testing::internal::GetCapturedStderr();
  r.out = ::testing::internal::GetCapturedStdout();
  r.exit_code = exitCode();
  setExitCode(0);
  return r;
}

}  // namespace dts::cli::testing
