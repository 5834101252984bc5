#include "mysql/connection.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

TEST(EndpointTest, ParsesHostAndPort) {
  auto ep = Endpoint::parse("127.0.0.1:3307");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 3307);
  auto v6 = Endpoint::parse("[::1]:3308");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 3308);
  auto bare = Endpoint::parse("db.example");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 3306);
}

TEST(EndpointTest, RejectsBadPorts) {
  EXPECT_FALSE(Endpoint::parse("h:0").ok());
  EXPECT_FALSE(Endpoint::parse("h:70000").ok());
  EXPECT_FALSE(Endpoint::parse("h:12a").ok());
  EXPECT_FALSE(Endpoint::parse(":3306").ok());
}

TEST(QuoteIdentifierTest, DoublesBackticks) {
  EXPECT_EQ(quoteIdentifier("a`b"), "`a``b`");
  EXPECT_EQ(quoteQualified("d b", "t;DROP"), "`d b`.`t;DROP`");
}

}  // namespace
}  // namespace dts::mysql
