#include "pipeline/row_filter.h"

#include <gtest/gtest.h>

#include "pipeline/filter_evaluator.h"
#include "pipeline/mapping_for_tests.h"

namespace dts::pipeline {
namespace {

using mysql::Value;

mysql::TableInfo table() {
  mysql::TableInfo t;
  t.database = "shop";
  t.table = "orders";
  t.columns.resize(4);
  t.columns[0].name = "id";
  t.columns[1].name = "status";
  t.columns[2].name = "total";
  t.columns[3].name = "note";
  t.columns[1].collation = mysql::kUtf8mb4Collation;  // utf8mb4_general_ci
  t.columns[3].collation = 46;                        // utf8mb4_bin
  return t;
}

mysql::RowImage row(int64_t id, const char* status, const char* total, const char* note) {
  mysql::RowImage r;
  r.values.push_back(Value::ofInt(id));
  r.values.push_back(status ? Value::ofText(Value::Kind::kString, status) : Value::null());
  r.values.push_back(total ? Value::ofText(Value::Kind::kDecimal, total) : Value::null());
  r.values.push_back(note ? Value::ofText(Value::Kind::kString, note) : Value::null());
  r.present.assign(4, true);
  return r;
}

bool eval(const std::string& where, const mysql::RowImage& r) {
  auto f = RowFilter::compile(where);
  EXPECT_TRUE(f.ok()) << where << ": " << f.status().toString();
  if (!f.ok()) return false;
  auto m = (*f)->matches(table(), r, nullptr);
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return m.ok() && *m;
}

TEST(RowFilterTest, ComparesLikeSql) {
  auto r = row(7, "paid", "12.50", nullptr);
  auto r2 = row(7, "paid", "12.50", "note");
  EXPECT_TRUE(eval("status <> 'test'", r));
  EXPECT_FALSE(eval("status = 'test'", r));
  EXPECT_TRUE(eval("status = 'PAID'", r));  // case-insensitive text
  EXPECT_TRUE(eval("id > 5 AND total >= 12.5", r));
  EXPECT_FALSE(eval("id > 5 AND total > 12.5", r));
  EXPECT_TRUE(eval("id < 5 OR `total` BETWEEN 10 AND 20", r));
  EXPECT_TRUE(eval("id IN (1, 7, 9)", r));
  EXPECT_FALSE(eval("id NOT IN (1, 7, 9)", r));
  EXPECT_TRUE(eval("note LIKE 'n%e'", r2));
  EXPECT_TRUE(eval("note NOT LIKE 'x_'", r2));
  EXPECT_TRUE(eval("note IS NULL", r));
  EXPECT_FALSE(eval("note IS NOT NULL", r));
  EXPECT_TRUE(eval("NOT (id = 1)", r));
  EXPECT_TRUE(eval("id = -3 OR id = 7", r));
  EXPECT_TRUE(eval("note <=> NULL", r));
}

TEST(RowFilterTest, NullIsNotTrue) {
  auto r = row(1, nullptr, nullptr, nullptr);
  EXPECT_FALSE(eval("status <> 'test'", r));  // NULL <> 'test' is unknown: row not selected
  EXPECT_FALSE(eval("NOT (status = 'test')", r));
  EXPECT_TRUE(eval("status IS NULL OR id = 1", r));
  EXPECT_FALSE(eval("id IN (2, NULL)", r));
}

TEST(RowFilterTest, RejectsWhatItCannotEvaluate) {
  for (const char* bad : {"", "status =", "now() > 1", "a.b = 1", "id IN 1", "id IN (1", "x IS 3",
                          "'unterminated", "`unterminated", "id = 1 garbage", "id NOT 3",
                          "status LIKE id", "id BETWEEN 1 OR 2", "(id = 1"}) {
    auto f = RowFilter::compile(bad);
    EXPECT_FALSE(f.ok()) << bad;
    if (!f.ok()) {
      EXPECT_NE(f.status().message().find("where:"), std::string::npos);
    }
  }
}

TEST(RowFilterTest, UnknownOrMissingColumnIsAnError) {
  auto f = RowFilter::compile("nope = 1");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE((*f)->matches(table(), row(1, "a", "1", "n"), nullptr).ok());
  auto g = RowFilter::compile("note = 'n'");
  ASSERT_TRUE(g.ok());
  auto r = row(1, "a", "1", "n");
  r.present[3] = false;
  EXPECT_FALSE((*g)->matches(table(), r, nullptr).ok());
  EXPECT_EQ((*g)->columns(), std::vector<std::string>{"note"});
}

TEST(RowFilterTest, RendersQuotedSql) {
  auto f = RowFilter::compile(
      "status <> 'te''st' AND `we``ird` IN (1, -2.5) OR note IS NOT NULL AND NOT x LIKE 'a%'");
  ASSERT_TRUE(f.ok()) << f.status().toString();
  auto q = [](std::string_view s) { return "Q[" + std::string(s) + "]"; };
  EXPECT_EQ((*f)->toSql(q),
            "(((`status` <> Q[te'st]) AND (`we``ird` IN (1, -2.5))) OR ((`note` IS NOT NULL) AND "
            "(NOT (`x` LIKE Q[a%]))))");
}

// One column `c` of the given type, kind and collation, holding `value`.
struct OneColumn {
  mysql::TableInfo table;
  mysql::RowImage row;
};
OneColumn oneColumn(mysql::ColumnType type, uint16_t collation, Value value) {
  OneColumn o;
  o.table.database = "db";
  o.table.table = "t";
  o.table.columns.resize(1);
  o.table.columns[0].name = "c";
  o.table.columns[0].type = type;
  o.table.columns[0].collation = collation;
  o.row.values.push_back(std::move(value));
  return o;
}

constexpr uint16_t kGeneralCi = 45, kUtf8mb4Bin = 46, kLatin1Swedish = 8, kLatin1Bin = 47,
                   kUnicodeCi = 224, kUtf8mb4NopadBin = 1070;

// Local judgement: nullopt = the server must judge.
std::optional<bool> local(const std::string& where, const OneColumn& o) {
  auto f = RowFilter::compile(where);
  EXPECT_TRUE(f.ok()) << where;
  auto m = (*f)->matchesLocally(o.table, o.row);
  EXPECT_TRUE(m.ok()) << where << ": " << m.status().toString();
  return m.ok() ? *m : std::nullopt;
}

Value text(const char* s) {
  return Value::ofText(Value::Kind::kString, s);
}

TEST(RowFilterTest, BinaryCollationsCompareBytesWithTheirPadRule) {
  using CT = mysql::ColumnType;
  // The tester's case: utf8mb4_bin keeps 'TEST' and 'Test' out of `s <> 'test'`'s exclusion.
  EXPECT_EQ(local("c <> 'test'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("TEST"))), true);
  EXPECT_EQ(local("c <> 'test'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("Test"))), true);
  EXPECT_EQ(local("c <> 'test'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("test"))), false);
  // PAD SPACE: 'a ' = 'a'; and 'a' > 'a\t' (the shorter is padded with spaces, not cut).
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("a  "))), true);
  EXPECT_EQ(local("c > 'a'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("a\t"))), false);
  EXPECT_EQ(local("c < 'a'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("a\t"))), true);
  // NO PAD (and binary): trailing spaces count.
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, kUtf8mb4NopadBin, text("a "))), false);
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, mysql::kBinaryCollation,
                                       Value::ofText(Value::Kind::kBytes, "a "))),
            false);
  // Non-ASCII utf8mb4 compares by code point = byte order.
  EXPECT_EQ(local("c > 'z'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("é"))), true);
  // latin1_bin: an ASCII literal compares byte-wise; a non-ASCII one is converted by the server.
  EXPECT_EQ(local("c > 'z'", oneColumn(CT::kVarchar, kLatin1Bin, text("\xe9"))), true);
  EXPECT_EQ(local("c = 'é'", oneColumn(CT::kVarchar, kLatin1Bin, text("\xe9"))), std::nullopt);
  // LIKE: byte-wise only on single-byte text.
  EXPECT_EQ(local("c LIKE 'T_S%'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("TEST"))), true);
  EXPECT_EQ(local("c LIKE 't%'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("TEST"))), false);
  EXPECT_EQ(local("c LIKE '_'", oneColumn(CT::kVarchar, kUtf8mb4Bin, text("é"))), std::nullopt);
}

TEST(RowFilterTest, CaseInsensitiveCollationsAreLocalOnlyForAsciiEquality) {
  using CT = mysql::ColumnType;
  EXPECT_EQ(local("c <> 'test'", oneColumn(CT::kVarchar, kGeneralCi, text("TEST"))), false);
  EXPECT_EQ(local("c IN ('x', 'Paid ')", oneColumn(CT::kVarchar, kUnicodeCi, text("PAID"))), true);
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, kLatin1Swedish, text("A"))), true);
  // The tester's case: 'tést' = 'test' under general_ci; only the server knows.
  EXPECT_EQ(local("c <> 'test'", oneColumn(CT::kVarchar, kGeneralCi, text("tést"))), std::nullopt);
  // Ordering and LIKE under *_ci (punctuation sorts differently in UCA), control characters
  // (ignorable in UCA), unknown collations: the server.
  EXPECT_EQ(local("c < 'a'", oneColumn(CT::kVarchar, kGeneralCi, text("_"))), std::nullopt);
  EXPECT_EQ(local("c LIKE 'a%'", oneColumn(CT::kVarchar, kGeneralCi, text("abc"))), std::nullopt);
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, kUnicodeCi, text("a\x01"))), std::nullopt);
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, 0, text("a"))), std::nullopt);
  EXPECT_EQ(local("c = 'a'", oneColumn(CT::kVarchar, 10 /* swe7_swedish_ci */, text("a"))),
            std::nullopt);
}

