#include "common/crc32.h"

#include <array>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>

#ifdef DTS_HAVE_ISAL
#include <isa-l/crc.h>
#endif

namespace dts {
namespace {

// kTables[0] is the classic byte-at-a-time table; kTables[k][b] is the CRC of byte b followed by
// k zero bytes, so eight table lookups advance the CRC by eight input bytes.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables makeTables(uint32_t reflected_polynomial) {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ reflected_polynomial : c >> 1;
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b)
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  return t;
}

constexpr Tables kTables = makeTables(0xEDB88320u);
constexpr Tables kTablesC = makeTables(0x82F63B78u);  // Castagnoli

uint32_t slicingBy8(const Tables& tables, uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;  // little-endian words; memcpy keeps unaligned reads defined
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    if constexpr (std::endian::native == std::endian::big) {
      lo = __builtin_bswap32(lo);
      hi = __builtin_bswap32(hi);
    }
    lo ^= c;
    c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
        tables[4][lo >> 24] ^ tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^
        tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xff];
  return ~c;
}

}  // namespace

uint32_t crc32Portable(uint32_t crc, const void* data, size_t n) {
  return slicingBy8(kTables, crc, data, n);
}

uint32_t crc32cPortable(uint32_t crc, const void* data, size_t n) {
  return slicingBy8(kTablesC, crc, data, n);
}

#ifdef DTS_HAVE_ISAL
namespace {

// ISA-L's AVX-512 kernels (crc32_gzip_refl_by16_10, chosen on CPUs with VPCLMULQDQ) return with
// the upper halves of the vector registers in use: they end without VZEROUPPER. Until one runs,
// every legacy-SSE instruction the compiler emits anywhere in dts (copies, moves of 16-byte
// structs) pays the SSE/AVX transition penalty. It made the whole binlog decoder about 4x slower
// (bench/decode_bench, BM_CountRowsSkip: 920 ms before, 191 ms after, for 1,000,000 rows).
void clearUpperVectorState() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx = __builtin_cpu_supports("avx");
  if (avx) asm volatile("vzeroupper");
#endif
}

}  // namespace

uint32_t crc32Extend(uint32_t crc, const void* data, size_t n) {
  // crc32_gzip_refl inverts on entry and exit like zlib, so CRCs chain the same way.
  uint32_t r = crc32_gzip_refl(crc, static_cast<const unsigned char*>(data), n);
  clearUpperVectorState();
  return r;
}
const char* crc32Implementation() {
  return "isa-l";
}
uint32_t crc32cExtend(uint32_t crc, const void* data, size_t n) {
  // crc32_iscsi neither inverts on entry nor on exit; do both so CRCs chain like crc32Extend.
  if (n > static_cast<size_t>(INT32_MAX)) return crc32cPortable(crc, data, n);
  uint32_t r = ~crc32_iscsi(const_cast<unsigned char*>(static_cast<const unsigned char*>(data)),
                            static_cast<int>(n), ~crc);
  clearUpperVectorState();
  return r;
}
#else
uint32_t crc32Extend(uint32_t crc, const void* data, size_t n) {
  return crc32Portable(crc, data, n);
}
const char* crc32Implementation() {
  return "slicing-by-8";
}
uint32_t crc32cExtend(uint32_t crc, const void* data, size_t n) {
  return crc32cPortable(crc, data, n);
}
#endif

}  // namespace dts
