#include "mysql/row_decoder.h"

#include <zlib.h>

#include <bit>
#include <cstring>

#include "common/strings.h"
#include "mysql/collations.h"
#include "mysql/connection.h"
#include "mysql/decimal.h"
#include "mysql/json_binary.h"
#include "mysql/temporal.h"

namespace dts::mysql {
namespace {

// ',' (what joins the members of a SET value) in the character set of the member names: the
// fixed-width wide sets encode it in two or four bytes, every other set the server has in one.
std::string_view commaIn(uint16_t collation) {
  using namespace std::string_view_literals;
  const Collation* c = findCollation(collation);
  if (c == nullptr) return ","sv;
  const std::string_view cs = c->charset;
  if (cs == "ucs2" || cs == "utf16") return "\0,"sv;
  if (cs == "utf16le") return ",\0"sv;
  if (cs == "utf32") return "\0\0\0,"sv;
  return ","sv;
}

inline void setNull(Value* v) {
  v->kind = Value::Kind::kNull;
  v->i = 0;
  v->u = 0;
  v->d = 0;
  v->s.clear();
}
inline void setInt(Value* v, int64_t x) {
  v->kind = Value::Kind::kInt;
  v->i = x;
  v->u = 0;
  v->d = 0;
  v->s.clear();
}
inline void setUInt(Value* v, uint64_t x) {
  v->kind = Value::Kind::kUInt;
  v->i = 0;
  v->u = x;
  v->d = 0;
  v->s.clear();
}
// Starts a text value: kind set, numbers zeroed, s emptied (capacity kept) for appending.
inline std::string* startText(Value* v, Value::Kind kind) {
  v->kind = kind;
  v->i = 0;
  v->u = 0;
  v->d = 0;
  v->s.clear();
  return &v->s;
}

inline int64_t signExtend(uint64_t v, size_t bytes) {
  const unsigned shift = static_cast<unsigned>(64 - 8 * bytes);
  return static_cast<int64_t>(v << shift) >> shift;
}

inline bool bitSet(std::string_view bitmap, size_t i) {
  return (static_cast<unsigned char>(bitmap[i >> 3]) >> (i & 7)) & 1;
}

const char* typeName(ColumnType t) {
  switch (t) {
    case ColumnType::kDecimal: return "DECIMAL(old)";
    case ColumnType::kTiny: return "TINYINT";
    case ColumnType::kShort: return "SMALLINT";
    case ColumnType::kLong: return "INT";
    case ColumnType::kFloat: return "FLOAT";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kNull: return "NULL";
    case ColumnType::kTimestamp: return "TIMESTAMP(old)";
    case ColumnType::kLongLong: return "BIGINT";
    case ColumnType::kInt24: return "MEDIUMINT";
    case ColumnType::kDate: return "DATE";
    case ColumnType::kTime: return "TIME(old)";
    case ColumnType::kDateTime: return "DATETIME(old)";
    case ColumnType::kYear: return "YEAR";
    case ColumnType::kNewDate: return "NEWDATE";
    case ColumnType::kVarchar: return "VARCHAR";
    case ColumnType::kBit: return "BIT";
    case ColumnType::kTimestamp2: return "TIMESTAMP";
    case ColumnType::kDateTime2: return "DATETIME";
    case ColumnType::kTime2: return "TIME";
    case ColumnType::kTypedArray: return "TYPED_ARRAY";
    case ColumnType::kVarcharCompressed: return "VARCHAR COMPRESSED";
    case ColumnType::kBlobCompressed: return "BLOB COMPRESSED";
    case ColumnType::kJson: return "JSON";
    case ColumnType::kNewDecimal: return "DECIMAL";
    case ColumnType::kEnum: return "ENUM";
    case ColumnType::kSet: return "SET";
    case ColumnType::kTinyBlob: return "TINYBLOB";
    case ColumnType::kMediumBlob: return "MEDIUMBLOB";
    case ColumnType::kLongBlob: return "LONGBLOB";
    case ColumnType::kBlob: return "BLOB";
    case ColumnType::kVarString: return "VAR_STRING";
    case ColumnType::kString: return "STRING";
    case ColumnType::kGeometry: return "GEOMETRY";
  }
  return "UNKNOWN";
}

Status truncated() {
  return Status::Corruption("row image ends inside the value");
}

// The value a MariaDB COMPRESSED column stores as `stored` (the server's field_comp.cc): empty,
// or a header byte whose high four bits name the method, 0 for the value stored as it is after
// it, 8 for zlib. Then the header's low three bits are how many bytes of the value's length
// follow (big-endian), bit 3 says deflate without the zlib wrapper, and the compressed data ends
// the value.
Status uncompressColumnValue(std::string_view stored, uint64_t max_bytes, std::string* out) {
  out->clear();
  if (stored.empty()) return Status::OK();
  const auto header = static_cast<uint8_t>(stored[0]);
  if ((header >> 4) == 0) {
    out->assign(stored.substr(1));
    return Status::OK();
  }
  if ((header >> 4) != 8)
    return Status::Corruption("COMPRESSED value with compression method " +
                              std::to_string(header >> 4) + " (MariaDB knows zlib, 8)");
  const size_t length_bytes = header & 7;
  if (length_bytes == 0 || length_bytes > 4 || stored.size() < 1 + length_bytes)
    return Status::Corruption("COMPRESSED value with a bad header");
  uint64_t length = 0;
  for (size_t i = 0; i < length_bytes; ++i)
    length = (length << 8) | static_cast<uint8_t>(stored[1 + i]);
  if (length > max_bytes)
    return Status::Corruption("COMPRESSED value of " + std::to_string(length) +
                              " bytes, longer than its column's " + std::to_string(max_bytes));
  out->resize(length);
  z_stream z{};
  if (inflateInit2(&z, (header & 8) != 0 ? -MAX_WBITS : MAX_WBITS) != Z_OK)
    return Status::Internal("zlib inflateInit2 failed");
  const std::string_view data = stored.substr(1 + length_bytes);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(length);
  const int rc = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != length)
    return Status::Corruption("COMPRESSED value does not inflate to its stated " +
                              std::to_string(length) + " bytes");
  return Status::OK();
}

// MariaDB's INET types as their text (the server's sql_type_inet.cc). A UUID is appendUuid: the
// binlog carries it in its memory order, the order of its text, never the record order the
// server may swap for indexing (sql_type_uuid.h).
void formatInet4(const unsigned char* b, std::string* out) {
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out->push_back('.');
    appendUInt(b[i], out);
  }
}

