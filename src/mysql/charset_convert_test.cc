#include "mysql/charset_convert.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "mysql/collations.h"

namespace dts::mysql {
namespace {

// The UTF-8 of `bytes` read as `charset`, or "<invalid@N>" / "<unsupported>" / "<binary>".
std::string conv(std::string_view charset, std::string_view bytes) {
  std::string out = "prefix:";
  size_t bad = 999;
  switch (appendUtf8(charset, bytes, &out, &bad)) {
    case TextConversion::kConverted: return out.substr(7);
    case TextConversion::kInvalid:
      EXPECT_EQ(out, "prefix:") << charset << ": output must be left as it was";
      return "<invalid@" + std::to_string(bad) + ">";
    case TextConversion::kUnsupported: return "<unsupported>";
    case TextConversion::kBinary: return "<binary>";
  }
  return "?";
}

// Code points below are those of the Unicode mapping tables; each was also checked against
// MariaDB 10.11's CONVERT(... USING utf8mb4).
TEST(CharsetConvertTest, SingleByteSets) {
  EXPECT_EQ(conv("latin1", "caf\xe9 \x80"), "café €");  // MariaDB latin1 is cp1252
  EXPECT_EQ(conv("latin1", "\x81\x8d\x8f\x90\x9d"), "\u0081\u008d\u008f\u0090\u009d");
  EXPECT_EQ(conv("latin2", "\xa1"), "Ą");
  EXPECT_EQ(conv("latin5", "\xd0"), "Ğ");
  EXPECT_EQ(conv("latin7", "\xc0"), "Ą");
  EXPECT_EQ(conv("cp1250", "\x8a"), "Š");
  EXPECT_EQ(conv("cp1250", "a\x81"), "<invalid@1>");  // undefined in cp1250
  EXPECT_EQ(conv("cp1251", "\xc0"), "А");
  EXPECT_EQ(conv("cp1256", "\xc7"), "ا");
  EXPECT_EQ(conv("cp1257", "\xc0"), "Ą");
  EXPECT_EQ(conv("cp850", "\x82"), "é");
  EXPECT_EQ(conv("cp852", "\xa5"), "ą");
  EXPECT_EQ(conv("cp866", "\x80"), "А");
  EXPECT_EQ(conv("koi8r", "\xc1"), "а");
  EXPECT_EQ(conv("koi8u", "\xa4"), "є");
  EXPECT_EQ(conv("greek", "\xe1"), "α");
  EXPECT_EQ(conv("hebrew", "\xe0"), "א");
  EXPECT_EQ(conv("armscii8", "\xb2"), "Ա");
  EXPECT_EQ(conv("geostd8", "\xc0"), "ა");
  EXPECT_EQ(conv("keybcs2", "\x87"), "č");
  EXPECT_EQ(conv("dec8", "\xc6"), "Æ");
  EXPECT_EQ(conv("hp8", "\xc8"), "à");
  EXPECT_EQ(conv("swe7", "[{@"), "ÄäÉ");  // 7-bit Swedish: ASCII punctuation is letters
  EXPECT_EQ(conv("swe7", "\x80"), "<invalid@0>");
  EXPECT_EQ(conv("macroman", "\x8e\xf0"), "é\uf8ff");  // 0xF0 is Apple's logo (private use)
  EXPECT_EQ(conv("macce", "\x84"), "Ą");
  EXPECT_EQ(conv("tis620", "\xa1"), "ก");
  EXPECT_EQ(conv("ascii", "plain text"), "plain text");
  EXPECT_EQ(conv("ascii", "ab\x80"), "<invalid@2>");
}

TEST(CharsetConvertTest, MultiByteSets) {
  EXPECT_EQ(conv("gbk", "\x81\x40\xd6\xd0 x"), "丂中 x");
  EXPECT_EQ(conv("gbk", "\x80"), "<invalid@0>");    // glibc says EURO SIGN; the server rejects it
  EXPECT_EQ(conv("gbk", "ab\xd6"), "<invalid@2>");  // truncated character
  EXPECT_EQ(conv("gbk", "\xd6\x20"), "<invalid@0>");
  EXPECT_EQ(conv("gb2312", "\xd6\xd0\xce\xc4"), "中文");
  EXPECT_EQ(conv("big5", "\xa4\xa4\xa4\xe5"), "中文");
  EXPECT_EQ(conv("big5", "\xa1\x45"), "•");  // an override: glibc says U+2027
  EXPECT_EQ(conv("sjis", "\x93\xfa\x96\x7b\xb1"), "日本ｱ");
  EXPECT_EQ(conv("sjis", "a\\b~\x81\x5f"), "a\\b~\\");  // glibc: YEN SIGN, OVERLINE, U+FF3C
  EXPECT_EQ(conv("cp932", "\x93\xfa\x87\x40"), "日①");
  EXPECT_EQ(conv("euckr", "\xc7\xd1\xb1\xdb"), "한글");
  EXPECT_EQ(conv("euckr", "\xa2\xe8"), "<invalid@0>");  // glibc CP949 accepts it; not the server
  EXPECT_EQ(conv("ujis", "\xc6\xfc\x8e\xb1\x8f\xb0\xa1"), "日ｱ丂");  // 2-, 2- and 3-byte
  EXPECT_EQ(conv("ujis", "\xa1\xc0"), "\\");                         // an override
  EXPECT_EQ(conv("ujis", "\x8f\xb0"), "<invalid@0>");
  EXPECT_EQ(conv("eucjpms", "\xc6\xfc\x8f\xf3\xf3"), "日ⅰ");
  // Overrides in the middle of glibc runs, invalid after an override.
  EXPECT_EQ(conv("big5", "\xa4\xa4\xa1\x45\xa4\xe5"), "中•文");
  EXPECT_EQ(conv("big5", "\xa1\x45\x80"), "<invalid@2>");
}

// Each case was checked on MariaDB 10.11: CONVERT(CONVERT(x USING utf8mb4) USING cs) gives other
// bytes exactly for the codes said not to come back.
TEST(CharsetConvertTest, TextThatWouldNotComeBackAsTheSameBytes) {
  auto back = [](std::string_view charset, std::string_view bytes) {
    const Collation* c = defaultCollationOf(charset);
    EXPECT_NE(c, nullptr) << charset;
    return c != nullptr && convertsBack(c->id, bytes);
  };
  // Twins: both codes are one character, which goes back as one of them.
  EXPECT_FALSE(back("cp932", "\x87\x90"));  // NEC's U+2252 goes back as 0x81E0
  EXPECT_TRUE(back("cp932", "\x81\xe0"));
  EXPECT_FALSE(back("cp932", "ab\x93\xfa\xed\x40"));  // NEC-selected IBM extension, after text
  EXPECT_TRUE(back("cp932", "ab\x93\xfa\xfa\x5c"));   // its IBM twin (trail byte 0x5C)
  EXPECT_FALSE(back("sjis", "C:\\dir"));              // U+005C goes back as 0x815F
  EXPECT_TRUE(back("sjis", "C:\x81\x5f"));
  EXPECT_TRUE(back("sjis", "\x93\xfa\x96\x5c"));  // 0x5C as a trail byte is not a backslash
  EXPECT_FALSE(back("armscii8", "\xa4"));         // ')' like 0x29
  EXPECT_TRUE(back("armscii8", "f(x)"));
  EXPECT_FALSE(back("ujis", "\x8f\xa2\xb7"));  // 3-byte
  EXPECT_TRUE(back("ujis", "\xc6\xfc\x8f\xb0\xa1"));
  EXPECT_FALSE(back("eucjpms", "\xad\xf0"));
  // Codes the server reads as U+FFFD.
  EXPECT_FALSE(back("tis620", "\xa1\xa0"));
  EXPECT_TRUE(back("tis620", "\xa1"));
  EXPECT_FALSE(back("big5", "\xa4\xa4\xa1\x5a"));
  EXPECT_TRUE(back("big5", "\xa4\xa4\xa4\xe5"));
  // Sets without such codes, Unicode sets, and bytes that are no text of the set.
  EXPECT_TRUE(back("latin1", "\x81\x8d\xff"));
  EXPECT_TRUE(back("gbk", "\xd6\xd0"));
  EXPECT_TRUE(back("utf8mb4", "\xe2\x89\x92"));
  EXPECT_TRUE(back("cp932", "\x87"));  // truncated: appendUtf8 rejects it, not this question
}

TEST(CharsetConvertTest, UnicodeSets) {
  EXPECT_EQ(conv("utf8mb4", "é😀"), "é😀");
  EXPECT_EQ(conv("utf8mb3", "é😀"), "<invalid@2>");  // 4-byte sequence in utf8mb3
  EXPECT_EQ(conv("utf8", "é"), "é");
  EXPECT_EQ(conv("utf8mb4", "a\xed\xa0\x80"), "<invalid@1>");     // a surrogate (MariaDB stores it)
  EXPECT_EQ(conv("utf8mb4", "\xc0\x80"), "<invalid@0>");          // overlong
  EXPECT_EQ(conv("utf8mb4", "\xf4\x90\x80\x80"), "<invalid@0>");  // above U+10FFFF
  EXPECT_EQ(conv("utf8mb4", "ab\xe4\xb8"), "<invalid@2>");        // truncated
  EXPECT_EQ(conv("utf16", std::string("\x00\x41\x00\xe9\xd8\x3d\xde\x00", 8)), "Aé😀");
  EXPECT_EQ(conv("utf16", std::string("\x00\x41\xdc\x00", 4)), "<invalid@2>");  // lone low
  EXPECT_EQ(conv("utf16", std::string("\xd8\x3d\x00\x41", 4)), "<invalid@0>");  // lone high
  EXPECT_EQ(conv("utf16", std::string("\x00\x41\x00", 3)), "<invalid@2>");      // odd length
  EXPECT_EQ(conv("utf16le", std::string("\x41\x00\x3d\xd8\x00\xde", 6)), "A😀");
  EXPECT_EQ(conv("utf32", std::string("\x00\x01\xf6\x00\x00\x00\x00\x41", 8)), "😀A");
  EXPECT_EQ(conv("utf32", std::string("\x00\x11\x00\x00", 4)), "<invalid@0>");
  EXPECT_EQ(conv("utf32", std::string("\x00\x00\xd8\x00", 4)), "<invalid@0>");
  EXPECT_EQ(conv("utf32", std::string("\x00\x00\x41", 3)), "<invalid@0>");
  EXPECT_EQ(conv("ucs2", std::string("\x00\xe9\x4e\x2d", 4)), "é中");
  EXPECT_EQ(conv("ucs2", std::string("\xd8\x3d\xde\x00", 4)), "<invalid@0>");  // no pairs
  EXPECT_EQ(conv("binary", "x"), "<binary>");
  EXPECT_EQ(conv("gb18030", "x"), "<unsupported>");
  EXPECT_EQ(conv("nosuch", "x"), "<unsupported>");
  EXPECT_EQ(conv("utf16", ""), "");
}

TEST(CharsetConvertTest, ByCollationId) {
  std::string out;
  EXPECT_EQ(appendUtf8(uint16_t{28}, "\xd6\xd0", &out), TextConversion::kConverted);  // gbk
  EXPECT_EQ(out, "中");
  EXPECT_EQ(appendUtf8(uint16_t{0}, "x", &out), TextConversion::kUnsupported);
  EXPECT_EQ(appendUtf8(uint16_t{63}, "x", &out), TextConversion::kBinary);
  EXPECT_EQ(appendUtf8(uint16_t{248}, "x", &out), TextConversion::kUnsupported);  // gb18030
  EXPECT_EQ(appendUtf8(uint16_t{60000}, "x", &out), TextConversion::kUnsupported);
  EXPECT_EQ(out, "中");
  EXPECT_EQ(utf8MaxBytes(45), 4);   // utf8mb4_general_ci
  EXPECT_EQ(utf8MaxBytes(33), 3);   // utf8mb3_general_ci
  EXPECT_EQ(utf8MaxBytes(8), 0);    // latin1
  EXPECT_EQ(utf8MaxBytes(255), 4);  // MySQL 8 utf8mb4_0900_ai_ci
}

// Every character set of every collation the server knows converts, except binary and the
// MySQL-only gb18030: a character set added to collations.inc but not to charsets.inc (rerun
// scripts/gen-charsets.py) fails here.
TEST(CharsetConvertTest, EveryKnownCharsetConverts) {
  std::set<std::string> charsets, missing;
  for (uint32_t id = 1; id < 65536; ++id) {
    const Collation* c = findCollation(static_cast<uint16_t>(id));
    if (c == nullptr) continue;
    std::string cs = c->charset;
    charsets.insert(cs);
    if (cs == "binary" || cs == "gb18030") {
      EXPECT_FALSE(canConvertToUtf8(static_cast<uint16_t>(id))) << c->name;
      continue;
    }
    if (!canConvertToUtf8(static_cast<uint16_t>(id))) missing.insert(cs);
  }
  EXPECT_TRUE(missing.empty()) << *missing.begin();
  EXPECT_GE(charsets.size(), 40u);
}

TEST(CharsetConvertTest, Utf8Validation) {
  EXPECT_EQ(firstInvalidUtf8("plain ascii, long enough for the word loop"), 42u);
  EXPECT_EQ(firstInvalidUtf8("0123456789\xff"), 10u);
  EXPECT_EQ(firstInvalidUtf8("\xe0\x80\x80"), 0u);  // overlong 3-byte
  EXPECT_EQ(firstInvalidUtf8("\xf0\x9f\x98\x80", 3), 0u);
  EXPECT_EQ(firstInvalidUtf8("\xf0\x9f\x98\x80", 4), 4u);
  EXPECT_EQ(firstInvalidUtf8("\xf8\x88\x80\x80\x80"), 0u);  // 5-byte form
}

}  // namespace
}  // namespace dts::mysql
