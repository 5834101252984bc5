#include "sink/checkpoint_store.h"

#include <gtest/gtest.h>

namespace dts::sink {
namespace {

TEST(CheckpointStoreTest, MergePositionsKeepsTheFurthestPerDomain) {
  EXPECT_EQ(mergePositions("0-1-10,1-2-5", "0-3-12"), "0-3-12,1-2-5");
  EXPECT_EQ(mergePositions("", "0-1-7"), "0-1-7");
  EXPECT_EQ(mergePositions("", ""), "");
  // MySQL sets have no position; garbage is ignored rather than trusted.
  EXPECT_EQ(mergePositions("3e11fa47-71ca-11e1-9e33-c80aa9429562:5", "x"), "");
}

TEST(CheckpointStoreTest, UpsertQuotesEverythingAsHex) {
  CheckpointStore store("dts_meta", "task'); DROP TABLE x; --");
  auto applied = mysql::GtidSet::parse("0:1-5");
  ASSERT_TRUE(applied.ok());
  std::string sql = store.upsertSql(3, *applied, "0-1-5", "");
  EXPECT_EQ(sql.find("DROP"), std::string::npos) << sql;
  EXPECT_NE(sql.find("`dts_meta`.`checkpoint`"), std::string::npos);
  EXPECT_NE(sql.find(",3,"), std::string::npos);
}

}  // namespace
}  // namespace dts::sink
