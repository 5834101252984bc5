#include "mysql/event_builder_for_tests.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "common/byte_reader.h"

namespace dts::mysql::testing {

namespace {
std::string meta1(uint8_t v) {
  return std::string(1, static_cast<char>(v));
}
std::string meta2LE(uint16_t v) {
  std::string s;
  putUint(&s, v, 2);
  return s;
}
std::string meta2(uint8_t b0, uint8_t b1) {
  std::string s;
  s.push_back(static_cast<char>(b0));
  s.push_back(static_cast<char>(b1));
  return s;
}
void putLenencString(std::string* out, std::string_view s) {
  putLenenc(out, s.size());
  out->append(s);
}
}  // namespace

TestColumn colInt(ColumnType t, std::string name, bool is_unsigned) {
  TestColumn c{t, {}, std::move(name)};
  c.is_unsigned = is_unsigned;
  return c;
}
TestColumn colDecimal(std::string name, int precision, int scale) {
  return TestColumn{ColumnType::kNewDecimal,
                    meta2(static_cast<uint8_t>(precision), static_cast<uint8_t>(scale)),
                    std::move(name)};
}
TestColumn colVarchar(std::string name, uint16_t max_bytes, uint16_t collation) {
  TestColumn c{ColumnType::kVarchar, meta2LE(max_bytes), std::move(name)};
  c.collation = collation;
  return c;
}
TestColumn colString(std::string name, uint16_t max_bytes, uint16_t collation) {
  // byte0 = real type with bits 4-5 holding the inverted high bits of the length.
  uint8_t b0 =
      static_cast<uint8_t>(static_cast<uint8_t>(ColumnType::kString) ^ ((max_bytes & 0x300) >> 4));
  TestColumn c{ColumnType::kString, meta2(b0, static_cast<uint8_t>(max_bytes & 0xff)),
               std::move(name)};
  c.collation = collation;
  return c;
}
TestColumn colBlob(std::string name, int len_bytes, uint16_t collation) {
  TestColumn c{ColumnType::kBlob, meta1(static_cast<uint8_t>(len_bytes)), std::move(name)};
  c.collation = collation;
  return c;
}
TestColumn colTemporal2(ColumnType t, std::string name, int fsp) {
  return TestColumn{t, meta1(static_cast<uint8_t>(fsp)), std::move(name)};
}
TestColumn colBit(std::string name, int bits) {
  return TestColumn{ColumnType::kBit,
                    meta2(static_cast<uint8_t>(bits % 8), static_cast<uint8_t>(bits / 8)),
                    std::move(name)};
}
TestColumn colEnum(std::string name, std::vector<std::string> members) {
  TestColumn c{ColumnType::kString,
               meta2(static_cast<uint8_t>(ColumnType::kEnum), members.size() > 255 ? 2 : 1),
               std::move(name)};
  c.members = std::move(members);
  return c;
}
TestColumn colSet(std::string name, std::vector<std::string> members) {
  TestColumn c{
      ColumnType::kString,
      meta2(static_cast<uint8_t>(ColumnType::kSet), static_cast<uint8_t>((members.size() + 7) / 8)),
      std::move(name)};
  c.members = std::move(members);
  return c;
}
TestColumn colJson(std::string name) {
  return TestColumn{ColumnType::kJson, meta1(4), std::move(name)};
}
TestColumn colPlain(ColumnType t, std::string name) {
  return TestColumn{t, {}, std::move(name)};
}
TestColumn colFloat(std::string name) {
  return TestColumn{ColumnType::kFloat, meta1(4), std::move(name)};
}
TestColumn colDouble(std::string name) {
  return TestColumn{ColumnType::kDouble, meta1(8), std::move(name)};
}

EventBuilder::EventBuilder(ServerFlavor flavor, bool checksum)
    : flavor_(flavor), checksum_(checksum) {}

std::string EventBuilder::postHeaderLengths() const {
  std::string p(171, '\0');
  auto set = [&](EventType t, uint8_t len) {
    p[static_cast<size_t>(t) - 1] = static_cast<char>(len);
  };
  set(EventType::kQuery, 13);
  set(EventType::kExecuteLoadQuery, 26);
  set(EventType::kRotate, 8);
  set(EventType::kFormatDescription, 98);
  set(EventType::kTableMap, 8);
  set(EventType::kWriteRowsV1, 8);
  set(EventType::kUpdateRowsV1, 8);
  set(EventType::kDeleteRowsV1, 8);
  set(EventType::kWriteRowsV2, 10);
  set(EventType::kUpdateRowsV2, 10);
  set(EventType::kDeleteRowsV2, 10);
  set(EventType::kPartialUpdateRows, 10);
  set(EventType::kGtid, 42);
  set(EventType::kAnonymousGtid, 42);
  set(EventType::kMariaQueryCompressed, 13);
  set(EventType::kMariaGtid, 19);
  if (flavor_ == ServerFlavor::kMySql) p.resize(41);
  return p;
}

std::string EventBuilder::event(EventType type, std::string_view body, uint32_t timestamp) {
  std::string e;
  const uint32_t size = static_cast<uint32_t>(kEventHeaderSize + body.size() + (checksum_ ? 4 : 0));
  putUint(&e, timestamp, 4);
  e.push_back(static_cast<char>(type));
  putUint(&e, 1, 4);
  putUint(&e, size, 4);
  putUint(&e, offset_ + size, 4);
  putUint(&e, 0, 2);
  e.append(body);
  if (checksum_) {
    uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(e.data()), static_cast<uInt>(e.size())));
    putUint(&e, crc, 4);
  }
  offset_ += size;
  return e;
}

