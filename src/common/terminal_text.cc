#include "common/terminal_text.h"

#include <sys/ioctl.h>

#include <vector>

namespace dts {
namespace {

struct Char {
  size_t begin, size;  // bytes of s
  size_t width;        // cells
};

// The code point at s[i] and its length; a byte that does not start valid UTF-8 is itself (1).
std::pair<char32_t, size_t> decode(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n <= 1 || i + n > s.size()) return {b, 1};
  char32_t cp = b & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 0x2) return {b, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, n};
}

size_t cells(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;  // controls draw nothing
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
      (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
      (cp >= 0xFE20 && cp <= 0xFE2F))
    return 0;  // combining marks, zero-width spaces and joiners, variation selectors
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
    return 2;
  return 1;
}

std::vector<Char> chars(std::string_view s) {
  std::vector<Char> out;
  for (size_t i = 0; i < s.size();) {
    auto [cp, n] = decode(s, i);
    out.push_back({i, n, cells(cp)});
    i += n;
  }
  return out;
}

}  // namespace

size_t displayWidth(std::string_view s) {
  size_t w = 0;
  for (const Char& c : chars(s)) w += c.width;
  return w;
}

std::string fitWidth(std::string_view s, size_t width) {
  std::vector<Char> cs = chars(s);
  size_t total = 0;
  for (const Char& c : cs) total += c.width;
  if (total <= width) return std::string(s) + std::string(width - total, ' ');
  // Head and tail around "…" (1 cell): the head gets the extra cell of an odd budget.
  const size_t budget = width - 1;
  size_t head_w = 0, head = 0;
  while (head < cs.size() && head_w + cs[head].width <= (budget + 1) / 2)
    head_w += cs[head++].width;
  size_t tail_w = 0, tail = cs.size();
  while (tail > head && tail_w + cs[tail - 1].width <= budget - head_w) tail_w += cs[--tail].width;
  std::string out(s.substr(0, head == 0 ? 0 : cs[head - 1].begin + cs[head - 1].size));
  out += "\u2026";
  if (tail < cs.size()) out += s.substr(cs[tail].begin);
  out.append(width - (head_w + 1 + tail_w), ' ');
  return out;
}

size_t terminalRows(std::string_view text, size_t columns) {
  size_t rows = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    const size_t width = displayWidth(line);
    rows += columns == 0 || width == 0 ? 1 : (width + columns - 1) / columns;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return rows;
}

size_t terminalColumns(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

}  // namespace dts
