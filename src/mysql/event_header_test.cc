#include "mysql/event_header.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"
#include "common/crc32.h"
#include "mysql/binlog_event.h"
#include "mysql/binlog_stream.h"
#include "mysql/event_builder_for_tests.h"

namespace dts::mysql {
namespace {

using testing::EventBuilder;

// The FORMAT_DESCRIPTION at offset 4 of the active binlog of a running MariaDB 10.11.19 server,
// byte for byte: flags 0x0001 (LOG_EVENT_BINLOG_IN_USE_F), CRC32 on, and a checksum that is the
// CRC32 of the event with that flag cleared.
const std::string kInUseFormatDescription(
    "\x3a\x53\x0f\x6b\x0f\x01\x00\x00\x00\xfc\x00\x00\x00\x00\x01\x00\x00\x01\x00\x04\x00\x31\x30"
    "\x2e\x31\x31\x2e\x31\x39\x2d\x4d\x61\x72\x69\x61\x44\x42\x2d\x30\x2b\x64\x65\x62\x31\x32\x75"
    "\x31\x2d\x6c\x6f\x67\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x3a\x53\x0f\x6b\x13\x38\x0d\x00\x08\x00\x12\x00\x04\x04\x04\x04\x12\x00\x00\xe4\x00"
    "\x04\x1a\x08\x00\x00\x00\x08\x08\x08\x02\x00\x00\x00\x0a\x0a\x0a\x00\x00\x00\x00\x00\x00\x0a"
    "\x0a\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x04\x13\x04\x00\x0d\x08\x08\x08\x0a\x0a\x0a\x01\xed\x3b\x5c\x0c",
    252);

void setFlags(std::string* event, uint16_t flags) {
  (*event)[17] = static_cast<char>(flags & 0xff);
  (*event)[18] = static_cast<char>(flags >> 8);
}

TEST(EventHeaderTest, InUseFormatDescriptionOfARealServerVerifies) {
  auto h = parseWholeEventHeader(kInUseFormatDescription);
  ASSERT_TRUE(h.ok()) << h.status().toString();
  EXPECT_EQ(h->type, EventType::kFormatDescription);
  EXPECT_EQ(h->flags, kBinlogInUseFlag);
  EXPECT_TRUE(eventChecksumMatches(kInUseFormatDescription));
  auto f = parseFormatDescription(kInUseFormatDescription, /*verify_checksum=*/true);
  ASSERT_TRUE(f.ok()) << f.status().toString();
  EXPECT_EQ(f->server_version, "10.11.19-MariaDB-0+deb12u1-log");
  EXPECT_EQ(f->flavor, ServerFlavor::kMariaDb);
  EXPECT_EQ(f->checksum, ChecksumAlg::kCrc32);
  EXPECT_EQ(f->postHeaderLength(EventType::kQuery, 0), 13);
  EXPECT_EQ(f->postHeaderLength(EventType::kTableMap, 0), 8);
  // The same event closed cleanly (flag cleared by the server, checksum untouched) verifies too.
  std::string closed = kInUseFormatDescription;
  setFlags(&closed, 0);
  EXPECT_TRUE(eventChecksumMatches(closed));
  // A changed byte is still caught, flag or no flag.
  std::string bad = kInUseFormatDescription;
  bad[30] ^= 1;
  EXPECT_FALSE(eventChecksumMatches(bad));
  auto rejected = parseFormatDescription(bad, true);
  EXPECT_EQ(rejected.status().code(), Status::Code::kCorruption);
  EXPECT_NE(rejected.status().message().find("bad CRC32 checksum of FORMAT_DESCRIPTION"),
            std::string::npos);
}

TEST(EventHeaderTest, InUseFormatDescriptionDecodesOnEveryPath) {
  // Built as the server writes it: checksum over the event without the flag, then the flag set.
  EventBuilder b(ServerFlavor::kMariaDb);
  std::string fde = b.formatDescription();
  setFlags(&fde, kBinlogInUseFlag);
  std::string xid = b.xid(7);

  BinlogFormat format;
  ASSERT_TRUE(format.next(fde).ok());
  EXPECT_TRUE(format.checksum());
  ASSERT_TRUE(format.next(xid).ok());

  BinlogDecoder decoder;
  std::vector<BinlogEvent> events;
  Status s = decoder.decode(fde, BinlogPosition{"binlog.000009", 4}, &events);
  ASSERT_TRUE(s.ok()) << s.toString();
  ASSERT_TRUE(decoder.decode(xid, BinlogPosition{"binlog.000009", 4 + fde.size()}, &events).ok());
  EXPECT_EQ(events[0].as<XidEvent>()->xid, 7u);

  // The stream's position tracker reads it the same way.
  binlog_protocol::PositionTracker tracker(BinlogPosition{"binlog.000009", 4}, true);
  ASSERT_TRUE(tracker.onEvent(fde).ok());
  EXPECT_TRUE(tracker.checksum());

  // A checksum computed over the flag set is not the server's: refused.
  std::string wrong = fde.substr(0, fde.size() - kChecksumSize);
  putUint(&wrong, dts::crc32(wrong), 4);
  EXPECT_FALSE(eventChecksumMatches(wrong));
  EXPECT_EQ(BinlogDecoder().decode(wrong, BinlogPosition{"x", 4}, &events).code(),
            Status::Code::kCorruption);
}

TEST(EventHeaderTest, OnlyFormatDescriptionHasTheFlagCleared) {
  // Another event type with bit 0 set has its checksum over the bytes as they are.
  EventBuilder b(ServerFlavor::kMariaDb);
  b.formatDescription();
  std::string xid = b.xid(1);
  setFlags(&xid, kBinlogInUseFlag);
  EXPECT_FALSE(eventChecksumMatches(xid));
  std::string body = xid.substr(0, xid.size() - kChecksumSize);
  putUint(&body, dts::crc32(body), 4);
  EXPECT_TRUE(eventChecksumMatches(body));
}

TEST(EventHeaderTest, HeaderChecks) {
  EventBuilder b(ServerFlavor::kMariaDb);
  std::string two = b.formatDescription() + b.xid(1);
  auto first = parseEventHeader(two);  // the header of the first of several events
  ASSERT_TRUE(first.ok());
  EXPECT_LT(first->event_size, two.size());
  EXPECT_EQ(parseWholeEventHeader(two).status().code(), Status::Code::kCorruption);
  std::string tiny = two.substr(0, kEventHeaderSize);
  tiny[9] = 18;
  tiny[10] = tiny[11] = tiny[12] = 0;
  EXPECT_EQ(parseEventHeader(tiny).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseEventHeader(two.substr(0, 18)).status().code(), Status::Code::kCorruption);
}

std::string fdeOf(const std::string& version, ServerFlavor flavor) {
  EventBuilder b(flavor);
  std::string e = b.formatDescription();
  std::string v = version;
  v.resize(50, '\0');
  e.replace(kEventHeaderSize + 2, 50, v);
  std::string body = e.substr(0, e.size() - kChecksumSize);
  putUint(&body, dts::crc32(body), 4);
  return body;
}

TEST(EventHeaderTest, ChecksumAwareVersionsAreTheSameForEveryReader) {
  struct Case {
    const char* version;
    ChecksumAlg want;
  } cases[] = {{"5.6.1-log", ChecksumAlg::kCrc32},      {"5.6.0", ChecksumAlg::kUndefined},
               {"5.5.40-log", ChecksumAlg::kUndefined}, {"8.0.36", ChecksumAlg::kCrc32},
               {"5.3.12-MariaDB", ChecksumAlg::kCrc32}, {"5.2.14-MariaDB", ChecksumAlg::kUndefined},
               {"10.11", ChecksumAlg::kCrc32}};
  for (const auto& c : cases) {
    auto f = parseFormatDescription(fdeOf(c.version, ServerFlavor::kMySql), false);
    ASSERT_TRUE(f.ok()) << c.version << ": " << f.status().toString();
    EXPECT_EQ(f->checksum, c.want) << c.version;
    if (c.want == ChecksumAlg::kUndefined) {
      // Too old for checksums: the trailing bytes are post-header lengths, nothing is stripped.
      BinlogFormat format;
      auto e = format.next(fdeOf(c.version, ServerFlavor::kMySql));
      ASSERT_TRUE(e.ok());
      EXPECT_FALSE(format.checksum()) << c.version;
    }
  }
}

// One reading of a version for every decision made on it: the executable comments a DDL ran,
// the checksum byte above, and SHOW REPLICA STATUS (replication_health_test).
TEST(EventHeaderTest, ServerVersionNumbers) {
  EXPECT_EQ(serverVersionNumber("10.11.19-MariaDB-0+deb12u1-log"), 101119u);
  EXPECT_EQ(serverVersionNumber("5.5.5-10.6.4-MariaDB"), 100604u);
  EXPECT_EQ(serverVersionNumber("8.0.36"), 80036u);
  EXPECT_EQ(serverVersionNumber("5.7.44-log"), 50744u);
  EXPECT_EQ(serverVersionNumber("10.1"), 100100u);
  EXPECT_EQ(serverVersionNumber("10.1.x"), 100100u);
  EXPECT_EQ(serverVersionNumber("10"), 0u);
  EXPECT_EQ(serverVersionNumber("10."), 0u);
  EXPECT_EQ(serverVersionNumber(""), 0u);
  EXPECT_EQ(serverVersionNumber("MariaDB"), 0u);
}

TEST(EventHeaderTest, FormatFollowsFormatDescriptionAndRotate) {
  EventBuilder b(ServerFlavor::kMariaDb);
  BinlogFormat format;
  EXPECT_FALSE(format.haveFormat());
  EXPECT_EQ(format.format().flavor, ServerFlavor::kUnknown);
  // Before any FORMAT_DESCRIPTION, nothing negotiated: a trailing CRC32 that matches is one.
  std::string early = b.rotate("binlog.000003", 4);
  auto e = format.next(early);
  ASSERT_TRUE(e.ok()) << e.status().toString();
  EXPECT_EQ(e->body.size(), early.size() - kEventHeaderSize - kChecksumSize);
  EXPECT_EQ(format.lastRotate().next_file, "binlog.000003");

  ASSERT_TRUE(format.next(b.formatDescription()).ok());
  EXPECT_TRUE(format.haveFormat());
  EXPECT_EQ(format.format().flavor, ServerFlavor::kMariaDb);
  EXPECT_TRUE(format.checksum());
  std::string xid = b.xid(3);
  e = format.next(xid);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->header.type, EventType::kXid);
  EXPECT_EQ(e->body.size(), 8u);

