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

// Rows identified by column 0, the primary key; byte_comparable: compacted by their bytes.
TableKeys idKeys(bool byte_comparable) {
  TableKeys k;
  k.identity = {0};
  k.unique = {{0}};
  k.byte_comparable = byte_comparable;
  return k;
}

TEST(BatchSqlTest, CompactsKeyedRowsToFinalState) {
  TableKeys keys = idKeys(true);
  std::vector<ChangeEvent> evs;
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(1, 10), row(1, 11)));
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(2, 20)));
  evs.push_back(ev(ChangeEvent::Op::kDelete, row(2, 20), std::nullopt));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(3, 30), row(4, 30)));  // key change
  // Every row it touched is deleted, then the rows that end present are inserted: the table
  // holds what the source's did, and a row that collides on another unique key fails (1062).
  BatchSql b;
  for (const auto& e : evs) ASSERT_TRUE(b.add(e, keys).ok());
  ASSERT_TRUE(b.finish().ok());
  auto s = b.takeStatements();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "DELETE FROM `db`.`t` WHERE (`id`) IN ((1),(2),(3),(4))");
  EXPECT_EQ(s[1], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,11),(4,30)");

  // Replaying what the full phase's chunks may hold: the rows that end present by REPLACE.
  BatchSql r(1 << 20, false, mysql::ServerFlavor::kMariaDb, KeyConflicts::kReplace);
  for (const auto& e : evs) ASSERT_TRUE(r.add(e, keys).ok());
  ASSERT_TRUE(r.finish().ok());
  s = r.takeStatements();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "DELETE FROM `db`.`t` WHERE (`id`) IN ((2),(3))");
  EXPECT_EQ(s[1], "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (1,11),(4,30)");
}

// Rows whose identity is not compacted (say a case-insensitive key) are upserted in order:
// consecutive ones share one DELETE of their keys, right before their multi-row INSERT (or bulk
// INSERT); kReplace writes REPLACE alone.
TEST(BatchSqlTest, UpsertsOfRowsNotCompactedDeleteTheirKeysRightBefore) {
  TableKeys keys = idKeys(false);
  std::vector<ChangeEvent> evs;
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)));
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(2, 20)));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(3, 30), row(3, 31)));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(4, 40), row(5, 40)));  // key change
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(6, 60)));
  evs.push_back(ev(ChangeEvent::Op::kDelete, row(1, 10), std::nullopt));
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(7, 70)));
  for (auto& e : evs) e.table_info = evs.front().table_info;  // one table map
  BatchSql b;
  for (const auto& e : evs) ASSERT_TRUE(b.add(e, keys).ok());
  ASSERT_TRUE(b.finish().ok());
  EXPECT_EQ(b.takeStatements(), (std::vector<std::string>{
                                    "DELETE FROM `db`.`t` WHERE (`id`) IN ((1),(2))",
                                    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,10),(2,20)",
                                    "DELETE FROM `db`.`t` WHERE (`id`) IN ((3))",
                                    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (3,31)",
                                    "DELETE FROM `db`.`t` WHERE `id`=4",
                                    "DELETE FROM `db`.`t` WHERE (`id`) IN ((5),(6))",
                                    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (5,40),(6,60)",
                                    "DELETE FROM `db`.`t` WHERE `id`=1",
                                    "DELETE FROM `db`.`t` WHERE (`id`) IN ((7))",
                                    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (7,70)",
                                }));
  BatchSql bulk(1 << 20, true);
  for (const auto& e : evs) ASSERT_TRUE(bulk.add(e, keys).ok());
  ASSERT_TRUE(bulk.finish().ok());
  EXPECT_EQ(bulk.takeStatements(), (std::vector<std::string>{
                                       "DELETE FROM `db`.`t` WHERE (`id`) IN ((1),(2),(3))",
                                       "INSERT INTO `db`.`t` (`id`,`v`) VALUES (?,?) -- 3 rows",
                                       "DELETE FROM `db`.`t` WHERE `id`=4",
                                       "DELETE FROM `db`.`t` WHERE (`id`) IN ((5),(6))",
                                       "INSERT INTO `db`.`t` (`id`,`v`) VALUES (?,?) -- 2 rows",
                                       "DELETE FROM `db`.`t` WHERE `id`=1",
                                       "DELETE FROM `db`.`t` WHERE (`id`) IN ((7))",
                                       "INSERT INTO `db`.`t` (`id`,`v`) VALUES (?,?) -- 1 rows",
                                   }));
  // The same row again: its second upsert starts the next DELETE + INSERT (one INSERT holding
  // both would collide with itself).
  BatchSql again(1 << 20, true);
  for (int v : {31, 32, 33}) {
    ChangeEvent e = ev(ChangeEvent::Op::kUpdate, row(3, v - 1), row(3, v));
    e.table_info = evs.front().table_info;
    ASSERT_TRUE(again.add(e, keys).ok());
  }
  ASSERT_TRUE(again.finish().ok());
  EXPECT_EQ(again.takeStatements(), (std::vector<std::string>{
                                        "DELETE FROM `db`.`t` WHERE (`id`) IN ((3))",
                                        "INSERT INTO `db`.`t` (`id`,`v`) VALUES (?,?) -- 1 rows",
                                        "DELETE FROM `db`.`t` WHERE (`id`) IN ((3))",
                                        "INSERT INTO `db`.`t` (`id`,`v`) VALUES (?,?) -- 1 rows",
                                        "DELETE FROM `db`.`t` WHERE (`id`) IN ((3))",
                                        "INSERT INTO `db`.`t` (`id`,`v`) VALUES (?,?) -- 1 rows",
                                    }));
  BatchSql r(1 << 20, false, mysql::ServerFlavor::kMariaDb, KeyConflicts::kReplace);
  for (const auto& e : evs) ASSERT_TRUE(r.add(e, keys).ok());
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(r.takeStatements(), (std::vector<std::string>{
                                    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (1,10),(2,20)",
                                    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (3,31)",
                                    "DELETE FROM `db`.`t` WHERE `id`=4",
                                    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (5,40),(6,60)",
                                    "DELETE FROM `db`.`t` WHERE `id`=1",
                                    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES (7,70)",
                                }));
}

