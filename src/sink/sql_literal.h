// SQL literals for decoded values: how the applier writes a mysql::Value into a statement so that
// the destination stores exactly the value the source had (same bytes, same number).
//
//   kNull            NULL
//   kInt / kUInt     decimal digits (full signed/unsigned 64-bit range)
//   kFloat/kDouble   shortest round-trip form in exponent notation (an approximate-value literal,
//                    so the server reads it as a DOUBLE, never as a DECIMAL); FLOAT values are
//                    widened exactly, so the destination FLOAT gets the same bits. NaN/inf: error.
//                    A -0 stored is negativeZeroLiteral() (or an error where no literal stores
//                    it); a -0 matched is -0e+00 (-0 = 0 in SQL).
//   kDecimal         the decimal text as an exact-value literal (validated: digits, sign, point)
//   kTemporal        a quoted string ('2024-01-31 10:00:00.120', '0000-00-00', '-838:59:59');
//                    needs the session settings of applierSessionSql() (zero dates, UTC)
//   kString          _<charset> X'..' : the column's bytes as a hex literal with the character set
//                    introducer of the column collation, so no conversion happens; X'..' when the
//                    collation is unknown
//   kBytes           X'..'
//   kBit             b'..' (the bit value)
//   kEnum / kSet     the member name(s) when known: _<charset> X'..' under the introducer of the
//                    character set the NAMES are in (ColumnInfo::enum_values_collation), else the
//                    index/bitmask (exact when the names are unknown). Why the names' own
//                    character set and not the column's: the names come either from TABLE_MAP
//                    metadata (in the column's character set) or from information_schema (utf8mb4
//                    text, whatever the column's); bytes under the wrong introducer match no
//                    member and a lenient destination stores '' silently. The destination
//                    converts utf8mb4 names to the column's character set exactly as it converted
//                    the members of the CREATE TABLE that schema copy sent it (also utf8mb4 text),
//                    so a name always finds its member; a coercible literal compares in the
//                    column's collation, so WHERE keeps using the column's index. Converting on
//                    our side instead would need the server's own conversion tables (its latin1
//                    is not ISO-8859-1, its sjis not glibc's), and the index would silently pick
//                    another member at a destination whose member list differs.
//   kJson            _utf8mb4 X'..' (JSON text)
//
// Every function here is pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mysql/row_decoder.h"
#include "mysql/table_info.h"
#include "mysql/value.h"

