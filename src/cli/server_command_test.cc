// `dts server`'s flags as packaging/dts.service passes them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/commands.h"
#include "cli/run_for_tests.h"
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

// `dts server ARGS` parsed, with what would start the server replaced by one that only keeps the
// options the flags made.
struct ServerParse {
  int rc = 0;
  std::string err;
  bool started = false;
  server::ServerOptions options;
};
ServerParse parseServer(const std::string& args) {
  ServerParse p;
  auto run = testing::runInProcess(
      [&p](CLI::App& app) {
        registerServerCommand(app, [&p](const server::ServerOptions& o, const std::atomic<bool>&,
                                        const std::function<void(const std::string&)>&) {
          p.started = true;
          p.options = o;
          return Status::OK();
        });
      },
      args);
  p.rc = run.exit_code;
  p.err = run.err;
  return p;
}

// --max-change-streams N: the cap on tracking tasks' /changes streams (64 by default), given to
// the server; 0, a negative number, anything but digits and more than 256 (half the server's
// connections) are refused, naming the flag, before anything starts.
TEST(ServerCommandTest, MaxChangeStreamsIsAFlagCheckedBeforeTheServerStarts) {
  source::testing::ScratchDir dir("dts-server-streams");
  const std::string data = " --data-dir " + dir.path() + "/data";
  ServerParse p = parseServer("server" + data);
  ASSERT_TRUE(p.started) << p.err;
  EXPECT_EQ(p.options.max_change_streams, 64u);
  for (const std::string n : {"1", "7", "256"}) {
    p = parseServer("server --max-change-streams " + n + data);
    ASSERT_TRUE(p.started) << n << ": " << p.err;
    EXPECT_EQ(p.options.max_change_streams, std::stoul(n));
  }
  p = parseServer("server --max-change-streams 9 --max-change-streams 12" + data);
  EXPECT_EQ(p.options.max_change_streams, 12u) << "the last one given wins, as for --listen";
  for (const std::string bad : {"0", "=-1", "=-0", "257", "100000", "99999999999999999999", "abc",
                                "12x", "1e3", "0x10", "=+5", "' 5'", "=5.0"}) {
    const std::string arg =
        bad[0] == '=' ? "--max-change-streams" + bad : "--max-change-streams " + bad;
    p = parseServer("server " + arg + data);
    EXPECT_FALSE(p.started) << arg;
    EXPECT_EQ(p.rc, 2) << arg;  // a usage error, as every invalid argument
    EXPECT_NE(p.err.find("dts: --max-change-streams: must be a whole number from 1 to 256 "
                         "(streams open at once), got '"),
              std::string::npos)
        << arg << ": " << p.err;
  }
  // Without the flag, the config file's value; with it, the flag's.
  const std::string config = dir.path() + "/server.yaml";
  std::ofstream(config) << "max_change_streams: 8\n";
  p = parseServer("server --config " + config + data);
  ASSERT_TRUE(p.started) << p.err;
  EXPECT_EQ(p.options.max_change_streams, 8u);
  p = parseServer("server --config " + config + " --max-change-streams 3" + data);
  EXPECT_EQ(p.options.max_change_streams, 3u);
  std::ofstream(config) << "max_change_streams: 0\n";
  p = parseServer("server --config " + config + data);
  EXPECT_FALSE(p.started);
  EXPECT_NE(p.err.find(config + ": max_change_streams: must be a whole number from 1 to 256"),
            std::string::npos)
      << p.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/data")) << "nothing started";
}

TEST(ServerCommandTest, HelpShowsMaxChangeStreams) {
  CLI::App app;
  registerServerCommand(app);
  const std::string help = app.get_subcommand("server")->help();
  EXPECT_NE(help.find("--max-change-streams N"), std::string::npos) << help;
  EXPECT_NE(
      help.find("/changes streams open at once, 1-256 (one more is answered 503; default 64)"),
      std::string::npos)
      << help;
}

}  // namespace
}  // namespace dts::cli
