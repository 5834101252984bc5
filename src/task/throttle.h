// Throttle: keeps a stream of rows under max_rps rows/s and max_mbps MB/s, shared by every
// worker of a phase. Pacing is by totals since start (no burst beyond one batch). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "common/clock.h"
#include "task/task_config.h"

namespace dts::task {

class Throttle {
 public:
  Throttle(RateLimits limits, Clock* clock)
      : limits_(limits), clock_(clock), start_(clock->now()) {}

  // Accounts rows/bytes about to be sent and blocks until the limits allow them. Returns early
  // (false) when stop becomes true while waiting.
  bool acquire(uint64_t rows, uint64_t bytes, const std::atomic<bool>& stop);

  // How long the caller must wait after sending `rows`/`bytes` more (exposed for tests).
  std::chrono::nanoseconds delayFor(uint64_t rows, uint64_t bytes);

 private:
  RateLimits limits_;
  Clock* clock_;
  Clock::TimePoint start_;
  std::mutex mu_;
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace dts::task
