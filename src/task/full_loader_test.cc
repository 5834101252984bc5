#include "task/full_loader.h"

#include <gtest/gtest.h>

#include <optional>

namespace dts::task {
namespace {

TEST(FullLoaderTest, WorkersSpreadOverTablesEvenWhilePlanning) {
  // Three tables with no worker yet: the first queued chunk of one of them.
  std::vector<int> active = {1, 0, 0};
  EXPECT_EQ(pickChunk({0, 0, 1, 2}, active, false, true), std::optional<size_t>(2));
  // Only the first table's chunks are planned so far and one worker loads it: the next worker
  // waits for the planner (at the start, every worker used to take the first table).
  active = {1};
  EXPECT_EQ(pickChunk({0, 0, 0}, active, false, true), std::nullopt);
  // ... but not past its patience, nor once planning is done (no other table will come).
  EXPECT_EQ(pickChunk({0, 0, 0}, active, false, false), std::optional<size_t>(0));
  EXPECT_EQ(pickChunk({0, 0, 0}, active, true, true), std::optional<size_t>(0));
  // Every table busy and planning done: the table with the fewest writers.
  active = {2, 1, 3};
  EXPECT_EQ(pickChunk({0, 2, 1, 1}, active, true, true), std::optional<size_t>(2));
  EXPECT_EQ(pickChunk({}, active, true, true), std::nullopt);
}

TEST(FullLoaderTest, ChunksUnderARateLimitTakeAboutTenSecondsEach) {
  FullLoadOptions o;  // parallelism 4, 1000..100000 rows, 16 MiB
  EXPECT_EQ(throttledMaxChunkRows(o), 100000u);
  EXPECT_EQ(throttledChunkBytes(o), 16u << 20);
  o.limits.max_rps = 8000;  // 2000 rows/s per worker
  EXPECT_EQ(throttledMaxChunkRows(o), 20000u);
  o.limits.max_rps = 100;  // never under min_chunk_rows
  EXPECT_EQ(throttledMaxChunkRows(o), 1000u);
  o.limits.max_rps = 10000000;  // never over max_chunk_rows
  EXPECT_EQ(throttledMaxChunkRows(o), 100000u);
  o.limits.max_mbps = 2;  // 0.5 MB/s per worker
  EXPECT_EQ(throttledChunkBytes(o), 5000000u);
  o.limits.max_mbps = 1000;
  EXPECT_EQ(throttledChunkBytes(o), 16u << 20);
  o.parallelism = 1;
  o.limits.max_rps = 8000;
  EXPECT_EQ(throttledMaxChunkRows(o), 80000u);
}

}  // namespace
}  // namespace dts::task
