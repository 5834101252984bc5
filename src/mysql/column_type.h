// MySQL/MariaDB column type codes as they appear in TABLE_MAP events and the client protocol.
// https://dev.mysql.com/doc/dev/mysql-server/latest/field__types_8h.html
#pragma once

#include <cstdint>

namespace dts::mysql {

enum class ColumnType : uint8_t {
  kDecimal = 0,
  kTiny = 1,
  kShort = 2,
  kLong = 3,
  kFloat = 4,
  kDouble = 5,
  kNull = 6,
  kTimestamp = 7,
  kLongLong = 8,
  kInt24 = 9,
  kDate = 10,
  kTime = 11,
  kDateTime = 12,
  kYear = 13,
  kNewDate = 14,
  kVarchar = 15,
  kBit = 16,
  kTimestamp2 = 17,
  kDateTime2 = 18,
  kTime2 = 19,
  kTypedArray = 20,
  // MariaDB's COMPRESSED columns, in TABLE_MAP only: parseTableMap reads them as kVarchar and
  // kBlob with ColumnInfo::compressed, so nothing past the decoder sees these codes.
  kBlobCompressed = 140,
  kVarcharCompressed = 141,
  kJson = 245,
  kNewDecimal = 246,
  kEnum = 247,
  kSet = 248,
  kTinyBlob = 249,
  kMediumBlob = 250,
  kLongBlob = 251,
  kBlob = 252,
  kVarString = 253,
  kString = 254,
  kGeometry = 255,
};

// The columns that carry a bit in TABLE_MAP's SIGNEDNESS metadata (the server's is_numeric_type).
inline bool hasSignedness(ColumnType t) {
  switch (t) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
    case ColumnType::kFloat:
    case ColumnType::kDouble:
    case ColumnType::kNewDecimal:
    case ColumnType::kDecimal: return true;
    default: return false;
  }
}

}  // namespace dts::mysql
