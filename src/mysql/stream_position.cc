#include "mysql/stream_position.h"

namespace dts::mysql::binlog_protocol {

Result<uint64_t> eventStart(uint64_t expected_start, uint32_t log_pos, uint32_t event_length) {
  constexpr uint64_t k4G = uint64_t{1} << 32;
  uint64_t expected_end = expected_start + event_length;
  uint64_t end = (expected_end & ~(k4G - 1)) | log_pos;
  // Choose the candidate nearest to where we expected the event to end: log_pos only wraps,
  // events are never 2 GiB apart from where the stream stands.
  if (end + k4G / 2 < expected_end) {
    end += k4G;
  } else if (end > expected_end + k4G / 2 && end >= k4G) {
    end -= k4G;
  }
  if (end < event_length) {
    return Status::Corruption("event of " + std::to_string(event_length) +
                              " bytes ends at offset " + std::to_string(log_pos) +
                              ", before it could start");
  }
  return end - event_length;
}

Result<PositionTracker::Kind> PositionTracker::onEvent(std::string_view event) {
  DTS_ASSIGN_OR_RETURN(BinlogFormat::Event e, format_.next(event));
  const EventHeader& h = e.header;
  if (h.type == EventType::kHeartbeat || h.type == EventType::kHeartbeatV2) return Kind::kHeartbeat;
  if (h.type == EventType::kRotate) {
    const RotateEvent& rot = format_.lastRotate();
    if (h.log_pos == 0 || (h.flags & kArtificialFlag) != 0) {
      // The fake ROTATE a dump starts with: not in any file, it tells where the stream stands.
      next_ = BinlogPosition{rot.next_file, rot.position};
      position_ = next_;
    } else {
      DTS_ASSIGN_OR_RETURN(uint64_t start, eventStart(next_.offset, h.log_pos, h.event_size));
      position_ = BinlogPosition{next_.file, start};
      next_ = BinlogPosition{rot.next_file, rot.position};
    }
    return Kind::kEvent;
  }
  if (h.log_pos == 0) {
    // Sent out of band (the FORMAT_DESCRIPTION replayed when a dump starts mid-file, MariaDB's
    // GTID_LIST and checkpoint events at start): occupies no place in the stream.
    position_ = next_;
    return Kind::kEvent;
  }
  DTS_ASSIGN_OR_RETURN(uint64_t start, eventStart(next_.offset, h.log_pos, h.event_size));
  if (position_.file != next_.file) position_.file = next_.file;  // per event: no allocation
  position_.offset = start;
  next_.offset = start + h.event_size;
  return Kind::kEvent;
}

}  // namespace dts::mysql::binlog_protocol
