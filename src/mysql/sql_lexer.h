// SqlLexer: the tokens of one MySQL/MariaDB SQL statement, for the code that reads DDL text
// (the schema tracker, DDL rewriting, the schema copier). It follows the server's lexical rules
// (https://dev.mysql.com/doc/refman/8.0/en/lexical-structure.html,
// https://mariadb.com/kb/en/comment-syntax/) closely enough to find names, literals and comments
// reliably; it is not a parser and knows no keywords.
//
// Tokens:
//   kWord               a run of ASCII letters, digits, '_', '$' and bytes >= 0x80 that is not a
//                       number: a keyword or an unquoted identifier (text as written; compare
//                       keywords with equalsIgnoreCase). _utf8mb4'x', N'x', X'0A' lex as a word
//                       followed by a string.
//   kQuotedIdentifier   `name` with `` for a backquote inside; "name" too when ansi_quotes. text
//                       is the name, unquoted. No backslash escapes (as in the server).
//   kString             'text', and "text" unless ansi_quotes. text is the value: doubled quotes
//                       and backslash escapes decoded as the server does (\0 \b \n \r \t \Z \\ \'
//                       \" give the byte they name, \% and \_ keep their backslash, \x gives x)
//                       unless no_backslash_escapes.
//   kNumber             12, 1.5, 1e-3, 1.5E+10, 0x1F, 0b101 (not followed by a word byte: 1e3x
//                       and 0x1G are words). A leading '.' or sign is punctuation of its own.
//   kPunct              any other single byte (operators of two bytes are two tokens).
//   kExecutableComment  /*! ... */ or /*M! ... */ (optionally with a version: /*!50100 ...*/).
//                       Always returned, never skipped or expanded by the lexer: its content is
//                       code the server runs or ignores depending on who it is and its version.
//                       A caller that reads the statement opens it as the server that ran it did
//                       (executableCode, openExecutableComments: options.server_version).
//   kComment            -- to end of line (the second dash followed by a space, a control byte or
//                       the end), # to end of line, /* ... */ (not nested, as in the server);
//                       the line end is not part of the comment. Only with keep_trivia.
//   kSpace              a run of ASCII whitespace. Only with keep_trivia.
// Every token's [begin, end) is its byte span in the statement; with keep_trivia the spans of
// all tokens are contiguous and cover the whole statement.
//
// Errors (kInvalidArgument, naming the byte offset): an unterminated quoted identifier, string or
// /* comment. Input is untrusted: any bytes are accepted, nothing is read out of bounds.
// Thread-safety: a SqlLexer is used by one thread; it holds a view of `sql`, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dts::mysql {

enum class SqlTokenKind : uint8_t {
  kWord,
  kQuotedIdentifier,
  kString,
  kNumber,
  kPunct,
  kExecutableComment,
  kComment,
  kSpace,
};

struct SqlToken {
  SqlTokenKind kind = SqlTokenKind::kPunct;
  size_t begin = 0;  // byte span in the statement, quotes and comment markers included
  size_t end = 0;
  std::string text;  // see the kinds above; the raw span for numbers, punctuation, comments

  bool isWord(std::string_view keyword) const;  // a kWord equal to keyword, ignoring ASCII case
  bool isPunct(char c) const {
    return kind == SqlTokenKind::kPunct && text.size() == 1 && text[0] == c;
  }
  // A word or a quoted identifier: something that can be a name.
  bool isName() const {
    return kind == SqlTokenKind::kWord || kind == SqlTokenKind::kQuotedIdentifier;
  }
};

struct SqlLexerOptions {
  bool ansi_quotes = false;           // sql_mode ANSI_QUOTES: "x" is an identifier
  bool no_backslash_escapes = false;  // sql_mode NO_BACKSLASH_ESCAPES: '\' is an ordinary byte
  bool keep_trivia = false;           // also return kSpace and kComment tokens
  // The server that ran the statement, for the executable comments it ran (executableCode): its
  // version as major * 10000 + minor * 100 + patch (mysql::serverVersionNumber in event_header.h; 0
  // when unknown: every comment's code counts, as on a server of today) and whether it is MySQL,
  // which reads
  // /*M! ... */ as a plain comment.
  uint32_t server_version = 0;
  bool mysql_server = false;
};

