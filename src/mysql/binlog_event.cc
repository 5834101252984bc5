#include "mysql/binlog_event.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "common/byte_reader.h"
#include "common/strings.h"
#include "mysql/charset_convert.h"
#include "mysql/connection.h"

namespace dts::mysql {
namespace {

Status corrupt(const std::string& what) {
  return Status::Corruption(what);
}

std::string posText(const BinlogPosition& p) {
  return p.file + ":" + std::to_string(p.offset);
}

std::string formatUuid(const uint8_t* b) {
  std::string s;
  appendUuid(b, &s);
  return s;
}

// The columns whose character sets TABLE_MAP's charset metadata lists, in order: MariaDB counts
// GEOMETRY among them (its BLOB base; MySQL does not), and COMPRESSED columns (read here as
// VARCHAR and BLOB) as what they compress. Checked against MariaDB 10.11: a column after a
// GEOMETRY took the character set of the one before it.
bool isCharacter(const ColumnInfo& c, ServerFlavor flavor) {
  if (c.type == ColumnType::kGeometry) return flavor == ServerFlavor::kMariaDb;
  switch (c.type) {
    case ColumnType::kString: return !isEnumOrSet(c);
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob: return true;
    default: return false;
  }
}

// Optional metadata of TABLE_MAP (MySQL 8.0.1+, MariaDB 10.5+ with binlog_row_metadata).
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
enum OptionalMetadata : uint8_t {
  kSignedness = 1,
  kDefaultCharset = 2,
  kColumnCharset = 3,
  kColumnName = 4,
  kSetStrValue = 5,
  kEnumStrValue = 6,
  kGeometryType = 7,
  kSimplePrimaryKey = 8,
  kPrimaryKeyWithPrefix = 9,
  kEnumAndSetDefaultCharset = 10,
  kEnumAndSetColumnCharset = 11,
  kColumnVisibility = 12,
};

// Indexes of the columns matching `pred`, in order.
template <typename Pred>
std::vector<size_t> columnsWhere(const TableInfo& t, Pred pred) {
  std::vector<size_t> out;
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (pred(t.columns[i])) out.push_back(i);
  return out;
}

Status parseCharsets(ByteReader* r, bool with_default, const std::vector<size_t>& cols,
                     TableInfo* t) {
  uint64_t v;
  if (with_default) {
    if (!r->getLenenc(&v)) return corrupt("truncated default charset");
    for (size_t c : cols) t->columns[c].collation = static_cast<uint16_t>(v);
    while (!r->empty()) {
      uint64_t idx, coll;
      if (!r->getLenenc(&idx) || !r->getLenenc(&coll))
        return corrupt("truncated charset exception");
      if (idx >= cols.size()) return corrupt("charset exception for a column that does not exist");
      t->columns[cols[idx]].collation = static_cast<uint16_t>(coll);
    }
    return Status::OK();
  }
  for (size_t c : cols) {
    if (!r->getLenenc(&v)) return corrupt("truncated column charsets");
    t->columns[c].collation = static_cast<uint16_t>(v);
  }
  return Status::OK();
}

Status parseStrValues(ByteReader* r, const std::vector<size_t>& cols, TableInfo* t) {
  for (size_t c : cols) {
    uint64_t count;
    if (!r->getLenenc(&count) || count > r->remaining())
      return corrupt("truncated ENUM/SET members");
    auto& members = t->columns[c].enum_values;
    members.clear();
    t->columns[c].enum_values_collation = 0;  // the members are in the column's character set
    for (uint64_t k = 0; k < count; ++k) {
      std::string_view s;
      if (!r->getLenencBytes(&s)) return corrupt("truncated ENUM/SET member");
      members.emplace_back(s);
    }
  }
  return Status::OK();
}

Status parseOptionalMetadata(ByteReader* r, TableInfo* t, ServerFlavor flavor) {
  while (!r->empty()) {
    uint8_t type;
    uint64_t len;
    std::string_view value;
    if (!r->getU8(&type) || !r->getLenenc(&len) || !r->getBytes(len, &value))
      return corrupt("truncated optional metadata field");
    ByteReader f(value);
    switch (type) {
      case kSignedness: {
        auto cols = columnsWhere(*t, [](const ColumnInfo& c) { return hasSignedness(c.type); });
        if (value.size() < (cols.size() + 7) / 8) return corrupt("SIGNEDNESS bitmap too short");
        for (size_t k = 0; k < cols.size(); ++k)  // most significant bit first
          t->columns[cols[k]].is_unsigned = (static_cast<uint8_t>(value[k / 8]) >> (7 - k % 8)) & 1;
        break;
      }
      case kDefaultCharset:
      case kColumnCharset: {
        auto cols =
            columnsWhere(*t, [flavor](const ColumnInfo& c) { return isCharacter(c, flavor); });
        DTS_RETURN_IF_ERROR(parseCharsets(&f, type == kDefaultCharset, cols, t));
        break;
      }
      case kEnumAndSetDefaultCharset:
      case kEnumAndSetColumnCharset: {
        auto cols = columnsWhere(*t, isEnumOrSet);
        DTS_RETURN_IF_ERROR(parseCharsets(&f, type == kEnumAndSetDefaultCharset, cols, t));
        break;
      }
      case kColumnName:
        for (auto& c : t->columns) {
          std::string_view name;
          if (!f.getLenencBytes(&name)) return corrupt("truncated COLUMN_NAME");
          c.name.assign(name);
        }
        break;
      case kSetStrValue:
        DTS_RETURN_IF_ERROR(parseStrValues(
            &f,
            columnsWhere(*t, [](const ColumnInfo& c) { return realType(c) == ColumnType::kSet; }),
            t));
        break;
      case kEnumStrValue:
        DTS_RETURN_IF_ERROR(parseStrValues(
            &f,
            columnsWhere(*t, [](const ColumnInfo& c) { return realType(c) == ColumnType::kEnum; }),
            t));
        break;
      case kSimplePrimaryKey:
        t->primary_key.clear();
        while (!f.empty()) {
          uint64_t idx;
          if (!f.getLenenc(&idx) || idx >= t->columns.size())
            return corrupt("bad SIMPLE_PRIMARY_KEY");
          t->primary_key.push_back(static_cast<size_t>(idx));
        }
        break;
      case kPrimaryKeyWithPrefix:
        t->primary_key.clear();
        while (!f.empty()) {
          uint64_t idx, prefix;
          if (!f.getLenenc(&idx) || !f.getLenenc(&prefix) || idx >= t->columns.size())
            return corrupt("bad PRIMARY_KEY_WITH_PREFIX");
          t->primary_key.push_back(static_cast<size_t>(idx));
        }
        break;
      case kGeometryType:
      case kColumnVisibility:
      default: break;  // nothing dts uses; unknown fields are skipped by their length
    }
  }
  return Status::OK();
}

}  // namespace

std::string MariaGtidEvent::gtid() const {
  return std::to_string(domain_id) + "-" + std::to_string(server_id) + "-" + std::to_string(seq_no);
}

std::string MySqlGtidEvent::uuid() const {
  return formatUuid(sid);
}
std::string MySqlGtidEvent::gtid() const {
  if (anonymous) return {};
  return uuid() + ":" + std::to_string(gno);
}

std::string PreviousGtidsEvent::toString() const {
  std::string s;
  for (const auto& sid : sids) {
    if (!s.empty()) s.push_back(',');
    s += sid.uuid;
    for (const auto& iv : sid.intervals) {
      // Appended piece by piece: ":" + std::to_string(...) trips GCC 12's -Wrestrict at -O3.
      s.push_back(':');
      s += std::to_string(iv.start);
      if (iv.end - 1 != iv.start) {
        s.push_back('-');
        s += std::to_string(iv.end - 1);
      }
    }
  }
  return s;
}

Status mariaDbUncompress(std::string_view in, std::string* out, uint64_t max_bytes) {
  ByteReader r(in);
  uint8_t head;
  if (!r.getU8(&head)) return corrupt("empty compressed data");
  const unsigned lenlen = head & 0x07, alg = (head >> 4) & 0x07;
  if ((head & 0x80) == 0 || lenlen < 1 || lenlen > 4) return corrupt("bad compressed-data header");
  if (alg != 0)
    return Status::Unsupported("compression algorithm " + std::to_string(alg) +
                               " (only zlib is known)");
  uint64_t len;
  if (!r.getUintBE(lenlen, &len)) return corrupt("truncated compressed-data length");
  if (len > max_bytes)
    return corrupt("compressed data announces " + std::to_string(len) + " bytes, over the limit");
  out->resize(len);
  uLongf dest_len = static_cast<uLongf>(len);
  std::string_view src = r.rest();
  int rc = uncompress(reinterpret_cast<Bytef*>(out->data()), &dest_len,
                      reinterpret_cast<const Bytef*>(src.data()), static_cast<uLong>(src.size()));
  if (rc != Z_OK || dest_len != len)
    return corrupt("zlib data does not decompress to the announced size");
  return Status::OK();
}

// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
// and MariaDB KB "Table_map_log_event".
Result<TableInfo> parseTableMap(std::string_view body, uint8_t post_header_len,
                                ServerFlavor flavor) {
  ByteReader r(body);
  TableInfo t;
  uint64_t table_id;
  uint16_t flags;
  const size_t id_bytes = post_header_len == 6 ? 4 : 6;
  if (!r.getUint(id_bytes, &table_id) || !r.getU16(&flags))
    return corrupt("truncated TABLE_MAP post-header");
  if (post_header_len > 8 && !r.skip(post_header_len - 8))
    return corrupt("truncated TABLE_MAP post-header");
  t.table_id = table_id;
  uint8_t len;
  std::string_view s;
  if (!r.getU8(&len) || !r.getBytes(len, &s) || !r.skip(1))
    return corrupt("truncated TABLE_MAP database name");
  t.database.assign(s);
  if (!r.getU8(&len) || !r.getBytes(len, &s) || !r.skip(1))
    return corrupt("truncated TABLE_MAP table name");
  t.table.assign(s);
  uint64_t count;
  std::string_view types, meta, nulls;
  if (!r.getLenenc(&count) || count == 0 || count > 4096 || !r.getBytes(count, &types))
    return corrupt("bad TABLE_MAP column count or types");
  t.columns.resize(count);
  uint64_t meta_len;
  if (!r.getLenenc(&meta_len) || !r.getBytes(meta_len, &meta))
    return corrupt("truncated TABLE_MAP metadata");
  ByteReader m(meta);
  for (size_t i = 0; i < count; ++i) {
    ColumnInfo& c = t.columns[i];
    c.type = static_cast<ColumnType>(types[i]);
    uint64_t v = 0;
    bool ok = true;
    switch (c.type) {
      case ColumnType::kFloat:
      case ColumnType::kDouble:
      case ColumnType::kBlob:
      case ColumnType::kTinyBlob:
      case ColumnType::kMediumBlob:
      case ColumnType::kLongBlob:
      case ColumnType::kGeometry:
      case ColumnType::kJson:
      case ColumnType::kTime2:
      case ColumnType::kDateTime2:
      case ColumnType::kTimestamp2: ok = m.getUint(1, &v); break;
      case ColumnType::kVarchar:
      case ColumnType::kVarString:
      case ColumnType::kBit:
        ok = m.getUint(2, &v);  // little-endian: max length; BIT: bits % 8, then bytes
        break;
      case ColumnType::kVarcharCompressed:  // the maximum length, as VARCHAR
        ok = m.getUint(2, &v);
        c.type = ColumnType::kVarchar;
        c.compressed = true;
        break;
      case ColumnType::kBlobCompressed:  // the length's size, as BLOB
        ok = m.getUint(1, &v);
        c.type = ColumnType::kBlob;
        c.compressed = true;
        break;
      case ColumnType::kNewDecimal:
      case ColumnType::kString:
      case ColumnType::kEnum:
      case ColumnType::kSet:
      case ColumnType::kDecimal:
        ok = m.getUintBE(2, &v);  // precision, scale / real type, length
        break;
      default: break;
    }
    if (!ok) return corrupt("TABLE_MAP metadata shorter than its column types need");
    c.meta = static_cast<uint16_t>(v);
  }
  if (!m.empty()) return corrupt("TABLE_MAP metadata longer than its column types need");
  if (!r.getBytes((count + 7) / 8, &nulls)) return corrupt("truncated TABLE_MAP null bitmap");
  for (size_t i = 0; i < count; ++i)
    t.columns[i].nullable = (static_cast<uint8_t>(nulls[i / 8]) >> (i % 8)) & 1;
  Status st = parseOptionalMetadata(&r, &t, flavor);
  if (!st.ok()) return st.withContext("TABLE_MAP of " + mysql::quoteQualified(t.database, t.table));
  return t;
}

BinlogDecoder::BinlogDecoder() : BinlogDecoder(Options()) {}
BinlogDecoder::BinlogDecoder(Options options)
    : options_(options),
      format_(BinlogFormat::Options{ChecksumAlg::kUndefined, options.verify_checksums}) {}

std::shared_ptr<const TableDecoder> BinlogDecoder::table(uint64_t table_id) const {
  auto it = tables_.find(table_id);
  return it == tables_.end() ? nullptr : it->second.decoder;
}

Status BinlogDecoder::decode(std::string_view raw, const BinlogPosition& position,
                             std::vector<BinlogEvent>* out) {
  scratch_.clear();
  used_ = 0;
  Status s = decodeOne(raw, position, position.offset + raw.size(), false, out);
  out->resize(used_);
  return s;
}

BinlogEvent& BinlogDecoder::nextSlot(std::vector<BinlogEvent>* out, const EventHeader& h,
                                     const BinlogPosition& position, uint64_t end_offset,
                                     bool in_payload) {
  BinlogEvent& ev = used_ < out->size() ? (*out)[used_] : out->emplace_back();
  ++used_;
  ev.header = h;
  ev.position = position;  // an assignment: a reused slot keeps its file name's buffer
  ev.end_offset = end_offset;
  ev.in_payload = in_payload;
  return ev;
}

Status BinlogDecoder::decodeOne(std::string_view raw, const BinlogPosition& position,
                                uint64_t end_offset, bool in_payload,
                                std::vector<BinlogEvent>* out) {
  auto where = [&] {
    return std::string(in_payload ? "inside the TRANSACTION_PAYLOAD at " : "at ") +
           posText(position);
  };
  auto read = in_payload ? format_.nextInPayload(raw) : format_.next(raw);
  if (!read.ok()) return read.status().withContext("corrupt binlog event " + where());
  const EventHeader& h = read->header;
  if (h.type == EventType::kFormatDescription) {
    tables_.clear();
    nextSlot(out, h, position, end_offset, in_payload).body = format_.format();
    return Status::OK();
  }
  nextSlot(out, h, position, end_offset, in_payload);
  Status s = decodeBody(h, read->body, &(*out)[used_ - 1], in_payload, out);
  if (!s.ok()) return s.withContext("corrupt " + eventTypeName(h.type) + " event " + where());
  return Status::OK();
}

namespace {

// What a body decoder reads: the event's header, its body (after the header, without the
// checksum) and the format in force.
struct EventBody {
  const EventHeader& header;
  std::string_view bytes;
  const FormatDescriptionEvent& format;
  uint64_t max_uncompressed_bytes;
};

// What a QUERY event's status variables say of the session that ran it: the client's collation
// (Q_CHARSET_CODE), its time zone (Q_TIME_ZONE_CODE) and the microseconds of its start
// (MariaDB Q_HRNOW, MySQL Q_MICROSECONDS). Each variable is a code byte and a value whose length
// the code fixes; the walk stops at the first code it does not know (as the server's own reader
// does), since it cannot step over it.
void readQueryStatus(std::string_view vars, QueryEvent* e) {
  ByteReader r(vars);
  uint8_t code;
  while (r.getU8(&code)) {
    uint8_t len8 = 0;
    std::string_view text;
    switch (code) {
      case 0: {  // Q_FLAGS2_CODE
        uint32_t flags2 = 0;
        if (!r.getU32(&flags2)) return;
        // MariaDB's OPTION_EXPLICIT_DEF_TIMESTAMP (MySQL logs the setting as status 16 instead).
        if (e->flavor == ServerFlavor::kMariaDb) {
          e->explicit_defaults_for_timestamp = (flags2 & (1u << 24)) != 0;
        }
        break;
      }
      case 1: {  // Q_SQL_MODE_CODE
        uint64_t mode = 0;
        if (!r.getU64(&mode)) return;
        e->sql_mode = mode;
        break;
      }
      case 3:   // Q_AUTO_INCREMENT
      case 10:  // Q_MASTER_DATA_WRITTEN_CODE
        if (!r.skip(4)) return;
        break;
      case 9:    // Q_TABLE_MAP_FOR_UPDATE_CODE
      case 14:   // Q_COMMIT_TS
      case 15:   // Q_COMMIT_TS2
      case 17:   // Q_DDL_LOGGED_WITH_XID
      case 129:  // MariaDB Q_XID
        if (!r.skip(8)) return;
        break;
      case 2:  // Q_CATALOG_CODE: length, text, NUL
        if (!r.getU8(&len8) || !r.skip(len8 + 1u)) return;
        break;
      case 4:  // Q_CHARSET_CODE: client, connection and server collations
        if (!r.getU16(&e->client_collation) || !r.skip(2) || !r.getU16(&e->server_collation))
          return;
        break;
      case 5:  // Q_TIME_ZONE_CODE: length, name
        if (!r.getU8(&len8) || !r.getBytes(len8, &text)) return;
        e->time_zone.assign(text);
        break;
      case 6:  // Q_CATALOG_NZ_CODE
        if (!r.getU8(&len8) || !r.skip(len8)) return;
        break;
      case 7:   // Q_LC_TIME_NAMES_CODE
      case 8:   // Q_CHARSET_DATABASE_CODE
      case 18:  // Q_DEFAULT_COLLATION_FOR_UTF8MB4
        if (!r.skip(2)) return;
        break;
      case 13:     // Q_MICROSECONDS
      case 128: {  // MariaDB Q_HRNOW
        uint64_t usec = 0;
        if (!r.getUint(3, &usec)) return;
        e->start_usec = static_cast<uint32_t>(usec);
        break;
      }
      case 16: {  // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP
        uint8_t on = 0;
        if (!r.getU8(&on)) return;
        e->explicit_defaults_for_timestamp = on != 0;
        break;
      }
      case 19:  // Q_SQL_REQUIRE_PRIMARY_KEY
      case 20:  // Q_DEFAULT_TABLE_ENCRYPTION
        if (!r.skip(1)) return;
        break;
      case 11:  // Q_INVOKER: user and host, each with a length byte
        if (!r.getU8(&len8) || !r.skip(len8) || !r.getU8(&len8) || !r.skip(len8)) return;
        break;
      case 12: {  // Q_UPDATED_DB_NAMES: a count, then NUL-terminated names (254: none listed)
        uint8_t n = 0;
        if (!r.getU8(&n)) return;
        if (n == 254) break;
        for (uint8_t i = 0; i < n; ++i) {
          uint8_t c = 1;
          while (c != 0) {
            if (!r.getU8(&c)) return;
          }
        }
        break;
      }
      default: return;
    }
  }
}

// `_name'`, `_name"` or `_name X'` at the start of a word: a character set introducer.
bool hasIntroducer(std::string_view sql) {
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '_') continue;
    if (i > 0 && (std::isalnum(static_cast<unsigned char>(sql[i - 1])) || sql[i - 1] == '_' ||
                  sql[i - 1] == '`'))
      continue;
    size_t j = i + 1;
    while (j < sql.size() && std::isalnum(static_cast<unsigned char>(sql[j]))) ++j;
    if (j == i + 1) continue;
    while (j < sql.size() && std::isspace(static_cast<unsigned char>(sql[j]))) ++j;
    if (j < sql.size() && (sql[j] == '\'' || sql[j] == '"' || sql[j] == 'x' || sql[j] == 'X' ||
                           sql[j] == 'b' || sql[j] == 'B' || sql[j] == '0'))
      return true;
  }
  return false;
}