// As the server prints it: lowercase hex words without leading zeros; the first longest run of
// zero words (even one word) as "::"; "::a.b.c.d" and "::ffff:a.b.c.d" for IPv4-compatible and
// IPv4-mapped addresses.
void formatInet6(const unsigned char* b, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>((b[2 * i] << 8) | b[2 * i + 1]);
  int gap_pos = -1, gap_len = -1;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > gap_len) {
      gap_pos = i;
      gap_len = j - i;
    }
    i = j;
  }
  for (int i = 0; i < 8; ++i) {
    if (i == gap_pos) {
      if (i == 0) out->push_back(':');
      out->push_back(':');
      i += gap_len - 1;
    } else if (i == 6 && gap_pos == 0 && (gap_len == 6 || (gap_len == 5 && w[5] == 0xffff))) {
      formatInet4(b + 12, out);
      return;
    } else {
      char digits[4];
      int n = 0;
      uint16_t x = w[i];
      do {
        digits[n++] = kHex[x & 15];
        x = static_cast<uint16_t>(x >> 4);
      } while (x != 0);
      while (n > 0) out->push_back(digits[--n]);
      if (i != 7) out->push_back(':');
    }
  }
}

}  // namespace

StringMeta decodeStringMeta(uint16_t meta) {
  const uint8_t byte0 = static_cast<uint8_t>(meta >> 8), byte1 = static_cast<uint8_t>(meta & 0xff);
  if ((byte0 & 0x30) != 0x30) {
    // Lengths above 255: two high bits of the length are stored inverted in bits 4-5 of byte0.
    return StringMeta{
        static_cast<ColumnType>(byte0 | 0x30),
        static_cast<uint32_t>(byte1) | (static_cast<uint32_t>((byte0 & 0x30) ^ 0x30) << 4)};
  }
  return StringMeta{static_cast<ColumnType>(byte0), byte1};
}

