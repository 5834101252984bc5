// Builders of binlog bytes for tests, fuzz seeds and benchmarks: events with header and CRC32,
// TABLE_MAP/ROWS bodies, MySQL binary JSON. They follow the protocol pages cited in
// binlog_event.h and json_binary.h, written independently of the decoders they test.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mysql/binlog_event.h"
#include "mysql/column_type.h"

namespace dts::mysql::testing {

// One column of a test table: its TABLE_MAP type and metadata bytes (as they appear in the
// event), and optional metadata.
struct TestColumn {
  TestColumn(ColumnType t, std::string m, std::string n)
      : type(t), meta(std::move(m)), name(std::move(n)) {}
  ColumnType type;
  std::string meta;  // raw metadata bytes
  std::string name;
  bool is_unsigned = false;
  bool nullable = true;
  uint16_t collation = 0;            // character columns only (0 = leave out)
  std::vector<std::string> members;  // ENUM/SET
};

// Column constructors with the right metadata bytes.
TestColumn colInt(ColumnType t, std::string name, bool is_unsigned = false);
TestColumn colDecimal(std::string name, int precision, int scale);
TestColumn colVarchar(std::string name, uint16_t max_bytes, uint16_t collation = 45);
TestColumn colString(std::string name, uint16_t max_bytes, uint16_t collation = 45);  // CHAR/BINARY
TestColumn colBlob(std::string name, int len_bytes, uint16_t collation = 63);
TestColumn colTemporal2(ColumnType t, std::string name, int fsp);
TestColumn colBit(std::string name, int bits);
TestColumn colEnum(std::string name, std::vector<std::string> members);
TestColumn colSet(std::string name, std::vector<std::string> members);
TestColumn colJson(std::string name);
TestColumn colPlain(ColumnType t, std::string name);  // types without metadata
TestColumn colFloat(std::string name);
TestColumn colDouble(std::string name);

// The session state of a QUERY event (EventBuilder::query).
struct TestQuerySession {
  uint32_t flags2 = 0;
  uint64_t sql_mode = 0x40000000;
  int explicit_defaults = -1;
};

class EventBuilder {
 public:
  explicit EventBuilder(ServerFlavor flavor = ServerFlavor::kMySql, bool checksum = true);

  // A whole event: header (with log_pos = offset after it) + body + CRC32 when enabled.
  // Advances offset().
  std::string event(EventType type, std::string_view body, uint32_t timestamp = 1700000000);
  std::string formatDescription();
  std::string query(std::string_view db, std::string_view sql);
  // LOAD DATA logged as a statement (EXECUTE_LOAD_QUERY: a QUERY with 13 more post-header bytes).
  std::string executeLoadQuery(std::string_view db, std::string_view sql);
  // With the status variables a server writes before Q_CHARSET_CODE (flags, sql_mode, catalog,
  // auto-increment) and Q_CHARSET_CODE naming `client_collation`.
  // Also Q_TIME_ZONE_CODE when time_zone is not empty, and the statement's microseconds (MariaDB
  // Q_HRNOW, MySQL Q_MICROSECONDS) when start_usec >= 0. The session: Q_FLAGS2_CODE `flags2`,
  // Q_SQL_MODE_CODE `sql_mode`, and MySQL's Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP when
  // explicit_defaults >= 0.
  std::string query(std::string_view db, std::string_view sql, uint16_t client_collation,
                    std::string_view time_zone = {}, int start_usec = -1,
                    TestQuerySession session = {});
  std::string xid(uint64_t xid);
  std::string rotate(std::string_view next_file, uint64_t pos = 4);
  std::string tableMap(uint64_t table_id, std::string_view db, std::string_view table,
                       const std::vector<TestColumn>& cols, bool full_metadata = true);
  // rows: concatenated row images (rowImage()).
  std::string rows(EventType type, uint64_t table_id, size_t ncols, std::string_view rows,
                   std::string before_bitmap = {}, std::string after_bitmap = {});
  std::string mysqlGtid(const uint8_t uuid[16], uint64_t gno, int64_t last_committed, int64_t seq,
                        uint64_t immediate_commit_us = 0);
  // With kFlPreparedXa or kFlCompletedXa: the XA id gtrid, '', formatID 1.
  std::string mariaGtid(uint64_t seq, uint32_t domain, uint8_t flags,
                        std::string_view xa_gtrid = {});
  // TRANSACTION_PAYLOAD holding `inner` (events built with checksum off), zstd-compressed.
  std::string transactionPayload(std::string_view inner, bool compress = true);

  uint64_t offset() const { return offset_; }
  void setChecksum(bool on) { checksum_ = on; }
  std::string postHeaderLengths() const;

 private:
  ServerFlavor flavor_;
  bool checksum_;
  uint64_t offset_ = 4;
};

// A row image for the given present columns: null bitmap then the encoded values. `values[i]`
// is the encoded bytes of column i, or nullopt-like empty with is_null[i] = true.
std::string rowImage(const std::vector<std::string>& values, const std::vector<bool>& is_null);
std::string allColumns(size_t ncols);  // a columns-present bitmap with every bit set

// Binary JSON builders: each returns type byte + value bytes.
namespace json {
std::string literal(uint8_t which);  // 0 null, 1 true, 2 false
std::string int16(int16_t v);
std::string uint16(uint16_t v);
std::string int32(int32_t v);
std::string uint32(uint32_t v);
std::string int64(int64_t v);
std::string uint64(uint64_t v);
std::string dbl(double v);
std::string str(std::string_view s);
std::string opaque(uint8_t field_type, std::string_view data);
std::string object(const std::vector<std::pair<std::string, std::string>>& members,
                   bool large = false);
std::string array(const std::vector<std::string>& items, bool large = false);
}  // namespace json

}  // namespace dts::mysql::testing
