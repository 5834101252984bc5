// Tasks whose source is a cluster instance (issue 5, DESIGN.md "Cluster source rules"), against
// a real local cluster: the secondary node down and back, promoted, added, removed; a failover
// behind the read/write endpoint; the retry window expiring on an injected clock; and the
// prechecks that refuse a source or destination that breaks the rules.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cluster_fixture.h"
#include "mysql/gtid.h"
#include "support_data.h"
#include "support_dts.h"
#include "task/cluster_rules.h"
#include "task/runner.h"
#include "task/state_store.h"
#include "task/task_config.h"

namespace dts::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ClusterTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::start();
    setenv("DTS_IT_PW", cluster_->password().c_str(), 1);
    data_dir_ = cluster_->dir() + "/dts";
    auto st = cluster_->status();
    std::ofstream f(cluster_->dir() + "/instance.yaml");
    f << "name: shop\nendpoint: '" << st["endpoint"].get<std::string>()
      << "'\nuser: dts\npassword_env: DTS_IT_PW\nnodes:\n";
    for (const auto& n : st["nodes"]) {
      f << "  - {name: " << n["name"].get<std::string>() << ", endpoint: '"
        << n["endpoint"].get<std::string>() << "'}\n";
    }
    f.close();
    std::string out;
    ASSERT_EQ(runDts({"instance", "create", "-f", cluster_->dir() + "/instance.yaml", "--data-dir",
                      data_dir_},
                     &out),
              0)
        << out;
    load_ = std::make_unique<Sysbench>(cluster_->endpoint(), cluster_->user(), cluster_->password(),
                                       "shop", 2, 2000);
    ASSERT_EQ(load_->prepare(), "");
  }

  void TearDown() override {
    if (load_) load_->stop();
    task_.reset();
    cluster_.reset();
  }

  std::string rootSql(const std::string& node, const std::string& sql) {
    return cluster_->rootSql(node, sql);
  }

  // A sync task file reading `source` ("{instance: shop, secondary_node: node-2}").
  std::string writeTask(const std::string& name, const std::string& source,
                        const std::string& destination = "",
                        const std::string& destination_user = "dts") {
    std::string path = cluster_->dir() + "/" + name + ".yaml";
    std::ofstream f(path);
    f << "name: " << name << "\nkind: sync\nsource: " << source << "\n"
      << "destination: {endpoint: '"
      << (destination.empty() ? cluster_->destinationEndpoint() : destination)
      << "', user: " << destination_user
      << ", password_env: " << (destination_user == "dts" ? "DTS_IT_PW" : "DEST_USER_PW") << "}\n"
      << "objects:\n  - database: shop\n"
      << "options: {parallelism: 2, retry_time_for_failed_connections: 10}\n";
    return path;
  }

  void startTask(const std::string& name, const std::string& source) {
    task_name_ = name;
    task_ = std::make_unique<DtsProcess>();
    task_->start({"run", writeTask(name, source), "--data-dir", data_dir_},
                 cluster_->dir() + "/" + name + ".log");
  }

  std::string phase() { return taskStatus(data_dir_, task_name_).value("phase", ""); }

  void waitIncremental() {
    ASSERT_TRUE(
        eventually(seconds(120), [&] { return phase() == "incremental" || !task_->running(); }));
    ASSERT_TRUE(task_->running()) << task_->log();
    ASSERT_EQ(phase(), "incremental") << task_->log();
  }

  // Stops the load, then waits until the destination equals the current primary.
  void expectConverged() {
    load_->stop();
    auto primary = cluster_->connect(cluster_->endpoint());
    auto dest = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_TRUE(primary && dest);
    std::string diff;
    bool same = eventually(seconds(120), [&] {
      diff = diffDatabases(*primary, *dest, "shop");
      return diff.empty();
    });
    EXPECT_TRUE(same) << diff << "\n" << task_->log();
  }

  // Inserts a marker row through the endpoint; returns how long until the destination has it.
  milliseconds markerLatency(int id) {
    auto rw = cluster_->connect(cluster_->endpoint());
    auto dest = cluster_->connect(cluster_->destinationEndpoint());
    EXPECT_TRUE(rw && dest);
    if (!rw || !dest) return milliseconds(-1);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(rw->execute("INSERT INTO shop.sbtest1 (id, k, c, pad) VALUES (" +
                            std::to_string(id) + ", 1, 'marker', 'marker')")
                    .ok());
    bool seen = eventually(seconds(120), [&] {
      auto v = dest->queryValue("SELECT COUNT(*) FROM shop.sbtest1 WHERE id=" + std::to_string(id));
      return v.ok() && v->value_or("0") == "1";
    });
    EXPECT_TRUE(seen) << task_->log();
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<Sysbench> load_;
  std::unique_ptr<DtsProcess> task_;
  std::string data_dir_;
  std::string task_name_;
};

