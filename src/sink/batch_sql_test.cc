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
       Value::ofText(Value::Kind::kBytes, std::string("\0\x00'", 7)),
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

// Rows whose every change in the batch is an UPDATE keeping the key go as one bulk UPDATE by key
// (the row was there); an inserted, re-inserted or moved row is REPLACEd as before, deletes come
// first. Each parameter travels as the literal would: integers as integers, strings as bytes
// converted from their character set, the rest as text or bytes.
TEST(BatchSqlTest, RowsUpdatedInPlaceGoByOneBulkUpdate) {
  TableKeys keys{{0}, {{0}}, true};
  auto info = wideTable();
  BatchSql b(1 << 20, true);
  using Op = ChangeEvent::Op;
  std::vector<ChangeEvent> evs;
  evs.push_back(wideEv(Op::kUpdate, wideRow(1, 0, "a"), wideRow(1, 1, "b"), info));
  evs.push_back(wideEv(Op::kUpdate, wideRow(2, 0, "a"), wideRow(2, 2, "c"), info));
  evs.push_back(wideEv(Op::kUpdate, wideRow(1, 1, "b"), wideRow(1, 3, "d"), info));  // again
  evs.push_back(wideEv(Op::kInsert, std::nullopt, wideRow(3, 0, "x"), info));
  evs.push_back(wideEv(Op::kUpdate, wideRow(3, 0, "x"), wideRow(3, 4, "y"), info));  // inserted
  evs.push_back(wideEv(Op::kUpdate, wideRow(5, 0, "m"), wideRow(6, 0, "m"), info));  // moved
  evs.push_back(wideEv(Op::kUpdate, wideRow(6, 0, "m"), wideRow(6, 1, "n"), info));  // moved in
  evs.push_back(wideEv(Op::kDelete, wideRow(7, 0, "z"), std::nullopt, info));
  evs.push_back(wideEv(Op::kInsert, std::nullopt, wideRow(7, 0, "z"), info));  // re-inserted
  evs.push_back(wideEv(Op::kUpdate, wideRow(7, 0, "z"), wideRow(7, 1, "z"), info));
  for (const auto& e : evs) ASSERT_TRUE(b.add(e, keys).ok());
  ASSERT_TRUE(b.finish().ok());
  auto steps = b.takeSteps();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].sql, "DELETE FROM `db`.`w` WHERE (`id`) IN ((5))");
  ASSERT_NE(steps[1].bulk, nullptr);
  const BulkUpdate& u = *steps[1].bulk;
  EXPECT_EQ(u.sql,
            "UPDATE `db`.`w` SET `n`=?,`s`=CONVERT(? USING latin1),`b`=?,`d`=?,`ts`=?,"
            "`j`=CONVERT(? USING utf8mb4) WHERE `id`=?");
  using P = mysql::BulkStatement::Param;
  EXPECT_EQ(u.params, (std::vector<P>{P::kUInt64, P::kBinary, P::kBinary, P::kString, P::kString,
                                      P::kBinary, P::kInt64}));
  ASSERT_EQ(u.rows.size(), 2u);  // rows 1 (its last state) and 2
  auto rows = u.bulkRows();
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  std::vector<std::vector<std::string>> seen;
  rows->forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
    std::vector<std::string> r;
    for (unsigned i = 0; i < n; ++i) r.emplace_back(f[i], len[i]);
    seen.push_back(std::move(r));
  });
  ASSERT_EQ(seen.size(), 2u);
  auto int8 = [](uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  EXPECT_EQ(seen[0], (std::vector<std::string>{int8(3), "d", std::string("\0\x00'", 7), "-12.50",
                                               "2024-02-30 10:00:00.5", "{\"a\": 1}", int8(1)}));
  EXPECT_EQ(seen[1][0], int8(2));
  EXPECT_EQ(seen[1][6], int8(2));
  // The fallback writes the same rows as REPLACE would.
  auto replace = u.replaceStatements(1 << 20);
  ASSERT_TRUE(replace.ok());
  ASSERT_EQ(replace->size(), 1u);
  EXPECT_EQ((*replace)[0].substr(0, 70),
            "REPLACE INTO `db`.`w` (`id`,`n`,`s`,`b`,`d`,`ts`,`j`) VALUES (1,3,_lat");
  EXPECT_EQ(std::count((*replace)[0].begin(), (*replace)[0].end(), '('), 3);
  // Rows 3, 6 and 7 did not exist before the batch, or not under their key.
  ASSERT_EQ(steps[2].bulk, nullptr);
  EXPECT_EQ(steps[2].sql.substr(0, 63),
            "REPLACE INTO `db`.`w` (`id`,`n`,`s`,`b`,`d`,`ts`,`j`) VALUES (3");
  EXPECT_NE(steps[2].sql.find("),(6,1,"), std::string::npos);
  EXPECT_NE(steps[2].sql.find("),(7,1,"), std::string::npos);
}

