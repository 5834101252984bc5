#include "mysql/temporal.h"

#include "common/byte_reader.h"

namespace dts::mysql {
namespace {

// Appends v zero-padded to at least `width` digits.
void putPadded(std::string* out, uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

// ".ffffff" truncated to fsp digits (nothing when fsp == 0).
void putFraction(std::string* out, uint32_t micros, int fsp) {
  if (fsp <= 0) return;
  if (fsp > 6) fsp = 6;
  char buf[6];
  for (int i = 5; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  out->push_back('.');
  out->append(buf, static_cast<size_t>(fsp));
}

void putDateTime(std::string* out, uint64_t year, uint64_t month, uint64_t day, uint64_t hour,
                 uint64_t minute, uint64_t second) {
  putPadded(out, year, 4);
  out->push_back('-');
  putPadded(out, month, 2);
  out->push_back('-');
  putPadded(out, day, 2);
  out->push_back(' ');
  putPadded(out, hour, 2);
  out->push_back(':');
  putPadded(out, minute, 2);
  out->push_back(':');
  putPadded(out, second, 2);
}

// Reads the big-endian fraction of a *2 temporal and converts it to microseconds.
uint32_t fractionMicros(uint64_t raw, int fsp) {
  if (fsp <= 0) return 0;
  if (fsp <= 2) return static_cast<uint32_t>(raw * 10000);
  if (fsp <= 4) return static_cast<uint32_t>(raw * 100);
  return static_cast<uint32_t>(raw);
}

// |v| without overflow for INT64_MIN (untrusted packed values can be anything).
uint64_t magnitude(int64_t v) {
  return v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

}  // namespace

void civilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  // Howard Hinnant's days_from_civil inverse.
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const uint64_t doe = static_cast<uint64_t>(z - era * 146097);
  const uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint64_t mp = (5 * doy + 2) / 153;
  const unsigned d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const unsigned m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  *year = y + (m <= 2 ? 1 : 0);
  *month = m;
  *day = d;
}

void formatDate(uint32_t packed, std::string* out) {
  putPadded(out, packed >> 9, 4);
  out->push_back('-');
  putPadded(out, (packed >> 5) & 15, 2);
  out->push_back('-');
  putPadded(out, packed & 31, 2);
}

void formatOldTime(int32_t hhmmss, std::string* out) {
  uint64_t v = hhmmss < 0 ? static_cast<uint64_t>(-static_cast<int64_t>(hhmmss))
                          : static_cast<uint64_t>(hhmmss);
  if (hhmmss < 0) out->push_back('-');
  putPadded(out, v / 10000, 2);
  out->push_back(':');
  putPadded(out, (v / 100) % 100, 2);
  out->push_back(':');
  putPadded(out, v % 100, 2);
}

void formatOldDateTime(uint64_t v, std::string* out) {
  const uint64_t date = v / 1000000, time = v % 1000000;
  putDateTime(out, date / 10000, (date / 100) % 100, date % 100, time / 10000, (time / 100) % 100,
              time % 100);
}

void formatTimestamp(uint32_t seconds, uint32_t micros, int fsp, std::string* out) {
  if (seconds == 0) {
    out->append("0000-00-00 00:00:00");
    putFraction(out, micros, fsp);
    return;
  }
  int64_t year;
  unsigned month, day;
  civilFromDays(seconds / 86400, &year, &month, &day);
  const uint32_t sod = seconds % 86400;
  putDateTime(out, static_cast<uint64_t>(year), month, day, sod / 3600, (sod / 60) % 60, sod % 60);
  putFraction(out, micros, fsp);
}

bool decodeTime2(std::string_view bin, int fsp, std::string* out) {
  if (fsp < 0 || fsp > 6 || bin.size() != 3 + fractionBytes(fsp)) return false;
  // The integer part and fraction together form one big-endian number offset by 0x800000 shifted
  // over the fraction bytes; negative values borrow from the integer part, so subtracting the
  // shifted offset from the whole number gives sign and magnitude in one step.
  ByteReader r(bin);
  uint64_t raw = 0;
  if (!r.getUintBE(bin.size(), &raw)) return false;
  const int frac_bytes = static_cast<int>(fractionBytes(fsp));
  const int64_t value = static_cast<int64_t>(raw) - (int64_t{0x800000} << (8 * frac_bytes));
  const bool negative = value < 0;
  const uint64_t mag = static_cast<uint64_t>(negative ? -value : value);
  const uint64_t hms = mag >> (8 * frac_bytes);
  const uint64_t frac = mag & ((uint64_t{1} << (8 * frac_bytes)) - 1);
  if (negative) out->push_back('-');
  putPadded(out, (hms >> 12) & 0x3ff, 2);
  out->push_back(':');
  putPadded(out, (hms >> 6) & 0x3f, 2);
  out->push_back(':');
  putPadded(out, hms & 0x3f, 2);
  putFraction(out, fractionMicros(frac, fsp), fsp);
  return true;
}

bool decodeDateTime2(std::string_view bin, int fsp, std::string* out) {
  if (fsp < 0 || fsp > 6 || bin.size() != 5 + fractionBytes(fsp)) return false;
  ByteReader r(bin);
  uint64_t intpart = 0, frac = 0;
  if (!r.getUintBE(5, &intpart)) return false;
  if (fsp > 0 && !r.getUintBE(fractionBytes(fsp), &frac)) return false;
  // Bit 39 is the sign (set = non-negative); DATETIME is never negative in practice, so the
  // remaining 39 bits are read as they are.
  const uint64_t v = intpart & 0x7fffffffffULL;
  const uint64_t ymd = v >> 17, hms = v & 0x1ffff;
  const uint64_t ym = ymd >> 5;
  putDateTime(out, ym / 13, ym % 13, ymd & 31, hms >> 12, (hms >> 6) & 63, hms & 63);
  putFraction(out, fractionMicros(frac, fsp), fsp);
  return true;
}

bool decodeTimestamp2(std::string_view bin, int fsp, std::string* out) {
  if (fsp < 0 || fsp > 6 || bin.size() != 4 + fractionBytes(fsp)) return false;
  ByteReader r(bin);
  uint64_t seconds = 0, frac = 0;
  if (!r.getUintBE(4, &seconds)) return false;
  if (fsp > 0 && !r.getUintBE(fractionBytes(fsp), &frac)) return false;
  formatTimestamp(static_cast<uint32_t>(seconds), fractionMicros(frac, fsp), fsp, out);
  return true;
}

void formatPackedDate(int64_t packed, std::string* out) {
  uint64_t v = magnitude(packed) >> 24;
  const uint64_t ymd = v >> 17, ym = ymd >> 5;
  putPadded(out, ym / 13, 4);
  out->push_back('-');
  putPadded(out, ym % 13, 2);
  out->push_back('-');
  putPadded(out, ymd & 31, 2);
}

void formatPackedTime(int64_t packed, std::string* out) {
  const bool negative = packed < 0;
  const uint64_t mag = magnitude(packed);
  const uint64_t hms = mag >> 24, micros = mag & 0xffffff;
  if (negative) out->push_back('-');
  putPadded(out, (hms >> 12) & 0x3ff, 2);
  out->push_back(':');
  putPadded(out, (hms >> 6) & 0x3f, 2);
  out->push_back(':');
  putPadded(out, hms & 0x3f, 2);
  putFraction(out, static_cast<uint32_t>(micros % 1000000), 6);
}

void formatPackedDateTime(int64_t packed, std::string* out) {
  const uint64_t mag = magnitude(packed);
  const uint64_t v = mag >> 24, micros = mag & 0xffffff;
  const uint64_t ymd = v >> 17, hms = v & 0x1ffff, ym = ymd >> 5;
  putDateTime(out, ym / 13, ym % 13, ymd & 31, hms >> 12, (hms >> 6) & 63, hms & 63);
  putFraction(out, static_cast<uint32_t>(micros % 1000000), 6);
}

namespace {
uint64_t fractionRaw(uint32_t micros, int fsp) {
  // Keep only the declared digits, in the unit the stored fraction uses.
  static constexpr uint32_t kDrop[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
  uint32_t kept = micros / kDrop[fsp] * kDrop[fsp];
  if (fsp <= 2) return kept / 10000;
  if (fsp <= 4) return kept / 100;
  return kept;
}
}  // namespace

std::string encodeTime2(bool negative, uint32_t hours, uint32_t minutes, uint32_t seconds,
                        uint32_t micros, int fsp) {
  const int frac_bytes = static_cast<int>(fractionBytes(fsp));
  const uint64_t hms = (uint64_t{hours} << 12) | (minutes << 6) | seconds;
  int64_t mag = static_cast<int64_t>((hms << (8 * frac_bytes)) | fractionRaw(micros, fsp));
  int64_t value = (negative ? -mag : mag) + (int64_t{0x800000} << (8 * frac_bytes));
  std::string out;
  putUintBE(&out, static_cast<uint64_t>(value), 3 + static_cast<size_t>(frac_bytes));
  return out;
}

std::string encodeDateTime2(uint32_t year, uint32_t month, uint32_t day, uint32_t hour,
                            uint32_t minute, uint32_t second, uint32_t micros, int fsp) {
  const uint64_t ymd = ((uint64_t{year} * 13 + month) << 5) | day;
  const uint64_t hms = (uint64_t{hour} << 12) | (minute << 6) | second;
  std::string out;
  putUintBE(&out, ((ymd << 17) | hms) + 0x8000000000ULL, 5);
  if (fsp > 0) putUintBE(&out, fractionRaw(micros, fsp), fractionBytes(fsp));
  return out;
}

std::string encodeTimestamp2(uint32_t seconds, uint32_t micros, int fsp) {
  std::string out;
  putUintBE(&out, seconds, 4);
  if (fsp > 0) putUintBE(&out, fractionRaw(micros, fsp), fractionBytes(fsp));
  return out;
}

}  // namespace dts::mysql
