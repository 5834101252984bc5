#include "task/verify_load.h"

#include <algorithm>

namespace dts::task {

namespace {
constexpr std::chrono::milliseconds kFirstPause{250};
constexpr std::chrono::milliseconds kMaxThreadsPause{8000};
constexpr double kMaxSlowdownPauseSeconds = 10;
constexpr double kBaselineDrift = 1.01;  // per chunk
// Chunks this small say more about per-query overhead than about the server's load.
constexpr uint64_t kMinRowsForLatency = 100;
}  // namespace

LoadBackoff::Decision LoadBackoff::onThreadsRunning(uint64_t threads_running) {
  Decision d;
  if (limits_.max_threads_running == 0 || threads_running <= limits_.max_threads_running) {
    over_ = 0;
    return d;
  }
  std::chrono::milliseconds pause = kFirstPause * (int64_t{1} << std::min(over_, 5));
  ++over_;
  d.pause = std::min(pause, kMaxThreadsPause);
  d.shrink = true;
  return d;
}

LoadBackoff::Decision LoadBackoff::afterChunk(uint64_t rows, double seconds) {
  Decision d;
  if (limits_.max_slowdown <= 0 || rows < kMinRowsForLatency || seconds <= 0) return d;
  double per_row = seconds / static_cast<double>(rows);
  if (baseline_ <= 0) {
    baseline_ = per_row;
    return d;
  }
  baseline_ *= kBaselineDrift;
  double slowdown = per_row / baseline_;
  if (slowdown > limits_.max_slowdown) {
    // The time the chunk took beyond what it takes on an idle server.
    double lost = seconds - baseline_ * static_cast<double>(rows);
    d.pause = std::chrono::milliseconds(
        static_cast<int64_t>(std::min(lost, kMaxSlowdownPauseSeconds) * 1000));
    d.shrink = true;
    return d;
  }
  baseline_ = std::min(baseline_, per_row);
  return d;
}

}  // namespace dts::task
