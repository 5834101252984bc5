// Cluster prechecks against a real cluster: the selected node must be a secondary of the
// instance's primary that logs what it replicates, and the destination must be writable.
#include "source/node_checks.h"

#include <gtest/gtest.h>

#include "cluster_fixture.h"

namespace dts::testing {
namespace {

using source::CheckItem;

const CheckItem* find(const std::vector<CheckItem>& items, const std::string& name) {
  for (const auto& i : items) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

std::string dump(const std::vector<CheckItem>& items) {
  std::string s;
  for (const auto& i : items) {
    s += i.name + ": " + source::levelName(i.level) + " " + i.detail + " / " + i.hint + "\n";
  }
  return s;
}

class NodeChecksTest : public SharedClusterTest {};

TEST_F(NodeChecksTest, HealthySecondaryPasses) {
  auto node = cluster_->connect(cluster_->nodeEndpoint("node-2"));
  auto primary = cluster_->connect(cluster_->endpoint());
  ASSERT_TRUE(node && primary);
  auto items = source::checkSecondaryNode(*node, *primary, "node-2", "shop");
  for (const auto& i : items) EXPECT_EQ(i.level, CheckItem::Level::kPass) << dump(items);
  ASSERT_NE(find(items, "secondary node"), nullptr);
  ASSERT_NE(find(items, "log_slave_updates"), nullptr);
}

TEST_F(NodeChecksTest, ThePrimaryItselfIsNotASecondary) {
  auto node = cluster_->connect(cluster_->nodeEndpoint("node-1"));
  auto primary = cluster_->connect(cluster_->endpoint());
  ASSERT_TRUE(node && primary);
  auto items = source::checkSecondaryNode(*node, *primary, "node-1", "shop");
  const CheckItem* sec = find(items, "secondary node");
  ASSERT_NE(sec, nullptr) << dump(items);
  EXPECT_EQ(sec->level, CheckItem::Level::kWarn);
  EXPECT_NE(sec->detail.find("is the primary"), std::string::npos);
}

TEST_F(NodeChecksTest, StatementFormatFails) {
  auto node = cluster_->connect(cluster_->nodeEndpoint("node-3"));
  auto primary = cluster_->connect(cluster_->endpoint());
  ASSERT_TRUE(node && primary);
  // The dts account may not change globals; the harness root socket can.
  cluster_->rootSql("node-3", "SET GLOBAL binlog_format=STATEMENT");
  auto fresh = cluster_->connect(cluster_->nodeEndpoint("node-3"));
  auto items = source::checkSecondaryNode(*fresh, *primary, "node-3", "shop");
  const CheckItem* fmt = find(items, "binlog_format");
  ASSERT_NE(fmt, nullptr) << dump(items);
  EXPECT_EQ(fmt->level, CheckItem::Level::kFail);
  EXPECT_NE(fmt->detail.find("binlog_format=STATEMENT"), std::string::npos);
  EXPECT_NE(fmt->hint.find("binlog_format=ROW"), std::string::npos);
  cluster_->rootSql("node-3", "SET GLOBAL binlog_format=ROW");
}

TEST_F(NodeChecksTest, LogSlaveUpdatesOffFails) {
  cluster_->run("stop-node node-3");
  cluster_->run("start-node node-3 --log-slave-updates=OFF");
  auto node = cluster_->connect(cluster_->nodeEndpoint("node-3"));
  auto primary = cluster_->connect(cluster_->endpoint());
  ASSERT_TRUE(node && primary);
  auto items = source::checkSecondaryNode(*node, *primary, "node-3", "shop");
  const CheckItem* lsu = find(items, "log_slave_updates");
  ASSERT_NE(lsu, nullptr) << dump(items);
  EXPECT_EQ(lsu->level, CheckItem::Level::kFail);
  EXPECT_NE(lsu->hint.find("log_slave_updates=ON"), std::string::npos);
  cluster_->run("stop-node node-3");
  cluster_->run("start-node node-3");
}

TEST_F(NodeChecksTest, ReadOnlyDestinationFails) {
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(dest);
  EXPECT_EQ(source::checkDestinationWritable(*dest).level, CheckItem::Level::kPass);
  auto secondary = cluster_->connect(cluster_->nodeEndpoint("node-2"));
  ASSERT_TRUE(secondary);
  CheckItem ro = source::checkDestinationWritable(*secondary);
  EXPECT_EQ(ro.level, CheckItem::Level::kFail);
  EXPECT_NE(ro.detail.find("read-only"), std::string::npos);
}

}  // namespace
}  // namespace dts::testing
