#include "mysql/gtid.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"

namespace dts::mysql {
namespace {

constexpr char kU1[] = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr char kU2[] = "4e11fa47-71ca-11e1-9e33-c80aa9429562";

Gtid id(const std::string& s) {
  auto r = Gtid::parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().toString();
  return r.ok() ? *r : Gtid{};
}

GtidSet set(const std::string& s) {
  auto r = GtidSet::parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().toString();
  return r.ok() ? *r : GtidSet{};
}

TEST(GtidTest, ParsesBothFlavours) {
  EXPECT_EQ(id("0-1-42").source, GtidSource::mariaDb(0));
  EXPECT_EQ(id("0-1-42").seq, 42u);
  EXPECT_EQ(id("0-1-42").server_id, 1u);
  EXPECT_EQ(id("0-1-42").flavor(), GtidFlavor::kMariaDb);
  EXPECT_EQ(id("3E11FA47-71CA-11E1-9E33-C80AA9429562:23").source.toString(), kU1);
  EXPECT_EQ(id("3E11FA47-71CA-11E1-9E33-C80AA9429562:23").flavor(), GtidFlavor::kMySql);
  EXPECT_EQ(id(" 3E11FA47-71CA-11E1-9E33-C80AA9429562:23\n").toString(), std::string(kU1) + ":23");
  EXPECT_EQ(id("7-4294967295-18446744073709551614").toString(),
            "7-4294967295-18446744073709551614");
  for (const char* bad :
       {"", "0-1", "a-b-c", "0-1-x", "uuid:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0", "0-1-2-3",
        "4294967296-1-1", "0-1-18446744073709551615", "-1-2",
        "3e11fa47-71ca-11e1-9e33-c80aa942956g:1"}) {
    EXPECT_FALSE(Gtid::parse(bad).ok()) << bad;
  }
}

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
  // As MySQL prints gtid_executed: newlines after commas.
  auto printed = GtidSet::parse(std::string(kU1) + ":1-3,\n" + kU2 + ":9\n");
  ASSERT_TRUE(printed.ok()) << printed.status().toString();
  EXPECT_EQ(printed->toString(), std::string(kU1) + ":1-3," + kU2 + ":9");
}

TEST(GtidSetTest, AddMergesIntervals) {
  GtidSet s;
  for (int n : {1, 2, 3, 5, 7, 6}) s.add(id(std::string(kU1) + ":" + std::to_string(n)));
  EXPECT_EQ(s.toString(), std::string(kU1) + ":1-3:5-7");
  s.add(id(std::string(kU1) + ":4"));
  EXPECT_EQ(s.toString(), std::string(kU1) + ":1-7");
  EXPECT_FALSE(Gtid::parse(std::string(kU1) + ":0").ok());
}

TEST(GtidSetTest, AddMergesAndContainsMariaDb) {
  GtidSet r;
  for (uint64_t s : {1, 2, 3, 5, 4, 10}) r.add(GtidSource::mariaDb(0), s, s);
  EXPECT_EQ(r.toString(), "0:1-5:10");
  EXPECT_TRUE(r.contains(id("0-9-3")));  // the server id does not matter
  EXPECT_FALSE(r.contains(id("0-1-6")));
  EXPECT_FALSE(r.contains(id("1-1-3")));
  EXPECT_EQ(r.intervalCount(), 2u);
}

TEST(GtidSetTest, AddBridgesAndSwallowsIntervals) {
  GtidSet s;
  GtidSource d = GtidSource::mariaDb(3);
  s.add(d, 10, 12);
  s.add(d, 20, 22);
  s.add(d, 30, 32);
  s.add(d, 1, 2);
  EXPECT_EQ(s.toString(), "3:1-2:10-12:20-22:30-32");
  s.add(d, 11, 25);  // overlaps two, touches none after
  EXPECT_EQ(s.toString(), "3:1-2:10-25:30-32");
  s.add(d, 3, 9);  // adjacent on both sides
  EXPECT_EQ(s.toString(), "3:1-25:30-32");
  s.add(d, 0, 40);
  EXPECT_EQ(s.toString(), "3:0-40");
  EXPECT_EQ(s.intervals(d).size(), 1u);
  EXPECT_TRUE(s.intervals(GtidSource::mariaDb(4)).empty());
}

TEST(GtidSetTest, TextRoundTripAndPositions) {
  auto r = GtidSet::parse("0:1-5:10,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:7");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->toString(), "0:1-5:10,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:7");
  auto pos = GtidSet::parse("0-1-100,1-2-7");
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->toString(), "0:1-100,1:1-7");
  EXPECT_TRUE(GtidSet::parse("")->empty());
  EXPECT_TRUE(GtidSet::parse(" \n ")->empty());
  EXPECT_FALSE(GtidSet::parse("0:5-3").ok());
  EXPECT_FALSE(GtidSet::parse("x:1").ok());
  // Domains sort by number.
  EXPECT_EQ(set("10:1,2:1,1:1").toString(), "1:1,2:1,10:1");
}

