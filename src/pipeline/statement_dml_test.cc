#include "pipeline/statement_dml.h"

#include <gtest/gtest.h>

namespace dts::pipeline {
namespace {

// "db.t db.u" for the targets, "?" when unknown, "-" for no data change.
std::string targets(std::string_view sql, mysql::SqlLexerOptions lex = {}) {
  auto d = statementDml(sql, "app", lex);
  if (!d.has_value()) return "-";
  if (d->unknown_targets) return "?";
  std::string out;
  for (const auto& [db, t] : d->targets) out += (out.empty() ? "" : " ") + db + "." + t;
  return out;
}

TEST(StatementDmlTest, NamesTheTablesAStatementWrites) {
  EXPECT_EQ(targets("INSERT INTO t VALUES (1)"), "app.t");
  EXPECT_EQ(targets("insert low_priority ignore into `shop`.`orders` (a) values (1)"),
            "shop.orders");
  EXPECT_EQ(targets("INSERT shop.o SELECT * FROM other.x"), "shop.o");
  EXPECT_EQ(targets("/* app */ REPLACE INTO t SET a = 1"), "app.t");
  EXPECT_EQ(targets("UPDATE t SET v = v + 10 WHERE id = 1"), "app.t");
  EXPECT_EQ(targets("UPDATE LOW_PRIORITY a AS x JOIN b.c y ON x.id = y.id SET x.v = 1"),
            "app.a b.c");
  EXPECT_EQ(targets("UPDATE a, b SET a.v = b.v WHERE a.id = b.id"), "app.a app.b");
  EXPECT_EQ(targets("UPDATE a FORCE INDEX (PRIMARY) LEFT JOIN b USING (id) SET a.v = 1"),
            "app.a app.b");
  EXPECT_EQ(targets("DELETE FROM t WHERE id = 3"), "app.t");
  EXPECT_EQ(targets("DELETE QUICK FROM s.t PARTITION (p1) WHERE id = 3"), "s.t");
  EXPECT_EQ(targets("DELETE a, b FROM a JOIN s.t b ON a.id = b.id WHERE a.x = 1"),
            "app.a app.b app.a s.t");
  EXPECT_EQ(targets("DELETE FROM a.* USING a JOIN b ON a.id = b.id"), "app.a app.a app.b");
  EXPECT_EQ(targets("LOAD DATA INFILE '/tmp/x' INTO TABLE s.t FIELDS TERMINATED BY ','"), "s.t");
  // Read as the session's sql_mode wrote it.
  EXPECT_EQ(targets("UPDATE \"s\".\"t\" SET \"v\" = 'C:\\' WHERE id = 1",
                    {.ansi_quotes = true, .no_backslash_escapes = true}),
            "s.t");
}

TEST(StatementDmlTest, WhatTheTextDoesNotSayIsUnknown) {
  EXPECT_EQ(targets("SELECT app.f(1)"), "?");
  EXPECT_EQ(targets("(SELECT f())"), "?");
  EXPECT_EQ(targets("DO f()"), "?");
  EXPECT_EQ(targets("CALL p()"), "?");
  EXPECT_EQ(targets("WITH c AS (SELECT 1) UPDATE t SET v = 1"), "?");
  EXPECT_EQ(targets("UPDATE (SELECT 1) x SET v = 1"), "?");
  EXPECT_EQ(targets("INSERT /*!50000 IGNORE */ INTO t VALUES (1)"), "?");
  EXPECT_EQ(targets("INSERT INTO t VALUES ('unterminated"), "?");
}

TEST(StatementDmlTest, OtherStatementsAreNoDataChange) {
  for (const char* sql : {"ALTER TABLE t ADD c INT", "CREATE TABLE t (a INT)", "BEGIN", "COMMIT",
                          "SET @a = 1", "GRANT SELECT ON *.* TO u", "TRUNCATE TABLE t",
                          "LOAD INDEX INTO CACHE t", "DROP TABLE t", "ANALYZE TABLE t"}) {
    EXPECT_EQ(targets(sql), "-") << sql;
  }
}

}  // namespace
}  // namespace dts::pipeline
