#include "mysql/binlog_event.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>

#include "common/byte_reader.h"
#include "common/crc32.h"

namespace dts::mysql {
namespace {

Status corrupt(const std::string& what) {
  return Status::Corruption(what);
}

std::string posText(const BinlogPosition& p) {
  return p.file + ":" + std::to_string(p.offset);
}

// The stored checksum is the CRC32 (zlib's) of everything before it. dts::crc32 is hardware
// accelerated (ISA-L): with zlib's crc32 the check was ~45% of offline decoding time.
bool checksumMatches(std::string_view raw) {
  if (raw.size() < kEventHeaderSize + kChecksumSize) return false;
  const size_t n = raw.size() - kChecksumSize;
  ByteReader r(raw.data() + n, kChecksumSize);
  uint32_t stored = 0;
  r.getU32(&stored);
  return stored == dts::crc32(raw.substr(0, n));
}

bool isRowsType(EventType t) {
  switch (t) {
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
    case EventType::kMariaDeleteRowsCompressed: return true;
    default: return false;
  }
}

std::string formatUuid(const uint8_t* b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

// (major, minor, patch) of "10.11.6-MariaDB-log" / "8.0.36".
void parseVersion(std::string_view v, int out[3]) {
  out[0] = out[1] = out[2] = 0;
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    int n = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9' && n < 100000) n = n * 10 + (v[i++] - '0');
    out[part] = n;
    if (i >= v.size() || v[i] != '.') break;
    ++i;
  }
}

// Column categories of the TABLE_MAP optional metadata.
bool isNumeric(ColumnType t) {
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
ColumnType realType(const ColumnInfo& c) {
  return c.type == ColumnType::kString ? decodeStringMeta(c.meta).real_type : c.type;
}
bool isEnumOrSet(const ColumnInfo& c) {
  ColumnType t = realType(c);
  return t == ColumnType::kEnum || t == ColumnType::kSet;
}
bool isCharacter(const ColumnInfo& c) {
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
    for (uint64_t k = 0; k < count; ++k) {
      std::string_view s;
      if (!r->getLenencBytes(&s)) return corrupt("truncated ENUM/SET member");
      members.emplace_back(s);
    }
  }
  return Status::OK();
}

Status parseOptionalMetadata(ByteReader* r, TableInfo* t) {
  while (!r->empty()) {
    uint8_t type;
    uint64_t len;
    std::string_view value;
    if (!r->getU8(&type) || !r->getLenenc(&len) || !r->getBytes(len, &value))
      return corrupt("truncated optional metadata field");
    ByteReader f(value);
    switch (type) {
      case kSignedness: {
        auto cols = columnsWhere(*t, [](const ColumnInfo& c) { return isNumeric(c.type); });
        if (value.size() < (cols.size() + 7) / 8) return corrupt("SIGNEDNESS bitmap too short");
        for (size_t k = 0; k < cols.size(); ++k)  // most significant bit first
          t->columns[cols[k]].is_unsigned = (static_cast<uint8_t>(value[k / 8]) >> (7 - k % 8)) & 1;
        break;
      }
      case kDefaultCharset:
      case kColumnCharset: {
        auto cols = columnsWhere(*t, isCharacter);
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

std::string eventTypeName(EventType type) {
  switch (type) {
    case EventType::kUnknown: return "UNKNOWN";
    case EventType::kStartV3: return "START_V3";
    case EventType::kQuery: return "QUERY";
    case EventType::kStop: return "STOP";
    case EventType::kRotate: return "ROTATE";
    case EventType::kIntvar: return "INTVAR";
    case EventType::kRand: return "RAND";
    case EventType::kUserVar: return "USER_VAR";
    case EventType::kFormatDescription: return "FORMAT_DESCRIPTION";
    case EventType::kXid: return "XID";
    case EventType::kTableMap: return "TABLE_MAP";
    case EventType::kWriteRowsV1: return "WRITE_ROWS_V1";
    case EventType::kUpdateRowsV1: return "UPDATE_ROWS_V1";
    case EventType::kDeleteRowsV1: return "DELETE_ROWS_V1";
    case EventType::kIncident: return "INCIDENT";
    case EventType::kHeartbeat: return "HEARTBEAT";
    case EventType::kIgnorable: return "IGNORABLE";
    case EventType::kRowsQuery: return "ROWS_QUERY";
    case EventType::kWriteRowsV2: return "WRITE_ROWS";
    case EventType::kUpdateRowsV2: return "UPDATE_ROWS";
    case EventType::kDeleteRowsV2: return "DELETE_ROWS";
    case EventType::kGtid: return "GTID";
    case EventType::kAnonymousGtid: return "ANONYMOUS_GTID";
    case EventType::kPreviousGtids: return "PREVIOUS_GTIDS";
    case EventType::kTransactionContext: return "TRANSACTION_CONTEXT";
    case EventType::kViewChange: return "VIEW_CHANGE";
    case EventType::kXaPrepare: return "XA_PREPARE";
    case EventType::kPartialUpdateRows: return "PARTIAL_UPDATE_ROWS";
    case EventType::kTransactionPayload: return "TRANSACTION_PAYLOAD";
    case EventType::kHeartbeatV2: return "HEARTBEAT_V2";
    case EventType::kMariaAnnotateRows: return "ANNOTATE_ROWS";
    case EventType::kMariaBinlogCheckpoint: return "BINLOG_CHECKPOINT";
    case EventType::kMariaGtid: return "MARIADB_GTID";
    case EventType::kMariaGtidList: return "GTID_LIST";
    case EventType::kMariaStartEncryption: return "START_ENCRYPTION";
    case EventType::kMariaQueryCompressed: return "QUERY_COMPRESSED";
    case EventType::kMariaWriteRowsCompressedV1: return "WRITE_ROWS_COMPRESSED_V1";
    case EventType::kMariaUpdateRowsCompressedV1: return "UPDATE_ROWS_COMPRESSED_V1";
    case EventType::kMariaDeleteRowsCompressedV1: return "DELETE_ROWS_COMPRESSED_V1";
    case EventType::kMariaWriteRowsCompressed: return "WRITE_ROWS_COMPRESSED";
    case EventType::kMariaUpdateRowsCompressed: return "UPDATE_ROWS_COMPRESSED";
    case EventType::kMariaDeleteRowsCompressed: return "DELETE_ROWS_COMPRESSED";
  }
  return "UNKNOWN(" + std::to_string(static_cast<int>(type)) + ")";
}

Result<EventHeader> parseEventHeader(std::string_view event) {
  ByteReader r(event);
  EventHeader h;
  uint8_t type;
  if (!r.getU32(&h.timestamp) || !r.getU8(&type) || !r.getU32(&h.server_id) ||
      !r.getU32(&h.event_size) || !r.getU32(&h.log_pos) || !r.getU16(&h.flags))
    return corrupt("event shorter than the 19-byte header (" + std::to_string(event.size()) +
                   " bytes)");
  h.type = static_cast<EventType>(type);
  if (h.event_size < kEventHeaderSize)
    return corrupt("event size " + std::to_string(h.event_size) + " is smaller than its header");
  return h;
}

uint8_t FormatDescriptionEvent::postHeaderLength(EventType type, uint8_t fallback) const {
  const size_t i = static_cast<size_t>(type);
  if (i == 0 || i > post_header_lengths.size()) return fallback;
  return post_header_lengths[i - 1];
}

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
Result<TableInfo> parseTableMap(std::string_view body, uint8_t post_header_len) {
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
  Status st = parseOptionalMetadata(&r, &t);
  if (!st.ok()) return st.withContext("TABLE_MAP of `" + t.database + "`.`" + t.table + "`");
  return t;
}

BinlogDecoder::BinlogDecoder() : BinlogDecoder(Options()) {}
BinlogDecoder::BinlogDecoder(Options options) : options_(options) {}

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
  auto hr = parseEventHeader(raw);
  if (!hr.ok()) return hr.status().withContext("corrupt binlog event " + where());
  const EventHeader& h = *hr;
  if (h.event_size != raw.size())
    return corrupt("corrupt binlog event " + where() + ": header says " +
                   std::to_string(h.event_size) + " bytes, the event has " +
                   std::to_string(raw.size()));
  std::string_view body = raw.substr(kEventHeaderSize);

  if (h.type == EventType::kFormatDescription) {
    // https://mariadb.com/kb/en/format_description_event/ ; a checksum-aware server always
    // writes the algorithm byte and 4 checksum bytes, whatever binlog_checksum is.
    ByteReader r(body);
    FormatDescriptionEvent f;
    std::string_view version;
    if (!r.getU16(&f.binlog_version) || !r.getBytes(50, &version) ||
        !r.getU32(&f.create_timestamp) || !r.getU8(&f.header_length))
      return corrupt("truncated FORMAT_DESCRIPTION " + where());
    if (f.binlog_version != 4)
      return Status::Unsupported("binlog version " + std::to_string(f.binlog_version) + " " +
                                 where());
    if (f.header_length != kEventHeaderSize)
      return corrupt("FORMAT_DESCRIPTION with header length " + std::to_string(f.header_length) +
                     " " + where());
    f.server_version.assign(version.substr(0, version.find('\0')));
    f.flavor = f.server_version.find("MariaDB") != std::string::npos ? ServerFlavor::kMariaDb
                                                                     : ServerFlavor::kMySql;
    int ver[3];
    parseVersion(f.server_version, ver);
    const bool checksum_aware =
        f.flavor == ServerFlavor::kMariaDb
            ? (ver[0] > 5 || (ver[0] == 5 && ver[1] >= 3))
            : (ver[0] > 5 || (ver[0] == 5 && (ver[1] > 6 || (ver[1] == 6 && ver[2] >= 1))));
    std::string_view rest = r.rest();
    if (checksum_aware) {
      if (rest.size() < 1 + kChecksumSize)
        return corrupt("truncated FORMAT_DESCRIPTION " + where());
      uint8_t alg = static_cast<uint8_t>(rest[rest.size() - 1 - kChecksumSize]);
      if (alg != 0 && alg != 1)
        return Status::Unsupported("checksum algorithm " + std::to_string(alg) + " " + where());
      f.checksum = static_cast<ChecksumAlg>(alg);
      rest = rest.substr(0, rest.size() - 1 - kChecksumSize);
      if (f.checksum == ChecksumAlg::kCrc32 && options_.verify_checksums && !checksumMatches(raw))
        return corrupt("bad CRC32 checksum of FORMAT_DESCRIPTION " + where());
    }
    f.post_header_lengths.assign(rest.begin(), rest.end());
    fde_ = f;
    have_fde_ = true;
    tables_.clear();
    nextSlot(out, h, position, end_offset, in_payload).body = std::move(f);
    return Status::OK();
  }

  if (!in_payload) {
    bool strip = false;
    if (have_fde_) {
      if (fde_.checksum == ChecksumAlg::kCrc32) {
        if (raw.size() < kEventHeaderSize + kChecksumSize)
          return corrupt("event too short for its checksum " + where());
        if (options_.verify_checksums && !checksumMatches(raw))
          return corrupt("bad CRC32 checksum of " + eventTypeName(h.type) + " event " + where());
        strip = true;
      }
    } else {
      // Before any FORMAT_DESCRIPTION (a stream's artificial ROTATE) the checksum setting is not
      // known yet: a trailing CRC32 that matches is one.
      strip = checksumMatches(raw);
    }
    if (strip) body = body.substr(0, body.size() - kChecksumSize);
  }

  nextSlot(out, h, position, end_offset, in_payload);
  Status s = decodeBody(h, body, &(*out)[used_ - 1], in_payload, out);
  if (!s.ok()) return s.withContext("corrupt " + eventTypeName(h.type) + " event " + where());
  return Status::OK();
}

Status BinlogDecoder::decodeBody(const EventHeader& h, std::string_view body, BinlogEvent* ev,
                                 bool in_payload, std::vector<BinlogEvent>* out) {
  ByteReader r(body);
  switch (h.type) {
    case EventType::kRotate: {  // https://mariadb.com/kb/en/rotate_event/
      RotateEvent e;
      const uint8_t ph = have_fde_ ? fde_.postHeaderLength(h.type, 8) : 8;
      if (ph < 8 || !r.getU64(&e.position) || !r.skip(ph - 8))
        return corrupt("truncated post-header");
      e.next_file.assign(r.rest());
      ev->body = std::move(e);
      return Status::OK();
    }
    case EventType::kQuery:
    case EventType::kMariaQueryCompressed: {  // https://mariadb.com/kb/en/query_event/
      QueryEvent e;
      uint8_t db_len;
      uint16_t status_len = 0;
      const uint8_t ph = fde_.postHeaderLength(h.type, 13);
      if (ph < 11 || !r.getU32(&e.thread_id) || !r.getU32(&e.exec_time) || !r.getU8(&db_len) ||
          !r.getU16(&e.error_code))
        return corrupt("truncated post-header");
      if (ph >= 13 && (!r.getU16(&status_len) || !r.skip(ph - 13)))
        return corrupt("truncated post-header");
      std::string_view db;
      if (!r.skip(status_len)) return corrupt("status variables run past the event");
      if (!r.getBytes(db_len, &db) || !r.skip(1)) return corrupt("truncated database name");
      e.database.assign(db);
      if (h.type == EventType::kMariaQueryCompressed) {
        DTS_RETURN_IF_ERROR(mariaDbUncompress(r.rest(), &e.sql, options_.max_uncompressed_bytes));
      } else {
        e.sql.assign(r.rest());
      }
      ev->body = std::move(e);
      return Status::OK();
    }
    case EventType::kXid: {  // https://mariadb.com/kb/en/xid_event/
      XidEvent e;
      if (!r.getU64(&e.xid)) return corrupt("truncated xid");
      ev->body = e;
      return Status::OK();
    }
    case EventType::kTableMap: {
      TableMapEvent e;
      DTS_RETURN_IF_ERROR(decodeTableMap(body, &e));
      ev->body = std::move(e);
      return Status::OK();
    }
    case EventType::kMariaGtid: {  // https://mariadb.com/kb/en/gtid_event/
      MariaGtidEvent e;
      e.server_id = h.server_id;
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
    case EventType::kMariaGtidList: {  // https://mariadb.com/kb/en/gtid_list_event/
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
    case EventType::kMariaBinlogCheckpoint: {  // https://mariadb.com/kb/en/binlog_checkpoint_event/
      uint32_t len;
      std::string_view name;
      if (!r.getU32(&len) || !r.getBytes(len, &name)) return corrupt("truncated file name");
      ev->body = BinlogCheckpointEvent{std::string(name)};
      return Status::OK();
    }
    case EventType::kMariaAnnotateRows:  // https://mariadb.com/kb/en/annotate_rows_event/
      ev->body = AnnotateRowsEvent{std::string(body)};
      return Status::OK();
    case EventType::kRowsQuery:  // 1 length byte (truncated to 255, ignored), then the text
      if (!r.skip(1)) return corrupt("truncated ROWS_QUERY");
      ev->body = AnnotateRowsEvent{std::string(r.rest())};
      return Status::OK();
    case EventType::kGtid:
    case EventType::kAnonymousGtid: {
      // https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html
      MySqlGtidEvent e;
      e.anonymous = h.type == EventType::kAnonymousGtid;
      std::string_view sid;
      if (!r.getU8(&e.flags) || !r.getBytes(16, &sid) || !r.getU64(&e.gno))
        return corrupt("truncated GTID");
      std::memcpy(e.sid, sid.data(), 16);
      uint8_t lt_type;
      if (r.getU8(&lt_type)) {
        if (lt_type != 2)
          return corrupt("unknown logical timestamp type " + std::to_string(lt_type));
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
    case EventType::kPreviousGtids: {
      // https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Previous__gtids__event.html
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
          if (iv.start == 0 || iv.end <= iv.start)
            return corrupt("empty or reversed GTID interval");
          s.intervals.push_back(iv);
        }
        e.sids.push_back(std::move(s));
      }
      ev->body = std::move(e);
      return Status::OK();
    }
    case EventType::kXaPrepare: {
      // https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1XA__prepare__event.html
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
    case EventType::kHeartbeat: ev->body = HeartbeatEvent{std::string(body)}; return Status::OK();
    case EventType::kHeartbeatV2: ev->body = HeartbeatEvent{}; return Status::OK();
    case EventType::kTransactionPayload:
      if (in_payload) return corrupt("TRANSACTION_PAYLOAD nested in another");
      return decodePayload(body, *ev, out);
    default:
      if (isRowsType(h.type)) {
        RowsEvent e;
        DTS_RETURN_IF_ERROR(decodeRows(h, body, &e, in_payload));
        if (e.data.decoder == nullptr) {
          ev->body = SkippedEvent{};  // the "dummy" end-of-statement event with no table
        } else {
          ev->body = std::move(e);
        }
        return Status::OK();
      }
      ev->body = SkippedEvent{};  // unknown or irrelevant: skipped by its length
      return Status::OK();
  }
}

Status BinlogDecoder::decodeTableMap(std::string_view body, TableMapEvent* out) {
  const uint8_t ph = fde_.postHeaderLength(EventType::kTableMap, 8);
  ByteReader r(body);
  uint64_t table_id;
  if (!r.getUint(ph == 6 ? 4 : 6, &table_id)) return corrupt("truncated post-header");
  auto it = tables_.find(table_id);
  if (it != tables_.end() && it->second.map_bytes == body) {
    out->table = it->second.table;
    out->decoder = it->second.decoder;
    return Status::OK();
  }
  DTS_ASSIGN_OR_RETURN(TableInfo parsed, parseTableMap(body, ph));
  std::shared_ptr<const TableInfo> table = std::make_shared<const TableInfo>(std::move(parsed));
  std::shared_ptr<const TableInfo> completed = table;
  if (options_.schema != nullptr) {
    DTS_ASSIGN_OR_RETURN(completed, options_.schema->complete(*table));
    if (completed == nullptr || completed->columns.size() != table->columns.size())
      return Status::FailedPrecondition("the tracked schema of `" + table->database + "`.`" +
                                        table->table +
                                        "` has a different column count than its TABLE_MAP");
    for (size_t i = 0; i < table->columns.size(); ++i) {
      if (completed->columns[i].type != table->columns[i].type ||
          completed->columns[i].meta != table->columns[i].meta)
        return Status::FailedPrecondition("the tracked schema of `" + table->database + "`.`" +
                                          table->table + "` differs from its TABLE_MAP at column " +
                                          std::to_string(i + 1));
    }
  }
  DTS_ASSIGN_OR_RETURN(auto decoder, TableDecoder::create(completed, fde_.flavor));
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
Status BinlogDecoder::decodeRows(const EventHeader& h, std::string_view body, RowsEvent* out,
                                 bool) {
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
  const uint8_t ph = fde_.postHeaderLength(h.type, v2 ? 10 : 8);
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
    return corrupt("rows event for `" + t.database + "`.`" + t.table + "` has " +
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
    auto h = parseEventHeader(rest);
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
