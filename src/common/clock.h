// Clock: the seam through which every timeout, retry window and rate is measured, so tests can
// prove a 720-minute window without waiting 720 minutes.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

namespace dts {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::nanoseconds;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Blocks for d of this clock's time (a fake clock advances instead of blocking).
  virtual void sleepFor(Duration d) = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  void sleepFor(Duration d) override { std::this_thread::sleep_for(d); }
  static SystemClock* instance() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::hours(24 * 365 * 50)))
      : now_ns_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_ns_.load())); }
  void sleepFor(Duration d) override { advance(d); }
  void advance(Duration d) {
    now_ns_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
  }

 private:
  std::atomic<TimePoint::duration::rep> now_ns_;
};

}  // namespace dts