// A key list longer than the range optimizer takes makes each DELETE a scan of the whole table:
// lists stop at kMaxCompositeKeysPerList keys of several columns, kMaxKeysPerList of one.
TEST(BatchSqlTest, KeyListsStayShortEnoughForAnIndexRange) {
  auto composite = std::make_shared<mysql::TableInfo>(*table());
  composite->primary_key = {0, 1};
  TableKeys two;
  two.identity = {0, 1};
  two.unique = {{0, 1}};
  auto count = [](const std::vector<std::string>& statements, size_t* deletes) {
    size_t most = 0;
    *deletes = 0;
    for (const auto& st : statements) {
      if (st.rfind("DELETE", 0) != 0) continue;
      ++*deletes;
      size_t tuples = 0;
      for (size_t at = st.find("),("); at != std::string::npos; at = st.find("),(", at + 1))
        ++tuples;
      most = std::max(most, tuples + 1);
    }
    return most;
  };
  for (bool compacted : {true, false}) {
    two.byte_comparable = compacted;
    BatchSql b(64 << 20);
    for (int i = 0; i < 450; ++i) {
      ChangeEvent e = ev(ChangeEvent::Op::kInsert, std::nullopt, row(i, 1));
      e.table_info = composite;
      ASSERT_TRUE(b.add(e, two).ok());
    }
    ASSERT_TRUE(b.finish().ok());
    size_t deletes = 0;
    EXPECT_EQ(count(b.takeStatements(), &deletes), kMaxCompositeKeysPerList) << compacted;
    EXPECT_EQ(deletes, 3u) << compacted;  // 200 + 200 + 50
  }
  TableKeys one = idKeys(true);
  BatchSql b(64 << 20);
  for (int i = 0; i < 25000; ++i)
    ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kDelete, row(i, 1), std::nullopt), one).ok());
  ASSERT_TRUE(b.finish().ok());
  size_t deletes = 0;
  EXPECT_EQ(count(b.takeStatements(), &deletes), kMaxKeysPerList);
  EXPECT_EQ(deletes, 3u);
}