TEST(RowFilterTest, NumbersAreExactAndOtherTypesGoToTheServer) {
  using CT = mysql::ColumnType;
  auto dec = [](const char* s) { return Value::ofText(Value::Kind::kDecimal, s); };
  EXPECT_EQ(local("c = 0.1", oneColumn(CT::kNewDecimal, 0, dec("0.10"))), true);
  EXPECT_EQ(local("c > 12345678901234567890.1",
                  oneColumn(CT::kNewDecimal, 0, dec("12345678901234567890.10"))),
            false);  // as doubles these would be equal
  EXPECT_EQ(local("c >= 1.00000000000000000001", oneColumn(CT::kLong, 0, Value::ofInt(1))), false);
  EXPECT_EQ(local("c = -0", oneColumn(CT::kNewDecimal, 0, dec("-0.00"))), true);
  EXPECT_EQ(local("c = 18446744073709551615",
                  oneColumn(CT::kLongLong, 0, Value::ofUInt(18446744073709551615ull))),
            true);
  Value f;
  f.kind = Value::Kind::kFloat;
  f.d = static_cast<double>(0.1f);
  EXPECT_EQ(local("c = 0.1", oneColumn(CT::kFloat, 0, f)), false);  // as the server: a double
  EXPECT_EQ(local("c IS NOT NULL",
                  oneColumn(CT::kDateTime2, 0,
                            Value::ofText(Value::Kind::kTemporal, "2024-01-01 00:00:00"))),
            true);
  EXPECT_EQ(local("c > '2024-01-01'",
                  oneColumn(CT::kDateTime2, 0,
                            Value::ofText(Value::Kind::kTemporal, "2024-01-01 00:00:00"))),
            std::nullopt);
  EXPECT_EQ(local("c = '5'", oneColumn(CT::kLong, 0, Value::ofInt(5))), std::nullopt);
  EXPECT_EQ(local("c = 5", oneColumn(CT::kVarchar, kGeneralCi, text("5"))), std::nullopt);
  Value e = Value::ofUInt(1);
  e.kind = Value::Kind::kEnum;
  e.s = "a";
  EXPECT_EQ(local("c = 1", oneColumn(CT::kString, kGeneralCi, e)), std::nullopt);
  EXPECT_EQ(local("c = 2024", oneColumn(CT::kYear, 0, Value::ofInt(2024))), true);
  // A YEAR against a two-digit year: neither dts nor a literal at the server reproduces the
  // server's conversion of the constant (24 -> 2024).
  auto f24 = RowFilter::compile("c = 24");
  ASSERT_TRUE(f24.ok());
  auto y = (*f24)->matchesLocally(oneColumn(CT::kYear, 0, Value::ofInt(2024)).table,
                                  oneColumn(CT::kYear, 0, Value::ofInt(2024)).row);
  EXPECT_EQ(y.status().code(), Status::Code::kUnsupported);
}