TEST_F(ClusterTaskTest, SecondaryNodeDownForTwentySecondsAndBack) {
  load_->start(2, 200);
  startTask("down-and-back", "{instance: shop, secondary_node: node-2}");
  waitIncremental();
  cluster_->run("stop-node node-2");
  // The task retries (and says so in its status) instead of failing.
  EXPECT_TRUE(eventually(seconds(20), [&] {
    return taskStatus(data_dir_, task_name_).value("retrying", "").find("retrying since") !=
           std::string::npos;
  })) << task_->log();
  std::this_thread::sleep_for(seconds(20));
  ASSERT_TRUE(task_->running()) << task_->log();
  auto restarted = std::chrono::steady_clock::now();
  cluster_->run("start-node node-2");
  auto latency = markerLatency(900001);
  auto since_back =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - restarted);
  std::cout << "[measure] node back -> marker change applied: " << since_back.count()
            << " ms (marker write -> applied " << latency.count() << " ms)" << std::endl;
  EXPECT_TRUE(task_->running());
  expectConverged();
  std::string retrying;
  EXPECT_TRUE(eventually(seconds(10),
                         [&] {
                           retrying = taskStatus(data_dir_, task_name_).value("retrying", "?");
                           return retrying.empty();
                         }))
      << "status still says: " << retrying;
  // The outage is over: its error is history ("recovered at ..."), not the task's error.
  nlohmann::json st;
  EXPECT_TRUE(eventually(seconds(10), [&] {
    st = taskStatus(data_dir_, task_name_);
    return st.value("last_error", "?").empty();
  })) << st.dump();
  ASSERT_TRUE(st["error_history"].is_array() && !st["error_history"].empty()) << st.dump();
  const auto& past = st["error_history"].back();
  EXPECT_FALSE(past.value("message", "").empty()) << st.dump();
  EXPECT_TRUE(past["recovered_at"].is_string()) << st.dump();
  std::string text;
  ASSERT_EQ(runDts({"status", "--data-dir", data_dir_}, &text), 0) << text;
  EXPECT_EQ(text.find("last error"), std::string::npos) << text;
  EXPECT_NE(text.find("recovered at "), std::string::npos) << text;
}

