// `dts server` end to end against the local cluster, through its HTTP API and the CLI:
//   * the token: /healthz without it, 401 without, 403 with a wrong one; created 0600;
//   * create (JSON with an inline password, YAML with password_env) -> precheck -> start ->
//     incremental -> pause -> resume; two good tasks and one failing on purpose (a database that
//     does not exist) at once: the failure never stops the others;
//   * rows written while the server is killed with SIGKILL and restarted: both tasks resume and
//     the destination equals the source (no row lost or doubled, also in a table without a key);
//   * every error status (400 naming the field, 401, 403, 404, 405, 409);
//   * /metrics names and values against the task's own status; lag 0 once idle;
//   * SIGTERM: exit 0, tasks paused at a checkpoint; delete;
//   * the password appears in no response and no log line.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cluster_fixture.h"
#include "support_data.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Answer {
  int status = 0;
  json body;
};

class ServerTest : public SharedClusterTest {
 protected:
  void startServer() {
    server_ = std::make_unique<DtsProcess>();
    size_t before = log().size();
    server_->start({"server", "--data-dir", data_, "--listen", "127.0.0.1:0"}, log_path_);
    ASSERT_TRUE(eventually(20s, [&] {
      return log().find("listening on http://", before) != std::string::npos;
    })) << log();
    std::smatch m;
    std::string tail = log().substr(before);
    ASSERT_TRUE(std::regex_search(tail, m, std::regex("listening on (http://[0-9.]+:[0-9]+)")));
    url_ = m[1];
    std::ifstream t(data_ + "/api-token");
    std::getline(t, token_);
    ASSERT_EQ(token_.size(), 64u);
  }

  Answer call(const std::string& method, const std::string& path, const std::string& body = "",
              const std::string& auth = "") {
    httplib::Client c(url_);
    c.set_read_timeout(120);
    httplib::Headers h = {{"Authorization", auth.empty()     ? "Bearer " + token_
                                            : auth == "none" ? ""
                                                             : auth}};
    if (auth == "none") h.clear();
    httplib::Result r = method == "GET"      ? c.Get(path, h)
                        : method == "POST"   ? c.Post(path, h, body, "application/json")
                        : method == "PATCH"  ? c.Patch(path, h, body, "application/json")
                        : method == "DELETE" ? c.Delete(path, h)
                                             : c.Put(path, h, body, "application/json");
    Answer a;
    if (!r) return a;
    a.status = r->status;
    responses_ += r->body + "\n";
    a.body = json::parse(r->body, nullptr, false);
    if (a.body.is_discarded()) a.body = r->body;
    return a;
  }

  json task(const std::string& name) { return call("GET", "/api/v1/tasks/" + name).body; }

  bool waitState(const std::string& name, const std::string& state, const std::string& phase,
                 std::chrono::seconds timeout) {
    return eventually(timeout, [&] {
      json t = task(name);
      return t.is_object() && t.value("state", "") == state &&
             (phase.empty() || t.value("phase", "") == phase);
    });
  }

  // The task's checkpoint equals the source's binlog position.
  bool waitCaughtUp(const std::string& name, std::chrono::seconds timeout) {
    auto conn = cluster_->connect(cluster_->endpoint());
    return eventually(timeout, [&] {
      auto p = conn->queryValue("SELECT @@GLOBAL.gtid_binlog_pos");
      json t = task(name);
      return p.ok() && t.is_object() && t["checkpoint_gtid"] == p->value_or("");
    });
  }