TEST(RowFilterTest, AsksTheServerWithTypedLiterals) {
  using CT = mysql::ColumnType;
  testing::RecordingFilterEvaluator server;
  auto f = RowFilter::compile("c <> 'test'");
  ASSERT_TRUE(f.ok());
  auto o = oneColumn(CT::kVarchar, kGeneralCi, text("tést"));
  server.answer = [](const mysql::RowImage&) { return false; };
  auto m = (*f)->matches(o.table, o.row, &server);
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_FALSE(*m);  // the server's answer, not dts's
  ASSERT_EQ(server.asked.size(), 1u);
  EXPECT_EQ(
      server.asked[0],
      "(CAST(_utf8mb4 X'74C3A97374' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci) <> "
      "'test')");
  // Local cases never reach it.
  auto ascii = oneColumn(CT::kVarchar, kGeneralCi, text("TEST"));
  ASSERT_TRUE((*f)->matches(ascii.table, ascii.row, &server).ok());
  EXPECT_EQ(server.asked.size(), 1u);

  auto sql = [](const std::string& where, const OneColumn& o) {
    auto g = RowFilter::compile(where);
    EXPECT_TRUE(g.ok());
    auto q = [](std::string_view s) { return "'" + std::string(s) + "'"; };
    auto r = (*g)->toSqlForRow(o.table, o.row, q);
    return r.ok() ? *r : r.status().toString();
  };
  EXPECT_EQ(sql("c > '2024-1-1'",
                oneColumn(CT::kDateTime2, 0,
                          Value::ofText(Value::Kind::kTemporal, "2024-01-01 00:00:00.5"))),
            "(CAST('2024-01-01 00:00:00.5' AS DATETIME(6)) > '2024-1-1')");
  EXPECT_EQ(sql("c = '2024-1-1'",
                oneColumn(CT::kNewDate, 0, Value::ofText(Value::Kind::kTemporal, "2024-01-01"))),
            "(CAST('2024-01-01' AS DATE) = '2024-1-1')");
  EXPECT_EQ(sql("c = 'x'", oneColumn(CT::kVarchar, kLatin1Swedish, text("\xe5"))),
            "(CAST(_latin1 X'E5' AS CHAR CHARACTER SET latin1 COLLATE latin1_swedish_ci) = 'x')");
  EXPECT_EQ(sql("c = 5", oneColumn(CT::kBlob, mysql::kBinaryCollation,
                                   Value::ofText(Value::Kind::kBytes, "5"))),
            "(_binary X'35' = 5)");
  EXPECT_EQ(
      sql("c > 1.5", oneColumn(CT::kNewDecimal, 0, Value::ofText(Value::Kind::kDecimal, "-2.50"))),
      "((-2.50) > 1.5)");
  // ENUM: its index against numbers, its name against strings.
  Value e = Value::ofUInt(2);
  e.kind = Value::Kind::kEnum;
  e.s = "b";
  EXPECT_EQ(sql("c IN (1, 2)", oneColumn(CT::kString, kGeneralCi, e)), "(2 IN (1, 2))");
  EXPECT_EQ(
      sql("c = 'B'", oneColumn(CT::kString, kGeneralCi, e)),
      "(CAST(_utf8mb4 X'62' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci) = 'B')");
  EXPECT_EQ(sql("c IS NULL", oneColumn(CT::kVarchar, kGeneralCi, Value::null())), "(NULL IS NULL)");
}