void queryTextToUtf8(QueryEvent* e) {
  const std::string& sql = e->sql;
  if (e->client_collation == 0 || utf8MaxBytes(e->client_collation) != 0) return;
  bool ascii = std::all_of(sql.begin(), sql.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  // Every character set a client may use is ASCII-compatible (ucs2/utf16/utf32 cannot be
  // character_set_client), so ASCII text is the same in UTF-8.
  if (ascii) return;
  std::string out;
  if (hasIntroducer(sql) ||
      appendUtf8(e->client_collation, sql, &out) != TextConversion::kConverted) {
    e->sql_is_utf8 = false;
    return;
  }
  e->sql = std::move(out);
}

// https://mariadb.com/kb/en/query_event/ (and QUERY_COMPRESSED: the text is compressed)
Status decodeQuery(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  QueryEvent e;
  uint8_t db_len;
  uint16_t status_len = 0;
  const uint8_t ph = in.format.postHeaderLength(in.header.type, 13);
  if (ph < 11 || !r.getU32(&e.thread_id) || !r.getU32(&e.exec_time) || !r.getU8(&db_len) ||
      !r.getU16(&e.error_code))
    return corrupt("truncated post-header");
  if (ph >= 13 && (!r.getU16(&status_len) || !r.skip(ph - 13)))
    return corrupt("truncated post-header");
  std::string_view db, status_vars;
  if (!r.getBytes(status_len, &status_vars)) return corrupt("status variables run past the event");
  e.flavor = in.format.flavor;
  e.server_version = in.format.version_number;
  readQueryStatus(status_vars, &e);
  if (!r.getBytes(db_len, &db) || !r.skip(1)) return corrupt("truncated database name");
  e.database.assign(db);
  if (in.header.type == EventType::kMariaQueryCompressed) {
    DTS_RETURN_IF_ERROR(mariaDbUncompress(r.rest(), &e.sql, in.max_uncompressed_bytes));
  } else {
    e.sql.assign(r.rest());
  }
  queryTextToUtf8(&e);
  ev->body = std::move(e);
  return Status::OK();
}

// https://mariadb.com/kb/en/xid_event/
Status decodeXid(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  XidEvent e;
  if (!r.getU64(&e.xid)) return corrupt("truncated xid");
  ev->body = e;
  return Status::OK();
}

// https://mariadb.com/kb/en/gtid_event/
Status decodeMariaGtid(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  MariaGtidEvent e;
  e.server_id = in.header.server_id;
  if (!r.getU64(&e.seq_no) || !r.getU32(&e.domain_id) || !r.getU8(&e.flags))
    return corrupt("truncated GTID");
  if ((e.flags & MariaGtidEvent::kFlGroupCommitId) && !r.getU64(&e.commit_id))
    return corrupt("truncated commit id");
  if (e.flags & (MariaGtidEvent::kFlPreparedXa | MariaGtidEvent::kFlCompletedXa)) {
    uint8_t gl, bl;
    std::string_view g, b;
    if (!r.getU32(&e.xa_format_id) || !r.getU8(&gl) || !r.getU8(&bl) || gl > 64 || bl > 64 ||
        !r.getBytes(gl, &g) || !r.getBytes(bl, &b))
      return corrupt("truncated XA id");
    e.xa_gtrid.assign(g);
    e.xa_bqual.assign(b);
  }
  ev->body = std::move(e);
  return Status::OK();
}

// https://mariadb.com/kb/en/gtid_list_event/
Status decodeMariaGtidList(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  MariaGtidListEvent e;
  uint32_t word;
  if (!r.getU32(&word)) return corrupt("truncated count");
  const uint32_t count = word & 0x0fffffff;
  e.flags = static_cast<uint8_t>(word >> 28);
  if (count > r.remaining() / 16) return corrupt("more GTIDs than bytes");
  for (uint32_t i = 0; i < count; ++i) {
    MariaGtidListEvent::Entry g;
    if (!r.getU32(&g.domain_id) || !r.getU32(&g.server_id) || !r.getU64(&g.seq_no))
      return corrupt("truncated GTID");
    e.gtids.push_back(g);
  }
  ev->body = std::move(e);
  return Status::OK();
}

// https://mariadb.com/kb/en/binlog_checkpoint_event/
Status decodeBinlogCheckpoint(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  uint32_t len;
  std::string_view name;
  if (!r.getU32(&len) || !r.getBytes(len, &name)) return corrupt("truncated file name");
  ev->body = BinlogCheckpointEvent{std::string(name)};
  return Status::OK();
}

// https://mariadb.com/kb/en/annotate_rows_event/ : the statement text, nothing else.
Status decodeAnnotateRows(const EventBody& in, BinlogEvent* ev) {
  ev->body = AnnotateRowsEvent{std::string(in.bytes)};
  return Status::OK();
}

// MySQL ROWS_QUERY: 1 length byte (truncated to 255, ignored), then the text.
Status decodeRowsQuery(const EventBody& in, BinlogEvent* ev) {
  if (in.bytes.empty()) return corrupt("truncated ROWS_QUERY");
  ev->body = AnnotateRowsEvent{std::string(in.bytes.substr(1))};
  return Status::OK();
}

// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html
Status decodeMySqlGtid(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  MySqlGtidEvent e;
  e.anonymous = in.header.type == EventType::kAnonymousGtid;
  std::string_view sid;
  if (!r.getU8(&e.flags) || !r.getBytes(16, &sid) || !r.getU64(&e.gno))
    return corrupt("truncated GTID");
  std::memcpy(e.sid, sid.data(), 16);
  uint8_t lt_type;
  if (r.getU8(&lt_type)) {
    if (lt_type != 2) return corrupt("unknown logical timestamp type " + std::to_string(lt_type));
    uint64_t lc, sn;
    if (!r.getU64(&lc) || !r.getU64(&sn)) return corrupt("truncated logical timestamps");
    e.has_logical_clock = true;
    e.last_committed = static_cast<int64_t>(lc);
    e.sequence_number = static_cast<int64_t>(sn);
    uint64_t ts;
    if (r.getUint(7, &ts)) {
      constexpr uint64_t kHighBit = uint64_t{1} << 55;
      e.immediate_commit_us = ts & ~kHighBit;
      e.original_commit_us = e.immediate_commit_us;
      if ((ts & kHighBit) && !r.getUint(7, &e.original_commit_us))
        return corrupt("truncated commit timestamp");
      if (!r.empty() && !r.getLenenc(&e.transaction_length))
        return corrupt("bad transaction length");
      uint32_t v;
      if (r.getU32(&v)) {
        e.immediate_server_version = v & 0x7fffffff;
        e.original_server_version = e.immediate_server_version;
        if ((v & 0x80000000u) && !r.getU32(&e.original_server_version))
          return corrupt("truncated server version");
      }
    }
  }
  ev->body = e;
  return Status::OK();
}

// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Previous__gtids__event.html
Status decodePreviousGtids(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  PreviousGtidsEvent e;
  uint64_t n;
  if (!r.getU64(&n) || n > r.remaining() / 24) return corrupt("bad SID count");
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view sid;
    uint64_t ni;
    if (!r.getBytes(16, &sid) || !r.getU64(&ni) || ni > r.remaining() / 16)
      return corrupt("truncated SID");
    PreviousGtidsEvent::Sid s;
    s.uuid = formatUuid(reinterpret_cast<const uint8_t*>(sid.data()));
    for (uint64_t k = 0; k < ni; ++k) {
      PreviousGtidsEvent::Interval iv;
      if (!r.getU64(&iv.start) || !r.getU64(&iv.end)) return corrupt("truncated interval");
      if (iv.start == 0 || iv.end <= iv.start) return corrupt("empty or reversed GTID interval");
      s.intervals.push_back(iv);
    }
    e.sids.push_back(std::move(s));
  }
  ev->body = std::move(e);
  return Status::OK();
}

// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1XA__prepare__event.html
Status decodeXaPrepare(const EventBody& in, BinlogEvent* ev) {
  ByteReader r(in.bytes);
  XaPrepareEvent e;
  uint8_t one_phase;
  uint32_t gl, bl;
  std::string_view g, b;
  if (!r.getU8(&one_phase) || !r.getU32(&e.format_id) || !r.getU32(&gl) || !r.getU32(&bl) ||
      gl > 64 || bl > 64 || !r.getBytes(gl, &g) || !r.getBytes(bl, &b))
    return corrupt("truncated XID");
  e.one_phase = one_phase != 0;
  e.gtrid.assign(g);
  e.bqual.assign(b);
  ev->body = std::move(e);
  return Status::OK();
}

// HEARTBEAT carries the file name; HEARTBEAT_V2 (MySQL 8.0.26+) its fields, unused here.
Status decodeHeartbeat(const EventBody& in, BinlogEvent* ev) {
  ev->body = in.header.type == EventType::kHeartbeat ? HeartbeatEvent{std::string(in.bytes)}
                                                     : HeartbeatEvent{};
  return Status::OK();
}

}  // namespace

Status BinlogDecoder::decodeBody(const EventHeader& h, std::string_view body, BinlogEvent* ev,
                                 bool in_payload, std::vector<BinlogEvent>* out) {
  const EventBody in{h, body, format_.format(), options_.max_uncompressed_bytes};
  switch (h.type) {
    case EventType::kRotate:  // parsed by format_, which follows it
      ev->body = format_.lastRotate();
      return Status::OK();
    case EventType::kQuery:
    case EventType::kMariaQueryCompressed:
    // LOAD DATA logged as a statement: its text (naming the file the server wrote from the
    // BEGIN_LOAD_QUERY and APPEND_BLOCK events) is a QUERY's, after a longer post-header that
    // decodeQuery skips. Decoded, it is a statement like any other: one that writes a moved
    // table stops the task (pipeline/statement_dml.h) instead of being dropped unseen.
    case EventType::kExecuteLoadQuery: return decodeQuery(in, ev);
    case EventType::kXid: return decodeXid(in, ev);
    case EventType::kTableMap: {
      TableMapEvent e;
      DTS_RETURN_IF_ERROR(decodeTableMap(body, &e));
      ev->body = std::move(e);
      return Status::OK();
    }
    case EventType::kWriteRowsV1:
    case EventType::kUpdateRowsV1:
    case EventType::kDeleteRowsV1:
    case EventType::kWriteRowsV2:
    case EventType::kUpdateRowsV2:
    case EventType::kDeleteRowsV2:
    case EventType::kPartialUpdateRows:
    case EventType::kMariaWriteRowsCompressedV1:
    case EventType::kMariaUpdateRowsCompressedV1:
    case EventType::kMariaDeleteRowsCompressedV1:
    case EventType::kMariaWriteRowsCompressed:
    case EventType::kMariaUpdateRowsCompressed:
    case EventType::kMariaDeleteRowsCompressed: {
      RowsEvent e;
      DTS_RETURN_IF_ERROR(decodeRows(h, body, &e));
      if (e.data.decoder == nullptr) {
        ev->body = SkippedEvent{};  // the "dummy" end-of-statement event with no table
      } else {
        ev->body = std::move(e);
      }
      return Status::OK();
    }
    case EventType::kMariaGtid: return decodeMariaGtid(in, ev);
    case EventType::kMariaGtidList: return decodeMariaGtidList(in, ev);
    case EventType::kMariaBinlogCheckpoint: return decodeBinlogCheckpoint(in, ev);
    case EventType::kMariaAnnotateRows: return decodeAnnotateRows(in, ev);
    case EventType::kRowsQuery: return decodeRowsQuery(in, ev);
    case EventType::kGtid:
    case EventType::kAnonymousGtid: return decodeMySqlGtid(in, ev);
    case EventType::kPreviousGtids: return decodePreviousGtids(in, ev);
    case EventType::kXaPrepare: return decodeXaPrepare(in, ev);
    case EventType::kHeartbeat:
    case EventType::kHeartbeatV2: return decodeHeartbeat(in, ev);
    case EventType::kTransactionPayload:
      if (in_payload) return corrupt("TRANSACTION_PAYLOAD nested in another");
      return decodePayload(body, *ev, out);
    default:
      ev->body = SkippedEvent{};  // unknown or irrelevant: skipped by its length
      return Status::OK();
  }
}

