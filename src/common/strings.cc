#include "common/strings.h"

#include <algorithm>

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

std::string excerpt(std::string_view text, size_t max_bytes) {
  text = trim(text);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes + 3));
  for (size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_bytes) {
      // text[i] continuing a character (10xxxxxx): drop that character's first bytes too.
      if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
          out.pop_back();
        if (!out.empty()) out.pop_back();
      }
      if (!out.empty() && out.back() == ' ') out.pop_back();
      out += "...";
      return out;
    }
    if (isAsciiSpace(text[i])) {
      while (i + 1 < text.size() && isAsciiSpace(text[i + 1])) ++i;
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

void appendUuid(const uint8_t* bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out->push_back('-');
    out->push_back(kHex[bytes[i] >> 4]);
    out->push_back(kHex[bytes[i] & 15]);
  }
}

}  // namespace dts