// Two columns: `c` and `d`, of the given types and values.
OneColumn twoColumns(mysql::ColumnType type_c, uint16_t collation_c, Value c,
                     mysql::ColumnType type_d, uint16_t collation_d, Value d) {
  OneColumn o = oneColumn(type_c, collation_c, std::move(c));
  o.table.columns.resize(2);
  o.table.columns[1].name = "d";
  o.table.columns[1].type = type_d;
  o.table.columns[1].collation = collation_d;
  o.row.values.push_back(std::move(d));
  return o;
}

std::string rowSql(const std::string& where, const OneColumn& o,
                   RowFilter::RowSqlOptions options = {}) {
  auto g = RowFilter::compile(where);
  EXPECT_TRUE(g.ok());
  auto q = [](std::string_view s) { return "'" + std::string(s) + "'"; };
  auto r = (*g)->toSqlForRow(o.table, o.row, q, options);
  return r.ok() ? *r : r.status().toString();
}

// Strings carry their column's coercibility (IMPLICIT, as CAST makes it), not COLLATE's
// (EXPLICIT): two columns of different collations of one character set meet as on the real
// columns (the _bin one wins) instead of failing with "illegal mix of collations".
TEST(RowFilterTest, StringsKeepTheirColumnsCoercibility) {
  using CT = mysql::ColumnType;
  auto o = twoColumns(CT::kVarchar, kUtf8mb4Bin, text("A"), CT::kVarchar, kGeneralCi, text("a"));
  EXPECT_EQ(rowSql("c = d", o),
            "(CAST(_utf8mb4 X'41' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_bin) = "
            "CAST(_utf8mb4 X'61' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci))");
  // A server without COLLATE in CAST gets the COLLATE clauses.
  EXPECT_EQ(rowSql("c = d", o, RowFilter::RowSqlOptions{false}),
            "((_utf8mb4 X'41' COLLATE utf8mb4_bin) = (_utf8mb4 X'61' COLLATE utf8mb4_general_ci))");
}

