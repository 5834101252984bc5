#include "mysql/gtid.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

constexpr char kU1[] = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr char kU2[] = "4e11fa47-71ca-11e1-9e33-c80aa9429562";

TEST(GtidSetTest, ParsesAndFormatsMySqlSets) {
  auto s = GtidSet::parse(std::string(kU2) + ":1-5," + std::string(kU1) + ":12:1-10:11");
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->toString(), std::string(kU1) + ":1-12," + std::string(kU2) + ":1-5");
  EXPECT_TRUE(s->contains(std::string(kU1) + ":7"));
  EXPECT_FALSE(s->contains(std::string(kU1) + ":13"));
  EXPECT_FALSE(s->contains(std::string(kU2) + ":6"));
  EXPECT_FALSE(s->contains("garbage"));
  auto upper = GtidSet::parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:3");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->toString(), std::string(kU1) + ":3");
}

TEST(GtidSetTest, AddMergesIntervals) {
  GtidSet s(GtidSet::Flavor::kMySql);
  for (int n : {1, 2, 3, 5, 7, 6})
    ASSERT_TRUE(s.add(std::string(kU1) + ":" + std::to_string(n)).ok());
  EXPECT_EQ(s.toString(), std::string(kU1) + ":1-3:5-7");
  ASSERT_TRUE(s.add(std::string(kU1) + ":4").ok());
  EXPECT_EQ(s.toString(), std::string(kU1) + ":1-7");
  EXPECT_FALSE(s.add("0-1-5").ok());
  EXPECT_FALSE(s.add(std::string(kU1) + ":0").ok());
}

TEST(GtidSetTest, MariaDbPositions) {
  auto s = GtidSet::parse("0-1-100,1-2-5");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->flavor(), GtidSet::Flavor::kMariaDb);
  EXPECT_TRUE(s->contains("0-1-100"));
  EXPECT_TRUE(s->contains("0-3-50"));
  EXPECT_FALSE(s->contains("0-1-101"));
  EXPECT_FALSE(s->contains("2-1-1"));
  ASSERT_TRUE(s->add("0-1-101").ok());
  ASSERT_TRUE(s->add("1-2-3").ok());  // older: the position stays
  ASSERT_TRUE(s->add("7-1-1").ok());
  EXPECT_EQ(s->toString(), "0-1-101,1-2-5,7-1-1");
}

TEST(GtidSetTest, RejectsMalformedText) {
  EXPECT_FALSE(GtidSet::parse("0-1", GtidSet::Flavor::kMariaDb).ok());
  EXPECT_FALSE(GtidSet::parse("0-1-2,0-1-3", GtidSet::Flavor::kMariaDb).ok());
  EXPECT_FALSE(GtidSet::parse(std::string(kU1) + ":5-3").ok());
  EXPECT_FALSE(GtidSet::parse("nothex-71ca-11e1-9e33-c80aa9429562:1").ok());
  EXPECT_FALSE(GtidSet::parse(std::string(kU1) + ":1,,").ok());
  EXPECT_TRUE(GtidSet::parse("").ok());
}

}  // namespace
}  // namespace dts::mysql
