// Verify SQL: the statements verification runs inside each database, so that a chunk's rows are
// compared by a checksum computed where they live (no row leaves the server while chunks agree).
// Pure functions of their input, thread-safe.
//
// Canonical value of a column (what both sides hash and what row comparison compares), chosen so
// that equal data never differs and a real difference is never hidden:
//   integers, DECIMAL, YEAR, DATE/TIME/DATETIME/TIMESTAMP   the server's text (sessions run with
//                                                         time_zone '+00:00')
//   BIT                                                   its unsigned integer value
//   FLOAT   sign, 9 significant digits and a decimal exponent: exact, two different floats never
//           have the same canonical value (FLT_DECIMAL_DIG); -0 is "-0", 0 is "0" (a MariaDB
//           FLOAT keeps a -0 written as a negative number too small for it, which is how dts
//           writes one; MySQL keeps every -0)
//   DOUBLE  exactly: sign, 53-bit significand (as two integers below 2^27) and binary exponent,
//           each computed exactly in SQL and printed as integers every server prints alike, so
//           two doubles one ULP apart differ (a last-bit difference of a computed value is one)
//           and formatting never matters; -0 is "-0" as for FLOAT
//   CHAR/VARCHAR/TEXT   with the same character set on both sides (VerifyColumn::exact_bytes),
//           the stored bytes: converting them would make different bytes alike (Shift-JIS 0x5C
//           and 0x815F, cp932's NEC and IBM twins, a GBK code without a Unicode mapping and '?'
//           all convert to one character). Otherwise the bytes of the value converted to utf8mb4
//           (a latin1 column and its utf8mb4 copy hash alike; a character the destination could
//           not store does not)
//   ENUM/SET  its index or bitmask, ':', and its text as above: the text alone is '' for the ENUM
//           error value and for a member '', for the empty SET and for {''}
//   BINARY/VARBINARY/BLOB/geometry   the bytes
//   JSON    MariaDB keeps JSON text verbatim, and that text is the data: its bytes when both
//           sides have the column's character set (exact_bytes), else JSON_NORMALIZE (10.7+: keys
//           sorted, whitespace and number spelling removed); MySQL stores JSON parsed and prints
//           it canonically, so its text is used as is. A MariaDB side against a MySQL side would
//           print JSON differently: such a pair is refused for tables with JSON columns (verifyTask
//           says so).
// The row image is CONCAT_WS('#', the canonical values, the byte lengths of the short string
// values (when two or more of them could contain '#'), the NULL flags of the nullable columns):
// no two different rows have the same image. Long types
// (TEXT, BLOB, JSON, geometry) enter as the MD5 of their value, so that a row image stays far
// below max_allowed_packet. A chunk's checksum is COUNT(*) and the exact (DECIMAL) SUM of its
// rows' hashes: a multiset checksum, so duplicated rows do not cancel out as under BIT_XOR. The
// row hash is CRC32 of the image (RowHash::kCrc32, pt-table-checksum's strength: a changed chunk
// goes unnoticed with probability about 2^-32) or the first 64 bits of its MD5 (kMd5: 2^-64, and
// about twice the server CPU). Keyless tables' differences are always located by MD5.
#pragma once

#include <string>
#include <vector>

namespace dts::task {

enum class ServerFlavor { kMariaDB, kMySQL };
enum class RowHash { kCrc32, kMd5 };

// One column of a table as verification sees it (information_schema.COLUMNS at one side).
struct VerifyColumn {
  std::string name;
  std::string data_type;    // DATA_TYPE, lower case: "int", "varchar", "json", ...
  std::string column_type;  // COLUMN_TYPE: "int(11)", "varchar(20)", "enum('a','b')", ...
  std::string charset;      // CHARACTER_SET_NAME ("" for non-text columns)
  std::string collation;    // COLLATION_NAME
  bool nullable = true;
  std::string column_default;  // COLUMN_DEFAULT as the server spells it, "NULL" for none
  bool json = false;           // a JSON column (MySQL type json, MariaDB longtext CHECK json_valid)
  // A text column with the same character set on both sides: compared, shown and written by its
  // stored bytes (set by verification for the pair).
  bool exact_bytes = false;

  enum class Kind { kInteger, kExact, kFloat, kDouble, kBit, kTemporal, kText, kBytes, kJson };
  Kind kind() const;
  // An ENUM or SET whose text is ambiguous (catalog.h enumTextIsAmbiguous: a member ''): shown,
  // and written by repair SQL, as its index or bitmask.
  bool shownByNumber() const;
};

// The canonical value of column c as an SQL expression (NULL stays NULL). Text is utf8mb4 with
// its default collation, so values of columns of different collations concatenate.
std::string canonicalExpr(const VerifyColumn& c, ServerFlavor flavor);
// The value as shown in reports and written into repair SQL: text columns converted to utf8mb4
// (exact_bytes: their stored bytes),
// BIT as its integer, an ENUM or SET shownByNumber as its index or bitmask, FLOAT and DOUBLE as a
// double printed exactly (catalog.h floatTextExpr: -0 is "-0"), everything else as the server
// prints it.
std::string displayExpr(const VerifyColumn& c);
// The row image of columns (see above).
std::string rowImageExpr(const std::vector<VerifyColumn>& columns, ServerFlavor flavor);
// MD5 hex of the row image.
std::string rowHashExpr(const std::vector<VerifyColumn>& columns, ServerFlavor flavor);

// SELECT COUNT(*), SUM(hash) FROM table [WHERE where]: the chunk checksum (two columns; the sum
// is "0" for no rows). `table` is already quoted, `where` a boolean SQL expression or "".
std::string chunkChecksumSql(const std::string& table, const std::vector<VerifyColumn>& columns,
                             ServerFlavor flavor, const std::string& where, RowHash hash);

// "(a) AND (b)" of the non-empty parts; "" when both are empty.
std::string andWhere(const std::string& a, const std::string& b);

}  // namespace dts::task