namespace dts::sink {

// Appends the literal that stores v into a column described by col at a `destination` server
// (INSERT/REPLACE ... VALUES, UPDATE ... SET, a bulk parameter's text). Errors: a value that
// cannot be written exactly (NaN, malformed decimal or temporal text, a -0 that the destination
// stores as 0: negativeZeroLiteral) is kInvalidArgument naming the column.
Status appendSqlLiteral(std::string* out, const mysql::Value& v, const mysql::ColumnInfo& col,
                        mysql::ServerFlavor destination);
Result<std::string> sqlLiteral(const mysql::Value& v, const mysql::ColumnInfo& col,
                               mysql::ServerFlavor destination);
// Appends a literal that compares equal to v in its column (a WHERE, an IN list):
// appendSqlLiteral's, but a FLOAT or DOUBLE -0 is -0e+00, which any zero of the column equals (it
// would not equal the -1e-50 that stores a FLOAT -0). Never fails on a -0.
Status appendMatchLiteral(std::string* out, const mysql::Value& v, const mysql::ColumnInfo& col);
Result<std::string> matchLiteral(const mysql::Value& v, const mysql::ColumnInfo& col);

// A FLOAT or DOUBLE negative zero. -0 = 0 in SQL (a key or a WHERE finds it with any zero), but
// stored it must stay -0, and servers keep it only on some routes (MariaDB 10.11, checked):
//   - MariaDB stores every value it is sent as exactly zero as +0, as a literal (-0e0), a string
//     ('-0'), a binary parameter or a LOAD DATA field alike; only a FLOAT keeps -0, when it is sent
//     a negative value too small for a FLOAT, which the conversion to FLOAT rounds to -0: -1e-50.
//     So a DOUBLE -0 and a FLOAT UNSIGNED -0 (which refuses -1e-50) cannot be written to MariaDB.
//   - FLOAT(M,D) and DOUBLE(M,D) round every value to D decimals, which turns any zero into +0,
//     on MySQL and MariaDB: no literal stores -0 there.
//   - MySQL keeps a -0e0 (its own code; no MySQL server is at hand to check it here).
// Returns the literal that stores -0 into a column described by col (kFloat or kDouble; its
// is_unsigned and column_type, "float(10,4)", when known) at `destination` (kUnknown: as
// MariaDB), or kInvalidArgument naming the column and saying why, when none does.
Result<std::string_view> negativeZeroLiteral(const mysql::ColumnInfo& col,
                                             mysql::ServerFlavor destination);
// True for a FLOAT or DOUBLE value that is -0.
bool isNegativeZero(const mysql::Value& v);
// For a FLOAT or DOUBLE zero v, appends " AND ATAN2(<column_sql>, -1) < 0" (v is -0) or "> 0"
// (+0): its sign, which = and <=> do not compare (ATAN2(-0, -1) is -pi). Nothing for any other
// value. For a WHERE that must tell a -0 row from a +0 row (a row of a table without a key is
// found by all its values).
void appendZeroSignTest(std::string* out, std::string_view column_sql, const mysql::Value& v);

// The character set name of a collation id ("utf8mb4", "latin1", "binary"), or "" when unknown.
// Covers MariaDB's and MySQL 8's collation ids.
std::string_view charsetOfCollation(uint16_t collation);
// The collation's name ("utf8mb4_general_ci"), or "" when unknown.
std::string_view collationName(uint16_t collation);

// The sql_mode of every destination session that writes rows (applier workers, full-data
// loaders): STRICT_ALL_TABLES, so a value the destination cannot store as given (a name that
// matches no ENUM member, a string too long, a number out of range) is an error naming the
// column, never a silently changed value; ALLOW_INVALID_DATES and no NO_ZERO_DATE, so the dates a
// source may hold ('2024-02-30', '0000-00-00') are stored as they are; NO_AUTO_VALUE_ON_ZERO keeps
// an explicit 0 in an AUTO_INCREMENT column.
std::string_view strictSqlMode();
// The sql_mode without strictness, for what the source itself wrote without it: the replay of its
// DDL (an ALTER that truncated values at the source must do the same here) and the statements
// that write an ENUM's error value (isEnumErrorValue), which strict mode refuses.
std::string_view lenientSqlMode();
// "SET SESSION sql_mode='...'" for either mode.
std::string setSqlModeSql(std::string_view mode);

// True for the ENUM error value: '' at index 0, stored by a source without strict mode for a
// value that matched no member. Strict mode refuses to write it (it is no member), so the
// statement that writes it runs under lenientSqlMode().
inline bool isEnumErrorValue(const mysql::Value& v) {
  return v.kind == mysql::Value::Kind::kEnum && v.u == 0;
}

// Session statements every applier connection runs once: UTC for TIMESTAMP literals,
// strictSqlMode(), no FK checks (rows may arrive in parallel in another order than their
// parents), and on MariaDB no CHECK constraint checks (checkConstraintsOff).
std::string applierSessionSql(mysql::ServerFlavor destination);

// ", check_constraint_checks=0" for a MariaDB destination, "" for MySQL (which has no such
// setting). A row the source holds is written as it is even when it fails a CHECK constraint: a
// session with check_constraint_checks=0 wrote it there (its rows event says so, and a MariaDB
// replica skips the check), or the constraint was added without checking the rows already
// there. Without this the full load or the applier stops on such a row (error 4025).
std::string_view checkConstraintsOff(mysql::ServerFlavor destination);

// Appends "X'hex'" for bytes.
void appendHexLiteral(std::string* out, std::string_view bytes);

}  // namespace dts::sink
