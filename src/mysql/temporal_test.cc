#include "mysql/temporal.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

std::string time2(bool neg, uint32_t h, uint32_t m, uint32_t s, uint32_t us, int fsp) {
  std::string out;
  EXPECT_TRUE(decodeTime2(encodeTime2(neg, h, m, s, us, fsp), fsp, &out));
  return out;
}
std::string datetime2(uint32_t y, uint32_t mo, uint32_t d, uint32_t h, uint32_t mi, uint32_t s,
                      uint32_t us, int fsp) {
  std::string out;
  EXPECT_TRUE(decodeDateTime2(encodeDateTime2(y, mo, d, h, mi, s, us, fsp), fsp, &out));
  return out;
}
std::string ts2(uint32_t sec, uint32_t us, int fsp) {
  std::string out;
  EXPECT_TRUE(decodeTimestamp2(encodeTimestamp2(sec, us, fsp), fsp, &out));
  return out;
}

TEST(TemporalTest, Time2AtEveryPrecision) {
  const char* pos[] = {"12:34:56",      "12:34:56.1",     "12:34:56.12",    "12:34:56.123",
                       "12:34:56.1234", "12:34:56.12345", "12:34:56.123456"};
  const char* neg[] = {"-838:59:59",      "-838:59:59.1",     "-838:59:59.12",    "-838:59:59.123",
                       "-838:59:59.1234", "-838:59:59.12345", "-838:59:59.123456"};
  for (int fsp = 0; fsp <= 6; ++fsp) {
    EXPECT_EQ(time2(false, 12, 34, 56, 123456, fsp), pos[fsp]);
    EXPECT_EQ(time2(true, 838, 59, 59, 123456, fsp), neg[fsp]);
  }
  EXPECT_EQ(time2(true, 0, 0, 0, 1, 6), "-00:00:00.000001");
  EXPECT_EQ(time2(true, 0, 0, 1, 500000, 1), "-00:00:01.5");
  EXPECT_EQ(time2(true, 0, 0, 1, 500000, 3), "-00:00:01.500");
  EXPECT_EQ(time2(false, 0, 0, 0, 0, 0), "00:00:00");
  EXPECT_EQ(time2(true, 12, 0, 0, 0, 0), "-12:00:00");
  EXPECT_EQ(time2(true, 1, 2, 3, 990000, 2), "-01:02:03.99");
}

TEST(TemporalTest, KnownTime2Bytes) {
  // TIME(0) '-00:00:01' is 0x800000 - 1.
  std::string out;
  ASSERT_TRUE(decodeTime2(std::string("\x7f\xff\xff", 3), 0, &out));
  EXPECT_EQ(out, "-00:00:01");
}

TEST(TemporalTest, DateTime2AtEveryPrecision) {
  const char* want[] = {"2024-01-31 10:00:59",       "2024-01-31 10:00:59.9",
                        "2024-01-31 10:00:59.98",    "2024-01-31 10:00:59.987",
                        "2024-01-31 10:00:59.9876",  "2024-01-31 10:00:59.98765",
                        "2024-01-31 10:00:59.987654"};
  for (int fsp = 0; fsp <= 6; ++fsp)
    EXPECT_EQ(datetime2(2024, 1, 31, 10, 0, 59, 987654, fsp), want[fsp]);
  EXPECT_EQ(datetime2(0, 0, 0, 0, 0, 0, 0, 0), "0000-00-00 00:00:00");
  EXPECT_EQ(datetime2(9999, 12, 31, 23, 59, 59, 999999, 6), "9999-12-31 23:59:59.999999");
  EXPECT_EQ(datetime2(1000, 1, 1, 0, 0, 0, 0, 1), "1000-01-01 00:00:00.0");
}

TEST(TemporalTest, Timestamp2IsUtcWithDeclaredDigits) {
  EXPECT_EQ(ts2(0, 0, 0), "0000-00-00 00:00:00");
  EXPECT_EQ(ts2(0, 0, 2), "0000-00-00 00:00:00.00");
  EXPECT_EQ(ts2(1, 1, 6), "1970-01-01 00:00:01.000001");
  EXPECT_EQ(ts2(2147483647, 990000, 2), "2038-01-19 03:14:07.99");
  EXPECT_EQ(ts2(1709208000, 0, 0), "2024-02-29 12:00:00");
  EXPECT_EQ(ts2(4294967295u, 0, 0), "2106-02-07 06:28:15");
  for (int fsp = 1; fsp <= 6; ++fsp)
    EXPECT_EQ(ts2(946684800, 500000, fsp).substr(0, 21), "2000-01-01 00:00:00.5");
}

TEST(TemporalTest, OldFormatsAndWrongSizes) {
  std::string out;
  formatDate((2024u << 9) | (1u << 5) | 31u, &out);
  EXPECT_EQ(out, "2024-01-31");
  out.clear();
  formatOldTime(-8385959, &out);
  EXPECT_EQ(out, "-838:59:59");
  out.clear();
  formatOldDateTime(20240131100000ULL, &out);
  EXPECT_EQ(out, "2024-01-31 10:00:00");
  out.clear();
  EXPECT_FALSE(decodeTime2("\x80\x00", 0, &out));
  EXPECT_FALSE(decodeDateTime2("\x80\x00\x00\x00\x00", 1, &out));
  EXPECT_FALSE(decodeTimestamp2("\x00\x00\x00\x00", 7, &out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace dts::mysql