std::string EventBuilder::formatDescription() {
  std::string b;
  putUint(&b, 4, 2);
  std::string version = flavor_ == ServerFlavor::kMariaDb ? "10.11.6-MariaDB-log" : "8.0.36";
  version.resize(50, '\0');
  b += version;
  putUint(&b, 0, 4);
  b.push_back(19);
  b += postHeaderLengths();
  b.push_back(checksum_ ? 1 : 0);
  // The FDE of a checksum-aware server always has the 4 checksum bytes; when checksums are off
  // they are still there (zero).
  if (checksum_) return event(EventType::kFormatDescription, b);
  checksum_ = false;
  std::string body = b + std::string(4, '\0');
  return event(EventType::kFormatDescription, body);
}

namespace {
// A QUERY event's body: post-header, status variables, database, statement.
std::string queryBody(std::string_view db, std::string_view sql, const std::string& status,
                      std::string_view more_post_header = {}) {
  std::string b;
  putUint(&b, 7, 4);  // thread id
  putUint(&b, 0, 4);  // exec time
  b.push_back(static_cast<char>(db.size()));
  putUint(&b, 0, 2);  // error code
  putUint(&b, status.size(), 2);
  b += more_post_header;
  b += status;
  b += db;
  b.push_back('\0');
  b += sql;
  return b;
}
}  // namespace

std::string EventBuilder::query(std::string_view db, std::string_view sql) {
  // Q_FLAGS2_CODE + 4 bytes
  return event(EventType::kQuery, queryBody(db, sql, std::string("\x00\x00\x00\x00\x00", 5)));
}

std::string EventBuilder::query(std::string_view db, std::string_view sql,
                                uint16_t client_collation, std::string_view time_zone,
                                int start_usec, TestQuerySession session) {
  std::string status;
  status.push_back(0);  // Q_FLAGS2_CODE
  putUint(&status, session.flags2, 4);
  status.push_back(1);  // Q_SQL_MODE_CODE
  putUint(&status, session.sql_mode, 8);
  status.push_back(6);  // Q_CATALOG_NZ_CODE
  status.push_back(3);
  status += "std";
  status.push_back(3);  // Q_AUTO_INCREMENT
  putUint(&status, 1, 2);
  putUint(&status, 1, 2);
  status.push_back(4);  // Q_CHARSET_CODE
  putUint(&status, client_collation, 2);
  putUint(&status, client_collation, 2);
  putUint(&status, 8, 2);
  if (!time_zone.empty()) {
    status.push_back(5);  // Q_TIME_ZONE_CODE
    status.push_back(static_cast<char>(time_zone.size()));
    status += time_zone;
  }
  if (start_usec >= 0) {
    status.push_back(flavor_ == ServerFlavor::kMariaDb ? static_cast<char>(128) : 13);
    putUint(&status, static_cast<uint64_t>(start_usec), 3);  // Q_HRNOW / Q_MICROSECONDS
  }
  if (session.explicit_defaults >= 0) {
    status.push_back(16);  // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP
    status.push_back(static_cast<char>(session.explicit_defaults));
  }
  return event(EventType::kQuery, queryBody(db, sql, status));
}

