// The API without sockets: routing, the token, error statuses and bodies, task validation,
// state transitions that need no database, masking of passwords, events, metrics and OpenAPI.
#include "server/api.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/sqlite.h"
#include "mysql/charset_convert.h"
#include "server/console.h"
#include "server/kafka_groups.h"
#include "server/metrics.h"
#include "server/token.h"
#include "source/instance.h"
#include "task/state_store.h"

namespace dts::server {
namespace {

using nlohmann::json;

const char* kPassword = "s3cret-pw-do-not-show";

std::string taskJsonText(const std::string& name, const std::string& extra = "") {
  return std::string(R"({"name": ")") + name +
         R"(", "kind": "sync", "source": {"endpoint": "127.0.0.1:1", "user": "u", "password": ")" +
         kPassword +
         R"("}, "destination": {"endpoint": "127.0.0.1:2", "user": "u", "password_env": "DTS_UT_PW"},)"
         R"( "objects": [{"database": "shop"}])" +
         extra + "}";
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dts_api_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    api_.reset();
    manager_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open(size_t max_events = 200) {
    api_.reset();
    manager_.reset();
    TaskManager::Options o;
    o.data_dir = dir_.string();
    o.max_events = max_events;
    auto m = TaskManager::open(o);
    ASSERT_TRUE(m.ok()) << m.status().toString();
    manager_ = std::move(*m);
    api_ = std::make_unique<Api>(manager_.get(), "tok-123456789012345", nullptr);
  }
  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = "",
                    const std::string& auth = "Bearer tok-123456789012345") {
    HttpRequest r = makeRequest(method, path, auth, body);
    HttpResponse resp = api_->handle(r);
    EXPECT_EQ(resp.body.find(kPassword), std::string::npos) << resp.body;
    return resp;
  }
  static json body(const HttpResponse& r) { return json::parse(r.body); }
  static std::string code(const HttpResponse& r) { return body(r)["error"]["code"]; }

  std::filesystem::path dir_;
  std::unique_ptr<TaskManager> manager_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, HealthAndReadinessNeedNoToken) {
  EXPECT_EQ(call("GET", "/healthz", "", "").status, 200);
  EXPECT_EQ(call("GET", "/readyz", "", "").status, 200);
  EXPECT_EQ(call("POST", "/healthz", "", "").status, 405);
}

TEST_F(ApiTest, EverythingElseNeedsTheToken) {
  for (const char* path : {"/metrics", "/api/v1/tasks", "/api/v1/openapi.json", "/api/v1/instances",
                           "/api/v1/tasks/x", "/nowhere"}) {
    auto none = call("GET", path, "", "");
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_EQ(code(none), "unauthenticated");
    auto wrong = call("GET", path, "", "Bearer tok-123456789012346");
    EXPECT_EQ(wrong.status, 403) << path;
    EXPECT_EQ(code(wrong), "forbidden");
    // Another scheme presents no token: 401, not "invalid API token".
    auto basic = call("GET", path, "", "Basic tok-123456789012345");
    EXPECT_EQ(basic.status, 401) << path;
    EXPECT_EQ(code(basic), "unauthenticated");
  }
  // The scheme is case-insensitive (RFC 7235).
  for (const char* scheme : {"bearer ", "BEARER ", "Bearer  "}) {
    EXPECT_EQ(call("GET", "/api/v1/tasks", "", std::string(scheme) + "tok-123456789012345").status,
              200)
        << scheme;
  }
}

TEST_F(ApiTest, UnknownPathsAndMethods) {
  EXPECT_EQ(call("GET", "/api/v2/tasks").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/nothing").status, 404);
  EXPECT_EQ(code(call("GET", "/api/v1/tasks/x/y/z")), "not_found");
  EXPECT_EQ(call("PUT", "/api/v1/tasks").status, 405);
  EXPECT_EQ(code(call("GET", "/api/v1/tasks/x/start")), "method_not_allowed");
  EXPECT_EQ(call("POST", "/metrics").status, 405);
}

TEST_F(ApiTest, CreateValidatesAndNamesTheField) {
  auto r = call("POST", "/api/v1/tasks", taskJsonText("t1", R"(, "options": {"parallelism": 0})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "options.parallelism");
  r = call("POST", "/api/v1/tasks", taskJsonText("t1", R"(, "bogus": 1)"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "bogus");
  r = call("POST", "/api/v1/tasks", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "body");
  r = call("POST", "/api/v1/tasks", "name: [unclosed");
  EXPECT_EQ(r.status, 400);
  r = call("POST", "/api/v1/tasks", taskJsonText("..", ""));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "name");
  // ?start= is judged before the task exists (start=yes created a task that did not start).
  r = call("POST", "/api/v1/tasks?start=yes", taskJsonText("t1", ""));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["message"], "start: true, false, 1 or 0, not 'yes'") << r.body;
  // A parameter an endpoint does not take is refused naming it (a typo, ?strat=true, created a
  // task that did not start), on every endpoint.
  r = call("POST", "/api/v1/tasks?strat=true", taskJsonText("t1", ""));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["message"], "strat: unknown parameter (allowed: start)") << r.body;
  for (const char* path : {"/api/v1/tasks?x=1", "/api/v1/tasks/t1?event=1",
                           "/api/v1/tasks/t1/events?limt=3", "/api/v1/instances?all=1"}) {
    r = call("GET", path);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("unknown parameter"),
              std::string::npos)
        << path << ": " << r.body;
  }
  // Nothing of the refused tasks was kept.
  EXPECT_TRUE(body(call("GET", "/api/v1/tasks"))["tasks"].empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "server" / "tasks"));
}

TEST_F(ApiTest, CreateYamlOrJsonListGetMaskedDelete) {
  auto r = call("POST", "/api/v1/tasks", taskJsonText("t1"));
  ASSERT_EQ(r.status, 201) << r.body;
  json t = body(r);
  EXPECT_EQ(t["state"], "created");
  EXPECT_EQ(t["phase"], "created");
  EXPECT_EQ(t["config"]["source"]["password"], "***");
  EXPECT_EQ(t["config"]["destination"]["password_env"], "DTS_UT_PW");
  EXPECT_FALSE(t["config"]["destination"].contains("password"));
  std::string yaml = std::string(
                         "name: t2\nkind: migration\nsource: {endpoint: '127.0.0.1:1', "
                         "user: u, password: ") +
                     kPassword +
                     "}\ndestination: {endpoint: '127.0.0.1:2', user: u, password: x}\n"
                     "objects:\n  - database: shop\n";
  ASSERT_EQ(call("POST", "/api/v1/tasks", yaml).status, 201);
  EXPECT_EQ(code(call("POST", "/api/v1/tasks", yaml)), "conflict");
  json list = body(call("GET", "/api/v1/tasks"));
  ASSERT_EQ(list["tasks"].size(), 2u);
  EXPECT_EQ(list["tasks"][1]["kind"], "migration");
  EXPECT_EQ(call("GET", "/api/v1/tasks/t1").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/tasks/nope").status, 404);
  // The record holding the inline password is owner-only.
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "server" / "tasks" / "t1.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/t1").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/tasks/t1").status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/t1").status, 404);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "server" / "tasks" / "t1.json"));
}

