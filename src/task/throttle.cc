#include "task/throttle.h"

#include <algorithm>

namespace dts::task {

std::chrono::nanoseconds Throttle::delayFor(uint64_t rows, uint64_t bytes) {
  if (limits_.unlimited()) return std::chrono::nanoseconds(0);
  double need_s = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rows_ += rows;
    bytes_ += bytes;
    if (limits_.max_rps > 0)
      need_s = std::max(need_s, static_cast<double>(rows_) / limits_.max_rps);
    if (limits_.max_mbps > 0)
      need_s = std::max(need_s, static_cast<double>(bytes_) / (limits_.max_mbps * 1e6));
  }
  auto due =
      start_ + std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(need_s));
  auto now = clock_->now();
  if (due <= now) return std::chrono::nanoseconds(0);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(due - now);
}

bool Throttle::acquire(uint64_t rows, uint64_t bytes, const std::atomic<bool>& stop) {
  auto wait = delayFor(rows, bytes);
  while (wait > std::chrono::nanoseconds(0)) {
    if (stop.load()) return false;
    auto step = std::min<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(100));
    clock_->sleepFor(step);
    wait -= step;
  }
  return !stop.load();
}

}  // namespace dts::task
