// The local cluster harness itself: replication, failover, adding and removing nodes.
#include <gtest/gtest.h>

#include <thread>

#include "cluster_fixture.h"
#include "support_data.h"

namespace dts::testing {
namespace {

std::string one(mysql::Connection& c, const std::string& sql) {
  auto r = c.queryValue(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().toString();
  return r.ok() ? r->value_or("NULL") : "";
}

class ClusterHarnessTest : public ::testing::Test {
 protected:
  void SetUp() override { cluster_ = LocalCluster::start(); }
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(ClusterHarnessTest, ReplicatesToBothSecondariesAndFailsOver) {
  auto st = cluster_->status();
  ASSERT_EQ(st["nodes"].size(), 3u);
  EXPECT_EQ(st["primary"], "node-1");
  for (const auto& n : st["nodes"]) {
    EXPECT_TRUE(n["running"].get<bool>()) << n.dump();
    if (n["name"] != "node-1") {
      EXPECT_EQ(n["role"], "secondary");
      EXPECT_TRUE(n["read_only"].get<bool>());
      EXPECT_EQ(n["replicating_from"], "node-1");
    }
  }

  // Writes through the endpoint reach both secondaries, with the same GTID position.
  {
    auto rw = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(rw, nullptr);
    EXPECT_EQ(one(*rw, "SELECT @@server_id"), "1");
    ASSERT_TRUE(rw->execute("CREATE DATABASE shop").ok());
    ASSERT_TRUE(rw->execute("CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(10))").ok());
    ASSERT_TRUE(rw->execute("INSERT INTO shop.t VALUES (1,'a'),(2,'b')").ok());
  }
  for (const char* node : {"node-2", "node-3"}) {
    cluster_->waitReplicated(node);
    auto c = cluster_->connect(cluster_->nodeEndpoint(node));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(one(*c, "SELECT COUNT(*) FROM shop.t"), "2") << node;
    EXPECT_EQ(one(*c, "SELECT @@log_slave_updates"), "1");
    EXPECT_EQ(one(*c, "SELECT @@binlog_format"), "ROW");
    EXPECT_EQ(one(*c, "SELECT @@gtid_strict_mode"), "1");
    // A secondary refuses writes from the dts account.
    EXPECT_FALSE(c->execute("INSERT INTO shop.t VALUES (9,'x')").ok());
  }

  // Failover: node-2 becomes primary; the endpoint keeps its address and reaches node-2.
  std::string endpoint_before = cluster_->endpoint();
  cluster_->run("promote node-2");
  st = cluster_->status();
  EXPECT_EQ(st["primary"], "node-2");
  EXPECT_EQ(st["endpoint"], endpoint_before);
  for (const auto& n : st["nodes"]) {
    if (n["name"] == "node-1") {
      EXPECT_EQ(n["role"], "stopped");
    } else if (n["name"] == "node-2") {
      EXPECT_FALSE(n["read_only"].get<bool>());
    } else if (n["name"] == "node-3") {
      EXPECT_EQ(n["replicating_from"], "node-2");
    }
  }
  {
    auto rw = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(rw, nullptr);
    EXPECT_EQ(one(*rw, "SELECT @@server_id"), "2");
    ASSERT_TRUE(rw->execute("INSERT INTO shop.t VALUES (3,'c')").ok());
  }
  cluster_->waitReplicated("node-3");
  auto n3 = cluster_->connect(cluster_->nodeEndpoint("node-3"));
  ASSERT_NE(n3, nullptr);
  EXPECT_EQ(one(*n3, "SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.t"), "1,2,3");
  // The old primary is down: its direct endpoint refuses connections.
  auto old = mysql::Connection::connect(cluster_->options(cluster_->nodeEndpoint("node-1")));
  EXPECT_FALSE(old.ok());
}

TEST_F(ClusterHarnessTest, AddsAndRemovesSecondaries) {
  {
    auto rw = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(rw, nullptr);
    ASSERT_TRUE(rw->execute("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)").ok());
    ASSERT_TRUE(rw->execute("INSERT INTO d.t VALUES (1),(2),(3)").ok());
  }
  cluster_->run("add node-4");
  auto st = cluster_->status();
  ASSERT_EQ(st["nodes"].size(), 4u);
  auto n4 = cluster_->connect(cluster_->nodeEndpoint("node-4"));
  ASSERT_NE(n4, nullptr);
  EXPECT_EQ(one(*n4, "SELECT COUNT(*) FROM d.t"), "3");
  EXPECT_EQ(one(*n4, "SELECT @@read_only"), "1");

  std::string n3 = cluster_->nodeEndpoint("node-3");
  cluster_->run("remove node-3");
  st = cluster_->status();
  ASSERT_EQ(st["nodes"].size(), 3u);
  for (const auto& n : st["nodes"]) EXPECT_NE(n["name"], "node-3");
  EXPECT_FALSE(mysql::Connection::connect(cluster_->options(n3)).ok());
  // Removing the primary is refused.
  std::string out;
  EXPECT_NE(
      runCommand(sourceDir() + "/scripts/cluster.sh --dir " + cluster_->dir() + " remove node-1",
                 &out),
      0);
}

TEST_F(ClusterHarnessTest, DestinationIsSeparateAndWritable) {
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dest, nullptr);
  EXPECT_EQ(one(*dest, "SELECT @@read_only"), "0");
  EXPECT_EQ(one(*dest, "SELECT @@server_id"), "100");
  ASSERT_TRUE(dest->execute("CREATE DATABASE only_here").ok());
  auto rw = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(rw, nullptr);
  EXPECT_EQ(
      one(*rw, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='only_here'"),
      "0");
}

TEST_F(ClusterHarnessTest, LoadThroughTheEndpointRidesThroughAFailover) {
  Sysbench load(cluster_->endpoint(), cluster_->user(), cluster_->password(), "sb", 2, 1000);
  ASSERT_EQ(load.prepare(), "");
  load.start(2);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster_->run("promote node-3");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  load.stop();
  auto primary = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(primary, nullptr);
  auto pos = primary->queryValue("SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(pos.ok());
  // The new primary took writes after the failover (its own server id in the position).
  EXPECT_NE(pos->value_or("").find("0-3-"), std::string::npos) << pos->value_or("");
  cluster_->waitReplicated("node-2");
  auto n2 = cluster_->connect(cluster_->nodeEndpoint("node-2"));
  ASSERT_NE(n2, nullptr);
  EXPECT_EQ(diffDatabases(*primary, *n2, "sb"), "");
}

}  // namespace
}  // namespace dts::testing
