#include "task/incremental.h"

#include <gtest/gtest.h>

namespace dts::task {
namespace {

TEST(IncrementalStartPosition, TakesTheFurthestPerMariadbDomain) {
  EXPECT_EQ(*incrementalStartPosition("0-1-100", ""), "0-1-100");
  EXPECT_EQ(*incrementalStartPosition("", "0-1-7"), "0-1-7");
  EXPECT_EQ(*incrementalStartPosition("", ""), "");
  EXPECT_EQ(*incrementalStartPosition("0-1-100", "0-1-250"), "0-1-250");
  // A checkpoint can never be behind the start, but if it were the start wins.
  EXPECT_EQ(*incrementalStartPosition("0-1-100", "0-1-50"), "0-1-100");
  // A domain the checkpoint never saw keeps its start; a failover's new server id is followed.
  EXPECT_EQ(*incrementalStartPosition("0-1-100,1-5-9", "0-2-130"), "0-2-130,1-5-9");
}

TEST(IncrementalStartPosition, UnitesMysqlSets) {
  const std::string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100";
  auto r = incrementalStartPosition(a, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-150:152");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(*r, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-150:152");
}

TEST(IncrementalStartPosition, RejectsWhatIsNotAPosition) {
  auto r = incrementalStartPosition("0-1-100", "garbage");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'garbage'"), std::string::npos) << r.status().toString();
}

TEST(DatabaseFilterSpec, ListsSelectedDatabasesOrEverything) {
  auto m = pipeline::Mapping::create({{"shop", "shop_copy", {}}, {"sb", "", {}}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(databaseFilterSpec(*m), "shop,sb");
  auto odd = pipeline::Mapping::create({{"shop", "", {}}, {"we.ird", "", {}}});
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(databaseFilterSpec(*odd), "");  // not writable as a pattern: decode all, map drops
}

}  // namespace
}  // namespace dts::task