// The node read stops replicating from the primary (STOP SLAVE; then a duplicate key breaks its
// SQL thread). Its lag is measured against the node, so without the replication watch the task
// looks perfect while it receives nothing: the status must say the node's replication stopped
// and not show a healthy latency; once the node replicates again the status clears, and the rows
// the primary wrote meanwhile arrive at the destination.
TEST_F(ClusterTaskTest, SecondaryNodeReplicationStoppedIsShownThenClearsWithNothingLost) {
  startTask("node-repl", "{instance: shop, secondary_node: node-2}");
  waitIncremental();
  auto replication = [&] {
    auto st = taskStatus(data_dir_, task_name_);
    auto r = st.find("source_replication");
    return r != st.end() && r->is_object() ? *r : nlohmann::json::object();
  };
  auto replicationState = [&] { return replication().value("state", ""); };
  ASSERT_TRUE(eventually(seconds(60), [&] { return replicationState() == "running"; }))
      << taskStatus(data_dir_, task_name_).dump() << task_->log();

  auto primary = cluster_->connect(cluster_->endpoint());
  ASSERT_TRUE(primary);
  auto insert = [&](int id) {
    ASSERT_TRUE(primary
                    ->execute("INSERT INTO shop.sbtest1 (id, k, c, pad) VALUES (" +
                              std::to_string(id) + ", 1, 'while stopped', 'x')")
                    .ok());
  };

  // 1. STOP SLAVE on the node.
  rootSql("node-2", "STOP SLAVE");
  for (int id = 910001; id <= 910005; ++id) insert(id);
  ASSERT_TRUE(eventually(seconds(60), [&] { return replicationState() == "stopped"; }))
      << taskStatus(data_dir_, task_name_).dump() << task_->log();
  {
    auto st = taskStatus(data_dir_, task_name_);
    EXPECT_TRUE(st["latency_ms"].is_null()) << st.dump();  // not a healthy 0
    EXPECT_EQ(st["source_replication"]["node"], "node-2");
    EXPECT_EQ(st["source_replication"]["io_running"], "No");
    EXPECT_EQ(st["source_replication"]["sql_running"], "No");
    EXPECT_EQ(st["phase"], "incremental") << "a stopped node replication never fails the task";
    std::string out;
    ASSERT_EQ(runDts({"status", "--task", "node-repl", "--data-dir", data_dir_}, &out), 0) << out;
    EXPECT_NE(out.find("replication of source node node-2 STOPPED"), std::string::npos) << out;
    EXPECT_NE(out.find("latency unknown (source node replication stopped)"), std::string::npos)
        << out;
    EXPECT_EQ(out.find(cluster_->password()), std::string::npos) << "password leaked: " << out;
  }
  EXPECT_TRUE(task_->running()) << task_->log();
  // dts verify compares the destination with node-2's data: equal (once the task has applied
  // what the node has), yet it proves nothing about the primary, whose changes neither has.
  const std::string file = cluster_->dir() + "/node-repl.yaml";
  std::string verified;
  int verify_rc = -1;
  EXPECT_TRUE(eventually(seconds(60), [&] {
    verify_rc = runDts({"verify", file, "--data-dir", data_dir_}, &verified);
    return verified.find("NOT PROVEN: 2 tables, 0 row differences, 0 schema differences") !=
           std::string::npos;
  })) << verified;
  EXPECT_EQ(verify_rc, 1) << verified;
  EXPECT_NE(verified.find("NOT PROVEN: the replication of source node node-2 is stopped (IO "
                          "thread No, SQL thread No): the destination was compared with node-2's "
                          "data"),
            std::string::npos)
      << verified;
  EXPECT_EQ(verified.find(cluster_->password()), std::string::npos) << verified;

  // 2. START SLAVE: cleared, and what the primary wrote meanwhile arrives.
  rootSql("node-2", "START SLAVE");
  EXPECT_TRUE(eventually(seconds(60), [&] { return replicationState() == "running"; }))
      << taskStatus(data_dir_, task_name_).dump();
  expectConverged();
  verify_rc = runDts({"verify", file, "--data-dir", data_dir_, "--json"}, &verified);
  EXPECT_EQ(verify_rc, 0) << verified;
  EXPECT_NE(verified.find("\"unproven\": null"), std::string::npos) << verified;

  // 3. A duplicate key breaks the node's SQL thread: a row only the node has (kept out of its
  // binlog, so the task never sees it), then the same key written on the primary.
  rootSql("node-2",
          "SET sql_log_bin=0; INSERT INTO shop.sbtest1 (id, k, c, pad) VALUES "
          "(910100, 1, 'node only', 'x')");
  insert(910100);
  insert(910101);
  ASSERT_TRUE(eventually(seconds(60), [&] { return replicationState() == "stopped"; }))
      << taskStatus(data_dir_, task_name_).dump() << task_->log();
  {
    auto r = replication();
    EXPECT_EQ(r["sql_running"], "No") << r.dump();
    EXPECT_NE(r.value("error", "").find("Duplicate entry"), std::string::npos) << r.dump();
    EXPECT_NE(r.value("message", "").find("SQL thread error 1062"), std::string::npos) << r.dump();
  }
  EXPECT_TRUE(task_->running()) << task_->log();
  // The DBA's fix: the node's stray row goes, replication starts again.
  rootSql("node-2", "SET sql_log_bin=0; DELETE FROM shop.sbtest1 WHERE id = 910100; START SLAVE");
  EXPECT_TRUE(eventually(seconds(60), [&] { return replicationState() == "running"; }))
      << taskStatus(data_dir_, task_name_).dump();
  expectConverged();
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(dest);
  auto n = dest->queryValue("SELECT COUNT(*) FROM shop.sbtest1 WHERE id BETWEEN 910001 AND 910101");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->value_or(""), "7");  // 910001-910005, 910100, 910101
  // The log says when it started and when it cleared.
  EXPECT_NE(task_->log().find("replication of source node node-2 STOPPED"), std::string::npos)
      << task_->log();
  EXPECT_NE(task_->log().find("replication of source node node-2 running again"), std::string::npos)
      << task_->log();
  task_->signal(SIGTERM);
  EXPECT_EQ(task_->wait(seconds(60)).value_or(-999), 0) << task_->log();
}

