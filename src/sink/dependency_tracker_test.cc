#include "sink/dependency_tracker.h"

#include "mysql/table_info.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>

namespace dts::sink {
namespace {

TEST(DependencyTrackerTest, IndependentTransactionsSpreadOverWorkers) {
  DependencyTracker t(3);
  std::vector<int> got;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    Placement p = t.place({seq * 100});
    EXPECT_TRUE(p.after.empty());
    t.assign(p.worker, seq, {seq * 100});
    got.push_back(p.worker);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}

TEST(DependencyTrackerTest, StickyWorkersTakeRunsOfIndependentTransactions) {
  DependencyTracker t(2, 3);
  std::vector<int> got;
  for (uint64_t seq = 1; seq <= 7; ++seq) {
    Placement p = t.place({seq * 100});
    EXPECT_TRUE(p.after.empty());
    t.assign(p.worker, seq, {seq * 100});
    got.push_back(p.worker);
  }
  // Three to the first worker, three to the other, then the less loaded (tie: round robin).
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(got[1], got[2]);
  EXPECT_NE(got[2], got[3]);
  EXPECT_EQ(got[3], got[4]);
  EXPECT_EQ(got[4], got[5]);
  EXPECT_EQ(t.pending(0) + t.pending(1), 7u);
  // A conflict still goes behind its owner whatever the run.
  EXPECT_EQ(t.place({100}).worker, got[0]);
  EXPECT_EQ(t.place({400}).worker, got[3]);
}

// One-column-key row change; the key's column has the given collation.
std::vector<uint64_t> keyHashesOf(uint16_t collation, const std::string& key, bool deleted) {
  auto info = std::make_shared<mysql::TableInfo>();
  info->database = "d";
  info->table = "t";
  mysql::ColumnInfo c;
  c.name = "k";
  c.type = mysql::ColumnType::kVarchar;
  c.collation = collation;
  info->columns.push_back(c);
  pipeline::ChangeEvent ev;
  ev.op = deleted ? pipeline::ChangeEvent::Op::kDelete : pipeline::ChangeEvent::Op::kInsert;
  ev.database = "d";
  ev.table = "t";
  ev.table_info = info;
  (deleted ? ev.before : ev.after).values.push_back(mysql::Value::ofText(mysql::Value::Kind::kString, key));
  TableKeys keys;
  keys.identity = {0};
  keys.unique = {{0}};
  std::vector<uint64_t> out;
  addKeyHashes(ev, keys, &out);
  return out;
}

TEST(DependencyTrackerTest, KeysTheDestinationHoldsEqualConflict) {
  constexpr uint16_t kGeneralCi = 45, kUnicodeCi = 224, kBin = 46, kNopadBin = 1070, kBinary = 63;
  // A deleted 'e' and an inserted 'É' (or 'ß' / 'ss') are one key under a case/accent-insensitive
  // collation: applied out of order the insert would replace the old row and the delete remove it.
  EXPECT_EQ(keyHashesOf(kGeneralCi, "e", true), keyHashesOf(kGeneralCi, "\xc3\x89", false));
  EXPECT_EQ(keyHashesOf(kUnicodeCi, "ss", true), keyHashesOf(kUnicodeCi, "\xc3\x9f", false));
  // PAD SPACE *_bin: trailing spaces do not count; NO PAD and binary: every byte counts.
  EXPECT_EQ(keyHashesOf(kBin, "a", true), keyHashesOf(kBin, "a  ", false));
  EXPECT_NE(keyHashesOf(kBin, "a", true), keyHashesOf(kBin, "A", false));
  EXPECT_NE(keyHashesOf(kNopadBin, "a", true), keyHashesOf(kNopadBin, "a ", false));
  EXPECT_NE(keyHashesOf(kBinary, "a", true), keyHashesOf(kBinary, "a ", false));
  // Unknown collation: treated as insensitive.
  EXPECT_EQ(keyHashesOf(0, "x", true), keyHashesOf(0, "y", false));
}

TEST(DependencyTrackerTest, ConflictGoesBehindTheOwner) {
  DependencyTracker t(4);
  t.assign(2, 1, {7, 8});
  Placement p = t.place({9, 8});
  EXPECT_EQ(p.worker, 2);
  EXPECT_TRUE(p.after.empty());  // its own queue keeps the order
  t.assign(2, 2, {9, 8});
  // Releasing the first transaction keeps key 8 owned by the second.
  t.release(2, 1, {7, 8});
  EXPECT_EQ(t.place({8}).worker, 2);
  EXPECT_TRUE(t.place({7}).after.empty());
  t.release(2, 2, {9, 8});
  EXPECT_EQ(t.trackedKeys(), 0u);
  EXPECT_EQ(t.pending(2), 0u);
}

TEST(DependencyTrackerTest, ConflictWithSeveralWorkersWaitsForTheOthersCommits) {
  DependencyTracker t(3);
  t.assign(0, 1, {1});
  t.assign(1, 2, {2});
  t.assign(0, 3, {3});
  t.assign(2, 4, {4});
  // Behind the latest conflicting transaction (seq 4 on worker 2), after worker 0's seq 3 and
  // worker 1's seq 2 have committed.
  Placement p = t.place({1, 2, 3, 4});
  EXPECT_EQ(p.worker, 2);
  std::sort(p.after.begin(), p.after.end());
  EXPECT_EQ(p.after, (std::vector<std::pair<int, uint64_t>>{{0, 3}, {1, 2}}));
  t.release(0, 1, {1});
  t.release(0, 3, {3});
  p = t.place({1, 2, 3, 4});
  EXPECT_EQ(p.worker, 2);
  EXPECT_EQ(p.after, (std::vector<std::pair<int, uint64_t>>{{1, 2}}));
}

TEST(DependencyTrackerTest, LeastLoadedWorkerWins) {
  DependencyTracker t(2);
  t.assign(0, 1, {1});
  t.assign(0, 2, {2});
  EXPECT_EQ(t.place({3}).worker, 1);
}

// A model check of the applier's scheduling: random transactions over a few keys; workers commit,
// in random order, any queued transaction their RunnableScan allows (so also out of queue order),
// and a worker counts as committed up to its oldest queued seq - 1. Every key's transactions must
// commit in stream order, and some worker must always be able to run something.
TEST(DependencyTrackerTest, RandomScheduleKeepsPerKeyOrderWithoutDeadlock) {
  std::mt19937 rng(42);
  int waited = 0;        // transactions that could not run when their worker looked
  int out_of_order = 0;  // transactions a worker ran before an older one of its own
  for (int round = 0; round < 40; ++round) {
    const int workers = 1 + static_cast<int>(rng() % 4);
    DependencyTracker t(workers);
    struct Queued {
      uint64_t seq;
      std::vector<uint64_t> keys;
      std::vector<std::pair<int, uint64_t>> after;
    };
    std::vector<std::deque<Queued>> queues(workers);
    std::vector<uint64_t> assigned(workers, 0), committed(workers, 0);
    std::map<uint64_t, uint64_t> last_committed;  // key -> seq
    uint64_t seq = 0;
    // One batch of a random worker, formed as the applier does: the first `limit` transactions
    // its scan allows, committed in queue order.
    auto commitOne = [&]() {
      std::vector<std::vector<size_t>> runnable(workers);  // queue indexes per worker
      std::vector<int> can;
      bool any = false;
      for (int w = 0; w < workers; ++w) {
        RunnableScan scan;
        any = any || !queues[w].empty();
        for (size_t i = 0; i < queues[w].size() && !scan.exhausted(); ++i) {
          bool ready = true;
          for (auto [ow, os] : queues[w][i].after) ready = ready && committed[ow] >= os;
          if (scan.mayRun(queues[w][i].keys, ready)) {
            runnable[w].push_back(i);
          } else {
            ++waited;
          }
        }
        if (!runnable[w].empty()) can.push_back(w);
      }
      if (!any) return false;
      EXPECT_FALSE(can.empty()) << "no worker can run anything: deadlock";
      if (can.empty()) return false;
      int w = can[rng() % can.size()];
      size_t limit = 1 + rng() % runnable[w].size();
      std::vector<size_t> take(runnable[w].begin(), runnable[w].begin() + static_cast<std::ptrdiff_t>(limit));
      for (size_t j = 0; j < take.size(); ++j) {
        const Queued& q = queues[w][take[j]];
        out_of_order += take[j] != j;
        for (uint64_t k : q.keys) {
          EXPECT_LT(last_committed[k], q.seq) << "key " << k << " reordered";
          last_committed[k] = q.seq;
        }
        t.release(w, q.seq, q.keys);
      }
      for (size_t j = take.size(); j-- > 0;) queues[w].erase(queues[w].begin() + static_cast<std::ptrdiff_t>(take[j]));
      committed[w] = queues[w].empty() ? assigned[w] : queues[w].front().seq - 1;
      return true;
    };
    for (int produced = 0; produced < 500; ++produced) {
      std::vector<uint64_t> keys;
      int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) keys.push_back(rng() % 40);
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      Placement p = t.place(keys);
      std::erase_if(p.after, [&](const auto& d) { return committed[d.first] >= d.second; });
      for (auto [ow, os] : p.after) EXPECT_NE(ow, p.worker);
      t.assign(p.worker, ++seq, keys);
      assigned[p.worker] = seq;
      queues[p.worker].push_back({seq, keys, p.after});
      if (rng() % 2 == 0) commitOne();
    }
    while (commitOne()) {
    }
    for (const auto& q : queues) EXPECT_TRUE(q.empty());
    EXPECT_EQ(t.trackedKeys(), 0u);
  }
  EXPECT_GT(waited, 100) << "the model hardly exercised cross-worker waits";
  EXPECT_GT(out_of_order, 100) << "the model hardly ran transactions out of queue order";
}

TEST(DependencyTrackerTest, RunnableScanSkipsOnlyWhatSharesAKeyWithTheLeftBehind) {
  RunnableScan scan;
  EXPECT_TRUE(scan.mayRun({1, 2}, true));
  EXPECT_FALSE(scan.mayRun({3}, false));   // waits for another worker: left behind, holds 3
  EXPECT_FALSE(scan.mayRun({3, 4}, true)); // shares 3: stays behind it, now holds 4 too
  EXPECT_FALSE(scan.mayRun({4}, true));
  EXPECT_TRUE(scan.mayRun({5}, true));
  EXPECT_TRUE(scan.mayRun({1}, true));     // 1 was taken, not left behind
}

}  // namespace
}  // namespace dts::sink
