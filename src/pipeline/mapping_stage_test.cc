#include "pipeline/mapping_stage.h"

#include <gtest/gtest.h>

#include "pipeline/mapping_for_tests.h"
#include "pipeline/row_filter.h"

namespace dts::pipeline {
namespace {

using mysql::Value;

std::shared_ptr<const Mapping> shopMapping() {
  return std::make_shared<const Mapping>(testing::shopMapping());
}

std::shared_ptr<const mysql::TableInfo> tableInfo(const std::string& db, const std::string& table) {
  return testing::ordersInfo(db, table);
}

ChangeEvent row(const std::shared_ptr<const mysql::TableInfo>& info, ChangeEvent::Op op, int64_t id,
                const char* status) {
  ChangeEvent e;
  e.op = op;
  e.database = info->database;
  e.table = info->table;
  e.table_info = info;
  mysql::RowImage image;
  image.values = {Value::ofInt(id), Value::ofText(Value::Kind::kDecimal, "1.00"),
                  Value::ofText(Value::Kind::kString, status)};
  image.present.assign(3, true);
  if (op != ChangeEvent::Op::kInsert) e.before = image;
  if (op != ChangeEvent::Op::kDelete) e.after = std::move(image);
  measureRow(&e);
  return e;
}

ChangeEvent ddl(const std::string& db, const std::string& sql) {
  ChangeEvent e;
  e.op = ChangeEvent::Op::kDdl;
  e.database = db;
  e.sql = sql;
  return e;
}

Transaction txn(int seq, std::vector<ChangeEvent> events) {
  Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.events = std::move(events);
  return t;
}

TEST(MappingStageTest, ResolvesEachTableDefinitionOnceAndNamesRowsForTheTarget) {
  MappingStage stage(shopMapping());
  auto orders = tableInfo("shop", "orders");
  auto logs = tableInfo("logs", "events");
  using Op = ChangeEvent::Op;
  Transaction first = txn(1, {row(orders, Op::kInsert, 1, "paid"), row(logs, Op::kInsert, 7, "x"),
                              row(orders, Op::kInsert, 2, "test"),  // outside the WHERE filter
                              row(orders, Op::kDelete, 3, "paid"),  // deletes are not moved
                              row(orders, Op::kInsert, 4, "sent")});
  const size_t logs_memory = first.events[1].memory_bytes;
  ASSERT_TRUE(stage.map(&first).ok());
  ASSERT_EQ(first.events.size(), 3u);
  const ChangeEvent& o = first.events[0];
  EXPECT_EQ(o.database, "shop_copy");
  EXPECT_EQ(o.table, "orders_v2");
  ASSERT_EQ(o.table_info->columns.size(), 2u);
  EXPECT_EQ(o.table_info->database, "shop_copy");
  EXPECT_EQ(o.table_info->columns[1].name, "status");
  ASSERT_EQ(o.after.values.size(), 2u);
  EXPECT_EQ(o.after.values[1].s, "paid");
  EXPECT_EQ(o.memory_bytes, rowImageBytes(o));  // measured again: the images were cut
  EXPECT_EQ(o.payload_bytes, 8u + 4u);
  const ChangeEvent& l = first.events[1];
  EXPECT_EQ(l.database, "logs");
  EXPECT_EQ(l.table, "events");
  EXPECT_EQ(l.after.values.size(), 3u);
  EXPECT_EQ(l.memory_bytes, logs_memory);  // the same images: the same sizes
  EXPECT_EQ(first.events[2].after.values[0], Value::ofInt(4));
  // Every row of one definition shares one target definition.
  EXPECT_EQ(first.events[2].table_info, o.table_info);
  EXPECT_EQ(stage.resolutions(), 2u);
  EXPECT_EQ(stage.cachedTables(), 2u);

  Transaction second = txn(2, {row(orders, Op::kUpdate, 5, "sent"), row(logs, Op::kInsert, 8, "")});
  ASSERT_TRUE(stage.map(&second).ok());
  ASSERT_EQ(second.events.size(), 2u);
  EXPECT_EQ(second.events[0].table, "orders_v2");
  EXPECT_EQ(stage.resolutions(), 2u);  // cached: no route looked up again

  // A new definition of a table (a TABLE_MAP after a change dts followed without DDL) is
  // resolved on its own.
  auto orders2 = tableInfo("shop", "orders");
  Transaction third = txn(3, {row(orders2, Op::kInsert, 6, "paid")});
  ASSERT_TRUE(stage.map(&third).ok());
  EXPECT_EQ(stage.resolutions(), 3u);
  EXPECT_EQ(stage.cachedTables(), 3u);
}

TEST(MappingStageTest, ADdlClearsTheCacheSoTablesAreResolvedAgain) {
  MappingStage stage(shopMapping());
  auto orders = tableInfo("shop", "orders");
  Transaction rows = txn(1, {row(orders, ChangeEvent::Op::kInsert, 1, "paid")});
  ASSERT_TRUE(stage.map(&rows).ok());
  EXPECT_EQ(stage.cachedTables(), 1u);
  Transaction alter = txn(2, {ddl("shop", "ALTER TABLE users ADD COLUMN x INT")});
  ASSERT_TRUE(stage.map(&alter).ok());
  EXPECT_EQ(stage.cachedTables(), 0u);
  Transaction more = txn(3, {row(orders, ChangeEvent::Op::kInsert, 2, "paid")});
  ASSERT_TRUE(stage.map(&more).ok());
  ASSERT_EQ(more.events.size(), 1u);
  EXPECT_EQ(more.events[0].table, "orders_v2");
  EXPECT_EQ(stage.resolutions(), 2u);
}

TEST(MappingStageTest, RewritesDdlForTheTargetAndDropsWhatTouchesNoMovedTable) {
  MappingStage stage(shopMapping());
  Transaction alter = txn(1, {ddl("shop", "ALTER TABLE users ADD COLUMN x INT")});
  ASSERT_TRUE(stage.map(&alter).ok());
  ASSERT_EQ(alter.events.size(), 1u);
  EXPECT_EQ(alter.events[0].sql, "ALTER TABLE `shop_copy`.`users` ADD COLUMN x INT");
  EXPECT_EQ(alter.events[0].database, "shop_copy");  // where unqualified names in it resolve
  // A qualified statement run from a database the task does not move still reaches the target.
  Transaction qualified = txn(2, {ddl("other", "ALTER TABLE `shop`.`users` DROP x")});
  ASSERT_TRUE(stage.map(&qualified).ok());
  ASSERT_EQ(qualified.events.size(), 1u);
  EXPECT_EQ(qualified.events[0].sql, "ALTER TABLE `shop_copy`.`users` DROP x");
  EXPECT_EQ(qualified.events[0].database, "");
  // Touching nothing the task moves: dropped, the transaction (its GTID) stays.
  Transaction other = txn(3, {ddl("other", "CREATE TABLE y (id INT)")});
  ASSERT_TRUE(stage.map(&other).ok());
  EXPECT_EQ(other.gtid, "0-1-3");
  EXPECT_TRUE(other.events.empty());
}

TEST(MappingStageTest, ADdlItCannotPlaceIsAnErrorNamingTheTransaction) {
  MappingStage stage(shopMapping());
  Transaction view = txn(9, {ddl("logs", "CREATE SEQUENCE s")});
  Status st = stage.map(&view);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.toString();
  EXPECT_NE(st.message().find("0-1-9"), std::string::npos) << st.toString();

  Transaction no_info = txn(10, {row(tableInfo("shop", "users"), ChangeEvent::Op::kInsert, 1, "")});
  no_info.events[0].table_info = nullptr;
  st = stage.map(&no_info);
  EXPECT_EQ(st.code(), Status::Code::kInternal) << st.toString();
  EXPECT_NE(st.message().find("0-1-10"), std::string::npos) << st.toString();
}

TEST(MappingStageTest, ATriggerIsDroppedAndReportedAViewMarkedAsHoldingNoRows) {
  MappingStage stage(shopMapping());
  Transaction t =
      txn(11, {ddl("logs", "CREATE TRIGGER g BEFORE INSERT ON x FOR EACH ROW SET @a = 1"),
               ddl("logs", "CREATE DEFINER=`root`@`%` VIEW v AS SELECT 1"),
               ddl("logs", "GRANT SELECT ON logs.* TO app")});
  ASSERT_TRUE(stage.map(&t).ok());
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.events[0].sql, "CREATE  VIEW v AS SELECT 1");
  EXPECT_TRUE(t.events[0].ddl_holds_no_rows);
  auto notes = stage.takeNotApplied();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].rfind("transaction 0-1-11: triggers are not created", 0), 0u) << notes[0];
  EXPECT_NE(notes[0].find("CREATE TRIGGER g"), std::string::npos);
  EXPECT_TRUE(stage.takeNotApplied().empty());
}