// The paused task's node is restarted once with log_slave_updates=OFF, so it applies the
// primary's transactions without writing them to its own binlog; then (the precheck's hint)
// restarted with it ON. Its binlog now jumps over those transactions. Resumed on the node, the
// task must stop with an error that names the node and the hole, never run on "caught up" with
// the rows missing; read from the primary, it resumes from its checkpoint and loses nothing.
TEST_F(ClusterTaskTest, SecondaryNodeBinlogMissingTransactionsStopsTheTaskNothingSkipped) {
  auto primary = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(primary && dest);
  auto insert = [&](int first, int last) {
    for (int id = first; id <= last; ++id) {
      ASSERT_TRUE(primary
                      ->execute("INSERT INTO shop.sbtest1 (id, k, c, pad) VALUES (" +
                                std::to_string(id) + ", 1, 'lsu gap', 'x')")
                      .ok());
    }
  };
  auto atDest = [&](int first, int last) {
    auto n = dest->queryValue("SELECT COUNT(*) FROM shop.sbtest1 WHERE id BETWEEN " +
                              std::to_string(first) + " AND " + std::to_string(last));
    return n.ok() ? std::stoi(n->value_or("-1")) : -1;
  };
  const std::string node2 = "{instance: shop, secondary_node: node-2}";
  startTask("lsu-gap", node2);
  waitIncremental();
  insert(930001, 930005);
  ASSERT_TRUE(eventually(seconds(60), [&] { return atDest(930001, 930005) == 5; })) << task_->log();
  task_->signal(SIGTERM);
  ASSERT_EQ(task_->wait(seconds(60)).value_or(-999), 0) << task_->log();

  // The node applies 930101-930150 but does not binlog them.
  cluster_->run("stop-node node-2");
  cluster_->run("start-node node-2 --log-slave-updates=OFF");
  insert(930101, 930150);
  cluster_->waitReplicated("node-2");
  cluster_->run("stop-node node-2");
  cluster_->run("start-node node-2");
  const std::string positions = rootSql("node-2", "SELECT @@gtid_binlog_pos, @@gtid_slave_pos");

  // 1. At once: the node's gtid_slave_pos is ahead of its gtid_binlog_pos.
  startTask("lsu-gap", node2);
  auto exit = task_->wait(seconds(120));
  ASSERT_TRUE(exit.has_value()) << "the task runs on over the hole in node-2's binlog ("
                                << positions << "); rows 930101-930150 at the destination: "
                                << atDest(930101, 930150) << " of 50\n"
                                << task_->log();
  EXPECT_NE(*exit, 0);
  auto st = taskStatus(data_dir_, task_name_);
  EXPECT_EQ(st.value("phase", ""), "failed") << st.dump();
  std::string error = st.value("last_error", "");
  EXPECT_NE(error.find("node-2"), std::string::npos) << error;
  EXPECT_NE(error.find("gtid_slave_pos"), std::string::npos) << error;
  EXPECT_NE(error.find("gtid_binlog_pos"), std::string::npos) << error;
  EXPECT_EQ(atDest(930101, 930150), 0);

  // 2. Once the node binlogs again, both positions agree and only the stream shows the hole:
  // the task stops at it, applying nothing after it.
  insert(930201, 930210);
  cluster_->waitReplicated("node-2");
  startTask("lsu-gap", node2);
  exit = task_->wait(seconds(120));
  ASSERT_TRUE(exit.has_value()) << "the task runs on over the hole in node-2's binlog; rows "
                                << "930101-930150 at the destination: " << atDest(930101, 930150)
                                << " of 50, 930201-930210: " << atDest(930201, 930210) << " of 10\n"
                                << task_->log();
  EXPECT_NE(*exit, 0);
  st = taskStatus(data_dir_, task_name_);
  EXPECT_EQ(st.value("phase", ""), "failed") << st.dump();
  error = st.value("last_error", "");
  EXPECT_NE(error.find("missing from the binlog of node node-2"), std::string::npos) << error;
  EXPECT_EQ(atDest(930101, 930150), 0);
  EXPECT_EQ(atDest(930201, 930210), 0) << "applied past the hole";

  // 3. The fix the error suggests: read the primary. Nothing was skipped.
  startTask("lsu-gap", "{instance: shop}");
  waitIncremental();
  expectConverged();
  EXPECT_EQ(atDest(930101, 930150), 50);
  EXPECT_EQ(atDest(930201, 930210), 10);
  task_->signal(SIGTERM);
  EXPECT_EQ(task_->wait(seconds(60)).value_or(-999), 0) << task_->log();
}

