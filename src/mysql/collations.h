// Collation ids as the binlog (TABLE_MAP, QUERY events) and the client protocol carry them: the
// character set and name of each, from one table generated from the server's own
// information_schema by scripts/gen-collations.py (src/mysql/collations.inc) plus a short
// hand-maintained list of MySQL-only ids (see collations.cc). Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dts::mysql {

struct Collation {
  uint16_t id;
  const char* charset;  // "utf8mb4", "latin1", "binary", ...
  const char* name;     // "utf8mb4_general_ci", ...
  uint8_t max_bytes;    // maximum bytes per character of the character set
};

// The collation with this id, or nullptr when neither MariaDB nor MySQL 8 knows it (or id is 0).
const Collation* findCollation(uint16_t id);

// The collation named `name`, compared case-insensitively ("utf8_..." is read as MariaDB's
// "utf8mb3_..."), or nullptr. The index is built once from the same table.
const Collation* findCollationByName(std::string_view name);

// A character set's name as the tables spell it: lower case, "utf8" read as "utf8mb3".
std::string canonicalCharset(std::string_view charset);

// The default collation of a character set (MariaDB 10.11's, as information_schema.CHARACTER_SETS
// gives it; "utf8" is utf8mb3), or nullptr when the character set is unknown.
const Collation* defaultCollationOf(std::string_view charset);

// The character set family of a collation id, for rendering text. kUnknown for id 0 (not a
// character column, or not known), kOther for an id no server defines (rendered as bytes:
// lossless, never mis-decoded).
enum class Charset : uint8_t { kUnknown, kBinary, kUtf8, kLatin1, kAscii, kOther };
Charset charsetOfCollation(uint16_t collation);

}  // namespace dts::mysql