// The ENUM error value ('' at index 0) is refused by the strict session: the statement that
// writes it goes alone under the lenient sql_mode, then back to strict; other rows stay batched
// and strict. As a key value (WHERE) it needs nothing.
// The source logs no row its foreign keys' actions change, and the applier's session has
// foreign_key_checks = 0: a row that fires an action at the destination goes with checks on, after
// every row before it (of any table), as a statement that acts the way the source's did: a
// DELETE, never a REPLACE; a key change as an UPDATE, then the row's usual upsert. A row the
// source wrote with checks off, an insert and a change to no referenced column fire nothing.
TEST(BatchSqlTest, ARowThatFiresForeignKeyActionsGoesAloneWithChecksOn) {
  TableKeys parent = idKeys(true);
  parent.delete_acts = true;
  parent.update_acting = {0};
  ChangeEvent child = ev(ChangeEvent::Op::kInsert, std::nullopt, row(60, 5));
  child.table = "c";
  ChangeEvent unchecked = ev(ChangeEvent::Op::kDelete, row(7, 0), std::nullopt);
  unchecked.foreign_key_checks = false;
  EXPECT_FALSE(firesForeignKeyActions(unchecked, parent));
  std::vector<ChangeEvent> evs;
  evs.push_back(child);
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(1, 10), row(1, 11)));  // id unchanged
  evs.push_back(ev(ChangeEvent::Op::kDelete, row(5, 0), std::nullopt));
  evs.push_back(ev(ChangeEvent::Op::kUpdate, row(2, 20), row(3, 20)));
  evs.push_back(unchecked);
  evs.push_back(ev(ChangeEvent::Op::kInsert, std::nullopt, row(8, 0)));
  BatchSql b;
  for (const auto& e : evs) ASSERT_TRUE(b.add(e, e.table == "c" ? idKeys(true) : parent).ok());
  ASSERT_TRUE(b.finish().ok());
  EXPECT_EQ(b.takeStatements(), (std::vector<std::string>{
                                    "DELETE FROM `db`.`c` WHERE (`id`) IN ((60))",
                                    "INSERT INTO `db`.`c` (`id`,`v`) VALUES (60,5)",
                                    "DELETE FROM `db`.`t` WHERE (`id`) IN ((1))",
                                    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,11)",
                                    "SET SESSION foreign_key_checks=1",
                                    "DELETE FROM `db`.`t` WHERE `id`=5",
                                    "SET SESSION foreign_key_checks=0",
                                    "SET SESSION foreign_key_checks=1",
                                    "UPDATE `db`.`t` SET `id`=3 WHERE `id`=2",
                                    "SET SESSION foreign_key_checks=0",
                                    "DELETE FROM `db`.`t` WHERE (`id`) IN ((2),(3),(7),(8))",
                                    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (3,20),(8,0)",
                                }));

  // Without a key the row's own statement acts: its DELETE or UPDATE, checks on.
  TableKeys keyless;
  keyless.delete_acts = true;
  keyless.update_acting = {1};
  BatchSql k;
  ASSERT_TRUE(k.add(ev(ChangeEvent::Op::kDelete, row(5, 0), std::nullopt), keyless).ok());
  ASSERT_TRUE(k.add(ev(ChangeEvent::Op::kUpdate, row(6, 1), row(6, 2)), keyless).ok());
  ASSERT_TRUE(k.finish().ok());
  EXPECT_EQ(k.takeStatements(),
            (std::vector<std::string>{
                "SET SESSION foreign_key_checks=1",
                "DELETE FROM `db`.`t` WHERE `id`<=>5 AND `v`<=>0 LIMIT 1",
                "SET SESSION foreign_key_checks=0",
                "SET SESSION foreign_key_checks=1",
                "UPDATE `db`.`t` SET `id`=6,`v`=2 WHERE `id`<=>6 AND `v`<=>1 LIMIT 1",
                "SET SESSION foreign_key_checks=0",
            }));
}

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
    TableKeys keys = keyed ? idKeys(true) : TableKeys{};
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
    if (keyed) {
      ASSERT_EQ(s.size(), 6u);
      EXPECT_EQ(s[0], "DELETE FROM `db`.`t` WHERE (`id`) IN ((1),(2),(3))");
      EXPECT_EQ(s[1], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,_latin1 X'61')");
      EXPECT_EQ(s[2], lenient);
      EXPECT_EQ(s[3], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (2,0)");
      EXPECT_EQ(s[4], strict);
      EXPECT_EQ(s[5], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (3,_latin1 X'61')");
      // Not compacted: the lenient row's own DELETE goes right before it.
      BatchSql d;
      ASSERT_TRUE(d.add(withEnum(ev(ChangeEvent::Op::kInsert, std::nullopt,
                                    mysql::RowImage{{Value::ofInt(1), member}, {}})),
                        idKeys(false))
                      .ok());
      ASSERT_TRUE(d.add(withEnum(ev(ChangeEvent::Op::kInsert, std::nullopt,
                                    mysql::RowImage{{Value::ofInt(2), blank}, {}})),
                        idKeys(false))
                      .ok());
      ASSERT_TRUE(d.finish().ok());
      EXPECT_EQ(d.takeStatements(), (std::vector<std::string>{
                                        "DELETE FROM `db`.`t` WHERE (`id`) IN ((1))",
                                        "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,_latin1 X'61')",
                                        "DELETE FROM `db`.`t` WHERE (`id`) IN ((2))",
                                        lenient,
                                        "INSERT INTO `db`.`t` (`id`,`v`) VALUES (2,0)",
                                        strict,
                                    }));
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
  TableKeys keys = idKeys(true);
  BatchSql b;
  ASSERT_TRUE(b.add(ev(ChangeEvent::Op::kInsert, std::nullopt, row(1, 10)), keys).ok());
  auto partial = ev(ChangeEvent::Op::kUpdate, row(1, 10), row(1, 12));
  partial.after.present = {false, true};
  auto st = b.add(partial, keys);
  ASSERT_TRUE(st.ok()) << st.toString();
  ASSERT_TRUE(b.finish().ok());
  auto s = b.takeStatements();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "DELETE FROM `db`.`t` WHERE (`id`) IN ((1))");
  EXPECT_EQ(s[1], "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,10)");
  EXPECT_EQ(s[2], "UPDATE `db`.`t` SET `v`=12 WHERE `id`=1");
}

// A key with an ENUM column: its rows are listed as ORs of equalities, never in a row IN, where
// MariaDB compares the ENUM with every name under one character set aggregated over the list (a
// big5 ENUM against utf8 names matched none of 5 rows on 10.11) and a list mixing names and the
// error value's index matches nothing.
TEST(BatchSqlTest, KeysWithAnEnumAreListedAsOrsOfEqualities) {
  auto info = std::make_shared<mysql::TableInfo>(*table());
  info->columns[1].type = mysql::ColumnType::kEnum;
  info->columns[1].collation = 1;               // big5_chinese_ci
  info->columns[1].enum_values_collation = 33;  // names as information_schema gives them (utf8)
  info->primary_key = {0, 1};
  TableKeys keys;
  keys.identity = {0, 1};
  keys.unique = {{0, 1}};
  auto erow = [](int id, const char* name, uint64_t index) {
    Value k = Value::ofText(Value::Kind::kEnum, name);
    k.u = index;
    return mysql::RowImage{{Value::ofInt(id), k}, {}};
  };
  auto eev = [&](ChangeEvent::Op op, std::optional<mysql::RowImage> before,
                 std::optional<mysql::RowImage> after) {
    ChangeEvent e = ev(op, std::move(before), std::move(after));
    e.table_info = info;
    return e;
  };
  BatchSql b;
  ASSERT_TRUE(b.add(eev(ChangeEvent::Op::kInsert, std::nullopt, erow(1, "a", 1)), keys).ok());
  ASSERT_TRUE(b.add(eev(ChangeEvent::Op::kInsert, std::nullopt, erow(3, "b", 2)), keys).ok());
  ASSERT_TRUE(b.add(eev(ChangeEvent::Op::kInsert, std::nullopt, erow(2, "", 0)), keys).ok());
  ASSERT_TRUE(b.finish().ok());
  EXPECT_EQ(b.takeStatements(),
            (std::vector<std::string>{
                "DELETE FROM `db`.`t` WHERE (`id`=1 AND `v`=_utf8mb3 X'61') OR (`id`=3 AND "
                "`v`=_utf8mb3 X'62')",
                "INSERT INTO `db`.`t` (`id`,`v`) VALUES (1,_utf8mb3 X'61'),(3,_utf8mb3 X'62')",
                "DELETE FROM `db`.`t` WHERE (`id`=2 AND `v`=0)",
                setSqlModeSql(lenientSqlMode()),
                "INSERT INTO `db`.`t` (`id`,`v`) VALUES (2,0)",
                setSqlModeSql(strictSqlMode()),
            }));
  auto term = keyTerm(*info, keys.identity, erow(3, "a", 1), "after");
  ASSERT_TRUE(term.ok());
  EXPECT_EQ(*term, "(`id`=3 AND `v`=_utf8mb3 X'61')");
  auto plain = keyTerm(*table(), {0}, row(3, 4), "after");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "(3)");
}

