#include "source/instance.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "source/binlog_fixture_for_tests.h"

namespace dts::source {
namespace {

constexpr const char* kShop = R"(
name: shop
endpoint: 127.0.0.1:6033
user: dts
password_env: SHOP_PW
nodes:
  - {name: node-1, endpoint: 127.0.0.1:3306}
  - {name: node-2, endpoint: 127.0.0.1:3307}
)";

TEST(InstanceYamlTest, AKeyWrittenTwiceIsRefused) {
  auto inst = parseInstanceYaml(std::string(kShop) + "endpoint: 10.0.0.1:3306\n");
  ASSERT_FALSE(inst.ok());
  EXPECT_NE(inst.status().message().find("instance file: duplicate key 'endpoint'"),
            std::string::npos)
      << inst.status().message();
}

TEST(InstanceYamlTest, ParsesTheDocumentedShape) {
  auto inst = parseInstanceYaml(kShop);
  ASSERT_TRUE(inst.ok()) << inst.status().toString();
  EXPECT_EQ(inst->name, "shop");
  EXPECT_EQ(inst->endpoint, "127.0.0.1:6033");
  EXPECT_EQ(inst->password_env, "SHOP_PW");
  ASSERT_EQ(inst->nodes.size(), 2u);
  EXPECT_EQ(inst->nodes[1], (InstanceNode{"node-2", "127.0.0.1:3307"}));
  ASSERT_NE(inst->findNode("node-1"), nullptr);
  EXPECT_EQ(inst->findNode("node-9"), nullptr);
}

TEST(InstanceYamlTest, RejectsBadInputNamingTheKey) {
  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"name: a\nendpoint: h:1\nuser: u\ncolour: red\n", "colour: unknown key"},
      {"name: a\nuser: u\n", "endpoint: required"},
      {"name: a\nendpoint: h:99999\nuser: u\n",
       "endpoint: endpoint 'h:99999': port must be 1-65535"},
      {"name: a\nendpoint: h:1\n", "user: required"},
      {"name: 'a b'\nendpoint: h:1\nuser: u\n", "name: 'a b' may contain only"},
      {"name: a\nendpoint: h:1\nuser: u\nnodes: [{name: n, endpoint: 'x:0'}]\n",
       "nodes[0].endpoint"},
      {"name: a\nendpoint: h:1\nuser: u\nnodes: [{name: n, endpoint: 'x:1'}, {name: n, endpoint: 'y:1'}]\n",
       "nodes[1].name: duplicate"},
      {"name: a\nendpoint: h:1\nuser: u\nnodes: [{name: n, port: 1}]\n",
       "nodes[0].port: unknown key"},
      {"name: a\nendpoint: h:1\nuser: u\npassword: x\npassword_env: Y\n", "give one, not both"},
      {"[unclosed", "not valid YAML"},
  };
  for (const auto& c : cases) {
    auto r = parseInstanceYaml(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << "got: " << r.status().message() << "\nwanted: " << c.expect;
  }
}

TEST(InstanceYamlTest, PasswordFromEnvironmentAndNeverShown) {
  auto inst = parseInstanceYaml(kShop);
  ASSERT_TRUE(inst.ok());
  unsetenv("SHOP_PW");
  auto missing = inst->resolvePassword();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("SHOP_PW"), std::string::npos);
  setenv("SHOP_PW", "s3cret-pw", 1);
  EXPECT_EQ(inst->resolvePassword().value(), "s3cret-pw");
  Instance literal = *inst;
  literal.password_env.clear();
  literal.password = "hunter2-literal";
  std::string yaml = instanceToYaml(literal);
  EXPECT_EQ(yaml.find("hunter2-literal"), std::string::npos);
  EXPECT_NE(yaml.find("***"), std::string::npos);
}

TEST(InstanceRegistryTest, CreateListAddRemoveAcrossProcessesSharingTheDataDir) {
  testing::ScratchDir scratch("dts-instance");
  const std::string dir = scratch.path();
  auto inst = parseInstanceYaml(kShop);
  ASSERT_TRUE(inst.ok());
  auto reg = InstanceRegistry::open(dir);
  ASSERT_TRUE(reg.ok()) << reg.status().toString();
  ASSERT_TRUE((*reg)->create(*inst).ok());
  auto dup = (*reg)->create(*inst);
  EXPECT_EQ(dup.code(), Status::Code::kFailedPrecondition);

  // A second registry on the same data dir (as another process would open it) sees changes.
  auto other = InstanceRegistry::open(dir);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->addNode("shop", {"node-3", "127.0.0.1:3308"}).ok());
  EXPECT_EQ((*other)->addNode("shop", {"node-3", "127.0.0.1:3309"}).code(),
            Status::Code::kFailedPrecondition);
  EXPECT_EQ((*other)->addNode("shop", {"bad name", "127.0.0.1:3309"}).code(),
            Status::Code::kInvalidArgument);
  auto got = (*reg)->get("shop");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->nodes.size(), 3u);

  ASSERT_TRUE((*other)->removeNode("shop", "node-2").ok());
  EXPECT_EQ((*other)->removeNode("shop", "node-2").code(), Status::Code::kNotFound);
  got = (*reg)->get("shop");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->findNode("node-2"), nullptr);

  auto all = (*reg)->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  ASSERT_TRUE((*reg)->remove("shop").ok());
  EXPECT_EQ((*reg)->get("shop").status().code(), Status::Code::kNotFound);
  EXPECT_EQ((*reg)->remove("shop").code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace dts::source
