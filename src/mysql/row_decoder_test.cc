#include "mysql/row_decoder.h"

#include <gtest/gtest.h>

#include <cstring>

#include "mysql/binlog_event.h"
#include "mysql/decimal.h"
#include "mysql/event_builder_for_tests.h"
#include "mysql/temporal.h"

namespace dts::mysql {
namespace {

using testing::EventBuilder;
using testing::TestColumn;
namespace j = testing::json;

std::string le(uint64_t v, size_t n) {
  std::string s;
  putUint(&s, v, n);
  return s;
}

// Decodes one WRITE_ROWS event with the given columns and values through the BinlogDecoder.
struct Harness {
  EventBuilder b{ServerFlavor::kMySql};
  BinlogDecoder decoder;
  std::vector<BinlogEvent> events;
  BinlogPosition pos{"binlog.000001", 4};

  std::string raw;  // events hold views into the last raw event: keep it alive
  Status feed(std::string bytes) {
    raw = std::move(bytes);
    Status s = decoder.decode(raw, pos, &events);
    pos.offset += raw.size();
    return s;
  }
  Result<std::vector<RowImage>> insert(const std::vector<TestColumn>& cols,
                                       const std::vector<std::string>& rows) {
    DTS_RETURN_IF_ERROR(feed(b.formatDescription()));
    DTS_RETURN_IF_ERROR(feed(b.tableMap(42, "db", "t", cols)));
    std::string body;
    for (const auto& r : rows) body += r;
    DTS_RETURN_IF_ERROR(feed(b.rows(EventType::kWriteRowsV2, 42, cols.size(), body)));
    const auto* re = events.at(0).as<RowsEvent>();
    if (re == nullptr) return Status::Internal("not a rows event");
    RowsReader reader(re->data, pos);
    std::vector<RowImage> out;
    while (!reader.done()) {
      RowImage before, after;
      DTS_RETURN_IF_ERROR(reader.next(&before, &after));
      out.push_back(after);
    }
    return out;
  }
};

TEST(RowDecoderTest, IntegersAtTheirLimits) {
  std::vector<TestColumn> cols = {
      testing::colInt(ColumnType::kTiny, "ti"),
      testing::colInt(ColumnType::kTiny, "tiu", true),
      testing::colInt(ColumnType::kShort, "si"),
      testing::colInt(ColumnType::kShort, "siu", true),
      testing::colInt(ColumnType::kInt24, "mi"),
      testing::colInt(ColumnType::kInt24, "miu", true),
      testing::colInt(ColumnType::kLong, "i"),
      testing::colInt(ColumnType::kLong, "iu", true),
      testing::colInt(ColumnType::kLongLong, "bi"),
      testing::colInt(ColumnType::kLongLong, "biu", true),
      testing::colPlain(ColumnType::kYear, "y"),
  };
  auto row = [](uint64_t t, uint64_t s, uint64_t m, uint64_t i, uint64_t b, uint8_t y) {
    return testing::rowImage({le(t, 1), le(t, 1), le(s, 2), le(s, 2), le(m, 3), le(m, 3), le(i, 4),
                              le(i, 4), le(b, 8), le(b, 8), le(y, 1)},
                             {});
  };
  Harness h;
  auto rows = h.insert(cols, {row(0x80, 0x8000, 0x800000, 0x80000000, 0x8000000000000000ULL, 1),
                              row(0xff, 0xffff, 0xffffff, 0xffffffff, UINT64_MAX, 255),
                              row(0x7f, 0x7fff, 0x7fffff, 0x7fffffff, 0x7fffffffffffffffULL, 0)});
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  const auto& r0 = (*rows)[0].values;
  EXPECT_EQ(r0[0], Value::ofInt(-128));
  EXPECT_EQ(r0[1], Value::ofUInt(128));
  EXPECT_EQ(r0[2], Value::ofInt(-32768));
  EXPECT_EQ(r0[4], Value::ofInt(-8388608));
  EXPECT_EQ(r0[5], Value::ofUInt(8388608));
  EXPECT_EQ(r0[6], Value::ofInt(INT32_MIN));
  EXPECT_EQ(r0[8], Value::ofInt(INT64_MIN));
  EXPECT_EQ(r0[9], Value::ofUInt(0x8000000000000000ULL));
  EXPECT_EQ(r0[10], Value::ofInt(1901));
  const auto& r1 = (*rows)[1].values;
  EXPECT_EQ(r1[0], Value::ofInt(-1));
  EXPECT_EQ(r1[1], Value::ofUInt(255));
  EXPECT_EQ(r1[3], Value::ofUInt(65535));
  EXPECT_EQ(r1[5], Value::ofUInt(16777215));
  EXPECT_EQ(r1[7], Value::ofUInt(4294967295u));
  EXPECT_EQ(r1[9], Value::ofUInt(UINT64_MAX));
  EXPECT_EQ(r1[10], Value::ofInt(2155));
  const auto& r2 = (*rows)[2].values;
  EXPECT_EQ(r2[0], Value::ofInt(127));
  EXPECT_EQ(r2[4], Value::ofInt(8388607));
  EXPECT_EQ(r2[8], Value::ofInt(INT64_MAX));
  EXPECT_EQ(r2[10], Value::ofInt(0));
}

TEST(RowDecoderTest, DecimalFloatDoubleBitEnumSet) {
  std::vector<TestColumn> cols = {testing::colDecimal("d", 65, 30),
                                  testing::colDecimal("e", 10, 2),
                                  testing::colFloat("f"),
                                  testing::colDouble("g"),
                                  testing::colBit("b1", 1),
                                  testing::colBit("b64", 64),
                                  testing::colBit("b10", 10),
                                  testing::colEnum("en", {"a", "b", "c"}),
                                  testing::colSet("st", {"x", "y", "z"})};
  std::string d1, d2;
  ASSERT_TRUE(encodeDecimal("-12345678901234567890123456789012345.123456789012345678901234567890",
                            65, 30, &d1));
  ASSERT_TRUE(encodeDecimal("-0.05", 10, 2, &d2));
  float f = 1.1f;
  double g = -1e300;
  uint32_t fb;
  uint64_t gb;
  std::memcpy(&fb, &f, 4);
  std::memcpy(&gb, &g, 8);
  std::string b64("\xff\x00\x00\x00\x00\x00\x00\x01", 8);
  Harness h;
  auto rows = h.insert(
      cols, {testing::rowImage(
                {d1, d2, le(fb, 4), le(gb, 8), "\x01", b64, "\x02\xaa", "\x03", "\x05"}, {})});
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  const auto& v = (*rows)[0].values;
  EXPECT_EQ(v[0].kind, Value::Kind::kDecimal);
  EXPECT_EQ(v[0].s, "-12345678901234567890123456789012345.123456789012345678901234567890");
  EXPECT_EQ(v[1].s, "-0.05");
  EXPECT_EQ(v[2].kind, Value::Kind::kFloat);
  EXPECT_EQ(static_cast<float>(v[2].d), 1.1f);
  EXPECT_EQ(v[3].d, -1e300);
  EXPECT_EQ(v[4].kind, Value::Kind::kBit);
  EXPECT_EQ(v[4].u, 1u);
  EXPECT_EQ(v[5].u, 0xff00000000000001ULL);
  EXPECT_EQ(v[5].s, b64);
  EXPECT_EQ(v[6].u, 0x2aau);
  EXPECT_EQ(v[7].kind, Value::Kind::kEnum);
  EXPECT_EQ(v[7].u, 3u);
  EXPECT_EQ(v[7].s, "c");
  EXPECT_EQ(v[8].kind, Value::Kind::kSet);
  EXPECT_EQ(v[8].s, "x,z");
}

// A SET value joins its members with ',' in the character set of the member names: two or four
// bytes in the wide character sets (names from TABLE_MAP metadata are in the column's), one byte
// for names read from information_schema (utf8mb4) whatever the column's character set.
TEST(RowDecoderTest, SetMembersJoinInTheCharacterSetOfTheirNames) {
  using namespace std::string_literals;
  struct Case {
    uint16_t column, names;
    std::vector<std::string> members;
    std::string want;  // members 1 and 3 (bits 0b101)
  };
  const Case cases[] = {
      {54, 0, {"\0a"s, "\0b"s, "\0c"s}, "\0a\0,\0c"s},                          // utf16
      {35, 0, {"\0a"s, "\0b"s, "\0c"s}, "\0a\0,\0c"s},                          // ucs2
      {56, 0, {"a\0"s, "b\0"s, "c\0"s}, "a\0,\0c\0"s},                          // utf16le
      {60, 0, {"\0\0\0a"s, "\0\0\0b"s, "\0\0\0c"s}, "\0\0\0a\0\0\0,\0\0\0c"s},  // utf32
      {8, 0, {"\xE9", "b", "\xFC"}, "\xE9,\xFC"},                               // latin1
      {28, 0, {"\xD6\xD0", "b", "c"}, "\xD6\xD0,c"},                            // gbk
      {54, kUtf8mb4Collation, {"a", "b", "\xC3\xA9"}, "a,\xC3\xA9"},  // utf16 column, I_S names
  };
  for (const Case& c : cases) {
    auto t = std::make_shared<TableInfo>();
    ColumnInfo col;
    col.name = "s";
    col.type = ColumnType::kString;
    col.meta = (static_cast<uint16_t>(ColumnType::kSet) << 8) | 1;
    col.collation = c.column;
    col.enum_values = c.members;
    col.enum_values_collation = c.names;
    t->columns.push_back(col);
    auto d = TableDecoder::create(t, ServerFlavor::kMariaDb);
    ASSERT_TRUE(d.ok()) << d.status().toString();
    const std::string image("\x00\x05", 2);  // null bitmap, then the bitmask
    ByteReader r(image);
    RowImage row;
    ASSERT_TRUE((*d)->decodeRow(&r, "\x01", &row).ok());
    ASSERT_EQ(row.values.size(), 1u);
    EXPECT_EQ(row.values[0].kind, Value::Kind::kSet);
    EXPECT_EQ(row.values[0].u, 5u);
    EXPECT_EQ(row.values[0].s, c.want) << "collation " << c.column;
  }
}

TEST(RowDecoderTest, StringsBlobsJsonTemporalsAndNulls) {
  std::vector<TestColumn> cols = {testing::colVarchar("vs", 20),
                                  testing::colVarchar("vl", 1200),
                                  testing::colString("c", 400),
                                  testing::colString("bin", 4, 63),
                                  testing::colBlob("blob", 2),
                                  testing::colBlob("txt", 4, 45),
                                  testing::colJson("j"),
                                  testing::colTemporal2(ColumnType::kTime2, "t", 3),
                                  testing::colTemporal2(ColumnType::kDateTime2, "dt", 6),
                                  testing::colTemporal2(ColumnType::kTimestamp2, "ts", 0),
                                  testing::colPlain(ColumnType::kDate, "d")};
  std::string json = j::object({{"k", j::array({j::int16(1), j::literal(1)})}});
  std::vector<std::string> vals = {
      "\x03"
      "abc",
      le(300, 2) + std::string(300, 'x'),
      le(2, 2) + "hi",  // max length 400 > 255: 2-byte length
      "\x02"
      "ab",  // BINARY(4) with trailing zeros stripped
      le(3, 2) + std::string("\x00\x01\x02", 3),
      le(5, 4) + "hello",
      le(json.size(), 4) + json,
      encodeTime2(true, 1, 2, 3, 450000, 3),
      encodeDateTime2(2024, 2, 29, 23, 59, 59, 123456, 6),
      encodeTimestamp2(0, 0, 0),
      le((2024u << 9) | (2u << 5) | 29u, 3),
  };
  Harness h;
  std::vector<bool> nulls(vals.size(), false);
  auto rows = h.insert(cols, {testing::rowImage(vals, nulls),
                              testing::rowImage(vals, std::vector<bool>(vals.size(), true))});
  ASSERT_TRUE(rows.ok()) << rows.status().toString();
  const auto& v = (*rows)[0].values;
  EXPECT_EQ(v[0], Value::ofText(Value::Kind::kString, "abc"));
  EXPECT_EQ(v[1].s, std::string(300, 'x'));
  EXPECT_EQ(v[2].s, "hi");
  EXPECT_EQ(v[3], Value::ofText(Value::Kind::kBytes, std::string("ab\0\0", 4)));
  EXPECT_EQ(v[4], Value::ofText(Value::Kind::kBytes, std::string("\x00\x01\x02", 3)));
  EXPECT_EQ(v[5], Value::ofText(Value::Kind::kString, "hello"));
  EXPECT_EQ(v[6], Value::ofText(Value::Kind::kJson, "{\"k\": [1, true]}"));
  EXPECT_EQ(v[7], Value::ofText(Value::Kind::kTemporal, "-01:02:03.450"));
  EXPECT_EQ(v[8].s, "2024-02-29 23:59:59.123456");
  EXPECT_EQ(v[9].s, "0000-00-00 00:00:00");
  EXPECT_EQ(v[10].s, "2024-02-29");
  for (const auto& n : (*rows)[1].values) EXPECT_TRUE(n.isNull());
  EXPECT_EQ((*rows)[1].present, std::vector<bool>(vals.size(), true));
}

TEST(RowDecoderTest, PartialImagesHonourThePresentBitmap) {
  Harness h;
  std::vector<TestColumn> cols = {testing::colInt(ColumnType::kLong, "a"),
                                  testing::colInt(ColumnType::kLong, "b"),
                                  testing::colInt(ColumnType::kLong, "c")};
  ASSERT_TRUE(h.feed(h.b.formatDescription()).ok());
  ASSERT_TRUE(h.feed(h.b.tableMap(7, "db", "t", cols)).ok());
  // UPDATE with before = {a}, after = {c}.
  std::string body = testing::rowImage({le(1, 4)}, {}) + testing::rowImage({le(9, 4)}, {});
  ASSERT_TRUE(h.feed(h.b.rows(EventType::kUpdateRowsV2, 7, 3, body, "\x01", "\x04")).ok());
  RowsReader reader(h.events[0].as<RowsEvent>()->data, h.pos);
  RowImage before, after;
  ASSERT_TRUE(reader.next(&before, &after).ok());
  EXPECT_EQ(before.present, (std::vector<bool>{true, false, false}));
  EXPECT_EQ(after.present, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(before.values[0], Value::ofInt(1));
  EXPECT_EQ(after.values[2], Value::ofInt(9));
  EXPECT_TRUE(reader.done());
}

TEST(RowDecoderTest, TruncatedRowIsCorruptionNamingTableAndPosition) {
  Harness h;
  std::vector<TestColumn> cols = {testing::colInt(ColumnType::kLong, "a"),
                                  testing::colVarchar("s", 10)};
  auto rows = h.insert(cols, {testing::rowImage({le(1, 4),
                                                 "\x05"
                                                 "ab"},
                                                {})});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), Status::Code::kCorruption);
  EXPECT_NE(rows.status().message().find("`db`.`t`"), std::string::npos) << rows.status().message();
  EXPECT_NE(rows.status().message().find("binlog.000001:"), std::string::npos);
  EXPECT_NE(rows.status().message().find("column s"), std::string::npos);
}

TEST(RowDecoderTest, BadJsonAndBadDecimalAreCorruption) {
  Harness h;
  auto rows = h.insert({testing::colJson("j")},
                       {testing::rowImage({le(2, 4) + std::string("\x42\x00", 2)}, {})});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), Status::Code::kCorruption);
  Harness h2;
  rows = h2.insert({testing::colDecimal("d", 9, 0)},
                   {testing::rowImage({std::string("\xff\xff\xff\xff", 4)}, {})});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), Status::Code::kCorruption);
  Harness h3;
  {
    testing::EventBuilder eb;
    std::string tm = eb.tableMap(42, "db", "t", {testing::colEnum("e", {"a"})});
    auto parsed = parseTableMap(tm.substr(19, tm.size() - 23), 8);
    ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
    EXPECT_EQ(parsed->columns[0].enum_values.size(), 1u);
    EXPECT_EQ(parsed->columns[0].meta, 0xf701);
  }
  rows = h3.insert({testing::colEnum("e", {"a"})}, {testing::rowImage({"\x02"}, {})});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("ENUM index 2"), std::string::npos)
      << rows.status().toString();
}

