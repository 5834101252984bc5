#include "server/kafka_memory_log_for_tests.h"

#include <algorithm>

namespace dts::server {

int64_t MemoryChangeLog::append(std::string key, std::string value, int64_t timestamp_ms) {
  std::lock_guard lock(mu_);
  const int64_t offset = first_ + static_cast<int64_t>(records_.size());
  records_.push_back({offset, timestamp_ms, std::move(key), std::move(value)});
  cv_.notify_all();
  return offset;
}

void MemoryChangeLog::dropBefore(int64_t offset) {
  std::lock_guard lock(mu_);
  while (first_ < offset && !records_.empty()) {
    records_.erase(records_.begin());
    ++first_;
  }
}

int64_t MemoryChangeLog::firstOffset() const {
  std::lock_guard lock(mu_);
  return first_;
}

int64_t MemoryChangeLog::endOffset() const {
  std::lock_guard lock(mu_);
  return first_ + static_cast<int64_t>(records_.size());
}

Result<int64_t> MemoryChangeLog::offsetForTime(int64_t ms) const {
  std::lock_guard lock(mu_);
  auto it =
      std::lower_bound(records_.begin(), records_.end(), ms,
                       [](const sink::LogRecord& r, int64_t t) { return r.timestamp_ms < t; });
  return first_ + static_cast<int64_t>(it - records_.begin());
}

Result<std::vector<sink::LogRecord>> MemoryChangeLog::read(int64_t from, size_t max_bytes) const {
  std::lock_guard lock(mu_);
  const int64_t end = first_ + static_cast<int64_t>(records_.size());
  if (from < first_ || from > end) {
    return Status::InvalidArgument("offset " + std::to_string(from) + " is outside the log " +
                                   std::to_string(first_) + ".." + std::to_string(end));
  }
  std::vector<sink::LogRecord> out;
  size_t bytes = 0;
  for (int64_t o = from; o < end; ++o) {
    const sink::LogRecord& r = records_[static_cast<size_t>(o - first_)];
    const size_t size = r.key.size() + r.value.size();
    if (!out.empty() && bytes + size > max_bytes) break;
    bytes += size;
    out.push_back(r);
  }
  return out;
}

int64_t MemoryChangeLog::waitBeyond(int64_t offset, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout,
               [&] { return first_ + static_cast<int64_t>(records_.size()) > offset; });
  return first_ + static_cast<int64_t>(records_.size());
}

KafkaListenerOptions listenerOptionsForTests(std::shared_ptr<MemoryChangeLog> log,
                                             const std::string& topic, const std::string& token,
                                             const std::string& offsets_db) {
  KafkaListenerOptions o;
  o.listen = "127.0.0.1:0";
  o.token = token;
  o.offsets_db = offsets_db;
  o.lookup = [log, topic](const std::string& t) -> std::shared_ptr<const sink::ChangeLogReader> {
    return t == topic ? log : nullptr;
  };
  o.topics = [topic] { return std::vector<std::string>{topic}; };
  return o;
}

}  // namespace dts::server
