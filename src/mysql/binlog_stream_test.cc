#include "mysql/binlog_stream.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"
#include "mysql/gtid.h"

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

TEST(MysqlGtidTest, BuildsDumpGtidCommand) {
  std::string gtids = *GtidSet().encodeMySqlDumpSet();
  std::string cmd = comBinlogDumpGtid(7, 0, BinlogPosition{"", 4}, gtids);
  std::string want("\x1e\x04\x00\x07\x00\x00\x00\x00\x00\x00\x00\x04\0\0\0\0\0\0\0\x08\0\0\0", 23);
  want += gtids;
  EXPECT_EQ(cmd, want);
}

}  // namespace
}  // namespace dts::mysql::binlog_protocol