ColumnType realType(const ColumnInfo& c) {
  return c.type == ColumnType::kString ? decodeStringMeta(c.meta).real_type : c.type;
}

bool isEnumOrSet(const ColumnInfo& c) {
  ColumnType t = realType(c);
  return t == ColumnType::kEnum || t == ColumnType::kSet;
}

Result<std::shared_ptr<const TableDecoder>> TableDecoder::create(
    std::shared_ptr<const TableInfo> table, ServerFlavor flavor) {
  std::shared_ptr<TableDecoder> d(new TableDecoder());
  d->table_ = std::move(table);
  d->plans_.resize(d->table_->columns.size());
  d->json_index_.assign(d->table_->columns.size(), -1);
  for (size_t i = 0; i < d->table_->columns.size(); ++i) {
    const ColumnInfo& col = d->table_->columns[i];
    Plan& p = d->plans_[i];
    // The members of an ENUM/SET column and the separator of SET members in their character set.
    auto setMembers = [](const ColumnInfo& c, Plan* plan) {
      if (c.enum_values.empty()) return;
      plan->members = &c.enum_values;
      plan->set_separator =
          commaIn(c.enum_values_collation != 0 ? c.enum_values_collation : c.collation);
    };
    p.is_unsigned = col.is_unsigned;
    p.compressed = col.compressed;
    p.text_kind = col.collation == kBinaryCollation ? Value::Kind::kBytes : Value::Kind::kString;
    auto bad = [&](const std::string& what) {
      return Status::Corruption("column " + std::to_string(i + 1) + " (" + typeName(col.type) +
                                ") of " + d->table_->database + "." + d->table_->table + ": " +
                                what);
    };
    switch (col.type) {
      case ColumnType::kNull: p.op = Op::kNullType; break;
      case ColumnType::kTiny: p.op = Op::kInt8; break;
      case ColumnType::kShort: p.op = Op::kInt16; break;
      case ColumnType::kInt24: p.op = Op::kInt24; break;
      case ColumnType::kLong: p.op = Op::kInt32; break;
      case ColumnType::kLongLong: p.op = Op::kInt64; break;
      case ColumnType::kFloat: p.op = Op::kFloat; break;
      case ColumnType::kDouble: p.op = Op::kDouble; break;
      case ColumnType::kYear: p.op = Op::kYear; break;
      case ColumnType::kDate:
      case ColumnType::kNewDate: p.op = Op::kDate; break;
      case ColumnType::kTime: p.op = Op::kOldTime; break;
      case ColumnType::kDateTime: p.op = Op::kOldDateTime; break;
      case ColumnType::kTimestamp: p.op = Op::kOldTimestamp; break;
      case ColumnType::kTime2:
      case ColumnType::kDateTime2:
      case ColumnType::kTimestamp2:
        if (col.meta > 6)
          return bad("fractional precision " + std::to_string(col.meta) + " above 6");
        p.fsp = static_cast<uint8_t>(col.meta);
        p.op = col.type == ColumnType::kTime2       ? Op::kTime2
               : col.type == ColumnType::kDateTime2 ? Op::kDateTime2
                                                    : Op::kTimestamp2;
        break;
      case ColumnType::kNewDecimal: {
        p.precision = static_cast<uint8_t>(col.meta >> 8);
        p.scale = static_cast<uint8_t>(col.meta & 0xff);
        size_t size = decimalBinarySize(p.precision, p.scale);
        if (size == 0)
          return bad("impossible DECIMAL(" + std::to_string(p.precision) + "," +
                     std::to_string(p.scale) + ")");
        p.bin_size = static_cast<uint16_t>(size);
        p.op = Op::kDecimal;
        break;
      }
      case ColumnType::kBit: {
        const uint32_t bits = (col.meta >> 8) * 8u + (col.meta & 0xff);
        if (bits == 0 || bits > 64) return bad("impossible BIT(" + std::to_string(bits) + ")");
        p.len_bytes = static_cast<uint8_t>((bits + 7) / 8);
        p.op = Op::kBit;
        break;
      }
      case ColumnType::kVarchar:
      case ColumnType::kVarString:
        p.len_bytes = col.meta > 255 ? 2 : 1;
        p.op = Op::kVarLen;
        p.max_bytes = col.meta;
        break;
      case ColumnType::kString: {
        StringMeta sm = decodeStringMeta(col.meta);
        if (sm.real_type == ColumnType::kEnum) {
          if (sm.max_length != 1 && sm.max_length != 2)
            return bad("ENUM pack length " + std::to_string(sm.max_length));
          p.len_bytes = static_cast<uint8_t>(sm.max_length);
          p.op = Op::kEnum;
        } else if (sm.real_type == ColumnType::kSet) {
          if (sm.max_length < 1 || sm.max_length > 8)
            return bad("SET pack length " + std::to_string(sm.max_length));
          p.len_bytes = static_cast<uint8_t>(sm.max_length);
          p.op = Op::kSet;
        } else if (sm.real_type == ColumnType::kString &&
                   ((col.column_type == "uuid" && sm.max_length == 16) ||
                    (col.column_type == "inet6" && sm.max_length == 16) ||
                    (col.column_type == "inet4" && sm.max_length == 4))) {
          p.len_bytes = 1;
          p.pad_to = static_cast<uint16_t>(sm.max_length);
          p.op = col.column_type == "uuid"    ? Op::kUuid
                 : col.column_type == "inet6" ? Op::kInet6
                                              : Op::kInet4;
        } else if (sm.real_type == ColumnType::kString || sm.real_type == ColumnType::kVarString) {
          p.len_bytes = sm.max_length > 255 ? 2 : 1;
          p.op = Op::kVarLen;
          if (col.collation == kBinaryCollation) p.pad_to = static_cast<uint16_t>(sm.max_length);
        } else {
          return bad("STRING metadata with real type " +
                     std::to_string(static_cast<int>(sm.real_type)));
        }
        if (p.op == Op::kEnum || p.op == Op::kSet) setMembers(col, &p);
        break;
      }
      case ColumnType::kEnum:
      case ColumnType::kSet: {
        uint32_t len = col.meta & 0xff;
        if (col.type == ColumnType::kEnum ? (len != 1 && len != 2) : (len < 1 || len > 8))
          return bad("pack length " + std::to_string(len));
        p.len_bytes = static_cast<uint8_t>(len);
        p.op = col.type == ColumnType::kEnum ? Op::kEnum : Op::kSet;
        setMembers(col, &p);
        break;
      }
      case ColumnType::kTinyBlob:
      case ColumnType::kMediumBlob:
      case ColumnType::kLongBlob:
      case ColumnType::kBlob:
      case ColumnType::kGeometry:
      case ColumnType::kJson:
        if (col.meta < 1 || col.meta > 4) return bad("length size " + std::to_string(col.meta));
        p.len_bytes = static_cast<uint8_t>(col.meta);
        p.max_bytes = (uint64_t{1} << (8 * col.meta)) - 1;
        if (col.type == ColumnType::kGeometry) {
          p.text_kind = Value::Kind::kBytes;
          p.op = Op::kBlob;
        } else if (col.type == ColumnType::kJson) {
          if (flavor == ServerFlavor::kMariaDb) {
            p.text_kind = Value::Kind::kJson;  // MariaDB JSON is text
            p.op = Op::kBlob;
          } else {
            p.op = Op::kJsonBinary;
            d->json_index_[i] = static_cast<int>(d->json_columns_);
          }
        } else {
          p.op = Op::kBlob;
        }
        if (col.type == ColumnType::kJson) ++d->json_columns_;
        break;
      default:
        return Status::Unsupported("column " + std::to_string(i + 1) + " of " +
                                   d->table_->database + "." + d->table_->table + " has type " +
                                   typeName(col.type) + ", which dts cannot decode");
    }
  }
  return std::shared_ptr<const TableDecoder>(std::move(d));
}

