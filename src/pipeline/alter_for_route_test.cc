// ALTER TABLE of tables moved with a column subset or a WHERE filter, through rewriteDdl.
#include "pipeline/alter_for_route.h"

#include <gtest/gtest.h>

#include "pipeline/ddl_rewrite.h"

namespace dts::pipeline {
namespace {

Mapping mapping() {
  DatabaseSelection shop;
  shop.database = "shop";
  shop.rename_to = "shop2";
  TableSelection slim;  // a column subset
  slim.name = "slim";
  slim.columns = {"id", "name", "Größe"};
  TableSelection hot;  // a WHERE filter, every column
  hot.name = "hot";
  hot.where = "status = 'a'";
  TableSelection both;  // a subset, filtered on a column it does not keep
  both.name = "both";
  both.columns = {"id", "v"};
  both.where = "flag = 1";
  shop.tables = {slim, hot, both};
  auto m = Mapping::create({shop});
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return *m;
}

std::string rewrite(const std::string& sql) {
  auto m = mapping();
  auto r = rewriteDdl(sql, "shop", &m);
  if (!r.ok()) return "ERROR " + r.status().message();
  if (!r->has_value()) return "SKIP";
  return (*r)->sql;
}

// The reason of a refusal, after the table's part.
std::string refusal(const std::string& sql) {
  std::string out = rewrite(sql);
  size_t at = out.find(", and the statement ");
  if (out.rfind("ERROR", 0) != 0 || at == std::string::npos) return "NOT REFUSED: " + out;
  return out.substr(at + 20);
}

TEST(AlterForRouteTest, ChangesToColumnsTheDestinationLacksAreLeftOut) {
  EXPECT_EQ(rewrite("ALTER TABLE slim ADD COLUMN x INT"), "SKIP");
  EXPECT_EQ(rewrite("alter table slim add x int not null default 0 after name, add y text first"),
            "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim ADD COLUMN IF NOT EXISTS (x INT, y VARCHAR(10))"), "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim DROP COLUMN x, DROP y, DROP COLUMN IF EXISTS z"), "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim MODIFY x BIGINT, CHANGE y y2 INT, ALTER z SET DEFAULT 1"),
            "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim RENAME COLUMN x TO x2, ALGORITHM=INPLACE, LOCK=NONE"),
            "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim ADD INDEX ix (x), ADD UNIQUE KEY u (x, y(10))"), "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim ADD CONSTRAINT c CHECK (x > 0)"), "SKIP");
  EXPECT_EQ(rewrite("ALTER TABLE slim ADD FOREIGN KEY (x) REFERENCES other (id)"), "SKIP");
}

TEST(AlterForRouteTest, ChangesToKeptColumnsAndTheTableAreApplied) {
  EXPECT_EQ(rewrite("ALTER TABLE slim ADD x INT, MODIFY name VARCHAR(200) NOT NULL AFTER id"),
            "ALTER TABLE `shop2`.`slim` MODIFY name VARCHAR(200) NOT NULL");
  EXPECT_EQ(rewrite("ALTER TABLE slim CHANGE COLUMN `NAME` `name` TEXT FIRST, ALGORITHM=COPY"),
            "ALTER TABLE `shop2`.`slim` CHANGE COLUMN `NAME` `name` TEXT, ALGORITHM=COPY");
  EXPECT_EQ(rewrite("ALTER TABLE slim ALTER COLUMN name SET DEFAULT 'n', ADD INDEX ix (name(5))"),
            "ALTER TABLE `shop2`.`slim` ALTER COLUMN name SET DEFAULT 'n', ADD INDEX ix (name(5))");
  EXPECT_EQ(rewrite("ALTER TABLE slim DROP INDEX ix, DROP KEY IF EXISTS `k``2`"),
            "ALTER TABLE `shop2`.`slim` DROP INDEX IF EXISTS `ix`, DROP INDEX IF EXISTS `k``2`");
  EXPECT_EQ(rewrite("ALTER TABLE slim DROP FOREIGN KEY fk, DROP CONSTRAINT c"),
            "ALTER TABLE `shop2`.`slim` DROP FOREIGN KEY IF EXISTS `fk`, DROP CONSTRAINT IF "
            "EXISTS `c`");
  EXPECT_EQ(rewrite("ALTER TABLE slim ENGINE=InnoDB COMMENT 'x, y', ADD z INT"),
            "ALTER TABLE `shop2`.`slim` ENGINE=InnoDB COMMENT 'x, y'");
  EXPECT_EQ(rewrite("ALTER TABLE slim CONVERT TO CHARACTER SET utf8mb4"),
            "ALTER TABLE `shop2`.`slim` CONVERT TO CHARACTER SET utf8mb4");
  EXPECT_EQ(rewrite("ALTER ONLINE TABLE shop.slim WAIT 5 ADD x INT, MODIFY `Größe` INT"),
            "ALTER ONLINE TABLE `shop2`.`slim` WAIT 5 MODIFY `Größe` INT");
}

