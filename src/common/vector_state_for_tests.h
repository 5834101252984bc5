// Tests: whether this thread's vector registers have their upper halves in use (XINUSE). Code
// that leaves them so (AVX-512 kernels ending without VZEROUPPER, such as ISA-L's CRCs) makes
// every legacy-SSE instruction after it pay the SSE/AVX transition penalty.
#pragma once

#include <cstdint>
#include <optional>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace dts::testing {

// The YMM (bit 2) and ZMM (bit 6) upper-half components of XINUSE (XGETBV with ECX=1) that are
// not in their initial state; nullopt where the CPU cannot tell.
inline std::optional<uint64_t> upperVectorStateInUse() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return std::nullopt;
  if (!__get_cpuid_count(0xD, 1, &a, &b, &c, &d) || !(a & (1u << 2))) return std::nullopt;
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
  return ((uint64_t{hi} << 32) | lo) & ((1u << 2) | (1u << 6));
#else
  return std::nullopt;
#endif
}

}  // namespace dts::testing
