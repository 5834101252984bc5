#include "common/strings.h"

namespace dts {

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && isAsciiSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && isAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  return trimRight(trimLeft(s));
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = toAsciiLower(c);
  return out;
}

std::string toUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = toAsciiUpper(c);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toAsciiLower(a[i]) != toAsciiLower(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

bool startsWithWord(std::string_view s, std::string_view word) {
  if (s.size() < word.size() || !equalsIgnoreCase(s.substr(0, word.size()), word)) return false;
  return s.size() == word.size() || !isAsciiAlnum(s[word.size()]);
}

}  // namespace dts
