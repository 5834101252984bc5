#include "mysql/binlog_stream.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"

namespace dts::mysql::binlog_protocol {
namespace {

TEST(BinlogProtocolTest, BuildsRegisterAndDumpCommands) {
  std::string reg = comRegisterSlave(0x01020304, "dts", 0);
  std::string want_reg(
      "\x15\x04\x03\x02\x01\x03"
      "dts"
      "\x00\x00\x00\x00"
      "\x00\x00\x00\x00"
      "\x00\x00\x00\x00",
      1 + 4 + 1 + 3 + 1 + 1 + 2 + 4 + 4);
  EXPECT_EQ(reg, want_reg);
  // The MariaDB documentation's example: position 0x634, flags 2, server id 10101,
  // mysql-bin.000034.
  std::string dump = comBinlogDump(10101, 2, BinlogPosition{"mysql-bin.000034", 0x634});
  std::string want(
      "\x12\x34\x06\x00\x00\x02\x00\x75\x27\x00\x00"
      "mysql-bin.000034",
      27);
  EXPECT_EQ(dump, want);
}

TEST(BinlogProtocolTest, ParsesErrorPackets) {
  auto e = parseErrPacket(std::string("\xff\xd4\x04#HY000Could not find first log file name", 43));
  EXPECT_EQ(e.code, 1236);
  EXPECT_EQ(e.message, "Could not find first log file name");
  auto bare = parseErrPacket(std::string("\xff\x1d\x04no state", 11));
  EXPECT_EQ(bare.code, 1053);
  EXPECT_EQ(bare.message, "no state");
  EXPECT_EQ(parseErrPacket("\xff").code, 0);
  EXPECT_EQ(parseErrPacket("").message, "malformed error packet");
}

TEST(MysqlGtidTest, EncodesSetLikeTheDocumentedLayout) {
  auto set = parseMysqlGtidSet("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5");
  ASSERT_TRUE(set.ok()) << set.status().toString();
  std::string want;
  want += std::string("\x01\0\0\0\0\0\0\0", 8);  // n_sids
  want += std::string("\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62", 16);
  want += std::string("\x01\0\0\0\0\0\0\0", 8);  // n_intervals
  want += std::string("\x01\0\0\0\0\0\0\0", 8);  // start
  want += std::string("\x06\0\0\0\0\0\0\0", 8);  // end, exclusive
  EXPECT_EQ(encodeMysqlGtidSet(*set), want);
}

TEST(MysqlGtidTest, EncodesSeveralSidsAndIntervals) {
  auto set = parseMysqlGtidSet(
      "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7:10-12,\n 4350f323-7565-4e59-8763-4b1b83a0ce0e:42");
  ASSERT_TRUE(set.ok()) << set.status().toString();
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ((*set)[0].intervals.size(), 3u);
  std::string enc = encodeMysqlGtidSet(*set);
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
  EXPECT_EQ(encodeMysqlGtidSet({}), std::string(8, '\0'));
}

TEST(MysqlGtidTest, RejectsMalformedSets) {
  for (const char* bad :
       {"nouuid", "3e11fa47-71ca-11e1-9e33-c80aa942956:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-x", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1,"}) {
    EXPECT_EQ(parseMysqlGtidSet(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(parseMysqlGtidSet("  ").ok());
}

TEST(MysqlGtidTest, BuildsDumpGtidCommand) {
  std::string gtids = encodeMysqlGtidSet({});
  std::string cmd = comBinlogDumpGtid(7, 0, BinlogPosition{"", 4}, gtids);
  std::string want("\x1e\x04\x00\x07\x00\x00\x00\x00\x00\x00\x00\x04\0\0\0\0\0\0\0\x08\0\0\0", 23);
  want += gtids;
  EXPECT_EQ(cmd, want);
}

}  // namespace
}  // namespace dts::mysql::binlog_protocol