std::string EventBuilder::executeLoadQuery(std::string_view db, std::string_view sql) {
  std::string more;  // file id, the file name's start and end in sql, duplicate handling
  putUint(&more, 1, 4);
  putUint(&more, 0, 4);
  putUint(&more, 0, 4);
  more.push_back(0);
  return event(EventType::kExecuteLoadQuery,
               queryBody(db, sql, std::string("\x00\x00\x00\x00\x00", 5), more));
}

std::string EventBuilder::xid(uint64_t x) {
  std::string b;
  putUint(&b, x, 8);
  return event(EventType::kXid, b);
}

std::string EventBuilder::rotate(std::string_view next_file, uint64_t pos) {
  std::string b;
  putUint(&b, pos, 8);
  b += next_file;
  return event(EventType::kRotate, b);
}

std::string EventBuilder::tableMap(uint64_t table_id, std::string_view db, std::string_view table,
                                   const std::vector<TestColumn>& cols, bool full_metadata) {
  std::string b;
  putUint(&b, table_id, 6);
  putUint(&b, 1, 2);
  b.push_back(static_cast<char>(db.size()));
  b += db;
  b.push_back('\0');
  b.push_back(static_cast<char>(table.size()));
  b += table;
  b.push_back('\0');
  putLenenc(&b, cols.size());
  std::string meta, nulls((cols.size() + 7) / 8, '\0');
  for (size_t i = 0; i < cols.size(); ++i) {
    b.push_back(static_cast<char>(cols[i].type));
    meta += cols[i].meta;
    if (cols[i].nullable) nulls[i / 8] = static_cast<char>(nulls[i / 8] | (1 << (i % 8)));
  }
  putLenencString(&b, meta);
  b += nulls;
  if (full_metadata) {
    auto field = [&b](uint8_t type, const std::string& value) {
      b.push_back(static_cast<char>(type));
      putLenencString(&b, value);
    };
    // SIGNEDNESS: one bit per numeric column, most significant bit first.
    std::string sign;
    size_t k = 0;
    for (const auto& c : cols) {
      if (!hasSignedness(c.type)) continue;
      if (k % 8 == 0) sign.push_back('\0');
      if (c.is_unsigned) sign.back() = static_cast<char>(sign.back() | (0x80 >> (k % 8)));
      ++k;
    }
    if (!sign.empty()) field(1, sign);
    // COLUMN_CHARSET for character columns (STRING that is not ENUM/SET, VARCHAR, BLOB).
    std::string charsets;
    bool any_char = false;
    for (const auto& c : cols) {
      bool enum_or_set =
          c.type == ColumnType::kString && !c.meta.empty() &&
          (static_cast<uint8_t>(c.meta[0]) == 0xf7 || static_cast<uint8_t>(c.meta[0]) == 0xf8);
      bool character = (c.type == ColumnType::kString && !enum_or_set) ||
                       c.type == ColumnType::kVarchar || c.type == ColumnType::kBlob;
      if (!character) continue;
      any_char = true;
      putLenenc(&charsets, c.collation);
    }
    if (any_char) field(3, charsets);
    std::string names;
    for (const auto& c : cols) putLenencString(&names, c.name);
    field(4, names);
    std::string sets, enums;
    for (const auto& c : cols) {
      if (c.type != ColumnType::kString || c.meta.empty()) continue;
      std::string* dst = static_cast<uint8_t>(c.meta[0]) == 0xf7   ? &enums
                         : static_cast<uint8_t>(c.meta[0]) == 0xf8 ? &sets
                                                                   : nullptr;
      if (dst == nullptr) continue;
      putLenenc(dst, c.members.size());
      for (const auto& m : c.members) putLenencString(dst, m);
    }
    if (!sets.empty()) field(5, sets);
    if (!enums.empty()) field(6, enums);
    std::string pk;
    putLenenc(&pk, 0);
    field(8, pk);
    field(200, "unknown field, skipped by length");
  }
  return event(EventType::kTableMap, b);
}

