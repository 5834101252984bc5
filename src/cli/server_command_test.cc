// `dts server`'s flags as packaging/dts.service passes them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/commands.h"
#include "cli/task_command.h"
#include "source/binlog_fixture_for_tests.h"

namespace dts::cli {
namespace {

// The unit's ExecStart with its own documented DTS_SERVER_ARGS example (another --listen): the
// last --listen wins (it was "--listen: At Most 1 required but received 2", and systemd
// restarted the service forever). The address is one no machine has, so the start fails there
// (proving which --listen was used) and leaves no API token behind.
TEST(ServerCommandTest, TheServiceUnitsArgsExampleReplacesItsListen) {
  std::ifstream unit(std::string(DTS_SOURCE_DIR) + "/packaging/dts.service");
  std::stringstream text;
  text << unit.rdbuf();
  std::smatch exec, example;
  const std::string s = text.str();
  ASSERT_TRUE(std::regex_search(s, exec, std::regex("\nExecStart=/usr/bin/dts ([^\n]*)")));
  ASSERT_TRUE(std::regex_search(s, example, std::regex("DTS_SERVER_ARGS=\"(--listen [^ \"]+)")));
  EXPECT_EQ(example[1].str(), "--listen 0.0.0.0:8686");
  source::testing::ScratchDir dir("dts-server-command");
  std::string args =
      std::regex_replace(exec[1].str(), std::regex("/var/lib/dts"), dir.path() + "/data");
  args = std::regex_replace(args, std::regex("\\$DTS_SERVER_ARGS"),
                            "--listen 192.0.2.1:8686");  // TEST-NET-1
  ASSERT_NE(args.find("--listen 127.0.0.1:8686"), std::string::npos) << args;

  CLI::App app;
  registerServerCommand(app);
  setExitCode(0);
  ::testing::internal::CaptureStderr();
  EXPECT_NO_THROW(app.parse(args, /*program_name_included=*/false)) << args;
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(exitCode(), 0);
  EXPECT_NE(err.find("cannot listen on 192.0.2.1:8686: not an address of this machine"),
            std::string::npos)
      << err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/data/api-token"))
      << "a start that failed made a token it never showed";
  setExitCode(0);
}

}  // namespace
}  // namespace dts::cli