TEST(BatchSqlTest, MissingKeyColumnIsAnError) {
  TableKeys keys = idKeys(true);
  BatchSql b;
  auto del = ev(ChangeEvent::Op::kDelete, row(1, 10), std::nullopt);
  del.before.present = {false, true};
  auto st = b.add(del, keys);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("`db`.`t`"), std::string::npos) << st.message();
}

// A wider table for bulk updates: id INT key, n INT UNSIGNED, s latin1 string, b bytes, d
// DECIMAL, ts DATETIME, j JSON.
std::shared_ptr<const mysql::TableInfo> wideTable() {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = "db";
  t->table = "w";
  for (const char* name : {"id", "n", "s", "b", "d", "ts", "j"}) {
    t->columns.emplace_back();
    t->columns.back().name = name;
  }
  t->columns[2].collation = 8;  // latin1_swedish_ci
  t->primary_key = {0};
  return t;
}

mysql::RowImage wideRow(int64_t id, uint64_t n, std::string s) {
  return mysql::RowImage{
      {Value::ofInt(id), Value::ofUInt(n), Value::ofText(Value::Kind::kString, std::move(s)),
       Value::ofText(Value::Kind::kBytes, std::string("\0\\x00'", 6)),
       Value::ofText(Value::Kind::kDecimal, "-12.50"),
       Value::ofText(Value::Kind::kTemporal, "2024-02-30 10:00:00.5"),
       Value::ofText(Value::Kind::kJson, "{\"a\": 1}")},
      {}};
}

