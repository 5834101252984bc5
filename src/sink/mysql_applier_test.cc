#include "sink/mysql_applier.h"

#include <gtest/gtest.h>

namespace dts::sink {
namespace {

TEST(SourceCommitTest, TheReceiptRefinesTheWholeSecondStamp) {
  using std::chrono::milliseconds;
  auto at = [](int64_t ms) { return std::chrono::system_clock::time_point(milliseconds(ms)); };
  // Streaming live: received 250 ms into the stamped second; it committed no later than that.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, at(100250)), 100250.0);
  // A backlog read long after: the end of the stamped second is the latest it can have committed.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, at(160000)), 100999.0);
  // dts's clock behind the source's, or no receipt: the stamp.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, at(99500)), 100000.0);
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, {}), 100000.0);
  // The source recorded the commit in microseconds (MySQL): exact, whatever the receipt.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 100123456, at(160000)), 100123.456);
}

}  // namespace
}  // namespace dts::sink
