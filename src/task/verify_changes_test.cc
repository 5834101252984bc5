#include "task/verify_changes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "task/verify_progress.h"

namespace dts::task {
namespace {

std::shared_ptr<const mysql::TableInfo> ordersInfo() {
  auto info = std::make_shared<mysql::TableInfo>();
  info->database = "shop";
  info->table = "orders";
  mysql::ColumnInfo note;
  note.name = "note";
  note.type = mysql::ColumnType::kVarchar;
  note.collation = 45;  // utf8mb4_general_ci
  mysql::ColumnInfo id;
  id.name = "id";
  id.type = mysql::ColumnType::kLong;
  info->columns = {note, id};  // the key is not the first column
  return info;
}

pipeline::ChangeEvent row(pipeline::ChangeEvent::Op op, const std::string& table,
                          std::optional<int> before, std::optional<int> after) {
  pipeline::ChangeEvent e;
  e.op = op;
  e.database = "shop";
  e.table = table;
  e.table_info = ordersInfo();
  auto image = [](int id) {
    mysql::RowImage r;
    r.values = {mysql::Value::ofText(mysql::Value::Kind::kString, "n"), mysql::Value::ofInt(id)};
    return r;
  };
  if (before) e.before = image(*before);
  if (after) e.after = image(*after);
  return e;
}

std::vector<CatalogTable> catalog() {
  CatalogTable orders;
  orders.route.source_database = "shop";
  orders.route.source_table = "orders";
  orders.chunk_key = {"id"};
  CatalogTable nokey;
  nokey.route.source_database = "shop";
  nokey.route.source_table = "log";
  return {orders, nokey};
}

using Op = pipeline::ChangeEvent::Op;

TEST(ChangedKeysTest, CollectsEachChangedKeyOnceAsTheApplierWritesIt) {
  ChangedKeys keys(catalog(), 100);
  pipeline::Transaction t;
  t.events = {row(Op::kInsert, "orders", std::nullopt, 1), row(Op::kUpdate, "orders", 1, 1),
              row(Op::kUpdate, "orders", 2, 3),  // the key changed: both are checked
              row(Op::kDelete, "orders", 4, std::nullopt),
              row(Op::kInsert, "log", std::nullopt, 9)};  // no chunk key: not collected
  keys.add(t);
  auto taken = keys.take();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].source_table, "shop.orders");
  std::vector<std::vector<std::string>> want = {{"1"}, {"2"}, {"3"}, {"4"}};
  EXPECT_EQ(taken[0].keys, want);
  EXPECT_EQ(keys.collected(), 4u);
  EXPECT_TRUE(keys.take().empty());  // taken once
}

TEST(ChangedKeysTest, HoldsAtMostMaxKeysAndCountsTheRest) {
  ChangedKeys keys(catalog(), 3);
  pipeline::Transaction t;
  for (int i = 0; i < 10; ++i) t.events.push_back(row(Op::kInsert, "orders", std::nullopt, i % 5));
  keys.add(t);
  EXPECT_EQ(keys.dropped(), 4u);  // keys 3 and 4, each time they came
  EXPECT_EQ(keys.take()[0].keys.size(), 3u);
  // The bound is per interval: after take() there is room again.
  keys.add(t);
  EXPECT_EQ(keys.take()[0].keys.size(), 3u);
}

TEST(VerifyProgressTest, RoundTripsTablesAndIgnoresAnotherTasksFile) {
  std::string dir = ::testing::TempDir() + "/verify_progress_test";
  std::filesystem::remove_all(dir);
  std::string path = dir + "/sub/t.json";
  auto p = VerifyProgress::open(path, "task a");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_TRUE((*p)->empty());
  VerifyProgress::Table t;
  t.result.source_table = "shop.orders";
  t.result.target_table = "copy.orders";
  t.result.chunks = 7;
  t.result.row_differences = 1;
  RowDifference d;
  d.kind = RowDifference::Kind::kChanged;
  d.key = {{"id", "7"}};
  d.columns = {{"note", "a", std::nullopt}};
  d.fix_sql = "REPLACE INTO `copy`.`orders` (`id`) VALUES (7);";
  t.result.rows.push_back(d);
  t.after = std::vector<std::string>{"1000"};
  ASSERT_TRUE((*p)->save(t).ok());
  VerifyProgress::Table done;
  done.result.source_table = "shop.items";
  done.done = true;
  ASSERT_TRUE((*p)->save(done).ok());

  auto again = VerifyProgress::open(path, "task a");
  ASSERT_TRUE(again.ok());
  auto orders = (*again)->find("shop.orders");
  ASSERT_TRUE(orders.has_value());
  EXPECT_FALSE(orders->done);
  EXPECT_EQ(orders->after, std::vector<std::string>{"1000"});
  EXPECT_EQ(orders->result.chunks, 7u);
  ASSERT_EQ(orders->result.rows.size(), 1u);
  EXPECT_EQ(orders->result.rows[0].kind, RowDifference::Kind::kChanged);
  EXPECT_EQ(orders->result.rows[0].columns[0].destination, std::nullopt);
  EXPECT_EQ(orders->result.rows[0].fix_sql, d.fix_sql);
  EXPECT_TRUE((*again)->find("shop.items")->done);

  auto other = VerifyProgress::open(path, "task b");  // another definition: starts over
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->empty());
  ASSERT_TRUE((*again)->remove().ok());
  EXPECT_FALSE(std::filesystem::exists(path));

  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/bad.json") << "{not json";
  auto bad = VerifyProgress::open(dir + "/bad.json", "task a");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--restart"), std::string::npos);
}

}  // namespace
}  // namespace dts::task