ChangeEvent wideEv(ChangeEvent::Op op, std::optional<mysql::RowImage> before,
                   std::optional<mysql::RowImage> after,
                   std::shared_ptr<const mysql::TableInfo> info = wideTable()) {
  ChangeEvent e = ev(op, std::move(before), std::move(after));
  e.table = "w";
  e.table_info = std::move(info);
  return e;
}

// Under bulk_replace the rows that end present go, in their order, as one prepared INSERT run
// once per row: the rows and order of the multi-row INSERT a builder without it writes. Each
// parameter travels as the literal would: integers as integers, strings as bytes converted from
// their character set, the rest as text or bytes. The DELETE comes first, as always.
TEST(BatchSqlTest, RowsThatEndPresentGoByOneBulkReplace) {
  TableKeys keys = idKeys(true);
  auto info = wideTable();
  using Op = ChangeEvent::Op;
  std::vector<ChangeEvent> evs;
  evs.push_back(wideEv(Op::kUpdate, wideRow(1, 0, "a"), wideRow(1, 1, "b"), info));
  evs.push_back(wideEv(Op::kUpdate, wideRow(2, 0, "a"), wideRow(2, 2, "c"), info));
  evs.push_back(wideEv(Op::kUpdate, wideRow(1, 1, "b"), wideRow(1, 3, "d"), info));  // again
  evs.push_back(wideEv(Op::kInsert, std::nullopt, wideRow(3, 0, "x"), info));
  evs.push_back(wideEv(Op::kUpdate, wideRow(5, 0, "m"), wideRow(6, 0, "m"), info));  // moved
  evs.push_back(wideEv(Op::kDelete, wideRow(7, 0, "z"), std::nullopt, info));
  evs.push_back(wideEv(Op::kInsert, std::nullopt, wideRow(7, 1, "z"), info));  // re-inserted
  BatchSql text;
  BatchSql b(1 << 20, true);
  for (const auto& e : evs) {
    ASSERT_TRUE(b.add(e, keys).ok());
    ASSERT_TRUE(text.add(e, keys).ok());
  }
  ASSERT_TRUE(b.finish().ok());
  ASSERT_TRUE(text.finish().ok());
  auto statements = text.takeStatements();
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[0], "DELETE FROM `db`.`w` WHERE (`id`) IN ((1),(2),(3),(5),(6),(7))");
  auto steps = b.takeSteps();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].sql, statements[0]);
  ASSERT_NE(steps[1].bulk, nullptr);
  const BulkReplace& r = *steps[1].bulk;
  EXPECT_EQ(r.sql,
            "INSERT INTO `db`.`w` (`id`,`n`,`s`,`b`,`d`,`ts`,`j`) VALUES (?,?,CONVERT(? USING "
            "latin1),?,?,?,CONVERT(? USING utf8mb4))");
  using P = mysql::BulkStatement::Param;
  EXPECT_EQ(r.params, (std::vector<P>{P::kInt64, P::kUInt64, P::kBinary, P::kBinary, P::kString,
                                      P::kString, P::kBinary}));
  auto rows = r.bulkRows();
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  std::vector<std::vector<std::string>> seen;
  rows->forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
    std::vector<std::string> row;
    for (unsigned i = 0; i < n; ++i) row.emplace_back(f[i], len[i]);
    seen.push_back(std::move(row));
  });
  auto int8 = [](uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  // The multi-row INSERT's rows, in its order: 1 (its last state), 2, 3, 6, 7.
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(statements[1].substr(0, 62),
            "INSERT INTO `db`.`w` (`id`,`n`,`s`,`b`,`d`,`ts`,`j`) VALUES (1");
  EXPECT_EQ(seen[0], (std::vector<std::string>{int8(1), int8(3), "d", std::string("\0\\x00'", 6),
                                               "-12.50", "2024-02-30 10:00:00.5", "{\"a\": 1}"}));
  const int ids[] = {1, 2, 3, 6, 7};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(seen[i][0], int8(static_cast<uint64_t>(ids[i]))) << i;
  EXPECT_EQ(seen[4][1], int8(1));
  // Its statements (for a server that prepares no more) are the multi-row INSERT.
  auto same = r.statements(1 << 20);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, std::vector<std::string>{statements[1]});
  auto cut = r.statements(200);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->size(), 5u);

  // Rows of a table whose key is not compacted (no byte-wise key) go by bulk INSERT too, after
  // the DELETE of their keys.
  TableKeys loose = idKeys(false);
  BatchSql direct(1 << 20, true);
  ASSERT_TRUE(direct.add(wideEv(Op::kInsert, std::nullopt, wideRow(1, 0, "a"), info), loose).ok());
  ASSERT_TRUE(direct.add(wideEv(Op::kInsert, std::nullopt, wideRow(2, 0, "a"), info), loose).ok());
  ASSERT_TRUE(direct.finish().ok());
  auto direct_steps = direct.takeSteps();
  ASSERT_EQ(direct_steps.size(), 2u);
  EXPECT_EQ(direct_steps[0].sql, "DELETE FROM `db`.`w` WHERE (`id`) IN ((1),(2))");
  ASSERT_NE(direct_steps[1].bulk, nullptr);
  EXPECT_EQ(direct_steps[1].bulk->rows.size(), 2u);

  // kReplace: the rows that end present by one bulk REPLACE, and only the moved key deleted.
  BatchSql replacing(1 << 20, true, mysql::ServerFlavor::kMariaDb, KeyConflicts::kReplace);
  for (const auto& e : evs) ASSERT_TRUE(replacing.add(e, keys).ok());
  ASSERT_TRUE(replacing.finish().ok());
  auto replace_steps = replacing.takeSteps();
  ASSERT_EQ(replace_steps.size(), 2u);
  EXPECT_EQ(replace_steps[0].sql, "DELETE FROM `db`.`w` WHERE (`id`) IN ((5))");
  ASSERT_NE(replace_steps[1].bulk, nullptr);
  EXPECT_EQ(replace_steps[1].bulk->sql.substr(0, 21), "REPLACE INTO `db`.`w`");
  EXPECT_EQ(replace_steps[1].bulk->rows.size(), 5u);
}

