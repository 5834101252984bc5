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
//   kEnum / kSet     the member name(s) as a string literal when known, else the index/bitmask
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

// Session statements every applier connection runs once: UTC for TIMESTAMP literals, a sql_mode
// that accepts zero dates and keeps an explicit 0 in an AUTO_INCREMENT column, no FK checks
// (rows may arrive in parallel in another order than their parents).
std::string applierSessionSql();

// Appends "X'hex'" for bytes.
void appendHexLiteral(std::string* out, std::string_view bytes);

}  // namespace dts::sink
