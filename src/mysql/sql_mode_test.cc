#include "mysql/sql_mode.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

constexpr auto kMaria = ServerFlavor::kMariaDb;
constexpr auto kMySql = ServerFlavor::kMySql;

std::string forDest(uint64_t bits, ServerFlavor from, ServerFlavor to, bool no_dir = true) {
  auto r = sqlModeForDestination(bits, from, to, no_dir);
  return r.ok() ? *r : "error: " + r.status().message();
}

// Values MariaDB 10.11 logged (Q_SQL_MODE_CODE) for its default mode and for
// 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,PIPES_AS_CONCAT'.
constexpr uint64_t kMariaDefault = 1411383296;
constexpr uint64_t kAnsiNoEscapesPipes = 1048582;

TEST(SqlModeTest, NamesAreTheSourceServersOwn) {
  EXPECT_EQ(sqlModeNames(kMariaDefault, kMaria),
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,"
            "NO_ENGINE_SUBSTITUTION");
  EXPECT_EQ(sqlModeNames(kAnsiNoEscapesPipes, kMaria),
            "PIPES_AS_CONCAT,ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
  EXPECT_EQ(sqlModeNames(0, kMaria), "");
  // Bit 4 and bit 32 differ between the flavours; bit 34 is MariaDB's alone.
  EXPECT_EQ(sqlModeNames(1ull << 4, kMaria), "IGNORE_BAD_TABLE_OPTIONS");
  EXPECT_EQ(sqlModeNames(1ull << 4, kMySql), "bit 4");
  EXPECT_EQ(sqlModeNames(1ull << 32, kMaria), "EMPTY_STRING_IS_NULL");
  EXPECT_EQ(sqlModeNames(1ull << 32, kMySql), "TIME_TRUNCATE_FRACTIONAL");
  EXPECT_EQ(sqlModeNames(1ull << 34, kMaria), "TIME_ROUND_FRACTIONAL");
  EXPECT_EQ(sqlModeNames(1ull << 40, kMaria), "bit 40");
}

TEST(SqlModeTest, TheLexerReadsQuotesAndBackslashesAsTheModeSays) {
  SqlLexerOptions o = lexerOptionsForSqlMode(kAnsiNoEscapesPipes);
  EXPECT_TRUE(o.ansi_quotes);
  EXPECT_TRUE(o.no_backslash_escapes);
  o = lexerOptionsForSqlMode(kMariaDefault);
  EXPECT_FALSE(o.ansi_quotes);
  EXPECT_FALSE(o.no_backslash_escapes);
}

TEST(SqlModeTest, MariaDbToMariaDbKeepsEveryModeAndAddsNoDirInCreateForTables) {
  EXPECT_EQ(forDest(kAnsiNoEscapesPipes, kMaria, kMaria),
            "PIPES_AS_CONCAT,ANSI_QUOTES,NO_BACKSLASH_ESCAPES,NO_DIR_IN_CREATE");
  // A routine keeps the source's mode as it was.
  EXPECT_EQ(forDest(kAnsiNoEscapesPipes, kMaria, kMaria, false),
            "PIPES_AS_CONCAT,ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
  EXPECT_EQ(forDest((1ull << 7) | (1ull << 19), kMaria, kMaria, false),
            "NO_DIR_IN_CREATE,NO_AUTO_VALUE_ON_ZERO");
  // The empty mode stays empty: no NO_AUTO_VALUE_ON_ZERO, so an ALTER renumbers a 0 as there.
  EXPECT_EQ(forDest(0, kMaria, kMaria, false), "");
  EXPECT_EQ(forDest((1ull << 34) | (1ull << 33) | (1ull << 32), kMaria, kMaria, false),
            "EMPTY_STRING_IS_NULL,SIMULTANEOUS_ASSIGNMENT,TIME_ROUND_FRACTIONAL");
}

TEST(SqlModeTest, FractionalSecondsRoundAsAtTheSourceAcrossFlavours) {
  // MySQL rounds unless TIME_TRUNCATE_FRACTIONAL; MariaDB truncates unless TIME_ROUND_FRACTIONAL.
  const uint64_t strict = 1ull << 21;
  EXPECT_EQ(forDest(strict, kMySql, kMaria, false), "STRICT_TRANS_TABLES,TIME_ROUND_FRACTIONAL");
  EXPECT_EQ(forDest(strict | (1ull << 32), kMySql, kMaria, false), "STRICT_TRANS_TABLES");
  EXPECT_EQ(forDest(strict, kMySql, kMySql, false), "STRICT_TRANS_TABLES");
  EXPECT_EQ(forDest(strict | (1ull << 32), kMySql, kMySql, false),
            "STRICT_TRANS_TABLES,TIME_TRUNCATE_FRACTIONAL");
  EXPECT_EQ(forDest(strict, kMaria, kMySql, false), "STRICT_TRANS_TABLES,TIME_TRUNCATE_FRACTIONAL");
  EXPECT_EQ(forDest(strict | (1ull << 34), kMaria, kMySql, false), "STRICT_TRANS_TABLES");
}

// For a destination older than the fractional-seconds modes, which refuses their names.
TEST(SqlModeTest, TheFractionalSecondsModeCanBeLeftOut) {
  const uint64_t strict = 1ull << 21;
  EXPECT_EQ(fractionalSecondsMode(strict, kMaria, kMySql), "TIME_TRUNCATE_FRACTIONAL");
  EXPECT_EQ(fractionalSecondsMode(strict, kMySql, kMaria), "TIME_ROUND_FRACTIONAL");
  EXPECT_EQ(fractionalSecondsMode(strict | (1ull << 34), kMaria, kMaria), "TIME_ROUND_FRACTIONAL");
  EXPECT_EQ(fractionalSecondsMode(strict, kMaria, kMaria), "");
  auto r = sqlModeForDestination(strict | (1ull << 34), kMaria, kMaria, false, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "STRICT_TRANS_TABLES");
  r = sqlModeForDestination(strict, kMaria, kMySql, false, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "STRICT_TRANS_TABLES");
}

TEST(SqlModeTest, AMySqlDestinationLeavesOutWhatItLacksAndRefusesWhatChangesMeaning) {
  // MariaDB's mode of SHOW output and MySQL 5.7's NO_AUTO_CREATE_USER: left out.
  EXPECT_EQ(forDest(kMariaDefault | (1ull << 13) | (1ull << 4) | (1ull << 34), kMaria, kMySql),
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,"
            "NO_DIR_IN_CREATE");
  for (int bit : {32, 9, 12}) {  // EMPTY_STRING_IS_NULL, ORACLE, MAXDB
    std::string r = forDest(1ull << bit, kMaria, kMySql);
    EXPECT_EQ(r.rfind("error: ", 0), 0u) << bit << ": " << r;
    EXPECT_NE(r.find(sqlModeNames(1ull << bit, kMaria)), std::string::npos) << r;
    EXPECT_NE(r.find("MySQL destination"), std::string::npos) << r;
  }
  // MySQL 5.7's ORACLE (bit 9, only the modes it spells out) is left out, as MySQL 8 does.
  EXPECT_EQ(forDest((1ull << 9) | (1ull << 2), kMySql, kMySql, false), "ANSI_QUOTES");
  // MySQL's unused bit 4 is no mode at all.
  EXPECT_EQ(forDest(1ull << 4, kMySql, kMaria, false), "TIME_ROUND_FRACTIONAL");
}

TEST(SqlModeTest, ABitNoServerDefinesIsAnError) {
  std::string r = forDest(1ull << 40, kMaria, kMaria);
  EXPECT_EQ(r,
            "error: the source ran this statement under sql_mode bit 40, which dts does not know");
  EXPECT_EQ(forDest(1ull << 33, kMySql, kMaria).rfind("error: ", 0), 0u);
}

TEST(SqlModeTest, DtsSessionsClearOnlyTheModesThatChangeItsStatementsAndReads) {
  // MariaDB's sql_mode=ORACLE, as @@sql_mode spells it, plus strictness and a value mode.
  EXPECT_EQ(sessionSqlModeForDts(
                "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,"
                "NO_FIELD_OPTIONS,NO_AUTO_CREATE_USER,SIMULTANEOUS_ASSIGNMENT,STRICT_TRANS_TABLES,"
                "NO_AUTO_VALUE_ON_ZERO"),
            "IGNORE_SPACE,NO_AUTO_CREATE_USER,STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO");
  EXPECT_EQ(sessionSqlModeForDts("STRICT_TRANS_TABLES,EMPTY_STRING_IS_NULL,PAD_CHAR_TO_FULL_LENGTH,"
                                 "no_backslash_escapes,HIGH_NOT_PRECEDENCE"),
            "STRICT_TRANS_TABLES");
  // MySQL 8's ANSI: REAL_AS_FLOAT and ONLY_FULL_GROUP_BY stay.
  EXPECT_EQ(sessionSqlModeForDts(
                "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI"),
            "REAL_AS_FLOAT,IGNORE_SPACE,ONLY_FULL_GROUP_BY");
  EXPECT_EQ(sessionSqlModeForDts(""), "");
  EXPECT_EQ(sessionSqlModeForDts("MAXDB,DB2,MSSQL,POSTGRESQL,MYSQL323,MYSQL40"), "");
  // A name it does not know stays (a newer server's).
  EXPECT_EQ(sessionSqlModeForDts("STRICT_ALL_TABLES,SOME_FUTURE_MODE"),
            "STRICT_ALL_TABLES,SOME_FUTURE_MODE");
}

}  // namespace
}  // namespace dts::mysql
