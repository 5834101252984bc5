#include "common/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace dts {
namespace {

// Counts ticks and lets a test wait for the n-th one (no timing assumption: it waits as long as
// it takes).
struct Ticks {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
  bool tick() {
    std::lock_guard<std::mutex> lock(mu);
    ++count;
    cv.notify_all();
    return true;
  }
  void waitFor(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return count >= n; });
  }
  int now() {
    std::lock_guard<std::mutex> lock(mu);
    return count;
  }
};

TEST(PeriodicThreadTest, TicksAtStartThenEveryPeriodUntilStopped) {
  Ticks ticks;
  PeriodicThread thread(std::chrono::milliseconds(1), [&] { return ticks.tick(); });
  EXPECT_EQ(ticks.now(), 0) << "nothing runs before start()";
  thread.start();
  ticks.waitFor(3);
  thread.stop();
  const int at_stop = ticks.now();
  thread.stop();  // idempotent
  EXPECT_EQ(ticks.now(), at_stop) << "a tick after stop() returned";
}

// A period of an hour: stop() wakes the wait instead of sleeping it out (this test would hang).
TEST(PeriodicThreadTest, StopEndsTheWaitAtOnce) {
  Ticks ticks;
  PeriodicThread thread(std::chrono::hours(1), [&] { return ticks.tick(); });
  thread.start();
  ticks.waitFor(1);
  thread.stop();
  EXPECT_EQ(ticks.now(), 1);
}

// A tick that returns false ends the loop; start() does not begin another loop until stop().
TEST(PeriodicThreadTest, ATickReturningFalseEndsTheLoop) {
  std::atomic<int> calls{0};
  PeriodicThread thread(std::chrono::milliseconds(1), [&] {
    ++calls;
    return false;
  });
  thread.start();
  thread.stop();  // joins the thread, which ended after its one tick
  EXPECT_EQ(calls.load(), 1);
}

TEST(PeriodicThreadTest, StartsAgainAfterAStopAndOnlyOnce) {
  Ticks ticks;
  PeriodicThread thread(std::chrono::hours(1), [&] { return ticks.tick(); });
  thread.start();
  ticks.waitFor(1);
  thread.start();  // already running: no second thread, no second tick
  thread.stop();
  EXPECT_EQ(ticks.now(), 1);
  thread.start();
  ticks.waitFor(2);
  thread.stop();
  EXPECT_EQ(ticks.now(), 2);
}

// Destroying a running PeriodicThread stops it (the watches rely on it).
TEST(PeriodicThreadTest, DestructionStopsTheThread) {
  Ticks ticks;
  {
    PeriodicThread thread(std::chrono::hours(1), [&] { return ticks.tick(); });
    thread.start();
    ticks.waitFor(1);
  }
  EXPECT_EQ(ticks.now(), 1);
}

}  // namespace
}  // namespace dts
