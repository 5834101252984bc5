// The sql_mode of the source session that ran a statement, as a QUERY event logs it
// (Q_SQL_MODE_CODE: a bit set), and the same mode for a destination that runs the statement again.
//
// A native replica runs every logged statement under the mode of the session that ran it at the
// source, and so does dts for DDL (sink/mysql_applier.h): the mode changes what a statement means.
// ANSI_QUOTES and NO_BACKSLASH_ESCAPES change how it is read ("x" a name, '\n' two bytes),
// PIPES_AS_CONCAT what `||` in a generated column computes, REAL_AS_FLOAT the type REAL names,
// NO_AUTO_VALUE_ON_ZERO whether an ALTER that adds AUTO_INCREMENT renumbers a row holding 0,
// TIME_ROUND_FRACTIONAL whether an ALTER to fewer fractional digits rounds or truncates, and a
// stored routine or trigger keeps the mode it was created under.
//
// The bits are MariaDB's and MySQL's own (MariaDB sql_mode values 1 << 0 .. 1 << 34, checked on
// MariaDB 10.11 with SET sql_mode = N; MySQL 8's system_variables.h). They agree on bits 0-31
// except bit 4 (MariaDB IGNORE_BAD_TABLE_OPTIONS, unused in MySQL); above, MariaDB has
// EMPTY_STRING_IS_NULL, SIMULTANEOUS_ASSIGNMENT and TIME_ROUND_FRACTIONAL, MySQL
// TIME_TRUNCATE_FRACTIONAL. The two round fractional seconds the other way by default.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "mysql/row_decoder.h"
#include "mysql/sql_lexer.h"

namespace dts::mysql {

// REAL_AS_FLOAT (the same bit in both flavours): REAL names FLOAT, not DOUBLE.
inline constexpr uint64_t kSqlModeRealAsFloat = 1ull << 0;

// How a statement logged under `bits` is read: ANSI_QUOTES and NO_BACKSLASH_ESCAPES, the same
// bits in both flavours.
SqlLexerOptions lexerOptionsForSqlMode(uint64_t bits);

// The mode's names as the source server spells them, comma-separated ("" for no mode); a bit no
// server of that flavour defines is named "bit N".
std::string sqlModeNames(uint64_t bits, ServerFlavor source);

// The value to give the destination session's sql_mode so that a statement the source ran under
// `bits` means the same there: every mode the destination also has, and the fractional-seconds
// mode that gives the source's rounding. no_dir_in_create: NO_DIR_IN_CREATE on whatever the
// source's (a replica keeps its own setting of it; for table DDL dts's is on, as the source's
// DATA DIRECTORY paths are not the destination's), else the source's as it was (a stored routine
// keeps the mode it is created under). Modes
// that only shape SHOW output or name another server's dialect are left out where the
// destination lacks them. kUnsupported, naming the mode, for a mode that changes what DDL means
// and that the destination does not have (MariaDB's EMPTY_STRING_IS_NULL or ORACLE on a MySQL
// destination). fractional_seconds false: no fractional-seconds mode at all, for a destination
// older than them (MySQL 5.7, MariaDB 10.3), which refuses the names.
Result<std::string> sqlModeForDestination(uint64_t bits, ServerFlavor source,
                                          ServerFlavor destination, bool no_dir_in_create,
                                          bool fractional_seconds = true);

// The fractional-seconds mode sqlModeForDestination adds or keeps ("TIME_ROUND_FRACTIONAL",
// "TIME_TRUNCATE_FRACTIONAL"), or "" when it has none.
std::string_view fractionalSecondsMode(uint64_t bits, ServerFlavor source,
                                       ServerFlavor destination);

// The session sql_mode every dts connection runs under (mysql/connection.h): the server's
// `server_mode` without the modes that would change how the statements dts writes are read or
// what its reads return. ANSI_QUOTES, PIPES_AS_CONCAT, NO_BACKSLASH_ESCAPES, HIGH_NOT_PRECEDENCE
// and SIMULTANEOUS_ASSIGNMENT change its statements' meaning; EMPTY_STRING_IS_NULL turns the ''
// it writes (a checkpoint's empty position) into NULL; PAD_CHAR_TO_FULL_LENGTH pads the CHAR
// values it reads (verify compared a padded side with an unpadded one); NO_KEY_OPTIONS,
// NO_TABLE_OPTIONS and NO_FIELD_OPTIONS drop options from the SHOW CREATE TABLE dts copies; and
// the dialect modes (ORACLE, MSSQL, DB2, POSTGRESQL, MAXDB, ANSI, MYSQL323, MYSQL40) change the
// parser or SHOW CREATE. The rest (strictness, NO_AUTO_VALUE_ON_ZERO, ...) stays; sessions that
// write rows or run DDL set their own mode on top. Names compare case-insensitively; the result
// keeps the server's spelling and order.
std::string sessionSqlModeForDts(std::string_view server_mode);

}  // namespace dts::mysql
