#include "common/byte_reader.h"

#include <gtest/gtest.h>

namespace dts {
namespace {

TEST(ByteReaderTest, ReadsLittleEndianAndStopsAtTheEnd) {
  std::string buf;
  putUint(&buf, 0x0102, 2);
  putUint(&buf, 0xdeadbeefcafef00dULL, 8);
  ByteReader r(buf);
  uint16_t a;
  uint64_t b;
  ASSERT_TRUE(r.getU16(&a));
  ASSERT_TRUE(r.getU64(&b));
  EXPECT_EQ(a, 0x0102);
  EXPECT_EQ(b, 0xdeadbeefcafef00dULL);
  uint8_t c;
  EXPECT_FALSE(r.getU8(&c));
  EXPECT_TRUE(r.empty());
}

TEST(ByteReaderTest, TruncatedReadLeavesCursorInPlace) {
  std::string buf("\x01\x02\x03", 3);
  ByteReader r(buf);
  uint32_t v;
  EXPECT_FALSE(r.getU32(&v));
  EXPECT_EQ(r.position(), 0u);
  uint64_t be;
  ASSERT_TRUE(r.getUintBE(3, &be));
  EXPECT_EQ(be, 0x010203u);
}

TEST(ByteReaderTest, LenencRoundTrip) {
  for (uint64_t v : {0ULL, 250ULL, 251ULL, 65535ULL, 65536ULL, 16777215ULL, 16777216ULL, ~0ULL}) {
    std::string buf;
    putLenenc(&buf, v);
    ByteReader r(buf);
    uint64_t got;
    ASSERT_TRUE(r.getLenenc(&got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_TRUE(r.empty());
  }
}

TEST(ByteReaderTest, LenencRejectsNullMarkerAndTruncation) {
  ByteReader null_marker(std::string_view("\xfb", 1));
  uint64_t v;
  EXPECT_FALSE(null_marker.getLenenc(&v));
  ByteReader truncated(std::string_view("\xfe\x01\x02", 3));
  EXPECT_FALSE(truncated.getLenenc(&v));
  EXPECT_EQ(truncated.position(), 0u);
  std::string_view s;
  ByteReader too_long(
      std::string_view("\x05"
                       "abc",
                       4));
  EXPECT_FALSE(too_long.getLenencBytes(&s));
}

TEST(ByteReaderTest, CString) {
  std::string buf("abc\0def", 7);
  ByteReader r(buf);
  std::string_view s;
  ASSERT_TRUE(r.getCString(&s));
  EXPECT_EQ(s, "abc");
  EXPECT_FALSE(r.getCString(&s));
}

}  // namespace
}  // namespace dts
