#include "task/verify_load.h"

#include <gtest/gtest.h>

namespace dts::task {
namespace {

using std::chrono::milliseconds;

TEST(LoadBackoffTest, ThreadsRunningAboveTheLimitPausesLongerEachTimeUntilItFalls) {
  LoadBackoff b(LoadLimits{8, 0});
  EXPECT_EQ(b.onThreadsRunning(3).pause, milliseconds(0));
  EXPECT_FALSE(b.onThreadsRunning(8).shrink);  // at the limit is not above it
  auto d = b.onThreadsRunning(20);
  EXPECT_EQ(d.pause, milliseconds(250));
  EXPECT_TRUE(d.shrink);
  EXPECT_EQ(b.onThreadsRunning(20).pause, milliseconds(500));
  EXPECT_EQ(b.onThreadsRunning(20).pause, milliseconds(1000));
  for (int i = 0; i < 10; ++i) (void)b.onThreadsRunning(50);
  EXPECT_EQ(b.onThreadsRunning(50).pause, milliseconds(8000));  // capped
  // The load falls: no pause, and the next rise starts from the first step again.
  EXPECT_EQ(b.onThreadsRunning(2).pause, milliseconds(0));
  EXPECT_EQ(b.onThreadsRunning(9).pause, milliseconds(250));
}

TEST(LoadBackoffTest, NoLimitsNeverPause) {
  LoadBackoff b(LoadLimits{});
  EXPECT_FALSE(LoadLimits{}.any());
  EXPECT_EQ(b.onThreadsRunning(1000).pause, milliseconds(0));
  EXPECT_EQ(b.afterChunk(10000, 0.1).pause, milliseconds(0));
  EXPECT_EQ(b.afterChunk(10000, 100).pause, milliseconds(0));
}

TEST(LoadBackoffTest, AChunkMuchSlowerThanTheBaselineGivesBackTheTimeItLost) {
  LoadBackoff b(LoadLimits{0, 3});
  EXPECT_EQ(b.afterChunk(10000, 0.5).pause, milliseconds(0));  // the first sets the baseline
  EXPECT_DOUBLE_EQ(b.baselineSecondsPerRow(), 0.5 / 10000);
  // Twice as slow: under the limit, no pause.
  auto d = b.afterChunk(10000, 1.0);
  EXPECT_EQ(d.pause, milliseconds(0));
  EXPECT_FALSE(d.shrink);
  // Six times as slow: pause for the time lost beyond the (drifted) baseline, and shrink.
  d = b.afterChunk(10000, 3.0);
  EXPECT_TRUE(d.shrink);
  double base = b.baselineSecondsPerRow();
  EXPECT_EQ(d.pause.count(), static_cast<int64_t>((3.0 - base * 10000) * 1000));
  EXPECT_GT(d.pause, milliseconds(2400));
  // A slow chunk does not move the baseline up; a faster one moves it down.
  (void)b.afterChunk(1000, 0.02);
  EXPECT_DOUBLE_EQ(b.baselineSecondsPerRow(), 0.02 / 1000);
  // The pause is capped at 10 s whatever the chunk took.
  EXPECT_EQ(b.afterChunk(1000, 600).pause, milliseconds(10000));
}

TEST(LoadBackoffTest, TheBaselineDriftsUpSoAnOldFastChunkDoesNotStayTheReference) {
  LoadBackoff b(LoadLimits{0, 3});
  (void)b.afterChunk(10000, 0.1);  // one lucky fast chunk
  // The server is steadily a bit slower: 2.9x the first rate never pauses, and after enough
  // chunks the baseline has caught up, so 4x the first rate no longer pauses either.
  for (int i = 0; i < 200; ++i) EXPECT_EQ(b.afterChunk(10000, 0.29).pause, milliseconds(0)) << i;
  EXPECT_EQ(b.afterChunk(10000, 0.4).pause, milliseconds(0));
}

TEST(LoadBackoffTest, TinyChunksAreNotALoadSignal) {
  LoadBackoff b(LoadLimits{0, 2});
  (void)b.afterChunk(10000, 0.1);
  EXPECT_EQ(b.afterChunk(10, 5).pause, milliseconds(0));
}

}  // namespace
}  // namespace dts::task
