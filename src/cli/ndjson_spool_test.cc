#include "cli/ndjson_spool.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace dts::cli {
namespace {

using pipeline::ChangeEvent;
using pipeline::Transaction;

std::shared_ptr<mysql::TableInfo> table() {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = "big";
  t->table = "t";
  t->columns.resize(2);
  t->columns[0].name = "id";
  t->columns[1].name = "pad";
  t->columns[1].collation = 45;
  return t;
}

// One transaction of `rows` inserts cut into pieces of `per_piece` rows; the commit time is set
// on the last piece only, as the reader does.
std::vector<Transaction> pieces(const std::string& gtid, int rows, int per_piece, uint32_t ts) {
  auto info = table();
  std::vector<Transaction> out;
  for (int i = 0; i < rows; ++i) {
    if (i % per_piece == 0) {
      out.emplace_back();
      out.back().gtid = gtid;
      out.back().first_piece = i == 0;
      out.back().last_piece = false;
    }
    ChangeEvent ev;
    ev.op = ChangeEvent::Op::kInsert;
    ev.database = "big";
    ev.table = "t";
    ev.table_info = info;
    ev.position = {"binlog.000001", static_cast<uint64_t>(1000 + i)};
    ev.after.values = {mysql::Value::ofInt(i),
                       mysql::Value::ofText(mysql::Value::Kind::kString,
                                            std::string(100, static_cast<char>('a' + i % 26)))};
    out.back().events.push_back(std::move(ev));
  }
  out.back().last_piece = true;
  out.back().timestamp = ts;
  return out;
}

// What NdjsonWriter prints for the same transaction given whole.
std::vector<std::string> expected(const std::vector<Transaction>& parts, uint32_t ts) {
  Transaction whole;
  whole.gtid = parts.front().gtid;
  whole.timestamp = ts;
  std::vector<std::string> lines;
  for (const auto& p : parts) {
    for (const auto& ev : p.events) {
      std::string line;
      EXPECT_TRUE(pipeline::NdjsonWriter().append(ev, whole, &line).ok());
      lines.push_back(line);
    }
  }
  return lines;
}

class NdjsonSpoolTest : public ::testing::TestWithParam<size_t> {};

TEST_P(NdjsonSpoolTest, ALargeTransactionComesOutAsIfWholeWithBoundedMemory) {
  const size_t limit = GetParam();
  NdjsonSpool spool{pipeline::NdjsonWriter(), limit};
  std::vector<std::string> got;
  auto emit = [&](std::string_view line) {
    got.emplace_back(line);
    return true;
  };
  // Two large transactions (the spill file is reused) around a small whole one.
  auto first = pieces("0-1-7", 5000, 300, 1700000001);
  auto small = pieces("0-1-8", 3, 10, 1700000002);
  auto second = pieces("0-1-9", 2000, 7, 1700000003);
  std::vector<std::string> want;
  for (const auto* txn : {&first, &small, &second}) {
    const uint32_t ts = txn->back().timestamp;
    for (const auto& p : expected(*txn, ts)) want.push_back(p);
    for (size_t i = 0; i < txn->size(); ++i) {
      mysql::BinlogPosition at;
      auto r = spool.add((*txn)[i], emit, &at);
      ASSERT_TRUE(r.ok()) << r.status().toString();
      EXPECT_TRUE(*r);
      if (i + 1 < txn->size()) {
        EXPECT_GT(spool.pendingLines(), 0u);
        EXPECT_LE(spool.memoryBytes(), 2 * limit + 4096) << "piece " << i;
      }
    }
    EXPECT_EQ(spool.pendingLines(), 0u);
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "line " << i;
}

// 4 KiB spills the large transactions to the temporary file; 64 MiB keeps them in memory.
INSTANTIATE_TEST_SUITE_P(MemoryLimits, NdjsonSpoolTest, ::testing::Values(4096, 64u << 20));

TEST(NdjsonSpoolLimitTest, AnEmitThatStopsEndsTheTransactionEarly) {
  NdjsonSpool spool{pipeline::NdjsonWriter(), 1024};
  auto txn = pieces("0-1-3", 100, 10, 1700000000);
  int seen = 0;
  auto emit = [&](std::string_view) { return ++seen < 42; };
  bool go_on = true;
  for (const auto& p : txn) {
    mysql::BinlogPosition at;
    auto r = spool.add(p, emit, &at);
    ASSERT_TRUE(r.ok());
    go_on = *r;
  }
  EXPECT_FALSE(go_on);
  EXPECT_EQ(seen, 42);
}

TEST(NdjsonSpoolLimitTest, AnUnnamedTableIsAnErrorAtItsEvent) {
  NdjsonSpool spool{pipeline::NdjsonWriter(), 1024};
  auto txn = pieces("0-1-3", 20, 10, 1700000000);
  auto anonymous = std::make_shared<mysql::TableInfo>(*txn[1].events[4].table_info);
  anonymous->columns[1].name.clear();
  txn[1].events[4].table_info = anonymous;
  mysql::BinlogPosition at;
  auto emit = [](std::string_view) { return true; };
  ASSERT_TRUE(spool.add(txn[0], emit, &at).ok());
  auto r = spool.add(txn[1], emit, &at);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(at.offset, 1014u);
}

}  // namespace
}  // namespace dts::cli
