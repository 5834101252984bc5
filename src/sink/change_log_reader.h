// ChangeLogReader: how consumers read a tracking task's change log (DESIGN.md, data flow: the
// change log is a sink; the Kafka listener and the HTTP changes endpoint in server/ read it
// through this interface only).
//
// Contract:
//   - Offsets are dense and monotonic: the log's records are firstOffset() .. endOffset()-1.
//     firstOffset() rises when retention removes old segments; endOffset() rises when a whole
//     source transaction (its begin marker, its changes and its commit marker) is durable.
//     A reader never sees a record at or beyond endOffset(), so consumers only ever see whole
//     committed transactions, in commit order.
//   - An empty log has firstOffset() == endOffset().
//   - read() returns records from `from` on, in order, stopping before endOffset(): at least one
//     record when from < endOffset() (even if it alone exceeds max_bytes), then more while the
//     total of key and value sizes stays within max_bytes. from == endOffset() gives none.
//     from < firstOffset() (expired) or from > endOffset() is an error naming both bounds;
//     a corrupt segment is an error naming its file and byte offset, never skipped.
//   - offsetForTime(ms) is the first offset whose timestamp is >= ms; endOffset() when none is.
//     Timestamps are source commit times, non-decreasing in offset order.
//   - waitBeyond(offset, timeout) blocks until endOffset() > offset or the timeout passes, and
//     returns endOffset() (long polling for Fetch and the HTTP stream).
//   - commitMarkerOf(offset) is the commit marker of the transaction that holds `offset` (the
//     first commit marker at or after it): how a reader that has served part of a transaction
//     learns what only its end records (the XID), without holding the rest. Offsets outside
//     firstOffset() .. endOffset()-1 are an error as for read().
// Thread-safety: every method may be called from any number of threads, concurrently with the
// writer appending.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dts::sink {

struct LogRecord {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // source commit time, milliseconds since the epoch
  std::string key;           // the record's key: JSON of {db, table, primary key}; "" for markers
  std::string value;         // the record, in the log's encoding (docs/change-records.md)
  // Not a record: the last of a run of records a view left out (sink/change_formats.h), given
  // last so that a reader's position moves past them (Kafka: the batch's last offset). Only
  // encoded views return these; key and value are empty.
  bool placeholder = false;
};

class ChangeLogReader {
 public:
  virtual ~ChangeLogReader() = default;
  virtual int64_t firstOffset() const = 0;
  virtual int64_t endOffset() const = 0;
  virtual Result<int64_t> offsetForTime(int64_t ms) const = 0;
  virtual Result<std::vector<LogRecord>> read(int64_t from, size_t max_bytes) const = 0;
  virtual int64_t waitBeyond(int64_t offset, std::chrono::milliseconds timeout) const = 0;
  // This implementation reads on with read() in chunks of kLookAheadBytes (memory bounded by
  // one chunk, cost proportional to the records before the marker); the change log walks its
  // batch headers instead and decompresses only the batch that holds the marker.
  virtual Result<LogRecord> commitMarkerOf(int64_t offset) const;
  // True once the log was deleted with its task (forgetSharedChangeLog): a reader that follows it
  // ends instead of waiting for records that will never come.
  virtual bool removed() const { return false; }

  static constexpr size_t kLookAheadBytes = 64 << 10;
};

// A record's op ("begin", "insert", "update", "delete", "ddl", "commit"), from the start of its
// value, where the log writes it ({"offset":N,"op":"..."}: a large row is not parsed); any other
// value is parsed; "" when it has no op.
std::string recordOp(std::string_view value);

}  // namespace dts::sink