TEST_F(ApiTest, WrongStatesAre409) {
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1")).status, 201);
  for (const char* a : {"pause", "resume", "stop"}) {
    auto r = call("POST", std::string("/api/v1/tasks/t1/") + a);
    EXPECT_EQ(r.status, 409) << a;
    EXPECT_EQ(code(r), "conflict");
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("is created"), std::string::npos);
  }
  EXPECT_EQ(call("POST", "/api/v1/tasks/none/start").status, 404);
}

TEST_F(ApiTest, UpdateOptionsMergesAndValidates) {
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1")).status, 201);
  auto r =
      call("PATCH", "/api/v1/tasks/t1/options", R"({"parallelism": 8, "full": {"max_rps": 100}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["config"]["options"]["parallelism"], 8);
  EXPECT_EQ(body(r)["config"]["options"]["full"]["max_rps"], 100);
  EXPECT_EQ(body(r)["config"]["source"]["password"], "***");
  r = call("PATCH", "/api/v1/tasks/t1/options", R"({"parallelism": "many"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "options.parallelism");
  EXPECT_EQ(call("PATCH", "/api/v1/tasks/t1/options", "[1, 2]").status, 400);
  // The refused patch changed nothing; the accepted one survives a restart.
  open();
  json t = body(call("GET", "/api/v1/tasks/t1"));
  EXPECT_EQ(t["config"]["options"]["parallelism"], 8);
  EXPECT_EQ(t["state"], "created");
}

// A task the server cannot resume after a restart (its instance was deleted meanwhile) is
// failed with the reason, not "stopped" with no error (DtsTaskFailed would never fire).
TEST_F(ApiTest, ATaskThatCannotResumeAfterARestartIsFailedWithTheReason) {
  ASSERT_EQ(call("POST", "/api/v1/instances",
                 R"({"name": "tmpi", "endpoint": "127.0.0.1:1", "user": "u", "password": "p"})")
                .status,
            201);
  std::string task = taskJsonText("ti");
  task.replace(task.find(R"({"endpoint": "127.0.0.1:1", "user": "u", "password": ")"),
               std::string(R"({"endpoint": "127.0.0.1:1", "user": "u", "password": ")").size() +
                   std::string(kPassword).size() + 2,
               R"({"instance": "tmpi"})");
  ASSERT_EQ(call("POST", "/api/v1/tasks", task).status, 201) << task;
  setenv("DTS_UT_PW", "pw", 1);  // the task retries its connection: it is running, not failed
  ASSERT_EQ(call("POST", "/api/v1/tasks/ti/start").status, 200);  // desired: running
  open();
  // The API refuses to delete an instance a task uses; deleted behind its back (an older dts,
  // by hand), the task must still say why it cannot run.
  ASSERT_EQ(call("DELETE", "/api/v1/instances/tmpi").status, 409);
  api_.reset();
  manager_.reset();
  {
    auto registry = source::InstanceRegistry::open(dir_.string());
    ASSERT_TRUE(registry.ok());
    ASSERT_TRUE((*registry)->remove("tmpi").ok());
  }
  {
    // As a task stopped by the server's SIGTERM in its incremental phase leaves it (a unit test
    // has no source to get there for real).
    auto store = task::SqliteStateStore::open(dir_.string());
    ASSERT_TRUE(store.ok());
    auto st = (*store)->load("ti");
    ASSERT_TRUE(st.ok() && st->has_value());
    task::TaskState s = **st;
    s.phase = task::TaskPhase::kIncremental;
    s.last_error.clear();
    ASSERT_TRUE((*store)->save(s).ok());
  }
  open();  // the server starts again, without the task's instance
  manager_->resumeAll();
  json t = body(call("GET", "/api/v1/tasks/ti"));
  EXPECT_EQ(t["state"], "failed") << t.dump();
  EXPECT_NE(t["last_error"].get<std::string>().find("no instance named 'tmpi'"), std::string::npos)
      << t.dump();
}

// A task whose source is a registered instance, read through `node` when given.
// Instance shop: an unreachable endpoint and nodes n2, n3.
const char* const kShopInstance =
    R"({"name": "shop", "endpoint": "127.0.0.1:1", "user": "u", "password": "p",)"
    R"( "nodes": [{"name": "n2", "endpoint": "127.0.0.1:3"},)"
    R"( {"name": "n3", "endpoint": "127.0.0.1:4"}]})";

std::string instanceTaskJson(const std::string& name, const std::string& instance,
                             const std::string& node = "") {
  std::string source = R"({"instance": ")" + instance + "\"" +
                       (node.empty() ? "" : R"(, "secondary_node": ")" + node + "\"") + "}";
  return R"({"name": ")" + name + R"(", "kind": "sync", "source": )" + source +
         R"(, "destination": {"endpoint": "127.0.0.1:2", "user": "u", "password_env": "DTS_UT_PW"},)"
         R"( "objects": [{"database": "shop"}]})";
}

