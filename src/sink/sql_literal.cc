#include "sink/sql_literal.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "mysql/collations.h"

namespace dts::sink {

namespace {

Status badValue(const mysql::ColumnInfo& col, std::string_view what, std::string_view text) {
  std::string shown(text.substr(0, 64));
  return Status::InvalidArgument("column '" + col.name + "': " + std::string(what) + " '" + shown +
                                 "' cannot be written as an exact SQL literal");
}

// DECIMAL text: [-]digits[.digits]. Anything else would not be an exact literal (or would be
// injection), so it is refused rather than passed through.
bool isDecimalText(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  bool point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digits > 0;
}

// Temporal text as SELECT prints it: digits and - : . space only.
bool isTemporalText(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == ':' || c == '.' || c == ' ')) return false;
  }
  return true;
}

void appendDouble(std::string* out, double d) {
  char buf[64];
  // Shortest round-trip form, always with an exponent so the server reads a DOUBLE.
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  (void)ec;  // 64 bytes always suffice for a double
  out->append(buf, ptr);
}

void appendCharsetString(std::string* out, std::string_view bytes, uint16_t collation) {
  std::string_view cs = charsetOfCollation(collation);
  if (!cs.empty()) {
    out->push_back('_');
    out->append(cs);
    out->push_back(' ');
  }
  appendHexLiteral(out, bytes);
}

}  // namespace

std::string_view charsetOfCollation(uint16_t collation) {
  const mysql::Collation* e = mysql::findCollation(collation);
  return e == nullptr ? std::string_view() : std::string_view(e->charset);
}

std::string_view collationName(uint16_t collation) {
  const mysql::Collation* e = mysql::findCollation(collation);
  return e == nullptr ? std::string_view() : std::string_view(e->name);
}

void appendHexLiteral(std::string* out, std::string_view bytes) {
  // Two digits per byte from a table, written in place: this runs for every string value the
  // applier sends.
  static const std::array<std::array<char, 2>, 256> kPairs = [] {
    constexpr char kHex[] = "0123456789ABCDEF";
    std::array<std::array<char, 2>, 256> t{};
    for (int i = 0; i < 256; ++i) t[static_cast<size_t>(i)] = {kHex[i >> 4], kHex[i & 15]};
    return t;
  }();
  size_t at = out->size();
  out->resize(at + bytes.size() * 2 + 3);
  char* p = out->data() + at;
  *p++ = 'X';
  *p++ = '\'';
  for (unsigned char c : bytes) {
    std::memcpy(p, kPairs[c].data(), 2);
    p += 2;
  }
  *p = '\'';
}

namespace {

// appendSqlLiteral (use_for_store: at `destination`) and appendMatchLiteral.
Status appendLiteral(std::string* out, const mysql::Value& v, const mysql::ColumnInfo& col,
                     bool use_for_store, mysql::ServerFlavor destination) {
  using Kind = mysql::Value::Kind;
  switch (v.kind) {
    case Kind::kNull: out->append("NULL"); return Status::OK();
    case Kind::kInt: appendInt(v.i, out); return Status::OK();
    case Kind::kUInt: appendUInt(v.u, out); return Status::OK();
    case Kind::kFloat:
    case Kind::kDouble:
      if (!std::isfinite(v.d)) return badValue(col, "floating-point value", std::to_string(v.d));
      if (use_for_store && isNegativeZero(v)) {
        DTS_ASSIGN_OR_RETURN(std::string_view zero, negativeZeroLiteral(col, destination));
        out->append(zero);
        return Status::OK();
      }
      appendDouble(out, v.d);
      return Status::OK();
    case Kind::kDecimal:
      if (!isDecimalText(v.s)) return badValue(col, "DECIMAL", v.s);
      out->append(v.s);
      return Status::OK();
    case Kind::kTemporal:
      if (!isTemporalText(v.s)) return badValue(col, "temporal value", v.s);
      out->push_back('\'');
      out->append(v.s);
      out->push_back('\'');
      return Status::OK();
    case Kind::kString: appendCharsetString(out, v.s, col.collation); return Status::OK();
    case Kind::kBytes: appendHexLiteral(out, v.s); return Status::OK();
    case Kind::kBit: {
      out->append("b'");
      if (v.u == 0) {
        out->push_back('0');
      } else {
        int top = 63;
        while (((v.u >> top) & 1) == 0) --top;
        for (int b = top; b >= 0; --b) out->push_back(((v.u >> b) & 1) ? '1' : '0');
      }
      out->push_back('\'');
      return Status::OK();
    }
    case Kind::kEnum:
    case Kind::kSet:
      // The names survive a reordering of the members at the destination; the index/bitmask is
      // what the binlog carries and is exact when the names are unknown.
      if (!v.s.empty()) {
        // Under the introducer of the character set the names are in (which the destination
        // converts to the column's, as it did for the members when the table was created from
        // SHOW CREATE TABLE): the column's introducer over utf8 names made a latin1 'é' match no
        // member.
        appendCharsetString(
            out, v.s, col.enum_values_collation != 0 ? col.enum_values_collation : col.collation);
      } else if (v.kind == Kind::kSet && v.u == 0) {
        out->append("''");
      } else {
        appendUInt(v.u, out);
      }
      return Status::OK();
    case Kind::kJson:
      out->append("_utf8mb4 ");
      appendHexLiteral(out, v.s);
      return Status::OK();
  }
  return Status::Internal("column '" + col.name + "': unknown value kind " +
                          std::to_string(static_cast<int>(v.kind)));
}

}  // namespace

