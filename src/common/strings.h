// Small ASCII string helpers shared by the parsers of SQL text, GTID text and configuration.
// "Space" is ASCII whitespace (' ', '\t', '\n', '\v', '\f', '\r'); case folding is ASCII only
// (bytes >= 0x80 are left as they are), which is what SQL keywords and hex digits need and never
// depends on the process locale. Pure functions, thread-safe.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dts {

constexpr bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
constexpr bool isAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr char toAsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char toAsciiUpper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// s without leading / trailing / both ASCII spaces (a view into s).
std::string_view trimLeft(std::string_view s);
std::string_view trimRight(std::string_view s);
std::string_view trim(std::string_view s);

std::string toLower(std::string_view s);
std::string toUpper(std::string_view s);

// ASCII case-insensitive equality.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// The pieces of s between separators, empty pieces included: split("a,,b", ',') is
// {"a", "", "b"}, split("", ',') is {""}. Views into s.
std::vector<std::string_view> split(std::string_view s, char sep);

// The decimal digits of v appended to *out (std::to_chars: no locale, no allocation). Inline:
// the change log and the NDJSON writers call them for every value.
inline void appendInt(int64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}
inline void appendUInt(uint64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}

// True when s begins with `word` (ASCII case-insensitive) followed by the end of s or a byte that
// is not a letter or digit: startsWithWord("COMMIT;", "commit") but not ("COMMITTED", "commit").
// A word of several words ("START TRANSACTION") must match with its single spaces.
bool startsWithWord(std::string_view s, std::string_view word);

// Text (a statement) as a message quotes it: on one line (each run of ASCII whitespace one
// space), trimmed, and at most max_bytes, cut at a UTF-8 character boundary and ended with "..."
// when longer.
std::string excerpt(std::string_view text, size_t max_bytes = 200);

// 16 bytes as a UUID's text, "123e4567-e89b-12d3-a456-426614174000" (lowercase, 8-4-4-4-12):
// MySQL's server UUIDs and MariaDB's UUID values alike.
void appendUuid(const uint8_t* bytes, std::string* out);

}  // namespace dts
