#include "mysql/binlog_stream.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"
#include "mysql/gtid.h"

namespace dts::mysql::binlog_protocol {
namespace {

std::string header(uint8_t type, uint32_t body_size, uint32_t log_pos, uint16_t flags = 0,
                   uint32_t timestamp = 1700000000) {
  std::string h;
  putUint(&h, timestamp, 4);
  h.push_back(static_cast<char>(type));
  putUint(&h, 1, 4);  // server id
  putUint(&h, kEventHeaderSize + body_size, 4);
  putUint(&h, log_pos, 4);
  putUint(&h, flags, 2);
  return h;
}

std::string rotate(const std::string& file, uint64_t offset, uint32_t log_pos, bool checksum,
                   uint16_t flags = 0) {
  std::string body;
  putUint(&body, offset, 8);
  body += file;
  if (checksum) body += "CRC!";
  return header(kRotateEvent, body.size(), log_pos, flags, log_pos == 0 ? 0 : 1700000000) + body;
}

// An event of the given type and total size ending at log_pos.
std::string event(uint8_t type, uint32_t total, uint32_t log_pos) {
  std::string e = header(type, total - kEventHeaderSize, log_pos);
  e.resize(total, 'x');
  return e;
}

std::string formatDescription(const std::string& version, uint8_t alg, uint32_t log_pos) {
  std::string body;
  putUint(&body, 4, 2);
  std::string v = version;
  v.resize(50, '\0');
  body += v;
  putUint(&body, 0, 4);
  body.push_back(19);
  body.append(40, '\x08');  // post-header lengths
  body.push_back(static_cast<char>(alg));
  body += "CRC!";
  return header(kFormatDescriptionEvent, body.size(), log_pos) + body;
}

TEST(BinlogProtocolTest, ParsesHeaderAndRejectsLengthMismatch) {
  std::string e = event(30, 40, 1000);
  auto h = parseHeader(e);
  ASSERT_TRUE(h.ok()) << h.status().toString();
  EXPECT_EQ(h->type, 30);
  EXPECT_EQ(h->event_length, 40u);
  EXPECT_EQ(h->log_pos, 1000u);
  EXPECT_EQ(parseHeader(e.substr(0, 39)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseHeader(e.substr(0, 10)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseHeader("").status().code(), Status::Code::kCorruption);
}

TEST(BinlogProtocolTest, ParsesRotateWithAndWithoutChecksum) {
  auto r = parseRotate(rotate("binlog.000007", 4, 0, true), true);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->file, "binlog.000007");
  EXPECT_EQ(r->offset, 4u);
  auto big = parseRotate(rotate("b.000002", 5'000'000'000ull, 0, false), false);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->file, "b.000002");
  EXPECT_EQ(big->offset, 5'000'000'000ull);
  // Truncated: no room for a name.
  std::string cut = rotate("x", 4, 0, true);
  cut = header(kRotateEvent, 10, 0) + cut.substr(kEventHeaderSize, 10);
  EXPECT_FALSE(parseRotate(cut, true).ok());
  std::string nul = rotate(std::string("a\0b", 3), 4, 0, false);
  EXPECT_EQ(parseRotate(nul, false).status().code(), Status::Code::kCorruption);
}

TEST(BinlogProtocolTest, ReadsFormatDescriptionChecksumAlgorithm) {
  auto crc = formatDescriptionChecksum(formatDescription("10.11.19-MariaDB-log", 1, 256));
  ASSERT_TRUE(crc.ok()) << crc.status().toString();
  EXPECT_EQ(crc->value_or(99), 1);
  auto off = formatDescriptionChecksum(formatDescription("8.0.36", 0, 256));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->value_or(99), 0);
  auto old = formatDescriptionChecksum(formatDescription("5.5.40-log", 0, 256));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());
  EXPECT_EQ(formatDescriptionChecksum(formatDescription("8.0.36", 7, 256)).status().code(),
            Status::Code::kUnsupported);
  EXPECT_EQ(formatDescriptionChecksum(event(kFormatDescriptionEvent, 30, 0)).status().code(),
            Status::Code::kCorruption);
}

TEST(BinlogProtocolTest, EventStartUsesLogPosLowBitsAndTrackedHighBits) {
  EXPECT_EQ(*eventStart(4, 104, 100), 4u);
  // The server skipped events (GTID start): log_pos wins.
  EXPECT_EQ(*eventStart(4, 5000, 100), 4900u);
  // Past 4 GiB: log_pos wrapped.
  uint64_t g4 = uint64_t{1} << 32;
  EXPECT_EQ(*eventStart(g4 + 100, 300, 200), g4 + 100);
  // Crossing the 4 GiB line inside one event.
  EXPECT_EQ(*eventStart(g4 - 50, 150, 200), g4 - 50);
  EXPECT_EQ(eventStart(0, 10, 100).status().code(), Status::Code::kCorruption);
}

TEST(PositionTrackerTest, FollowsFakeRotateOutOfBandEventsAndRealRotate) {
  PositionTracker t(BinlogPosition{"binlog.000001", 1000}, true);
  // Fake ROTATE at stream start (timestamp 0, log_pos 0, artificial).
  auto k = t.onEvent(rotate("binlog.000001", 1000, 0, true, kArtificialFlag));
  ASSERT_TRUE(k.ok()) << k.status().toString();
  EXPECT_EQ(t.position(), (BinlogPosition{"binlog.000001", 1000}));
  // The FORMAT_DESCRIPTION replayed out of band (log_pos 0), announcing no checksum.
  ASSERT_TRUE(t.onEvent(formatDescription("10.11.19-MariaDB", 0, 0)).ok());
  EXPECT_EQ(t.next(), (BinlogPosition{"binlog.000001", 1000}));
  EXPECT_FALSE(t.checksum());
  ASSERT_TRUE(t.onEvent(event(2, 60, 1060)).ok());
  EXPECT_EQ(t.position(), (BinlogPosition{"binlog.000001", 1000}));
  EXPECT_EQ(t.next(), (BinlogPosition{"binlog.000001", 1060}));
  // A heartbeat moves nothing.
  auto hb = t.onEvent(event(kHeartbeatEvent, 40, 99999));
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(*hb, PositionTracker::Kind::kHeartbeat);
  EXPECT_EQ(t.position(), (BinlogPosition{"binlog.000001", 1000}));
  // Real ROTATE at the end of the file (no checksum now).
  std::string rot = rotate("binlog.000002", 4, 0, false);
  rot = header(kRotateEvent, rot.size() - kEventHeaderSize, 1060 + rot.size()) +
        rot.substr(kEventHeaderSize);
  ASSERT_TRUE(t.onEvent(rot).ok());
  EXPECT_EQ(t.position(), (BinlogPosition{"binlog.000001", 1060}));
  EXPECT_EQ(t.next(), (BinlogPosition{"binlog.000002", 4}));
  // Then the next file's own FORMAT_DESCRIPTION, in band.
  std::string fd = formatDescription("10.11.19-MariaDB", 1, 0);
  fd = header(kFormatDescriptionEvent, fd.size() - kEventHeaderSize, 4 + fd.size()) +
       fd.substr(kEventHeaderSize);
  ASSERT_TRUE(t.onEvent(fd).ok());
  EXPECT_EQ(t.position(), (BinlogPosition{"binlog.000002", 4}));
  EXPECT_TRUE(t.checksum());
}

TEST(PositionTrackerTest, RejectsCorruptEvents) {
  PositionTracker t(BinlogPosition{"b.1", 4}, false);
  EXPECT_EQ(t.onEvent("short").status().code(), Status::Code::kCorruption);
  std::string e = event(2, 60, 64);
  e[9] = 61;  // length field disagrees with the bytes
  EXPECT_EQ(t.onEvent(e).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(t.onEvent(event(2, 60, 10)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(t.next(), (BinlogPosition{"b.1", 4}));
}

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
