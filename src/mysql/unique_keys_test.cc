#include "mysql/unique_keys.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

// EXTRA as information_schema.COLUMNS shows it: MariaDB 10.1, 10.2+ and MySQL 5.7/8.0 (from
// their manuals; MySQL itself is not installable here).
TEST(GeneratedColumnTest, OnlyColumnsTheServerComputesAreGenerated) {
  for (const char* generated :
       {"VIRTUAL GENERATED", "STORED GENERATED", "virtual generated", "VIRTUAL", "PERSISTENT",
        "STORED GENERATED INVISIBLE", "  VIRTUAL   GENERATED  "}) {
    EXPECT_TRUE(isGeneratedColumnExtra(generated)) << generated;
  }
  // MySQL 8 marks a column whose DEFAULT is an expression DEFAULT_GENERATED: it is written.
  for (const char* written :
       {"", "auto_increment", "DEFAULT_GENERATED", "DEFAULT_GENERATED on update CURRENT_TIMESTAMP",
        "on update current_timestamp()", "INVISIBLE", "DEFAULT_GENERATED INVISIBLE"}) {
    EXPECT_FALSE(isGeneratedColumnExtra(written)) << written;
  }
}

TEST(GeneratedColumnTest, ReadsTheTablesGeneratedColumnsInOrder) {
  std::string asked;
  auto query = [&](const std::string& sql) -> Result<QueryResult> {
    asked = sql;
    QueryResult r;
    r.rows = {{std::string("id"), std::string("")},
              {std::string("v"), std::string("VIRTUAL GENERATED")},
              {std::string("d"), std::string("DEFAULT_GENERATED")},
              {std::string("s"), std::string("STORED GENERATED")}};
    return r;
  };
  auto quote = [](std::string_view t) { return "'" + std::string(t) + "'"; };
  auto got = readGeneratedColumns(query, quote, "db", "t");
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(*got, (std::vector<std::string>{"v", "s"}));
  EXPECT_NE(asked.find("TABLE_SCHEMA = 'db' AND TABLE_NAME = 't'"), std::string::npos) << asked;

  auto failing = [](const std::string&) -> Result<QueryResult> {
    return Status::Unavailable("gone");
  };
  auto err = readGeneratedColumns(failing, quote, "db", "t");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().toString().find("generated columns of `db`.`t`"), std::string::npos)
      << err.status().toString();
}

}  // namespace
}  // namespace dts::mysql