// An instance that tasks use is not deleted (they could never run again): 409 naming them,
// until they are deleted. A node is deleted (the cluster rule: a task reading it fails), and
// the answer names the tasks that read it.
TEST_F(ApiTest, AnInstanceTasksUseIsNotDeletedAndANodesReadersAreNamed) {
  ASSERT_EQ(call("POST", "/api/v1/instances", kShopInstance).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/tasks", instanceTaskJson("by-endpoint", "shop")).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/tasks", instanceTaskJson("by-node", "shop", "n2")).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("other")).status, 201);

  auto r = call("DELETE", "/api/v1/instances/shop");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(code(r), "conflict");
  EXPECT_EQ(body(r)["error"]["tasks"], json({"by-endpoint", "by-node"}));
  std::string message = body(r)["error"]["message"];
  EXPECT_NE(message.find("instance 'shop' is the source of tasks by-endpoint, by-node"),
            std::string::npos)
      << message;
  EXPECT_EQ(call("GET", "/api/v1/instances/shop").status, 200) << "nothing was deleted";

  // Deleting node n2 is allowed (DESIGN.md); the answer names the task that reads it.
  r = call("DELETE", "/api/v1/instances/shop/nodes/n2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["tasks_reading_node"], json({"by-node"}));
  EXPECT_NE(body(r)["warning"].get<std::string>().find(
                "secondary node n2 was deleted from instance shop"),
            std::string::npos)
      << r.body;
  // A task of the data dir that this server does not run (a `dts run` started after it) is
  // named too.
  {
    auto store = task::SqliteStateStore::open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status().toString();
    task::TaskState run;
    run.name = "run-n3";
    run.kind = "sync";
    run.config_yaml =
        "name: run-n3\nkind: sync\nsource: {instance: shop, secondary_node: n3}\n"
        "destination: {endpoint: '127.0.0.1:2', user: u, password_env: DTS_UT_PW}\n"
        "objects: [{database: shop}]\n";
    ASSERT_TRUE((*store)->save(run).ok());
  }
  r = call("DELETE", "/api/v1/instances/shop/nodes/n3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["tasks_reading_node"], json({"run-n3"}));
  r = call("POST", "/api/v1/instances/shop/nodes", R"({"name": "n4", "endpoint": "127.0.0.1:5"})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = call("DELETE", "/api/v1/instances/shop/nodes/n4");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["tasks_reading_node"], json::array());
  EXPECT_FALSE(body(r).contains("warning"));

  ASSERT_EQ(call("DELETE", "/api/v1/tasks/by-node").status, 200);
  r = call("DELETE", "/api/v1/instances/shop");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(body(r)["error"]["tasks"], json({"by-endpoint", "run-n3"}));
  ASSERT_EQ(call("DELETE", "/api/v1/tasks/by-endpoint").status, 200);
  {
    auto store = task::SqliteStateStore::open(dir_.string());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->remove("run-n3").ok());
  }
  EXPECT_EQ(call("DELETE", "/api/v1/instances/shop").status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/instances/shop").status, 404);
}

// A source that cannot be reached is retried; each attempt's precheck finds it, and the metric
// counts it as a connection error, not as a precheck failure.
TEST_F(ApiTest, AnUnreachableSourceCountsAsAConnectionError) {
  setenv("DTS_UT_PW", "pw", 1);
  ASSERT_EQ(call("POST", "/api/v1/tasks?start=true", taskJsonText("down")).status, 201);
  auto count = [&](const std::string& kind) {
    const std::string m = call("GET", "/metrics").body;
    const std::string series = "dts_task_errors_total{task=\"down\",kind=\"" + kind + "\"} ";
    const size_t at = m.find(series);
    return at == std::string::npos ? -1 : std::atoi(m.c_str() + at + series.size());
  };
  for (int i = 0; i < 300 && count("connection") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GE(count("connection"), 1) << call("GET", "/metrics").body;
  EXPECT_EQ(count("precheck"), 0);
  ASSERT_EQ(call("POST", "/api/v1/tasks/down/stop").status, 200);
}

// Which node of its instance a task reads changes through the API (the hint for a deleted node
// says so); nothing else of its source does, and only a node the instance has.
TEST_F(ApiTest, TheNodeATaskReadsChangesAndNothingElseOfItsSource) {
  setenv("DTS_UT_PW", "pw", 1);
  ASSERT_EQ(call("POST", "/api/v1/instances", kShopInstance).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/tasks", instanceTaskJson("t", "shop", "n2")).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("by-endpoint")).status, 201);

  auto r = call("PATCH", "/api/v1/tasks/t/source", R"({"secondary_node": "n3"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["config"]["source"]["secondary_node"], "n3");
  EXPECT_EQ(body(r)["config"]["source"]["instance"], "shop");
  json events = body(call("GET", "/api/v1/tasks/t/events"))["events"];
  EXPECT_EQ(events.back()["message"], "source: reads node n3 (was node n2)") << events.dump();
  // YAML too; null reads the instance's read/write endpoint.
  r = call("PATCH", "/api/v1/tasks/t/source", "secondary_node: null");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(body(r)["config"]["source"].contains("secondary_node")) << r.body;
  ASSERT_EQ(call("PATCH", "/api/v1/tasks/t/source", R"({"secondary_node": "n2"})").status, 200);

  auto refused = [&](const std::string& task, const std::string& b, const std::string& says) {
    auto x = call("PATCH", "/api/v1/tasks/" + task + "/source", b);
    EXPECT_EQ(x.status, 400) << b << ": " << x.body;
    if (x.status != 400) return;
    EXPECT_NE(body(x)["error"]["message"].get<std::string>().find(says), std::string::npos)
        << b << ": " << x.body;
  };
  refused("t", R"({"secondary_node": "n9"})", "n9");
  refused("t", R"({"secondary_node": ""})", "secondary_node");
  refused("t", R"({"secondary_node": ["n3"]})", "a node name or null");
  refused("t", R"({"endpoint": "127.0.0.1:9"})", "only secondary_node can change");
  refused("t", R"({"secondary_node": "n3", "instance": "other"})",
          "only secondary_node can change");
  refused("t", "{}", "source.secondary_node: required");
  refused("t", "", "is required");
  refused("t", "[1, 2]", "must be a mapping");
  refused("by-endpoint", R"({"secondary_node": "n3"})", "reads an endpoint, not an instance");
  EXPECT_EQ(body(call("GET", "/api/v1/tasks/t"))["config"]["source"]["secondary_node"], "n2");
  EXPECT_EQ(call("PATCH", "/api/v1/tasks/nope/source", R"({"secondary_node": "n3"})").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/tasks/t/source", R"({"secondary_node": "n3"})").status, 405);
}

// Every task action in every task state: allowed ones are not refused, the others are 409
// naming the state (allowedStates() in task_manager.h, the table in docs/api.md).
TEST_F(ApiTest, EveryTaskActionInEveryStateIsAllowedOrA409NamingTheState) {
  setenv("DTS_UT_PW", "pw", 1);
  struct Action {
    std::string name, method, path_suffix, body;
  };
  const std::vector<Action> actions = {{"start", "POST", "start", ""},
                                       {"resume", "POST", "resume", ""},
                                       {"pause", "POST", "pause", ""},
                                       {"stop", "POST", "stop", ""},
                                       {"delete", "DELETE", "", ""},
                                       {"options", "PATCH", "options", R"({"parallelism": 2})"},
                                       {"precheck", "POST", "precheck", ""},
                                       {"source", "PATCH", "source", R"({"secondary_node": "n"})"}};
  const std::vector<std::string> states = {"created", "running",   "paused",
                                           "stopped", "completed", "failed"};
  auto taskName = [](const std::string& state, const std::string& action) {
    return state + "-" + action;
  };
  for (const auto& state : states) {
    for (const auto& a : actions)
      ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText(taskName(state, a.name))).status, 201);
  }
  {
    // Completed and failed as the engine leaves them (a unit test has no databases to get there).
    auto store = task::SqliteStateStore::open(dir_.string());
    ASSERT_TRUE(store.ok());
    for (const auto& state : {std::string("completed"), std::string("failed")}) {
      for (const auto& a : actions) {
        task::TaskState s;
        s.name = taskName(state, a.name);
        s.kind = "sync";
        s.phase = state == "completed" ? task::TaskPhase::kCompleted : task::TaskPhase::kFailed;
        s.last_error = state == "failed" ? "something broke" : "";
        ASSERT_TRUE((*store)->save(s).ok());
      }
    }
  }
  open();
  for (const auto& a : actions) {
    // The source is unreachable: a started task retries its connection, so it stays running.
    for (const auto& state :
         {std::string("running"), std::string("paused"), std::string("stopped")})
      ASSERT_EQ(call("POST", "/api/v1/tasks/" + taskName(state, a.name) + "/start").status, 200);
    ASSERT_EQ(call("POST", "/api/v1/tasks/" + taskName("paused", a.name) + "/pause").status, 200);
    ASSERT_EQ(call("POST", "/api/v1/tasks/" + taskName("stopped", a.name) + "/stop").status, 200);
  }
  for (const auto& state : states) {
    for (const auto& a : actions) {
      const std::string name = taskName(state, a.name);
      ASSERT_EQ(body(call("GET", "/api/v1/tasks/" + name))["state"], state) << name;
      bool allowed = false;
      for (const auto& rule : allowedStates()) {
        if (rule.call == a.name)
          allowed = std::find(rule.states.begin(), rule.states.end(), state) != rule.states.end();
      }
      std::string path =
          "/api/v1/tasks/" + name + (a.path_suffix.empty() ? "" : "/" + a.path_suffix);
      auto r = call(a.method, path, a.body);
      if (allowed) {
        EXPECT_NE(r.status, 409) << a.name << " on a " << state << " task: " << r.body;
        // The answer is the task starting, not where its last run ended.
        if (r.status == 200 && (a.name == "start" || a.name == "resume")) {
          EXPECT_EQ(body(r)["state"], "running") << r.body;
          EXPECT_NE(body(r)["phase"], "failed") << r.body;
          EXPECT_NE(body(r)["phase"], "paused") << r.body;
        }
      } else {
        EXPECT_EQ(r.status, 409) << a.name << " on a " << state << " task: " << r.body;
        if (r.status == 409) {
          std::string message = body(r)["error"]["message"];
          EXPECT_NE(message.find("task '" + name + "' is " + state + "; " + a.name + " needs"),
                    std::string::npos)
              << message;
        }
      }
    }
  }
  // The table itself, as documented: what a user relies on.
  auto states_of = [](const std::string& call_name) {
    for (const auto& rule : allowedStates())
      if (rule.call == call_name) return rule.states;
    return std::vector<std::string>{};
  };
  EXPECT_EQ(states_of("options"),
            (std::vector<std::string>{"created", "paused", "stopped", "failed"}));
  EXPECT_EQ(states_of("precheck"),
            (std::vector<std::string>{"created", "paused", "stopped", "failed"}));
  EXPECT_EQ(states_of("delete"),
            (std::vector<std::string>{"created", "paused", "stopped", "completed", "failed"}));
}

TEST_F(ApiTest, EventsRecordActions) {
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1")).status, 201);
  ASSERT_EQ(call("PATCH", "/api/v1/tasks/t1/options", "parallelism: 2").status, 200);
  json e = body(call("GET", "/api/v1/tasks/t1/events"));
  ASSERT_EQ(e["events"].size(), 2u);
  EXPECT_EQ(e["events"][0]["type"], "action");
  EXPECT_EQ(e["events"][0]["message"], "created");
  EXPECT_EQ(body(call("GET", "/api/v1/tasks/t1/events?limit=1"))["events"].size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/tasks/t1/events?limit=x").status, 400);
}

// Events are kept in dts.db: the same after a restart, the newest max_events of each task, and
// gone with the task (a new task of the same name starts with its own).
TEST_F(ApiTest, EventsSurviveARestartBoundedAndGoWithTheTask) {
  open(3);
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1")).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t2")).status, 201);
  for (int i = 1; i <= 4; ++i) {
    ASSERT_EQ(call("PATCH", "/api/v1/tasks/t1/options", "parallelism: " + std::to_string(i)).status,
              200);
  }
  json before = body(call("GET", "/api/v1/tasks/t1/events"));
  ASSERT_EQ(before["events"].size(), 3u) << before.dump();
  EXPECT_EQ(before["events"][0]["message"], "options updated");
  open(3);  // a restart: nothing in memory
  EXPECT_EQ(body(call("GET", "/api/v1/tasks/t1/events")), before);
  json t2 = body(call("GET", "/api/v1/tasks/t2/events"));
  ASSERT_EQ(t2["events"].size(), 1u);
  EXPECT_EQ(t2["events"][0]["message"], "created");

  ASSERT_EQ(call("DELETE", "/api/v1/tasks/t1").status, 200);
  {
    auto db = Sqlite::open((dir_ / "dts.db").string());
    ASSERT_TRUE(db.ok());
    auto rows = (*db)->query("SELECT COUNT(*) FROM task_events WHERE task = 't1'");
    ASSERT_TRUE(rows.ok()) << rows.status().toString();
    EXPECT_EQ((*rows)[0][0], "0");
  }
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1")).status, 201);
  open(3);
  json again = body(call("GET", "/api/v1/tasks/t1/events"));
  ASSERT_EQ(again["events"].size(), 1u) << again.dump();
  EXPECT_EQ(again["events"][0]["message"], "created");
}

// Every body is strict, whichever endpoint reads it: an unknown key is a 400 naming it, a value
// of the wrong JSON type a 400 naming the field (never coerced: "8" is not 8), and a node's
// endpoint that another node or the read/write endpoint already has is refused.
TEST_F(ApiTest, EveryBodyRefusesUnknownKeysWrongTypesAndDuplicateEndpoints) {
  auto refused = [&](const std::string& method, const std::string& path, const std::string& b,
                     const std::string& field, const std::string& says) {
    auto r = call(method, path, b);
    EXPECT_EQ(r.status, 400) << method << " " << path << " " << b << ": " << r.body;
    if (r.status != 400) return;
    EXPECT_EQ(body(r)["error"]["field"], field) << b << ": " << r.body;
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find(says), std::string::npos)
        << b << ": " << r.body;
  };
  // Tasks (JSON or YAML) and their options.
  refused("POST", "/api/v1/tasks", taskJsonText("t1", R"(, "options": {"parallelism": "8"})"),
          "options.parallelism", "got the string \"8\"");
  refused("POST", "/api/v1/tasks", taskJsonText("t1", R"(, "options": {"ddl": "true"})"),
          "options.ddl", "must be true or false, got the string");
  std::string user_number = taskJsonText("t1");
  user_number.replace(user_number.find(R"("user": "u")"), 11, R"("user": 5)");
  refused("POST", "/api/v1/tasks", user_number, "source.user", "must be a string, got a number");
  refused("POST", "/api/v1/tasks",
          "name: t1\nkind: sync\nsource: {endpoint: 127.0.0.1:1, user: u}\n"
          "destination: {endpoint: 127.0.0.1:2, user: u}\nobjects: [{database: d}]\n"
          "options: {parallelism: \"8\"}\n",
          "options.parallelism", "got the string");
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1", R"(, "options": {"parallelism": 8})"))
                .status,
            201);
  refused("PATCH", "/api/v1/tasks/t1/options", R"({"parallelism": "4"})", "options.parallelism",
          "got the string \"4\"");
  refused("PATCH", "/api/v1/tasks/t1/options", R"({"full": {"max_rps": "100"}})",
          "options.full.max_rps", "got the string");
  refused("PATCH", "/api/v1/tasks/t1/options", R"({"bogus": 1})", "options.bogus", "unknown key");
  EXPECT_EQ(body(call("GET", "/api/v1/tasks/t1"))["config"]["options"]["parallelism"], 8);

  // Instances and their nodes.
  refused("POST", "/api/v1/instances", R"({"name": "i1", "endpoint": "127.0.0.1:1", "user": 5})",
          "user", "must be a string, got a number");
  refused("POST", "/api/v1/instances",
          R"({"name": "i1", "endpoint": "127.0.0.1:1", "user": "u", "zone": "a"})", "zone",
          "unknown key");
  refused(
      "POST", "/api/v1/instances",
      R"({"name": "i1", "endpoint": "127.0.0.1:1", "user": "u", "nodes": [)"
      R"({"name": "n1", "endpoint": "127.0.0.1:3"}, {"name": "n2", "endpoint": "127.0.0.1:3"}]})",
      "nodes[1].endpoint", "127.0.0.1:3 (node n2) is already node n1's endpoint");
  refused("POST", "/api/v1/instances",
          R"({"name": "i1", "endpoint": "127.0.0.1:1", "user": "u", "nodes": [)"
          R"({"name": "n1", "endpoint": "127.0.0.1:1"}]})",
          "nodes[0].endpoint", "is already the instance's read/write endpoint");
  ASSERT_EQ(call("POST", "/api/v1/instances",
                 R"({"name": "i1", "endpoint": "127.0.0.1:1", "user": "u", "nodes": [)"
                 R"({"name": "n1", "endpoint": "127.0.0.1:3"}]})")
                .status,
            201);
  refused("POST", "/api/v1/instances/i1/nodes",
          R"({"name": "n2", "endpoint": "127.0.0.1:4", "role": "replica"})", "role",
          "unknown key (allowed: name, endpoint)");
  refused("POST", "/api/v1/instances/i1/nodes", R"({"name": "n2", "endpoint": 4})", "endpoint",
          "must be a string, got an integer");
  refused("POST", "/api/v1/instances/i1/nodes", R"({"name": "n2"})", "endpoint", "required");
  refused("POST", "/api/v1/instances/i1/nodes", R"({"name": "n2", "endpoint": "127.0.0.1:3"})",
          "nodes[1].endpoint", "is already node n1's endpoint");
  refused("POST", "/api/v1/instances/i1/nodes", R"({"name": "n2", "endpoint": "127.0.0.1:1"})",
          "nodes[1].endpoint", "is already the instance's read/write endpoint");
  EXPECT_EQ(body(call("GET", "/api/v1/instances/i1"))["nodes"].size(), 1u);

  // Connection tests, browsing and group commits.
  refused("POST", "/api/v1/connections/test",
          R"({"endpoint": "127.0.0.1:1", "user": "u", "timeout": 5})", "timeout", "unknown key");
  refused("POST", "/api/v1/connections/test", R"({"endpoint": "127.0.0.1:1", "user": 7})", "user",
          "must be a string, got an integer");
  refused("POST", "/api/v1/browse", R"({"endpoint": "127.0.0.1:1", "user": "u", "database": 1})",
          "database", "must be a string");
  ASSERT_EQ(call("POST", "/api/v1/tasks",
                 R"({"name": "tr", "kind": "tracking", "source": {"endpoint": "127.0.0.1:1",)"
                 R"( "user": "u"}, "objects": [{"database": "shop"}]})")
                .status,
            201);
  refused("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": "0"})", "offset",
          "must be an integer, got a string");
  refused("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 99999999999999999999})",
          "offset", "must be an integer, got an integer out of range");
  refused("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 1.5})", "offset",
          "must be an integer, got a number with a fraction");
  refused("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 1.0})", "offset",
          "must be an integer, got a number written with a fraction or exponent (1.0)");
  refused("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 0, "force": true})", "force",
          "unknown key");
  refused("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 0, "offset": 2})", "offset",
          "given more than once in the body");
  EXPECT_EQ(call("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 0})").status, 200);
}

