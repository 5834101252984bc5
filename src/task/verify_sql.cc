#include "task/verify_sql.h"

#include <set>

#include "mysql/connection.h"
#include "task/catalog.h"

namespace dts::task {

VerifyColumn::Kind VerifyColumn::kind() const {
  static const std::set<std::string> kIntegers = {"tinyint", "smallint", "mediumint",
                                                  "int",     "integer",  "bigint"};
  static const std::set<std::string> kExacts = {"decimal", "numeric", "year"};
  static const std::set<std::string> kTemporals = {"date", "time", "datetime", "timestamp"};
  static const std::set<std::string> kTexts = {"char",     "varchar",    "tinytext", "text",
                                               "longtext", "mediumtext", "enum",     "set"};
  if (json || data_type == "json") return Kind::kJson;
  if (kIntegers.count(data_type) != 0) return Kind::kInteger;
  if (kExacts.count(data_type) != 0) return Kind::kExact;
  if (data_type == "float") return Kind::kFloat;
  if (data_type == "double" || data_type == "real" || data_type == "double precision")
    return Kind::kDouble;
  if (data_type == "bit") return Kind::kBit;
  if (kTemporals.count(data_type) != 0) return Kind::kTemporal;
  if (kTexts.count(data_type) != 0) return Kind::kText;
  return Kind::kBytes;
}

bool VerifyColumn::shownByNumber() const {
  CatalogColumn c;
  c.data_type = data_type;
  c.column_type = column_type;
  return enumTextIsAmbiguous(c);
}

namespace {

bool isEnumOrSet(const VerifyColumn& c) {
  return c.data_type == "enum" || c.data_type == "set";
}

// Types whose values may be long: they enter the row image as the MD5 of their canonical value.
bool isLong(const VerifyColumn& c) {
  static const std::set<std::string> kLong = {
      "text",       "mediumtext",        "longtext",     "blob",    "mediumblob", "longblob",
      "json",       "geometry",          "multipolygon", "polygon", "linestring", "multilinestring",
      "multipoint", "geometrycollection"};
  return c.json || kLong.count(c.data_type) != 0;
}

// A zero with its sign: -0 = 0 in SQL, but ATAN2(-0, -1) is -pi. MariaDB holds a FLOAT -0 (from
// a negative number too small for a FLOAT) and a DOUBLE -0 only from a binlog row (replication,
// BINLOG); MySQL keeps every -0 it is sent.
std::string signedZero(const std::string& c) {
  return "IF(ATAN2(" + c + ", -1) < 0, '-0', '0')";
}

// A float in scientific form with `digits` significant digits: the mantissa is cast to a DECIMAL
// (which rounds), the exponent is the decimal exponent of the value. Zero is "0", -0 "-0". The
// value is scaled by two powers of ten, each at most 10^155, because one would be 0 or infinite
// for the smallest and largest doubles (10^-324), and the division by 0 made the mantissa NULL.
std::string scientific(const std::string& c, int digits) {
  std::string exponent = "FLOOR(LOG10(ABS(" + c + ")))";
  std::string half = "(" + exponent + " DIV 2)";
  std::string mantissa = "CAST(" + c + " / POW(10, " + half + ") / POW(10, " + exponent + " - " +
                         half + ") AS DECIMAL(" + std::to_string(digits + 1) + "," +
                         std::to_string(digits - 1) + "))";
  return "IF(" + c + " = 0, " + signedZero(c) + ", CONCAT(" + mantissa + ", 'e', " + exponent +
         "))";
}

// A double exactly, as sign, 53-bit significand and binary exponent: "[-]hi.lopE" with
// value = (hi * 2^26 + lo) * 2^(E - 52). Every step is exact in binary floating point (division
// by a power of two, FLOOR of a double, subtraction of integers below 2^53) and hi and lo are
// integers below 2^27, which every server prints exactly, so two doubles one ULP apart differ and
// a double has one image whatever the server prints (15 or 17 digits). LOG2 only guesses the
// exponent, which is then corrected; E is at least -1022 (subnormals have a smaller
// significand), so no power of two underflows. Zero is "0", -0 "-0".
std::string exactDouble(const std::string& c) {
  const std::string a = "ABS(" + c + ")";
  // LOG2 of the largest double rounds to 1024, and POW(2, 1024) is an error.
  const std::string guess = "LEAST(GREATEST(FLOOR(LOG2(" + a + ")), -1074), 1023)";
  const std::string scaled = "(" + a + " / POW(2, " + guess + "))";  // in [1, 2) when exact
  const std::string exponent =
      "GREATEST(" + guess + " - (" + scaled + " < 1) + (" + scaled + " >= 2), -1022)";
  const std::string significand = "(" + a + " / POW(2, " + exponent + " - 52))";
  const std::string hi = "FLOOR(" + significand + " / 67108864)";
  const std::string lo = "(" + significand + " - " + hi + " * 67108864)";
  return "IF(" + c + " = 0, " + signedZero(c) + ", CONCAT(IF(" + c + " < 0, '-', ''), " + hi +
         ", '.', " + lo + ", 'p', " + exponent + "))";
}

}  // namespace

std::string canonicalExpr(const VerifyColumn& col, ServerFlavor flavor) {
  std::string c = mysql::quoteIdentifier(col.name);
  std::string v;
  switch (col.kind()) {
    case VerifyColumn::Kind::kInteger:
    case VerifyColumn::Kind::kExact:
    case VerifyColumn::Kind::kTemporal: v = c; break;
    // 9 digits tell every two floats apart (FLT_DECIMAL_DIG): neighbouring floats are at least
    // six units of the 9th digit apart, far more than the rounding of the scaling.
    case VerifyColumn::Kind::kFloat: v = scientific(c, 9); break;
    case VerifyColumn::Kind::kDouble: v = exactDouble(c); break;
    case VerifyColumn::Kind::kBit: v = "CAST(" + c + " AS UNSIGNED)"; break;
    case VerifyColumn::Kind::kText:
      v = col.exact_bytes ? "CAST(" + c + " AS BINARY)" : "CONVERT(" + c + " USING utf8mb4)";
      if (isEnumOrSet(col)) v = "CONCAT(" + c + " + 0, ':', " + v + ")";
      break;
    case VerifyColumn::Kind::kBytes: v = c; break;
    case VerifyColumn::Kind::kJson:
      v = flavor == ServerFlavor::kMySQL ? "CAST(" + c + " AS CHAR CHARACTER SET utf8mb4)"
          : col.exact_bytes              ? "CAST(" + c + " AS BINARY)"
                                         : "JSON_NORMALIZE(" + c + ")";
      break;
  }
  return v;
}

std::string displayExpr(const VerifyColumn& col) {
  std::string c = mysql::quoteIdentifier(col.name);
  if (col.shownByNumber()) return "(" + c + " + 0)";
  switch (col.kind()) {
    case VerifyColumn::Kind::kText:
      // utf8mb4 as it is: the session's results are utf8mb4, so its bytes arrive unchanged.
      if (col.exact_bytes && col.charset != "utf8mb4") return "CAST(" + c + " AS BINARY)";
      return "CONVERT(" + c + " USING utf8mb4)";
    case VerifyColumn::Kind::kBit: return "CAST(" + c + " AS UNSIGNED)";
    // Printed exactly (a FLOAT column prints 6 digits), -0 as "-0": repair SQL writes this
    // value, and a row is found again by its key with it.
    case VerifyColumn::Kind::kFloat:
    case VerifyColumn::Kind::kDouble: return floatTextExpr(c);
    default: return c;
  }
}

std::string rowImageExpr(const std::vector<VerifyColumn>& columns, ServerFlavor flavor) {
  // CONCAT_WS skips NULLs and a value may contain the separator, so the image ends with the
  // byte lengths of the canonical (utf8mb4) short string values when two or more columns may
  // hold a '#' (with one, the values around it fix where it starts and ends), and the NULL flags
  // of the columns that may be NULL. Numbers, temporal values and MD5 digests never contain '#'.
  // The cheapest expression of the same bytes is chosen per column: a text column already in
  // utf8mb4, when every text column of the row is, in one collation, enters as it is (CONVERT
  // would be a copy) and its LENGTH is its byte length (CHAR_LENGTH would count characters).
  std::string shared_collation;
  bool one_collation = true;
  size_t hash_chars = 0;  // columns whose canonical value may contain '#'
  for (const auto& col : columns) {
    auto kind = col.kind();
    if (!isLong(col) && (kind == VerifyColumn::Kind::kText || kind == VerifyColumn::Kind::kBytes))
      ++hash_chars;
    if (kind != VerifyColumn::Kind::kText) continue;
    // A converted column would bring utf8mb4's default collation into the concatenation.
    if (col.charset != "utf8mb4") one_collation = false;
    if (shared_collation.empty()) shared_collation = col.collation;
    one_collation = one_collation && col.collation == shared_collation;
  }
  std::string values, lengths, nulls;
  for (const auto& col : columns) {
    std::string c = mysql::quoteIdentifier(col.name);
    auto kind = col.kind();
    bool as_is = kind == VerifyColumn::Kind::kText && !isEnumOrSet(col) &&
                 col.charset == "utf8mb4" && one_collation && !col.collation.empty();
    std::string x = as_is ? c : canonicalExpr(col, flavor);
    values += ", " + (isLong(col) ? "MD5(" + x + ")" : x);
    if (hash_chars > 1 && !isLong(col) &&
        (kind == VerifyColumn::Kind::kText || kind == VerifyColumn::Kind::kBytes))
      lengths += (lengths.empty() ? "" : ", ") + ("LENGTH(" + x + ")");
    if (col.nullable) nulls += (nulls.empty() ? "" : ", ") + ("ISNULL(" + c + ")");
  }
  if (!lengths.empty()) values += ", CONCAT_WS(',', " + lengths + ")";
  if (!nulls.empty()) values += ", CONCAT(" + nulls + ")";
  return "CONCAT_WS('#'" + values + ")";
}

std::string rowHashExpr(const std::vector<VerifyColumn>& columns, ServerFlavor flavor) {
  return "MD5(" + rowImageExpr(columns, flavor) + ")";
}

std::string chunkChecksumSql(const std::string& table, const std::vector<VerifyColumn>& columns,
                             ServerFlavor flavor, const std::string& where, RowHash hash) {
  std::string row = hash == RowHash::kCrc32 ? "CRC32(" + rowImageExpr(columns, flavor) + ")"
                                            : "CAST(CONV(LEFT(" + rowHashExpr(columns, flavor) +
                                                  ", 16), 16, 10) AS UNSIGNED)";
  return "SELECT COUNT(*), COALESCE(SUM(" + row + "), 0) FROM " + table +
         (where.empty() ? "" : " WHERE " + where);
}

std::string andWhere(const std::string& a, const std::string& b) {
  if (a.empty()) return b.empty() ? "" : "(" + b + ")";
  if (b.empty()) return "(" + a + ")";
  return "(" + a + ") AND (" + b + ")";
}

}  // namespace dts::task
