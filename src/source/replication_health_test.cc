#include "source/replication_health.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dts::source {
namespace {

using S = ReplicationHealth::State;

// A replica status result with the given columns, one row per channel.
mysql::QueryResult rows(std::vector<std::string> columns,
                        std::vector<std::vector<std::optional<std::string>>> values) {
  mysql::QueryResult r;
  r.columns = std::move(columns);
  for (auto& v : values) r.rows.push_back(std::move(v));
  return r;
}

const std::vector<std::string> kMariaDbAll = {
    "Connection_name",       "Slave_SQL_State",   "Slave_IO_State", "Master_Host",
    "Slave_IO_Running",      "Slave_SQL_Running", "Last_Errno",     "Last_Error",
    "Seconds_Behind_Master", "Last_IO_Errno",     "Last_IO_Error",  "Last_SQL_Errno",
    "Last_SQL_Error",        "Master_Server_Id",  "Gtid_IO_Pos",    "Gtid_Slave_Pos"};

TEST(ReplicationHealthTest, NoRowsIsNotAReplica) {
  auto channels = parseReplicaStatus(rows(kMariaDbAll, {}));
  ASSERT_TRUE(channels.ok());
  auto h = decideReplicationHealth(*channels, "node-1");
  EXPECT_EQ(h.state, S::kNotReplica);
  EXPECT_FALSE(h.degraded());
  EXPECT_EQ(describeReplicationHealth(h), "");  // a primary: nothing to warn about
}

TEST(ReplicationHealthTest, RunningChannelCarriesItsDelayAndPosition) {
  auto channels =
      parseReplicaStatus(rows(kMariaDbAll, {{"", "", "", "127.0.0.1", "Yes", "Yes", "0", "", "7",
                                             "0", "", "0", "", "1", "0-1-90", "0-1-88"}}));
  ASSERT_TRUE(channels.ok()) << channels.status().toString();
  auto h = decideReplicationHealth(*channels, "node-2");
  EXPECT_EQ(h.state, S::kRunning);
  ASSERT_TRUE(h.seconds_behind.has_value());
  EXPECT_EQ(*h.seconds_behind, 7);
  EXPECT_EQ(h.gtid_position, "0-1-88");
  EXPECT_NE(describeReplicationHealth(h).find("7 s behind its primary"), std::string::npos);
}

TEST(ReplicationHealthTest, StoppedByStopSlaveIsDegradedWithUnknownDelay) {
  auto channels =
      parseReplicaStatus(rows(kMariaDbAll, {{"", "", "", "h", "No", "No", "0", "", std::nullopt,
                                             "0", "", "0", "", "1", "0-1-90", "0-1-90"}}));
  ASSERT_TRUE(channels.ok());
  auto h = decideReplicationHealth(*channels, "node-2");
  EXPECT_EQ(h.state, S::kStopped);
  EXPECT_TRUE(h.degraded());
  EXPECT_FALSE(h.seconds_behind.has_value());
  std::string text = describeReplicationHealth(h);
  EXPECT_NE(text.find("replication of source node node-2 STOPPED"), std::string::npos) << text;
  EXPECT_NE(text.find("IO thread No, SQL thread No"), std::string::npos) << text;
  EXPECT_NE(text.find("lag unknown: node replication stopped"), std::string::npos) << text;
}

TEST(ReplicationHealthTest, SqlErrorOnOneOfSeveralChannelsIsDegradedAndNamesIt) {
  // Multi-source: the default connection runs, connection 'b' broke on a duplicate key.
  auto channels = parseReplicaStatus(
      rows(kMariaDbAll,
           {{"", "", "", "h1", "Yes", "Yes", "0", "", "0", "0", "", "0", "", "1", "0-1-5", "0-1-5"},
            {"b", "", "", "h2", "Yes", "No", "1062", "dup", std::nullopt, "0", "", "1062",
             "Could not execute Write_rows_v1 event on table shop.t; Duplicate entry '5' for key "
             "'PRIMARY'",
             "9", "1-9-3", "1-9-3"}}));
  ASSERT_TRUE(channels.ok());
  ASSERT_EQ(channels->size(), 2u);
  auto h = decideReplicationHealth(*channels, "node-2");
  EXPECT_EQ(h.state, S::kStopped);
  EXPECT_EQ(h.channel, "b");
  EXPECT_EQ(h.sql_running, "No");
  EXPECT_NE(h.error.find("SQL thread error 1062: Could not execute"), std::string::npos) << h.error;
  EXPECT_NE(describeReplicationHealth(h).find("(channel 'b')"), std::string::npos);
}

TEST(ReplicationHealthTest, IoThreadConnectingIsDegraded) {
  auto channels = parseReplicaStatus(
      rows(kMariaDbAll,
           {{"", "", "", "h", "Connecting", "Yes", "0", "", std::nullopt, "2003",
             "error reconnecting to master 'repl@h:1' - retry-time: 60", "0", "", "1", "", ""}}));
  ASSERT_TRUE(channels.ok());
  auto h = decideReplicationHealth(*channels, "node-2");
  EXPECT_EQ(h.state, S::kStopped);
  EXPECT_NE(h.error.find("IO thread error 2003"), std::string::npos) << h.error;
}

TEST(ReplicationHealthTest, MySqlReplicaStatusColumnNames) {
  auto channels = parseReplicaStatus(
      rows({"Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source", "Channel_Name",
            "Source_Server_Id", "Executed_Gtid_Set", "Last_SQL_Errno", "Last_SQL_Error"},
           {{"Yes", "Yes", "3", "", "1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77", "0", ""}}));
  ASSERT_TRUE(channels.ok()) << channels.status().toString();
  auto h = decideReplicationHealth(*channels, "node-2");
  EXPECT_EQ(h.state, S::kRunning);
  EXPECT_EQ(h.seconds_behind.value_or(-1), 3);
  EXPECT_EQ(h.gtid_position, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77");
  EXPECT_EQ((*channels)[0].source_server_id, "1");
}

TEST(ReplicationHealthTest, MissingThreadColumnIsAnErrorNamingIt) {
  auto channels =
      parseReplicaStatus(rows({"Slave_IO_Running", "Seconds_Behind_Master"}, {{"Yes", "0"}}));
  ASSERT_FALSE(channels.ok());
  EXPECT_EQ(channels.status().code(), Status::Code::kCorruption);
  EXPECT_NE(channels.status().message().find("Slave_SQL_Running"), std::string::npos);
}

TEST(ReplicationHealthTest, GarbageDelayIsUnknownNotZero) {
  auto channels = parseReplicaStatus(rows(
      {"Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master"}, {{"Yes", "Yes", "abc"}}));
  ASSERT_TRUE(channels.ok());
  EXPECT_FALSE((*channels)[0].seconds_behind.has_value());
}

TEST(ReplicationHealthTest, PrivilegeNamedByTheServerOrByFlavour) {
  EXPECT_EQ(replicaStatusPrivilege("Access denied; you need (at least one of) the SLAVE MONITOR "
                                   "privilege(s) for this operation",
                                   true),
            "SLAVE MONITOR");
  EXPECT_EQ(replicaStatusPrivilege("Access denied; you need (at least one of) the SUPER, "
                                   "REPLICATION CLIENT privilege(s) for this operation",
                                   false),
            "SUPER or REPLICATION CLIENT");
  EXPECT_NE(replicaStatusPrivilege("denied", true).find("SLAVE MONITOR"), std::string::npos);
  EXPECT_EQ(replicaStatusPrivilege("denied", false), "REPLICATION CLIENT");
  EXPECT_EQ(replicaStatusGrant("SUPER or SLAVE MONITOR"), "SLAVE MONITOR");
  EXPECT_EQ(replicaStatusGrant(replicaStatusPrivilege("denied", true)), "SLAVE MONITOR");
  EXPECT_EQ(replicaStatusGrant("REPLICATION CLIENT"), "REPLICATION CLIENT");
}

TEST(ReplicationHealthTest, StatementByFlavourAndVersion) {
  EXPECT_EQ(replicaStatusStatement(true, "10.11.6-MariaDB-0+deb12u1"), "SHOW ALL SLAVES STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "8.0.35"), "SHOW REPLICA STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "8.0.22"), "SHOW REPLICA STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "8.4.0"), "SHOW REPLICA STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "8.0.21"), "SHOW SLAVE STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "5.7.44-log"), "SHOW SLAVE STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "8.1"), "SHOW REPLICA STATUS");
  EXPECT_EQ(replicaStatusStatement(false, "8.0"), "SHOW SLAVE STATUS");
}