TEST_F(ApiTest, InstancesCrudMasksPasswords) {
  std::string inst =
      std::string(R"({"name": "db1", "endpoint": "127.0.0.1:3306", "user": "dts", "password": ")") +
      kPassword + R"(", "nodes": [{"name": "node-1", "endpoint": "127.0.0.1:3307"}]})";
  auto r = call("POST", "/api/v1/instances", inst);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r)["password"], "***");
  EXPECT_EQ(call("POST", "/api/v1/instances", inst).status, 409);
  EXPECT_EQ(call("POST", "/api/v1/instances", R"({"name": "x"})").status, 400);
  r = call("POST", "/api/v1/instances/db1/nodes",
           R"({"name": "node-2", "endpoint": "127.0.0.1:3308"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r)["nodes"].size(), 2u);
  r = call("POST", "/api/v1/instances/db1/nodes", R"({"name": "node-3", "endpoint": "h:99999"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "endpoint");
  EXPECT_EQ(call("DELETE", "/api/v1/instances/db1/nodes/node-2").status, 200);
  EXPECT_EQ(body(call("GET", "/api/v1/instances"))["instances"].size(), 1u);
  EXPECT_EQ(call("DELETE", "/api/v1/instances/db1").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/instances/db1").status, 404);
}

TEST_F(ApiTest, OpenApiDocumentListsEveryPath) {
  json doc = body(call("GET", "/api/v1/openapi.json"));
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* p :
       {"/tasks", "/tasks/{name}", "/tasks/{name}/start", "/tasks/{name}/pause",
        "/tasks/{name}/resume", "/tasks/{name}/stop", "/tasks/{name}/precheck",
        "/tasks/{name}/options", "/tasks/{name}/source", "/tasks/{name}/events", "/instances",
        "/instances/{name}", "/instances/{name}/nodes", "/instances/{name}/nodes/{node}",
        "/tasks/{name}/changes", "/tasks/{name}/groups", "/tasks/{name}/groups/{group}",
        "/tasks/{name}/groups/{group}/commit", "/tasks/{name}/groups/{group}/token"})
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  json changes = doc["paths"]["/tasks/{name}/changes"]["get"];
  EXPECT_TRUE(changes["responses"]["200"]["content"].contains("application/x-ndjson"));
  std::vector<std::string> params;
  for (const auto& q : changes["parameters"]) params.push_back(q["name"]);
  EXPECT_EQ(params, (std::vector<std::string>{"name", "from", "tables", "ops", "limit", "wait_ms",
                                              "group", "format"}));
  EXPECT_TRUE(doc["components"]["schemas"]["Task"]["properties"].contains("tracking"));
}

TEST_F(ApiTest, MetricsExposition) {
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t\"1")).status, 400);  // bad name
  ASSERT_EQ(call("POST", "/api/v1/tasks", taskJsonText("t1")).status, 201);
  auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  for (const char* line : {"dts_task_state{task=\"t1\",state=\"created\"} 1",
                           "dts_task_state{task=\"t1\",state=\"running\"} 0",
                           "dts_task_phase{task=\"t1\",phase=\"created\"} 1",
                           "dts_task_rows_total{task=\"t1\"} 0", "dts_task_retrying{task=\"t1\"} 0",
                           "dts_task_errors_total{task=\"t1\",kind=\"connection\"} 0",
                           "dts_tasks{state=\"created\"} 1", "# TYPE dts_task_rows_total counter"})
    EXPECT_NE(r.body.find(line), std::string::npos) << line << "\n" << r.body;
  EXPECT_NE(r.body.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_EQ(r.body.find("dts_task_replication_lag_seconds{"),
            std::string::npos);  // not incremental
}

