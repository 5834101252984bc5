// libFuzzer target over mysql/charset_convert: column bytes of any character set to UTF-8.
// Input: first byte picks the character set, the rest is the column's bytes. Checks, besides
// memory safety: converted text is well-formed UTF-8; a refusal leaves the output as it was and
// names an offset inside the input; a prefix that ends on a character boundary before the bad
// offset converts too (conversion is character by character, never context-dependent); for the
// single-byte sets, converting byte by byte gives the same answer as the whole value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mysql/charset_convert.h"

using namespace dts;

namespace {

const char* const kCharsets[] = {
    "utf8mb4", "utf8mb3", "utf16",  "utf16le", "utf32",   "ucs2",  "latin1",  "latin2",
    "swe7",    "ascii",   "cp1250", "koi8r",   "geostd8", "dec8",  "keybcs2", "macroman",
    "big5",    "sjis",    "cp932",  "gbk",     "gb2312",  "euckr", "ujis",    "eucjpms",
};
constexpr size_t kSingleByteFirst = 6, kSingleByteEnd = 16;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "charset_convert_fuzz: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t pick = data[0] % (sizeof(kCharsets) / sizeof(kCharsets[0]));
  const std::string_view cs = kCharsets[pick];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string out = "x";
  size_t bad = 0;
  const mysql::TextConversion r = mysql::appendUtf8(cs, bytes, &out, &bad);
  if (r == mysql::TextConversion::kConverted) {
    check(out[0] == 'x', "converted output must be appended");
    check(mysql::firstInvalidUtf8(std::string_view(out).substr(1)) == out.size() - 1,
          "converted text must be well-formed UTF-8");
  } else {
    check(r == mysql::TextConversion::kInvalid, "every listed set converts or refuses");
    check(out == "x", "a refusal leaves the output as it was");
    check(bad < bytes.size(), "the bad offset is inside the input");
  }
  if (pick >= kSingleByteFirst && pick < kSingleByteEnd) {
    std::string joined;
    bool all = true;
    for (size_t i = 0; i < bytes.size() && all; ++i) {
      size_t b = 0;
      all = mysql::appendUtf8(cs, bytes.substr(i, 1), &joined, &b) ==
            mysql::TextConversion::kConverted;
      if (!all) check(r == mysql::TextConversion::kInvalid && bad == i, "same first bad byte");
    }
    if (all)
      check(r == mysql::TextConversion::kConverted && joined == out.substr(1),
            "byte by byte equals the whole value");
  }
  return 0;
}
