// BinlogFileSource: a BinlogSource over one binlog file on disk (offline decoding, tests).
// File layout: https://mariadb.com/kb/en/2-binlog-event-header/ — the 4-byte magic "\xfebin",
// then whole events back to back, each announcing its size in its header.
//
// The file is memory-mapped: events are zero-copy views into the mapping, valid until the
// source is destroyed (longer than BinlogSource promises). Offsets are 64-bit.
//
// Event headers are read by event_header.h, as the stream and the decoder read them.
//
// End of file vs corruption (as LevelDB's log reader does): a last event cut short (the server
// was writing it, or the copy was truncated) is a clean end: nextEvent() returns kNotFound and
// tornTailBytes() says how many bytes were left over. An event header that cannot be right (size
// below 19 or above the 1 GiB max_allowed_packet limit) is kCorruption naming file:offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mysql/binlog_source.h"

namespace dts::mysql {

constexpr uint64_t kMaxEventSize = (uint64_t{1} << 30) + 4096;

class BinlogFileSource : public BinlogSource {
 public:
  // Opens and maps `path`. kNotFound when it does not exist, kCorruption when it does not start
  // with the binlog magic, kUnavailable for other I/O errors. Positions name the file by its
  // base name (as the server does).
  static Result<std::unique_ptr<BinlogFileSource>> open(const std::string& path);
  ~BinlogFileSource() override;
  BinlogFileSource(const BinlogFileSource&) = delete;
  BinlogFileSource& operator=(const BinlogFileSource&) = delete;

  Result<std::string_view> nextEvent() override;
  BinlogPosition position() const override { return BinlogPosition{name_, current_}; }

  // Starts reading at `offset` (>= 4, the start of an event); kInvalidArgument past the end.
  Status seek(uint64_t offset);
  uint64_t size() const { return size_; }
  uint64_t nextOffset() const { return next_; }
  // Where the event last returned by nextEvent() starts: position().offset without copying the
  // file name.
  uint64_t currentOffset() const { return current_; }
  const std::string& name() const { return name_; }
  uint64_t tornTailBytes() const { return torn_tail_; }
  const std::string& path() const { return path_; }
  // The server had not closed the file when it was opened here: its FORMAT_DESCRIPTION still
  // carries the in-use flag (the active binlog of a running server, or one left by a crash), so a
  // torn last event is a write in progress or the crash, not damage.
  bool inUse() const { return in_use_; }

 private:
  BinlogFileSource() = default;
  std::string path_, name_;
  const char* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t current_ = 0, next_ = 4, torn_tail_ = 0;
  bool in_use_ = false;
};

}  // namespace dts::mysql
