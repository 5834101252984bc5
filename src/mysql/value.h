// Value: one decoded column value, typed so that every consumer (NDJSON, SQL applier, change log)
// can render it without loss. The kind says how to read the fields:
//
//   kNull                      nothing
//   kInt                       i   (TINYINT..BIGINT signed, YEAR)
//   kUInt                      u   (unsigned integer types)
//   kFloat / kDouble           d   (FLOAT is widened exactly; render with float precision)
//   kDecimal                   s   ("-12.30", with the declared scale)
//   kTemporal                  s   (as SELECT prints it: "2024-01-31 10:00:00.120", "-838:59:59",
//                                   "0000-00-00"; TIMESTAMP in UTC)
//   kString                    s   (bytes in the column's character set, see ColumnInfo::charset)
//   kBytes                     s   (raw bytes: BINARY, VARBINARY, BLOB, GEOMETRY)
//   kBit                       u   (the bit value) and s (its bytes, big-endian, ceil(M/8) long)
//   kEnum                      u   (1-based index, 0 = '') and s (the name, when the schema is
//   known) kSet                       u   (bitmask) and s (comma-separated names, when known) kJson
//   s   (JSON text; MySQL binary JSON is converted to text)
#pragma once

#include <cstdint>
#include <string>

namespace dts::mysql {

struct Value {
  enum class Kind : uint8_t {
    kNull,
    kInt,
    kUInt,
    kFloat,
    kDouble,
    kDecimal,
    kTemporal,
    kString,
    kBytes,
    kBit,
    kEnum,
    kSet,
    kJson,
  };

  Kind kind = Kind::kNull;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;

  bool isNull() const { return kind == Kind::kNull; }
  static Value null() { return Value{}; }
  static Value ofInt(int64_t v) { return Value{Kind::kInt, v, 0, 0, {}}; }
  static Value ofUInt(uint64_t v) { return Value{Kind::kUInt, 0, v, 0, {}}; }
  static Value ofText(Kind k, std::string text) { return Value{k, 0, 0, 0, std::move(text)}; }

  bool operator==(const Value&) const = default;
};

}  // namespace dts::mysql
