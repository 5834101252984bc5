// Temporal column formats in row images and binary JSON, rendered as SELECT prints them.
// Formats: https://dev.mysql.com/doc/dev/mysql-server/latest/ (sql-common/my_time.cc:
// my_datetime_packed_from_binary, my_time_packed_from_binary, my_timestamp_from_binary) and
// MariaDB KB "Rows_event" (old DATE/TIME/DATETIME/TIMESTAMP layouts).
//
// Every function appends to *out. Inputs are the already bounds-checked bytes of one value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dts::mysql {

// Bytes taken by TIME2/DATETIME2/TIMESTAMP2 with fractional precision fsp (0..6): the integer
// part (3, 5 and 4 bytes) plus (fsp + 1) / 2 fraction bytes.
inline size_t fractionBytes(int fsp) {
  return static_cast<size_t>((fsp + 1) / 2);
}

// DATE (3 bytes little-endian: day 5 bits, month 4 bits, year 15 bits): "YYYY-MM-DD".
void formatDate(uint32_t packed, std::string* out);
// Old TIME (3 bytes little-endian, signed HHMMSS as a decimal number): "-HH:MM:SS".
void formatOldTime(int32_t hhmmss, std::string* out);
// Old DATETIME (8 bytes, YYYYMMDDhhmmss as a decimal number): "YYYY-MM-DD HH:MM:SS".
void formatOldDateTime(uint64_t v, std::string* out);
// TIMESTAMP: seconds since the epoch (+ microseconds) in UTC, with fsp fraction digits;
// 0 seconds is the zero date "0000-00-00 00:00:00".
void formatTimestamp(uint32_t seconds, uint32_t micros, int fsp, std::string* out);

// TIME2/DATETIME2/TIMESTAMP2: `bin` must be exactly 3/5/4 + fractionBytes(fsp) bytes long.
// Return false when the size is wrong (nothing appended).
bool decodeTime2(std::string_view bin, int fsp, std::string* out);
bool decodeDateTime2(std::string_view bin, int fsp, std::string* out);
bool decodeTimestamp2(std::string_view bin, int fsp, std::string* out);

// Packed 64-bit temporal values of binary JSON opaque DATE/TIME/DATETIME/TIMESTAMP (as
// TIME_to_longlong_*_packed produce them). DATE prints "YYYY-MM-DD", TIME "HH:MM:SS.ffffff",
// DATETIME/TIMESTAMP "YYYY-MM-DD HH:MM:SS.ffffff" (always 6 fraction digits, as MySQL's JSON does).
void formatPackedDate(int64_t packed, std::string* out);
void formatPackedTime(int64_t packed, std::string* out);
void formatPackedDateTime(int64_t packed, std::string* out);

// Encoders (tests, fuzz seeds, benchmarks), the inverse of the decoders above.
std::string encodeTime2(bool negative, uint32_t hours, uint32_t minutes, uint32_t seconds,
                        uint32_t micros, int fsp);
std::string encodeDateTime2(uint32_t year, uint32_t month, uint32_t day, uint32_t hour,
                            uint32_t minute, uint32_t second, uint32_t micros, int fsp);
std::string encodeTimestamp2(uint32_t seconds, uint32_t micros, int fsp);

// Days since 1970-01-01 -> civil date (proleptic Gregorian), used for TIMESTAMP in UTC.
void civilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

}  // namespace dts::mysql