TEST(MappingStageTest, WithoutAMappingRowsPassUnchangedAndDdlIsQualified) {
  MappingStage stage(nullptr);
  auto t = tableInfo("d", "t");
  Transaction rows = txn(1, {row(t, ChangeEvent::Op::kInsert, 1, "a")});
  ASSERT_TRUE(stage.map(&rows).ok());
  ASSERT_EQ(rows.events.size(), 1u);
  EXPECT_EQ(rows.events[0].table_info, t);
  EXPECT_EQ(rows.events[0].after.values.size(), 3u);
  Transaction alter = txn(2, {ddl("d", "ALTER TABLE t ADD x INT")});
  ASSERT_TRUE(stage.map(&alter).ok());
  ASSERT_EQ(alter.events.size(), 1u);
  EXPECT_EQ(alter.events[0].sql, "ALTER TABLE `d`.`t` ADD x INT");
  EXPECT_EQ(alter.events[0].database, "d");
  EXPECT_EQ(stage.resolutions(), 0u);
}

TEST(MappingStageTest, RowsTheFilterCannotJudgeGoToTheSource) {
  // Answers as the source's utf8mb4_general_ci would: 'tést' = 'test'.
  testing::RecordingFilterEvaluator source;
  source.answer = [](const mysql::RowImage& row) { return row.values[2].s != "tést"; };
  MappingStage stage(shopMapping(), &source);
  auto orders = tableInfo("shop", "orders");
  using Op = ChangeEvent::Op;
  Transaction t = txn(1, {row(orders, Op::kInsert, 1, "TEST"),  // ASCII: judged locally (out)
                          row(orders, Op::kInsert, 2, "tést"),  // the server: out
                          row(orders, Op::kInsert, 3, "payé"),  // the server: in
                          row(orders, Op::kInsert, 4, "paid")});
  ASSERT_TRUE(stage.map(&t).ok());
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.events[0].after.values[0], Value::ofInt(3));
  EXPECT_EQ(t.events[1].after.values[0], Value::ofInt(4));
  ASSERT_EQ(source.asked.size(), 2u);
  // Both asked together (one statement at the source), not one by one.
  EXPECT_EQ(source.batches, std::vector<size_t>{2});
  EXPECT_EQ(
      source.asked[0],
      "(CAST(_utf8mb4 X'74C3A97374' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci) <> "
      "'test')");

  // An update leaving the selection by the server's judgement becomes a delete.
  ChangeEvent leave = row(orders, Op::kUpdate, 5, "paid");
  leave.after.values[2].s = "tést";
  Transaction u = txn(2, {std::move(leave)});
  ASSERT_TRUE(stage.map(&u).ok());
  ASSERT_EQ(u.events.size(), 1u);
  EXPECT_EQ(u.events[0].op, Op::kDelete);

  // The source lost: the error, retryable, naming the transaction; never a guess.
  source.error = Status::Unavailable("lost");
  Transaction lost = txn(3, {row(orders, Op::kInsert, 6, "tést")});
  Status st = stage.map(&lost);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("0-1-3"), std::string::npos) << st.toString();
  // No evaluator at all: an error too.
  MappingStage blind(shopMapping());
  Transaction again = txn(4, {row(orders, Op::kInsert, 7, "tést")});
  EXPECT_EQ(blind.map(&again).code(), Status::Code::kFailedPrecondition);
}

