#include "pipeline/statement_dml.h"

#include <initializer_list>

#include "common/strings.h"

namespace dts::pipeline {
namespace {

using mysql::SqlToken;
using mysql::SqlTokenKind;

class Reader : public mysql::SqlTokenCursor {
 public:
  Reader(const std::vector<SqlToken>& t, std::string_view default_db)
      : SqlTokenCursor(t), default_db_(default_db) {}

  // The end of the statement, a closing ';' included.
  bool done() const { return atEnd() || (peek()->isPunct(';') && p_ + 1 == tokens().size()); }
  bool isAnyWord(std::initializer_list<std::string_view> words, size_t k = 0) const {
    for (std::string_view w : words)
      if (isWord(w, k)) return true;
    return false;
  }
  void skipWords(std::initializer_list<std::string_view> words) {
    while (isAnyWord(words)) skip();
  }

  // Up to and past the next ')': an index hint's or a PARTITION's list, USING's columns.
  void skipPastClosingParenthesis() {
    while (!done() && !peek()->isPunct(')')) skip();
    skip();
  }

  // [db.]name at the cursor, the default database filled in; false when there is none.
  bool qualified(std::pair<std::string, std::string>* out) {
    auto n = acceptQualifiedName();
    if (!n) return false;
    *out = {n->db.empty() ? std::string(default_db_) : std::move(n->db), std::move(n->name)};
    // DELETE t.* FROM ...
    if (peek() != nullptr && peek()->isPunct('.') && peek(1) != nullptr && peek(1)->isPunct('*'))
      p_ += 2;
    return true;
  }

  // Table references (UPDATE's, a multi-table DELETE's) up to a word of `until` at depth 0:
  // every table named, join conditions and index hints skipped, aliases left out.
  bool references(std::initializer_list<std::string_view> until, StatementDml* out) {
    const std::initializer_list<std::string_view> kJoin = {
        "JOIN", "INNER", "LEFT", "RIGHT", "OUTER", "CROSS", "NATURAL", "STRAIGHT_JOIN"};
    while (!done() && !isAnyWord(until)) {
      const SqlToken* t = peek();
      if (t->isPunct(',') || isAnyWord(kJoin)) {
        skip();
      } else if (t->isPunct('(')) {
        // A derived table or a parenthesised join: read inside.
        skip();
        if (isWord("SELECT") || isWord("WITH")) return false;
      } else if (t->isPunct(')')) {
        skip();
      } else if (isWord("ON")) {
        // A join condition: up to the next join or the end of the references.
        int depth = 0;
        skip();
        while (!done() &&
               !(depth == 0 && (isAnyWord(kJoin) || isAnyWord(until) || peek()->isPunct(',')))) {
          if (peek()->isPunct('(')) ++depth;
          if (peek()->isPunct(')') && --depth < 0) break;
          skip();
        }
      } else if (isWord("USING") && peek(1) != nullptr && peek(1)->isPunct('(')) {
        skipPastClosingParenthesis();
      } else if (isAnyWord({"USE", "FORCE", "IGNORE"}) &&
                 isAnyWord({"INDEX", "KEY"}, 1)) {  // an index hint: USE INDEX (...)
        skipPastClosingParenthesis();
      } else if (t->isName()) {
        std::pair<std::string, std::string> name;
        if (!qualified(&name)) return false;
        out->targets.push_back(std::move(name));
        // An alias: [AS] name.
        if (accept("AS")) {
          if (peek() == nullptr || !peek()->isName()) return false;
          skip();
        } else if (peek() != nullptr && peek()->kind == SqlTokenKind::kQuotedIdentifier) {
          skip();
        } else if (peek() != nullptr && peek()->kind == SqlTokenKind::kWord && !isAnyWord(kJoin) &&
                   !isAnyWord(until) &&
                   !isAnyWord({"ON", "USING", "USE", "FORCE", "IGNORE", "PARTITION"})) {
          skip();
        }
        if (accept("PARTITION")) {
          skipPastClosingParenthesis();
        }
      } else {
        return false;
      }
    }
    return true;
  }

