#include "mysql/sql_lexer.h"

#include <gtest/gtest.h>

namespace dts::mysql {
namespace {

using K = SqlTokenKind;

std::vector<SqlToken> lex(std::string_view sql, SqlLexerOptions o = {}) {
  auto r = lexSql(sql, o);
  EXPECT_TRUE(r.ok()) << r.status().toString();
  return r.ok() ? std::move(r).value() : std::vector<SqlToken>{};
}

// "kind:text" per token, for compact expectations.
std::string show(std::string_view sql, SqlLexerOptions o = {}) {
  std::string out;
  for (const SqlToken& t : lex(sql, o)) {
    static const char* kNames[] = {"w", "id", "s", "n", "p", "x", "c", "sp"};
    if (!out.empty()) out += ' ';
    out += std::string(kNames[static_cast<int>(t.kind)]) + ":" + t.text;
  }
  return out;
}

TEST(SqlLexerTest, WordsIdentifiersAndPunctuation) {
  EXPECT_EQ(show("ALTER TABLE `we``ird`.t_1$ ADD x"),
            "w:ALTER w:TABLE id:we`ird p:. w:t_1$ w:ADD w:x");
  EXPECT_EQ(show("drop table caf\xC3\xA9"), "w:drop w:table w:caf\xC3\xA9");
  EXPECT_EQ(show("a<=b;"), "w:a p:< p:= w:b p:;");
  EXPECT_EQ(show("``"), "id:");
}

TEST(SqlLexerTest, SpansPointIntoTheStatement) {
  std::string sql = "RENAME TABLE `a` TO b";
  auto t = lex(sql);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(sql.substr(t[2].begin, t[2].end - t[2].begin), "`a`");
  EXPECT_EQ(sql.substr(t[4].begin, t[4].end - t[4].begin), "b");
  EXPECT_TRUE(t[0].isWord("rename"));
  EXPECT_TRUE(t[2].isName());
  EXPECT_FALSE(t[2].isWord("a"));
}

TEST(SqlLexerTest, Strings) {
  EXPECT_EQ(show(R"('it''s' "say ""hi""" 'a\'b\\c')"), R"(s:it's s:say "hi" s:a'b\c)");
  auto t = lex(R"('\0\b\n\r\t\Z\%\_\q')");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].text, std::string("\0\b\n\r\t\x1a\\%\\_q", 11));
  EXPECT_EQ(show(R"('a\' b '')", {.no_backslash_escapes = true}), R"(s:a\ w:b s:)");
  EXPECT_EQ(show(R"('x''')", {.no_backslash_escapes = true}), "s:x'");
  EXPECT_EQ(show("_utf8mb4'x' X'0A'"), "w:_utf8mb4 s:x w:X s:0A");
}

TEST(SqlLexerTest, AnsiQuotesMakeDoubleQuotesNames) {
  EXPECT_EQ(show(R"("a""b" 'c')", {.ansi_quotes = true}), R"(id:a"b s:c)");
  EXPECT_EQ(show(R"("a\" x)", {.ansi_quotes = true}), R"(id:a\ w:x)");
}

TEST(SqlLexerTest, Numbers) {
  EXPECT_EQ(show("1 12.5 1e3 1.5E+10 2e-3 0x1F 0b101"),
            "n:1 n:12.5 n:1e3 n:1.5E+10 n:2e-3 n:0x1F n:0b101");
  // Identifiers may start with digits.
  EXPECT_EQ(show("2024_sales 1e3x 0x1G 0b2 0x"), "w:2024_sales w:1e3x w:0x1G w:0b2 w:0x");
  EXPECT_EQ(show("-.5 1."), "p:- p:. n:5 n:1 p:.");
}

TEST(SqlLexerTest, CommentsAreSkippedUnlessAsked) {
  EXPECT_EQ(show("a -- x\nb # y\nc /* z */ d --\te --"), "w:a w:b w:c w:d");
  EXPECT_EQ(show("a --x"), "w:a p:- p:- w:x");  // not a comment without the space
  EXPECT_EQ(show("a/*+ hint */b", {.keep_trivia = true}), "w:a c:/*+ hint */ w:b");
  EXPECT_EQ(show("a -- x\nb", {.keep_trivia = true}), "w:a sp:  c:-- x sp:\n w:b");
  EXPECT_EQ(show("a /* -- ' ` */ b"), "w:a w:b");
}

TEST(SqlLexerTest, ExecutableCommentsAreTokensOfTheirOwn) {
  EXPECT_EQ(show("/*!40000 ALTER TABLE t DISABLE KEYS */"),
            "x:/*!40000 ALTER TABLE t DISABLE KEYS */");
  EXPECT_EQ(show("CREATE /*M!100100 OR REPLACE */ TABLE t"),
            "w:CREATE x:/*M!100100 OR REPLACE */ w:TABLE w:t");
  EXPECT_EQ(show("a /*M not executable */ b"), "w:a w:b");
}

TEST(SqlLexerTest, TriviaCoversTheInput) {
  std::string sql = " SELECT `a`,'b' -- c\n/* d */#e\n1.5\t";
  auto t = lex(sql, {.keep_trivia = true});
  size_t at = 0;
  for (const SqlToken& tok : t) {
    EXPECT_EQ(tok.begin, at);
    at = tok.end;
  }
  EXPECT_EQ(at, sql.size());
}

TEST(SqlLexerTest, UnterminatedThingsAreErrorsNamingTheOffset) {
  for (std::string_view bad : {"ALTER TABLE `x", "SELECT 'x", "SELECT 'x\\", "SELECT \"x",
                               "a /* never closed", "a /*! never closed", "a /*/"}) {
    auto r = lexSql(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("unterminated"), std::string::npos);
    EXPECT_NE(r.status().message().find("byte "), std::string::npos);
  }
  auto r = lexSql("ok `x");
  EXPECT_NE(r.status().message().find("quoted identifier starting at byte 3"), std::string::npos)
      << r.status().toString();
  SqlLexer lx("a 'x");
  auto first = lx.next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_FALSE(lx.next().ok());
  EXPECT_FALSE(lx.next().ok());  // stays at the error
}

TEST(SqlLexerTest, EmptyAndSpaceOnly) {
  EXPECT_TRUE(lex("").empty());
  EXPECT_TRUE(lex(" \n\t").empty());
  EXPECT_EQ(lex(" \n", {.keep_trivia = true}).size(), 1u);
}

// What MariaDB 10.11.19 printed for SELECT 1 <comment>: 2 where it ran "+1", 1 where it did not.
TEST(SqlLexerTest, ExecutableCommentsOpenAsTheServerRanThem) {
  SqlLexerOptions mariadb;
  mariadb.server_version = 101119;
  auto open = [&](const std::string& comment) {
    auto r = openExecutableComments("SELECT 1 " + comment, mariadb);
    return r.ok() ? *r : "ERROR " + r.status().message();
  };
  for (const char* ran : {"/*!50699 +1 */", "/*!100000 +1*/", "/*!101119 +1*/", "/*M!100000 +1*/",
                          "/*M! +1 */", "/*!+1*/", "/*!12345+1*/", "/*!00000+1*/"}) {
    EXPECT_NE(open(ran).find("+1"), std::string::npos) << ran;
  }
  for (const char* not_ran : {"/*!50700 +1 */", "/*!80000 +1*/", "/*!99999 +1 */", "/*!101120 +1*/",
                              "/*M!101120 +1 */", "/*!1234567 +1*/"}) {
    EXPECT_EQ(open(not_ran), "SELECT 1  ") << not_ran;
  }
  EXPECT_EQ(open("/*!5 +1*/"), "SELECT 1  5 +1 ");  // the server ran "5 +1" too (and failed)
  EXPECT_EQ(open("/* plain */ -- x"), "SELECT 1 /* plain */ -- x");
  EXPECT_EQ(open("'/*!50700 x */'"), "SELECT 1 '/*!50700 x */'");  // in a string: text
  // A comment opened inside one: the server's own nesting rules are not followed.
  EXPECT_NE(open("/*!50100 a /* b */").find("unterminated"), std::string::npos);
  EXPECT_NE(open("/*!50100 a").find("unterminated"), std::string::npos);
}

}  // namespace
}  // namespace dts::mysql
