// NdjsonSpool: holds a transaction's NDJSON lines until its commit, for `dts binlog tail` and
// `dts binlog decode`. Every line carries its transaction's commit time ("ts"), which is known
// only at the last piece (pipeline::Transaction), so the lines of a transaction wait; they wait
// in memory up to memory_limit bytes, and beyond it in an unlinked temporary file, so a
// transaction of any size is printed with bounded memory. The lines come out exactly as
// NdjsonWriter::append writes them, in order.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "pipeline/change_event.h"
#include "pipeline/ndjson.h"

namespace dts::cli {

class NdjsonSpool {
 public:
  // Called once per line (with its '\n'); false stops the emission (a --limit reached).
  using Emit = std::function<bool(std::string_view line)>;

  explicit NdjsonSpool(pipeline::NdjsonWriter writer, size_t memory_limit = 16 << 20)
      : writer_(writer), memory_limit_(memory_limit) {}
  ~NdjsonSpool();
  NdjsonSpool(const NdjsonSpool&) = delete;
  NdjsonSpool& operator=(const NdjsonSpool&) = delete;

  // Renders the piece's events. At the transaction's last piece, emits every line of the
  // transaction and forgets them; returns false when `emit` asked to stop. An error names the
  // event (a table without column names, a temporary file that cannot be written); *at is then
  // the binlog position of the event at fault (unchanged for a file error).
  Result<bool> add(const pipeline::Transaction& piece, const Emit& emit, mysql::BinlogPosition* at);

  // Lines of the transaction not yet emitted (its commit has not been seen).
  uint64_t pendingLines() const { return pending_lines_; }
  // Bytes held in memory now (at most memory_limit plus one line).
  size_t memoryBytes() const { return memory_.capacity(); }
  // Whether the current transaction went to the temporary file.
  bool spilled() const { return spill_bytes_ > 0; }

 private:
  Status spill();
  Result<bool> emitAll(uint32_t timestamp, const Emit& emit);

  pipeline::NdjsonWriter writer_;
  size_t memory_limit_;
  // Each pending line without its commit time: everything up to `"ts":`, then '\n'.
  std::string memory_;
  std::FILE* file_ = nullptr;  // the spill file (created on first use, reused)
  uint64_t spill_bytes_ = 0;   // of the current transaction, written before memory_'s lines
  uint64_t pending_lines_ = 0;
  std::string line_;  // the line being emitted
};

}  // namespace dts::cli