TEST(RowDecoderTest, StringMetaEncodesLongLengthsAndRealTypes) {
  EXPECT_EQ(decodeStringMeta(0xfe14).max_length, 20u);
  EXPECT_EQ(decodeStringMeta(0xfe14).real_type, ColumnType::kString);
  // CHAR(100) utf8mb4 = 400 bytes: 400 = 0x190 -> byte0 = 0xfe ^ 0x10 = 0xee, byte1 = 0x90.
  EXPECT_EQ(decodeStringMeta(0xee90).max_length, 400u);
  EXPECT_EQ(decodeStringMeta(0xee90).real_type, ColumnType::kString);
  EXPECT_EQ(decodeStringMeta(0xf701).real_type, ColumnType::kEnum);
  EXPECT_EQ(decodeStringMeta(0xf808).real_type, ColumnType::kSet);
}

namespace skipdiff {

// Reads every row of a rows event with next() or with skip(): "<rows> <status>", to compare.
std::string readAll(const RowsEvent& e, const BinlogPosition& pos, bool skip) {
  RowsReader reader(e.data, pos);
  RowImage before, after;
  Status s;
  while (s.ok() && !reader.done()) s = skip ? reader.skip() : reader.next(&before, &after);
  return std::to_string(reader.rowsRead()) + " " + s.toString();
}

// Feeds `cols` and a rows event of `type` over `body`, every prefix of body and every single-byte
// corruption of it, and checks that skip() accepts and rejects exactly what next() does, with the
// same message.
void expectSkipMatchesNext(const std::vector<TestColumn>& cols, EventType type,
                           const std::string& body, const std::string& whole_result) {
  Harness h;
  ASSERT_TRUE(h.feed(h.b.formatDescription()).ok());
  ASSERT_TRUE(h.feed(h.b.tableMap(42, "db", "t", cols)).ok());
  auto check = [&](const std::string& rows, const std::string& what) {
    if (!h.feed(h.b.rows(type, 42, cols.size(), rows)).ok()) return;
    const auto* re = h.events.at(0).as<RowsEvent>();
    if (re == nullptr) return;  // no rows: the "dummy" event
    EXPECT_EQ(readAll(*re, h.pos, true), readAll(*re, h.pos, false)) << what;
  };
  check(body, "whole body");
  EXPECT_EQ(readAll(*h.events.at(0).as<RowsEvent>(), h.pos, true), whole_result);
  for (size_t n = 0; n < body.size(); ++n) check(body.substr(0, n), "prefix " + std::to_string(n));
  for (size_t i = 0; i < body.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string bad = body;
      bad[i] = static_cast<char>(bad[i] ^ x);
      check(bad, "byte " + std::to_string(i) + " ^ " + std::to_string(x));
    }
  }
}

}  // namespace skipdiff