// What a parameter cannot carry as the literal does goes by REPLACE, in its place: a table with
// a second unique key (REPLACE deletes what that key clashes with), a string key (the comparison
// would need the column's collation), BIT, an ENUM known only by its index, the ENUM error value.
// A builder without bulk updates never makes one. Rows of another form start a new bulk update.
TEST(BatchSqlTest, WhatAParameterCannotCarryIsReplacedAsBefore) {
  using Op = ChangeEvent::Op;
  auto info = wideTable();
  auto update = [&](mysql::RowImage after) {
    mysql::RowImage before = after;
    before.values[1] = Value::ofUInt(99);
    return wideEv(Op::kUpdate, before, after, info);
  };
  auto stepsOf = [&](const TableKeys& keys, std::vector<ChangeEvent> evs, bool bulk = true) {
    BatchSql b(1 << 20, bulk);
    for (const auto& e : evs) EXPECT_TRUE(b.add(e, keys).ok());
    EXPECT_TRUE(b.finish().ok());
    return b.takeSteps();
  };
  TableKeys sole{{0}, {{0}}, true};
  {
    auto s = stepsOf(sole, {update(wideRow(1, 1, "a"))}, false);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].bulk, nullptr);
  }
  {
    TableKeys two{{0}, {{0}, {2}}, true};
    auto s = stepsOf(two, {update(wideRow(1, 1, "a"))});
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].bulk, nullptr);
  }
  {
    TableKeys string_key{{2}, {{2}}, true};
    auto s = stepsOf(string_key, {update(wideRow(1, 1, "a"))});
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].bulk, nullptr);
  }
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
    auto s = stepsOf(sole, {update(wideRow(1, 1, "a")), update(odd), update(wideRow(3, 1, "c"))});
    // The ENUM error value's REPLACE runs alone between sql_mode statements.
    const size_t replace = isEnumErrorValue(v) ? 2 : 1;
    ASSERT_EQ(s.size(), 2 * replace + 1);
    EXPECT_NE(s[0].bulk, nullptr);
    EXPECT_EQ(s[replace].bulk, nullptr);
    EXPECT_NE(s[replace].sql.find("VALUES (2,"), std::string::npos) << s[replace].sql;
    EXPECT_NE(s.back().bulk, nullptr);
  }
  // A NULL fits any form; a value of another form (a Latin-1 column now written as bytes) starts
  // another bulk update.
  auto nulls = wideRow(2, 1, "b");
  nulls.values[2] = Value::null();
  auto bytes = wideRow(3, 1, "c");
  bytes.values[2] = Value::ofText(Value::Kind::kBytes, "c");
  auto s = stepsOf(sole, {update(wideRow(1, 1, "a")), update(nulls), update(bytes)});
  ASSERT_EQ(s.size(), 2u);
  ASSERT_NE(s[0].bulk, nullptr);
  ASSERT_NE(s[1].bulk, nullptr);
  EXPECT_EQ(s[0].bulk->rows.size(), 2u);
  EXPECT_NE(s[1].bulk->sql.find("`s`=?,"), std::string::npos) << s[1].bulk->sql;
}

// A bulk update stays below the statement size, like a REPLACE.
TEST(BatchSqlTest, BulkUpdatesAreCutAtTheStatementSize) {
  TableKeys keys{{0}, {{0}}, true};
  BatchSql b(4096, true);
  for (int id = 1; id <= 100; ++id) {
    auto after = wideRow(id, 1, std::string(200, 'x'));
    ASSERT_TRUE(b.add(wideEv(ChangeEvent::Op::kUpdate, wideRow(id, 0, ""), after), keys).ok());
  }
  ASSERT_TRUE(b.finish().ok());
  size_t rows = 0;
  auto steps = b.takeSteps();
  for (const BatchStep& s : steps) {
    ASSERT_NE(s.bulk, nullptr);
    EXPECT_LE(s.bulk->rows.size(), 4096u / 200);
    rows += s.bulk->rows.size();
  }
  EXPECT_EQ(rows, 100u);
  EXPECT_GT(steps.size(), 5u);
}

}  // namespace
}  // namespace dts::sink
