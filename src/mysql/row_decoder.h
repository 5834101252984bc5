// Row images of ROWS events decoded into typed Values.
// Formats: MariaDB KB "Rows_event" (row image = null bitmap over the present columns, then each
// present non-NULL value in the column's binlog format),
// https://dev.mysql.com/doc/dev/mysql-server/
// latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html, and for PARTIAL_UPDATE_ROWS
// (binlog_row_value_options=PARTIAL_JSON) the after image's value_options + partial bits.
//
// A TableDecoder is built once per TABLE_MAP (the BinlogDecoder caches it) and holds a
// precomputed plan per column, so the per-row loop is a switch over small structs: no lookups,
// no allocation once the caller's RowImage buffers have grown to the row's size.
//
// Error policy: a row that does not fit the table (too few bytes, a value that cannot be of the
// column's type, an ENUM index outside the known members) is kCorruption; a column type that the
// decoder does not handle is kUnsupported. Nothing is guessed. Messages name the column; the
// RowsReader adds the table, the event position and the row number.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_reader.h"
#include "common/status.h"
#include "mysql/binlog_source.h"
#include "mysql/table_info.h"

namespace dts::mysql {

// Which server wrote the binlog (from the FORMAT_DESCRIPTION server version). It changes how a
// few types are read: MariaDB has no binary JSON (its JSON is text in a BLOB).
enum class ServerFlavor : uint8_t { kUnknown, kMySql, kMariaDb };

// The real type and maximum byte length behind a STRING (254) column's TABLE_MAP metadata, which
// also encodes ENUM and SET columns and lengths above 255.
struct StringMeta {
  ColumnType real_type;
  uint32_t max_length;
};
StringMeta decodeStringMeta(uint16_t meta);
// A column's real type: ENUM or SET for a STRING column whose metadata says so, else its type.
ColumnType realType(const ColumnInfo& c);
bool isEnumOrSet(const ColumnInfo& c);

class TableDecoder {
 public:
  // Builds the plan for `table` (types and metadata from TABLE_MAP, names etc. when known).
  // kUnsupported for column types the decoder cannot read (pre-5.0 DECIMAL, typed arrays);
  // kCorruption for metadata that is impossible (DECIMAL precision 0, STRING with bad real type).
  static Result<std::shared_ptr<const TableDecoder>> create(std::shared_ptr<const TableInfo> table,
                                                            ServerFlavor flavor);

  const TableInfo& table() const { return *table_; }
  const std::shared_ptr<const TableInfo>& tableInfo() const { return table_; }
  size_t columnCount() const { return plans_.size(); }
  size_t jsonColumnCount() const { return json_columns_; }

  // Decodes one row image from *r (advancing it past the image). `present` is the columns-present
  // bitmap of the event (bit i set = column i in the image; ceil(columns/8) bytes, LSB first).
  // *out gets one value per table column; absent columns are null with present[i] = false.
  // When raw_json is not null it is resized to the column count and receives, for each non-null
  // binary JSON column, the raw value bytes (used to apply partial JSON diffs); the views point
  // into r's bytes.
  Status decodeRow(ByteReader* r, std::string_view present, RowImage* out,
                   std::vector<std::string_view>* raw_json = nullptr) const;

  // Decodes a PARTIAL_UPDATE_ROWS after image: value_options, partial bits, then the image, where
  // JSON columns flagged partial hold a diff that is applied to the before image's raw JSON
  // (from decodeRow's raw_json). A diff against a column absent or NULL in the before image is
  // kFailedPrecondition: the full value cannot be rebuilt, and the update is never dropped
  // silently.
  Status decodePartialAfterRow(ByteReader* r, std::string_view present,
                               const std::vector<std::string_view>& before_raw_json,
                               RowImage* out) const;

  // Checks and steps over one row image exactly as decodeRow() reads it (the same bounds checks
  // and the same errors) without building Values: fixed-size values and strings are only
  // bounds-checked; values whose bytes can be invalid (DECIMAL, ENUM/SET against known members,
  // binary JSON) are still decoded, into *scratch. For counting rows.
  Status skipRow(ByteReader* r, std::string_view present, Value* scratch) const;

