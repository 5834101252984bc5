#include "pipeline/ndjson.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "mysql/charset_convert.h"
#include "mysql/collations.h"
#include "mysql/connection.h"
#include "mysql/json_binary.h"
#include "mysql/row_decoder.h"

namespace dts::pipeline {
namespace {

using mysql::Value;

constexpr char kHex[] = "0123456789abcdef";

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

template <typename F>
void appendFloating(F v, std::string* out) {
  if (!std::isfinite(v)) {  // impossible from MySQL; keep the line valid JSON without losing it
    out->append(std::isnan(v) ? "\"NaN\"" : (v > 0 ? "\"Infinity\"" : "\"-Infinity\""));
    return;
  }
  if (v == 0 && std::signbit(v)) {
    // "-0" is a JSON integer to most parsers (nlohmann, Python's json), which have no integer -0:
    // the sign would be lost on the way to the consumer.
    out->append("-0.0");
    return;
  }
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}

// Text that is not converted (bytes invalid in their character set, a character set without an
// exact converter, an unknown one, or text whose UTF-8 would not convert back into the same
// bytes): an object with the raw bytes, never a lossy string.
void appendUnconverted(std::string_view bytes, uint16_t collation, std::string* out) {
  out->append("{\"charset\":");
  const mysql::Collation* c = collation != 0 ? mysql::findCollation(collation) : nullptr;
  if (c != nullptr)
    appendJsonString(c->charset, out);
  else
    out->append("null");
  out->append(",\"hex\":");
  appendHexString(bytes, out);
  out->push_back('}');
}

// Character data in the character set of `collation` (0: unknown).
void appendText(std::string_view bytes, uint16_t collation, std::string* out) {
  if (collation == 0) {  // character set unknown (no TABLE_MAP metadata, no schema)
    if (isValidUtf8(bytes))
      appendJsonString(bytes, out);
    else
      appendUnconverted(bytes, 0, out);
    return;
  }
  // UTF-8 columns are checked in place: the hot path copies nothing.
  if (const int max_bytes = mysql::utf8MaxBytes(collation); max_bytes != 0) {
    if (mysql::firstInvalidUtf8(bytes, max_bytes) == bytes.size())
      appendJsonString(bytes, out);
    else
      appendUnconverted(bytes, collation, out);
    return;
  }
  thread_local std::string utf8;
  utf8.clear();
  switch (mysql::appendUtf8(collation, bytes, &utf8)) {
    case mysql::TextConversion::kConverted:
      // Text whose UTF-8 would store other bytes (a code sharing its character with another
      // code, or one the server reads as U+FFFD) is given as its bytes: a consumer could not
      // rebuild the stored value from the string.
      if (mysql::convertsBack(collation, bytes))
        appendJsonString(utf8, out);
      else
        appendUnconverted(bytes, collation, out);
      return;
    case mysql::TextConversion::kBinary: appendHexString(bytes, out); return;
    case mysql::TextConversion::kInvalid:
    case mysql::TextConversion::kUnsupported: appendUnconverted(bytes, collation, out); return;
  }
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  return mysql::firstInvalidUtf8(s) == s.size();
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
    case Value::Kind::kString:
      appendText(v.s, column != nullptr ? column->collation : 0, out);
      return;
    case Value::Kind::kBytes:
    case Value::Kind::kBit: appendHexString(v.s, out); return;
    case Value::Kind::kEnum:
    case Value::Kind::kSet:
      // Member names are in the character set ColumnInfo::enum_values_collation says: the
      // column's (TABLE_MAP metadata) or utf8mb4 (read from information_schema). With a member
      // '' the name is ambiguous (the ENUM error value, index 0, and '' both read ""; so do the
      // empty SET and {''}): such a column's values are their index or bitmask, as when the
      // members are unknown.
      if (column != nullptr && !column->enum_values.empty() &&
          std::none_of(column->enum_values.begin(), column->enum_values.end(),
                       [](const std::string& m) { return m.empty(); }))
        appendText(
            v.s,
            column->enum_values_collation != 0 ? column->enum_values_collation : column->collation,
            out);
      else
        appendUInt(v.u, out);
      return;
  }
}

namespace {

void appendImageKey(const mysql::ColumnInfo* col, size_t i, std::string* out) {
  if (col != nullptr && !col->name.empty()) {
    appendJsonString(col->name, out);
  } else {
    out->append("\"@");
    appendUInt(i + 1, out);
    out->push_back('"');
  }
  out->push_back(':');
}

}  // namespace

Status NdjsonWriter::appendImage(const mysql::RowImage& image, const mysql::TableInfo* table,
                                 std::string* out) const {
  return appendImage(image, table, {}, out);
}

std::vector<std::string> NdjsonWriter::imageKeys(const mysql::TableInfo* table) {
  std::vector<std::string> keys;
  if (table == nullptr) return keys;
  keys.resize(table->columns.size());
  for (size_t i = 0; i < keys.size(); ++i) appendImageKey(&table->columns[i], i, &keys[i]);
  return keys;
}

Status NdjsonWriter::appendImage(const mysql::RowImage& image, const mysql::TableInfo* table,
                                 const std::vector<std::string>& keys, std::string* out) const {
  out->push_back('{');
  bool first = true;
  const size_t n = image.values.size();
  for (size_t i = 0; i < n; ++i) {
    if (i < image.present.size() && !image.present[i]) continue;
    if (!first) out->push_back(',');
    first = false;
    const mysql::ColumnInfo* col =
        table != nullptr && i < table->columns.size() ? &table->columns[i] : nullptr;
    if (i < keys.size())
      out->append(keys[i]);
    else
      appendImageKey(col, i, out);
    appendValue(image.values[i], col, out);
  }
  out->push_back('}');
  return Status::OK();
}

Status NdjsonWriter::append(const ChangeEvent& ev, const Transaction& txn, std::string* out) const {
  DTS_RETURN_IF_ERROR(appendUntilTs(ev, txn, out));
  appendUInt(txn.timestamp, out);
  out->append("}\n");
  return Status::OK();
}

Status NdjsonWriter::appendUntilTs(const ChangeEvent& ev, const Transaction& txn,
                                   std::string* out) const {
  const mysql::TableInfo* table = ev.table_info.get();
  if (ev.op != ChangeEvent::Op::kDdl && !options_.positional_names) {
    bool named = table != nullptr && !table->columns.empty();
    if (named)
      for (const auto& c : table->columns) named = named && !c.name.empty();
    if (!named)
      return Status::FailedPrecondition(
          "column names of " + mysql::quoteQualified(ev.database, ev.table) +
          " are unknown (set binlog_row_metadata=FULL on the server, provide a "
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
    // The statement's text as the client sent it; dts does not convert it from the client's
    // character set, so text that is not UTF-8 is given as bytes, like any unconverted value.
    appendText(ev.sql, 0, out);
    if (ev.ddl_session != nullptr && ev.ddl_session->sql_mode.has_value()) {
      out->append(",\"sql_mode\":");
      appendJsonString(mysql::sqlModeNames(*ev.ddl_session->sql_mode, ev.ddl_session->flavor), out);
    }
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
  return Status::OK();
}

}  // namespace dts::pipeline