// A constant compared with a BIGINT column is converted by the server to the column's integer
// (only for a column: a literal in its place compared with a string or a double is compared as a
// double in BETWEEN, and doubles merge integers beyond 2^53), so dts sends that integer.
TEST(RowFilterTest, BigintColumnsCompareConstantsAsIntegers) {
  using CT = mysql::ColumnType;
  auto big = oneColumn(CT::kLongLong, 0, Value::ofInt(9007199254740992));
  EXPECT_EQ(rowSql("c BETWEEN '9007199254740993' AND '9007199254740999'", big),
            "((9007199254740992) BETWEEN 9007199254740993 AND 9007199254740999)");
  EXPECT_EQ(rowSql("c = '-0012'", big), "((9007199254740992) = -12)");
  EXPECT_EQ(rowSql("c IN ('9007199254740993', 9007199254740993e0)", big),
            "((9007199254740992) IN (9007199254740993, 9007199254740992))");
  auto ubig = oneColumn(CT::kLongLong, 0, Value::ofUInt(18446744073709551614u));
  EXPECT_EQ(rowSql("c = '18446744073709551615'", ubig),
            "(18446744073709551614 = 18446744073709551615)");
  // Out of the column's range, or not an integer: as written (the server does not convert).
  EXPECT_EQ(rowSql("c = '-1'", oneColumn(CT::kLongLong, 0, Value::ofUInt(5))), "(5 = '-1')");
  EXPECT_EQ(rowSql("c = 1.5e0", big), "((9007199254740992) = 1.5e0)");
  // Beyond 2^53 a string that is not an integer: no literal reproduces the server.
  EXPECT_NE(rowSql("c = '9007199254740993.0'", big).find("unsupported"), std::string::npos);
  // Below 2^53 the comparison is the same whether the server converts or not.
  EXPECT_EQ(rowSql("c = '5.0'", oneColumn(CT::kLongLong, 0, Value::ofInt(5))), "((5) = '5.0')");
  // Local judgement: an integral double against a BIGINT compares as integers.
  EXPECT_EQ(
      local("c = 9007199254740992e0", oneColumn(CT::kLongLong, 0, Value::ofInt(9007199254740993))),
      false);
  EXPECT_EQ(local("c = 9007199254740992e0", oneColumn(CT::kLong, 0, Value::ofInt(2000000000))),
            false);
}

// BIT and YEAR are numbers in comparisons; as LIKE's subject they are strings: a BIT its bytes, a
// YEAR its four digits. A YEAR against a four-digit year string compares as that year.
TEST(RowFilterTest, BitAndYearAsLikeSubjectsAreTheirText) {
  using CT = mysql::ColumnType;
  Value b = Value::ofUInt(0x61);
  b.kind = Value::Kind::kBit;
  b.s = "a";
  EXPECT_EQ(rowSql("c LIKE 'a'", oneColumn(CT::kBit, 0, b)), "(_binary X'61' LIKE 'a')");
  EXPECT_EQ(rowSql("c = 'a'", oneColumn(CT::kBit, 0, b)), "(97 = 'a')");
  EXPECT_EQ(rowSql("c LIKE '00%'", oneColumn(CT::kYear, 0, Value::ofInt(0))),
            "('0000' LIKE '00%')");
  EXPECT_EQ(rowSql("c BETWEEN '1999' AND '2024'", oneColumn(CT::kYear, 0, Value::ofInt(2024))),
            "((2024) BETWEEN 1999 AND 2024)");
  EXPECT_EQ(local("c = '2024'", oneColumn(CT::kYear, 0, Value::ofInt(2024))), true);
  EXPECT_EQ(local("c < '2024'", oneColumn(CT::kYear, 0, Value::ofInt(2024))), false);
  auto f = RowFilter::compile("c = '24'");
  ASSERT_TRUE(f.ok());
  auto y = oneColumn(CT::kYear, 0, Value::ofInt(2024));
  EXPECT_EQ((*f)->matchesLocally(y.table, y.row).status().code(), Status::Code::kUnsupported);
}