Status TableDecoder::columnError(size_t col, const Status& s) const {
  const ColumnInfo& c = table_->columns[col];
  std::string name = c.name.empty() ? "@" + std::to_string(col + 1) : c.name;
  return Status(s).withContext("column " + name + " (" + typeName(c.type) + ")");
}

Status TableDecoder::decodeValue(const Plan& p, ByteReader* r, Value* v,
                                 std::string_view* raw) const {
  uint64_t x = 0;
  std::string_view bytes;
  switch (p.op) {
    case Op::kNullType: setNull(v); return Status::OK();
    case Op::kInt8:
    case Op::kInt16:
    case Op::kInt24:
    case Op::kInt32:
    case Op::kInt64: {
      static constexpr size_t kWidth[] = {0, 1, 2, 3, 4, 8};
      const size_t n = kWidth[static_cast<int>(p.op)];
      if (!r->getUint(n, &x)) return truncated();
      if (p.is_unsigned)
        setUInt(v, x);
      else
        setInt(v, signExtend(x, n));
      return Status::OK();
    }
    case Op::kFloat: {
      if (!r->getUint(4, &x)) return truncated();
      uint32_t bits = static_cast<uint32_t>(x);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      setNull(v);
      v->kind = Value::Kind::kFloat;
      v->d = f;
      return Status::OK();
    }
    case Op::kDouble: {
      if (!r->getUint(8, &x)) return truncated();
      double dv;
      std::memcpy(&dv, &x, sizeof dv);
      setNull(v);
      v->kind = Value::Kind::kDouble;
      v->d = dv;
      return Status::OK();
    }
    case Op::kYear:
      if (!r->getUint(1, &x)) return truncated();
      setInt(v, x == 0 ? 0 : 1900 + static_cast<int64_t>(x));
      return Status::OK();
    case Op::kDate:
      if (!r->getUint(3, &x)) return truncated();
      formatDate(static_cast<uint32_t>(x), startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kOldTime:
      if (!r->getUint(3, &x)) return truncated();
      formatOldTime(static_cast<int32_t>(signExtend(x, 3)), startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kOldDateTime:
      if (!r->getUint(8, &x)) return truncated();
      formatOldDateTime(x, startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kOldTimestamp:
      if (!r->getUint(4, &x)) return truncated();
      formatTimestamp(static_cast<uint32_t>(x), 0, 0, startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kTime2:
      if (!r->getBytes(3 + fractionBytes(p.fsp), &bytes)) return truncated();
      decodeTime2(bytes, p.fsp, startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kDateTime2:
      if (!r->getBytes(5 + fractionBytes(p.fsp), &bytes)) return truncated();
      decodeDateTime2(bytes, p.fsp, startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kTimestamp2:
      if (!r->getBytes(4 + fractionBytes(p.fsp), &bytes)) return truncated();
      decodeTimestamp2(bytes, p.fsp, startText(v, Value::Kind::kTemporal));
      return Status::OK();
    case Op::kDecimal:
      if (!r->getBytes(p.bin_size, &bytes)) return truncated();
      if (!decodeDecimal(bytes, p.precision, p.scale, startText(v, Value::Kind::kDecimal)))
        return Status::Corruption("bytes are not a DECIMAL(" + std::to_string(p.precision) + "," +
                                  std::to_string(p.scale) + ")");
      return Status::OK();
    case Op::kBit:
      if (!r->getBytes(p.len_bytes, &bytes)) return truncated();
      {
        ByteReader br(bytes);
        br.getUintBE(p.len_bytes, &x);
      }
      startText(v, Value::Kind::kBit)->assign(bytes);
      v->u = x;
      return Status::OK();
    case Op::kEnum: {
      if (!r->getUint(p.len_bytes, &x)) return truncated();
      std::string* s = startText(v, Value::Kind::kEnum);
      v->u = x;
      if (p.members != nullptr && x != 0) {
        if (x > p.members->size())
          return Status::Corruption("ENUM index " + std::to_string(x) + " beyond the " +
                                    std::to_string(p.members->size()) + " known members");
        s->assign((*p.members)[x - 1]);
      }
      return Status::OK();
    }
    case Op::kSet: {
      if (!r->getUint(p.len_bytes, &x)) return truncated();
      std::string* s = startText(v, Value::Kind::kSet);
      v->u = x;
      if (p.members != nullptr) {
        const size_t n = p.members->size();
        if (n < 64 && (x >> n) != 0)
          return Status::Corruption("SET bits beyond the " + std::to_string(n) + " known members");
        for (size_t b = 0; b < n && b < 64; ++b) {
          if ((x >> b) & 1) {
            if (!s->empty()) s->append(p.set_separator);
            s->append((*p.members)[b]);
          }
        }
      }
      return Status::OK();
    }
    case Op::kVarLen:
    case Op::kBlob:
      if (!r->getUint(p.len_bytes, &x) || !r->getBytes(x, &bytes)) return truncated();
      if (p.compressed) return uncompressColumnValue(bytes, p.max_bytes, startText(v, p.text_kind));
      startText(v, p.text_kind)->assign(bytes);
      if (bytes.size() < p.pad_to) v->s.append(p.pad_to - bytes.size(), '\0');
      return Status::OK();
    case Op::kUuid:
    case Op::kInet6:
    case Op::kInet4: {
      if (!r->getUint(p.len_bytes, &x) || !r->getBytes(x, &bytes)) return truncated();
      if (bytes.size() > p.pad_to)
        return Status::Corruption(std::to_string(bytes.size()) + " bytes for a value of " +
                                  std::to_string(p.pad_to));
      unsigned char fixed[16] = {};
      std::memcpy(fixed, bytes.data(), bytes.size());
      std::string* s = startText(v, Value::Kind::kString);
      if (p.op == Op::kUuid)
        appendUuid(fixed, s);
      else if (p.op == Op::kInet6)
        formatInet6(fixed, s);
      else
        formatInet4(fixed, s);
      return Status::OK();
    }
    case Op::kJsonBinary: {
      if (!r->getUint(p.len_bytes, &x) || !r->getBytes(x, &bytes)) return truncated();
      if (raw != nullptr) *raw = bytes;
      return jsonBinaryToText(bytes, startText(v, Value::Kind::kJson));
    }
  }
  return Status::Internal("unhandled column plan");
}

namespace {
// The number of set bits among the first n of `bitmap` (REQUIRES bitmap.size() * 8 >= n).
size_t countBits(std::string_view bitmap, size_t n) {
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8)
    count += static_cast<size_t>(std::popcount(static_cast<unsigned char>(bitmap[i >> 3])));
  if (i < n) {
    const unsigned mask = (1u << (n - i)) - 1;
    count += static_cast<size_t>(std::popcount(static_cast<unsigned char>(bitmap[i >> 3]) & mask));
  }
  return count;
}
}  // namespace

Status TableDecoder::skipValue(const Plan& p, ByteReader* r, Value* scratch) const {
  size_t n = 0;
  switch (p.op) {
    case Op::kNullType: return Status::OK();
    case Op::kInt8:
    case Op::kYear: n = 1; break;
    case Op::kInt16: n = 2; break;
    case Op::kInt24:
    case Op::kDate:
    case Op::kOldTime: n = 3; break;
    case Op::kInt32:
    case Op::kFloat:
    case Op::kOldTimestamp: n = 4; break;
    case Op::kInt64:
    case Op::kDouble:
    case Op::kOldDateTime: n = 8; break;
    case Op::kTime2: n = 3 + fractionBytes(p.fsp); break;
    case Op::kDateTime2: n = 5 + fractionBytes(p.fsp); break;
    case Op::kTimestamp2: n = 4 + fractionBytes(p.fsp); break;
    case Op::kBit: n = p.len_bytes; break;
    case Op::kVarLen:
    case Op::kBlob:
    case Op::kUuid:
    case Op::kInet6:
    case Op::kInet4: {
      uint64_t len;
      if (!r->getUint(p.len_bytes, &len) || !r->skip(len)) return truncated();
      return Status::OK();
    }
    case Op::kDecimal:
    case Op::kEnum:
    case Op::kSet:
    case Op::kJsonBinary:
      return decodeValue(p, r, scratch, nullptr);  // their bytes can be invalid: decode to check
  }
  if (!r->skip(n)) return truncated();
  return Status::OK();
}

template <bool kMaterialize>
Status TableDecoder::decodeImage(ByteReader* r, std::string_view present, RowImage* out,
                                 Value* scratch, std::vector<std::string_view>* raw_json,
                                 std::string_view partial_bits,
                                 const std::vector<std::string_view>* before_raw_json) const {
  const size_t n = plans_.size();
  if (present.size() * 8 < n)
    return Status::Corruption("columns-present bitmap shorter than the column count");
  if constexpr (kMaterialize) {
    out->values.resize(n);
    out->present.resize(n);
    if (raw_json != nullptr) raw_json->assign(n, std::string_view());
  }
  const size_t in_image = countBits(present, n);
  std::string_view nulls;
  if (!r->getBytes((in_image + 7) / 8, &nulls))
    return Status::Corruption("row image ends inside its null bitmap");
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!bitSet(present, i)) {
      if constexpr (kMaterialize) {
        out->present[i] = false;
        setNull(&out->values[i]);
      }
      continue;
    }
    const bool is_null = bitSet(nulls, k++);
    const Plan& p = plans_[i];
    if constexpr (!kMaterialize) {
      if (is_null) continue;
      Status s = skipValue(p, r, scratch);
      if (!s.ok()) return columnError(i, s);
      continue;
    } else {
      Value* v = &out->values[i];
      out->present[i] = true;
      if (is_null) {
        setNull(v);
        continue;
      }
      if (!partial_bits.empty() && p.op == Op::kJsonBinary && json_index_[i] >= 0 &&
          bitSet(partial_bits, static_cast<size_t>(json_index_[i]))) {
        uint64_t len;
        std::string_view diffs;
        if (!r->getUint(4, &len) || !r->getBytes(len, &diffs)) return columnError(i, truncated());
        if (before_raw_json == nullptr || i >= before_raw_json->size() ||
            (*before_raw_json)[i].data() == nullptr)
          return columnError(
              i, Status::FailedPrecondition(
                     "partial JSON update but the before image has no value for the column "
                     "(binlog_row_image must include it)"));
        Status s =
            applyJsonDiffToText((*before_raw_json)[i], diffs, startText(v, Value::Kind::kJson));
        if (!s.ok()) return columnError(i, s);
        continue;
      }
      std::string_view* raw = raw_json != nullptr ? &(*raw_json)[i] : nullptr;
      Status s = decodeValue(p, r, v, raw);
      if (!s.ok()) return columnError(i, s);
    }
  }
  return Status::OK();
}

Status TableDecoder::decodeRow(ByteReader* r, std::string_view present, RowImage* out,
                               std::vector<std::string_view>* raw_json) const {
  return decodeImage<true>(r, present, out, nullptr, raw_json, {}, nullptr);
}

Status TableDecoder::skipRow(ByteReader* r, std::string_view present, Value* scratch) const {
  return decodeImage<false>(r, present, nullptr, scratch, nullptr, {}, nullptr);
}

Status TableDecoder::decodePartialAfterRow(ByteReader* r, std::string_view present,
                                           const std::vector<std::string_view>& before_raw_json,
                                           RowImage* out) const {
  uint64_t value_options;
  if (!r->getLenenc(&value_options))
    return Status::Corruption("row image ends inside value_options");
  if (value_options > 1)
    return Status::Corruption("unknown value_options " + std::to_string(value_options));
  std::string_view partial_bits;
  if (value_options & 1) {
    if (!r->getBytes((json_columns_ + 7) / 8, &partial_bits))
      return Status::Corruption("row image ends inside its partial-JSON bitmap");
  }
  return decodeImage<true>(r, present, out, nullptr, nullptr, partial_bits, &before_raw_json);
}

RowsReader::RowsReader(const RowsEventData& event, const BinlogPosition& position)
    : event_(event), position_(position), reader_(event.rows) {}

Status RowsReader::wrap(const Status& s) const {
  const TableInfo& t = event_.decoder->table();
  return Status(s).withContext("row " + std::to_string(rows_read_ + 1) + " of " +
                               mysql::quoteQualified(t.database, t.table) + " (table id " +
                               std::to_string(event_.table_id) + ") at " + position_.file + ":" +
                               std::to_string(position_.offset));
}

Status RowsReader::finish(Status s, size_t start) {
  if (s.ok() && reader_.position() == start) s = Status::Corruption("empty row image");
  if (!s.ok()) {
    Status w = wrap(s);
    reader_ = ByteReader();  // stop: the rest of the event cannot be trusted
    return w;
  }
  ++rows_read_;
  return Status::OK();
}

Status RowsReader::next(RowImage* before, RowImage* after) {
  const TableDecoder& d = *event_.decoder;
  if (event_.column_count != d.columnCount()) {
    return wrap(Status::Corruption("the event has " + std::to_string(event_.column_count) +
                                   " columns but its TABLE_MAP has " +
                                   std::to_string(d.columnCount())));
  }
  const size_t start = reader_.position();
  Status s;
  switch (event_.kind) {
    case RowsKind::kInsert: s = d.decodeRow(&reader_, event_.columns_after, after); break;
    case RowsKind::kDelete: s = d.decodeRow(&reader_, event_.columns_before, before); break;
    case RowsKind::kUpdate:
      if (event_.partial_json) {
        s = d.decodeRow(&reader_, event_.columns_before, before, &raw_json_);
        if (s.ok()) s = d.decodePartialAfterRow(&reader_, event_.columns_after, raw_json_, after);
      } else {
        s = d.decodeRow(&reader_, event_.columns_before, before);
        if (s.ok()) s = d.decodeRow(&reader_, event_.columns_after, after);
      }
      break;
  }
  return finish(std::move(s), start);
}

Status RowsReader::skip() {
  const TableDecoder& d = *event_.decoder;
  if (event_.column_count != d.columnCount()) {
    return wrap(Status::Corruption("the event has " + std::to_string(event_.column_count) +
                                   " columns but its TABLE_MAP has " +
                                   std::to_string(d.columnCount())));
  }
  if (event_.partial_json) return next(&skip_before_, &skip_after_);
  const size_t start = reader_.position();
  Status s;
  switch (event_.kind) {
    case RowsKind::kInsert: s = d.skipRow(&reader_, event_.columns_after, &scratch_); break;
    case RowsKind::kDelete: s = d.skipRow(&reader_, event_.columns_before, &scratch_); break;
    case RowsKind::kUpdate:
      s = d.skipRow(&reader_, event_.columns_before, &scratch_);
      if (s.ok()) s = d.skipRow(&reader_, event_.columns_after, &scratch_);
      break;
  }
  return finish(std::move(s), start);
}

}  // namespace dts::mysql
