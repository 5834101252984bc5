#include "sink/batch_sql.h"

#include <gtest/gtest.h>

#include "sink/sql_literal.h"

namespace dts::sink {
namespace {

using mysql::Value;
using pipeline::ChangeEvent;

std::shared_ptr<const mysql::TableInfo> table() {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = "db";
  t->table = "t";
  t->columns.resize(2);
  t->columns[0].name = "id";
  t->columns[1].name = "v";
  t->primary_key = {0};
  return t;
}

mysql::RowImage row(int64_t id, int64_t v) {
  return mysql::RowImage{{Value::ofInt(id), Value::ofInt(v)}, {}};
}

ChangeEvent ev(ChangeEvent::Op op, std::optional<mysql::RowImage> before,
               std::optional<mysql::RowImage> after) {
  ChangeEvent e;
  e.op = op;
  e.database = "db";
  e.table = "t";
  e.table_info = table();
  if (before) e.before = *before;
  if (after) e.after = *after;
  return e;
}

TEST(BatchSqlTest, CompactsKeyedRowsToFinalState) {
  TableKeys keys{{0}, {{0}}, true};
  std::vector<ChangeEvent> evs;
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(1, 10), row(1, 11)));
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(2, 20)));
  evs.push_back(ev(ChangeEvent::Op::kDelete, row(2, 20), std::nullopt));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(3, 30), row(4, 30)));  // key change
  BatchSql b;
  for (const auto& e : evs) ASSERT_TRUE(b.add(e, keys).ok());
  ASSERT_TRUE(b.finish().ok());
  auto s = b.takeStatements();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "DELETE FROM `db`.`t` WHERE (`id`) IN ((2),(3))");
  EXPECT_EQ(s[1], "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (1,11),(4,30)");
}

// The ENUM error value ('' at index 0) is refused by the strict session: the statement that
// writes it goes alone under the lenient sql_mode, then back to strict; other rows stay batched
// and strict. As a key value (WHERE) it needs nothing.
TEST(BatchSqlTest, EnumErrorValueIsWrittenAloneUnderTheLenientMode) {
  Value blank;
  blank.kind = Value::Kind::kEnum;  // index 0
  Value member = Value::ofText(Value::Kind::kEnum, "a");
  member.u = 1;
  auto withEnum = [](ChangeEvent e) {
    auto t = std::make_shared<mysql::TableInfo>(*e.table_info);
    t->columns[1].collation = 8;  // latin1
    e.table_info = t;
    return e;
  };
  const std::string lenient = setSqlModeSql(lenientSqlMode());
  const std::string strict = setSqlModeSql(strictSqlMode());
  for (bool keyed : {true, false}) {
    TableKeys keys = keyed ? TableKeys{{0}, {{0}}, true} : TableKeys{};
    BatchSql b;
    ASSERT_TRUE(b.add(withEnum(ev(ChangeEvent::Op::kInsert, std::nullopt,
                                  mysql::RowImage{{Value::ofInt(1), member}, {}})),
                      keys)
                    .ok());
    ASSERT_TRUE(b.add(withEnum(ev(ChangeEvent::Op::kInsert, std::nullopt,
                                  mysql::RowImage{{Value::ofInt(2), blank}, {}})),
                      keys)
                    .ok());
    ASSERT_TRUE(
        b.add(withEnum(ev(ChangeEvent::Op::kUpdate, mysql::RowImage{{Value::ofInt(3), blank}, {}},
                          mysql::RowImage{{Value::ofInt(3), member}, {}})),
              keys)
            .ok());
    ASSERT_TRUE(b.finish().ok());
    auto s = b.takeStatements();
    const std::string verb = keyed ? "REPLACE" : "INSERT";
    if (keyed) {
      ASSERT_EQ(s.size(), 5u);
      EXPECT_EQ(s[0], "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (1,_latin1 X'61')");
      EXPECT_EQ(s[1], lenient);
      EXPECT_EQ(s[2], "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (2,0)");
      EXPECT_EQ(s[3], strict);
      EXPECT_EQ(s[4], "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (3,_latin1 X'61')");
    } else {
      ASSERT_EQ(s.size(), 5u);
      EXPECT_EQ(s[0], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,_latin1 X'61')");
      EXPECT_EQ(s[1], lenient);
      EXPECT_EQ(s[2], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (2,0)");
      EXPECT_EQ(s[3], strict);
      EXPECT_EQ(s[4],
                "UPDATE `db`.`t` SET `id`=3,`v`=_latin1 X'61' WHERE `id`<=>3 AND `v`<=>0 LIMIT 1");
    }
  }
}

TEST(BatchSqlTest, TablesWithoutKeyMatchEveryColumn) {
  TableKeys keys;
  BatchSql b;
  ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)), keys).ok());
  ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)), keys).ok());
  ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kUpdate, row(1, 10), row(1, 11)), keys).ok());
  ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kDelete, row(1, 11), std::nullopt), keys).ok());
  ASSERT_TRUE(b.finish().ok());
  auto s = b.takeStatements();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,10),(1,10)");
  EXPECT_EQ(s[1], "UPDATE `db`.`t` SET `id`=1,`v`=11 WHERE `id`<=>1 AND `v`<=>10 LIMIT 1");
  EXPECT_EQ(s[2], "DELETE FROM `db`.`t` WHERE `id`<=>1 AND `v`<=>11 LIMIT 1");
}

TEST(BatchSqlTest, PartialImagesUpdateInOrder) {
  TableKeys keys{{0}, {{0}}, true};
  BatchSql b;
  ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)), keys).ok());
  auto partial = ev(ChangeEvent::Op::kUpdate, row(1, 10), row(1, 12));
  partial.after.present = {false, true};
  auto st = b.add(partial, keys);
  ASSERT_TRUE(st.ok()) << st.toString();
  ASSERT_TRUE(b.finish().ok());
  auto s = b.takeStatements();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (1,10)");
  EXPECT_EQ(s[1], "UPDATE `db`.`t` SET `v`=12 WHERE `id`=1");
}

TEST(BatchSqlTest, MissingKeyColumnIsAnError) {
  TableKeys keys{{0}, {{0}}, true};
  BatchSql b;
  auto del = ev(ChangeEvent::Op::kDelete, row(1, 10), std::nullopt);
  del.before.present = {false, true};
  auto st = b.add(del, keys);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("`db`.`t`"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace dts::sink
