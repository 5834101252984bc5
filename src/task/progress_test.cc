#include "task/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace dts::task {
namespace {

TEST(ProgressTest, IncrementalFrameListsTheBusiestTablesByChangesApplied) {
  Progress progress;
  for (int i = 0; i < 13; ++i) {
    auto* t = progress.addTable("shop", "t" + std::to_string(i), "copy", "t" + std::to_string(i));
    t->rows_done = 100;
    t->rows_estimated = 100;
    t->done = true;
    t->changes_applied = static_cast<uint64_t>(i * 10);  // t0: none
  }
  std::string frame = renderProgress("s", TaskPhase::kIncremental, progress.tables(), {}, 3, true);
  EXPECT_NE(frame.find("shop.t12"), std::string::npos) << frame;
  EXPECT_NE(frame.find("120 changes applied"), std::string::npos) << frame;
  EXPECT_LT(frame.find("shop.t12 "), frame.find("shop.t11 ")) << frame;  // busiest first
  EXPECT_NE(frame.find("shop.t3 "), std::string::npos) << frame;         // the tenth busiest
  EXPECT_EQ(frame.find("shop.t2 "), std::string::npos) << frame;         // beyond ten
  EXPECT_EQ(frame.find("shop.t0 "), std::string::npos) << frame;         // no changes
  EXPECT_NE(frame.find("2 more tables with changes"), std::string::npos) << frame;
  // Without a TTY: one line, as before.
  std::string plain = renderProgress("s", TaskPhase::kIncremental, progress.tables(), {}, 3, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), '\n'), 1) << plain;
  EXPECT_EQ(plain.find("transaction"), std::string::npos) << plain;
}

// A transaction applied in pieces commits with its last row: until then rows/s shows nothing,
// so its rows so far are shown beside it, on the line or in the frame.
TEST(ProgressTest, AnOpenTransactionShowsItsRowsSoFar) {
  Progress progress;
  progress.addTable("big", "t", "big", "t");
  for (bool tty : {false, true}) {
    for (uint64_t rows : {uint64_t{7}, uint64_t{420000}, uint64_t{1234567}}) {
      const OpenTransaction open{"0-1-4", rows};
      std::string text =
          renderProgress("s", TaskPhase::kIncremental, progress.tables(), {}, -1, tty, open);
      const std::string shown = rows == 7 ? "7" : rows == 420000 ? "420,000" : "1,234,567";
      EXPECT_NE(text.find("0 rows/s"), std::string::npos) << text;
      EXPECT_NE(text.find("\n  open transaction 0-1-4: " + shown +
                          " rows so far, none committed before its last row\n"),
                std::string::npos)
          << text;
    }
  }
}

// A table the source dropped or renamed away leaves the list for good, until its name is
// selected again (created anew).
TEST(ProgressTest, AForgottenTableLeavesTheListUntilReselected) {
  Progress progress;
  auto* kept = progress.addTable("d", "kept", "d", "kept");
  auto* gone = progress.addTable("d", "gone", "d", "gone");
  gone->changes_applied = 5;
  progress.forgetTable("d", "gone");
  ASSERT_EQ(progress.tables().size(), 1u);
  EXPECT_EQ(progress.tables()[0].source_table, "kept");
  EXPECT_EQ(progress.findTable("d", "gone"), nullptr);
  EXPECT_TRUE(progress.forgotten("d", "gone"));
  gone->changes_applied += 1;  // a pointer handed out earlier stays valid
  kept->changes_applied = 1;
  progress.reselected("d", "gone");
  EXPECT_FALSE(progress.forgotten("d", "gone"));
  progress.addTable("d", "gone", "d", "gone");  // created again: a fresh entry
  ASSERT_EQ(progress.tables().size(), 2u);
  EXPECT_EQ(progress.tables()[1].changes_applied, 0u);
}

// The latency is measured against the node read: while that node's own replication is stopped
// a 0 would read as healthy, so it is shown as unknown with the reason on its own line; while it
// runs, the node's own delay follows the latency; a primary (no replication) changes nothing.
TEST(ProgressTest, SourceNodeReplicationStoppedMakesTheLatencyUnknown) {
  Progress progress;
  progress.addTable("shop", "t", "shop", "t");
  source::ReplicationHealth stopped;
  stopped.state = source::ReplicationHealth::State::kStopped;
  stopped.node = "node-2";
  stopped.io_running = "No";
  stopped.sql_running = "No";
  for (bool tty : {false, true}) {
    std::string text = renderProgress("s", TaskPhase::kIncremental, progress.tables(), {}, 0, tty,
                                      {}, nullptr, stopped);
    EXPECT_EQ(text.find("latency 0 ms"), std::string::npos) << text;
    EXPECT_NE(text.find("latency unknown (source node replication stopped)"), std::string::npos)
        << text;
    EXPECT_NE(text.find("\n  replication of source node node-2 STOPPED"), std::string::npos)
        << text;
  }
  source::ReplicationHealth running;
  running.state = source::ReplicationHealth::State::kRunning;
  running.node = "node-2";
  running.seconds_behind = 12;
  std::string text = renderProgress("s", TaskPhase::kIncremental, progress.tables(), {}, 0, false,
                                    {}, nullptr, running);
  EXPECT_NE(text.find("latency 0 ms + node 12 s behind its primary"), std::string::npos) << text;
  source::ReplicationHealth primary;
  primary.state = source::ReplicationHealth::State::kNotReplica;
  text = renderProgress("s", TaskPhase::kIncremental, progress.tables(), {}, 0, false, {}, nullptr,
                        primary);
  EXPECT_NE(text.find("latency 0 ms\n"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST(ProgressTest, TablesAddedWhileAnotherThreadReadsThem) {
  Progress progress;
  std::thread adder([&] {
    for (int i = 0; i < 2000; ++i)
      progress.addTable("d", "t" + std::to_string(i), "d", "t" + std::to_string(i));
  });
  size_t seen = 0;
  while (seen < 2000) seen = progress.tables().size();
  adder.join();
  ASSERT_NE(progress.findTable("d", "t1999"), nullptr);
  EXPECT_EQ(progress.findTable("d", "t1999")->target_table, "t1999");
}

TEST(ProgressTest, DegradedCountsContinueFromTheSavedState) {
  Progress progress;
  std::map<std::string, uint64_t> saved = {{"load_data_refused", 3}, {"from_a_newer_dts", 9}};
  progress.restoreDegraded(saved);
  EXPECT_EQ(progress.degradedCount(Degraded::kLoadDataRefused), 3u);
  EXPECT_EQ(progress.degradedCount(Degraded::kStateSaveFailed), 0u);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) progress.countDegraded(Degraded::kStateSaveFailed);
    });
  }
  for (auto& t : threads) t.join();
  progress.countDegraded(Degraded::kLoadDataRefused);
  progress.storeDegraded(&saved);
  EXPECT_EQ(saved,
            (std::map<std::string, uint64_t>{
                {"load_data_refused", 4}, {"state_save_failed", 4000}, {"from_a_newer_dts", 9}}));
}

}  // namespace
}  // namespace dts::task