Status BinlogDecoder::decodeTableMap(std::string_view body, TableMapEvent* out) {
  const uint8_t ph = format_.format().postHeaderLength(EventType::kTableMap, 8);
  ByteReader r(body);
  uint64_t table_id;
  if (!r.getUint(ph == 6 ? 4 : 6, &table_id)) return corrupt("truncated post-header");
  auto it = tables_.find(table_id);
  if (it != tables_.end() && it->second.map_bytes == body) {
    out->table = it->second.table;
    out->decoder = it->second.decoder;
    return Status::OK();
  }
  DTS_ASSIGN_OR_RETURN(TableInfo parsed, parseTableMap(body, ph, format_.format().flavor));
  std::shared_ptr<const TableInfo> table = std::make_shared<const TableInfo>(std::move(parsed));
  std::shared_ptr<const TableInfo> completed = table;
  if (options_.schema != nullptr) {
    DTS_ASSIGN_OR_RETURN(completed, options_.schema->complete(*table));
    if (completed == nullptr || completed->columns.size() != table->columns.size())
      return Status::FailedPrecondition("the tracked schema of " +
                                        mysql::quoteQualified(table->database, table->table) +
                                        " has a different column count than its TABLE_MAP");
    for (size_t i = 0; i < table->columns.size(); ++i) {
      if (completed->columns[i].type != table->columns[i].type ||
          completed->columns[i].meta != table->columns[i].meta)
        return Status::FailedPrecondition(
            "the tracked schema of " + mysql::quoteQualified(table->database, table->table) +
            " differs from its TABLE_MAP at column " + std::to_string(i + 1));
    }
  }
  DTS_ASSIGN_OR_RETURN(auto decoder, TableDecoder::create(completed, format_.format().flavor));
  CachedTable& c = tables_[table_id];
  c.map_bytes.assign(body);
  c.table = table;
  c.decoder = decoder;
  out->table = table;
  out->decoder = decoder;
  return Status::OK();
}

