#include "task/sql_values.h"

#include <string_view>

#include "sink/sql_literal.h"

namespace dts::task {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Appends data with each byte c for which escape(c) is not 0 written as a backslash and that
// letter; runs of bytes that need no escape are appended in one go.
template <typename Escape>
void appendEscaped(std::string& out, const char* data, size_t n, Escape escape) {
  size_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    char e = escape(data[i]);
    if (e == 0) continue;
    out.append(data + run, i - run);
    out.push_back('\\');
    out.push_back(e);
    run = i + 1;
  }
  out.append(data + run, n - run);
}

}  // namespace

void appendHex(std::string& out, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

bool looksNumeric(const char* data, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = data[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return false;
  }
  return true;
}

// The destination session's sql_mode has no NO_BACKSLASH_ESCAPES (the loader sets it) and its
// character set is utf8mb4, where no multi-byte character contains a byte below 0x80: escaping
// the ASCII specials byte by byte is what mysql_real_escape_string does there.
void appendSqlValue(std::string& out, CatalogColumn::Render render, const char* data, size_t n) {
  if (data == nullptr) {
    out += "NULL";
    return;
  }
  if (render == CatalogColumn::Render::kNumber && looksNumeric(data, n)) {
    // A negative zero (a FLOAT or DOUBLE printed "-0", catalog.h floatTextExpr) as a double: the
    // integer literal -0 is 0. Right to match a row (-0 = 0) and to store a -0 at MySQL; where
    // the full load stores one it is already sink::negativeZeroLiteral's (BatchEncoder).
    if (std::string_view(data, n) == "-0") {
      out += "-0e0";
      return;
    }
    out.append(data, n);
    return;
  }
  if (render == CatalogColumn::Render::kHex) {
    out += "X'";
    appendHex(out, data, n);
    out.push_back('\'');
    return;
  }
  out.push_back('\'');
  appendEscaped(out, data, n, [](char c) -> char {
    switch (c) {
      case '\0': return '0';
      case '\n': return 'n';
      case '\r': return 'r';
      case '\\': return '\\';
      case '\'': return '\'';
      case '"': return '"';
      case '\x1a': return 'Z';
      default: return 0;
    }
  });
  out.push_back('\'');
}

Result<std::string_view> negativeZeroLiteral(const std::string& name, const std::string& data_type,
                                             const std::string& column_type,
                                             mysql::ServerFlavor destination) {
  mysql::ColumnInfo info;
  info.name = name;
  info.type = data_type == "float" ? mysql::ColumnType::kFloat : mysql::ColumnType::kDouble;
  info.is_unsigned = column_type.find("unsigned") != std::string::npos;
  info.column_type = column_type;
  return sink::negativeZeroLiteral(info, destination);
}

// The LOAD DATA format: https://mariadb.com/kb/en/load-data-infile/ (the statement reads the
// bytes as utf8mb4 like an INSERT literal of this connection would be; binary columns take them
// unchanged).
void appendLoadDataField(std::string& out, const char* data, size_t n) {
  if (data == nullptr) {
    out += "\\N";
    return;
  }
  appendEscaped(out, data, n, [](char c) -> char {
    switch (c) {
      case '\\': return '\\';
      case '\t': return 't';
      case '\n': return 'n';
      case '\0': return '0';
      default: return 0;
    }
  });
}

void appendLoadDataRow(std::string& out, const char* const* f, const unsigned long* len,
                       unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    if (i > 0) out.push_back('\t');
    appendLoadDataField(out, f[i], len[i]);
  }
  out.push_back('\n');
}

void appendInsertRow(std::string& out, const std::vector<CatalogColumn::Render>& renders,
                     bool first, const char* const* f, const unsigned long* len, unsigned n) {
  if (!first) out.push_back(',');
  out.push_back('(');
  for (unsigned i = 0; i < n; ++i) {
    if (i > 0) out.push_back(',');
    appendSqlValue(out, renders[i], f[i], len[i]);
  }
  out.push_back(')');
}

}  // namespace dts::task