// A consumer group whose name is not UTF-8 (committed through the Kafka protocol by a dts that
// did not yet refuse such names) never breaks the task list, the status, the group list or
// /metrics: the name is shown with U+FFFD. A group token used beyond its scope is told what it
// may do.
TEST_F(ApiTest, AGroupNameThatIsNotUtf8NeverBreaksTheApi) {
  ASSERT_EQ(call("POST", "/api/v1/tasks",
                 R"({"name": "tr", "kind": "tracking", "source": {"endpoint": "127.0.0.1:1",)"
                 R"( "user": "u"}, "objects": [{"database": "shop"}]})")
                .status,
            201);
  ASSERT_EQ(call("POST", "/api/v1/tasks/tr/groups/g1/commit", R"({"offset": 0})").status, 200);
  {
    auto store = kafka::OffsetStore::open((dir_ / "kafka-offsets.db").string());
    ASSERT_TRUE(store.ok()) << store.status().toString();
    ASSERT_TRUE(
        (*store)->commit(std::string("bad\xff\x00utf\n", 9), {{"tr", 0, 0, std::nullopt}}).ok());
  }
  for (const char* path : {"/api/v1/tasks", "/api/v1/tasks/tr", "/api/v1/tasks/tr/groups"}) {
    HttpResponse r = call("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(mysql::firstInvalidUtf8(r.body), r.body.size()) << path;
    EXPECT_NE(r.body.find("bad\uFFFD"), std::string::npos) << path << ": " << r.body;
  }
  HttpResponse metrics = call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_EQ(mysql::firstInvalidUtf8(metrics.body), metrics.body.size());
  EXPECT_EQ(metrics.body.find('\0'), std::string::npos);
  EXPECT_NE(metrics.body.find("group=\"bad\uFFFD\uFFFDutf\\n\""), std::string::npos)
      << metrics.body;

  HttpResponse issued = call("POST", "/api/v1/tasks/tr/groups/g1/token");
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string token = body(issued)["token"];
  HttpResponse other = call("GET", "/api/v1/tasks/tr/changes?group=g2", "", "Bearer " + token);
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(body(other)["error"]["message"].get<std::string>().find(
                "the read-only token of consumer group 'g1' of task 'tr'"),
            std::string::npos)
      << other.body;
  HttpResponse wrong =
      call("GET", "/api/v1/tasks/tr/changes", "", "Bearer dtsg_" + std::string(64, 'b'));
  EXPECT_EQ(body(wrong)["error"]["message"], "invalid API token");
}

TEST(MetricsTest, RendersProgressLagAndRetryDeadline) {
  TaskView v;
  v.name = "a";
  v.kind = "sync";
  v.state = "running";
  v.running = true;
  v.engine.phase = task::TaskPhase::kIncremental;
  v.engine.retrying =
      "retrying since 2026-11-23T10:00:00Z, gives up at 2026-11-23T22:00:00Z (attempt 3): x";
  v.retry_deadline_ms = parseRetryDeadline(v.engine.retrying);
  v.latency_ms = 1500;
  v.rows_moved = 42;
  v.sink = {3, 10, 4, {"0-1-9", 250000}};
  task::TableProgress t;
  t.source_database = "shop";
  t.source_table = "orders";
  t.rows_done = 5;
  t.rows_estimated = 10;
  t.changes_applied = 7;
  v.engine.tables.push_back(t);
  v.errors["connection"] = 2;
  std::string m = renderMetrics({v});
  for (const char* line :
       {"dts_task_replication_lag_seconds{task=\"a\"} 1.5", "dts_task_retrying{task=\"a\"} 1",
        "dts_task_retry_deadline_timestamp_seconds{task=\"a\"} 1795471200",
        "dts_task_rows_total{task=\"a\"} 42",
        "dts_task_full_rows_done{task=\"a\",table=\"shop.orders\"} 5",
        "dts_task_full_rows_estimated{task=\"a\",table=\"shop.orders\"} 10",
        "dts_task_changes_applied_total{task=\"a\",table=\"shop.orders\"} 7",
        "dts_task_full_progress_ratio{task=\"a\"} 1",
        "dts_task_applier_queue_transactions{task=\"a\"} 3",
        "dts_task_applier_batches_total{task=\"a\"} 4",
        "dts_task_applier_open_transaction_rows{task=\"a\"} 250000",
        "dts_task_errors_total{task=\"a\",kind=\"connection\"} 2"})
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  // The task's JSON (GET /api/v1/tasks/a, `dts status`, the console) names it too.
  auto j = taskJson(v);
  EXPECT_EQ(j["applier"]["open_transaction"]["gtid"], "0-1-9");
  EXPECT_EQ(j["applier"]["open_transaction"]["rows"], 250000u);
  v.sink.open_transaction = {};
  EXPECT_TRUE(taskJson(v)["applier"]["open_transaction"].is_null());
  EXPECT_EQ(escapeLabel("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

// The secondary node read: its replication stopped makes the task's lag unknown (no sample,
// null in the JSON) instead of a healthy 0, and is a 0 of its own gauge; running, its delay.
TEST(MetricsTest, SourceNodeReplicationStoppedRunningAndUnknown) {
  auto task = [](const char* name, source::ReplicationHealth::State state) {
    TaskView v;
    v.name = name;
    v.state = "running";
    v.running = true;
    v.engine.phase = task::TaskPhase::kIncremental;
    v.latency_ms = 0;
    v.engine.source_replication.state = state;
    v.engine.source_replication.node = "node-2";
    return v;
  };
  using S = source::ReplicationHealth::State;
  TaskView stopped = task("stopped", S::kStopped);
  stopped.engine.source_replication.io_running = "No";
  stopped.engine.source_replication.sql_running = "No";
  TaskView running = task("running", S::kRunning);
  running.engine.source_replication.seconds_behind = 12;
  TaskView unknown = task("unknown", S::kUnknown);
  unknown.engine.source_replication.reason = "needs SLAVE MONITOR";
  TaskView endpoint = task("endpoint", S::kNotWatched);
  std::string m = renderMetrics({stopped, running, unknown, endpoint});
  for (const char* line :
       {"dts_task_source_replication_running{task=\"stopped\",node=\"node-2\"} 0",
        "dts_task_source_replication_running{task=\"running\",node=\"node-2\"} 1",
        "dts_task_source_replication_delay_seconds{task=\"running\",node=\"node-2\"} 12",
        "dts_task_source_replication_unknown{task=\"unknown\",node=\"node-2\"} 1",
        "dts_task_replication_lag_seconds{task=\"running\"} 0",
        "dts_task_replication_lag_seconds{task=\"endpoint\"} 0"})
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  EXPECT_EQ(m.find("dts_task_replication_lag_seconds{task=\"stopped\"}"), std::string::npos) << m;
  EXPECT_EQ(m.find("dts_task_source_replication_running{task=\"endpoint\""), std::string::npos);
  EXPECT_EQ(m.find("dts_task_source_replication_running{task=\"unknown\""), std::string::npos);
  auto j = taskJson(stopped);
  EXPECT_TRUE(j["latency_ms"].is_null()) << j.dump();
  EXPECT_TRUE(j["replication_lag_seconds"].is_null()) << j.dump();
  EXPECT_EQ(j["source_replication"]["state"], "stopped");
  EXPECT_NE(j["source_replication"]["message"].get<std::string>().find("STOPPED"),
            std::string::npos);
  EXPECT_EQ(taskJson(running)["replication_lag_seconds"], 0.0);
  EXPECT_EQ(taskJson(running)["source_replication"]["seconds_behind"], 12);
  EXPECT_TRUE(taskJson(endpoint)["source_replication"].is_null());
}

TEST(MetricsTest, VerificationOfTasksThatRanIt) {
  TaskView ran;
  ran.name = "a";
  ran.engine.verify.state = "different";
  ran.engine.verify.tables_checked = 3;
  ran.engine.verify.row_differences = 2;
  ran.engine.verify.rechecks = 5;
  ran.engine.verify.incremental.enabled = true;
  ran.engine.verify.incremental.rows_checked = 1500;
  ran.engine.verify.incremental.row_differences = 1;
  TaskView never;
  never.name = "b";
  std::string m = renderMetrics({ran, never});
  for (const char* line :
       {"dts_task_verify_equal{task=\"a\"} 0", "dts_task_verify_running{task=\"a\"} 0",
        "dts_task_verify_tables_checked{task=\"a\"} 3",
        "dts_task_verify_row_differences{task=\"a\"} 2",
        "dts_task_verify_schema_differences{task=\"a\"} 0",
        "dts_task_verify_rechecks_total{task=\"a\"} 5",
        "dts_task_verify_incremental_rows_checked_total{task=\"a\"} 1500",
        "dts_task_verify_incremental_row_differences_total{task=\"a\"} 1",
        "dts_task_verify_incremental_rows_skipped_total{task=\"a\"} 0"})
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  EXPECT_EQ(m.find("dts_task_verify_equal{task=\"b\"}"), std::string::npos) << m;
  EXPECT_EQ(m.find("dts_task_verify_incremental_rows_checked_total{task=\"b\"}"), std::string::npos)
      << m;
}

TEST(TokenTest, CreatedOnceOwnerOnlyAndStable) {
  std::string dir =
      (std::filesystem::temp_directory_path() / ("dts_token_test_" + std::to_string(getpid())))
          .string();
  std::filesystem::remove_all(dir);
  auto first = loadOrCreateToken(dir);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->token.size(), 64u);
  struct stat st {};
  ASSERT_EQ(stat(first->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  chmod(first->path.c_str(), 0644);
  auto second = loadOrCreateToken(dir);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->token, first->token);
  ASSERT_EQ(stat(first->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  unsetenv("DTS_TOKEN");
  EXPECT_EQ(*clientToken(dir), first->token);
  setenv("DTS_TOKEN", "from-env-0123456789", 1);
  EXPECT_EQ(*clientToken(dir), "from-env-0123456789");
  unsetenv("DTS_TOKEN");
  EXPECT_FALSE(clientToken(dir + "/none").ok());
  EXPECT_TRUE(tokenEquals("abc", "abc"));
  EXPECT_FALSE(tokenEquals("abc", "abd"));
  EXPECT_FALSE(tokenEquals("abc", "abcd"));
  std::filesystem::remove_all(dir);
}

TEST_F(ApiTest, ConsoleFilesNeedNoTokenAndCarryTypesAndCaching) {
  HttpResponse index = call("GET", "/", "", "");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("/console/app.js"), std::string::npos);
  std::map<std::string, std::string> headers(index.headers.begin(), index.headers.end());
  EXPECT_EQ(headers["Cache-Control"], "no-cache");
  EXPECT_NE(headers["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(headers["X-Content-Type-Options"], "nosniff");
  ASSERT_FALSE(headers["ETag"].empty());
  EXPECT_EQ(call("GET", "/console/", "", "").body, index.body);

  HttpResponse js = call("GET", "/console/app.js", "", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(call("GET", "/console/style.css", "", "").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(call("GET", "/console/favicon.svg", "", "").content_type, "image/svg+xml");
  // Every file the page loads is embedded.
  for (const char* f : {"app.js", "ui.js", "instances.js", "wizard.js", "tasks.js", "chart.js"})
    EXPECT_NE(findConsoleAsset(f), nullptr) << f;

  // A revalidation with the same ETag is 304 without a body.
  HttpRequest again = makeRequest("GET", "/", "", "");
  again.if_none_match = headers["ETag"];
  HttpResponse cached = api_->handle(again);
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());

  HttpResponse missing = call("GET", "/console/nope.js", "", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(code(missing), "not_found");
  EXPECT_EQ(call("POST", "/", "", "").status, 405);
  EXPECT_EQ(call("GET", "/console/../api-token", "", "").status, 404);
  // The console is not a way around the token.
  EXPECT_EQ(call("GET", "/consolex", "", "").status, 401);
}

TEST_F(ApiTest, ExploringChecksItsInputBeforeConnecting) {
  // The token is needed.
  EXPECT_EQ(call("POST", "/api/v1/browse", "{}", "").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/connections/test", "{}", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/browse").status, 405);
  EXPECT_EQ(call("GET", "/api/v1/connections/test").status, 405);
  EXPECT_EQ(call("GET", "/api/v1/instances/x/discover").status, 405);

  HttpResponse r = call("POST", "/api/v1/browse", "not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "body");
  r = call("POST", "/api/v1/browse", R"({"user": "u"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "endpoint");
  r = call("POST", "/api/v1/browse", R"({"endpoint": "127.0.0.1:1"})");
  EXPECT_EQ(body(r)["error"]["field"], "user");
  r = call("POST", "/api/v1/browse", R"({"endpoint": "h:99999", "user": "u"})");
  EXPECT_EQ(body(r)["error"]["field"], "endpoint");
  r = call("POST", "/api/v1/browse", R"({"endpoint": "h:1", "user": "u", "database": 3})");
  EXPECT_EQ(body(r)["error"]["field"], "database");
  r = call("POST", "/api/v1/browse", R"({"endpoint": "h:1", "secondary_node": "n"})");
  EXPECT_EQ(body(r)["error"]["field"], "secondary_node");
  r = call("POST", "/api/v1/connections/test", R"({"role": "sink", "endpoint": "h:1"})");
  EXPECT_EQ(body(r)["error"]["field"], "role");
  r = call("POST", "/api/v1/connections/test", R"({"role": "destination", "instance": "x"})");
  EXPECT_EQ(body(r)["error"]["field"], "instance");
  // An unknown instance is 404 for every exploring call.
  EXPECT_EQ(call("POST", "/api/v1/browse", R"({"instance": "nope"})").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/instances/nope/nodes").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/instances/nope/discover").status, 404);

  // A registered node as destination is refused before any connection; the password given is
  // never echoed.
  std::string inst = std::string(R"({"name": "shop", "endpoint": "127.0.0.1:1", "user": "u",)") +
                     R"( "password": ")" + kPassword +
                     R"(", "nodes": [{"name": "node-2", "endpoint": "localhost:2"}]})";
  ASSERT_EQ(call("POST", "/api/v1/instances", inst).status, 201);
  r = call("POST", "/api/v1/connections/test",
           std::string(R"({"role": "destination", "endpoint": "127.0.0.1:2", "user": "u", )") +
               R"("password": ")" + kPassword + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(body(r)["ok"].get<bool>());
  EXPECT_TRUE(body(r)["refused"].get<bool>());
  EXPECT_NE(body(r)["message"].get<std::string>().find("node node-2 of instance shop"),
            std::string::npos);
  // An unreachable source is an answer (ok false, with a hint), not an error.
  r = call("POST", "/api/v1/connections/test", R"({"instance": "shop"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(body(r)["ok"].get<bool>());
  EXPECT_FALSE(body(r)["hint"].get<std::string>().empty());
  // The live view of an unreachable instance says so per node.
  r = call("GET", "/api/v1/instances/shop/nodes");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(body(r)["endpoint"]["reachable"].get<bool>());
  ASSERT_EQ(body(r)["nodes"].size(), 1u);
  EXPECT_EQ(body(r)["nodes"][0]["role"], "unknown");
  EXPECT_FALSE(body(r)["nodes"][0]["error"].get<std::string>().empty());
  // Browsing an unreachable source is 503.
  EXPECT_EQ(call("POST", "/api/v1/browse", R"({"instance": "shop"})").status, 503);
}

TEST(ServerHelpersTest, HintsAndRetryDeadline) {
  EXPECT_FALSE(precheckHint("binlog_format").empty());
  EXPECT_EQ(precheckHint("no such item"), "");
  // A refused login is about the password; a refused statement is about privileges (its hint
  // said "check the user and password" for error 1044).
  EXPECT_NE(errorHint("query on h:1: Access denied for user 'tu'@'%' (using password: YES) "
                      "(error 1045)")
                .find("password"),
            std::string::npos);
  const std::string privilege = errorHint(
      "query on h:1: Access denied for user 'tu'@'%' to database 'dts_meta' (error 1044)");
  EXPECT_NE(privilege.find("grant the account"), std::string::npos) << privilege;
  EXPECT_EQ(privilege.find("password"), std::string::npos) << privilege;
  // A binlog the source no longer has: not a connectivity problem, and retrying cannot help.
  for (const char* lost :
       {"incremental phase of task 't': reading 127.0.0.1:3306 (connecting): server error 1236: "
        "Could not find GTID state requested by slave in any binlog files",
        "server error 1236: Error: connecting slave requested to start from GTID 0-4-221931, "
        "which is not in the master's binlog"}) {
    const std::string hint = errorHint(lost);
    EXPECT_NE(hint.find("no longer has the binlog"), std::string::npos) << hint;
  }
  // A precheck that failed for a read-only destination while the source was unreachable too:
  // the hint is about what failed the task, not a retry that does not happen.
  const std::string read_only = errorHint(
      "precheck failed: source connectivity: connecting to 127.0.0.1:1 as 'u': Can't connect to "
      "server on '127.0.0.1' (115) (error 2002); destination writable: destination 127.0.0.1:2 "
      "is read-only (read_only=ON)");
  EXPECT_NE(read_only.find("read_only=OFF"), std::string::npos) << read_only;
  EXPECT_EQ(read_only.find("retries within"), std::string::npos) << read_only;
  EXPECT_EQ(parseRetryDeadline("retrying since 2026-11-23T10:00:00Z, gives up at "
                               "2026-11-23T22:00:00Z (attempt 1): e"),
            std::optional<int64_t>(1795471200000));
  EXPECT_EQ(parseRetryDeadline("nothing"), std::nullopt);
  EXPECT_EQ(yamlTextToJson("a: 1\nb: 'x'\nc: true\nd: [1.5]")["d"][0], 1.5);
}

}  // namespace
}  // namespace dts::server