std::string EventBuilder::rows(EventType type, uint64_t table_id, size_t ncols,
                               std::string_view rows_body, std::string before_bitmap,
                               std::string after_bitmap) {
  std::string b;
  putUint(&b, table_id, 6);
  putUint(&b, 1, 2);  // STMT_END_F
  const bool v2 = type == EventType::kWriteRowsV2 || type == EventType::kUpdateRowsV2 ||
                  type == EventType::kDeleteRowsV2 || type == EventType::kPartialUpdateRows;
  if (v2) putUint(&b, 2, 2);  // extra data length (only itself)
  putLenenc(&b, ncols);
  if (before_bitmap.empty()) before_bitmap = allColumns(ncols);
  if (after_bitmap.empty()) after_bitmap = allColumns(ncols);
  const bool has_before = type != EventType::kWriteRowsV1 && type != EventType::kWriteRowsV2;
  const bool has_after = type != EventType::kDeleteRowsV1 && type != EventType::kDeleteRowsV2;
  if (has_before) b += before_bitmap;
  if (has_after) b += after_bitmap;
  b += rows_body;
  return event(type, b);
}

std::string EventBuilder::mysqlGtid(const uint8_t uuid[16], uint64_t gno, int64_t last_committed,
                                    int64_t seq, uint64_t immediate_commit_us) {
  std::string b;
  b.push_back(1);
  b.append(reinterpret_cast<const char*>(uuid), 16);
  putUint(&b, gno, 8);
  b.push_back(2);
  putUint(&b, static_cast<uint64_t>(last_committed), 8);
  putUint(&b, static_cast<uint64_t>(seq), 8);
  if (immediate_commit_us != 0) {
    putUint(&b, immediate_commit_us, 7);  // high bit clear: original == immediate
    putLenenc(&b, 1234);                  // transaction length
    putUint(&b, 80036, 4);                // immediate server version, high bit clear
  }
  return event(EventType::kGtid, b);
}

std::string EventBuilder::mariaGtid(uint64_t seq, uint32_t domain, uint8_t flags,
                                    std::string_view xa_gtrid) {
  std::string b;
  putUint(&b, seq, 8);
  putUint(&b, domain, 4);
  b.push_back(static_cast<char>(flags));
  if (flags & MariaGtidEvent::kFlGroupCommitId) putUint(&b, 99, 8);
  if (flags & (MariaGtidEvent::kFlPreparedXa | MariaGtidEvent::kFlCompletedXa)) {
    putUint(&b, 1, 4);  // formatID
    b.push_back(static_cast<char>(xa_gtrid.size()));
    b.push_back('\0');  // bqual: empty
    b += xa_gtrid;
  }
  while (b.size() < 19) b.push_back('\0');
  return event(EventType::kMariaGtid, b);
}

std::string EventBuilder::transactionPayload(std::string_view inner, bool compress) {
  std::string payload;
  if (compress) {
    payload.resize(ZSTD_compressBound(inner.size()));
    size_t n = ZSTD_compress(payload.data(), payload.size(), inner.data(), inner.size(), 3);
    payload.resize(n);
  } else {
    payload.assign(inner);
  }
  std::string b;
  auto field = [&b](uint64_t type, uint64_t value) {
    std::string v;
    putLenenc(&v, value);
    putLenenc(&b, type);
    putLenenc(&b, v.size());
    b += v;
  };
  field(2, compress ? 0 : 255);
  field(3, inner.size());
  field(1, payload.size());
  putLenenc(&b, 0);
  b += payload;
  return event(EventType::kTransactionPayload, b);
}

