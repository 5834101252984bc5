#include "sink/dependency_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>

#include "mysql/table_info.h"

namespace dts::sink {
namespace {

// Assigns transactions 1..n, each with its own key seq * 100; returns the workers they went to.
std::vector<int> assignIndependent(DependencyTracker& t, uint64_t n) {
  std::vector<int> got;
  for (uint64_t seq = 1; seq <= n; ++seq) {
    auto w = t.chooseWorker({seq * 100});
    EXPECT_TRUE(w.has_value()) << "an independent transaction has to wait";
    if (!w.has_value()) break;
    t.assign(*w, seq, {seq * 100});
    got.push_back(*w);
  }
  return got;
}

TEST(DependencyTrackerTest, IndependentTransactionsSpreadOverWorkers) {
  DependencyTracker t(3);
  std::vector<int> got = assignIndependent(t, 3);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}

TEST(DependencyTrackerTest, StickyWorkersTakeRunsOfIndependentTransactions) {
  DependencyTracker t(2, 3);
  std::vector<int> got = assignIndependent(t, 7);
  // Three to the first worker, three to the other, then the less loaded (tie: round robin).
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(got[1], got[2]);
  EXPECT_NE(got[2], got[3]);
  EXPECT_EQ(got[3], got[4]);
  EXPECT_EQ(got[4], got[5]);
  EXPECT_EQ(t.pending(0) + t.pending(1), 7u);
  // A conflict still goes behind its owner whatever the run.
  EXPECT_EQ(t.chooseWorker({100}), got[0]);
  EXPECT_EQ(t.chooseWorker({400}), got[3]);
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
  (deleted ? ev.before : ev.after)
      .values.push_back(mysql::Value::ofText(mysql::Value::Kind::kString, key));
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
  EXPECT_EQ(t.chooseWorker({9, 8}), 2);
  t.assign(2, 2, {9, 8});
  // Releasing the first transaction keeps key 8 owned by the second.
  t.release(2, 1, {7, 8});
  EXPECT_EQ(t.chooseWorker({8}), 2);
  EXPECT_NE(t.chooseWorker({7}), std::nullopt);
  t.release(2, 2, {9, 8});
  EXPECT_EQ(t.trackedKeys(), 0u);
  EXPECT_EQ(t.pending(2), 0u);
}

TEST(DependencyTrackerTest, ConflictWithTwoWorkersMustWait) {
  DependencyTracker t(2);
  t.assign(0, 1, {1});
  t.assign(1, 2, {2});
  EXPECT_EQ(t.chooseWorker({1, 2}), std::nullopt);
  t.release(0, 1, {1});
  EXPECT_EQ(t.chooseWorker({1, 2}), 1);
}

TEST(DependencyTrackerTest, LeastLoadedWorkerWins) {
  DependencyTracker t(2);
  t.assign(0, 1, {1});
  t.assign(0, 2, {2});
  EXPECT_EQ(t.chooseWorker({3}), 1);
}

// A model check: random transactions over a few keys, random commit order among workers'
// queue heads; every key's transactions must commit in stream order.
TEST(DependencyTrackerTest, RandomScheduleKeepsPerKeyOrder) {
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    const int workers = 1 + static_cast<int>(rng() % 4);
    DependencyTracker t(workers);
    std::vector<std::deque<std::pair<uint64_t, std::vector<uint64_t>>>> queues(workers);
    std::map<uint64_t, uint64_t> last_committed;  // key -> seq
    uint64_t seq = 0;
    int produced = 0;
    auto commitOne = [&]() {
      std::vector<int> busy;
      for (int w = 0; w < workers; ++w) {
        if (!queues[w].empty()) busy.push_back(w);
      }
      if (busy.empty()) return false;
      int w = busy[rng() % busy.size()];
      auto [s, keys] = queues[w].front();
      queues[w].pop_front();
      for (uint64_t k : keys) {
        EXPECT_LT(last_committed[k], s) << "key " << k << " reordered";
        last_committed[k] = s;
      }
      t.release(w, s, keys);
      return true;
    };
    while (produced < 500) {
      std::vector<uint64_t> keys;
      int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) keys.push_back(rng() % 12);
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      std::optional<int> w;
      while (!(w = t.chooseWorker(keys)).has_value()) ASSERT_TRUE(commitOne());
      t.assign(*w, ++seq, keys);
      queues[*w].emplace_back(seq, keys);
      ++produced;
      if (rng() % 3 == 0) commitOne();
    }
    while (commitOne()) {
    }
    EXPECT_EQ(t.trackedKeys(), 0u);
  }
}

}  // namespace
}  // namespace dts::sink
