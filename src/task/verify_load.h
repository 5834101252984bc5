// LoadBackoff: how verification yields to the source's own work. Two signals, each optional:
//   Threads_running   sampled at the source before each chunk; above max_threads_running the
//                     chunk waits (pauses of 250 ms doubling up to 8 s, sampled again after each)
//                     and the next chunks are smaller;
//   checksum latency  the source's seconds per row of each chunk against the fastest rate seen
//                     (the baseline, which drifts up 1% a chunk so that a rate measured once on
//                     an idle server does not stay the reference for ever): a chunk more than
//                     max_slowdown times slower than the baseline means the server is busy, so
//                     verification gives back the time the slowdown cost before the next chunk
//                     (at most 10 s) and halves the next chunk.
// Pure decisions over the signals it is given (the caller samples and sleeps), so a test drives
// it with any load history. Not thread-safe: one per table walk.
#pragma once

#include <chrono>
#include <cstdint>

namespace dts::task {

struct LoadLimits {
  uint64_t max_threads_running = 0;  // 0: Threads_running is not sampled
  double max_slowdown = 0;           // 0: chunk latency is not watched; else > 1
  bool any() const { return max_threads_running > 0 || max_slowdown > 0; }
};

class LoadBackoff {
 public:
  struct Decision {
    std::chrono::milliseconds pause{0};  // wait this long before the next chunk
    bool shrink = false;                 // and make it smaller
  };

  explicit LoadBackoff(LoadLimits limits) : limits_(limits) {}

  // A Threads_running sample taken before the next chunk. While it keeps exceeding the limit,
  // each call asks for a longer pause (the caller samples again after it); a sample under the
  // limit resets the back-off and asks for nothing.
  Decision onThreadsRunning(uint64_t threads_running);

  // The source side of a finished chunk: its rows and seconds.
  Decision afterChunk(uint64_t rows, double seconds);

  double baselineSecondsPerRow() const { return baseline_; }

 private:
  LoadLimits limits_;
  int over_ = 0;         // consecutive samples above max_threads_running
  double baseline_ = 0;  // seconds per row; 0 until the first chunk with rows
};

}  // namespace dts::task
