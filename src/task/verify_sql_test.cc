#include "task/verify_sql.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/terminal_text.h"
#include "task/verify.h"

namespace dts::task {
namespace {

VerifyColumn col(std::string name, std::string type, bool json = false) {
  VerifyColumn c;
  c.name = std::move(name);
  c.data_type = std::move(type);
  c.json = json;
  return c;
}

TEST(VerifySqlTest, KindsFollowTheDataType) {
  EXPECT_EQ(col("a", "bigint").kind(), VerifyColumn::Kind::kInteger);
  EXPECT_EQ(col("a", "decimal").kind(), VerifyColumn::Kind::kExact);
  EXPECT_EQ(col("a", "float").kind(), VerifyColumn::Kind::kFloat);
  EXPECT_EQ(col("a", "double").kind(), VerifyColumn::Kind::kDouble);
  EXPECT_EQ(col("a", "bit").kind(), VerifyColumn::Kind::kBit);
  EXPECT_EQ(col("a", "timestamp").kind(), VerifyColumn::Kind::kTemporal);
  EXPECT_EQ(col("a", "enum").kind(), VerifyColumn::Kind::kText);
  EXPECT_EQ(col("a", "varbinary").kind(), VerifyColumn::Kind::kBytes);
  EXPECT_EQ(col("a", "json").kind(), VerifyColumn::Kind::kJson);
  // MariaDB's JSON is a longtext flagged by its json_valid CHECK.
  EXPECT_EQ(col("a", "longtext", true).kind(), VerifyColumn::Kind::kJson);
  EXPECT_EQ(col("a", "longtext").kind(), VerifyColumn::Kind::kText);
}

// The text of an ENUM or SET does not tell every value apart ('' is the ENUM error value and a
// member '', the empty SET and {''}): both sides compare the index or bitmask with the text, and
// one with a member '' is shown (and repaired) as its number. Never hashed as the bare column.
TEST(VerifySqlTest, EnumAndSetAreComparedByTheirNumbers) {
  VerifyColumn e = col("e", "enum");
  e.column_type = "enum('a','','b')";
  e.charset = "utf8mb4";
  e.collation = "utf8mb4_general_ci";
  VerifyColumn s = col("s", "set");
  s.column_type = "set('x','y')";
  s.charset = "utf8mb4";
  s.collation = "utf8mb4_general_ci";
  EXPECT_EQ(canonicalExpr(e, ServerFlavor::kMariaDB),
            "CONCAT(`e` + 0, ':', CONVERT(`e` USING utf8mb4))");
  EXPECT_EQ(canonicalExpr(s, ServerFlavor::kMySQL),
            "CONCAT(`s` + 0, ':', CONVERT(`s` USING utf8mb4))");
  EXPECT_TRUE(e.shownByNumber());
  EXPECT_FALSE(s.shownByNumber());
  EXPECT_EQ(displayExpr(e), "(`e` + 0)");
  EXPECT_EQ(displayExpr(s), "CONVERT(`s` USING utf8mb4)");
  std::string image = rowImageExpr({e, s}, ServerFlavor::kMariaDB);
  EXPECT_NE(image.find("CONCAT(`e` + 0, ':'"), std::string::npos) << image;
  EXPECT_NE(image.find("CONCAT(`s` + 0, ':'"), std::string::npos) << image;
}

TEST(VerifySqlTest, CanonicalValuesNormaliseWhatMustNotDiffer) {
  EXPECT_EQ(canonicalExpr(col("v", "varchar"), ServerFlavor::kMariaDB),
            "CONVERT(`v` USING utf8mb4)");
  EXPECT_EQ(canonicalExpr(col("j", "longtext", true), ServerFlavor::kMariaDB),
            "JSON_NORMALIZE(`j`)");
  VerifyColumn same = col("j", "longtext", true);
  same.exact_bytes = true;  // one character set on both sides: the text itself
  EXPECT_EQ(canonicalExpr(same, ServerFlavor::kMariaDB), "CAST(`j` AS BINARY)");
  VerifyColumn sjis = col("v", "varchar");
  sjis.charset = "sjis";
  sjis.exact_bytes = true;
  EXPECT_EQ(canonicalExpr(sjis, ServerFlavor::kMariaDB), "CAST(`v` AS BINARY)");
  EXPECT_EQ(displayExpr(sjis), "CAST(`v` AS BINARY)");
  EXPECT_EQ(canonicalExpr(col("j", "json"), ServerFlavor::kMySQL),
            "CAST(`j` AS CHAR CHARACTER SET utf8mb4)");
  // FLOAT exactly: 9 significant digits tell every two floats apart (tests/verify_test.cc checks
  // it on a server, for neighbouring floats of every binade and power of ten).
  std::string f = canonicalExpr(col("f", "float"), ServerFlavor::kMariaDB);
  EXPECT_NE(f.find("DECIMAL(10,8)"), std::string::npos) << f;
  // DOUBLE exactly: significand and binary exponent (tests/verify_test.cc checks on a server
  // that doubles one ULP apart differ), never a rounded decimal.
  std::string d = canonicalExpr(col("d", "double"), ServerFlavor::kMariaDB);
  EXPECT_EQ(d.find("DECIMAL"), std::string::npos) << d;
  EXPECT_NE(d.find("POW(2, "), std::string::npos) << d;
  // -0 is not 0 (ATAN2 tells them apart; -0 = 0 in SQL).
  EXPECT_NE(d.find("IF(`d` = 0, IF(ATAN2(`d`, -1) < 0, '-0', '0')"), std::string::npos) << d;
  EXPECT_NE(f.find("IF(`f` = 0, IF(ATAN2(`f`, -1) < 0, '-0', '0')"), std::string::npos) << f;
  EXPECT_EQ(canonicalExpr(col("b", "bit"), ServerFlavor::kMariaDB), "CAST(`b` AS UNSIGNED)");
  EXPECT_EQ(canonicalExpr(col("we`ird", "int"), ServerFlavor::kMariaDB), "`we``ird`");
}

TEST(VerifySqlTest, FloatsAreShownExactly) {
  // A FLOAT column prints 6 significant digits: repair SQL and key predicates need the value.
  EXPECT_EQ(displayExpr(col("f", "float")),
            "IF(`f` = 0, IF(ATAN2(`f`, -1) < 0, '-0', '0'), `f` * 1e0)");
  EXPECT_EQ(displayExpr(col("d", "double")),
            "IF(`d` = 0, IF(ATAN2(`d`, -1) < 0, '-0', '0'), `d` * 1e0)");
  EXPECT_EQ(displayExpr(col("b", "bit")), "CAST(`b` AS UNSIGNED)");
  EXPECT_EQ(displayExpr(col("i", "int")), "`i`");
}

TEST(VerifySqlTest, RowImageHasLengthsOfShortStringsAndNullFlags) {
  std::string h =
      rowImageExpr({col("id", "int"), col("s", "varchar"), col("b", "varbinary"), col("t", "text")},
                   ServerFlavor::kMariaDB);
  EXPECT_EQ(h,
            "CONCAT_WS('#', `id`, CONVERT(`s` USING utf8mb4), `b`,"
            " MD5(CONVERT(`t` USING utf8mb4)), CONCAT_WS(',', LENGTH(CONVERT(`s` USING utf8mb4)),"
            " LENGTH(`b`)), CONCAT(ISNULL(`id`), ISNULL(`s`), ISNULL(`b`), ISNULL(`t`)))");
  EXPECT_EQ(rowHashExpr({col("id", "int")}, ServerFlavor::kMariaDB),
            "MD5(" + rowImageExpr({col("id", "int")}, ServerFlavor::kMariaDB) + ")");
}

// What pt-table-checksum hashes for sysbench's table, plus the lengths that keep two strings
// with '#' in them apart: utf8mb4 columns of one collation enter as they are, NOT NULL columns
// have no flag.
TEST(VerifySqlTest, RowImageIsLeanForUtf8mb4AndNotNullColumns) {
  auto text = [](std::string name, std::string collation, bool nullable) {
    VerifyColumn c = col(std::move(name), "char");
    c.charset = "utf8mb4";
    c.collation = std::move(collation);
    c.nullable = nullable;
    return c;
  };
  VerifyColumn id = col("id", "int");
  id.nullable = false;
  EXPECT_EQ(rowImageExpr({id, text("c", "utf8mb4_general_ci", false),
                          text("pad", "utf8mb4_general_ci", false)},
                         ServerFlavor::kMariaDB),
            "CONCAT_WS('#', `id`, `c`, `pad`, CONCAT_WS(',', LENGTH(`c`), LENGTH(`pad`)))");
  // One string column: no lengths; a nullable one keeps its flag.
  EXPECT_EQ(rowImageExpr({id, text("c", "utf8mb4_general_ci", true)}, ServerFlavor::kMariaDB),
            "CONCAT_WS('#', `id`, `c`, CONCAT(ISNULL(`c`)))");
  // Two collations would not concatenate: both are converted (to the same bytes).
  EXPECT_EQ(rowImageExpr({text("a", "utf8mb4_bin", false), text("b", "utf8mb4_general_ci", false)},
                         ServerFlavor::kMariaDB),
            "CONCAT_WS('#', CONVERT(`a` USING utf8mb4), CONVERT(`b` USING utf8mb4),"
            " CONCAT_WS(',', LENGTH(CONVERT(`a` USING utf8mb4)),"
            " LENGTH(CONVERT(`b` USING utf8mb4))))");
}

TEST(VerifySqlTest, ChecksumIsCountAndExactSum) {
  std::string sql = chunkChecksumSql("`d`.`t`", {col("id", "int")}, ServerFlavor::kMariaDB,
                                     andWhere("`id` > 5", "status <> 'x'"), RowHash::kMd5);
  EXPECT_EQ(sql.rfind("SELECT COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5(", 0), 0u) << sql;
  EXPECT_EQ(
      chunkChecksumSql("`d`.`t`", {col("id", "int")}, ServerFlavor::kMariaDB, "", RowHash::kCrc32)
          .rfind("SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS(", 0),
      0u);
  EXPECT_NE(sql.find("FROM `d`.`t` WHERE (`id` > 5) AND (status <> 'x')"), std::string::npos)
      << sql;
  EXPECT_EQ(
      chunkChecksumSql("`d`.`t`", {col("id", "int")}, ServerFlavor::kMariaDB, "", RowHash::kMd5)
          .find("WHERE"),
      std::string::npos);
  EXPECT_EQ(andWhere("", ""), "");
  EXPECT_EQ(andWhere("a", ""), "(a)");
  EXPECT_EQ(andWhere("", "b"), "(b)");
}

VerifyReport sampleReport() {
  VerifyReport r;
  r.task = "t1";
  TableVerifyResult t;
  t.source_table = "s.a";
  t.target_table = "d.a";
  t.data_compared = true;
  t.source_rows = 3;
  t.destination_rows = 3;
  RowDifference changed;
  changed.kind = RowDifference::Kind::kChanged;
  changed.key = {{"id", "7"}};
  changed.columns = {{"name", "x", std::nullopt}};
  changed.fix_sql = "REPLACE INTO `d`.`a` (`id`, `name`) VALUES (7, 'x');";
  RowDifference extra;
  extra.kind = RowDifference::Kind::kExtra;
  extra.key = {{"id", "9"}};
  extra.fix_sql = "DELETE FROM `d`.`a` WHERE `id` = 9;";
  t.rows = {changed, extra};
  t.row_differences = 2;
  t.schema.push_back({"column `c`", "character set", "utf8mb4", "latin1"});
  r.tables.push_back(t);
  TableVerifyResult same;
  same.source_table = "s.b";
  same.target_table = "d.b";
  same.data_compared = true;
  r.tables.push_back(same);
  return r;
}

TEST(VerifyReportTest, TotalsAndEquality) {
  VerifyReport r = sampleReport();
  EXPECT_FALSE(r.equal());
  EXPECT_EQ(r.rowDifferences(), 2u);
  EXPECT_EQ(r.schemaDifferences(), 1u);
  EXPECT_TRUE(r.tables[1].equal());
  TableVerifyResult skipped;
  skipped.data_skipped_reason = "the destination table does not exist";
  EXPECT_FALSE(skipped.equal());
}

TEST(VerifyReportTest, TextNamesEachDifference) {
  std::string text = verifyReportText(sampleReport());
  EXPECT_NE(text.find("DIFFERENT"), std::string::npos) << text;
  EXPECT_NE(text.find("changed: id='7'"), std::string::npos) << text;
  EXPECT_NE(text.find("name: source 'x', destination NULL"), std::string::npos) << text;
  EXPECT_NE(text.find("extra: id='9'"), std::string::npos) << text;
  EXPECT_NE(text.find("schema: column `c`: character set (source utf8mb4, destination latin1)"),
            std::string::npos)
      << text;
}

TEST(VerifyReportTest, JsonCarriesKeysColumnsAndNulls) {
  auto j = nlohmann::json::parse(verifyReportJson(sampleReport()));
  EXPECT_EQ(j["equal"], false);
  EXPECT_EQ(j["row_differences"], 2);
  const auto& rows = j["tables"][0]["rows"];
  EXPECT_EQ(rows[0]["kind"], "changed");
  EXPECT_EQ(rows[0]["key"]["id"], "7");
  EXPECT_EQ(rows[0]["columns"][0]["column"], "name");
  EXPECT_TRUE(rows[0]["columns"][0]["destination"].is_null());
  EXPECT_EQ(rows[1]["kind"], "extra");
  EXPECT_EQ(j["tables"][1]["equal"], true);
}

TEST(VerifyReportTest, TableJsonForTheStatusIsBounded) {
  TableVerifyResult t = sampleReport().tables[0];
  // A long value of two-byte characters: cut on a character boundary, its size said.
  std::string long_value;
  for (int i = 0; i < 150; ++i) long_value += "\xc3\xa9";  // é
  t.rows[0].columns[0].source = long_value;
  nlohmann::json j = verifyTableJson(t, 1, 101);
  ASSERT_EQ(j["rows"].size(), 1u) << "one row listed";
  EXPECT_EQ(j["row_differences"], 2) << "both counted";
  std::string shown = j["rows"][0]["columns"][0]["source"];
  EXPECT_EQ(shown, long_value.substr(0, 100) + "... (300 bytes)");
  EXPECT_EQ(j["rows"][0]["key"]["id"], "7");
  EXPECT_EQ(j["schema"][0]["what"], "character set");
  // Without limits: everything, as verifyReportJson has it.
  nlohmann::json all = verifyTableJson(t, 0, 0);
  EXPECT_EQ(all["rows"].size(), 2u);
  EXPECT_EQ(all["rows"][0]["columns"][0]["source"], long_value);
  EXPECT_EQ(nlohmann::json::parse(verifyReportJson(sampleReport()))["tables"][0],
            verifyTableJson(sampleReport().tables[0], 0, 0));
}

TEST(VerifyReportTest, FixSqlHasTheStatementsAndSchemaAsComments) {
  std::string sql = verifyFixSql(sampleReport());
  EXPECT_NE(sql.find("SET NAMES utf8mb4;"), std::string::npos);
  // The literals' escapes mean what they say whatever the destination's sql_mode (a global
  // NO_BACKSLASH_ESCAPES stored '\\back' for '\back'); the session's mode comes back at the end.
  const size_t mode = sql.find("SET SESSION sql_mode = 'STRICT_ALL_TABLES,");
  ASSERT_NE(mode, std::string::npos) << sql;
  EXPECT_EQ(sql.find("NO_BACKSLASH_ESCAPES"), std::string::npos) << sql;
  EXPECT_LT(mode, sql.find("REPLACE INTO"));
  EXPECT_NE(sql.find("SET SESSION sql_mode = @dts_verify_sql_mode;\n"), std::string::npos) << sql;
  EXPECT_NE(sql.find("REPLACE INTO `d`.`a` (`id`, `name`) VALUES (7, 'x');"), std::string::npos);
  EXPECT_NE(sql.find("DELETE FROM `d`.`a` WHERE `id` = 9;"), std::string::npos);
  EXPECT_NE(sql.find("-- schema (not repaired here): column `c`: character set"),
            std::string::npos);
  EXPECT_EQ(sql.find("s.b"), std::string::npos) << "an equal table has no section";
}

// The summary's columns line up by terminal cells, whatever bytes a name's characters take.
TEST(VerifyReportTest, TableColumnsAlignForNonAsciiNames) {
  VerifyReport report;
  report.task = "t";
  for (const char* name :
       {"shop.orders", "shop.t\xc3\xabst_\xc3\xbcn\xc3\xaf", "shop.\xe8\xae\xa2\xe5\x8d\x95"}) {
    TableVerifyResult t;
    t.source_table = t.target_table = name;
    report.tables.push_back(t);
  }
  const std::string text = verifyReportText(report);
  std::vector<size_t> arrows;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    const std::string line = text.substr(at, nl - at);
    const size_t arrow = line.find(" -> ");
    if (arrow != std::string::npos) arrows.push_back(displayWidth(line.substr(0, arrow)));
  }
  ASSERT_EQ(arrows.size(), 3u) << text;
  EXPECT_EQ(arrows[0], 40u) << text;
  EXPECT_EQ(arrows[1], 40u) << text;
  EXPECT_EQ(arrows[2], 40u) << text;
}

}  // namespace
}  // namespace dts::task