// A jump the primary made itself (SET gtid_seq_no) is in every binlog: nothing is missing, the
// task reading a secondary node reads on, and its log says why.
TEST_F(ClusterTaskTest, SecondaryNodeJumpWrittenByThePrimaryIsNoHole) {
  startTask("seq-jump", "{instance: shop, secondary_node: node-2}");
  waitIncremental();
  auto primary = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(primary && dest);
  auto pos = primary->queryValue("SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(pos.ok());
  auto last = mysql::Gtid::parse(pos->value_or(""));
  ASSERT_TRUE(last.ok()) << pos->value_or("");
  // SET gtid_seq_no needs a privilege the dts account lacks: as root on the primary.
  rootSql("node-1", "SET SESSION gtid_seq_no = " + std::to_string(last->seq + 100) +
                        "; INSERT INTO shop.sbtest1 (id, k, c, pad) VALUES (940001, 1, 'j', 'x')");
  ASSERT_TRUE(
      primary->execute("INSERT INTO shop.sbtest1 (id, k, c, pad) VALUES (940002, 1, 'j', 'x')")
          .ok());
  EXPECT_TRUE(eventually(seconds(60), [&] {
    auto n = dest->queryValue("SELECT COUNT(*) FROM shop.sbtest1 WHERE id IN (940001, 940002)");
    return n.ok() && n->value_or("") == "2";
  })) << task_->log();
  EXPECT_TRUE(task_->running()) << task_->log();
  EXPECT_NE(task_->log().find("nothing missing: the primary's binlog"), std::string::npos)
      << task_->log();
  task_->signal(SIGTERM);
  EXPECT_EQ(task_->wait(seconds(60)).value_or(-999), 0) << task_->log();
}

TEST_F(ClusterTaskTest, SecondaryNodePromotedKeepsRunningAndNodeAddedChangesNothing) {
  load_->start(2, 200);
  startTask("promoted", "{instance: shop, secondary_node: node-2}");
  waitIncremental();
  // A secondary added to the cluster and to the instance: no effect.
  cluster_->run("add node-4");
  std::string out;
  ASSERT_EQ(runDts({"instance", "add-node", "shop", "node-4", cluster_->nodeEndpoint("node-4"),
                    "--data-dir", data_dir_},
                   &out),
            0)
      << out;
  std::this_thread::sleep_for(seconds(3));
  ASSERT_TRUE(task_->running()) << task_->log();
  // The task's own node becomes the primary: the task keeps running.
  auto promoted_at = std::chrono::steady_clock::now();
  cluster_->run("promote node-2");
  auto latency = markerLatency(900002);
  std::cout << "[measure] promotion -> marker change applied: "
            << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                        promoted_at)
                   .count()
            << " ms (marker write -> applied " << latency.count() << " ms)" << std::endl;
  ASSERT_TRUE(task_->running()) << task_->log();
  expectConverged();
  EXPECT_EQ(phase(), "incremental");
  task_->signal(SIGTERM);
  EXPECT_EQ(task_->wait(seconds(60)).value_or(-999), 0) << task_->log();
}

