// Whether the source's live table definitions are the ones in force at a past position, where a
// task's schema history must start (a tracking task's options.start, or the position a task's
// first incremental run read before it read the definitions).
//
// The history decodes every row from the start with the definitions it holds, so a definition
// seeded from today's table after a DDL that changed it since the start would label old rows
// with wrong column names (same-typed columns swapped, dropped and re-added), or fail on a
// TABLE_MAP that no longer matches. dts never attaches a column name it is not sure of; the
// definitions at the start are known exactly in two cases only, and the start is refused
// otherwise. For each table the task selects, the first DDL statement since the start that
// names it decides:
//   - none: the live definition (read before the binlog was read to its end) is the one in force
//     at the start;
//   - a CREATE TABLE without IF NOT EXISTS and OR REPLACE (or a RENAME/ALTER ... RENAME from a
//     table so created, a CREATE ... LIKE one): the table did not exist at the start, and the
//     stream's own statements define it; it must not be seeded;
//   - a DROP TABLE (DROP DATABASE) before any row of the table (of the database's tables) since
//     the start: what it was does not matter; the stream defines it from then on;
//   - anything else (ALTER, RENAME, DROP after rows, CREATE INDEX, CREATE ... IF NOT EXISTS / OR
//   REPLACE,
//     DROP DATABASE of a selected database, a statement dts cannot read): its definition at the
//     start is unknown: kFailedPrecondition naming the table, the statement, its GTID and binlog
//     position, and the position right after it, where the task can start instead.
//
// Thread-safety: one thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mysql/gtid.h"
#include "pipeline/table_selector.h"
#include "source/change_reader.h"

namespace dts::source {

struct StartCheck {
  // Selected tables the stream defines from the start on, sorted: created since the start
  // (absent then), or dropped before any row of theirs was written since (what they were does
  // not matter). The history must not be seeded with their live definitions.
  std::vector<std::pair<std::string, std::string>> from_stream;
  uint64_t ddl_statements = 0;  // DDL statements read since the start
  uint64_t events = 0;          // binlog events read
};

// The options of the reader to give checkDdlSinceStart: every DDL kept, no row decoded (no
// table selected, so no definition is needed).
ChangeReaderOptions startCheckReaderOptions();

// Reads `reader` to the end of its input (REQUIRES a finite input: binlog files, or a stream
// with stop_at_end opened after the live definitions were read) with the rule above. `from` is
// the start (none: the oldest binlog), for the messages and the position suggested.
// `selected` decides which tables matter. Errors reading the binlog come back with context.
Result<StartCheck> checkDdlSinceStart(ChangeReader& reader, const pipeline::TableSelector& selected,
                                      const std::optional<mysql::GtidPosition>& from);

// ---- Exposed for tests. ----

// Whether a CREATE TABLE statement may leave an existing table in place or replace one (IF NOT
// EXISTS, OR REPLACE), so that it does not prove the table was absent before it.
bool createMayFindTheTable(std::string_view sql);

}  // namespace dts::source
