// What needs no server: which discovered nodes are new, and an unreachable server's probe.
#include "source/instance_probe.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace dts::source {
namespace {

TEST(InstanceProbeTest, DiscoveryAddsOnlyNodesWithNewNameAndEndpoint) {
  Instance inst;
  inst.name = "shop";
  inst.nodes = {{"node-1", "127.0.0.1:3306"}, {"replica", "127.0.0.1:3307"}};
  std::vector<InstanceNode> found = {{"node-1", "127.0.0.1:3306"},   // known
                                     {"node-2", "127.0.0.1:3307"},   // endpoint known as replica
                                     {"node-3", "127.0.0.1:3308"},   // new
                                     {"node-3", "127.0.0.1:3309"},   // same name twice
                                     {"node-4", "127.0.0.1:3308"}};  // same endpoint twice
  auto added = newNodes(inst, found);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0], (InstanceNode{"node-3", "127.0.0.1:3308"}));
  EXPECT_TRUE(newNodes(inst, {}).empty());
}

TEST(InstanceProbeTest, AnUnreachableServerIsAProbeNotAnError) {
  mysql::ConnectOptions o;
  o.endpoint = {"127.0.0.1", 1};  // nothing listens on port 1
  o.user = "u";
  NodeProbe p = probeNode(o, "node-9", std::chrono::seconds(2));
  EXPECT_FALSE(p.reachable);
  EXPECT_EQ(p.role, "unknown");
  EXPECT_EQ(p.name, "node-9");
  EXPECT_EQ(p.endpoint, "127.0.0.1:1");
  EXPECT_FALSE(p.error.empty());
}

TEST(InstanceProbeTest, CredentialsComeFromTheInstance) {
  Instance inst;
  inst.name = "shop";
  inst.user = "dts";
  inst.password = "pw";
  auto o = instanceConnectOptions(inst, "10.0.0.5:3307");
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->endpoint.port, 3307);
  EXPECT_EQ(o->user, "dts");
  EXPECT_EQ(o->password, "pw");
  EXPECT_FALSE(instanceConnectOptions(inst, "10.0.0.5:99999").ok());
  inst.password.clear();
  inst.password_env = "DTS_PROBE_TEST_UNSET";
  unsetenv("DTS_PROBE_TEST_UNSET");
  auto missing = instanceConnectOptions(inst, "10.0.0.5:3307");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("DTS_PROBE_TEST_UNSET"), std::string::npos);
  EXPECT_FALSE(probeInstance(inst).ok());
}

}  // namespace
}  // namespace dts::source
