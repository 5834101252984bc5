// BinlogSource: where raw binlog events come from. One interface, two implementations: a
// replication connection to a server (binlog_stream.h) and binlog files on disk
// (binlog_file.h). Both hand out whole events (19-byte header + body + checksum if any) so
// the same decoder reads both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dts::mysql {

struct BinlogPosition {
  std::string file;     // binlog file name on the node being read
  uint64_t offset = 0;  // 64-bit: files can pass 4 GiB
  bool operator==(const BinlogPosition&) const = default;
};

class BinlogSource {
 public:
  virtual ~BinlogSource() = default;

  // The next event. The view stays valid until the next call. Returns kNotFound ("end of
  // stream") when a file source is exhausted or a limit is reached, kUnavailable when the
  // server connection was lost (retryable; the message names the last position), kCorruption
  // for bytes that cannot be an event.
  virtual Result<std::string_view> nextEvent() = 0;

  // Where the event last returned starts (file and offset of its first byte).
  virtual BinlogPosition position() const = 0;
};

}  // namespace dts::mysql
