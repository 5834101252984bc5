// SQL literals for decoded values: how the applier writes a mysql::Value into a statement so that
// the destination stores exactly the value the source had (same bytes, same number).
//
//   kNull            NULL
//   kInt / kUInt     decimal digits (full signed/unsigned 64-bit range)
//   kFloat/kDouble   shortest round-trip form in exponent notation (an approximate-value literal,
//                    so the server reads it as a DOUBLE, never as a DECIMAL); FLOAT values are
//                    widened exactly, so the destination FLOAT gets the same bits. NaN/inf: error.
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
#include "mysql/table_info.h"
#include "mysql/value.h"

namespace dts::sink {

// Appends the literal for v (stored in a column described by col) to out. Errors: a value that
// cannot be written exactly (NaN, malformed decimal or temporal text) is kInvalidArgument naming
// the column.
Status appendSqlLiteral(std::string* out, const mysql::Value& v, const mysql::ColumnInfo& col);
Result<std::string> sqlLiteral(const mysql::Value& v, const mysql::ColumnInfo& col);

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
// parents).
std::string applierSessionSql();

// Appends "X'hex'" for bytes.
void appendHexLiteral(std::string* out, std::string_view bytes);

}  // namespace dts::sink