TEST(GtidSetTest, RejectsMalformedText) {
  for (const std::string& bad :
       {std::string("0-1"), std::string(kU1) + ":5-3",
        std::string("nothex-71ca-11e1-9e33-c80aa9429562:1"), std::string(kU1) + ":1,,",
        std::string(kU1) + ":1,", std::string("nouuid"),
        std::string("3e11fa47-71ca-11e1-9e33-c80aa942956:1"), std::string(kU1) + ":",
        std::string(kU1) + ":0", std::string(kU1) + ":1-x",
        std::string(kU1) + ":1-18446744073709551615"}) {
    auto r = GtidSet::parse(bad);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(GtidSet::parse("").ok());
}

TEST(GtidSetTest, Minus) {
  auto a = set("0:1-10:20-30,1:1-5");
  auto b = set("0:3-4:8-22,1:1-5");
  EXPECT_EQ(a.minus(b).toString(), "0:1-2:5-7:23-30");
  EXPECT_TRUE(b.minus(b).empty());
  EXPECT_EQ(a.minus(GtidSet()).toString(), a.toString());
  EXPECT_EQ(set("0:1-100").minus(set("0:1-3:50:98-200")).toString(), "0:4-49:51-97");
  EXPECT_EQ(set("0:5:7:9").minus(set("0:1-6:9-10")).toString(), "0:7");
}

TEST(GtidSetTest, AddAllUnites) {
  GtidSet a = set("0:1-3:10-12:20,1:5");
  a.addAll(set("0:4-9:14:16:18-19,2:1"));
  EXPECT_EQ(a.toString(), "0:1-12:14:16:18-20,1:5,2:1");
  GtidSet b = set("0:2");
  b.addAll(set("0:1:3"));
  EXPECT_EQ(b.toString(), "0:1-3");
}

TEST(GtidSetTest, EncodesSetLikeTheDocumentedLayout) {
  auto enc = set("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5").encodeMySqlDumpSet();
  ASSERT_TRUE(enc.ok()) << enc.status().toString();
  std::string want;
  want += std::string("\x01\0\0\0\0\0\0\0", 8);  // n_sids
  want += std::string("\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62", 16);
  want += std::string("\x01\0\0\0\0\0\0\0", 8);  // n_intervals
  want += std::string("\x01\0\0\0\0\0\0\0", 8);  // start
  want += std::string("\x06\0\0\0\0\0\0\0", 8);  // end, exclusive
  EXPECT_EQ(*enc, want);
}

TEST(GtidSetTest, EncodesSeveralSidsAndIntervals) {
  GtidSet s = set(
      "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7:10-12,\n 4350f323-7565-4e59-8763-4b1b83a0ce0e:42");
  ASSERT_EQ(s.sources().size(), 2u);
  EXPECT_EQ(s.intervals(s.sources()[0]).size(), 3u);
  auto encoded = s.encodeMySqlDumpSet();
  ASSERT_TRUE(encoded.ok());
  const std::string& enc = *encoded;
  EXPECT_EQ(enc.size(), 8u + (16 + 8 + 3 * 16) + (16 + 8 + 16));
  ByteReader r(enc);
  uint64_t v = 0;
  ASSERT_TRUE(r.getU64(&v));
  EXPECT_EQ(v, 2u);
  ASSERT_TRUE(r.skip(16) && r.getU64(&v));
  EXPECT_EQ(v, 3u);
  uint64_t a, b;
  ASSERT_TRUE(r.getU64(&a) && r.getU64(&b));
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 6u);
  ASSERT_TRUE(r.getU64(&a) && r.getU64(&b));
  EXPECT_EQ(a, 7u);
  EXPECT_EQ(b, 8u);
  ASSERT_TRUE(r.getU64(&a) && r.getU64(&b));
  EXPECT_EQ(a, 10u);
  EXPECT_EQ(b, 13u);
  std::string_view sid;
  ASSERT_TRUE(r.getBytes(16, &sid));
  EXPECT_EQ(static_cast<uint8_t>(sid[0]), 0x43);
  ASSERT_TRUE(r.getU64(&v));
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(r.getU64(&a) && r.getU64(&b));
  EXPECT_EQ(a, 42u);
  EXPECT_EQ(b, 43u);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(*GtidSet().encodeMySqlDumpSet(), std::string(8, '\0'));
  EXPECT_EQ(set("0:1-5").encodeMySqlDumpSet().status().code(), Status::Code::kInvalidArgument);
}