  void sourceSql(const std::string& sql) {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    Status st = c->execute(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.toString();
  }

  std::string diff(const std::string& src_db, const std::string& dst_db, const std::string& t) {
    auto s = cluster_->connect(cluster_->endpoint());
    auto d = cluster_->connect(cluster_->destinationEndpoint());
    return diffTables(*s, src_db, t, *d, dst_db, t);
  }

  std::string log() const {
    std::ifstream l(log_path_);
    return std::string((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
  }

  // The value of one sample of /metrics ("" when absent).
  static std::string metric(const std::string& text, const std::string& series) {
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return "";
    size_t start = at + series.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }

  std::string data_ = workFile("server-data");
  std::string log_path_ = workFile("server.log");
  std::unique_ptr<DtsProcess> server_;
  std::string url_, token_;
  std::string responses_;  // every response body, for the password check
};

TEST_F(ServerTest, TasksThroughTheApiSurviveKillAndFailuresOfOthers) {
  sourceSql(
      "CREATE DATABASE s1; USE s1; CREATE TABLE s1.t (id INT PRIMARY KEY, v VARCHAR(32));"
      "CREATE TABLE s1.nokey (a INT, b VARCHAR(8));"
      "INSERT INTO s1.t SELECT seq, CONCAT('v', seq) FROM seq_1_to_3000;"
      "INSERT INTO s1.nokey SELECT seq % 5, 'x' FROM seq_1_to_500;"
      "CREATE DATABASE s2; USE s2; CREATE TABLE s2.t (id INT PRIMARY KEY, v VARCHAR(32));"
      "INSERT INTO s2.t SELECT seq, CONCAT('w', seq) FROM seq_1_to_2000;");
  const std::string pw = cluster_->password();
  const std::string dest = cluster_->destinationEndpoint();
  startServer();
  EXPECT_NE(log().find("API token (shown once"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat((data_ + "/api-token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The token.
  EXPECT_EQ(call("GET", "/healthz", "", "none").status, 200);
  EXPECT_EQ(call("GET", "/readyz", "", "none").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/tasks", "", "none").status, 401);
  EXPECT_EQ(call("GET", "/metrics", "", "none").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/tasks", "", "Bearer wrong").status, 403);

  // Create: JSON with an inline password; YAML with password_env; a task bound to fail.
  json a = {{"name", "a"},
            {"kind", "sync"},
            {"source", {{"endpoint", cluster_->endpoint()}, {"user", "dts"}, {"password", pw}}},
            {"destination", {{"endpoint", dest}, {"user", "dts"}, {"password", pw}}},
            {"objects", json::array({{{"database", "s1"}, {"rename_to", "s1_copy"}}})},
            {"options", {{"parallelism", 2}}}};
  Answer r = call("POST", "/api/v1/tasks", a.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body["config"]["source"]["password"], "***");
  std::string b = "name: b\nkind: sync\nsource: {endpoint: '" + cluster_->endpoint() +
                  "', user: dts, password_env: DTS_IT_PW}\ndestination: {endpoint: '" + dest +
                  "', user: dts, password_env: DTS_IT_PW}\nobjects:\n  - database: s2\n";
  ASSERT_EQ(call("POST", "/api/v1/tasks", b).status, 201);
  json bad = a;
  bad["name"] = "bad";
  bad["objects"] = json::array({{{"database", "no_such_db"}}});
  ASSERT_EQ(call("POST", "/api/v1/tasks", bad.dump()).status, 201);

  // Error statuses.
  json broken = a;
  broken["name"] = "c";
  broken["options"]["parallelism"] = 1000;
  r = call("POST", "/api/v1/tasks", broken.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["field"], "options.parallelism");
  EXPECT_EQ(call("GET", "/api/v1/tasks/c").status, 404);  // nothing half-created
  EXPECT_EQ(call("POST", "/api/v1/tasks", a.dump()).status, 409);
  EXPECT_EQ(call("POST", "/api/v1/tasks/a/pause").status, 409);
  EXPECT_EQ(call("POST", "/api/v1/tasks/zz/start").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/tasks/a/start").status, 405);
  EXPECT_EQ(call("PATCH", "/api/v1/tasks/a/options", R"({"ddl": "maybe"})").status, 400);
  EXPECT_EQ(call("PATCH", "/api/v1/tasks/a/options", R"({"parallelism": 3})").status, 200);

  // Precheck: items with levels and hints.
  r = call("POST", "/api/v1/tasks/a/precheck");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body["passed"].get<bool>()) << r.body.dump(2);
  r = call("POST", "/api/v1/tasks/bad/precheck");
  EXPECT_FALSE(r.body["passed"].get<bool>());
  bool hinted = false;
  for (const auto& i : r.body["items"])
    hinted = hinted || (i["level"] == "fail" && !i["hint"].get<std::string>().empty());
  EXPECT_TRUE(hinted) << r.body.dump(2);

  // Start all three: the bad one fails, the others reach incremental.
  for (const char* n : {"a", "b", "bad"})
    EXPECT_EQ(call("POST", std::string("/api/v1/tasks/") + n + "/start").status, 200) << n;
  EXPECT_EQ(call("POST", "/api/v1/tasks/a/start").status, 409);
  ASSERT_TRUE(waitState("bad", "failed", "failed", 60s)) << task("bad").dump(2);
  ASSERT_TRUE(waitState("a", "running", "incremental", 120s)) << task("a").dump(2) << log();
  ASSERT_TRUE(waitState("b", "running", "incremental", 120s)) << task("b").dump(2);
  json events = call("GET", "/api/v1/tasks/bad/events").body;
  bool error_event = false;
  for (const auto& e : events["events"]) error_event = error_event || e["type"] == "error";
  EXPECT_TRUE(error_event) << events.dump(2);

  // Incremental, then pause / write / resume.
  sourceSql(
      "USE s1; INSERT INTO s1.t SELECT seq, 'inc' FROM seq_3001_to_3500; UPDATE s2.t SET v = 'u' "
      "WHERE id < 100; INSERT INTO s1.nokey VALUES (9, 'inc')");
  ASSERT_TRUE(waitCaughtUp("a", 60s)) << task("a").dump(2);
  ASSERT_TRUE(waitCaughtUp("b", 60s)) << task("b").dump(2);
  r = call("POST", "/api/v1/tasks/a/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["state"], "paused");
  EXPECT_EQ(r.body["phase"], "paused");
  EXPECT_EQ(call("POST", "/api/v1/tasks/a/pause").status, 409);
  sourceSql(
      "USE s1; INSERT INTO s1.t SELECT seq, 'paused' FROM seq_3501_to_3700; DELETE FROM s1.nokey "
      "WHERE a = 1 LIMIT 3");
  EXPECT_EQ(call("POST", "/api/v1/tasks/a/resume").status, 200);
  ASSERT_TRUE(waitCaughtUp("a", 60s)) << task("a").dump(2);
  EXPECT_EQ(diff("s1", "s1_copy", "t"), "");
  EXPECT_EQ(diff("s1", "s1_copy", "nokey"), "");
  EXPECT_EQ(diff("s2", "s2", "t"), "");

  // Metrics against the status, once idle (lag 0: nothing queued, nothing to read).
  std::this_thread::sleep_for(4s);
  json ta = task("a");
  std::string m = call("GET", "/metrics").body.get<std::string>();
  EXPECT_EQ(metric(m, "dts_task_phase{task=\"a\",phase=\"incremental\"}"), "1") << m;
  EXPECT_EQ(metric(m, "dts_task_state{task=\"a\",state=\"running\"}"), "1");
  EXPECT_EQ(metric(m, "dts_task_state{task=\"bad\",state=\"failed\"}"), "1");
  EXPECT_EQ(metric(m, "dts_task_errors_total{task=\"bad\",kind=\"other\"}") != "0" ||
                metric(m, "dts_task_errors_total{task=\"bad\",kind=\"precheck\"}") != "0",
            true);
  EXPECT_EQ(metric(m, "dts_task_replication_lag_seconds{task=\"a\"}"), "0");
  EXPECT_EQ(ta["replication_lag_seconds"], 0.0);
  EXPECT_EQ(metric(m, "dts_task_rows_total{task=\"a\"}"),
            std::to_string(ta["rows_total"].get<uint64_t>()));
  EXPECT_EQ(metric(m, "dts_task_full_rows_done{task=\"a\",table=\"s1.t\"}"), "3000");
  for (const auto& t : ta["tables"]) {
    if (t["source"] != "s1.t") continue;
    EXPECT_GE(t["changes_applied"].get<uint64_t>(), 700u);
    EXPECT_EQ(metric(m, "dts_task_changes_applied_total{task=\"a\",table=\"s1.t\"}"),
              std::to_string(t["changes_applied"].get<uint64_t>()));
  }
  EXPECT_EQ(metric(m, "dts_task_retrying{task=\"a\"}"), "0");
  EXPECT_NE(metric(m, "process_resident_memory_bytes"), "");

  // The CLI against the server.
  std::string out;
  std::string cli = "DTS_SERVER=" + url_ + " DTS_TOKEN=" + token_ + " " + dtsBinary() + " task ";
  EXPECT_EQ(runCommand(cli + "list", &out), 0) << out;
  EXPECT_NE(out.find("incremental"), std::string::npos) << out;
  EXPECT_EQ(runCommand(cli + "status a", &out), 0) << out;
  EXPECT_NE(out.find("replication lag"), std::string::npos) << out;
  EXPECT_EQ(runCommand(cli + "events bad", &out), 0) << out;
  EXPECT_NE(out.find("error"), std::string::npos) << out;
  EXPECT_NE(runCommand(cli + "pause nope", &out), 0) << out;
  // Instances through the API too: create, then discover asks the server to read the nodes.
  {
    std::string file = workFile("inst.yaml");
    std::ofstream(file) << "name: shop\nendpoint: '" << cluster_->endpoint()
                        << "'\nuser: dts\npassword_env: DTS_IT_PW\n";
    std::string inst =
        "DTS_SERVER=" + url_ + " DTS_TOKEN=" + token_ + " " + dtsBinary() + " instance ";
    EXPECT_EQ(runCommand(inst + "create -f " + file, &out), 0) << out;
    EXPECT_EQ(runCommand(inst + "discover shop", &out), 0) << out;
    EXPECT_NE(out.find("\"added\""), std::string::npos) << out;
    EXPECT_EQ(runCommand(inst + "show shop", &out), 0) << out;
    EXPECT_NE(out.find("node-2"), std::string::npos) << out;
    EXPECT_EQ(out.find(pw), std::string::npos) << out;
  }

  // Writes going on while the server is killed -9 and restarted.
  std::atomic<bool> stop_writer{false};
  std::thread writer([&] {
    auto c = cluster_->connect(cluster_->endpoint());
    for (int i = 10000; !stop_writer.load(); ++i) {
      (void)c->execute("INSERT INTO s1.t VALUES (" + std::to_string(i) + ", 'k'); INSERT INTO " +
                       "s2.t VALUES (" + std::to_string(i) + ", 'k'); INSERT INTO s1.nokey " +
                       "VALUES (" + std::to_string(i % 3) + ", 'k')");
      std::this_thread::sleep_for(10ms);
    }
  });
  std::this_thread::sleep_for(3s);
  server_->signal(SIGKILL);
  server_->wait(10s);
  std::this_thread::sleep_for(2s);
  startServer();
  EXPECT_EQ(log().find("API token (shown once", log().find("API token (shown once") + 1),
            std::string::npos);  // printed once only
  ASSERT_TRUE(waitState("a", "running", "incremental", 120s)) << task("a").dump(2);
  ASSERT_TRUE(waitState("b", "running", "incremental", 120s)) << task("b").dump(2);
  EXPECT_EQ(task("bad")["state"], "failed");  // a failed task is not restarted on its own
  std::this_thread::sleep_for(3s);
  stop_writer.store(true);
  writer.join();
  ASSERT_TRUE(waitCaughtUp("a", 90s)) << task("a").dump(2);
  ASSERT_TRUE(waitCaughtUp("b", 90s)) << task("b").dump(2);
  EXPECT_EQ(diff("s1", "s1_copy", "t"), "");
  EXPECT_EQ(diff("s1", "s1_copy", "nokey"), "");
  EXPECT_EQ(diff("s2", "s2", "t"), "");

  // Stop one, delete it; SIGTERM stops the rest cleanly (exit 0, paused at a checkpoint).
  r = call("POST", "/api/v1/tasks/b/stop");
  EXPECT_EQ(r.body["state"], "stopped");
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/a").status, 409);  // running
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/b").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/tasks/b").status, 404);
  {
    // `dts task` given only the data dir talks to the server running there: task a runs.
    std::string text;
    ASSERT_EQ(
        runCommand("env -u DTS_SERVER " + dtsBinary() + " task status a --json --data-dir " + data_,
                   &text),
        0)
        << text;
    json live = json::parse(text);
    EXPECT_EQ(live["state"], "running") << text;
    EXPECT_EQ(live["phase"], "incremental") << text;
  }
  server_->signal(SIGTERM);
  auto code = server_->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << log();
  json local;
  {
    std::string text;
    ASSERT_EQ(runCommand(dtsBinary() + " task status a --json --data-dir " + data_, &text), 0)
        << text;
    local = json::parse(text);
  }
  EXPECT_EQ(local["phase"], "paused");

  // No password anywhere.
  EXPECT_EQ(responses_.find(pw), std::string::npos);
  EXPECT_EQ(log().find(pw), std::string::npos);
}

// A task of the server reading the secondary node node-2: when node-2's own replication stops,
// the API's task status, /metrics and the task's events say so (the lag is unknown, not 0), and
// they clear when it runs again; the rows written meanwhile arrive.
TEST_F(ServerTest, SourceNodeReplicationStoppedInTheApiMetricsAndEvents) {
  data_ = workFile("server-repl-data");
  log_path_ = workFile("server-repl.log");
  sourceSql(
      "CREATE DATABASE rh; CREATE TABLE rh.t (id INT PRIMARY KEY, v VARCHAR(32));"
      "INSERT INTO rh.t VALUES (1, 'a')");
  startServer();
  auto st = cluster_->status();
  std::string instance = "name: rh\nendpoint: '" + st["endpoint"].get<std::string>() +
                         "'\nuser: dts\npassword_env: DTS_IT_PW\nnodes:\n";
  for (const auto& n : st["nodes"])
    instance += "  - {name: " + n["name"].get<std::string>() + ", endpoint: '" +
                n["endpoint"].get<std::string>() + "'}\n";
  ASSERT_EQ(call("POST", "/api/v1/instances", instance).status, 201) << responses_;
  json t = {{"name", "rh"},
            {"kind", "sync"},
            {"source", {{"instance", "rh"}, {"secondary_node", "node-2"}}},
            {"destination",
             {{"endpoint", cluster_->destinationEndpoint()},
              {"user", "dts"},
              {"password_env", "DTS_IT_PW"}}},
            {"objects", json::array({{{"database", "rh"}}})}};
  ASSERT_EQ(call("POST", "/api/v1/tasks", t.dump()).status, 201) << responses_;
  ASSERT_EQ(call("POST", "/api/v1/tasks/rh/start").status, 200) << responses_;
  ASSERT_TRUE(waitState("rh", "running", "incremental", 120s)) << task("rh").dump(2) << log();
  auto replication = [&] {
    json j = task("rh");
    return j.is_object() && j["source_replication"].is_object()
               ? j["source_replication"].value("state", "")
               : std::string();
  };
  const std::string running_series =
      "dts_task_source_replication_running{task=\"rh\",node=\"node-2\"}";
  auto metrics = [&] { return call("GET", "/metrics").body.get<std::string>(); };
  ASSERT_TRUE(eventually(60s, [&] { return replication() == "running"; })) << task("rh").dump(2);
  EXPECT_TRUE(eventually(30s, [&] { return metric(metrics(), running_series) == "1"; }))
      << metrics();

  cluster_->rootSql("node-2", "STOP SLAVE");
  sourceSql("INSERT INTO rh.t VALUES (2, 'while stopped')");
  ASSERT_TRUE(eventually(60s, [&] { return replication() == "stopped"; })) << task("rh").dump(2);
  json stopped = task("rh");
  EXPECT_TRUE(stopped["replication_lag_seconds"].is_null()) << stopped.dump(2);
  EXPECT_TRUE(stopped["latency_ms"].is_null()) << stopped.dump(2);
  EXPECT_EQ(stopped["state"], "running");  // degraded, not failed
  EXPECT_TRUE(eventually(30s, [&] { return metric(metrics(), running_series) == "0"; }))
      << metrics();
  EXPECT_EQ(metric(metrics(), "dts_task_replication_lag_seconds{task=\"rh\"}"), "");
  auto sourceEvents = [&] {
    std::string all;
    const json events = call("GET", "/api/v1/tasks/rh/events").body;
    for (const auto& e : events["events"])
      if (e["type"] == "source") all += e["message"].get<std::string>() + "\n";
    return all;
  };
  EXPECT_TRUE(eventually(30s, [&] {
    return sourceEvents().find("replication of source node node-2 STOPPED") != std::string::npos;
  })) << call("GET", "/api/v1/tasks/rh/events").body.dump(2);

  cluster_->rootSql("node-2", "START SLAVE");
  EXPECT_TRUE(eventually(60s, [&] { return replication() == "running"; })) << task("rh").dump(2);
  EXPECT_TRUE(eventually(30s, [&] { return metric(metrics(), running_series) == "1"; }))
      << metrics();
  EXPECT_NE(sourceEvents().find("replication of source node node-2 running again"),
            std::string::npos)
      << sourceEvents();
  EXPECT_TRUE(eventually(120s, [&] { return diff("rh", "rh", "t").empty(); }))
      << diff("rh", "rh", "t");

  // The task is pointed at another node (`dts task source`, PATCH .../source) and resumes there
  // from its checkpoint: no schema or full data again, nothing lost or doubled. That node lags
  // behind the task's checkpoint at first: the task waits for it (retrying), it does not fail
  // as if the binlog were purged (error 1236, "run the task anew").
  cluster_->rootSql("node-3", "STOP SLAVE");
  sourceSql("INSERT INTO rh.t VALUES (5, 'node-3 has not replicated this')");
  EXPECT_TRUE(eventually(120s, [&] { return diff("rh", "rh", "t").empty(); }))
      << diff("rh", "rh", "t");
  ASSERT_EQ(call("POST", "/api/v1/tasks/rh/stop").status, 200) << responses_;
  sourceSql("INSERT INTO rh.t VALUES (3, 'while the task was stopped')");
  std::string out;
  const std::string cli = "DTS_SERVER=" + url_ + " DTS_TOKEN=" + token_ + " " + dtsBinary() +
                          " task source rh --secondary-node node-3";
  ASSERT_EQ(runCommand(cli, &out), 0) << out;
  EXPECT_NE(out.find("task rh: reads node node-3 from its next start"), std::string::npos) << out;
  EXPECT_EQ(task("rh")["config"]["source"]["secondary_node"], "node-3");
  const size_t events_before = call("GET", "/api/v1/tasks/rh/events").body["events"].size();
  ASSERT_EQ(call("POST", "/api/v1/tasks/rh/start").status, 200) << responses_;
  EXPECT_TRUE(eventually(60s, [&] {
    json j = task("rh");
    return j["retrying"].is_object() &&
           j["retrying"].value("message", "").find("has not reached the task's position yet") !=
               std::string::npos;
  })) << task("rh").dump(2);
  EXPECT_EQ(task("rh")["state"], "running") << task("rh").dump(2);
  cluster_->rootSql("node-3", "START SLAVE");
  ASSERT_TRUE(waitState("rh", "running", "incremental", 120s)) << task("rh").dump(2) << log();
  EXPECT_TRUE(eventually(60s, [&] {
    json j = task("rh");
    return j["source_replication"].is_object() &&
           j["source_replication"].value("node", "") == "node-3";
  })) << task("rh").dump(2);
  sourceSql(
      "INSERT INTO rh.t VALUES (4, 'after the switch'); UPDATE rh.t SET v = 'x' WHERE id = 1");
  EXPECT_TRUE(eventually(120s, [&] { return diff("rh", "rh", "t").empty(); }))
      << diff("rh", "rh", "t");
  const json events = call("GET", "/api/v1/tasks/rh/events").body["events"];
  for (size_t i = events_before; i < events.size(); ++i) {
    const std::string m = events[i]["message"];
    EXPECT_EQ(m.find("-> schema"), std::string::npos) << events.dump(2);
    EXPECT_EQ(m.find("-> full"), std::string::npos) << events.dump(2);
  }
  EXPECT_EQ(responses_.find(cluster_->password()), std::string::npos) << "password leaked";
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->wait(60s).value_or(-999), 0) << log();
}

}  // namespace
}  // namespace dts::testing
