#include "source/writes_through.h"

#include <gtest/gtest.h>

#include "pipeline/mapping.h"

namespace dts::source {
namespace {

pipeline::Mapping moved() {
  pipeline::DatabaseSelection s5;  // every table
  s5.database = "s5";
  pipeline::DatabaseSelection s6;  // table t only
  s6.database = "s6";
  pipeline::TableSelection t;
  t.name = "t";
  s6.tables = {t};
  auto m = pipeline::Mapping::create({s5, s6});
  EXPECT_TRUE(m.ok());
  return *m;
}

// A statement-logged write to a table the task does not move changed a moved one through a view
// or a trigger, and the task went on without those rows (found by a tester).
TEST(WritesThroughTest, ViewsAndTriggersThatNameMovedTablesCount) {
  const pipeline::Mapping m = moved();
  // As MariaDB shows a view's definition: every table qualified.
  EXPECT_EQ(
      judgeWritesThrough(m, "select `s5`.`t`.`id` AS `id`,`s5`.`t`.`v` AS `v` from `s5`.`t`", {}),
      "a view over `s5`.`t`");
  EXPECT_EQ(judgeWritesThrough(m, "select `o`.`x`.`id` AS `id` from `o`.`x`", {}), "");
  EXPECT_EQ(judgeWritesThrough(m, "", {{"other", "tr", "insert into s5.t values (new.id, 7)"}}),
            "its trigger `other`.`tr` names `s5`.`t`");
  // An unqualified name is in the trigger's database (one that moves some of its tables).
  EXPECT_EQ(judgeWritesThrough(m, "", {{"s6", "tr", "UPDATE t SET v = v + 1"}}),
            "its trigger `s6`.`tr` names `s6`.`t`");
  EXPECT_EQ(judgeWritesThrough(m, "", {{"s6", "tr", "UPDATE u SET v = v + 1"}}), "");
  EXPECT_EQ(judgeWritesThrough(m, "", {{"other", "tr", "BEGIN CALL p(NEW.id); END"}}),
            "its trigger `other`.`tr` names a procedure (CALL)");
  EXPECT_EQ(judgeWritesThrough(m, "", {{"other", "tr", "INSERT INTO log VALUES (NEW.id)"}}), "");
  EXPECT_EQ(judgeWritesThrough(m, "", {}), "");
}

}  // namespace
}  // namespace dts::source
