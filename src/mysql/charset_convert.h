// Text of a MySQL/MariaDB column, in its character set, converted to UTF-8 exactly as the server's
// own CONVERT(col USING utf8mb4) does, for every character set the server knows
// (SHOW CHARACTER SET), or refused when that cannot be done exactly.
//
// How, per character set (the tables are src/mysql/charsets.inc, generated from the server by
// scripts/gen-charsets.py):
//   - utf8mb3, utf8mb4, utf16, utf16le, utf32, ucs2: decoded here by their specifications.
//   - every single-byte character set (latin1..7, cp125x, cp850/852/866, koi8r/u, greek, hebrew,
//     armscii8, geostd8, keybcs2, dec8, hp8, swe7, mac*, tis620, ascii): a 256-entry table of the
//     server's own code points. MariaDB's latin1 is cp1252 with 0x81/0x8d/0x8f/0x90/0x9d kept as
//     C1 controls, and swe7/dec8/hp8/keybcs2/geostd8 have no exact glibc equivalent, so a table
//     from the server is the only exact source.
//   - multi-byte character sets (big5, sjis, cp932, gbk, gb2312, euckr, ujis, eucjpms): glibc
//     iconv, with the few hundred codes where glibc and the server disagree (measured code by code
//     by the generator: big5 304, ujis 1882, sjis 3, euckr 1) overridden by the server's answer.
//     glibc iconv rather than ICU: it is part of libc (no new package), covers every one of these
//     sets, and the overrides make either library exact anyway; descriptors are cached per thread.
//   - gb18030 (MySQL 8 only, ids 248-250) and collation ids no server defines: not converted
//     (kUnsupported): no server here to verify a table against, and a guess could be silently
//     wrong.
// What is invalid: a byte sequence the server itself rejects in that character set (CONVERT turns
// it into '?'), a truncated character, and a code point UTF-8 cannot carry (a UTF-16 surrogate,
// which MariaDB accepts in utf8mb3/utf8mb4/utf32/ucs2 columns). Invalid text is never converted
// partially, dropped or replaced: the caller gets kInvalid and the offset of the first bad byte.
//
// Pure apart from per-thread iconv descriptors; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dts::mysql {

enum class TextConversion : uint8_t {
  kConverted,    // UTF-8 appended
  kInvalid,      // bytes not valid in the character set; nothing appended
  kUnsupported,  // no exact converter: gb18030, unknown collation, or id 0 (charset unknown)
  kBinary,       // collation 63: bytes, not text
};

// Appends the UTF-8 form of `bytes`, read in the character set of `collation`, to *out.
// On kInvalid, *bad_offset (when not null) is the offset of the first invalid byte; *out is left as
// it was for every result other than kConverted.
TextConversion appendUtf8(uint16_t collation, std::string_view bytes, std::string* out,
                          size_t* bad_offset = nullptr);

// The same, by character set name ("gbk", "latin1", "utf8mb4", "utf8" = utf8mb3).
TextConversion appendUtf8(std::string_view charset, std::string_view bytes, std::string* out,
                          size_t* bad_offset = nullptr);

// False when text of `collation` that appendUtf8 converts would not come back as the same bytes
// were its UTF-8 written into a column of that character set: it holds a code whose character the
// server converts back into other bytes (charsets.inc's kLossy_* lists, measured on the server by
// scripts/gen-charsets.py). Such a code shares its character with another code of the set
// (cp932's NEC and IBM twins such as 0x8790 and 0x81E0, both U+2252; sjis 0x5C and 0x815F, both
// U+005C, which goes back as 0x815F; armscii8 0xA4, ')' like 0x29), or is one the server reads
// as U+FFFD (tis620 0xA0, big5 0xA15A). Unicode character sets and most others always come back:
// true. Meant for text appendUtf8 converted; bytes it rejects are not judged (true).
bool convertsBack(uint16_t collation, std::string_view bytes);

// True when appendUtf8(collation, ...) can convert that character set (not binary, unknown or
// unsupported).
bool canConvertToUtf8(uint16_t collation);

// 4 for a utf8mb4 collation, 3 for utf8mb3, 0 for any other: text of a UTF-8 collation needs
// only firstInvalidUtf8(bytes, utf8MaxBytes(collation)), not a copy through appendUtf8.
int utf8MaxBytes(uint16_t collation);

// Offset of the first byte that is not part of well-formed UTF-8 in `s` (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed), or s.size() when there is none.
// With max_bytes = 3 (utf8mb3) 4-byte sequences are ill-formed too.
size_t firstInvalidUtf8(std::string_view s, int max_bytes = 4);

// Walks `s` in order: valid(run) for each longest run of well-formed UTF-8 (never empty) and
// invalid(byte) for each byte that is part of none. For text shown where only UTF-8 is allowed
// (the log, metric labels), each caller deciding what a byte becomes.
template <typename Valid, typename Invalid>
void forEachUtf8Run(std::string_view s, Valid&& valid, Invalid&& invalid) {
  while (!s.empty()) {
    const size_t n = firstInvalidUtf8(s);
    if (n > 0) valid(s.substr(0, n));
    if (n == s.size()) return;
    invalid(static_cast<unsigned char>(s[n]));
    s.remove_prefix(n + 1);
  }
}

}  // namespace dts::mysql