// What a parameter cannot carry as the literal does goes by an INSERT statement, in its place:
// BIT, an ENUM known only by its index, the ENUM error value (alone, under the lenient mode). A
// NULL fits any bulk INSERT; a value of another form starts another. The DELETE of every row
// comes first.
TEST(BatchSqlTest, WhatAParameterCannotCarryIsReplacedInItsPlace) {
  using Op = ChangeEvent::Op;
  auto info = wideTable();
  TableKeys keys = idKeys(true);
  auto stepsOf = [&](std::vector<mysql::RowImage> rows) {
    BatchSql b(1 << 20, true);
    for (auto& r : rows) EXPECT_TRUE(b.add(wideEv(Op::kInsert, std::nullopt, r, info), keys).ok());
    EXPECT_TRUE(b.finish().ok());
    return b.takeSteps();
  };
  Value bit;
  bit.kind = Value::Kind::kBit;
  bit.u = 5;
  bit.s = "\x05";
  Value by_index;
  by_index.kind = Value::Kind::kEnum;
  by_index.u = 2;
  Value error_value;
  error_value.kind = Value::Kind::kEnum;
  for (const Value& v : {bit, by_index, error_value}) {
    auto odd = wideRow(2, 1, "b");
    odd.values[3] = v;
    auto s = stepsOf({wideRow(1, 1, "a"), odd, wideRow(3, 1, "c")});
    // The ENUM error value's INSERT runs alone between sql_mode statements.
    const size_t insert = isEnumErrorValue(v) ? 3 : 2;
    ASSERT_EQ(s.size(), 2 * insert);
    EXPECT_EQ(s[0].sql, "DELETE FROM `db`.`w` WHERE (`id`) IN ((1),(2),(3))");
    EXPECT_NE(s[1].bulk, nullptr);
    EXPECT_EQ(s[insert].bulk, nullptr);
    EXPECT_NE(s[insert].sql.find("INSERT INTO `db`.`w` (`id`,`n`,`s`,`b`,`d`,`ts`,`j`) VALUES (2,"),
              std::string::npos)
        << s[insert].sql;
    EXPECT_NE(s.back().bulk, nullptr);
  }
  auto nulls = wideRow(2, 1, "b");
  nulls.values[2] = Value::null();
  auto bytes = wideRow(3, 1, "c");
  bytes.values[2] = Value::ofText(Value::Kind::kBytes, "c");
  auto s = stepsOf({wideRow(1, 1, "a"), nulls, bytes});
  ASSERT_EQ(s.size(), 3u);
  ASSERT_NE(s[1].bulk, nullptr);
  ASSERT_NE(s[2].bulk, nullptr);
  EXPECT_EQ(s[1].bulk->rows.size(), 2u);
  EXPECT_NE(s[2].bulk->sql.find("VALUES (?,?,?,"), std::string::npos) << s[2].bulk->sql;
}