std::string rowImage(const std::vector<std::string>& values, const std::vector<bool>& is_null) {
  std::string nulls((values.size() + 7) / 8, '\0'), body;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i < is_null.size() && is_null[i]) {
      nulls[i / 8] = static_cast<char>(nulls[i / 8] | (1 << (i % 8)));
    } else {
      body += values[i];
    }
  }
  return nulls + body;
}

std::string allColumns(size_t ncols) {
  std::string b((ncols + 7) / 8, '\0');
  for (size_t i = 0; i < ncols; ++i) b[i / 8] = static_cast<char>(b[i / 8] | (1 << (i % 8)));
  return b;
}

namespace json {
namespace {
std::string typed(uint8_t type, std::string payload) {
  return std::string(1, static_cast<char>(type)) + payload;
}
std::string le(uint64_t v, size_t n) {
  std::string s;
  putUint(&s, v, n);
  return s;
}
std::string varLen(uint64_t n) {
  std::string s;
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    if (n) b |= 0x80;
    s.push_back(static_cast<char>(b));
  } while (n);
  return s;
}
bool inlinable(uint8_t type, bool large) {
  return type == 0x04 || type == 0x05 || type == 0x06 || (large && (type == 0x07 || type == 0x08));
}
std::string container(uint8_t small_type,
                      const std::vector<std::pair<std::string, std::string>>* members,
                      const std::vector<std::string>* items, bool large) {
  const size_t osize = large ? 4 : 2;
  const size_t count = members ? members->size() : items->size();
  const size_t header = 2 * osize + count * ((members ? osize + 2 : 0) + 1 + osize);
  std::string keys_area, values_area, key_entries, value_entries;
  size_t cursor = header;
  if (members) {
    for (const auto& m : *members) {
      key_entries += le(cursor + keys_area.size(), osize) + le(m.first.size(), 2);
      keys_area += m.first;
    }
  }
  cursor += keys_area.size();
  for (size_t i = 0; i < count; ++i) {
    const std::string& v = members ? (*members)[i].second : (*items)[i];
    uint8_t t = static_cast<uint8_t>(v[0]);
    value_entries.push_back(static_cast<char>(t));
    if (inlinable(t, large)) {
      std::string payload = v.substr(1);
      payload.resize(osize, '\0');
      value_entries += payload;
    } else {
      value_entries += le(cursor + values_area.size(), osize);
      values_area += v.substr(1);
    }
  }
  const size_t total = header + keys_area.size() + values_area.size();
  return typed(
      static_cast<uint8_t>(small_type + (large ? 1 : 0)),
      le(count, osize) + le(total, osize) + key_entries + value_entries + keys_area + values_area);
}
}  // namespace

std::string literal(uint8_t which) {
  return typed(0x04, std::string(1, static_cast<char>(which)));
}
std::string int16(int16_t v) {
  return typed(0x05, le(static_cast<uint16_t>(v), 2));
}
std::string uint16(uint16_t v) {
  return typed(0x06, le(v, 2));
}
std::string int32(int32_t v) {
  return typed(0x07, le(static_cast<uint32_t>(v), 4));
}
std::string uint32(uint32_t v) {
  return typed(0x08, le(v, 4));
}
std::string int64(int64_t v) {
  return typed(0x09, le(static_cast<uint64_t>(v), 8));
}
std::string uint64(uint64_t v) {
  return typed(0x0a, le(v, 8));
}
std::string dbl(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  return typed(0x0b, le(bits, 8));
}
std::string str(std::string_view s) {
  return typed(0x0c, varLen(s.size()) + std::string(s));
}
std::string opaque(uint8_t field_type, std::string_view data) {
  return typed(0x0f, std::string(1, static_cast<char>(field_type)) + varLen(data.size()) +
                         std::string(data));
}
std::string object(const std::vector<std::pair<std::string, std::string>>& members, bool large) {
  return container(0x00, &members, nullptr, large);
}
std::string array(const std::vector<std::string>& items, bool large) {
  return container(0x02, nullptr, &items, large);
}
}  // namespace json

}  // namespace dts::mysql::testing
