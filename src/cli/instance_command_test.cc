// `dts instance` without a server (the data dir directly) says what it does to tasks as the
// server's API does.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_for_tests.h"
#include "server/client.h"
#include "source/binlog_fixture_for_tests.h"

namespace dts::cli {
namespace {

using nlohmann::json;

// Runs `dts ARGS` in this process; its exit code, and what it printed on stdout in *out.
int runDts(const std::string& args, std::string* out) {
  auto r = testing::runInProcess(registerInstanceCommands, args);
  *out = r.out;  // stderr has the log lines
  return r.exit_code;
}

// Deleting a node fails the tasks that read it (DESIGN.md, "deleted: fail"). With a server the
// answer names them; without one (the CLI on the data dir) it said only "node n2 removed". Now
// both are the API's answer: the CLI's output is what DELETE .../nodes/NODE answers.
TEST(InstanceCommandTest, RemoveNodeWithoutAServerNamesTheTasksThatReadIt) {
  unsetenv("DTS_SERVER");
  setenv("DTS_UT_PW", "pw", 1);
  source::testing::ScratchDir dir("dts-instance-command");
  const std::string node2 = R"({"name": "n2", "endpoint": "127.0.0.1:3"})";
  {
    auto api = server::ApiClient::local(dir.path());
    ASSERT_TRUE(api.ok()) << api.status().toString();
    auto r = (*api)->call("POST", "/api/v1/instances",
                          R"({"name": "shop", "endpoint": "127.0.0.1:1", "user": "u",)"
                          R"( "password": "p", "nodes": [)" +
                              node2 + R"(, {"name": "n3", "endpoint": "127.0.0.1:4"}]})");
    ASSERT_TRUE(r.ok()) << r.status().toString();
    r = (*api)->call(
        "POST", "/api/v1/tasks",
        R"({"name": "by-node", "kind": "sync", "source": {"instance": "shop", "secondary_node":)"
        R"( "n2"}, "destination": {"endpoint": "127.0.0.1:2", "user": "u", "password_env":)"
        R"( "DTS_UT_PW"}, "objects": [{"database": "shop"}]})");
    ASSERT_TRUE(r.ok()) << r.status().toString();
  }

  std::string out;
  ASSERT_EQ(runDts("instance remove-node shop n2 --data-dir " + dir.path(), &out), 0) << out;
  json cli = json::parse(out, nullptr, false);
  ASSERT_TRUE(cli.is_object()) << out;
  EXPECT_EQ(cli["tasks_reading_node"], json({"by-node"})) << out;
  EXPECT_NE(
      cli.value("warning", "")
          .find("task by-node reads node n2: running, it fails within seconds with 'secondary "
                "node n2 was deleted from instance shop'"),
      std::string::npos)
      << out;

  // The same words as the API's own answer to the same deletion.
  auto api = server::ApiClient::local(dir.path());
  ASSERT_TRUE(api.ok()) << api.status().toString();
  ASSERT_TRUE((*api)->call("POST", "/api/v1/instances/shop/nodes", node2).ok());
  auto answer = (*api)->call("DELETE", "/api/v1/instances/shop/nodes/n2");
  ASSERT_TRUE(answer.ok()) << answer.status().toString();
  EXPECT_EQ(cli, *answer);

  // A node no task reads: no task named, no warning.
  ASSERT_EQ(runDts("instance remove-node shop n3 --data-dir " + dir.path(), &out), 0) << out;
  cli = json::parse(out, nullptr, false);
  EXPECT_EQ(cli["tasks_reading_node"], json::array()) << out;
  EXPECT_FALSE(cli.contains("warning")) << out;
}

}  // namespace
}  // namespace dts::cli
