#include "common/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "common/vector_state_for_tests.h"

namespace dts {
namespace {

uint32_t zlibCrc(uint32_t crc, const unsigned char* p, size_t n) {
  return static_cast<uint32_t>(::crc32(crc, p, static_cast<uInt>(n)));
}

std::vector<unsigned char> randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> v(n);
  for (auto& b : v) b = static_cast<unsigned char>(rng());
  return v;
}

// ISA-L's AVX-512 kernels return with the upper halves of the vector registers in use; left so,
// every SSE instruction after them pays a transition penalty (the whole decoder ran 4x slower).
// Whatever kernel runs, the CRCs leave the upper state clean.
TEST(Crc32Test, LeavesTheUpperVectorStateClean) {
  if (!testing::upperVectorStateInUse())
    GTEST_SKIP() << "this CPU does not report XINUSE (XGETBV with ECX=1)";
  const auto buf = randomBytes(4096, 3);
  volatile uint32_t sink = crc32Extend(0, buf.data(), buf.size());
  EXPECT_EQ(*testing::upperVectorStateInUse(), 0u) << "after crc32, " << sink;
  sink = crc32cExtend(0, buf.data(), buf.size());
  EXPECT_EQ(*testing::upperVectorStateInUse(), 0u) << "after crc32c, " << sink;
}

TEST(Crc32Test, KnownVectors) {
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(crc32Portable(0, "123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32(std::string(32, '\0')), 0x190A55ADu);
}

TEST(Crc32Test, MatchesZlibOnEveryLengthAndAlignment) {
  const auto buf = randomBytes(4096 + 64, 42);
  for (size_t align = 0; align < 16; ++align) {
    for (size_t n = 0; n <= 1100; ++n) {
      const unsigned char* p = buf.data() + align;
      const uint32_t want = zlibCrc(0, p, n);
      ASSERT_EQ(crc32Extend(0, p, n), want) << "len " << n << " align " << align;
      ASSERT_EQ(crc32Portable(0, p, n), want) << "len " << n << " align " << align;
    }
  }
  for (size_t n : {2047u, 2048u, 2049u, 4095u, 4096u}) {
    EXPECT_EQ(crc32Extend(0, buf.data() + 3, n), zlibCrc(0, buf.data() + 3, n)) << n;
  }
}

TEST(Crc32Test, LargeInputsMatchZlib) {
  for (size_t n : {size_t{65536}, size_t{1} << 20, (size_t{1} << 22) + 13}) {
    const auto buf = randomBytes(n, static_cast<uint32_t>(n));
    const uint32_t want = zlibCrc(0, buf.data(), n);
    EXPECT_EQ(crc32Extend(0, buf.data(), n), want) << n;
    EXPECT_EQ(crc32Portable(0, buf.data(), n), want) << n;
  }
}

TEST(Crc32Test, ChainsLikeZlib) {
  const auto buf = randomBytes(3000, 7);
  const uint32_t whole = zlibCrc(0, buf.data(), buf.size());
  for (size_t cut : {0u, 1u, 7u, 8u, 63u, 64u, 1000u, 2999u, 3000u}) {
    EXPECT_EQ(crc32Extend(crc32Extend(0, buf.data(), cut), buf.data() + cut, buf.size() - cut),
              whole)
        << cut;
    EXPECT_EQ(crc32Portable(crc32Portable(0, buf.data(), cut), buf.data() + cut, buf.size() - cut),
              whole)
        << cut;
  }
  // A non-zero seed as zlib treats it.
  EXPECT_EQ(crc32Extend(0x12345678u, buf.data(), 100), zlibCrc(0x12345678u, buf.data(), 100));
}

TEST(Crc32Test, DetectsEverySingleBitFlip) {
  auto buf = randomBytes(300, 9);
  const uint32_t good = crc32Extend(0, buf.data(), buf.size());
  for (size_t bit = 0; bit < buf.size() * 8; ++bit) {
    buf[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    ASSERT_NE(crc32Extend(0, buf.data(), buf.size()), good) << bit;
    buf[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace dts

namespace dts {
namespace {

// CRC-32C (Castagnoli), Kafka's record batch checksum.
TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC-32/ISCSI check value
  EXPECT_EQ(crc32cPortable(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);    // RFC 3720 B.4, 32 bytes of zeros
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);  // RFC 3720 B.4, 32 bytes of 0xff
}

TEST(Crc32cTest, ChainsAndMatchesPortableOnEveryLength) {
  const auto buf = randomBytes(2100, 11);
  for (size_t n = 0; n <= 2100; n += (n < 100 ? 1 : 37)) {
    const uint32_t want = crc32cPortable(0, buf.data(), n);
    ASSERT_EQ(crc32cExtend(0, buf.data(), n), want) << n;
    size_t cut = n / 3;
    ASSERT_EQ(crc32cExtend(crc32cExtend(0, buf.data(), cut), buf.data() + cut, n - cut), want) << n;
  }
}

}  // namespace
}  // namespace dts
