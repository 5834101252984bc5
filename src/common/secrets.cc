#include "common/secrets.h"

#include <algorithm>

namespace dts {

std::string redactUri(std::string_view uri) {
  size_t scheme = uri.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t at = uri.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(uri);
  size_t colon = uri.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(uri);
  return std::string(uri.substr(0, colon + 1)) + "***" + std::string(uri.substr(at));
}

std::string redactSecret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  size_t pos = 0;
  while ((pos = text.find(secret, pos)) != std::string::npos) {
    text.replace(pos, secret.size(), "***");
    pos += 3;
  }
  return text;
}

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The position of `word` (lower case) in text at or after pos, case-insensitively; npos if none.
size_t findWord(const std::string& text, std::string_view word, size_t pos) {
  for (; pos + word.size() <= text.size(); ++pos) {
    size_t i = 0;
    while (i < word.size() && lower(text[pos + i]) == word[i]) ++i;
    if (i == word.size()) return pos;
  }
  return std::string::npos;
}

}  // namespace

std::string redactSqlPasswords(std::string text) {
  // After each keyword, the first quoted literal within a short distance is the secret (the
  // clause may put an '=', '(' , a plugin name or "FOR user" between them).
  constexpr std::string_view kKeywords[] = {"identified", "password"};
  constexpr size_t kReach = 80;
  for (std::string_view kw : kKeywords) {
    size_t pos = 0;
    while ((pos = findWord(text, kw, pos)) != std::string::npos) {
      size_t end = std::min(text.size(), pos + kw.size() + kReach);
      size_t q = pos + kw.size();
      while (q < end && text[q] != '\'' && text[q] != '"' && text[q] != ';') ++q;
      if (q >= end || text[q] == ';') {
        pos += kw.size();
        continue;
      }
      const char quote = text[q];
      size_t close = q + 1;
      while (close < text.size() && text[close] != quote) close += text[close] == '\\' ? 2 : 1;
      close = std::min(close, text.size());
      text.replace(q + 1, close - q - 1, "***");
      pos = q + 5;
    }
  }
  return text;
}

}  // namespace dts
