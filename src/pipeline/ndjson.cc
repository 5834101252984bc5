#include "pipeline/ndjson.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "mysql/collations.h"
#include "mysql/json_binary.h"
#include "mysql/row_decoder.h"

namespace dts::pipeline {
namespace {

using mysql::Value;

constexpr char kHex[] = "0123456789abcdef";

// MySQL's latin1 is Windows-1252; 0x80-0x9f map to these code points (undefined ones to C1).
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void appendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

void appendHexString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t base = out->size();
  out->resize(base + 2 * s.size());
  char* p = out->data() + base;
  for (unsigned char c : s) {
    *p++ = kHex[c >> 4];
    *p++ = kHex[c & 15];
  }
  out->push_back('"');
}

void appendLatin1(std::string_view s, std::string* out) {
  std::string utf8;
  utf8.reserve(s.size() + s.size() / 4);
  for (unsigned char c : s) {
    if (c < 0x80)
      utf8.push_back(static_cast<char>(c));
    else if (c < 0xa0)
      appendUtf8(kCp1252High[c - 0x80], &utf8);
    else
      appendUtf8(c, &utf8);
  }
  appendJsonString(utf8, out);
}

void appendUInt(uint64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}
void appendInt(int64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}

template <typename F>
void appendFloating(F v, std::string* out) {
  if (!std::isfinite(v)) {  // impossible from MySQL; keep the line valid JSON without losing it
    out->append(std::isnan(v) ? "\"NaN\"" : (v > 0 ? "\"Infinity\"" : "\"-Infinity\""));
    return;
  }
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}

void appendText(const Value& v, const mysql::ColumnInfo* column, std::string* out) {
  using mysql::Charset;
  const Charset cs =
      column != nullptr ? mysql::charsetOfCollation(column->collation) : Charset::kUnknown;
  switch (cs) {
    case Charset::kUtf8:
    case Charset::kAscii:
    case Charset::kUnknown:
      if (isValidUtf8(v.s))
        appendJsonString(v.s, out);
      else
        appendHexString(v.s, out);
      return;
    case Charset::kLatin1: appendLatin1(v.s, out); return;
    case Charset::kBinary:
    case Charset::kOther: appendHexString(v.s, out); return;
  }
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Skip ASCII 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    p += n + 1;
  }
  return true;
}

void appendJsonString(std::string_view s, std::string* out) {
  mysql::appendJsonQuoted(s, out, /*escape_del=*/true);
}

void NdjsonWriter::appendValue(const Value& v, const mysql::ColumnInfo* column, std::string* out) {
  switch (v.kind) {
    case Value::Kind::kNull: out->append("null"); return;
    case Value::Kind::kInt: appendInt(v.i, out); return;
    case Value::Kind::kUInt: appendUInt(v.u, out); return;
    case Value::Kind::kFloat: appendFloating(static_cast<float>(v.d), out); return;
    case Value::Kind::kDouble: appendFloating(v.d, out); return;
    case Value::Kind::kDecimal:
    case Value::Kind::kTemporal:
    case Value::Kind::kJson: appendJsonString(v.s, out); return;
    case Value::Kind::kString: appendText(v, column, out); return;
    case Value::Kind::kBytes:
    case Value::Kind::kBit: appendHexString(v.s, out); return;
    case Value::Kind::kEnum:
    case Value::Kind::kSet:
      if (column != nullptr && !column->enum_values.empty())
        appendJsonString(v.s, out);
      else
        appendUInt(v.u, out);
      return;
  }
}

Status NdjsonWriter::appendImage(const mysql::RowImage& image, const mysql::TableInfo* table,
                                 std::string* out) const {
  out->push_back('{');
  bool first = true;
  const size_t n = image.values.size();
  for (size_t i = 0; i < n; ++i) {
    if (i < image.present.size() && !image.present[i]) continue;
    if (!first) out->push_back(',');
    first = false;
    const mysql::ColumnInfo* col =
        table != nullptr && i < table->columns.size() ? &table->columns[i] : nullptr;
    if (col != nullptr && !col->name.empty()) {
      appendJsonString(col->name, out);
    } else {
      out->append("\"@");
      appendUInt(i + 1, out);
      out->push_back('"');
    }
    out->push_back(':');
    appendValue(image.values[i], col, out);
  }
  out->push_back('}');
  return Status::OK();
}

Status NdjsonWriter::append(const ChangeEvent& ev, const Transaction& txn, std::string* out) const {
  const mysql::TableInfo* table = ev.table_info.get();
  if (ev.op != ChangeEvent::Op::kDdl && !options_.positional_names) {
    bool named = table != nullptr && !table->columns.empty();
    if (named)
      for (const auto& c : table->columns) named = named && !c.name.empty();
    if (!named)
      return Status::FailedPrecondition(
          "column names of `" + ev.database + "`.`" + ev.table +
          "` are unknown (set binlog_row_metadata=FULL on the server, provide a "
          "schema, or ask for positional @N names)");
  }
  out->append("{\"op\":\"");
  out->append(opName(ev.op));
  out->append("\",\"db\":");
  appendJsonString(ev.database, out);
  out->append(",\"table\":");
  if (ev.table.empty())
    out->append("null");
  else
    appendJsonString(ev.table, out);
  out->append(",\"before\":");
  if (ev.op == ChangeEvent::Op::kUpdate || ev.op == ChangeEvent::Op::kDelete) {
    DTS_RETURN_IF_ERROR(appendImage(ev.before, table, out));
  } else {
    out->append("null");
  }
  out->append(",\"after\":");
  if (ev.op == ChangeEvent::Op::kUpdate || ev.op == ChangeEvent::Op::kInsert) {
    DTS_RETURN_IF_ERROR(appendImage(ev.after, table, out));
  } else {
    out->append("null");
  }
  if (ev.op == ChangeEvent::Op::kDdl) {
    out->append(",\"sql\":");
    if (isValidUtf8(ev.sql))
      appendJsonString(ev.sql, out);
    else
      appendHexString(ev.sql, out);
  }
  out->append(",\"gtid\":");
  if (txn.gtid.empty())
    out->append("null");
  else
    appendJsonString(txn.gtid, out);
  out->append(",\"file\":");
  appendJsonString(ev.position.file, out);
  out->append(",\"pos\":");
  appendUInt(ev.position.offset, out);
  out->append(",\"ts\":");
  appendUInt(txn.timestamp, out);
  out->append("}\n");
  return Status::OK();
}

}  // namespace dts::pipeline
