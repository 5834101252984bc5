#include "sink/row_prefetcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/change_event_for_tests.h"
#include "sink/fake_destination_for_tests.h"
#include "sink/sql_literal.h"

namespace dts::sink {
namespace {

using mysql::Value;
using pipeline::ChangeEvent;

// db.t (id INT, name VARCHAR latin1, v INT); `key` names the identity's columns.
std::shared_ptr<const mysql::TableInfo> table(const std::string& name) {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = "db";
  t->table = name;
  t->columns.resize(3);
  t->columns[0].name = "id";
  t->columns[1].name = "name";
  t->columns[1].type = mysql::ColumnType::kVarchar;
  t->columns[1].collation = 8;  // latin1
  t->columns[2].name = "v";
  return t;
}

mysql::RowImage image(int64_t id, std::string name, int64_t v) {
  return mysql::RowImage{
      {Value::ofInt(id), Value::ofText(Value::Kind::kString, std::move(name)), Value::ofInt(v)},
      {}};
}

ChangeEvent event(const std::shared_ptr<const mysql::TableInfo>& t, ChangeEvent::Op op,
                  std::optional<mysql::RowImage> before, std::optional<mysql::RowImage> after) {
  return pipeline::testing::rowChange(op, t, std::move(before), std::move(after));
}

std::shared_ptr<const TableKeys> keysOn(std::vector<size_t> identity) {
  auto k = std::make_shared<TableKeys>();
  k->identity = std::move(identity);
  k->unique = {k->identity};
  return k;
}

std::string literal(const Value& v, const mysql::ColumnInfo& c) {
  std::string out;
  EXPECT_TRUE(appendMatchLiteral(&out, v, c).ok());
  return out;
}

TEST(RowPrefetcherTest, ReadsTheKeyEachStatementLooksUpByTableRun) {
  auto t = table("t");
  auto c = table("c");
  auto bare = table("bare");
  auto by_id = keysOn({0});
  auto by_id_name = keysOn({0, 1});
  auto none = keysOn({});
  std::vector<ChangeEvent> evs;
  std::vector<std::shared_ptr<const TableKeys>> keys;
  auto add = [&](ChangeEvent e, std::shared_ptr<const TableKeys> k) {
    evs.push_back(std::move(e));
    keys.push_back(std::move(k));
  };
  add(event(t, ChangeEvent::Op::kInsert, std::nullopt, image(1, "a", 1)), by_id);
  add(event(t, ChangeEvent::Op::kUpdate, image(2, "b", 1), image(2, "b", 2)), by_id);
  add(event(t, ChangeEvent::Op::kUpdate, image(3, "c", 1), image(30, "c", 1)), by_id);  // key moves
  add(event(t, ChangeEvent::Op::kDelete, image(4, "d", 1), std::nullopt), by_id);
  add(event(bare, ChangeEvent::Op::kInsert, std::nullopt, image(5, "e", 1)), none);  // no key
  add(event(c, ChangeEvent::Op::kUpdate, image(6, "O'Brien\\", 1), image(6, "O'Brien\\", 2)),
      by_id_name);
  add(event(c, ChangeEvent::Op::kDelete, image(7, "g", 1), std::nullopt), by_id_name);
  ChangeEvent partial = event(t, ChangeEvent::Op::kDelete, image(8, "h", 1), std::nullopt);
  partial.before.present = {false, true, true};  // the image lacks the key: nothing to read
  add(partial, by_id);
  add(event(t, ChangeEvent::Op::kDelete, image(9, "i", 1), std::nullopt), by_id);  // a new run

  const std::string obrien =
      literal(Value::ofText(Value::Kind::kString, "O'Brien\\"), c->columns[1]);
  EXPECT_EQ(RowPrefetcher::readsFor(evs, keys),
            (std::vector<std::string>{
                "SELECT COUNT(*) FROM `db`.`t` WHERE (`id`) IN ((2),(3),(4))",
                "SELECT COUNT(*) FROM `db`.`c` WHERE (`id`,`name`) IN ((6," + obrien + "),(7," +
                    literal(Value::ofText(Value::Kind::kString, "g"), c->columns[1]) + "))",
                "SELECT COUNT(*) FROM `db`.`t` WHERE (`id`) IN ((9))",
            }));
}

TEST(RowPrefetcherTest, ReadsHoldAtMostAThousandKeys) {
  auto t = table("t");
  auto k = keysOn({0});
  std::vector<ChangeEvent> evs;
  std::vector<std::shared_ptr<const TableKeys>> keys;
  for (int i = 0; i < 2500; ++i) {
    evs.push_back(event(t, ChangeEvent::Op::kUpdate, image(i, "x", 0), image(i, "x", 1)));
    keys.push_back(k);
  }
  auto reads = RowPrefetcher::readsFor(evs, keys);
  ASSERT_EQ(reads.size(), 3u);
  auto count = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
  EXPECT_EQ(count(reads[0]), 1000);
  EXPECT_EQ(count(reads[1]), 1000);
  EXPECT_EQ(count(reads[2]), 500);
  EXPECT_NE(reads[2].find("IN ((2000),"), std::string::npos);
  EXPECT_NE(reads[2].find(",(2499))"), std::string::npos);
}

TEST(RowPrefetcherTest, RunsReadsInOrderUnderReadUncommittedAndDropsThoseOfStartedPieces) {
  auto dest = testing::FakeDestination::create();
  std::atomic<bool> reading{false}, release{false};
  dest->setHook([&](int, const std::string& sql) -> unsigned {
    if (sql.find("IN (1)") != std::string::npos) {
      reading = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return 0;
  });
  auto session = dest->factory()();
  ASSERT_TRUE(session.ok());
  {
    RowPrefetcher p(std::move(*session), mysql::ServerFlavor::kMariaDb, "t1");
    p.submit(1, {"SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (1)"});
    for (int wait = 0; wait < 500 && !reading; ++wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!reading) release = true;  // (the destructor below must not wait on the hook)
    ASSERT_TRUE(reading);          // piece 1's read runs
    p.submit(2, {"SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (2)",
                 "SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (22)"});
    p.submit(3, {"SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (3)"});
    p.started(2);  // piece 2 applies: its reads come too late
    release = true;
    for (int wait = 0; wait < 500 && p.stats().reads < 2; ++wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(p.stats().reads, 2u);
    EXPECT_EQ(p.stats().dropped, 2u);
    EXPECT_FALSE(p.stats().failed);
  }
  std::vector<std::string> reads;
  for (const auto& r : dest->reads()) reads.push_back(r.sql);
  EXPECT_EQ(reads, (std::vector<std::string>{"SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (1)",
                                             "SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (3)"}));
  EXPECT_TRUE(dest->committed().empty());
}

TEST(RowPrefetcherTest, AFailedReadEndsPrefetching) {
  auto dest = testing::FakeDestination::create();
  std::atomic<int> tried{0};
  std::vector<std::string> seen;
  std::mutex mu;
  dest->setHook([&](int, const std::string& sql) -> unsigned {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(sql);
    if (sql.rfind("SELECT COUNT(*)", 0) == 0 && tried++ == 0) return 1064;
    return 0;
  });
  auto session = dest->factory()();
  ASSERT_TRUE(session.ok());
  RowPrefetcher p(std::move(*session), mysql::ServerFlavor::kMariaDb, "t1");
  p.submit(1, {"SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (1)"});
  for (int wait = 0; wait < 500 && !p.stats().failed; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(p.stats().failed);
  p.submit(2, {"SELECT COUNT(*) FROM `db`.`t` WHERE `id` IN (2)"});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(tried.load(), 1);
  EXPECT_EQ(p.stats().reads, 0u);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0], "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
  EXPECT_EQ(seen[1], "SET SESSION max_statement_time=10");
}

}  // namespace
}  // namespace dts::sink
