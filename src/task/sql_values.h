// How the full loader renders source values (text-protocol bytes) for the destination: as SQL
// literals of an INSERT or a chunk predicate, and as fields of the LOAD DATA format. Pure
// functions of their input, thread-safe, no connection needed (the reader thread encodes while
// the writer thread uses the destination connection).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/row_decoder.h"
#include "task/catalog.h"

namespace dts::task {

// Appends the bytes as upper-case hex digits, two per byte.
void appendHex(std::string& out, const char* data, size_t n);

// True when the bytes are a non-empty run of digits, signs, dots and exponents: safe to paste into
// SQL as a number (a numeric column's text form). Anything else is quoted.
bool looksNumeric(const char* data, size_t n);

// Appends one value (nullptr: NULL) as an SQL literal for a utf8mb4 destination session without
// NO_BACKSLASH_ESCAPES (the loader's): numbers as is, bytes as X'..', text quoted and escaped
// like mysql_real_escape_string would.
void appendSqlValue(std::string& out, CatalogColumn::Render render, const char* data, size_t n);

// sink::negativeZeroLiteral for a FLOAT or DOUBLE column as information_schema describes it: its
// name, DATA_TYPE ("float", "double", "real", "double precision") and COLUMN_TYPE
// ("float(10,4) unsigned").
Result<std::string_view> negativeZeroLiteral(const std::string& name, const std::string& data_type,
                                             const std::string& column_type,
                                             mysql::ServerFlavor destination);

// Appends one value (nullptr: NULL) as a field of LOAD DATA ... FIELDS TERMINATED BY '\t'
// ESCAPED BY '\\' LINES TERMINATED BY '\n' (no enclosure): NULL is \N; the escape character,
// both terminators and NUL are escaped, every other byte is copied.
void appendLoadDataField(std::string& out, const char* data, size_t n);

// Appends one row (fields as Connection::queryStream streams them) as a line of that format.
void appendLoadDataRow(std::string& out, const char* const* fields, const unsigned long* lengths,
                       unsigned n);

// Appends one row as a parenthesized tuple of appendSqlValue literals, preceded by a comma
// unless it is the statement's first row.
void appendInsertRow(std::string& out, const std::vector<CatalogColumn::Render>& renders,
                     bool first, const char* const* fields, const unsigned long* lengths,
                     unsigned n);

}  // namespace dts::task