// An ENUM reads as its index against a number column and as its name against a string column;
// in an IN of numbers and strings each item meets it by its own type.
TEST(RowFilterTest, EnumComparedWithColumnsReadsAsTheServerReadsIt) {
  using CT = mysql::ColumnType;
  Value e = Value::ofUInt(3);
  e.kind = Value::Kind::kEnum;
  e.s = "10";
  EXPECT_EQ(rowSql("c = d", twoColumns(CT::kString, kGeneralCi, e, CT::kLong, 0, Value::ofInt(3))),
            "(3 = (3))");
  EXPECT_EQ(
      rowSql("c = d", twoColumns(CT::kString, kGeneralCi, e, CT::kVarchar, kUtf8mb4Bin, text("x"))),
      "(CAST(_utf8mb4 X'3130' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci) = "
      "CAST(_utf8mb4 X'78' AS CHAR CHARACTER SET utf8mb4 COLLATE utf8mb4_bin))");
  EXPECT_EQ(rowSql("c NOT IN (2, 'x')", oneColumn(CT::kString, kGeneralCi, e)),
            "(NOT ((3 = 2) OR (CAST(_utf8mb4 X'3130' AS CHAR CHARACTER SET utf8mb4 COLLATE "
            "utf8mb4_general_ci) = 'x')))");
  // BETWEEN a number and a string: one comparison type for all three, none reproduces it.
  EXPECT_NE(
      rowSql("c BETWEEN 1 AND 'x'", oneColumn(CT::kString, kGeneralCi, e)).find("unsupported"),
      std::string::npos);
}

TEST(RowFilterTest, NeverGuessesWhenTheServerCannotAnswer) {
  using CT = mysql::ColumnType;
  auto f = RowFilter::compile("c <> 'test'");
  ASSERT_TRUE(f.ok());
  auto o = oneColumn(CT::kVarchar, kGeneralCi, text("tést"));
  auto none = (*f)->matches(o.table, o.row, nullptr);
  EXPECT_EQ(none.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("db.t"), std::string::npos) << none.status().toString();
  testing::RecordingFilterEvaluator down;
  down.error = Status::Unavailable("source 127.0.0.1:3306 lost");
  auto lost = (*f)->matches(o.table, o.row, &down);
  EXPECT_EQ(lost.status().code(), Status::Code::kUnavailable);  // retryable
}

}  // namespace
}  // namespace dts::pipeline

namespace dts::pipeline {
namespace {

// A YEAR compared with a two-digit year is refused before any row (the precheck asks), wherever
// it sits in the expression; four-digit years and other columns pass.
TEST(RowFilterYearTest, ATwoDigitYearIsRefusedBeforeAnyRow) {
  for (const char* where : {"y = 99", "a = 1 OR y = 99", "NOT (y IN (2001, '24'))",
                            "a IS NULL OR y BETWEEN 1999 AND 24"}) {
    auto f = RowFilter::compile(where);
    ASSERT_TRUE(f.ok()) << where;
    Status st = (*f)->checkYearConstants("d", "t", {"Y"});
    EXPECT_EQ(st.code(), Status::Code::kUnsupported) << where;
    EXPECT_NE(st.message().find("where: the filter of d.t cannot be evaluated exactly: a YEAR "
                                "column compared with"),
              std::string::npos)
        << st.message();
  }
  for (const char* where : {"y = 1999", "y = '2024' AND a = 5", "a = 99", "y IS NULL"}) {
    auto f = RowFilter::compile(where);
    ASSERT_TRUE(f.ok()) << where;
    EXPECT_TRUE((*f)->checkYearConstants("d", "t", {"y"}).ok()) << where;
  }
}

}  // namespace
}  // namespace dts::pipeline