Status appendSqlLiteral(std::string* out, const mysql::Value& v, const mysql::ColumnInfo& col,
                        mysql::ServerFlavor destination) {
  return appendLiteral(out, v, col, true, destination);
}

Result<std::string> sqlLiteral(const mysql::Value& v, const mysql::ColumnInfo& col,
                               mysql::ServerFlavor destination) {
  std::string out;
  DTS_RETURN_IF_ERROR(appendSqlLiteral(&out, v, col, destination));
  return out;
}

Status appendMatchLiteral(std::string* out, const mysql::Value& v, const mysql::ColumnInfo& col) {
  return appendLiteral(out, v, col, false, mysql::ServerFlavor::kUnknown);
}

Result<std::string> matchLiteral(const mysql::Value& v, const mysql::ColumnInfo& col) {
  std::string out;
  DTS_RETURN_IF_ERROR(appendMatchLiteral(&out, v, col));
  return out;
}

bool isNegativeZero(const mysql::Value& v) {
  return (v.kind == mysql::Value::Kind::kFloat || v.kind == mysql::Value::Kind::kDouble) &&
         v.d == 0 && std::signbit(v.d);
}

Result<std::string_view> negativeZeroLiteral(const mysql::ColumnInfo& col,
                                             mysql::ServerFlavor destination) {
  const bool is_float = col.type == mysql::ColumnType::kFloat;
  const char* type = is_float ? "FLOAT" : "DOUBLE";
  auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument("column '" + col.name + "' holds a " + type +
                                   " negative zero (-0), which " + why + ": it would arrive as 0");
  };
  // "float(10,4)", "double(20,6) unsigned": D decimals (a bare "float(7)" never reaches the
  // server's definition: it becomes FLOAT or DOUBLE).
  if (col.column_type.find(',') != std::string::npos) {
    return refuse("no server stores in a " + col.column_type +
                  " column (it rounds every value to its decimals, and a rounded zero is 0)");
  }
  if (destination == mysql::ServerFlavor::kMySql) return std::string_view("-0e0");
  if (is_float && !col.is_unsigned) return std::string_view("-1e-50");  // rounds to a FLOAT -0
  return refuse(
      std::string("a MariaDB destination cannot store in a ") + type +
      (col.is_unsigned ? " UNSIGNED" : "") +
      " column (MariaDB stores every zero it is sent as 0; only a signed FLOAT keeps a -0,"
      " from a negative number too small for it)");
}

void appendZeroSignTest(std::string* out, std::string_view column_sql, const mysql::Value& v) {
  if ((v.kind != mysql::Value::Kind::kFloat && v.kind != mysql::Value::Kind::kDouble) || v.d != 0)
    return;
  out->append(" AND ATAN2(");
  out->append(column_sql);
  out->append(std::signbit(v.d) ? ", -1) < 0" : ", -1) > 0");
}

std::string_view strictSqlMode() {
  return "STRICT_ALL_TABLES,ALLOW_INVALID_DATES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,"
         "NO_DIR_IN_CREATE";
}

std::string_view lenientSqlMode() {
  return "ALLOW_INVALID_DATES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,NO_DIR_IN_CREATE";
}

std::string setSqlModeSql(std::string_view mode) {
  return "SET SESSION sql_mode='" + std::string(mode) + "'";
}

std::string_view checkConstraintsOff(mysql::ServerFlavor destination) {
  return destination == mysql::ServerFlavor::kMySql ? "" : ", check_constraint_checks=0";
}

std::string applierSessionSql(mysql::ServerFlavor destination) {
  return "SET SESSION time_zone='+00:00', sql_mode='" + std::string(strictSqlMode()) +
         "', foreign_key_checks=0, unique_checks=1" +
         std::string(checkConstraintsOff(destination)) +
         "; SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
}

}  // namespace dts::sink
