#include "mysql/collations.h"

#include <gtest/gtest.h>

#include <string_view>

namespace dts::mysql {
namespace {

TEST(CollationsTest, KnownIdsFromTheServerTables) {
  const Collation* c = findCollation(45);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(std::string_view(c->charset), "utf8mb4");
  EXPECT_EQ(std::string_view(c->name), "utf8mb4_general_ci");
  EXPECT_EQ(c->max_bytes, 4);
  EXPECT_EQ(std::string_view(findCollation(8)->name), "latin1_swedish_ci");
  EXPECT_EQ(std::string_view(findCollation(63)->charset), "binary");
  EXPECT_EQ(std::string_view(findCollation(1032)->name), "latin1_swedish_nopad_ci");
  EXPECT_EQ(std::string_view(findCollation(2048)->charset), "utf8mb3");  // MariaDB UCA 14.0
}

TEST(CollationsTest, MySqlOnlyIdsFromTheSupplement) {
  EXPECT_EQ(std::string_view(findCollation(255)->name), "utf8mb4_0900_ai_ci");
  EXPECT_EQ(std::string_view(findCollation(309)->name), "utf8mb4_0900_bin");
  EXPECT_EQ(std::string_view(findCollation(248)->charset), "gb18030");
  EXPECT_EQ(std::string_view(findCollation(76)->charset), "utf8mb3");
}

TEST(CollationsTest, UnknownIds) {
  EXPECT_EQ(findCollation(0), nullptr);
  EXPECT_EQ(findCollation(17), nullptr);  // never assigned
  EXPECT_EQ(findCollation(65535), nullptr);
}

TEST(CollationsTest, CharsetFamilies) {
  EXPECT_EQ(charsetOfCollation(0), Charset::kUnknown);
  EXPECT_EQ(charsetOfCollation(63), Charset::kBinary);
  EXPECT_EQ(charsetOfCollation(45), Charset::kUtf8);
  EXPECT_EQ(charsetOfCollation(33), Charset::kUtf8);
  EXPECT_EQ(charsetOfCollation(255), Charset::kUtf8);
  EXPECT_EQ(charsetOfCollation(2048), Charset::kUtf8);
  EXPECT_EQ(charsetOfCollation(8), Charset::kLatin1);
  EXPECT_EQ(charsetOfCollation(1032), Charset::kLatin1);  // latin1_swedish_nopad_ci
  EXPECT_EQ(charsetOfCollation(11), Charset::kAscii);
  EXPECT_EQ(charsetOfCollation(28), Charset::kOther);  // gbk
  EXPECT_EQ(charsetOfCollation(17), Charset::kOther);  // unknown: bytes, never guessed
  EXPECT_EQ(charsetOfCollation(60000), Charset::kOther);
}

// The generated data and the supplement are sorted (binary search) and disjoint.
TEST(CollationsTest, EveryIdUpToTheLargestResolvesConsistently) {
  for (uint32_t id = 1; id < 4096; ++id) {
    const Collation* c = findCollation(static_cast<uint16_t>(id));
    if (c == nullptr) continue;
    EXPECT_EQ(c->id, id);
    EXPECT_NE(charsetOfCollation(static_cast<uint16_t>(id)), Charset::kUnknown);
  }
}

}  // namespace
}  // namespace dts::mysql

namespace dts::mysql {
namespace {

TEST(CollationByNameTest, FindsNamesCaseInsensitivelyAndReadsUtf8AsUtf8mb3) {
  ASSERT_NE(findCollationByName("LATIN1_SWEDISH_CI"), nullptr);
  EXPECT_EQ(findCollationByName("latin1_swedish_ci")->id, 8);
  EXPECT_EQ(findCollationByName("utf8_general_ci"), findCollationByName("utf8mb3_general_ci"));
  EXPECT_EQ(findCollationByName("utf8mb4_0900_ai_ci")->id, 255);  // MySQL-only id
  EXPECT_EQ(findCollationByName("no_such_collation"), nullptr);
}

TEST(CollationByNameTest, DefaultCollationOfACharacterSet) {
  EXPECT_EQ(std::string(defaultCollationOf("latin1")->name), "latin1_swedish_ci");
  EXPECT_EQ(std::string(defaultCollationOf("UTF8")->name), "utf8mb3_general_ci");
  EXPECT_EQ(std::string(defaultCollationOf("binary")->name), "binary");
  EXPECT_EQ(defaultCollationOf("klingon"), nullptr);
  EXPECT_EQ(canonicalCharset("Utf8"), "utf8mb3");
}

}  // namespace
}  // namespace dts::mysql
