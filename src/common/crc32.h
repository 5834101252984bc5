// CRC-32 of the IEEE 802.3 polynomial, reflected (0xEDB88320) — the checksum of zlib's crc32(),
// gzip and MySQL/MariaDB binlog events (binlog_checksum=CRC32).
//
// crc32() uses ISA-L's crc32_gzip_refl when dts is built with libisal (PCLMULQDQ / VPCLMULQDQ
// folding, chosen at run time by ISA-L's CPU dispatch: ~10x zlib on one core), else the portable
// slicing-by-8 below. Both give zlib's result for every input; crc32_test.cc checks that. After
// ISA-L's kernels both run VZEROUPPER (where the CPU has AVX): its AVX-512 kernels leave the
// upper vector state dirty, which slowed every SSE instruction after them (the decoder 4x).
//
// crc32c() is CRC-32C (Castagnoli, reflected 0x82F63B78): the checksum of Kafka's record batch v2
// (and iSCSI, ext4). ISA-L's crc32_iscsi when built with libisal, else slicing-by-8.
//
// Thread-safety: pure functions (the slicing tables are built once, thread-safely).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dts {

// CRC of data[0, n) continuing from `crc` (0 to start), as zlib's crc32(crc, data, n):
// crc32Extend(crc32Extend(0, a), b) == CRC of a followed by b.
uint32_t crc32Extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32(std::string_view bytes) {
  return crc32Extend(0, bytes.data(), bytes.size());
}

// The portable slicing-by-8 implementation, whatever the build uses (tests and benchmarks).
uint32_t crc32Portable(uint32_t crc, const void* data, size_t n);

// CRC-32C, chained the same way as crc32Extend: crc32cExtend(crc32cExtend(0, a), b) == crc32c(ab).
uint32_t crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(std::string_view bytes) {
  return crc32cExtend(0, bytes.data(), bytes.size());
}
uint32_t crc32cPortable(uint32_t crc, const void* data, size_t n);

// "isa-l" or "slicing-by-8": what crc32Extend() runs (for benchmark and log output).
const char* crc32Implementation();

}  // namespace dts