TEST(RowDecoderTest, SkipChecksExactlyWhatNextDecodes) {
  std::vector<TestColumn> cols = {testing::colInt(ColumnType::kTiny, "ti"),
                                  testing::colInt(ColumnType::kInt24, "mi"),
                                  testing::colInt(ColumnType::kLongLong, "bi", true),
                                  testing::colDecimal("d", 10, 2),
                                  testing::colFloat("f"),
                                  testing::colDouble("g"),
                                  testing::colBit("b10", 10),
                                  testing::colEnum("en", {"a", "b", "c"}),
                                  testing::colSet("st", {"x", "y", "z"}),
                                  testing::colVarchar("vs", 20),
                                  testing::colString("bin", 4, 63),
                                  testing::colBlob("blob", 2),
                                  testing::colJson("j"),
                                  testing::colTemporal2(ColumnType::kTime2, "t", 3),
                                  testing::colTemporal2(ColumnType::kDateTime2, "dt", 6),
                                  testing::colTemporal2(ColumnType::kTimestamp2, "ts", 0),
                                  testing::colPlain(ColumnType::kDate, "dd"),
                                  testing::colPlain(ColumnType::kYear, "y")};
  std::string dec;
  ASSERT_TRUE(encodeDecimal("-0.05", 10, 2, &dec));
  std::string json = j::object({{"k", j::array({j::int16(1), j::literal(1)})}});
  std::vector<std::string> vals = {"\x85",
                                   le(70000, 3),
                                   le(~0ULL, 8),
                                   dec,
                                   le(0x3f800000, 4),
                                   le(0, 8),
                                   "\x02\xaa",
                                   "\x03",
                                   "\x05",
                                   "\x03"
                                   "abc",
                                   "\x02"
                                   "ab",
                                   le(3, 2) + "xyz",
                                   le(json.size(), 4) + json,
                                   encodeTime2(true, 1, 2, 3, 450000, 3),
                                   encodeDateTime2(2024, 2, 29, 23, 59, 59, 123456, 6),
                                   encodeTimestamp2(7, 0, 0),
                                   le((2024u << 9) | (2u << 5) | 29u, 3),
                                   "\x7b"};
  std::vector<bool> some_null(vals.size(), false);
  some_null[3] = some_null[9] = some_null[12] = true;
  const std::string row = testing::rowImage(vals, {}), row2 = testing::rowImage(vals, some_null);
  const std::string ok = "2 " + Status::OK().toString();
  skipdiff::expectSkipMatchesNext(cols, EventType::kWriteRowsV2, row + row2, ok);
  skipdiff::expectSkipMatchesNext(cols, EventType::kUpdateRowsV2, row + row2 + row2 + row, ok);
  skipdiff::expectSkipMatchesNext(cols, EventType::kDeleteRowsV1, row2 + row, ok);
}

}  // namespace
}  // namespace dts::mysql