TEST(AlterForRouteTest, WhatTheDestinationCannotFollowIsRefusedSayingWhy) {
  EXPECT_EQ(refusal("ALTER TABLE slim ADD x INT, DROP COLUMN name"),
            "drops column `name`, which the task moves");
  EXPECT_EQ(refusal("ALTER TABLE slim CHANGE name full_name TEXT"),
            "renames column `name`, which the task moves");
  EXPECT_EQ(refusal("ALTER TABLE slim RENAME COLUMN ID TO key_id"),
            "renames column `ID`, which the task moves");
  EXPECT_EQ(refusal("ALTER TABLE slim CHANGE x NAME TEXT"),
            "renames column `x` to `NAME`, the name of a column the task moves");
  EXPECT_EQ(refusal("ALTER TABLE slim ADD COLUMN Name INT"),
            "adds column `Name` under the name of a column the task moves");
  EXPECT_EQ(refusal("ALTER TABLE slim ADD INDEX (name, x)"),
            "adds an index over columns the task moves and columns it does not");
  EXPECT_EQ(refusal("ALTER TABLE slim ADD CHECK (name <> '')"),
            "adds a CHECK constraint that reads column `name`, which the task moves");
  EXPECT_EQ(refusal("ALTER TABLE slim DROP PRIMARY KEY, ADD PRIMARY KEY (id, name)"),
            "'DROP PRIMARY KEY' on a column subset");
  EXPECT_EQ(refusal("ALTER TABLE slim ADD PRIMARY KEY (id)"),
            "changes the primary key of a column subset");
  EXPECT_EQ(refusal("ALTER TABLE slim ADD FOREIGN KEY (name) REFERENCES other (n)").substr(0, 41),
            "adds a foreign key over columns the task ");
  EXPECT_EQ(refusal("ALTER TABLE slim PARTITION BY HASH (id) PARTITIONS 4"),
            "'PARTITION BY HASH (id) PARTITIONS 4' on a column subset");
  EXPECT_EQ(refusal("ALTER TABLE slim ENGINE=InnoDB PARTITION BY KEY (id)"),
            "'ENGINE=InnoDB PARTITION BY KEY (id)' on a column subset");
  EXPECT_EQ(refusal("ALTER TABLE slim ORDER BY name"), "'ORDER BY name' on a column subset");
  EXPECT_EQ(refusal("ALTER TABLE slim RENAME INDEX a TO b"),
            "'RENAME INDEX a TO b' on a column subset");
  // A name that folds to a kept one only by letters beyond ASCII: not guessed.
  EXPECT_EQ(refusal("ALTER TABLE slim DROP `GRÖßE`"),
            "cannot tell whether column `GRÖßE` is one the task moves (its name differs from one "
            "only in letters beyond ASCII)");
  // Still refused as a whole: CREATE of the table.
  EXPECT_NE(rewrite("CREATE OR REPLACE TABLE slim (id INT)").find("column subset"),
            std::string::npos);
}

TEST(AlterForRouteTest, AWhereFilterKeepsEveryChangeButToTheColumnsItReads) {
  EXPECT_EQ(rewrite("ALTER TABLE hot ADD x INT AFTER status, MODIFY status VARCHAR(20)"),
            "ALTER TABLE `shop2`.`hot` ADD x INT AFTER status, MODIFY status VARCHAR(20)");
  EXPECT_EQ(rewrite("ALTER TABLE hot ADD INDEX i (status), DROP INDEX j, ORDER BY status"),
            "ALTER TABLE `shop2`.`hot` ADD INDEX i (status), DROP INDEX j, ORDER BY status");
  EXPECT_EQ(refusal("ALTER TABLE hot DROP COLUMN status"),
            "drops column `status`, which the WHERE filter reads");
  EXPECT_EQ(refusal("ALTER TABLE hot CHANGE `Status` st CHAR(1)"),
            "renames column `Status`, which the WHERE filter reads");
  // A subset filtered on a column it does not keep: that column still matters.
  EXPECT_EQ(rewrite("ALTER TABLE both DROP other, MODIFY flag BIGINT"), "SKIP");
  EXPECT_EQ(refusal("ALTER TABLE both DROP flag"),
            "drops column `flag`, which the WHERE filter reads");
  // A filter's REFERENCES under a database rename is refused as for any table.
  EXPECT_NE(rewrite("ALTER TABLE hot ADD FOREIGN KEY (a) REFERENCES x (id)").find("REFERENCES"),
            std::string::npos);
}

}  // namespace
}  // namespace dts::pipeline