 private:
  std::string_view default_db_;
};

bool readTargets(Reader& r, const std::string& verb, StatementDml* out) {
  if (verb == "INSERT" || verb == "REPLACE") {
    r.skipWords({"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"});
    r.accept("INTO");
    std::pair<std::string, std::string> name;
    if (!r.qualified(&name)) return false;
    out->targets.push_back(std::move(name));
    return true;
  }
  if (verb == "LOAD") {  // LOAD DATA|XML ... INTO TABLE name
    while (!r.done() && !(r.isWord("INTO") && r.isWord("TABLE", 1))) r.skip();
    if (r.done()) return false;
    r.skip();
    r.skip();
    std::pair<std::string, std::string> name;
    if (!r.qualified(&name)) return false;
    out->targets.push_back(std::move(name));
    return true;
  }
  if (verb == "UPDATE") {
    r.skipWords({"LOW_PRIORITY", "IGNORE"});
    return r.references({"SET"}, out) && r.isWord("SET");
  }
  if (verb == "DELETE") {
    r.skipWords({"LOW_PRIORITY", "QUICK", "IGNORE"});
    const std::initializer_list<std::string_view> kTail = {
        "WHERE", "ORDER", "LIMIT", "RETURNING", "USING", "FROM", "PARTITION", "FOR"};
    if (r.accept("FROM")) {
      // DELETE FROM t [USING references] | DELETE FROM t1, t2 USING references
      if (!r.references(kTail, out)) return false;
      if (r.accept("USING")) return r.references({"WHERE", "ORDER", "LIMIT", "RETURNING"}, out);
      return true;
    }
    // DELETE t1, t2 FROM references: t1 may be an alias, so every table of the references too.
    if (!r.references({"FROM"}, out) || !r.accept("FROM")) return false;
    return r.references({"WHERE", "ORDER", "LIMIT", "RETURNING"}, out);
  }
  return false;  // SELECT, DO, CALL, WITH: what they write is not in the text
}

}  // namespace

std::optional<StatementDml> statementDml(std::string_view sql, std::string_view default_db,
                                         mysql::SqlLexerOptions lex) {
  const std::initializer_list<std::string_view> kVerbs = {
      "INSERT", "REPLACE", "UPDATE", "DELETE", "LOAD", "SELECT", "DO", "CALL", "WITH"};
  auto tokens = mysql::lexSql(sql, lex);
  std::string verb;
  size_t first = 0;  // the verb's token
  if (tokens.ok()) {
    // The first word, comments aside, past an opening parenthesis ("(SELECT f())").
    while (first < tokens->size() && (*tokens)[first].isPunct('(')) ++first;
    if (first < tokens->size() && (*tokens)[first].kind == SqlTokenKind::kWord)
      verb = toUpper((*tokens)[first].text);
  } else {
    // Unreadable text: its first word as written.
    std::string_view s = trimLeft(sql);
    size_t n = 0;
    while (n < s.size() && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z'))) ++n;
    verb = toUpper(s.substr(0, n));
  }
  bool dml = false;
  for (std::string_view v : kVerbs) dml = dml || verb == v;
  if (!dml) return std::nullopt;
  StatementDml out;
  out.verb = verb;
  bool read = tokens.ok();
  if (read) {
    for (const SqlToken& t : *tokens) read = read && t.kind != SqlTokenKind::kExecutableComment;
  }
  if (read && verb == "LOAD") {
    const bool data = first + 1 < tokens->size() &&
                      ((*tokens)[first + 1].isWord("DATA") || (*tokens)[first + 1].isWord("XML"));
    if (!data) return std::nullopt;  // LOAD INDEX INTO CACHE
  }
  if (read) {
    Reader r(*tokens, default_db);
    r.seek(first + 1);
    read = readTargets(r, verb, &out);
  }
  if (!read) {
    out.targets.clear();
    out.unknown_targets = true;
  }
  return out;
}

}  // namespace dts::pipeline