  // Errors name the event and leave the state as it was.
  std::string bad = b.rotate("binlog.000004", 4);
  bad[bad.size() - 1] ^= 1;
  auto r = format.next(bad);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("bad CRC32 checksum of ROTATE event"), std::string::npos);
  EXPECT_EQ(format.lastRotate().next_file, "binlog.000003");
  EXPECT_EQ(format.next(xid.substr(0, 20)).status().code(), Status::Code::kCorruption);

  // Verification off (the stream: the decoder verifies): the checksum is only stripped.
  BinlogFormat lenient(BinlogFormat::Options{ChecksumAlg::kCrc32, false});
  ASSERT_TRUE(lenient.next(bad).ok());
  EXPECT_EQ(lenient.lastRotate().next_file, "binlog.000004");

  // Inside a TRANSACTION_PAYLOAD events have no checksum of their own.
  EventBuilder inner(ServerFlavor::kMySql, false);
  std::string plain = inner.xid(5);
  e = format.nextInPayload(plain);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->body.size(), 8u);
}

TEST(EventHeaderTest, RotateBodies) {
  std::string body;
  putUint(&body, 4, 8);
  EXPECT_EQ(parseRotate(body).status().code(), Status::Code::kCorruption);  // no name
  body += "binlog.000002";
  auto r = parseRotate(body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->position, 4u);
  EXPECT_EQ(r->next_file, "binlog.000002");
  EXPECT_EQ(parseRotate(body, 7).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseRotate(body.substr(0, 5)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(parseRotate(body + std::string(600, 'x')).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace dts::mysql