TEST(ReplicationHealthTest, UnknownSaysWhatToGrant) {
  ReplicationHealth h;
  h.node = "node-2";
  h.state = S::kUnknown;
  h.reason = "needs SLAVE MONITOR";
  EXPECT_EQ(describeReplicationHealth(h),
            "replication health of source node node-2 unknown: needs SLAVE MONITOR");
  EXPECT_FALSE(h.degraded());
}

TEST(ReplicationHealthTest, JsonRoundTrip) {
  ReplicationHealth h;
  h.state = S::kStopped;
  h.node = "node-2";
  h.channel = "b";
  h.io_running = "Yes";
  h.sql_running = "No";
  h.error = "SQL thread error 1062: dup";
  h.gtid_position = "0-1-9";
  h.since_ms = 1234;
  nlohmann::json j = replicationHealthJson(h);
  EXPECT_EQ(j["state"], "stopped");
  EXPECT_TRUE(j["seconds_behind"].is_null());
  EXPECT_NE(j["message"].get<std::string>().find("STOPPED"), std::string::npos);
  ReplicationHealth back = replicationHealthFromJson(j);
  EXPECT_TRUE(back.sameCondition(h));
  EXPECT_EQ(back.since_ms, 1234);
  EXPECT_EQ(back.gtid_position, "0-1-9");
  EXPECT_TRUE(replicationHealthJson(ReplicationHealth{}).is_null());
  EXPECT_EQ(replicationHealthFromJson(nlohmann::json()).state, S::kNotWatched);
  EXPECT_EQ(replicationHealthFromJson(nlohmann::json{{"state", "bogus"}}).state, S::kNotWatched);
}

}  // namespace
}  // namespace dts::source
