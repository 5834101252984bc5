// What the decoder knows about a table: from its TABLE_MAP event (types, metadata, optional
// names) completed by the schema tracker (names, keys, character sets, ENUM/SET members).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mysql/column_type.h"
#include "mysql/value.h"

namespace dts::mysql {

constexpr uint16_t kBinaryCollation = 63;
// utf8mb4_general_ci: the character set of text read over a dts connection (utf8mb4), e.g. the
// ENUM/SET members information_schema prints.
constexpr uint16_t kUtf8mb4Collation = 45;

struct ColumnInfo {
  std::string name;
  ColumnType type =
      ColumnType::kNull;  // the binlog (real) type, e.g. kString for ENUM in TABLE_MAP
  uint16_t meta = 0;      // TABLE_MAP type metadata
  bool is_unsigned = false;
  bool nullable = true;
  uint16_t collation = 0;  // 0 = unknown; 63 = binary
  // A MariaDB COMPRESSED column (VARCHAR or BLOB/TEXT ... COMPRESSED): the row image holds its
  // values compressed; the row decoder gives them uncompressed.
  bool compressed = false;
  std::string column_type;               // "varchar(20)" as SHOW COLUMNS prints it, when known
  std::vector<std::string> enum_values;  // ENUM and SET members, when known
  // The collation whose character set the bytes of enum_values (and so of an ENUM/SET Value's
  // text) are in: 0 means the column's own `collation` (TABLE_MAP metadata carries the members
  // so); kUtf8mb4Collation when they were read as text from information_schema. Whoever writes
  // or prints a member name converts from this character set, never from the column's blindly.
  uint16_t enum_values_collation = 0;
};

struct TableInfo {
  uint64_t table_id = 0;
  std::string database;
  std::string table;
  std::vector<ColumnInfo> columns;
  std::vector<size_t> primary_key;  // column indexes; empty when the table has none
};

// A row image: one value per column of the table; present[i] is false for columns the event
// did not include (partial images, binlog_row_image != FULL). An empty `present` means every
// column of `values` is there.
struct RowImage {
  std::vector<Value> values;
  std::vector<bool> present;

  // Whether column i has a value in this image.
  bool has(size_t i) const {
    return i < values.size() && (present.empty() || (i < present.size() && present[i]));
  }
};

}  // namespace dts::mysql