// https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/ and
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
Status BinlogDecoder::decodeRows(const EventHeader& h, std::string_view body, RowsEvent* out) {
  RowsEventData& d = out->data;
  out->type = h.type;
  bool v2 = false, compressed = false;
  switch (h.type) {
    case EventType::kWriteRowsV1: d.kind = RowsKind::kInsert; break;
    case EventType::kUpdateRowsV1: d.kind = RowsKind::kUpdate; break;
    case EventType::kDeleteRowsV1: d.kind = RowsKind::kDelete; break;
    case EventType::kWriteRowsV2:
      d.kind = RowsKind::kInsert;
      v2 = true;
      break;
    case EventType::kUpdateRowsV2:
      d.kind = RowsKind::kUpdate;
      v2 = true;
      break;
    case EventType::kDeleteRowsV2:
      d.kind = RowsKind::kDelete;
      v2 = true;
      break;
    case EventType::kPartialUpdateRows:
      d.kind = RowsKind::kUpdate;
      v2 = true;
      d.partial_json = true;
      break;
    case EventType::kMariaWriteRowsCompressedV1:
      d.kind = RowsKind::kInsert;
      compressed = true;
      break;
    case EventType::kMariaUpdateRowsCompressedV1:
      d.kind = RowsKind::kUpdate;
      compressed = true;
      break;
    case EventType::kMariaDeleteRowsCompressedV1:
      d.kind = RowsKind::kDelete;
      compressed = true;
      break;
    case EventType::kMariaWriteRowsCompressed:
      d.kind = RowsKind::kInsert;
      compressed = v2 = true;
      break;
    case EventType::kMariaUpdateRowsCompressed:
      d.kind = RowsKind::kUpdate;
      compressed = v2 = true;
      break;
    case EventType::kMariaDeleteRowsCompressed:
      d.kind = RowsKind::kDelete;
      compressed = v2 = true;
      break;
    default: return Status::Internal("not a rows event");
  }
  ByteReader r(body);
  const uint8_t ph = format_.format().postHeaderLength(h.type, v2 ? 10 : 8);
  const size_t id_bytes = ph == 6 ? 4 : 6;
  if (!r.getUint(id_bytes, &d.table_id) || !r.getU16(&d.flags))
    return corrupt("truncated post-header");
  if (v2) {
    uint16_t extra_len;
    if (!r.getU16(&extra_len) || extra_len < 2 || !r.skip(extra_len - 2u))
      return corrupt("truncated extra data");
  } else if (ph > id_bytes + 2 && !r.skip(ph - id_bytes - 2)) {
    return corrupt("truncated post-header");
  }
  if (!r.getLenenc(&d.column_count) || d.column_count == 0 || d.column_count > 4096)
    return corrupt("bad column count");
  const size_t bitmap = static_cast<size_t>((d.column_count + 7) / 8);
  if (d.kind != RowsKind::kInsert && !r.getBytes(bitmap, &d.columns_before))
    return corrupt("truncated column bitmap");
  if (d.kind != RowsKind::kDelete && !r.getBytes(bitmap, &d.columns_after))
    return corrupt("truncated column bitmap");
  d.rows = r.rest();
  if (compressed) {
    auto buf = std::make_unique<std::string>();
    DTS_RETURN_IF_ERROR(mariaDbUncompress(d.rows, buf.get(), options_.max_uncompressed_bytes));
    d.rows = *buf;
    scratch_.push_back(std::move(buf));
  }
  auto it = tables_.find(d.table_id);
  if (it == tables_.end()) {
    if (d.rows.empty()) return Status::OK();  // dummy event: no table, no rows
    return Status::FailedPrecondition("rows event for table id " + std::to_string(d.table_id) +
                                      " without a preceding TABLE_MAP");
  }
  d.decoder = it->second.decoder;
  if (d.column_count != d.decoder->columnCount()) {
    const TableInfo& t = d.decoder->table();
    return corrupt("rows event for " + mysql::quoteQualified(t.database, t.table) + " has " +
                   std::to_string(d.column_count) + " columns but its TABLE_MAP has " +
                   std::to_string(d.decoder->columnCount()));
  }
  return Status::OK();
}

// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Transaction__payload__event.html
// Fields are {type, length, value} with packed integers, ended by type 0; the payload follows.
// Events inside carry no checksum of their own.
Status BinlogDecoder::decodePayload(std::string_view body, const BinlogEvent& outer,
                                    std::vector<BinlogEvent>* out) {
  // `outer` lives in *out, which grows below: copy what is needed first.
  const BinlogPosition outer_position = outer.position;
  const uint64_t outer_end = outer.end_offset;
  ByteReader r(body);
  TransactionPayloadEvent e;
  bool have_size = false;
  while (true) {
    uint64_t type;
    if (!r.getLenenc(&type)) return corrupt("truncated payload header");
    if (type == 0) break;
    uint64_t len;
    std::string_view value;
    if (!r.getLenenc(&len) || !r.getBytes(len, &value))
      return corrupt("truncated payload header field");
    ByteReader f(value);
    uint64_t v;
    switch (type) {
      case 1:
        if (!f.getLenenc(&v)) return corrupt("bad payload size");
        e.payload_size = v;
        have_size = true;
        break;
      case 2:
        if (!f.getLenenc(&v)) return corrupt("bad compression type");
        e.compression = v;
        break;
      case 3:
        if (!f.getLenenc(&v)) return corrupt("bad uncompressed size");
        e.uncompressed_size = v;
        break;
      default: break;  // unknown fields are skipped by length
    }
  }
  std::string_view payload = r.rest();
  if (have_size && e.payload_size != payload.size())
    return corrupt("payload size " + std::to_string(e.payload_size) + " but " +
                   std::to_string(payload.size()) + " bytes follow");
  std::string_view events;
  if (e.compression == 255) {
    events = payload;
  } else if (e.compression == 0) {
    unsigned long long frame = ZSTD_getFrameContentSize(payload.data(), payload.size());
    if (frame == ZSTD_CONTENTSIZE_ERROR) return corrupt("payload is not zstd data");
    uint64_t want = e.uncompressed_size != 0 ? e.uncompressed_size : frame;
    if (want == ZSTD_CONTENTSIZE_UNKNOWN || want > options_.max_uncompressed_bytes)
      return corrupt("implausible uncompressed payload size " + std::to_string(want));
    if (frame != ZSTD_CONTENTSIZE_UNKNOWN && frame != want)
      return corrupt("zstd frame size differs from the uncompressed size field");
    auto buf = std::make_unique<std::string>();
    buf->resize(want);
    size_t got = ZSTD_decompress(buf->data(), buf->size(), payload.data(), payload.size());
    if (ZSTD_isError(got) || got != want)
      return corrupt("zstd payload does not decompress to its size");
    events = *buf;
    scratch_.push_back(std::move(buf));
  } else {
    return Status::Unsupported("transaction payload compression type " +
                               std::to_string(e.compression));
  }
  const size_t payload_index = used_ - 1;
  size_t offset = 0, count = 0;
  while (offset < events.size()) {
    std::string_view rest = events.substr(offset);
    auto h = parseEventHeader(rest);  // the size only: decodeOne reads the event
    if (!h.ok())
      return h.status().withContext("inner event at payload byte " + std::to_string(offset));
    if (h->event_size > rest.size())
      return corrupt("inner event at payload byte " + std::to_string(offset) +
                     " runs past the payload");
    DTS_RETURN_IF_ERROR(
        decodeOne(rest.substr(0, h->event_size), outer_position, outer_end, true, out));
    offset += h->event_size;
    ++count;
  }
  e.inner_events = count;
  (*out)[payload_index].body = e;
  return Status::OK();
}

}  // namespace dts::mysql