class SqlLexer {
 public:
  explicit SqlLexer(std::string_view sql, SqlLexerOptions options = {})
      : s_(sql), options_(options) {}

  // The next token, or nullopt at the end of the statement. After an error the lexer stays at
  // the error (calling again returns it again).
  Result<std::optional<SqlToken>> next();

  // Byte offset of the next unread byte.
  size_t offset() const { return i_; }

 private:
  Result<SqlToken> lexOne();
  Result<SqlToken> quoted(char quote, SqlTokenKind kind);

  std::string_view s_;
  SqlLexerOptions options_;
  size_t i_ = 0;
};

// Every token of sql (see SqlLexer::next for the errors).
Result<std::vector<SqlToken>> lexSql(std::string_view sql, SqlLexerOptions options = {});

// The code of an executable comment (a kExecutableComment token of sql), as a byte span of sql,
// when the server of `options` runs it; nullopt when it does not. As the servers read them
// (checked against MariaDB 10.11): /*! X */ always runs; /*!NNNNN X */ and /*!NNNNNN X */ (the
// version in 5 or 6 digits; fewer digits are code) run when the server's version is at least
// NNNNN, except that MariaDB never runs 50700-99999 (MySQL 5.7 and 8.0's own features);
// /*M! X */ and /*M!NNNNNN X */ run on MariaDB only.
std::optional<std::pair<size_t, size_t>> executableCode(std::string_view sql,
                                                        const SqlToken& comment,
                                                        const SqlLexerOptions& options);

// The statement as the server of `options` ran it: each executable comment replaced by its code
// between spaces when that server runs it, and by one space when not (executableCode); sql
// unchanged when it has none. Lexing errors as lexSql's; kInvalidArgument for an executable
// comment inside another's code.
Result<std::string> openExecutableComments(std::string_view sql, SqlLexerOptions options);

// A read position in a statement's tokens, for the code that reads DDL: keywords are compared
// ignoring ASCII case; reading past the end finds nothing. The tokens must outlive the cursor.
class SqlTokenCursor {
 public:
  explicit SqlTokenCursor(const std::vector<SqlToken>& tokens) : t_(&tokens) {}

  bool atEnd() const { return p_ >= t_->size(); }
  // The token k places ahead is the word.
  bool isWord(std::string_view keyword, size_t k = 0) const {
    return p_ + k < t_->size() && (*t_)[p_ + k].isWord(keyword);
  }
  // Moves past the word (or the punctuation) when it is next; false otherwise.
  bool accept(std::string_view keyword) {
    if (!isWord(keyword)) return false;
    ++p_;
    return true;
  }
  bool acceptPunct(char c) {
    if (atEnd() || !(*t_)[p_].isPunct(c)) return false;
    ++p_;
    return true;
  }
  const SqlToken* peek(size_t k = 0) const {
    return p_ + k < t_->size() ? &(*t_)[p_ + k] : nullptr;
  }

  // [db.]name at the cursor, moved past; nullopt (the cursor unmoved) when the next token is no
  // name. After the dot the server reads a name even when it starts like a number (`d`.123).
  struct QualifiedName {
    std::string db;  // empty for an unqualified name
    std::string name;
    size_t begin = 0, end = 0;  // its byte span in the statement
  };
  std::optional<QualifiedName> acceptQualifiedName() {
    const std::vector<SqlToken>& t = *t_;
    if (p_ >= t.size() || !t[p_].isName()) return std::nullopt;
    QualifiedName n;
    n.name = t[p_].text;
    n.begin = t[p_].begin;
    n.end = t[p_].end;
    ++p_;
    if (p_ + 1 < t.size() && t[p_].isPunct('.') &&
        (t[p_ + 1].isName() || t[p_ + 1].kind == SqlTokenKind::kNumber)) {
      n.db = std::move(n.name);
      n.name = t[p_ + 1].text;
      n.end = t[p_ + 1].end;
      p_ += 2;
    }
    return n;
  }
  void skip() { ++p_; }
  size_t pos() const { return p_; }
  void seek(size_t p) { p_ = p; }
  const std::vector<SqlToken>& tokens() const { return *t_; }

 protected:
  const std::vector<SqlToken>* t_;
  size_t p_ = 0;
};

}  // namespace dts::mysql
