// MemoryChangeLog: an in-memory sink::ChangeLogReader for tests of the Kafka listener (the real
// change log lives in sink/). Records get consecutive offsets from 0; waitBeyond wakes on append;
// dropBefore imitates retention.
// Thread-safety: every method from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

#include "server/kafka_listener.h"
#include "sink/change_log_reader.h"

namespace dts::server {

class MemoryChangeLog : public sink::ChangeLogReader {
 public:
  // Appends one record (timestamps must not decrease); returns its offset.
  int64_t append(std::string key, std::string value, int64_t timestamp_ms);
  // Forgets the records before offset (retention).
  void dropBefore(int64_t offset);

  int64_t firstOffset() const override;
  int64_t endOffset() const override;
  Result<int64_t> offsetForTime(int64_t ms) const override;
  Result<std::vector<sink::LogRecord>> read(int64_t from, size_t max_bytes) const override;
  int64_t waitBeyond(int64_t offset, std::chrono::milliseconds timeout) const override;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  int64_t first_ = 0;
  std::vector<sink::LogRecord> records_;  // records_[i].offset == first_ + i
};

// Listener options over one in-memory log: 127.0.0.1, a free port, the one topic `topic`.
KafkaListenerOptions listenerOptionsForTests(std::shared_ptr<MemoryChangeLog> log,
                                             const std::string& topic, const std::string& token,
                                             const std::string& offsets_db);

}  // namespace dts::server