// The rows of a piece that only the source can judge are judged together, before and after images
// of updates included, and each answer lands on its own row.
TEST(MappingStageTest, RowsForTheSourceAreJudgedTogether) {
  testing::RecordingFilterEvaluator source;
  source.answer = [](const mysql::RowImage& row) { return row.values[2].s != "tést"; };
  MappingStage stage(shopMapping(), &source);
  auto orders = tableInfo("shop", "orders");
  using Op = ChangeEvent::Op;
  ChangeEvent leaves = row(orders, Op::kUpdate, 1, "payé");  // in -> out: a delete
  leaves.after.values[2].s = "tést";
  ChangeEvent enters = row(orders, Op::kUpdate, 2, "tést");  // out -> in: an insert
  enters.after.values[2].s = "déjà";
  enters.before.values[2].s = "tést";
  Transaction t = txn(1, {std::move(leaves), row(orders, Op::kInsert, 3, "tést"),
                          row(orders, Op::kInsert, 4, "paid"), std::move(enters),
                          row(orders, Op::kInsert, 5, "reçu")});
  ASSERT_TRUE(stage.map(&t).ok());
  EXPECT_EQ(source.batches, std::vector<size_t>{6});  // 2 + 1 + 2 + 1 rows, id 4 judged locally
  ASSERT_EQ(t.events.size(), 4u);
  EXPECT_EQ(t.events[0].op, Op::kDelete);
  EXPECT_EQ(t.events[0].before.values[0], Value::ofInt(1));
  EXPECT_EQ(t.events[1].after.values[0], Value::ofInt(4));
  EXPECT_EQ(t.events[2].op, Op::kInsert);
  EXPECT_EQ(t.events[2].after.values[0], Value::ofInt(2));
  EXPECT_EQ(t.events[3].after.values[0], Value::ofInt(5));
}

}  // namespace
}  // namespace dts::pipeline
