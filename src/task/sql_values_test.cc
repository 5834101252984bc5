#include "task/sql_values.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dts::task {
namespace {

// LOAD DATA's reading of one line (FIELDS TERMINATED BY '\t' ESCAPED BY '\\', no enclosure,
// LINES TERMINATED BY '\n'), as the server does it: the reference the encoder must agree with.
std::vector<std::optional<std::string>> readLoadDataLine(std::string_view line) {
  std::vector<std::optional<std::string>> fields;
  std::string cur;
  bool escaped_null = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == '\t') {
      if (escaped_null && cur == "N") {
        fields.emplace_back(std::nullopt);
      } else {
        fields.emplace_back(cur);
      }
      cur.clear();
      escaped_null = false;
      continue;
    }
    if (line[i] == '\\' && i + 1 < line.size()) {
      char c = line[++i];
      switch (c) {
        case '0': cur.push_back('\0'); break;
        case 'b': cur.push_back('\b'); break;
        case 'n': cur.push_back('\n'); break;
        case 'r': cur.push_back('\r'); break;
        case 't': cur.push_back('\t'); break;
        case 'Z': cur.push_back('\x1a'); break;
        case 'N':
          cur.push_back('N');
          escaped_null = cur.size() == 1;
          break;
        default: cur.push_back(c);
      }
      continue;
    }
    escaped_null = false;
    cur.push_back(line[i]);
  }
  return fields;
}

// How the server reads a '...' literal (sql_mode without NO_BACKSLASH_ESCAPES).
std::optional<std::string> readSqlString(std::string_view lit) {
  if (lit.size() < 2 || lit.front() != '\'' || lit.back() != '\'') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < lit.size(); ++i) {
    char c = lit[i];
    if (c == '\'') {
      if (i + 2 < lit.size() && lit[i + 1] == '\'') {
        out.push_back('\'');
        ++i;
        continue;
      }
      return std::nullopt;  // the literal ended early
    }
    if (c == '\\') {
      if (i + 2 >= lit.size()) return std::nullopt;
      char e = lit[++i];
      switch (e) {
        case '0': out.push_back('\0'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'b': out.push_back('\b'); break;
        case 'Z': out.push_back('\x1a'); break;
        default: out.push_back(e);
      }
      continue;
    }
    out.push_back(c);
  }
  return out;
}

TEST(SqlValuesTest, SqlValuesQuoteEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  for (const std::string& v :
       {all, std::string(), std::string("it's \\ \"q\" \xf0\x9f\x98\x80"), std::string("\\")}) {
    std::string out;
    appendSqlValue(out, CatalogColumn::Render::kString, v.data(), v.size());
    EXPECT_EQ(readSqlString(out), v) << out;
  }
  std::string out;
  appendSqlValue(out, CatalogColumn::Render::kString, nullptr, 0);
  EXPECT_EQ(out, "NULL");
  out.clear();
  appendSqlValue(out, CatalogColumn::Render::kNumber, "-1.5e3", 6);
  EXPECT_EQ(out, "-1.5e3");
  out.clear();
  // A negative zero stays a (double) negative zero: the integer literal -0 is 0.
  appendSqlValue(out, CatalogColumn::Render::kNumber, "-0", 2);
  EXPECT_EQ(out, "-0e0");
  out.clear();
  appendSqlValue(out, CatalogColumn::Render::kNumber, "-0.5", 4);
  EXPECT_EQ(out, "-0.5");
  out.clear();
  appendSqlValue(out, CatalogColumn::Render::kNumber, "1 OR 1", 6);  // never pasted unquoted
  EXPECT_EQ(out, "'1 OR 1'");
  out.clear();
  appendSqlValue(out, CatalogColumn::Render::kHex, "\x01\xff", 2);
  EXPECT_EQ(out, "X'01FF'");
}

TEST(SqlValuesTest, LoadDataFieldsRoundTripEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::vector<std::optional<std::string>> values = {all,
                                                    std::nullopt,
                                                    std::string(),
                                                    "N",
                                                    "\\N",
                                                    "NULL",
                                                    std::string("\0\0", 2),
                                                    "a\tb\nc\\",
                                                    "\xf0\x9f\x98\x80 ok",
                                                    std::string(3000, '\\')};
  std::string line;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) line.push_back('\t');
    appendLoadDataField(line, values[i] ? values[i]->data() : nullptr,
                        values[i] ? values[i]->size() : 0);
  }
  // Nothing in the encoded line may end the line or the field early.
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), static_cast<long>(values.size() - 1));
  EXPECT_EQ(readLoadDataLine(line), values);
}

TEST(SqlValuesTest, LoadDataFieldsRoundTripRandomBytes) {
  uint32_t x = 12345;
  auto next = [&] { return x = x * 1664525u + 1013904223u; };
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::optional<std::string>> values(1 + next() % 5);
    std::string line;
    for (size_t i = 0; i < values.size(); ++i) {
      if (next() % 7 != 0) {
        std::string v(next() % 12, '\0');
        // Mostly the bytes the format treats specially.
        for (auto& c : v) c = "\\\t\nN\0x\r"[next() % 7];
        values[i] = v;
      }
      if (i > 0) line.push_back('\t');
      appendLoadDataField(line, values[i] ? values[i]->data() : nullptr,
                          values[i] ? values[i]->size() : 0);
    }
    ASSERT_EQ(readLoadDataLine(line), values) << "round " << round;
  }
}

}  // namespace
}  // namespace dts::task
