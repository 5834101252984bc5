#include "mysql/decimal.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

std::string roundTrip(const std::string& text, int p, int s) {
  std::string bin, out;
  EXPECT_TRUE(encodeDecimal(text, p, s, &bin)) << text;
  EXPECT_EQ(bin.size(), decimalBinarySize(p, s));
  EXPECT_TRUE(decodeDecimal(bin, p, s, &out)) << text;
  return out;
}

TEST(DecimalTest, SizesFollowTheNineDigitGroups) {
  EXPECT_EQ(decimalBinarySize(10, 2), 5u);  // 8 int digits = 4 bytes, 2 frac = 1 byte
  EXPECT_EQ(decimalBinarySize(65, 30), 30u);
  EXPECT_EQ(decimalBinarySize(1, 1), 1u);
  EXPECT_EQ(decimalBinarySize(18, 9), 8u);
  EXPECT_EQ(decimalBinarySize(0, 0), 0u);
  EXPECT_EQ(decimalBinarySize(66, 0), 0u);
  EXPECT_EQ(decimalBinarySize(10, 11), 0u);
}

TEST(DecimalTest, KnownBytesFromTheMySqlDocs) {
  // 1234567890.1234 as DECIMAL(14,4): 81 0d fb 38 d2 04 d2 (the example of decimal.cc).
  const std::string bin("\x81\x0d\xfb\x38\xd2\x04\xd2", 7);
  std::string out;
  ASSERT_TRUE(decodeDecimal(bin, 14, 4, &out));
  EXPECT_EQ(out, "1234567890.1234");
  // -1234567890.1234: every byte inverted, then the sign bit flipped.
  std::string neg("\x7e\xf2\x04\xc7\x2d\xfb\x2d", 7);
  out.clear();
  ASSERT_TRUE(decodeDecimal(neg, 14, 4, &out));
  EXPECT_EQ(out, "-1234567890.1234");
}

TEST(DecimalTest, ManyPrecisionsAndScales) {
  EXPECT_EQ(roundTrip("0", 10, 2), "0.00");
  EXPECT_EQ(roundTrip("-0.05", 10, 2), "-0.05");
  EXPECT_EQ(roundTrip("12345678.9", 10, 2), "12345678.90");
  EXPECT_EQ(roundTrip("007", 5, 0), "7");
  EXPECT_EQ(roundTrip("-99999", 5, 0), "-99999");
  EXPECT_EQ(roundTrip("0.9", 1, 1), "0.9");
  EXPECT_EQ(roundTrip("-0.000000001", 18, 9), "-0.000000001");
  EXPECT_EQ(roundTrip("123456789.123456789", 18, 9), "123456789.123456789");
  const std::string max = std::string(35, '9') + "." + std::string(30, '9');
  EXPECT_EQ(roundTrip(max, 65, 30), max);
  EXPECT_EQ(roundTrip("-" + max, 65, 30), "-" + max);
  EXPECT_EQ(roundTrip("0.000000000000000000000000000001", 65, 30),
            "0.000000000000000000000000000001");
  EXPECT_EQ(roundTrip(std::string(65, '9'), 65, 0), std::string(65, '9'));
  EXPECT_EQ(roundTrip("-1", 65, 0), "-1");
  for (int p = 1; p <= 65; p += 7)
    for (int s = 0; s <= p && s <= 30; s += 3) {
      std::string text = std::string(static_cast<size_t>(p - s), '7');
      if (s > 0) text += "." + std::string(static_cast<size_t>(s), '3');
      if (p == s) text = "0." + std::string(static_cast<size_t>(s), '3');
      EXPECT_EQ(roundTrip("-" + text, p, s), "-" + text) << p << "," << s;
    }
}

TEST(DecimalTest, RejectsGroupsOutOfRange) {
  std::string bin("\x80\xff\xff\xff\xff", 5);  // DECIMAL(9,0) group > 999999999
  std::string out;
  EXPECT_FALSE(decodeDecimal(bin, 9, 0, &out));
  EXPECT_FALSE(decodeDecimal("\x80", 9, 0, &out));  // wrong size
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(encodeDecimal("123.456", 5, 2, &out));
  EXPECT_FALSE(encodeDecimal("1e5", 5, 2, &out));
}

}  // namespace
}  // namespace dts::mysql