// A bulk INSERT stays below the statement size, like a multi-row INSERT.
TEST(BatchSqlTest, BulkReplacesAreCutAtTheStatementSize) {
  TableKeys keys = idKeys(true);
  BatchSql b(4096, true);
  for (int id = 1; id <= 100; ++id) {
    auto after = wideRow(id, 1, std::string(200, 'x'));
    ASSERT_TRUE(b.add(wideEv(ChangeEvent::Op::kUpdate, wideRow(id, 0, ""), after), keys).ok());
  }
  ASSERT_TRUE(b.finish().ok());
  size_t rows = 0;
  auto steps = b.takeSteps();
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0].sql.substr(0, 45), "DELETE FROM `db`.`w` WHERE (`id`) IN ((1),(2)");
  steps.erase(steps.begin());
  for (const BatchStep& s : steps) {
    ASSERT_NE(s.bulk, nullptr);
    EXPECT_LE(s.bulk->rows.size(), 4096u / 200);
    rows += s.bulk->rows.size();
  }
  EXPECT_EQ(rows, 100u);
  EXPECT_GT(steps.size(), 5u);
}

// A FLOAT or DOUBLE -0: stored as the destination keeps it (-1e-50 into a FLOAT at MariaDB, -0e0
// at MySQL), matched as -0e+00 (a WHERE k = -1e-50 would find no row), and a row of a table without
// a key is found with its zeros' signs. A DOUBLE -0 that MariaDB cannot store fails the batch,
// naming the table and the column; nothing is written as 0.
TEST(BatchSqlTest, NegativeZeroIsStoredAsTheDestinationKeepsItAndMatchedAsZero) {
  auto info = std::make_shared<mysql::TableInfo>();
  info->database = "db";
  info->table = "z";
  info->columns.resize(3);
  info->columns[0].name = "k";
  info->columns[0].type = mysql::ColumnType::kFloat;
  info->columns[1].name = "f";
  info->columns[1].type = mysql::ColumnType::kFloat;
  info->columns[2].name = "d";
  info->columns[2].type = mysql::ColumnType::kDouble;
  info->primary_key = {0};
  auto num = [](Value::Kind k, double d) {
    Value v;
    v.kind = k;
    v.d = d;
    return v;
  };
  auto zrow = [&](double k, double f, double d) {
    return mysql::RowImage{
        {num(Value::Kind::kFloat, k), num(Value::Kind::kFloat, f), num(Value::Kind::kDouble, d)},
        {}};
  };
  auto zev = [&](ChangeEvent::Op op, std::optional<mysql::RowImage> before,
                 std::optional<mysql::RowImage> after) {
    ChangeEvent e = ev(op, std::move(before), std::move(after));
    e.table = "z";
    e.table_info = info;
    return e;
  };
  using Op = ChangeEvent::Op;
  TableKeys keyed = idKeys(false);  // a FLOAT key is never compacted by its bytes
  BatchSql b;
  ASSERT_TRUE(b.add(zev(Op::kInsert, std::nullopt, zrow(-0.0, -0.0, 0.0)), keyed).ok());
  ASSERT_TRUE(b.add(zev(Op::kUpdate, zrow(-0.0, -0.0, 0.0), zrow(-0.0, 0.0, 1.0)), keyed).ok());
  auto partial = zev(Op::kUpdate, zrow(-0.0, 0.0, 1.0), zrow(-0.0, -0.0, 1.0));
  partial.after.present = {false, true, false};
  ASSERT_TRUE(b.add(partial, keyed).ok());
  ASSERT_TRUE(b.add(zev(Op::kUpdate, zrow(-0.0, -0.0, 1.0), zrow(0.0, -0.0, 1.0)), keyed).ok());
  ASSERT_TRUE(b.add(zev(Op::kDelete, zrow(0.0, -0.0, 1.0), std::nullopt), keyed).ok());
  TableKeys keyless;
  ASSERT_TRUE(b.add(zev(Op::kDelete, zrow(-0.0, 0.0, 2.0), std::nullopt), keyless).ok());
  ASSERT_TRUE(b.finish().ok());
  EXPECT_EQ(
      b.takeStatements(),
      (std::vector<std::string>{
          "DELETE FROM `db`.`z` WHERE (`k`) IN ((-0e+00))",
          "INSERT INTO `db`.`z` (`k`,`f`,`d`) VALUES (-1e-50,-1e-50,0e+00)",
          "DELETE FROM `db`.`z` WHERE (`k`) IN ((-0e+00))",
          "INSERT INTO `db`.`z` (`k`,`f`,`d`) VALUES (-1e-50,0e+00,1e+00)",
          "UPDATE `db`.`z` SET `f`=-1e-50 WHERE `k`=-0e+00",
          "DELETE FROM `db`.`z` WHERE `k`=-0e+00", "DELETE FROM `db`.`z` WHERE (`k`) IN ((0e+00))",
          "INSERT INTO `db`.`z` (`k`,`f`,`d`) VALUES (0e+00,-1e-50,1e+00)",
          "DELETE FROM `db`.`z` WHERE `k`=0e+00",
          "DELETE FROM `db`.`z` WHERE `k`<=>-0e+00 AND ATAN2(`k`, -1) < 0 AND `f`<=>0e+00 AND "
          "ATAN2(`f`, -1) > 0 AND `d`<=>2e+00 LIMIT 1"}));

  // By bulk INSERT: the parameters carry the same text.
  BatchSql bulk(1 << 20, true);
  ASSERT_TRUE(bulk.add(zev(Op::kInsert, std::nullopt, zrow(-0.0, -0.0, 0.0)), keyed).ok());
  ASSERT_TRUE(bulk.finish().ok());
  auto steps = bulk.takeSteps();
  ASSERT_EQ(steps.size(), 2u);
  ASSERT_NE(steps[1].bulk, nullptr);
  auto rows = steps[1].bulk->bulkRows();
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  rows->forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(std::string(f[0], len[0]), "-1e-50");
    EXPECT_EQ(std::string(f[1], len[1]), "-1e-50");
    EXPECT_EQ(std::string(f[2], len[2]), "0e+00");
  });

  // A DOUBLE -0: MariaDB stores no DOUBLE -0 it is sent; MySQL keeps -0e0.
  for (bool by_bulk : {false, true}) {
    BatchSql maria(1 << 20, by_bulk);
    Status st = maria.add(zev(Op::kInsert, std::nullopt, zrow(1, 0.0, -0.0)), keyed);
    if (st.ok()) st = maria.finish();
    if (st.ok()) {
      for (const BatchStep& step : maria.takeSteps()) {
        if (step.bulk != nullptr && st.ok()) st = step.bulk->bulkRows().status();
      }
    }
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << by_bulk;
    EXPECT_NE(st.message().find("table `db`.`z`: column 'd' holds a DOUBLE negative zero (-0)"),
              std::string::npos)
        << st.toString();
    Status update = maria.add(
        [&] {
          auto e = zev(Op::kUpdate, zrow(1, 0.0, 1.0), zrow(1, 0.0, -0.0));
          e.after.present = {false, false, true};
          return e;
        }(),
        keyed);
    EXPECT_NE(update.message().find("table `db`.`z`: column 'd'"), std::string::npos)
        << update.toString();
  }
  BatchSql mysql_dest(1 << 20, false, mysql::ServerFlavor::kMySql);
  ASSERT_TRUE(mysql_dest.add(zev(Op::kInsert, std::nullopt, zrow(-0.0, -0.0, -0.0)), keyed).ok());
  ASSERT_TRUE(mysql_dest.finish().ok());
  EXPECT_EQ(
      mysql_dest.takeStatements(),
      (std::vector<std::string>{"DELETE FROM `db`.`z` WHERE (`k`) IN ((-0e+00))",
                                "INSERT INTO `db`.`z` (`k`,`f`,`d`) VALUES (-0e0,-0e0,-0e0)"}));
}

}  // namespace
}  // namespace dts::sink