TEST_F(ClusterTaskTest, SecondaryNodeRemovedFromTheInstanceFailsTheTask) {
  load_->start(1, 100);
  startTask("removed", "{instance: shop, secondary_node: node-2}");
  waitIncremental();
  std::string out;
  // From another process on the same data dir.
  ASSERT_EQ(runDts({"instance", "remove-node", "shop", "node-2", "--data-dir", data_dir_}, &out), 0)
      << out;
  // Without a server it says, as the API does, which task that fails.
  EXPECT_NE(out.find("\"tasks_reading_node\": [\n    \"removed\"\n  ]"), std::string::npos) << out;
  auto exit = task_->wait(seconds(30));
  ASSERT_TRUE(exit.has_value()) << "the task still runs 30 s after its node was deleted\n"
                                << task_->log();
  EXPECT_NE(*exit, 0);
  auto st = taskStatus(data_dir_, task_name_);
  EXPECT_EQ(st.value("phase", ""), "failed");
  EXPECT_NE(st.value("last_error", "").find("secondary node node-2 was deleted from instance shop"),
            std::string::npos)
      << st.dump();
  EXPECT_NE(task_->log().find("secondary node node-2 was deleted from instance shop"),
            std::string::npos);
}

TEST_F(ClusterTaskTest, FailoverBehindTheEndpointKeepsATaskWithoutSecondaryNode) {
  load_->start(2, 200);
  startTask("failover", "{instance: shop}");
  waitIncremental();
  cluster_->run("promote node-3");
  auto latency = markerLatency(900003);
  std::cout << "[measure] failover -> marker applied " << latency.count() << " ms" << std::endl;
  ASSERT_TRUE(task_->running()) << task_->log();
  expectConverged();  // equal to the new primary
}

