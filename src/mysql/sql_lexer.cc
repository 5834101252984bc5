#include "mysql/sql_lexer.h"

#include "common/strings.h"

namespace dts::mysql {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isHexDigit(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool isWordByte(char c) {
  return isAsciiAlnum(c) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
// What may follow "--" for it to open a comment: a space or control byte (or the end).
bool endsDashDash(char c) {
  return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
}

// The end of the number starting at s[i] (a digit), or npos when the bytes there are not a
// number but a word starting with digits.
size_t numberEnd(std::string_view s, size_t i) {
  const size_t n = s.size();
  size_t k = i;
  if (s[i] == '0' && i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') && isHexDigit(s[i + 2])) {
    k = i + 2;
    while (k < n && isHexDigit(s[k])) ++k;
  } else if (s[i] == '0' && i + 2 < n && (s[i + 1] == 'b' || s[i + 1] == 'B') &&
             (s[i + 2] == '0' || s[i + 2] == '1')) {
    k = i + 2;
    while (k < n && (s[k] == '0' || s[k] == '1')) ++k;
  } else {
    while (k < n && isDigit(s[k])) ++k;
    if (k + 1 < n && s[k] == '.' && isDigit(s[k + 1])) {
      ++k;
      while (k < n && isDigit(s[k])) ++k;
    }
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
      size_t m = k + 1;
      if (m < n && (s[m] == '+' || s[m] == '-')) ++m;
      if (m < n && isDigit(s[m])) {
        k = m;
        while (k < n && isDigit(s[k])) ++k;
      }
    }
  }
  if (k < n && isWordByte(s[k])) return std::string_view::npos;
  return k;
}

}  // namespace

bool SqlToken::isWord(std::string_view keyword) const {
  return kind == SqlTokenKind::kWord && equalsIgnoreCase(text, keyword);
}

Result<SqlToken> SqlLexer::quoted(char quote, SqlTokenKind kind) {
  const size_t start = i_;
  const size_t n = s_.size();
  const bool escapes = kind == SqlTokenKind::kString && !options_.no_backslash_escapes;
  SqlToken t;
  t.kind = kind;
  t.begin = start;
  size_t k = start + 1;
  while (true) {
    if (k >= n) {
      return Status::InvalidArgument(std::string(kind == SqlTokenKind::kString
                                                     ? "unterminated string"
                                                     : "unterminated quoted identifier") +
                                     " starting at byte " + std::to_string(start));
    }
    const char c = s_[k];
    if (c == quote) {
      if (k + 1 < n && s_[k + 1] == quote) {
        t.text.push_back(quote);
        k += 2;
        continue;
      }
      ++k;
      break;
    }
    if (c == '\\' && escapes) {
      if (k + 1 >= n) {
        k = n;  // a backslash as the last byte: reported as unterminated on the next turn
        continue;
      }
      const char e = s_[k + 1];
      switch (e) {
        case '0': t.text.push_back('\0'); break;
        case 'b': t.text.push_back('\b'); break;
        case 'n': t.text.push_back('\n'); break;
        case 'r': t.text.push_back('\r'); break;
        case 't': t.text.push_back('\t'); break;
        case 'Z': t.text.push_back('\x1a'); break;
        case '%':
        case '_':
          t.text.push_back('\\');  // LIKE wildcards keep their escape
          t.text.push_back(e);
          break;
        default: t.text.push_back(e); break;
      }
      k += 2;
      continue;
    }
    t.text.push_back(c);
    ++k;
  }
  i_ = k;
  t.end = k;
  return t;
}

Result<SqlToken> SqlLexer::lexOne() {
  const size_t start = i_;
  const size_t n = s_.size();
  const char c = s_[start];
  size_t k = start;
  SqlTokenKind kind = SqlTokenKind::kPunct;
  if (isAsciiSpace(c)) {
    while (k < n && isAsciiSpace(s_[k])) ++k;
    kind = SqlTokenKind::kSpace;
  } else if (c == '#' || (c == '-' && k + 1 < n && s_[k + 1] == '-' &&
                          (k + 2 == n || endsDashDash(s_[k + 2])))) {
    while (k < n && s_[k] != '\n') ++k;
    kind = SqlTokenKind::kComment;
  } else if (c == '/' && k + 1 < n && s_[k + 1] == '*') {
    const size_t close = s_.find("*/", k + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated /* comment starting at byte " +
                                     std::to_string(start));
    }
    const bool executable =
        (k + 2 < n && s_[k + 2] == '!') || (k + 3 < n && s_[k + 2] == 'M' && s_[k + 3] == '!');
    kind = executable ? SqlTokenKind::kExecutableComment : SqlTokenKind::kComment;
    k = close + 2;
  } else if (c == '`' || (c == '"' && options_.ansi_quotes)) {
    return quoted(c, SqlTokenKind::kQuotedIdentifier);
  } else if (c == '\'' || c == '"') {
    return quoted(c, SqlTokenKind::kString);
  } else if (isWordByte(c)) {
    const size_t number_end = isDigit(c) ? numberEnd(s_, start) : std::string_view::npos;
    if (number_end != std::string_view::npos) {
      k = number_end;
      kind = SqlTokenKind::kNumber;
    } else {
      while (k < n && isWordByte(s_[k])) ++k;
      kind = SqlTokenKind::kWord;
    }
  } else {
    k = start + 1;
  }
  i_ = k;
  SqlToken t;
  t.kind = kind;
  t.begin = start;
  t.end = k;
  // Skipped trivia needs no text.
  if (options_.keep_trivia || (kind != SqlTokenKind::kSpace && kind != SqlTokenKind::kComment)) {
    t.text.assign(s_.substr(start, k - start));
  }
  return t;
}

Result<std::optional<SqlToken>> SqlLexer::next() {
  while (i_ < s_.size()) {
    DTS_ASSIGN_OR_RETURN(SqlToken t, lexOne());
    if (!options_.keep_trivia &&
        (t.kind == SqlTokenKind::kSpace || t.kind == SqlTokenKind::kComment)) {
      continue;
    }
    return std::optional<SqlToken>(std::move(t));
  }
  return std::optional<SqlToken>();
}

Result<std::vector<SqlToken>> lexSql(std::string_view sql, SqlLexerOptions options) {
  SqlLexer lexer(sql, options);
  std::vector<SqlToken> out;
  while (true) {
    DTS_ASSIGN_OR_RETURN(std::optional<SqlToken> t, lexer.next());
    if (!t) return out;
    out.push_back(std::move(*t));
  }
}

std::optional<std::pair<size_t, size_t>> executableCode(std::string_view sql,
                                                        const SqlToken& comment,
                                                        const SqlLexerOptions& options) {
  const bool mariadb_only = sql[comment.begin + 2] == 'M';
  size_t k = comment.begin + (mariadb_only ? 4 : 3);
  const size_t close = comment.end - 2;
  if (mariadb_only && options.mysql_server) return std::nullopt;
  size_t digits = 0;
  uint32_t wanted = 0;
  while (k + digits < close && digits < 6 && isDigit(sql[k + digits]))
    wanted = wanted * 10 + static_cast<uint32_t>(sql[k + digits++] - '0');
  if (digits == 5 || digits == 6) {
    k += digits;
    if (options.server_version != 0) {
      if (wanted > options.server_version) return std::nullopt;
      if (!options.mysql_server && digits == 5 && wanted >= 50700) return std::nullopt;
    }
  }
  return std::pair{k, close};
}

Result<std::string> openExecutableComments(std::string_view sql, SqlLexerOptions options) {
  options.keep_trivia = false;
  DTS_ASSIGN_OR_RETURN(auto toks, lexSql(sql, options));
  std::string out;
  size_t at = 0;
  for (const SqlToken& t : toks) {
    if (t.kind != SqlTokenKind::kExecutableComment) continue;
    out.append(sql.substr(at, t.begin - at));
    out.push_back(' ');
    if (auto code = executableCode(sql, t, options)) {
      const std::string_view inner = sql.substr(code->first, code->second - code->first);
      DTS_ASSIGN_OR_RETURN(auto nested, lexSql(inner, options));
      for (const SqlToken& n : nested) {
        if (n.kind == SqlTokenKind::kExecutableComment)
          return Status::InvalidArgument("an executable comment inside another at byte " +
                                         std::to_string(code->first + n.begin));
      }
      out.append(inner);
      out.push_back(' ');
    }
    at = t.end;
  }
  if (at == 0) return std::string(sql);
  out.append(sql.substr(at));
  return out;
}

}  // namespace dts::mysql
