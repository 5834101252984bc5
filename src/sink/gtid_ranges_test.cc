#include "sink/gtid_ranges.h"

#include <gtest/gtest.h>

namespace dts::sink {
namespace {

GtidId id(const std::string& s) {
  auto r = parseGtid(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().toString();
  return r.ok() ? *r : GtidId{};
}

TEST(GtidRangesTest, ParsesBothFlavours) {
  EXPECT_EQ(id("0-1-42").key, "0");
  EXPECT_EQ(id("0-1-42").seq, 42u);
  EXPECT_TRUE(id("0-1-42").mariadb);
  EXPECT_EQ(id("3E11FA47-71CA-11E1-9E33-C80AA9429562:23").key,
            "3e11fa47-71ca-11e1-9e33-c80aa9429562");
  for (const char* bad :
       {"", "0-1", "a-b-c", "0-1-x", "uuid:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0"}) {
    EXPECT_FALSE(parseGtid(bad).ok()) << bad;
  }
}

TEST(GtidRangesTest, AddMergesAndContains) {
  GtidRanges r;
  for (uint64_t s : {1, 2, 3, 5, 4, 10}) r.add("0", s, s);
  EXPECT_EQ(r.toString(), "0:1-5:10");
  EXPECT_TRUE(r.contains(id("0-9-3")));  // the server id does not matter
  EXPECT_FALSE(r.contains(id("0-1-6")));
  EXPECT_FALSE(r.contains(id("1-1-3")));
  EXPECT_EQ(r.intervalCount(), 2u);
}

TEST(GtidRangesTest, TextRoundTripAndPositions) {
  auto r = GtidRanges::parse("0:1-5:10,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:7");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->toString(), "0:1-5:10,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:7");
  auto pos = GtidRanges::parse("0-1-100,1-2-7");
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->toString(), "0:1-100,1:1-7");
  EXPECT_TRUE(GtidRanges::parse("")->empty());
  EXPECT_FALSE(GtidRanges::parse("0:5-3").ok());
  EXPECT_FALSE(GtidRanges::parse("x:1").ok());
}

TEST(GtidRangesTest, Minus) {
  auto a = *GtidRanges::parse("0:1-10:20-30,1:1-5");
  auto b = *GtidRanges::parse("0:3-4:8-22,1:1-5");
  EXPECT_EQ(a.minus(b).toString(), "0:1-2:5-7:23-30");
  EXPECT_TRUE(b.minus(b).empty());
}

}  // namespace
}  // namespace dts::sink
