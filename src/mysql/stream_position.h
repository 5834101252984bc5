// Positions along a replication stream: the 64-bit file/offset where each event starts, from the
// server's 32-bit log_pos, the fake ROTATE a dump starts with, out-of-band events and real
// ROTATEs. Separate from binlog_stream.h (which needs a client connection) so that tests and the
// fuzzer drive it with bytes alone.
// https://mariadb.com/kb/en/com_binlog_dump/ (the events a dump sends before the file's own)
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "common/status.h"
#include "mysql/binlog_source.h"
#include "mysql/event_header.h"

namespace dts::mysql::binlog_protocol {

constexpr uint8_t kRotateEvent = static_cast<uint8_t>(EventType::kRotate);
constexpr uint8_t kFormatDescriptionEvent = static_cast<uint8_t>(EventType::kFormatDescription);
constexpr uint8_t kHeartbeatEvent = static_cast<uint8_t>(EventType::kHeartbeat);
constexpr uint8_t kHeartbeatEventV2 = static_cast<uint8_t>(EventType::kHeartbeatV2);  // 64-bit

// The 64-bit offset where an event of event_length bytes ending at log_pos (low 32 bits)
// starts, given that the stream expected it at expected_start. kCorruption when log_pos is
// smaller than the event.
Result<uint64_t> eventStart(uint64_t expected_start, uint32_t log_pos, uint32_t event_length);

// Tracks file/offset across a replication stream: feed every event in order. FORMAT_DESCRIPTION
// and ROTATE are followed by a BinlogFormat (checksums stripped, not verified: the decoder does).
class PositionTracker {
 public:
  // checksum: what the connection negotiated, for the events before the first FORMAT_DESCRIPTION.
  PositionTracker(BinlogPosition start, bool checksum)
      : next_(std::move(start)),
        format_(BinlogFormat::Options{checksum ? ChecksumAlg::kCrc32 : ChecksumAlg::kOff,
                                      /*verify_checksums=*/false}) {}
  enum class Kind : uint8_t { kEvent, kHeartbeat };
  // Accounts one event: updates position()/next(); heartbeats leave both alone.
  Result<Kind> onEvent(std::string_view event);
  const BinlogPosition& position() const { return position_; }
  const BinlogPosition& next() const { return next_; }
  bool checksum() const { return format_.checksum(); }
  // The FORMAT_DESCRIPTION in force (a default one before the stream sent any).
  const FormatDescriptionEvent& format() const { return format_.format(); }

 private:
  BinlogPosition position_;
  BinlogPosition next_;
  BinlogFormat format_;
};

}  // namespace dts::mysql::binlog_protocol
