#include "mysql/sql_mode.h"

#include <array>
#include <string_view>

#include "common/strings.h"

namespace dts::mysql {
namespace {

constexpr uint64_t kAnsiQuotes = 1ull << 2;
constexpr uint64_t kNoDirInCreate = 1ull << 7;
constexpr uint64_t kNoBackslashEscapes = 1ull << 20;
constexpr int kMariaTimeRound = 34;
constexpr int kMySqlTimeTruncate = 32;

// Bit i's name on MariaDB (10.11: SET sql_mode = 1 << i; SELECT @@sql_mode).
constexpr std::array<std::string_view, 35> kMariaNames = {"REAL_AS_FLOAT",
                                                          "PIPES_AS_CONCAT",
                                                          "ANSI_QUOTES",
                                                          "IGNORE_SPACE",
                                                          "IGNORE_BAD_TABLE_OPTIONS",
                                                          "ONLY_FULL_GROUP_BY",
                                                          "NO_UNSIGNED_SUBTRACTION",
                                                          "NO_DIR_IN_CREATE",
                                                          "POSTGRESQL",
                                                          "ORACLE",
                                                          "MSSQL",
                                                          "DB2",
                                                          "MAXDB",
                                                          "NO_KEY_OPTIONS",
                                                          "NO_TABLE_OPTIONS",
                                                          "NO_FIELD_OPTIONS",
                                                          "MYSQL323",
                                                          "MYSQL40",
                                                          "ANSI",
                                                          "NO_AUTO_VALUE_ON_ZERO",
                                                          "NO_BACKSLASH_ESCAPES",
                                                          "STRICT_TRANS_TABLES",
                                                          "STRICT_ALL_TABLES",
                                                          "NO_ZERO_IN_DATE",
                                                          "NO_ZERO_DATE",
                                                          "ALLOW_INVALID_DATES",
                                                          "ERROR_FOR_DIVISION_BY_ZERO",
                                                          "TRADITIONAL",
                                                          "NO_AUTO_CREATE_USER",
                                                          "HIGH_NOT_PRECEDENCE",
                                                          "NO_ENGINE_SUBSTITUTION",
                                                          "PAD_CHAR_TO_FULL_LENGTH",
                                                          "EMPTY_STRING_IS_NULL",
                                                          "SIMULTANEOUS_ASSIGNMENT",
                                                          "TIME_ROUND_FRACTIONAL"};

// MySQL's name of bit i: MariaDB's below 32 but bit 4 (unused, MODE_NOT_USED), and
// TIME_TRUNCATE_FRACTIONAL at 32. Bits 8-17 and 28 are MySQL 5.7's, which MySQL 8 ignores.
std::string_view mySqlName(int bit) {
  if (bit == 4) return {};
  if (bit < 32) return kMariaNames[bit];
  if (bit == kMySqlTimeTruncate) return "TIME_TRUNCATE_FRACTIONAL";
  return {};
}

std::string_view nameOf(int bit, ServerFlavor flavor) {
  if (flavor == ServerFlavor::kMySql) return mySqlName(bit);
  return bit < static_cast<int>(kMariaNames.size()) ? kMariaNames[bit] : std::string_view{};
}

void append(std::string* out, std::string_view name) {
  if (!out->empty()) *out += ',';
  *out += name;
}

}  // namespace

SqlLexerOptions lexerOptionsForSqlMode(uint64_t bits) {
  SqlLexerOptions o;
  o.ansi_quotes = (bits & kAnsiQuotes) != 0;
  o.no_backslash_escapes = (bits & kNoBackslashEscapes) != 0;
  return o;
}

std::string sqlModeNames(uint64_t bits, ServerFlavor source) {
  std::string out;
  for (int bit = 0; bit < 64; ++bit) {
    if ((bits & (1ull << bit)) == 0) continue;
    std::string_view name = nameOf(bit, source);
    if (name.empty()) {
      append(&out, "bit " + std::to_string(bit));
    } else {
      append(&out, name);
    }
  }
  return out;
}

std::string_view fractionalSecondsMode(uint64_t bits, ServerFlavor source,
                                       ServerFlavor destination) {
  // Whether the source rounded fractional seconds (MySQL's default, MariaDB's mode).
  const bool rounds = source == ServerFlavor::kMySql ? (bits & (1ull << kMySqlTimeTruncate)) == 0
                                                     : (bits & (1ull << kMariaTimeRound)) != 0;
  if (destination == ServerFlavor::kMySql) return rounds ? "" : "TIME_TRUNCATE_FRACTIONAL";
  return rounds ? "TIME_ROUND_FRACTIONAL" : "";
}

Result<std::string> sqlModeForDestination(uint64_t bits, ServerFlavor source,
                                          ServerFlavor destination, bool no_dir_in_create,
                                          bool fractional_seconds) {
  const bool from_mysql = source == ServerFlavor::kMySql;
  const bool to_mysql = destination == ServerFlavor::kMySql;
  std::string out;
  for (int bit = 0; bit < 64; ++bit) {
    if ((bits & (1ull << bit)) == 0) continue;
    if ((1ull << bit) == kNoDirInCreate && no_dir_in_create) continue;  // added below
    if (from_mysql && bit == kMySqlTimeTruncate)
      continue;  // said below, in the destination's terms
    if (!from_mysql && bit == kMariaTimeRound) continue;
    std::string_view name = nameOf(bit, source);
    if (name.empty()) {
      if (from_mysql && bit == 4) continue;  // MySQL's MODE_NOT_USED
      return Status::Unsupported("the source ran this statement under sql_mode bit " +
                                 std::to_string(bit) + ", which dts does not know");
    }
    if (to_mysql) {
      // MariaDB's meaning of these (MySQL 5.7's ORACLE and MAXDB, which MySQL 8 ignores when it
      // replicates, are left out below).
      if (!from_mysql && (name == "EMPTY_STRING_IS_NULL" || name == "ORACLE" || name == "MAXDB")) {
        return Status::Unsupported("the source ran this statement under sql_mode " +
                                   std::string(name) +
                                   ", which changes what it means and which a MySQL destination "
                                   "does not have");
      }
      // MariaDB's own, or MySQL 5.7's that MySQL 8 refuses: they only shape SHOW output, GRANT
      // or UPDATE's assignments, or are spelled out by the modes logged beside them.
      if (bit == 4 || (bit >= 8 && bit <= 17) || bit == 28 || bit >= 32) continue;
    }
    append(&out, name);
  }
  if (no_dir_in_create) append(&out, "NO_DIR_IN_CREATE");
  const std::string_view fractional = fractionalSecondsMode(bits, source, destination);
  if (fractional_seconds && !fractional.empty()) append(&out, fractional);
  return out;
}

std::string sessionSqlModeForDts(std::string_view server_mode) {
  static constexpr std::array<std::string_view, 18> kCleared = {"ANSI_QUOTES",
                                                                "PIPES_AS_CONCAT",
                                                                "NO_BACKSLASH_ESCAPES",
                                                                "HIGH_NOT_PRECEDENCE",
                                                                "SIMULTANEOUS_ASSIGNMENT",
                                                                "EMPTY_STRING_IS_NULL",
                                                                "PAD_CHAR_TO_FULL_LENGTH",
                                                                "NO_KEY_OPTIONS",
                                                                "NO_TABLE_OPTIONS",
                                                                "NO_FIELD_OPTIONS",
                                                                "ORACLE",
                                                                "MSSQL",
                                                                "DB2",
                                                                "POSTGRESQL",
                                                                "MAXDB",
                                                                "ANSI",
                                                                "MYSQL323",
                                                                "MYSQL40"};
  std::string out;
  for (std::string_view name : split(server_mode, ',')) {
    if (name.empty()) continue;
    const std::string upper = toUpper(name);
    bool cleared = false;
    for (std::string_view c : kCleared) cleared = cleared || upper == c;
    if (cleared) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace dts::mysql