TEST(GtidPositionTest, MariaDbPositions) {
  auto s = GtidPosition::parse("0-1-100,1-2-5", GtidFlavor::kMariaDb);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->flavor(), GtidFlavor::kMariaDb);
  EXPECT_TRUE(s->contains(id("0-1-100")));
  EXPECT_TRUE(s->contains(id("0-3-50")));
  EXPECT_FALSE(s->contains(id("0-1-101")));
  EXPECT_FALSE(s->contains(id("2-1-1")));
  ASSERT_TRUE(s->add(id("0-1-101")).ok());
  ASSERT_TRUE(s->add(id("1-2-3")).ok());  // older: the position stays
  ASSERT_TRUE(s->add(id("7-1-1")).ok());
  EXPECT_EQ(s->toString(), "0-1-101,1-2-5,7-1-1");
  EXPECT_EQ(s->toSet().toString(), "0:1-101,1:1-5,7:1");
  EXPECT_FALSE(s->add(id(std::string(kU1) + ":5")).ok());
  EXPECT_EQ(s->encodeMySqlDumpSet().status().code(), Status::Code::kInvalidArgument);
}

TEST(GtidPositionTest, MergeTakesTheFurthestPerDomain) {
  auto a = *GtidPosition::parse("0-1-100,1-5-9", GtidFlavor::kMariaDb);
  ASSERT_TRUE(a.merge(*GtidPosition::parse("0-2-130", GtidFlavor::kMariaDb)).ok());
  EXPECT_EQ(a.toString(), "0-2-130,1-5-9");
  ASSERT_TRUE(a.merge(*GtidPosition::parse("0-1-50", GtidFlavor::kMariaDb)).ok());
  EXPECT_EQ(a.toString(), "0-2-130,1-5-9");
  EXPECT_FALSE(a.merge(GtidPosition(GtidFlavor::kMySql)).ok());
  auto m = *GtidPosition::parse(std::string(kU1) + ":1-100", GtidFlavor::kMySql);
  ASSERT_TRUE(
      m.merge(*GtidPosition::parse(std::string(kU1) + ":1-150:152", GtidFlavor::kMySql)).ok());
  EXPECT_EQ(m.toString(), std::string(kU1) + ":1-150:152");
  EXPECT_FALSE(m.contains(id(std::string(kU1) + ":151")));
}

