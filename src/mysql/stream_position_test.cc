#include "mysql/stream_position.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"

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

// The stream reads headers, ROTATE and FORMAT_DESCRIPTION with event_header.h: these check it
// on events shaped as a server sends them.
TEST(BinlogProtocolTest, ParsesHeaderAndRejectsLengthMismatch) {
  std::string e = event(30, 40, 1000);
  auto h = parseWholeEventHeader(e);
  ASSERT_TRUE(h.ok()) << h.status().toString();
  EXPECT_EQ(h->type, EventType::kWriteRowsV2);
  EXPECT_EQ(h->event_size, 40u);
  EXPECT_EQ(h->log_pos, 1000u);
  EXPECT_EQ(parseWholeEventHeader(e.substr(0, 39)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseWholeEventHeader(e.substr(0, 10)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseWholeEventHeader("").status().code(), Status::Code::kCorruption);
}

// A ROTATE read as the stream reads it: checksum known from the negotiation, not verified.
Result<RotateEvent> readRotate(const std::string& event, bool checksum) {
  BinlogFormat format(
      BinlogFormat::Options{checksum ? ChecksumAlg::kCrc32 : ChecksumAlg::kOff, false});
  auto e = format.next(event);
  if (!e.ok()) return e.status();
  return format.lastRotate();
}

TEST(BinlogProtocolTest, ParsesRotateWithAndWithoutChecksum) {
  auto r = readRotate(rotate("binlog.000007", 4, 0, true), true);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->next_file, "binlog.000007");
  EXPECT_EQ(r->position, 4u);
  auto big = readRotate(rotate("b.000002", 5'000'000'000ull, 0, false), false);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->next_file, "b.000002");
  EXPECT_EQ(big->position, 5'000'000'000ull);
  // Truncated: no room for a name.
  std::string cut = rotate("x", 4, 0, true);
  cut = header(kRotateEvent, 10, 0) + cut.substr(kEventHeaderSize, 10);
  EXPECT_FALSE(readRotate(cut, true).ok());
  std::string nul = rotate(std::string("a\0b", 3), 4, 0, false);
  EXPECT_EQ(readRotate(nul, false).status().code(), Status::Code::kCorruption);
}

TEST(BinlogProtocolTest, ReadsFormatDescriptionChecksumAlgorithm) {
  auto crc = parseFormatDescription(formatDescription("10.11.19-MariaDB-log", 1, 256), false);
  ASSERT_TRUE(crc.ok()) << crc.status().toString();
  EXPECT_EQ(crc->checksum, ChecksumAlg::kCrc32);
  auto off = parseFormatDescription(formatDescription("8.0.36", 0, 256), false);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->checksum, ChecksumAlg::kOff);
  auto old = parseFormatDescription(formatDescription("5.5.40-log", 0, 256), false);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->checksum, ChecksumAlg::kUndefined);  // too old to say: no checksums
  EXPECT_EQ(parseFormatDescription(formatDescription("8.0.36", 7, 256), false).status().code(),
            Status::Code::kUnsupported);
  EXPECT_EQ(parseFormatDescription(event(kFormatDescriptionEvent, 30, 0), false).status().code(),
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

}  // namespace
}  // namespace dts::mysql::binlog_protocol