 private:
  enum class Op : uint8_t {
    kNullType,
    kInt8,
    kInt16,
    kInt24,
    kInt32,
    kInt64,
    kFloat,
    kDouble,
    kYear,
    kDate,
    kOldTime,
    kOldDateTime,
    kOldTimestamp,
    kTime2,
    kDateTime2,
    kTimestamp2,
    kDecimal,
    kBit,
    kEnum,
    kSet,
    kVarLen,
    kBlob,
    kJsonBinary,
    // MariaDB's UUID, INET6 and INET4 (a STRING of 16, 16, 4 bytes in the binlog, trailing zero
    // bytes stripped): as SELECT prints them.
    kUuid,
    kInet6,
    kInet4,
  };
  struct Plan {
    Op op = Op::kNullType;
    bool is_unsigned = false;
    uint8_t len_bytes =
        0;  // length prefix bytes (VARCHAR/STRING 1-2, BLOB 1-4), ENUM/SET/BIT width
    uint8_t fsp = 0;
    uint8_t precision = 0, scale = 0;
    uint16_t bin_size = 0;    // DECIMAL
    uint16_t pad_to = 0;      // BINARY(n): the server strips trailing 0x00 bytes; put them back
    bool compressed = false;  // a COMPRESSED column (ColumnInfo::compressed)
    uint64_t max_bytes = 0;   // of a COMPRESSED column's value once uncompressed
    Value::Kind text_kind = Value::Kind::kString;
    const std::vector<std::string>* members = nullptr;  // ENUM/SET names, when known
    // What joins SET members: ',' in the names' character set (ColumnInfo::enum_values_collation).
    std::string_view set_separator = ",";
  };

  TableDecoder() = default;
  // kMaterialize = false: skipRow()'s mode, where out is unused and `scratch` takes the values
  // that are decoded only to be validated.
  template <bool kMaterialize>
  Status decodeImage(ByteReader* r, std::string_view present, RowImage* out, Value* scratch,
                     std::vector<std::string_view>* raw_json, std::string_view partial_bits,
                     const std::vector<std::string_view>* before_raw_json) const;
  Status skipValue(const Plan& plan, ByteReader* r, Value* scratch) const;
  Status decodeValue(const Plan& plan, ByteReader* r, Value* v, std::string_view* raw) const;
  Status columnError(size_t col, const Status& s) const;

  std::shared_ptr<const TableInfo> table_;
  std::vector<Plan> plans_;
  std::vector<int> json_index_;  // column -> index among JSON columns, -1 for others
  size_t json_columns_ = 0;
};

enum class RowsKind : uint8_t { kInsert, kUpdate, kDelete };

// The row-carrying part of a WRITE/UPDATE/DELETE/PARTIAL_UPDATE ROWS event, as views into the
// event (or its decompressed body). Produced by BinlogDecoder (binlog_event.h).
struct RowsEventData {
  RowsKind kind = RowsKind::kInsert;
  bool partial_json = false;  // PARTIAL_UPDATE_ROWS_EVENT
  uint64_t table_id = 0;
  uint16_t flags = 0;
  uint64_t column_count = 0;
  std::string_view columns_before;              // bitmap (update/delete)
  std::string_view columns_after;               // bitmap (insert/update)
  std::string_view rows;                        // the row images
  std::shared_ptr<const TableDecoder> decoder;  // resolved from the preceding TABLE_MAP
};

// Iterates over the rows of one rows event. Views into the event: REQUIRES the event bytes stay
// alive while the reader is used.
class RowsReader {
 public:
  // REQUIRES: event.decoder != nullptr; `event` and `position` outlive the reader. `position`
  // is only used in error messages.
  RowsReader(const RowsEventData& event, const BinlogPosition& position);

  bool done() const { return reader_.empty(); }
  size_t rowsRead() const { return rows_read_; }

  // Decodes the next row: inserts fill *after, deletes *before, updates both. The RowImages are
  // reused: their buffers keep their capacity, so steady-state decoding does not allocate.
  Status next(RowImage* before, RowImage* after);

  // Steps over the next row with the checks and errors of next(), without building its values
  // (TableDecoder::skipRow); a partial-JSON update is decoded in full, into internal images.
  // What `dts binlog decode --format count` uses.
  Status skip();

 private:
  Status wrap(const Status& s) const;
  Status finish(Status s, size_t start);

  const RowsEventData& event_;
  const BinlogPosition& position_;
  ByteReader reader_;
  size_t rows_read_ = 0;
  std::vector<std::string_view> raw_json_;
  Value scratch_;                      // skip(): values decoded only to be validated
  RowImage skip_before_, skip_after_;  // skip() of partial-JSON updates
};

}  // namespace dts::mysql
