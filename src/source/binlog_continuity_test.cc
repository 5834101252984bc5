#include "source/binlog_continuity.h"

#include <gtest/gtest.h>

namespace dts::source {
namespace {

mysql::GtidPosition maria(const std::string& text) {
  auto p = mysql::GtidPosition::parse(text, mysql::GtidFlavor::kMariaDb);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : mysql::GtidPosition(mysql::GtidFlavor::kMariaDb);
}

mysql::Gtid gtid(const std::string& text) {
  auto g = mysql::Gtid::parse(text);
  EXPECT_TRUE(g.ok()) << text;
  return g.ok() ? *g : mysql::Gtid{};
}

NodeGtidPositions node(const std::string& binlog, const std::string& slave) {
  return NodeGtidPositions{maria(binlog), maria(slave)};
}

const std::string kNode = "node node-2 (127.0.0.1:3307)";

TEST(BinlogContinuityTest, SlavePosAheadOfBinlogAndTaskIsRefusedNamingBoth) {
  // The node applied 389..765 with log_slave_updates=OFF; the task stands at 388.
  Status st = checkNodeBinlogHasApplied(kNode, node("0-1-388", "0-1-765"), maria("0-1-388"));
  ASSERT_EQ(st.code(), Status::Code::kFailedPrecondition);
  const std::string& m = st.message();
  EXPECT_NE(m.find("node node-2 (127.0.0.1:3307)"), std::string::npos) << m;
  EXPECT_NE(m.find("gtid_slave_pos is 0-1-765"), std::string::npos) << m;
  EXPECT_NE(m.find("gtid_binlog_pos 0-1-388"), std::string::npos) << m;
  EXPECT_NE(m.find("0-1-389 to 0-1-765"), std::string::npos) << m;
  EXPECT_NE(m.find("primary"), std::string::npos) << m;
}

// A secondary still catching up (just added) that a task is pointed at: lag, retried, not the
// "binlog purged, run the task anew" of error 1236 (found by a tester: a plain start a minute
// later resumed with nothing lost).
TEST(BinlogContinuityTest, ANodeBehindTheTaskPositionIsRetriedAsLag) {
  Status st = checkNodeHasReached(kNode, node("0-5-879175", "0-5-879175"), maria("0-5-967639"));
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("has not reached the task's position yet"), std::string::npos);
  EXPECT_NE(st.message().find("88464 transactions behind"), std::string::npos) << st.message();
  // Replicated that far without logging it yet counts as reached (the other check's concern).
  EXPECT_TRUE(checkNodeHasReached(kNode, node("0-5-10", "0-5-967639"), maria("0-5-967639")).ok());
  EXPECT_TRUE(checkNodeHasReached(kNode, node("0-5-967700", ""), maria("0-5-967639")).ok());
  // A domain the node never had: not lag (the stream's error says what is missing).
  EXPECT_TRUE(checkNodeHasReached(kNode, node("0-5-100", ""), maria("0-5-100,1-7-40")).ok());
  EXPECT_TRUE(checkNodeHasReached(kNode, node("0-5-1", ""), std::nullopt).ok());
}

TEST(BinlogContinuityTest, EqualPositionsOrBinlogAheadPass) {
  EXPECT_TRUE(checkNodeBinlogHasApplied(kNode, node("0-1-800", "0-1-800"), maria("0-1-388")).ok());
  // Its own writes (a former primary) put the binlog ahead: nothing missing.
  EXPECT_TRUE(checkNodeBinlogHasApplied(kNode, node("0-2-900", "0-1-800"), maria("0-1-388")).ok());
  EXPECT_TRUE(checkNodeBinlogHasApplied(kNode, node("0-1-5", ""), maria("0-1-5")).ok());
}

TEST(BinlogContinuityTest, HoleAtOrBeforeTheTaskPositionIsNotTheTasks) {
  // The task is past what the node applied without logging (read elsewhere meanwhile).
  EXPECT_TRUE(checkNodeBinlogHasApplied(kNode, node("0-1-388", "0-1-765"), maria("0-1-765")).ok());
  EXPECT_TRUE(checkNodeBinlogHasApplied(kNode, node("0-1-388", "0-1-765"), maria("0-1-900")).ok());
}

TEST(BinlogContinuityTest, MissingRangeStartsAfterTheTaskPositionWhenItIsInTheHole) {
  Status st = checkNodeBinlogHasApplied(kNode, node("0-1-388", "0-1-765"), maria("0-1-500"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("0-1-501 to 0-1-765"), std::string::npos) << st.message();
}

TEST(BinlogContinuityTest, OnlyTheDomainsTheTaskReadsAreChecked) {
  // Domain 1 is ahead in gtid_slave_pos but neither the binlog nor the task ever had it.
  EXPECT_TRUE(
      checkNodeBinlogHasApplied(kNode, node("0-1-10", "0-1-10,1-5-100"), maria("0-1-10")).ok());
  // A domain of the binlog the task's position lacks counts from its start.
  Status st =
      checkNodeBinlogHasApplied(kNode, node("0-1-10,1-5-3", "0-1-10,1-5-100"), maria("0-1-10"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("domain 1"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("1-5-4 to 1-5-100"), std::string::npos) << st.message();
  // No position at all (the task's first run): the binlog's domains.
  EXPECT_FALSE(checkNodeBinlogHasApplied(kNode, node("0-1-388", "0-1-765"), std::nullopt).ok());
}

TEST(BinlogContinuityTest, MySqlPositionIsNotChecked) {
  auto mysql_pos = mysql::GtidPosition::parseStored("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
  ASSERT_TRUE(mysql_pos.ok());
  EXPECT_TRUE(checkNodeBinlogHasApplied(kNode, node("0-1-1", "0-1-9"), *mysql_pos).ok());
}

TEST(BinlogContinuityTest, ConsecutiveSeqNosAreNoJump) {
  GtidContinuity c(maria("0-1-388"));
  EXPECT_FALSE(c.note(gtid("0-1-389")).has_value());
  EXPECT_FALSE(c.note(gtid("0-1-390")).has_value());
  // A failover continues the domain at the next seq_no, under another server id.
  EXPECT_FALSE(c.note(gtid("0-3-391")).has_value());
  EXPECT_EQ(c.position().toString(), "0-3-391");
}

TEST(BinlogContinuityTest, JumpAfterThePositionIsReportedWithTheMissingRange) {
  GtidContinuity c(maria("0-1-388"));
  auto before = c.position();
  auto jump = c.note(gtid("0-1-766"));
  ASSERT_TRUE(jump.has_value());
  EXPECT_EQ(jump->last.toString(), "0-1-388");
  EXPECT_EQ(jump->next.toString(), "0-1-766");
  EXPECT_EQ(jump->missing(), 377u);
  EXPECT_EQ(jump->missingRange(), "0-1-389 to 0-1-765");
  EXPECT_EQ(before.toString(), "0-1-388");  // where the primary is asked from
  EXPECT_EQ(c.position().toString(), "0-1-766");
  EXPECT_EQ(c.positionBefore(*jump).toString(), "0-1-388");
  // A jump the caller accepted moves the domain on.
  EXPECT_FALSE(c.note(gtid("0-1-767")).has_value());
}

TEST(BinlogContinuityTest, JumpWithinTheStreamAndOfOneTransaction) {
  GtidContinuity c(maria("0-1-10"));
  EXPECT_FALSE(c.note(gtid("0-1-11")).has_value());
  auto jump = c.note(gtid("0-1-13"));
  ASSERT_TRUE(jump.has_value());
  EXPECT_EQ(jump->missingRange(), "0-1-12");
  EXPECT_EQ(jump->missing(), 1u);
}

TEST(BinlogContinuityTest, DomainsAreFollowedApart) {
  GtidContinuity c(maria("0-1-10,1-2-50"));
  EXPECT_FALSE(c.note(gtid("1-2-51")).has_value());
  EXPECT_FALSE(c.note(gtid("0-1-11")).has_value());
  // A domain the position lacks: its first GTID cannot be judged.
  EXPECT_FALSE(c.note(gtid("2-7-1000")).has_value());
  EXPECT_FALSE(c.note(gtid("2-7-1001")).has_value());
  auto jump = c.note(gtid("1-2-60"));
  ASSERT_TRUE(jump.has_value());
  EXPECT_EQ(jump->missingRange(), "1-2-52 to 1-2-59");
  EXPECT_EQ(c.position().toString(), "0-1-11,1-2-60,2-7-1001");
  EXPECT_EQ(c.positionBefore(*jump).toString(), "0-1-11,1-2-51,2-7-1001");
}

TEST(BinlogContinuityTest, NoPositionJudgesFromEachDomainsFirstGtid) {
  GtidContinuity c(std::nullopt);
  EXPECT_FALSE(c.note(gtid("0-1-100")).has_value());
  EXPECT_TRUE(c.note(gtid("0-1-102")).has_value());
}

TEST(BinlogContinuityTest, SeqNoNotAboveTheLastIsNoJump) {
  // Without gtid_strict_mode a domain may repeat or go back; that is no hole.
  GtidContinuity c(maria("0-1-10"));
  EXPECT_FALSE(c.note(gtid("0-2-9")).has_value());
  EXPECT_FALSE(c.note(gtid("0-2-10")).has_value());
  EXPECT_EQ(c.position().toString(), "0-1-10");
  EXPECT_FALSE(c.note(gtid("0-1-11")).has_value());
}

TEST(BinlogContinuityTest, MySqlGtidsAreIgnored) {
  GtidContinuity c(std::nullopt);
  EXPECT_FALSE(c.note(gtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:1")).has_value());
  EXPECT_FALSE(c.note(gtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:9")).has_value());
  EXPECT_TRUE(c.position().empty());
}

TEST(BinlogContinuityTest, JumpMadeOnThisServerWhenItReplicatedNothingPastIt) {
  GtidJump jump{gtid("0-1-388"), gtid("0-1-766")};
  EXPECT_TRUE(jumpMadeOnThisServer(maria(""), jump));         // never a replica
  EXPECT_TRUE(jumpMadeOnThisServer(maria("0-1-300"), jump));  // replicated, then promoted
  EXPECT_TRUE(jumpMadeOnThisServer(maria("0-1-388,1-4-9"), jump));
  EXPECT_FALSE(jumpMadeOnThisServer(maria("0-1-765"), jump));  // applied, not logged
  EXPECT_FALSE(jumpMadeOnThisServer(maria("0-1-900"), jump));
}

TEST(BinlogContinuityTest, JumpErrorNamesNodeRangeWhereAndWhatToDo) {
  GtidJump jump{gtid("0-1-388"), gtid("0-1-766")};
  Status st =
      binlogJumpError(kNode, jump, "binlog.000003:1234", "the primary's binlog has 0-1-389");
  ASSERT_EQ(st.code(), Status::Code::kFailedPrecondition);
  const std::string& m = st.message();
  EXPECT_NE(m.find("transactions 0-1-389 to 0-1-765 (377) are missing from the binlog of node "
                   "node-2 (127.0.0.1:3307)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("from 0-1-388 straight to 0-1-766 at binlog.000003:1234"), std::string::npos)
      << m;
  EXPECT_NE(m.find("the primary's binlog has 0-1-389"), std::string::npos) << m;
  EXPECT_NE(m.find("log_slave_updates"), std::string::npos) << m;
  EXPECT_NE(m.find("sync the task anew"), std::string::npos) << m;
}

TEST(BinlogContinuityTest, LastGtidsByDomain) {
  auto last = lastGtidsByDomain(maria("0-1-5,3-2-9"));
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].toString(), "0-1-5");
  EXPECT_EQ(last[3].toString(), "3-2-9");
  EXPECT_TRUE(lastGtidsByDomain(maria("")).empty());
}

}  // namespace
}  // namespace dts::source