TEST_F(ClusterTaskTest, PrechecksRefuseWhatBreaksTheRules) {
  std::string out;
  // A registered secondary as destination: refused when the task is created.
  int rc = runDts(
      {"run", writeTask("to-secondary", "{instance: shop}", cluster_->nodeEndpoint("node-3")),
       "--data-dir", data_dir_},
      &out);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("a node of a registered instance cannot be the destination"),
            std::string::npos)
      << out;

  // The instance's primary under an address the registry does not know (an instance registered
  // with its read/write endpoint and node-2 only, the destination node-1's direct endpoint):
  // found by asking the servers, and refused as the registered addresses are.
  {
    auto st = cluster_->status();
    std::ofstream f(cluster_->dir() + "/partial.yaml");
    f << "name: partial\nendpoint: '" << st["endpoint"].get<std::string>()
      << "'\nuser: dts\npassword_env: DTS_IT_PW\n"
      << "nodes:\n  - {name: node-2, endpoint: '" << cluster_->nodeEndpoint("node-2") << "'}\n";
  }
  const std::string partial_dir = cluster_->dir() + "/dts-partial";
  ASSERT_EQ(runDts({"instance", "create", "-f", cluster_->dir() + "/partial.yaml", "--data-dir",
                    partial_dir},
                   &out),
            0)
      << out;
  const std::string primary = cluster_->status()["primary"].get<std::string>();
  for (const std::string source :
       {"{instance: partial, secondary_node: node-2}", "{instance: partial}"}) {
    const std::string name =
        source.find("node-2") != std::string::npos ? "node2-to-primary" : "primary-to-primary";
    rc = runDts({"run", writeTask(name, source, cluster_->nodeEndpoint(primary)), "--data-dir",
                 partial_dir},
                &out);
    EXPECT_NE(rc, 0) << source;
    EXPECT_NE(out.find("[FAIL] destination server: destination " + cluster_->nodeEndpoint(primary) +
                       " is the primary of instance partial under another address: a task does "
                       "not write into a source's own servers"),
              std::string::npos)
        << source << "\n"
        << out;
  }

  // binlog_format=STATEMENT on the selected node.
  rootSql("node-2", "SET GLOBAL binlog_format=STATEMENT");
  rc = runDts({"run", writeTask("statement", "{instance: shop, secondary_node: node-2}"),
               "--data-dir", data_dir_},
              &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("binlog_format=STATEMENT"), std::string::npos) << out;
  EXPECT_NE(out.find("[FAIL] binlog_format"), std::string::npos) << out;
  // The server's default row metadata: a warning that says what the schema history covers and
  // what still needs FULL.
  EXPECT_NE(out.find("[warn] binlog_row_metadata"), std::string::npos) << out;
  EXPECT_NE(out.find("schema history"), std::string::npos) << out;
  EXPECT_NE(out.find("FULL is still needed by `dts binlog tail`"), std::string::npos) << out;
  rootSql("node-2", "SET GLOBAL binlog_format=ROW");

  // log_slave_updates OFF on the selected node.
  cluster_->run("stop-node node-3");
  cluster_->run("start-node node-3 --log-slave-updates=OFF");
  rc = runDts({"run", writeTask("no-lsu", "{instance: shop, secondary_node: node-3}"), "--data-dir",
               data_dir_},
              &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("[FAIL] log_slave_updates"), std::string::npos) << out;
  EXPECT_NE(out.find("log_slave_updates=ON"), std::string::npos) << out;  // the fix hint

  // A user without the replication privileges.
  for (const char* node : {"node-1", "node-2"}) {
    rootSql(
        node,
        "SET sql_log_bin=0; CREATE USER weak@'%' IDENTIFIED BY 'weak-pw-1'; GRANT SELECT ON *.* TO weak@'%'");
  }
  {
    auto st = cluster_->status();
    std::ofstream f(cluster_->dir() + "/weak.yaml");
    f << "name: weak\nendpoint: '" << st["endpoint"].get<std::string>()
      << "'\nuser: weak\npassword_env: WEAK_PW\n"
      << "nodes:\n  - {name: node-2, endpoint: '" << cluster_->nodeEndpoint("node-2") << "'}\n";
  }
  setenv("WEAK_PW", "weak-pw-1", 1);
  ASSERT_EQ(
      runDts({"instance", "create", "-f", cluster_->dir() + "/weak.yaml", "--data-dir", data_dir_},
             &out),
      0)
      << out;
  rc = runDts({"run", writeTask("weak", "{instance: weak, secondary_node: node-2}"), "--data-dir",
               data_dir_},
              &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("[FAIL] source privileges"), std::string::npos) << out;
  EXPECT_NE(out.find("REPLICATION SLAVE"), std::string::npos) << out;
  EXPECT_NE(out.find("SHOW VIEW"), std::string::npos) << out;
  EXPECT_NE(out.find("[warn] ddl lock at snapshot"), std::string::npos) << out;
  // Nor may it read the node's replica status: a warning naming the privilege, not a failure.
  EXPECT_NE(out.find("[warn] replication status"), std::string::npos) << out;
  EXPECT_NE(out.find("replication health unknown: needs "), std::string::npos) << out;
  EXPECT_NE(out.find("GRANT SLAVE MONITOR ON *.*"), std::string::npos) << out;
  EXPECT_NE(out.find("GRANT RELOAD"), std::string::npos) << out;
  // Without TRIGGER the source shows it no triggers: a warning that says what that costs.
  EXPECT_NE(out.find("[warn] trigger visibility"), std::string::npos) << out;
  EXPECT_NE(out.find("GRANT TRIGGER ON *.*"), std::string::npos) << out;
  EXPECT_EQ(out.find("weak-pw-1"), std::string::npos) << "password leaked: " << out;
  // The cluster's own user holds what the task needs at both ends.
  EXPECT_EQ(out.find("[warn] destination privileges"), std::string::npos) << out;

  // A read-only destination (and a source with full row metadata: that check passes).
  rootSql("dest", "SET GLOBAL read_only=ON");
  rootSql("node-2", "SET GLOBAL binlog_row_metadata=FULL");
  rc = runDts({"run", writeTask("ro-dest", "{instance: shop, secondary_node: node-2}"),
               "--data-dir", data_dir_},
              &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("[FAIL] destination writable"), std::string::npos) << out;
  EXPECT_NE(out.find("[ok  ] binlog_row_metadata"), std::string::npos) << out;
  // A destination user that may only read and insert: the precheck names what the task needs
  // there (rows, schema, the DDL a sync replays), one grant per database counting.
  rootSql("dest",
          "CREATE USER dweak@'%' IDENTIFIED BY 'dweak-pw-1'; GRANT SELECT, INSERT ON *.* TO "
          "dweak@'%'; GRANT UPDATE (Host) ON mysql.db TO dweak@'%'; GRANT DELETE, CREATE ON "
          "`dts_meta`.* TO dweak@'%'");
  setenv("DEST_USER_PW", "dweak-pw-1", 1);
  rc = runDts(
      {"run", writeTask("weak-dest", "{instance: shop, secondary_node: node-2}", "", "dweak"),
       "--data-dir", data_dir_},
      &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("[warn] destination privileges: user 'dweak' may lack ALTER, DROP, INDEX"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("lack SELECT"), std::string::npos) << out;
  EXPECT_EQ(out.find("UPDATE,"), std::string::npos) << out;
  EXPECT_EQ(out.find("dweak-pw-1"), std::string::npos) << "password leaked: " << out;
  rootSql("dest", "SET GLOBAL read_only=OFF");
  rootSql("node-2", "SET GLOBAL binlog_row_metadata=DEFAULT");

  // The primary named as the secondary node of a new task (a node promoted under a running task
  // keeps it running: SecondaryNodePromotedKeepsRunningAndNodeAddedChangesNothing).
  const std::string now_primary = cluster_->status()["primary"].get<std::string>();
  rc = runDts(
      {"run", writeTask("on-primary", "{instance: shop, secondary_node: " + now_primary + "}"),
       "--data-dir", data_dir_},
      &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("[FAIL] secondary node: node " + now_primary +
                     " is the primary of instance shop: a task reads a secondary node"),
            std::string::npos)
      << out;

  // An unknown node.
  rc = runDts({"run", writeTask("no-node", "{instance: shop, secondary_node: node-9}"),
               "--data-dir", data_dir_},
              &out);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("instance shop has no node named 'node-9'"), std::string::npos) << out;
}

