// DECIMAL (MYSQL_TYPE_NEWDECIMAL) binary format, as stored in row images and in binary JSON
// opaque values. Format: https://dev.mysql.com/doc/dev/mysql-server/latest/ (strings/decimal.cc,
// "bin2decimal"): the integer and fraction parts are split into groups of 9 decimal digits, each
// stored big-endian in 4 bytes (a leading/trailing partial group uses 1-4 bytes); the whole is
// bit-inverted for negative numbers and the top bit of the first byte is flipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dts::mysql {

constexpr int kMaxDecimalPrecision = 65;
constexpr int kMaxDecimalScale = 30;

// Bytes that DECIMAL(precision, scale) occupies. Returns 0 when precision/scale are out of range
// (precision 1..65, scale 0..min(30, precision)).
size_t decimalBinarySize(int precision, int scale);

// Appends the text form of a binary DECIMAL(precision, scale) to *out: optional '-', the integer
// digits without leading zeros ("0" when none), and, when scale > 0, '.' and exactly `scale`
// fraction digits. Returns false (appending nothing) when `bin` has the wrong size or holds a
// digit group out of range: such bytes are not a decimal.
bool decodeDecimal(std::string_view bin, int precision, int scale, std::string* out);

// The inverse, for tests and fuzz seeds: "-123.45" -> binary DECIMAL(precision, scale). Accepts
// an optional sign, digits, and an optional '.' with at most `scale` digits. Returns false when
// the text is malformed or does not fit.
bool encodeDecimal(std::string_view text, int precision, int scale, std::string* out);

}  // namespace dts::mysql
