#include "sink/sql_literal.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace dts::sink {
namespace {

using mysql::ColumnInfo;
using mysql::Value;
using Kind = Value::Kind;

std::string lit(const Value& v, uint16_t collation = 0) {
  ColumnInfo col;
  col.name = "c";
  col.collation = collation;
  auto r = sqlLiteral(v, col, mysql::ServerFlavor::kMySql);
  EXPECT_TRUE(r.ok()) << r.status().toString();
  return r.ok() ? *r : "";
}

Value text(Kind k, std::string s) {
  return Value::ofText(k, std::move(s));
}
Value dbl(Kind k, double d) {
  Value v;
  v.kind = k;
  v.d = d;
  return v;
}

constexpr uint16_t kUtf8mb4GeneralCi = 45;
constexpr uint16_t kLatin1SwedishCi = 8;

TEST(SqlLiteralTest, NullAndIntegers) {
  EXPECT_EQ(lit(Value::null()), "NULL");
  EXPECT_EQ(lit(Value::ofInt(0)), "0");
  EXPECT_EQ(lit(Value::ofInt(-42)), "-42");
  EXPECT_EQ(lit(Value::ofInt(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(lit(Value::ofInt(std::numeric_limits<int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(lit(Value::ofUInt(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
}

double parse(const std::string& s) {
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

TEST(SqlLiteralTest, FloatingPointRoundTripsWithExponent) {
  for (double d :
       {0.0, -0.0, 1.0, 0.1, -1.5e-300, DBL_MAX, DBL_MIN, 4.9e-324, 123456789.123456789}) {
    std::string s = lit(dbl(Kind::kDouble, d));
    EXPECT_NE(s.find('e'), std::string::npos) << s;  // an approximate-value literal
    EXPECT_EQ(parse(s), d) << s;
    EXPECT_EQ(std::signbit(parse(s)), std::signbit(d)) << s;
  }
  // FLOAT values are widened exactly: reading the literal as a double and narrowing gives the
  // same float bits.
  for (float f : {0.1f, 3.4028235e38f, 1.17549435e-38f, 1.4e-45f, -7.125f, 16777217.0f}) {
    std::string s = lit(dbl(Kind::kFloat, static_cast<double>(f)));
    EXPECT_EQ(static_cast<float>(parse(s)), f) << s;
  }
}

// A -0 stored: -1e-50 in a FLOAT (a negative number too small for a FLOAT, which the server's
// conversion rounds to -0: MariaDB stores every exact zero it is sent as +0), -0e0 at MySQL; a
// DOUBLE or FLOAT UNSIGNED -0 at MariaDB and a -0 in FLOAT(M,D)/DOUBLE(M,D) anywhere cannot be
// stored: an error naming the column. Matched (WHERE, IN), any -0 is -0e+00, which every zero of
// the column equals in SQL (a WHERE f = -1e-50 would find no row).
TEST(SqlLiteralTest, NegativeZeroIsStoredAsTheDestinationKeepsItAndMatchedAsZero) {
  using mysql::ServerFlavor;
  auto column = [](mysql::ColumnType type, bool is_unsigned = false, std::string column_type = "") {
    ColumnInfo c;
    c.name = "z";
    c.type = type;
    c.is_unsigned = is_unsigned;
    c.column_type = std::move(column_type);
    return c;
  };
  const ColumnInfo f = column(mysql::ColumnType::kFloat, false, "float");
  const ColumnInfo d = column(mysql::ColumnType::kDouble, false, "double");
  const ColumnInfo fu = column(mysql::ColumnType::kFloat, true, "float unsigned");
  const ColumnInfo fmd = column(mysql::ColumnType::kFloat, false, "float(10,4)");
  const ColumnInfo dmd = column(mysql::ColumnType::kDouble, true, "double(20,6) unsigned");
  const Value fz = dbl(Kind::kFloat, -0.0), dz = dbl(Kind::kDouble, -0.0);
  auto stored = [](const Value& v, const ColumnInfo& c, ServerFlavor flavor) {
    auto r = sqlLiteral(v, c, flavor);
    return r.ok() ? *r : "error: " + r.status().message();
  };
  EXPECT_EQ(stored(fz, f, ServerFlavor::kMariaDb), "-1e-50");
  EXPECT_EQ(static_cast<float>(parse("-1e-50")), 0.0f);
  EXPECT_TRUE(std::signbit(static_cast<float>(parse("-1e-50"))));
  EXPECT_EQ(stored(fz, f, ServerFlavor::kUnknown), "-1e-50");
  EXPECT_EQ(stored(fz, f, ServerFlavor::kMySql), "-0e0");
  EXPECT_EQ(stored(dz, d, ServerFlavor::kMySql), "-0e0");
  EXPECT_EQ(stored(fz, fu, ServerFlavor::kMySql), "-0e0");
  for (auto [v, c] : {std::pair{dz, d}, std::pair{fz, fu}}) {
    std::string e = stored(v, c, ServerFlavor::kMariaDb);
    EXPECT_EQ(e.rfind("error: column 'z' holds a ", 0), 0u) << e;
    EXPECT_NE(e.find("negative zero (-0)"), std::string::npos) << e;
    EXPECT_NE(e.find("MariaDB"), std::string::npos) << e;
    EXPECT_NE(e.find("it would arrive as 0"), std::string::npos) << e;
    EXPECT_FALSE(sqlLiteral(v, c, ServerFlavor::kUnknown).ok());
  }
  for (auto flavor : {ServerFlavor::kMariaDb, ServerFlavor::kMySql}) {
    EXPECT_NE(stored(fz, fmd, flavor).find("float(10,4)"), std::string::npos);
    EXPECT_NE(stored(dz, dmd, flavor).find("double(20,6) unsigned"), std::string::npos);
  }
  // +0 and the neighbours of -0 are plain numbers everywhere.
  EXPECT_EQ(stored(dbl(Kind::kDouble, 0.0), dmd, ServerFlavor::kMariaDb), "0e+00");
  EXPECT_EQ(stored(dbl(Kind::kFloat, 0.0), f, ServerFlavor::kMariaDb), "0e+00");
  EXPECT_EQ(stored(dbl(Kind::kFloat, static_cast<double>(-1.4e-45f)), f, ServerFlavor::kMariaDb),
            "-1.401298464324817e-45");
  EXPECT_EQ(stored(dbl(Kind::kDouble, -4.9e-324), d, ServerFlavor::kMariaDb), "-5e-324");
  // Matched: -0e+00 for every column, never an error.
  for (const ColumnInfo& c : {f, d, fu, fmd, dmd}) {
    const Value& v = c.type == mysql::ColumnType::kFloat ? fz : dz;
    auto m = matchLiteral(v, c);
    ASSERT_TRUE(m.ok()) << m.status().toString();
    EXPECT_EQ(*m, "-0e+00");
    EXPECT_EQ(*matchLiteral(dbl(Kind::kDouble, 0.5), c), "5e-01");
  }
  EXPECT_TRUE(isNegativeZero(fz));
  EXPECT_TRUE(isNegativeZero(dz));
  EXPECT_FALSE(isNegativeZero(dbl(Kind::kDouble, 0.0)));
  EXPECT_FALSE(isNegativeZero(dbl(Kind::kDouble, -4.9e-324)));
  EXPECT_FALSE(isNegativeZero(Value::ofInt(0)));
}

TEST(SqlLiteralTest, ZeroSignTestTellsMinusZeroFromZero) {
  std::string out;
  appendZeroSignTest(&out, "`f`", dbl(Kind::kFloat, -0.0));
  EXPECT_EQ(out, " AND ATAN2(`f`, -1) < 0");
  out.clear();
  appendZeroSignTest(&out, "`d`", dbl(Kind::kDouble, 0.0));
  EXPECT_EQ(out, " AND ATAN2(`d`, -1) > 0");
  out.clear();
  appendZeroSignTest(&out, "`d`", dbl(Kind::kDouble, -4.9e-324));
  appendZeroSignTest(&out, "`d`", dbl(Kind::kDouble, 1.0));
  appendZeroSignTest(&out, "`i`", Value::ofInt(0));
  appendZeroSignTest(&out, "`n`", Value::null());
  EXPECT_EQ(out, "");
}

TEST(SqlLiteralTest, NonFiniteIsAnError) {
  ColumnInfo col;
  col.name = "price";
  auto r = sqlLiteral(dbl(Kind::kDouble, std::nan("")), col, mysql::ServerFlavor::kMariaDb);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("price"), std::string::npos);
  EXPECT_FALSE(sqlLiteral(dbl(Kind::kDouble, INFINITY), col, mysql::ServerFlavor::kMariaDb).ok());
}

TEST(SqlLiteralTest, DecimalIsExactAndValidated) {
  EXPECT_EQ(lit(text(Kind::kDecimal, "-12.30")), "-12.30");
  EXPECT_EQ(lit(text(Kind::kDecimal, "-0.000000000000000000000000000001")),
            "-0.000000000000000000000000000001");
  EXPECT_EQ(lit(text(Kind::kDecimal,
                     "99999999999999999999999999999999999.123456789012345678901234567890")),
            "99999999999999999999999999999999999.123456789012345678901234567890");
  ColumnInfo col;
  col.name = "d";
  for (const char* bad : {"", "-", "1.2.3", "1e5", "1; DROP TABLE t", "0x10"}) {
    EXPECT_FALSE(sqlLiteral(text(Kind::kDecimal, bad), col, mysql::ServerFlavor::kMariaDb).ok())
        << bad;
  }
}

TEST(SqlLiteralTest, TemporalAsQuotedText) {
  EXPECT_EQ(lit(text(Kind::kTemporal, "2024-01-31 10:00:00.120")), "'2024-01-31 10:00:00.120'");
  EXPECT_EQ(lit(text(Kind::kTemporal, "0000-00-00")), "'0000-00-00'");
  EXPECT_EQ(lit(text(Kind::kTemporal, "0000-00-00 00:00:00")), "'0000-00-00 00:00:00'");
  EXPECT_EQ(lit(text(Kind::kTemporal, "-838:59:59")), "'-838:59:59'");
  ColumnInfo col;
  col.name = "t";
  EXPECT_FALSE(
      sqlLiteral(text(Kind::kTemporal, "2024-01-01' OR '1"), col, mysql::ServerFlavor::kMariaDb)
          .ok());
  EXPECT_FALSE(sqlLiteral(text(Kind::kTemporal, ""), col, mysql::ServerFlavor::kMariaDb).ok());
}

TEST(SqlLiteralTest, StringsAreHexWithTheColumnCharset) {
  EXPECT_EQ(lit(text(Kind::kString, "ab"), kUtf8mb4GeneralCi), "_utf8mb4 X'6162'");
  EXPECT_EQ(lit(text(Kind::kString, "\xe9"), kLatin1SwedishCi), "_latin1 X'E9'");
  EXPECT_EQ(lit(text(Kind::kString, "\xF0\x9F\x98\x80"), kUtf8mb4GeneralCi),
            "_utf8mb4 X'F09F9880'");
  EXPECT_EQ(lit(text(Kind::kString, ""), kUtf8mb4GeneralCi), "_utf8mb4 X''");
  EXPECT_EQ(lit(text(Kind::kString, "x"), mysql::kBinaryCollation), "_binary X'78'");
  // Unknown collation: a plain hex literal, stored byte for byte.
  EXPECT_EQ(lit(text(Kind::kString, "x"), 9999), "X'78'");
}

TEST(SqlLiteralTest, EveryByteValueIsHexEncoded) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string s = lit(text(Kind::kBytes, all));
  ASSERT_EQ(s.size(), 2 + 512 + 1);
  EXPECT_EQ(s.substr(0, 2), "X'");
  for (int b = 0; b < 256; ++b) {
    unsigned v = 0;
    std::from_chars(s.data() + 2 + 2 * b, s.data() + 4 + 2 * b, v, 16);
    EXPECT_EQ(v, static_cast<unsigned>(b));
  }
  // The only characters in the literal are hex digits and the quotes: nothing to escape.
  for (size_t i = 2; i + 1 < s.size(); ++i) EXPECT_TRUE(isxdigit(static_cast<unsigned char>(s[i])));
}

TEST(SqlLiteralTest, BitEnumSetJson) {
  Value bit;
  bit.kind = Kind::kBit;
  bit.u = 0;
  EXPECT_EQ(lit(bit), "b'0'");
  bit.u = 5;
  EXPECT_EQ(lit(bit), "b'101'");
  bit.u = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(lit(bit), "b'" + std::string(64, '1') + "'");

  Value e;
  e.kind = Kind::kEnum;
  e.u = 2;
  EXPECT_EQ(lit(e), "2");
  e.s = "b";
  EXPECT_EQ(lit(e, kUtf8mb4GeneralCi), "_utf8mb4 X'62'");
  e = Value{};
  e.kind = Kind::kEnum;
  EXPECT_EQ(lit(e), "0");

  Value set;
  set.kind = Kind::kSet;
  set.u = 0;
  EXPECT_EQ(lit(set), "''");
  set.u = 5;
  EXPECT_EQ(lit(set), "5");
  set.s = "a,c";
  EXPECT_EQ(lit(set, kLatin1SwedishCi), "_latin1 X'612C63'");

  EXPECT_EQ(lit(text(Kind::kJson, "{\"k\":\"\xF0\x9F\x98\x80\"}")),
            "_utf8mb4 X'7B226B223A22F09F988022"
            "7D'");
}

// ENUM/SET names go under the introducer of the character set they are in: the column's when
// TABLE_MAP metadata carried them, utf8mb4 when information_schema did (the bug: a latin1 column
// got _latin1 over utf8 bytes, which matches no member). Per character set family: single-byte,
// multi-byte (gbk, big5, sjis, ujis, euckr), fixed-width wide (ucs2, utf16, utf16le, utf32),
// utf8mb3/utf8mb4 and binary.
TEST(SqlLiteralTest, EnumAndSetNamesUseTheirOwnCharacterSet) {
  struct Case {
    uint16_t column;      // the column's collation
    std::string native;   // the member in the column's character set
    std::string utf8;     // the same member as information_schema prints it
    std::string charset;  // the introducer for native bytes
  };
  const Case cases[] = {
      {8, "\xE9", "\xC3\xA9", "latin1"},                     // latin1_swedish_ci 'é'
      {47, "\xFC", "\xC3\xBC", "latin1"},                    // latin1_bin 'ü'
      {51, "\xC4", "\xD0\x94", "cp1251"},                    // cp1251 'Д'
      {28, "\xD6\xD0", "\xE4\xB8\xAD", "gbk"},               // gbk '中'
      {1, "\xA4\xA4", "\xE4\xB8\xAD", "big5"},               // big5 '中'
      {13, "\x93\xFA", "\xE6\x97\xA5", "sjis"},              // sjis '日'
      {12, "\xC6\xFC", "\xE6\x97\xA5", "ujis"},              // ujis '日'
      {19, "\xB0\xA1", "\xEA\xB0\x80", "euckr"},             // euckr '가'
      {35, std::string("\x00\xE9", 2), "\xC3\xA9", "ucs2"},  // ucs2 'é'
      {54, std::string("\x4E\x2D", 2), "\xE4\xB8\xAD", "utf16"},
      {56, std::string("\x2D\x4E", 2), "\xE4\xB8\xAD", "utf16le"},
      {60, std::string("\x00\x00\x4E\x2D", 4), "\xE4\xB8\xAD", "utf32"},
      {33, "\xC3\xA9", "\xC3\xA9", "utf8mb3"},
      {45, "\xC3\xA9", "\xC3\xA9", "utf8mb4"},
      {63, "\xE9\xFF", "\xE9\xFF", "binary"},  // CHARACTER SET binary: bytes, not text
  };
  for (const Case& c : cases) {
    for (Kind k : {Kind::kEnum, Kind::kSet}) {
      Value v = text(k, c.native);
      v.u = 1;
      ColumnInfo col;
      col.name = "e";
      col.collation = c.column;
      std::string hex;
      appendHexLiteral(&hex, c.native);
      auto native =
          sqlLiteral(v, col, mysql::ServerFlavor::kMariaDb);  // names from TABLE_MAP metadata
      ASSERT_TRUE(native.ok());
      EXPECT_EQ(*native, "_" + c.charset + " " + hex) << c.charset;

      v.s = c.utf8;  // names from information_schema, whatever the column's character set
      col.enum_values_collation = mysql::kUtf8mb4Collation;
      hex.clear();
      appendHexLiteral(&hex, c.utf8);
      auto from_is = sqlLiteral(v, col, mysql::ServerFlavor::kMariaDb);
      ASSERT_TRUE(from_is.ok());
      EXPECT_EQ(*from_is, "_utf8mb4 " + hex) << c.charset;
    }
  }
}

TEST(SqlLiteralTest, EnumErrorValueAndSessionModes) {
  Value e;
  e.kind = Kind::kEnum;
  EXPECT_TRUE(isEnumErrorValue(e));  // '' at index 0
  e.u = 1;
  EXPECT_FALSE(isEnumErrorValue(e));
  Value set;
  set.kind = Kind::kSet;  // the empty set is a value, not an error
  EXPECT_FALSE(isEnumErrorValue(set));
  EXPECT_FALSE(isEnumErrorValue(Value::null()));
  EXPECT_NE(strictSqlMode().find("STRICT_ALL_TABLES"), std::string_view::npos);
  EXPECT_NE(strictSqlMode().find("ALLOW_INVALID_DATES"), std::string_view::npos);
  EXPECT_EQ(strictSqlMode().find("NO_ZERO"), std::string_view::npos);  // zero dates pass
  EXPECT_EQ(lenientSqlMode().find("STRICT"), std::string_view::npos);
  EXPECT_NE(applierSessionSql(mysql::ServerFlavor::kMariaDb).find(std::string(strictSqlMode())),
            std::string::npos);
  EXPECT_NE(applierSessionSql(mysql::ServerFlavor::kMariaDb).find("check_constraint_checks=0"),
            std::string::npos);
  EXPECT_EQ(applierSessionSql(mysql::ServerFlavor::kMySql).find("check_constraint"),
            std::string::npos);
  EXPECT_EQ(setSqlModeSql("X,Y"), "SET SESSION sql_mode='X,Y'");
}

TEST(SqlLiteralTest, CollationTable) {
  EXPECT_EQ(charsetOfCollation(45), "utf8mb4");
  EXPECT_EQ(collationName(45), "utf8mb4_general_ci");
  EXPECT_EQ(charsetOfCollation(8), "latin1");
  EXPECT_EQ(charsetOfCollation(63), "binary");
  EXPECT_EQ(charsetOfCollation(255), "utf8mb4");  // MySQL 8 utf8mb4_0900_ai_ci
  EXPECT_EQ(charsetOfCollation(0), "");
}

}  // namespace
}  // namespace dts::sink
