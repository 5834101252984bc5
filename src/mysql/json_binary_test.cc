#include "mysql/json_binary.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "common/byte_reader.h"
#include "mysql/decimal.h"
#include "mysql/event_builder_for_tests.h"

namespace dts::mysql {
namespace {

namespace j = testing::json;

std::string text(const std::string& bin) {
  std::string out;
  Status s = jsonBinaryToText(bin, &out);
  EXPECT_TRUE(s.ok()) << s.toString();
  return out;
}

TEST(JsonBinaryTest, Scalars) {
  EXPECT_EQ(text(j::literal(0)), "null");
  EXPECT_EQ(text(j::literal(1)), "true");
  EXPECT_EQ(text(j::literal(2)), "false");
  EXPECT_EQ(text(j::int16(-32768)), "-32768");
  EXPECT_EQ(text(j::uint16(65535)), "65535");
  EXPECT_EQ(text(j::int32(-2147483647 - 1)), "-2147483648");
  EXPECT_EQ(text(j::uint32(4294967295u)), "4294967295");
  EXPECT_EQ(text(j::int64(INT64_MIN)), "-9223372036854775808");
  EXPECT_EQ(text(j::uint64(UINT64_MAX)), "18446744073709551615");
  EXPECT_EQ(text(j::dbl(2.5)), "2.5");
  EXPECT_EQ(text(j::dbl(3)), "3.0");
  EXPECT_EQ(text(j::dbl(1e300)), "1e300");
  EXPECT_EQ(text(j::str("a\"b\\c\n\x01")), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(text(j::str(std::string(200, 'x'))),
            "\"" + std::string(200, 'x') + "\"");  // 2-byte length
  EXPECT_EQ(text(""), "null");
}

TEST(JsonBinaryTest, OpaqueValues) {
  std::string dec;
  ASSERT_TRUE(encodeDecimal("-12.50", 5, 2, &dec));
  EXPECT_EQ(text(j::opaque(246, std::string("\x05\x02", 2) + dec)), "-12.50");
  // DATETIME 2015-01-15 23:24:25.000007 packed: ((ymd << 17 | hms) << 24) + usec
  auto packedDateTime = [](uint64_t y, uint64_t mo, uint64_t d, uint64_t h, uint64_t mi, uint64_t s,
                           uint64_t us) {
    uint64_t ymd = ((y * 13 + mo) << 5) | d, hms = (h << 12) | (mi << 6) | s;
    std::string b;
    putUint(&b, (((ymd << 17) | hms) << 24) + us, 8);
    return b;
  };
  EXPECT_EQ(text(j::opaque(12, packedDateTime(2015, 1, 15, 23, 24, 25, 7))),
            "\"2015-01-15 23:24:25.000007\"");
  EXPECT_EQ(text(j::opaque(10, packedDateTime(2015, 1, 15, 0, 0, 0, 0))), "\"2015-01-15\"");
  std::string t;
  putUint(&t,
          static_cast<uint64_t>(
              -static_cast<int64_t>((((uint64_t{838} << 12) | (59 << 6) | 58) << 24) + 5)),
          8);
  EXPECT_EQ(text(j::opaque(11, t)), "\"-838:59:58.000005\"");
  EXPECT_EQ(text(j::opaque(15, "abc")), "\"base64:type15:YWJj\"");
}

TEST(JsonBinaryTest, ContainersSmallAndLarge) {
  auto doc = j::object({{"a", j::int16(1)},
                        {"bb", j::array({j::literal(1), j::str("s"), j::dbl(0.5), j::uint64(7)})},
                        {"ccc", j::object({})}});
  EXPECT_EQ(text(doc), "{\"a\": 1, \"bb\": [true, \"s\", 0.5, 7], \"ccc\": {}}");
  auto large =
      j::object({{"k", j::int32(-5)}, {"n", j::array({j::uint32(9), j::literal(0)}, true)}}, true);
  EXPECT_EQ(text(large), "{\"k\": -5, \"n\": [9, null]}");
  EXPECT_EQ(text(j::array({})), "[]");
}

TEST(JsonBinaryTest, BadBytesAreCorruption) {
  std::string out;
  EXPECT_EQ(jsonBinaryToText("\x0c\x05"
                             "ab",
                             &out)
                .code(),
            Status::Code::kCorruption);  // string too short
  EXPECT_EQ(jsonBinaryToText("\x04\x07", &out).code(),
            Status::Code::kCorruption);                                         // unknown literal
  EXPECT_EQ(jsonBinaryToText("\x42", &out).code(), Status::Code::kCorruption);  // unknown type
  auto doc = j::object({{"a", j::str("xyz")}});
  EXPECT_EQ(jsonBinaryToText(doc.substr(0, doc.size() - 2), &out).code(),
            Status::Code::kCorruption);
  std::string bad = doc;
  bad[3] = '\x7f';  // size larger than the value
  EXPECT_EQ(jsonBinaryToText(bad, &out).code(), Status::Code::kCorruption);
  // Deep nesting is refused, not a stack overflow.
  std::string deep = j::literal(0);
  for (int i = 0; i < 200; ++i) deep = j::array({deep});
  EXPECT_EQ(jsonBinaryToText(deep, &out).code(), Status::Code::kCorruption);
}

std::string diff(uint8_t op, std::string_view path, const std::string& value = {}) {
  std::string d(1, static_cast<char>(op));
  putLenenc(&d, path.size());
  d += path;
  if (op != 2) {
    putLenenc(&d, value.size());
    d += value;
  }
  return d;
}

TEST(JsonBinaryTest, AppliesPartialUpdateDiffs) {
  auto before = j::object({{"k1", j::str("v1")}, {"arr", j::array({j::int16(1), j::int16(2)})}});
  std::string out;
  std::string diffs =
      diff(0, "$.k1", j::str("v2")) + diff(1, "$.k3", j::array({j::int16(1), j::int16(2)})) +
      diff(1, "$.arr[1]", j::literal(1)) + diff(2, "$.arr[0]") + diff(1, "$.\"a b\"", j::int16(5));
  Status s = applyJsonDiffToText(before, diffs, &out);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(out, "{\"k1\": \"v2\", \"k3\": [1, 2], \"a b\": 5, \"arr\": [true, 2]}");
}

TEST(JsonBinaryTest, DiffErrorsAreCorruption) {
  auto before = j::object({{"a", j::int16(1)}});
  std::string out;
  EXPECT_EQ(applyJsonDiffToText(before, diff(0, "$.missing", j::int16(1)), &out).code(),
            Status::Code::kCorruption);
  EXPECT_EQ(applyJsonDiffToText(before, diff(2, "$.b"), &out).code(), Status::Code::kCorruption);
  EXPECT_EQ(applyJsonDiffToText(before, diff(7, "$.a"), &out).code(), Status::Code::kCorruption);
  EXPECT_EQ(applyJsonDiffToText(before, diff(0, "a.b", j::int16(1)), &out).code(),
            Status::Code::kCorruption);
  EXPECT_EQ(applyJsonDiffToText(before, std::string("\x00\x05$.a", 4), &out).code(),
            Status::Code::kCorruption);
}

// The quoting's fast path (eight bytes at a time) must escape exactly what a byte-by-byte loop
// escapes: every byte that needs it, at every position and length, among UTF-8 bytes and the
// bytes around the thresholds.
TEST(JsonQuotedTest, EscapesExactlyWhatABytewiseLoopEscapes) {
  auto reference = [](std::string_view s, bool escape_del) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\b')
        out += "\\b";
      else if (c == '\f')
        out += "\\f";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (c < 0x20 || (escape_del && c == 0x7f)) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out + "\"";
  };
  const unsigned char alphabet[] = {'a',  ' ',  '!',  '"',  '#',  '\\', ']',
                                    0x00, 0x01, 0x1f, '\n', 0x7e, 0x7f, 0x80,
                                    0x85, 0x9f, 0xa0, 0xc3, 0xdf, 0xe2, 0xff};
  uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>(seed >> 33);
  };
  for (int round = 0; round < 20000; ++round) {
    std::string s(next() % 40, 'x');
    for (char& c : s) c = static_cast<char>(alphabet[next() % sizeof alphabet]);
    // Mostly plain text with one or two special bytes, as real values are.
    if (round % 2 == 0)
      for (char& c : s)
        if (next() % 8 != 0) c = 'q';
    for (bool del : {false, true}) {
      std::string got;
      appendJsonQuoted(s, &got, del);
      ASSERT_EQ(got, reference(s, del)) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace dts::mysql
