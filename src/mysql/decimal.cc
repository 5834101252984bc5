#include "mysql/decimal.h"

#include <cstdint>
#include <cstring>

namespace dts::mysql {
namespace {

constexpr int kDigitsPerGroup = 9;
constexpr int kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

bool validShape(int precision, int scale) {
  return precision >= 1 && precision <= kMaxDecimalPrecision && scale >= 0 &&
         scale <= kMaxDecimalScale && scale <= precision;
}

uint32_t readBE(const unsigned char* p, int n, unsigned char mask) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i] ^ mask);
  return v;
}

// Writes v as exactly `width` digits (zero padded) at dst.
void putDigits(char* dst, uint32_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    dst[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

size_t decimalBinarySize(int precision, int scale) {
  if (!validShape(precision, scale)) return 0;
  int intg = precision - scale;
  return static_cast<size_t>((intg / kDigitsPerGroup) * 4 + kDigitBytes[intg % kDigitsPerGroup] +
                             (scale / kDigitsPerGroup) * 4 + kDigitBytes[scale % kDigitsPerGroup]);
}

bool decodeDecimal(std::string_view bin, int precision, int scale, std::string* out) {
  size_t size = decimalBinarySize(precision, scale);
  if (size == 0 || bin.size() != size) return false;
  unsigned char buf[32];
  std::memcpy(buf, bin.data(), size);
  const bool negative = (buf[0] & 0x80) == 0;
  const unsigned char mask = negative ? 0xff : 0x00;
  buf[0] ^= 0x80;

  const int intg = precision - scale;
  const int intg0 = intg / kDigitsPerGroup, intg0x = intg % kDigitsPerGroup;
  const int frac0 = scale / kDigitsPerGroup, frac0x = scale % kDigitsPerGroup;

  // Render all digits first (at most 65 + sign + point), then strip leading integer zeros.
  char digits[80];
  int n = 0;
  const unsigned char* p = buf;
  if (intg0x > 0) {
    uint32_t v = readBE(p, kDigitBytes[intg0x], mask);
    if (v >= kPow10[intg0x]) return false;
    putDigits(digits + n, v, intg0x);
    n += intg0x;
    p += kDigitBytes[intg0x];
  }
  for (int i = 0; i < intg0; ++i, p += 4) {
    uint32_t v = readBE(p, 4, mask);
    if (v >= kPow10[9]) return false;
    putDigits(digits + n, v, 9);
    n += 9;
  }
  const int int_digits = n;
  for (int i = 0; i < frac0; ++i, p += 4) {
    uint32_t v = readBE(p, 4, mask);
    if (v >= kPow10[9]) return false;
    putDigits(digits + n, v, 9);
    n += 9;
  }
  if (frac0x > 0) {
    uint32_t v = readBE(p, kDigitBytes[frac0x], mask);
    if (v >= kPow10[frac0x]) return false;
    putDigits(digits + n, v, frac0x);
    n += frac0x;
  }

  int first = 0;
  while (first < int_digits && digits[first] == '0') ++first;
  bool all_zero = first == int_digits;
  for (int i = int_digits; i < n && all_zero; ++i) all_zero = digits[i] == '0';
  // A negative zero is not a value the server produces; print it as zero rather than "-0".
  if (negative && !all_zero) out->push_back('-');
  if (first == int_digits) {
    out->push_back('0');
  } else {
    out->append(digits + first, static_cast<size_t>(int_digits - first));
  }
  if (scale > 0) {
    out->push_back('.');
    out->append(digits + int_digits, static_cast<size_t>(scale));
  }
  return true;
}

bool encodeDecimal(std::string_view text, int precision, int scale, std::string* out) {
  if (!validShape(precision, scale)) return false;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  std::string_view int_part = text, frac_part;
  if (size_t dot = text.find('.'); dot != std::string_view::npos) {
    int_part = text.substr(0, dot);
    frac_part = text.substr(dot + 1);
  }
  if (int_part.empty() && frac_part.empty()) return false;
  for (char c : int_part)
    if (c < '0' || c > '9') return false;
  for (char c : frac_part)
    if (c < '0' || c > '9') return false;
  while (!int_part.empty() && int_part[0] == '0') int_part.remove_prefix(1);
  const int intg = precision - scale;
  if (static_cast<int>(int_part.size()) > intg || static_cast<int>(frac_part.size()) > scale)
    return false;

  std::string ints(static_cast<size_t>(intg) - int_part.size(), '0');
  ints.append(int_part);
  std::string fracs(frac_part);
  fracs.append(static_cast<size_t>(scale) - frac_part.size(), '0');

  auto groupValue = [](std::string_view s) {
    uint32_t v = 0;
    for (char c : s) v = v * 10 + static_cast<uint32_t>(c - '0');
    return v;
  };
  std::string bin;
  auto putBE = [&bin](uint32_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) bin.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  const int intg0x = intg % kDigitsPerGroup;
  size_t pos = 0;
  if (intg0x > 0) {
    putBE(groupValue(std::string_view(ints).substr(0, intg0x)), kDigitBytes[intg0x]);
    pos = static_cast<size_t>(intg0x);
  }
  for (; pos < ints.size(); pos += 9) putBE(groupValue(std::string_view(ints).substr(pos, 9)), 4);
  const int frac0 = scale / kDigitsPerGroup, frac0x = scale % kDigitsPerGroup;
  for (int i = 0; i < frac0; ++i) putBE(groupValue(std::string_view(fracs).substr(i * 9, 9)), 4);
  if (frac0x > 0) putBE(groupValue(std::string_view(fracs).substr(frac0 * 9)), kDigitBytes[frac0x]);
  if (negative)
    for (char& c : bin) c = static_cast<char>(~c);
  bin[0] = static_cast<char>(bin[0] ^ 0x80);
  out->append(bin);
  return true;
}

}  // namespace dts::mysql
