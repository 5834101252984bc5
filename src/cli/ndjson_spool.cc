#include "cli/ndjson_spool.h"

#include <cerrno>
#include <cstring>

namespace dts::cli {

NdjsonSpool::~NdjsonSpool() {
  if (file_ != nullptr) std::fclose(file_);
}

Status NdjsonSpool::spill() {
  if (file_ == nullptr) {
    // tmpfile(): created in P_tmpdir and unlinked at once, so nothing is left behind however
    // the process ends.
    file_ = std::tmpfile();
    if (file_ == nullptr) {
      return Status::FailedPrecondition(
          std::string("creating a temporary file for a large transaction: ") +
          std::strerror(errno));
    }
  }
  if (std::fwrite(memory_.data(), 1, memory_.size(), file_) != memory_.size()) {
    return Status::FailedPrecondition(
        std::string("writing a large transaction to a temporary file: ") + std::strerror(errno));
  }
  spill_bytes_ += memory_.size();
  memory_.clear();
  return Status::OK();
}

Result<bool> NdjsonSpool::add(const pipeline::Transaction& piece, const Emit& emit,
                              mysql::BinlogPosition* at) {
  if (piece.whole()) {  // the common case: the commit time is known, nothing waits
    for (const pipeline::ChangeEvent& ev : piece.events) {
      line_.clear();
      Status st = writer_.append(ev, piece, &line_);
      if (!st.ok()) {
        *at = ev.position;
        return st;
      }
      if (!emit(line_)) return false;
    }
    return true;
  }
  for (const pipeline::ChangeEvent& ev : piece.events) {
    const size_t before = memory_.size();
    Status st = writer_.appendUntilTs(ev, piece, &memory_);
    if (!st.ok()) {
      memory_.resize(before);
      *at = ev.position;
      return st;
    }
    memory_.push_back('\n');
    ++pending_lines_;
    if (memory_.size() > memory_limit_) DTS_RETURN_IF_ERROR(spill());
  }
  if (!piece.last_piece) return true;
  return emitAll(piece.timestamp, emit);
}

Result<bool> NdjsonSpool::emitAll(uint32_t timestamp, const Emit& emit) {
  const std::string tail = std::to_string(timestamp) + "}\n";
  bool go_on = true;
  auto emitPrefix = [&](std::string_view prefix) {
    line_.assign(prefix);
    line_ += tail;
    go_on = emit(line_);
  };
  if (spill_bytes_ > 0) {
    DTS_RETURN_IF_ERROR(spill());  // the rest, so the file holds every line in order
    std::rewind(file_);
    std::string buffer(1 << 16, '\0');
    std::string partial;
    uint64_t left = spill_bytes_;
    while (left > 0 && go_on) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
      const size_t got = std::fread(buffer.data(), 1, want, file_);
      if (got == 0) {
        return Status::FailedPrecondition(
            std::string("reading a large transaction back from its temporary "
                        "file: ") +
            (std::ferror(file_) ? std::strerror(errno) : "unexpected end"));
      }
      left -= got;
      std::string_view chunk(buffer.data(), got);
      size_t start = 0;
      for (size_t nl = chunk.find('\n'); nl != std::string_view::npos && go_on;
           nl = chunk.find('\n', start)) {
        if (partial.empty()) {
          emitPrefix(chunk.substr(start, nl - start));
        } else {
          partial.append(chunk.substr(start, nl - start));
          emitPrefix(partial);
          partial.clear();
        }
        start = nl + 1;
      }
      if (go_on) partial.append(chunk.substr(start));
    }
    std::rewind(file_);
    // The file is reused for the next large transaction; its old bytes are overwritten first.
    spill_bytes_ = 0;
  } else {
    std::string_view all(memory_);
    size_t start = 0;
    for (size_t nl = all.find('\n'); nl != std::string_view::npos && go_on;
         nl = all.find('\n', start)) {
      emitPrefix(all.substr(start, nl - start));
      start = nl + 1;
    }
  }
  memory_.clear();
  if (memory_.capacity() > memory_limit_ * 2) memory_.shrink_to_fit();
  pending_lines_ = 0;
  return go_on;
}

}  // namespace dts::cli