// The retry window on an injected clock: the node stays down, the task retries with backoff for
// exactly retry_time_for_failed_connections of (fake) time, then fails with the last error.
TEST_F(ClusterTaskTest, RetryWindowExpiresOnAnInjectedClock) {
  cluster_->run("stop-node node-2");
  auto config = task::loadTaskFile(writeTask("window", "{instance: shop, secondary_node: node-2}"));
  ASSERT_TRUE(config.ok()) << config.status().toString();
  ASSERT_TRUE(task::resolveTaskEndpoints(&config.value(), data_dir_).ok());
  auto store = task::SqliteStateStore::open(data_dir_);
  ASSERT_TRUE(store.ok());
  FakeClock clock;
  auto start = clock.now();
  task::RunnerOptions options;
  options.clock = &clock;
  options.data_dir = data_dir_;
  std::string printed;
  options.print = [&](const std::string& s) { printed += s; };
  task::TaskRunner runner(*config, store->get(), options);
  std::atomic<bool> stop{false};
  Status st = runner.run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("gave up after"), std::string::npos) << st.toString();
  EXPECT_NE(st.message().find("over 10 minutes"), std::string::npos) << st.toString();
  EXPECT_NE(st.message().find(cluster_->nodeEndpoint("node-2")), std::string::npos)
      << st.toString();
  EXPECT_EQ(clock.now() - start, Clock::Duration(std::chrono::minutes(10)));
  EXPECT_NE(printed.find("retrying since"), std::string::npos);
  EXPECT_NE(printed.find("gives up at"), std::string::npos);
  // Every attempt ran the prechecks, with the same failure each time: the table is printed once.
  auto first = printed.find("precheck:");
  EXPECT_NE(first, std::string::npos) << printed;
  EXPECT_EQ(printed.find("precheck:", first + 1), std::string::npos) << printed;
  size_t retries = 0;
  for (auto at = printed.find("retrying since"); at != std::string::npos;
       at = printed.find("retrying since", at + 1)) {
    ++retries;
  }
  EXPECT_GE(retries, 3u) << printed;
  auto state = (*store)->load("window");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->phase, task::TaskPhase::kFailed);
  EXPECT_NE((*state)->last_error.find("gave up after"), std::string::npos);
  cluster_->run("start-node node-2");
}

}  // namespace
}  // namespace dts::testing