TEST(GtidPositionTest, MySqlPositionsAddAndEncode) {
  GtidPosition p(GtidFlavor::kMySql);
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.toString(), "");
  EXPECT_EQ(*p.encodeMySqlDumpSet(), std::string(8, '\0'));
  ASSERT_TRUE(p.add(id(std::string(kU1) + ":1")).ok());
  ASSERT_TRUE(p.add(id(std::string(kU1) + ":2")).ok());
  EXPECT_EQ(p.toString(), std::string(kU1) + ":1-2");
  EXPECT_FALSE(p.add(id("0-1-5")).ok());
  EXPECT_TRUE(p.contains(id(std::string(kU1) + ":2")));
}

TEST(GtidPositionTest, RejectsMalformedText) {
  EXPECT_FALSE(GtidPosition::parse("0-1", GtidFlavor::kMariaDb).ok());
  EXPECT_FALSE(GtidPosition::parse("0-1-2,0-1-3", GtidFlavor::kMariaDb).ok());
  EXPECT_FALSE(GtidPosition::parse("0-1-2,", GtidFlavor::kMariaDb).ok());
  EXPECT_FALSE(GtidPosition::parse(std::string(kU1) + ":1", GtidFlavor::kMariaDb).ok());
  EXPECT_FALSE(GtidPosition::parse("0-1-2", GtidFlavor::kMySql).ok());
  EXPECT_FALSE(GtidPosition::parse("0:1-2", GtidFlavor::kMySql).ok());
  EXPECT_FALSE(GtidPosition::parse(std::string(kU1) + ":5-3", GtidFlavor::kMySql).ok());
  EXPECT_TRUE(GtidPosition::parse("", GtidFlavor::kMariaDb)->empty());
  EXPECT_TRUE(GtidPosition::parse("  ", GtidFlavor::kMySql)->empty());
  auto garbage = GtidPosition::parse("0-1-100,garbage", GtidFlavor::kMariaDb);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("'garbage'"), std::string::npos);
}

}  // namespace
}  // namespace dts::mysql

namespace dts::mysql {
namespace {

TEST(GtidPositionTest, AStoredPositionTellsItsFlavour) {
  const std::string uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  auto none = GtidPosition::parseStored("  ");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto maria = GtidPosition::parseStored("0-1-100,1-2-7");
  ASSERT_TRUE(maria.ok() && maria->has_value());
  EXPECT_EQ((*maria)->flavor(), GtidFlavor::kMariaDb);
  EXPECT_EQ((*maria)->toString(), "0-1-100,1-2-7");
  auto my = GtidPosition::parseStored(uuid + ":1-150:152");
  ASSERT_TRUE(my.ok() && my->has_value());
  EXPECT_EQ((*my)->flavor(), GtidFlavor::kMySql);
  EXPECT_TRUE((*my)->contains(*Gtid::parse(uuid + ":152")));
  EXPECT_FALSE((*my)->contains(*Gtid::parse(uuid + ":151")));
  // Both flavours in one text, or anything else, is an error, never a guess.
  EXPECT_FALSE(GtidPosition::parseStored("0-1-100," + uuid + ":1-5").ok());
  EXPECT_FALSE(GtidPosition::parseStored(uuid + ":1-5,0-1-100").ok());
  EXPECT_FALSE(GtidPosition::parseStored("garbage").ok());
  EXPECT_FALSE(GtidPosition::parseStored("-").ok());
}

TEST(GtidSetTest, KnowsItsFlavour) {
  EXPECT_FALSE(GtidSet().flavor().has_value());
  EXPECT_EQ(GtidSet::parse("0:1-5,1:3")->flavor(), GtidFlavor::kMariaDb);
  EXPECT_EQ(GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")->flavor(),
            GtidFlavor::kMySql);
  EXPECT_FALSE(GtidSet::parse("0:1-5,3e11fa47-71ca-11e1-9e33-c80aa9429562:1")->flavor());
  GtidSet set = *GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
  EXPECT_EQ(GtidPosition::mySql(set).toSet(), set);
}

}  // namespace
}  // namespace dts::mysql
