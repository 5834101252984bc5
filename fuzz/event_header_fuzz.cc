// libFuzzer target over the event-header tracker (event_header.h) and the stream's position
// tracker (stream_position.h): arbitrary sequences of events, must never crash, every failure is a
// Status. Input: first byte = mode (bits 0-1: checksum before the first FORMAT_DESCRIPTION
// kUndefined/kCrc32/kOff; bit 2: verify checksums), then a series of {u8 flags, u16 length,
// event} records (flags bit 0: the event is inside a TRANSACTION_PAYLOAD). Each event also has
// its CRC32 check compared with a bitwise reference of the server's rule (FORMAT_DESCRIPTION
// checksummed with the in-use flag cleared), and the trackers' answers checked for consistency.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/byte_reader.h"
#include "mysql/event_header.h"
#include "mysql/stream_position.h"

using namespace dts;
using namespace dts::mysql;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// CRC32 (zlib's) one bit at a time: the model the accelerated check is compared with.
uint32_t referenceCrc32(std::string_view bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

bool referenceChecksumMatches(std::string_view event) {
  if (event.size() < kEventHeaderSize + kChecksumSize) return false;
  std::string copy(event.substr(0, event.size() - kChecksumSize));
  if (static_cast<uint8_t>(copy[4]) == static_cast<uint8_t>(EventType::kFormatDescription))
    copy[17] = static_cast<char>(copy[17] & ~kBinlogInUseFlag);
  ByteReader r(event.substr(event.size() - kChecksumSize));
  uint32_t stored = 0;
  r.getU32(&stored);
  return stored == referenceCrc32(copy);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  static constexpr ChecksumAlg kBefore[] = {ChecksumAlg::kUndefined, ChecksumAlg::kCrc32,
                                            ChecksumAlg::kOff, ChecksumAlg::kUndefined};
  BinlogFormat format(BinlogFormat::Options{kBefore[mode & 3], (mode & 4) != 0});
  binlog_protocol::PositionTracker tracker(BinlogPosition{"fuzz.000001", 4}, (mode & 1) != 0);
  ByteReader r(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!r.empty()) {
    uint8_t flags;
    uint16_t len;
    std::string_view bytes;
    if (!r.getU8(&flags) || !r.getU16(&len) || !r.getBytes(len, &bytes)) break;
    const std::string event(bytes);  // exact-size heap copy so ASan sees any overread

    check(eventChecksumMatches(event) == referenceChecksumMatches(event));
    auto header = parseEventHeader(event);
    auto whole = parseWholeEventHeader(event);
    check(!whole.ok() || (header.ok() && header->event_size == event.size()));

    const bool had_format = format.haveFormat();
    const FormatDescriptionEvent before_fde = format.format();
    const RotateEvent before_rotate = format.lastRotate();
    auto read = (flags & 1) != 0 ? format.nextInPayload(event) : format.next(event);
    if (read.ok()) {
      check(whole.ok() && read->header.event_size == event.size());
      // The body is a view into the event, after its header.
      check(read->body.data() == event.data() + kEventHeaderSize);
      check(read->body.size() <= event.size() - kEventHeaderSize);
      if (read->header.type == EventType::kFormatDescription) {
        check(format.haveFormat());
        check(format.format().binlog_version == 4 &&
              format.format().header_length == kEventHeaderSize);
        check(format.checksum() == (format.format().checksum == ChecksumAlg::kCrc32));
      }
      if (read->header.type == EventType::kRotate) {
        check(!format.lastRotate().next_file.empty() &&
              format.lastRotate().next_file.size() <= 512);
      }
    } else {
      // A refused event changes nothing.
      check(format.haveFormat() == had_format);
      check(format.format().post_header_lengths == before_fde.post_header_lengths);
      check(format.format().checksum == before_fde.checksum);
      check(format.lastRotate().next_file == before_rotate.next_file);
    }

    const BinlogPosition next_before = tracker.next();
    auto kind = tracker.onEvent(event);
    if (kind.ok() && *kind == binlog_protocol::PositionTracker::Kind::kHeartbeat)
      check(tracker.next() == next_before);
    if (!kind.ok()) check(kind.status().code() != Status::Code::kOk);
  }
  return 0;
}
