// NDJSON rendering of change events: one line per row change or DDL.
//
//   {"op":"insert|update|delete|ddl","db":"d","table":"t"|null,"before":{...}|null,
//    "after":{...}|null,["sql":"..." for ddl,]"gtid":"..."|null,"file":"f","pos":N,"ts":N}
//
// "file"/"pos" are where the binlog event holding the change starts; "ts" the transaction's commit
// time (seconds); "gtid" the transaction's GTID. Row objects carry only the columns present in the
// image (partial images omit the others). Values:
//   NULL -> null; integers -> exact JSON numbers (incl. uint64); FLOAT/DOUBLE -> shortest
//   round-trip number (FLOAT at float precision), -0 as -0.0 (a parser reads "-0" as the integer
//   0); DECIMAL -> string with the declared scale;
//   temporal -> string as SELECT prints it (TIMESTAMP in UTC); JSON -> its text as a JSON string;
//   binary data (collation 63: BINARY, VARBINARY, BLOB; and BIT, GEOMETRY) -> lowercase hex string.
//   Character data (CHAR, VARCHAR, TEXT, and ENUM/SET member names, which are in the column's
//   character set) -> a JSON string: the text converted to UTF-8 from the column's character set,
//   exactly as the server's CONVERT(col USING utf8mb4) converts it, for every character set of
//   SHOW CHARACTER SET (see mysql/charset_convert.h). ENUM/SET whose member names are unknown ->
//   the index/bitmask number.
//   Character data that cannot be converted exactly is never dropped, replaced or guessed: it
//   comes out as an object with its raw bytes instead of a string,
//       {"charset":"gbk","hex":"d620"}
//   when the bytes are invalid in the column's character set (the server itself would turn them
//   into '?': a truncated or undefined character, a 4-byte sequence in utf8mb3, a UTF-16
//   surrogate, which UTF-8 cannot carry) or the character set has no exact converter (gb18030 of
//   MySQL 8, which no server here can verify); "charset" is null for a collation id no server
//   defines. Text whose character set is unknown (collation 0: no binlog_row_metadata and no
//   schema) is written as is when it is valid UTF-8, else as {"charset":null,"hex":"..."}; so is
//   the "sql" of a DDL line (the statement as its client sent it).
// Column names come from the TableInfo. A table without names is an error unless
// positional_names is set, which names columns "@1", "@2", ...
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/change_event.h"

namespace dts::pipeline {

struct NdjsonOptions {
  bool positional_names = false;
};

class NdjsonWriter {
 public:
  explicit NdjsonWriter(NdjsonOptions options = {}) : options_(options) {}

  // Appends one line (with '\n') for `event` of `txn` to *out. kFailedPrecondition when the
  // table's column names are unknown and positional names were not requested (nothing appended).
  Status append(const ChangeEvent& event, const Transaction& txn, std::string* out) const;
  // The same line up to and including `"ts":`, for a caller that learns the commit time later
  // (cli/ndjson_spool.h); it then appends the time and "}\n". txn.timestamp is not read.
  Status appendUntilTs(const ChangeEvent& event, const Transaction& txn, std::string* out) const;

  // Appends a value as JSON (see the header comment). `column` gives the charset and ENUM/SET
  // names; may be null (then text is treated as of unknown charset).
  static void appendValue(const mysql::Value& value, const mysql::ColumnInfo* column,
                          std::string* out);

  // Appends a row image as a JSON object keyed by column name ("@N" where a name is unknown),
  // present columns only, values as appendValue writes them. `table` may be null.
  Status appendImage(const mysql::RowImage& image, const mysql::TableInfo* table,
                     std::string* out) const;
  // The same with the keys imageKeys(table) made: for a caller writing many rows of one table.
  Status appendImage(const mysql::RowImage& image, const mysql::TableInfo* table,
                     const std::vector<std::string>& keys, std::string* out) const;
  // Each column's key as appendImage writes it ("name": or "@N":), quoted once.
  static std::vector<std::string> imageKeys(const mysql::TableInfo* table);

 private:
  NdjsonOptions options_;
};

// Appends `s` as a JSON string literal; `s` must be valid UTF-8 (use appendJsonTextAuto
// otherwise).
void appendJsonString(std::string_view s, std::string* out);
// True when `s` is well-formed UTF-8.
bool isValidUtf8(std::string_view s);

}  // namespace dts::pipeline
