#include "source/cluster_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <future>

#include "source/binlog_fixture_for_tests.h"

namespace dts::source {
namespace {

Instance shop() {
  Instance i;
  i.name = "shop";
  i.endpoint = "127.0.0.1:6033";
  i.user = "dts";
  i.password = "pw";
  i.nodes = {{"node-1", "127.0.0.1:3306"}, {"node-2", "localhost:3307"}};
  return i;
}

TEST(ClusterSourceTest, ReadsTheSecondaryNodeWhenSetElseTheEndpoint) {
  testing::ScratchDir scratch("dts-cluster");
  const std::string dir = scratch.path();
  auto reg = InstanceRegistry::open(dir);
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE((*reg)->create(shop()).ok());
  auto viaNode = resolveSource(**reg, "shop", "node-2");
  ASSERT_TRUE(viaNode.ok()) << viaNode.status().toString();
  EXPECT_EQ(viaNode->read.endpoint.toString(), "localhost:3307");
  EXPECT_EQ(viaNode->primary.endpoint.toString(), "127.0.0.1:6033");
  EXPECT_EQ(viaNode->describe(), "node node-2 (localhost:3307) of instance shop");
  auto viaEndpoint = resolveSource(**reg, "shop", "");
  ASSERT_TRUE(viaEndpoint.ok());
  EXPECT_EQ(viaEndpoint->read.endpoint.toString(), "127.0.0.1:6033");
  auto missing = resolveSource(**reg, "shop", "node-9");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "instance shop has no node named 'node-9' (nodes: node-1, node-2)");
  EXPECT_EQ(resolveSource(**reg, "nope", "").status().code(), Status::Code::kNotFound);
}

TEST(ClusterSourceTest, RefusesASecondaryAsDestination) {
  testing::ScratchDir scratch("dts-cluster");
  const std::string dir = scratch.path();
  auto reg = InstanceRegistry::open(dir);
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE((*reg)->create(shop()).ok());
  Status st = checkDestinationNotSecondary(**reg, "127.0.0.1:3307");  // node-2 is localhost:3307
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("a node of a registered instance cannot be the destination: "
                              "127.0.0.1:3307 is node node-2 of instance shop"),
            std::string::npos)
      << st.message();
  // The primary is refused too, and not called a secondary.
  st = checkDestinationNotSecondary(**reg, "localhost:3306");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("secondary"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("is node node-1 of instance shop"), std::string::npos)
      << st.message();
  // The read/write endpoint is the primary under another address: a task wrote its copy (and
  // dts_meta) into the source itself.
  st = checkDestinationNotSecondary(**reg, "localhost:06033");
  EXPECT_EQ(st.message(),
            "a registered instance cannot be the destination: localhost:06033 is the read/write "
            "endpoint of instance shop (its primary: a task does not write into a source's own "
            "servers)");
  EXPECT_TRUE(checkDestinationNotSecondary(**reg, "127.0.0.1:3399").ok());
}

TEST(NodeWatchTest, AdditionIsIgnoredDeletionFailsTheTask) {
  testing::ScratchDir scratch("dts-cluster");
  const std::string dir = scratch.path();
  {
    auto reg = InstanceRegistry::open(dir);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE((*reg)->create(shop()).ok());
  }
  std::promise<Status> deleted;
  NodeWatch watch(dir, "shop", "node-2", std::chrono::milliseconds(10),
                  [&](Status st) { deleted.set_value(st); });
  watch.start();
  auto other = InstanceRegistry::open(dir);  // "another process" on the same data dir
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->addNode("shop", {"node-3", "127.0.0.1:3308"}).ok());
  ASSERT_TRUE((*other)->removeNode("shop", "node-1").ok());  // not ours: no effect
  auto fut = deleted.get_future();
  EXPECT_EQ(fut.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  ASSERT_TRUE((*other)->removeNode("shop", "node-2").ok());
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  Status st = fut.get();
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(st.message(), "secondary node node-2 was deleted from instance shop");
  watch.stop();
}

}  // namespace
}  // namespace dts::source
