#include "pipeline/object_ddl.h"

#include <gtest/gtest.h>

#include "pipeline/ddl_rewrite.h"

namespace dts::pipeline {
namespace {

// shop -> shop2 moved whole; crm as is, whole; sales -> sales2 with a table list (orders ->
// orders_v2).
Mapping mapping() {
  DatabaseSelection shop;
  shop.database = "shop";
  shop.rename_to = "shop2";
  DatabaseSelection crm;
  crm.database = "crm";
  DatabaseSelection sales;
  sales.database = "sales";
  sales.rename_to = "sales2";
  TableSelection orders;
  orders.name = "orders";
  orders.rename_to = "orders_v2";
  sales.tables = {orders};
  auto m = Mapping::create({shop, crm, sales});
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return *m;
}

// "APPLY <db>|<sql>", "NOT <reason start>", "SKIP", "TABLE" (not an object statement), "ERROR".
std::string judge(const std::string& sql, const std::string& db = "shop") {
  auto m = mapping();
  auto r = rewriteObjectStatement(sql, db, &m);
  if (!r.ok()) return "ERROR " + r.status().message();
  if (!r->has_value()) return "TABLE";
  switch ((*r)->action) {
    case ObjectStatement::Action::kApply: return "APPLY " + (*r)->target_database + "|" + (*r)->sql;
    case ObjectStatement::Action::kNotApplied: return "NOT " + (*r)->reason.substr(0, 8);
    case ObjectStatement::Action::kSkip: return "SKIP";
  }
  return "?";
}

TEST(ObjectDdlTest, ViewsAndRoutinesAreAppliedWithoutDefinerAndRenamed) {
  EXPECT_EQ(judge("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER "
                  "VIEW `v` AS SELECT * FROM t"),
            "APPLY shop2|CREATE ALGORITHM=UNDEFINED  SQL SECURITY DEFINER VIEW `v` AS SELECT * "
            "FROM t");
  EXPECT_EQ(judge("CREATE OR REPLACE VIEW shop.v AS SELECT a.x, shop.t.y FROM `shop`.`t` a JOIN "
                  "crm.c ON 1 WHERE s = 'shop.t'",
                  "crm"),
            "APPLY crm|CREATE OR REPLACE VIEW `shop2`.v AS SELECT a.x, `shop2`.t.y FROM "
            "`shop2`.`t` a JOIN crm.c ON 1 WHERE s = 'shop.t'");
  // A table the task routes under another name is named so.
  EXPECT_EQ(judge("CREATE VIEW v AS SELECT * FROM sales.orders"),
            "APPLY shop2|CREATE VIEW v AS SELECT * FROM `sales2`.`orders_v2`");
  EXPECT_EQ(judge("CREATE DEFINER='app'@'%' PROCEDURE p(IN n INT) BEGIN SELECT n; END"),
            "APPLY shop2|CREATE  PROCEDURE p(IN n INT) BEGIN SELECT n; END");
  EXPECT_EQ(judge("CREATE DEFINER=CURRENT_USER() FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1"),
            "APPLY shop2|CREATE  FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1");
  EXPECT_EQ(judge("DROP VIEW IF EXISTS v, shop.w"), "APPLY shop2|DROP VIEW IF EXISTS v, `shop2`.w");
  EXPECT_EQ(judge("DROP PROCEDURE IF EXISTS p"), "APPLY shop2|DROP PROCEDURE IF EXISTS p");
  EXPECT_EQ(judge("ALTER DEFINER=`a`@`b` VIEW v AS SELECT 2"),
            "APPLY shop2|ALTER  VIEW v AS SELECT 2");
  EXPECT_EQ(judge("ALTER FUNCTION f COMMENT 'x'"), "APPLY shop2|ALTER FUNCTION f COMMENT 'x'");
  // mysqldump's executable comments, as the server reads them.
  EXPECT_EQ(judge("/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` "
                  "SQL SECURITY DEFINER */ /*!50001 VIEW `v` AS select 1 AS `1` */"),
            "APPLY shop2|  CREATE ALGORITHM=UNDEFINED      SQL SECURITY DEFINER     VIEW `v` AS "
            "select 1 AS `1`  ");
  // An unquoted host that lexes as several tokens goes with its definer.
  EXPECT_EQ(judge("CREATE DEFINER=app@127.0.0.1 VIEW v AS SELECT 1"),
            "APPLY shop2|CREATE  VIEW v AS SELECT 1");
}

TEST(ObjectDdlTest, OnlyObjectsOfADatabaseMovedWholeAreTheTasks) {
  EXPECT_EQ(judge("CREATE VIEW v AS SELECT 1", "other"), "SKIP");
  EXPECT_EQ(judge("CREATE VIEW other.v AS SELECT 1"), "SKIP");
  EXPECT_EQ(judge("CREATE VIEW v AS SELECT 1", "sales"), "SKIP");  // a table list
  EXPECT_EQ(judge("CREATE PROCEDURE p() SELECT 1", "sales"), "SKIP");
  EXPECT_EQ(judge("CREATE VIEW crm.v AS SELECT 1", "other"),
            "APPLY other|CREATE VIEW crm.v AS SELECT 1");
}

TEST(ObjectDdlTest, TriggersAndEventsOfMovedObjectsAreNotApplied) {
  EXPECT_EQ(judge("CREATE DEFINER=`root`@`localhost` TRIGGER trg BEFORE INSERT ON t FOR EACH ROW "
                  "SET NEW.a = 1"),
            "NOT triggers");
  EXPECT_EQ(judge("CREATE TRIGGER trg AFTER UPDATE ON sales.orders FOR EACH ROW SET @a = 1", ""),
            "NOT triggers");
  EXPECT_EQ(judge("CREATE TRIGGER trg AFTER UPDATE ON sales.other FOR EACH ROW SET @a = 1", ""),
            "SKIP");
  EXPECT_EQ(judge("DROP TRIGGER IF EXISTS shop.trg", ""), "NOT triggers");
  EXPECT_EQ(judge("DROP TRIGGER trg", "other"), "SKIP");
  EXPECT_EQ(judge("CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t"), "NOT events a");
  EXPECT_EQ(judge("ALTER EVENT e DISABLE"), "NOT events a");
  EXPECT_EQ(judge("DROP EVENT IF EXISTS e", "other"), "SKIP");
  EXPECT_EQ(judge("CREATE FUNCTION metaphon RETURNS STRING SONAME 'udf_example.so'"),
            "NOT a loadab");
}

TEST(ObjectDdlTest, MaintenanceAndAccountStatementsAreSkipped) {
  for (const char* sql :
       {"ANALYZE TABLE t", "OPTIMIZE TABLE t", "REPAIR TABLE t", "CHECK TABLE t",
        "FLUSH PRIVILEGES", "GRANT SELECT ON shop.* TO 'app'@'%'", "REVOKE ALL ON shop.* FROM app",
        "CREATE USER 'app'@'%' IDENTIFIED BY 'x'", "CREATE OR REPLACE USER app",
        "ALTER USER app IDENTIFIED BY 'y'", "DROP USER IF EXISTS app", "RENAME USER a TO b",
        "CREATE ROLE r", "DROP ROLE r", "SET PASSWORD FOR app = PASSWORD('z')",
        "SET DEFAULT ROLE r FOR app", "INSTALL SONAME 'ha_blackhole'", "UNINSTALL PLUGIN x",
        "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'h')"}) {
    EXPECT_EQ(judge(sql), "SKIP") << sql;
  }
}

TEST(ObjectDdlTest, TableAndDatabaseStatementsAreLeftToTheTableRules) {
  for (const char* sql :
       {"CREATE TABLE t (id INT)", "CREATE OR REPLACE TABLE t (id INT)", "ALTER TABLE t ADD x INT",
        "DROP TABLE t", "CREATE INDEX i ON t (a)", "DROP INDEX i ON t", "CREATE DATABASE d",
        "ALTER DATABASE shop CHARACTER SET utf8mb4", "RENAME TABLE a TO b", "TRUNCATE t",
        "CREATE SEQUENCE s", "SET STATEMENT max_statement_time=1 FOR ALTER TABLE t ADD y INT",
        "CREATE VIEW 'unterminated"}) {
    EXPECT_EQ(judge(sql), "TABLE") << sql;
  }
}

TEST(ObjectDdlTest, DdlRewriteAppliesDropsOrSkipsThem) {
  auto m = mapping();
  auto view = rewriteDdl("CREATE DEFINER=`root`@`%` VIEW v AS SELECT * FROM shop.t", "shop", &m);
  ASSERT_TRUE(view.ok() && view->has_value()) << view.status().toString();
  EXPECT_EQ((*view)->sql, "CREATE  VIEW v AS SELECT * FROM `shop2`.t");
  EXPECT_EQ((*view)->target_database, "shop2");
  EXPECT_TRUE((*view)->holds_no_rows);
  EXPECT_TRUE((*view)->not_applied.empty());
  auto trigger =
      rewriteDdl("CREATE TRIGGER g BEFORE INSERT ON t FOR EACH ROW SET @a = 1", "shop", &m);
  ASSERT_TRUE(trigger.ok() && trigger->has_value());
  EXPECT_NE((*trigger)->not_applied.find("act a second time"), std::string::npos);
  auto grant = rewriteDdl("GRANT SELECT ON *.* TO app", "shop", &m);
  ASSERT_TRUE(grant.ok());
  EXPECT_FALSE(grant->has_value());
  // A change log records them as sent.
  auto recorded =
      rewriteDdl("CREATE DEFINER=`root`@`%` VIEW v AS SELECT 1", "shop", &m, DdlUse::kRecord);
  ASSERT_TRUE(recorded.ok() && recorded->has_value());
  EXPECT_EQ((*recorded)->sql, "CREATE DEFINER=`root`@`%` VIEW v AS SELECT 1");
  EXPECT_TRUE((*recorded)->not_applied.empty());
}

TEST(ObjectDdlTest, DefinitionsForTheInitialCopy) {
  auto m = mapping();
  struct Case {
    std::string shown, want;
  };
  const std::vector<Case> cases = {
      {"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW `shop`.`v` "
       "AS select `shop`.`t`.`id` AS `id` from `shop`.`t`",
       "CREATE ALGORITHM=UNDEFINED  SQL SECURITY INVOKER VIEW `shop2`.`v` AS select "
       "`shop2`.`t`.`id` AS `id` from `shop2`.`t`"},
      // The DEFINER of SQL SECURITY DEFINER is not the clause.
      {"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `shop`.`v` "
       "AS select 1 AS `1`",
       "CREATE ALGORITHM=UNDEFINED  SQL SECURITY DEFINER VIEW `shop2`.`v` AS select 1 AS `1`"},
      {"CREATE DEFINER=`app`@`%` PROCEDURE `p`(IN n INT)\nBEGIN\n  -- shop.t is here\n  SELECT "
       "COUNT(*) FROM shop.t WHERE id = n;\nEND",
       "CREATE  PROCEDURE `p`(IN n INT)\nBEGIN\n  -- shop.t is here\n  SELECT COUNT(*) FROM "
       "`shop2`.t WHERE id = n;\nEND"},
  };
  for (const Case& c : cases) {
    auto got = objectDefinitionForDestination(c.shown, &m);
    ASSERT_TRUE(got.ok()) << c.shown << ": " << got.status().toString();
    EXPECT_EQ(*got, c.want);
  }
  EXPECT_FALSE(objectDefinitionForDestination("SELECT 1", &m).ok());
  EXPECT_FALSE(objectDefinitionForDestination("CREATE VIEW v AS SELECT 'x", &m).ok());
}

}  // namespace
}  // namespace dts::pipeline
