// ALTER TABLE on a table the task moves with a column subset (`columns:`) or a WHERE filter
// (`where:`): which of the statement's specifications the destination table needs.
//
// The destination table of a column subset has only the kept columns (and the keys over them).
// A specification is therefore
//   dropped  when it concerns only columns the destination does not have: ADD/DROP/MODIFY/
//            CHANGE/ALTER/RENAME COLUMN of an unkept column, an index or a CHECK or FOREIGN KEY
//            over unkept columns only;
//   kept     when it concerns kept columns alone (MODIFY/ALTER COLUMN of a kept column, an index
//            over kept columns, DROP INDEX/KEY/FOREIGN KEY/CONSTRAINT as ... IF EXISTS since the
//            destination may never have had it), or the table itself (ENGINE, COMMENT, character
//            set, FORCE, ENABLE/DISABLE KEYS, ALGORITHM, LOCK). A kept MODIFY/CHANGE loses its
//            FIRST/AFTER clause: the destination's column order is its own (dts writes by name);
//   refused  (kUnsupported, saying why) when the destination cannot follow: a kept column dropped
//            or renamed, a column added under a kept column's name, an index or constraint over
//            kept and unkept columns, the primary key, partitioning, ORDER BY, RENAME INDEX,
//            anything not recognised.
// With a WHERE filter and every column kept, every specification is kept. With a filter, dropping
// or renaming a column it reads is refused (the filter would no longer select the rows the full
// load selected), whether the column is kept or not.
// Column names compare as the server compares them, ASCII case-insensitively; a name with
// non-ASCII letters that only might be a kept column is refused rather than guessed.
// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/sql_lexer.h"

namespace dts::pipeline {

struct RouteColumns {
  std::vector<std::string> kept;      // empty: every column is kept
  std::vector<std::string> filtered;  // the columns the WHERE filter reads
};

// `toks` are the statement's tokens (no trivia) and `first` the index of its first specification
// (after the table name). Returns the specifications to run at the destination, joined with ", ",
// or nullopt when none is left (the statement changes nothing the destination has).
Result<std::optional<std::string>> alterSpecsForRoute(std::string_view sql,
                                                      const std::vector<mysql::SqlToken>& toks,
                                                      size_t first, const RouteColumns& route);

}  // namespace dts::pipeline
