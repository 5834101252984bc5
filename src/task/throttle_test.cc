#include "task/throttle.h"

#include <gtest/gtest.h>

namespace dts::task {
namespace {

TEST(ThrottleTest, PacesRowsAndBytesByTotals) {
  FakeClock clock;
  Throttle t(RateLimits{100, 1.0}, &clock);
  // 50 rows at 100 rows/s: due at 0.5 s.
  EXPECT_EQ(t.delayFor(50, 0), std::chrono::milliseconds(500));
  clock.advance(std::chrono::milliseconds(500));
  // 2 MB at 1 MB/s: due at 2 s (bytes dominate).
  EXPECT_EQ(t.delayFor(0, 2000000), std::chrono::milliseconds(1500));
  std::atomic<bool> stop{false};
  auto before = clock.now();
  EXPECT_TRUE(t.acquire(0, 0, stop));
  EXPECT_EQ(clock.now() - before, std::chrono::milliseconds(1500));
}

TEST(ThrottleTest, UnlimitedNeverWaitsAndStopInterrupts) {
  FakeClock clock;
  Throttle none(RateLimits{}, &clock);
  EXPECT_EQ(none.delayFor(1000000, 1000000000), std::chrono::nanoseconds(0));
  Throttle slow(RateLimits{1, 0}, &clock);
  std::atomic<bool> stop{true};
  EXPECT_FALSE(slow.acquire(100, 0, stop));
}

}  // namespace
}  // namespace dts::task
