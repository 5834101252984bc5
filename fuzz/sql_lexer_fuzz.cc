// libFuzzer target over the SQL lexer (mysql/sql_lexer.h) that reads DDL from the binlog.
// Input: the first byte picks the options (bit 0 ANSI_QUOTES, bit 1 NO_BACKSLASH_ESCAPES), the
// rest is the statement. Checked, beyond "never crashes, never reads out of bounds":
//   - with trivia kept, the tokens' spans are contiguous and cover the whole input, and every
//     raw-text token's text is its span;
//   - without trivia, the tokens are exactly the non-trivia tokens of the first run, and the
//     lexer fails exactly when the first run failed;
//   - round trip: a quoted identifier or string, quoted again canonically, lexes back to one
//     token of the same kind and text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mysql/sql_lexer.h"

using namespace dts;
using mysql::SqlLexerOptions;
using mysql::SqlToken;
using mysql::SqlTokenKind;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool isTrivia(SqlTokenKind k) {
  return k == SqlTokenKind::kSpace || k == SqlTokenKind::kComment;
}

std::string quoted(const SqlToken& t, SqlLexerOptions o) {
  const char q = t.kind == SqlTokenKind::kQuotedIdentifier ? '`' : '\'';
  std::string out(1, q);
  for (char c : t.text) {
    if (c == q) out.push_back(q);  // doubled
    if (c == '\\' && t.kind == SqlTokenKind::kString && !o.no_backslash_escapes) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back(q);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  SqlLexerOptions o;
  o.ansi_quotes = (data[0] & 1) != 0;
  o.no_backslash_escapes = (data[0] & 2) != 0;
  const std::string_view sql(reinterpret_cast<const char*>(data + 1), size - 1);

  SqlLexerOptions with_trivia = o;
  with_trivia.keep_trivia = true;
  auto all = mysql::lexSql(sql, with_trivia);
  auto bare = mysql::lexSql(sql, o);
  check(all.ok() == bare.ok());
  if (!all.ok()) return 0;

  size_t at = 0, j = 0;
  for (const SqlToken& t : *all) {
    check(t.begin == at && t.end > t.begin && t.end <= sql.size());
    at = t.end;
    const std::string_view span = sql.substr(t.begin, t.end - t.begin);
    if (t.kind != SqlTokenKind::kQuotedIdentifier && t.kind != SqlTokenKind::kString) {
      check(t.text == span);
    }
    if (isTrivia(t.kind)) continue;
    check(j < bare->size());
    const SqlToken& b = (*bare)[j++];
    check(b.kind == t.kind && b.begin == t.begin && b.end == t.end && b.text == t.text);
    if (t.kind == SqlTokenKind::kQuotedIdentifier || t.kind == SqlTokenKind::kString) {
      SqlLexerOptions plain = o;
      plain.ansi_quotes = false;  // canonical quoting uses ` and '
      auto again = mysql::lexSql(quoted(t, plain), plain);
      check(again.ok() && again->size() == 1);
      check((*again)[0].kind == t.kind && (*again)[0].text == t.text);
    }
  }
  check(at == sql.size());
  check(j == bare->size());
  return 0;
}
