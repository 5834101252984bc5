#include "common/strings.h"

#include <gtest/gtest.h>

namespace dts {
namespace {

TEST(StringsTest, Trim) {
  struct Case {
    std::string_view in, left, right, both;
  };
  for (const Case& c :
       {Case{"  a b \t\r\n", "a b \t\r\n", "  a b", "a b"}, Case{"\v\fx", "x", "\v\fx", "x"},
        Case{"", "", "", ""}, Case{" \t ", "", "", ""}}) {
    EXPECT_EQ(trimLeft(c.in), c.left);
    EXPECT_EQ(trimRight(c.in), c.right);
    EXPECT_EQ(trim(c.in), c.both);
  }
}

TEST(StringsTest, CaseIsAsciiOnly) {
  EXPECT_EQ(toLower("AbC-09_\xC3\x89"), "abc-09_\xC3\x89");
  EXPECT_EQ(toUpper("aBc\xC3\xA9"), "ABC\xC3\xA9");
  EXPECT_TRUE(equalsIgnoreCase("Primary", "PRIMARY"));
  EXPECT_FALSE(equalsIgnoreCase("PRIMARY", "PRIMAR"));
  EXPECT_FALSE(equalsIgnoreCase("a", "b"));
}

TEST(StringsTest, SplitKeepsEmptyPieces) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split("a,", ','), (std::vector<std::string_view>{"a", ""}));
  EXPECT_EQ(split("abc", ','), (std::vector<std::string_view>{"abc"}));
}

TEST(StringsTest, StartsWithWord) {
  EXPECT_TRUE(startsWithWord("commit", "COMMIT"));
  EXPECT_TRUE(startsWithWord("COMMIT;", "COMMIT"));
  EXPECT_TRUE(startsWithWord("Start Transaction read only", "START TRANSACTION"));
  EXPECT_FALSE(startsWithWord("COMMITTED", "COMMIT"));
  EXPECT_FALSE(startsWithWord("COMM", "COMMIT"));
  EXPECT_FALSE(startsWithWord(" COMMIT", "COMMIT"));
}

TEST(StringsTest, ExcerptIsOneLineAndCutAtACharacter) {
  EXPECT_EQ(excerpt("  CREATE TABLE t(\n  id INT,\r\n\tv TEXT)  "),
            "CREATE TABLE t( id INT, v TEXT)");
  EXPECT_EQ(excerpt("abcdef", 6), "abcdef");
  EXPECT_EQ(excerpt("abcdefg", 6), "abcdef...");
  EXPECT_EQ(excerpt("abc   defg", 4), "abc...");
  // "é" is two bytes: a cut inside it drops it whole; a cut after it keeps it.
  EXPECT_EQ(excerpt("ab\xC3\xA9z", 3), "ab...");
  EXPECT_EQ(excerpt("ab\xC3\xA9z", 4), "ab\xC3\xA9...");
  // "😀" is four bytes.
  EXPECT_EQ(excerpt("a\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 7), "a\xF0\x9F\x98\x80...");
}

}  // namespace
}  // namespace dts
