// SchemaHistory: the definition of each table in force at the reader's position in the stream,
// kept by interpreting the DDL statements of the stream (QUERY events) one after the other, and
// versioned by stream position so that the definitions in force at an earlier position (a
// checkpoint) can be saved and restored.
//
// Where definitions come from:
//   - CREATE TABLE statements met in the stream (binlog tail/decode read from before them);
//   - seeded ones: put() by the owner (a task's snapshot, definitions read at the snapshot
//     position) or restore() of a saved history (a resumed task).
// A table the history does not know (never created in the stream, never seeded) is "unknown":
// the SchemaTracker then falls back to the server's live definition.
//
// DDL followed (see apply()): CREATE TABLE (column list, LIKE), ALTER TABLE with any number of
// clauses (ADD/DROP/MODIFY/CHANGE/RENAME COLUMN with FIRST/AFTER, RENAME TO, CONVERT TO
// CHARACTER SET, [DEFAULT] CHARSET/COLLATE, ADD/DROP PRIMARY and UNIQUE KEY, RENAME INDEX),
// CREATE/DROP [UNIQUE] INDEX, RENAME TABLE (several pairs, across databases), DROP TABLE,
// TRUNCATE, CREATE/ALTER/DROP DATABASE (charset). Executable comments (/*!50100 ... */,
// /*M!100100 ... */) are read as the server that wrote the binlog ran them: their content is
// part of the statement. Names: quoted or not; column names compare ignoring ASCII case (as in
// the server), database and table names exactly (lower_case_table_names=0).
//
// A statement that changes no table shape (DML, views, routines, users, GRANT, non-unique
// indexes, table options, partitioning...) is ignored. A DDL on a known table that the
// interpreter cannot read is an error naming the statement (never a guess); for tables the
// owner does not care about (see Options::cares) such a table is forgotten instead.
//
// Character sets: a column's collation comes from its own CHARACTER SET/COLLATE, else the
// table's default, else the database's default (from the stream's CREATE/ALTER DATABASE, or
// Options::database_collation for a database the stream never created), else the server's
// default (Options::server_collation). 0 when none of these is known.
//
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mysql/unique_keys.h"
#include "source/schema_tracker.h"

namespace dts::source {

// One table as the history keeps it.
struct TableDefinition {
  SchemaTable shape;                          // columns in ordinal order; primary_key
  std::vector<mysql::UniqueKey> unique_keys;  // the other unique keys, in declaration order
  uint16_t default_collation = 0;             // the table's default; 0 when unknown
};

class SchemaHistory {
 public:
  struct Options {
    // The default collation name of a database the stream never created ("" when unknown).
    std::function<Result<std::string>(const std::string& database)> database_collation;
    // The server's default collation name ("" when unknown), for CREATE DATABASE without one.
    std::function<Result<std::string>()> server_collation;
    // Whether an error on this table matters (a selected table); null: every table matters.
    std::function<bool(const std::string& database, const std::string& table)> cares;
  };

  SchemaHistory() = default;
  explicit SchemaHistory(Options options) : options_(std::move(options)) {}

  // What a statement did.
  struct Applied {
    bool changed = false;  // some known table or database changed shape or appeared/disappeared
    // Tables the statement may change that the history does not know (the owner forgets any
    // cached live definition of these). A database alone: (db, "").
    std::vector<std::pair<std::string, std::string>> unknown;
    bool unknown_everything = false;  // a DDL the history cannot read that may touch anything
    // The tables the statement created or whose definition it changed (find() has their new
    // definition), sorted: a RENAME lists the new name, a DROP nothing.
    std::vector<std::pair<std::string, std::string>> defined;
  };

  // Interprets one statement of the stream run with default database `default_db`. `marker` is
  // the stream position after the statement (monotonic; see save()). kUnsupported naming the
  // statement when it is a DDL on a known table that the interpreter cannot read; the history
  // is then unchanged. session: its session's sql_mode (how the text reads: ANSI_QUOTES,
  // NO_BACKSLASH_ESCAPES; what REAL means: REAL_AS_FLOAT) and collation_server.
  Result<Applied> apply(std::string_view default_db, std::string_view sql, uint64_t marker = 0,
                        const StatementSession& session = {});

  // The definition in force now, or null when the table is unknown.
  std::shared_ptr<const TableDefinition> find(const std::string& database,
                                              const std::string& table) const;
  // Whether the history knows the table (a definition or a DROP it followed).
  bool knows(const std::string& database, const std::string& table) const;

  // Seeds a definition (a snapshot; the live definition of a table the stream never created).
  void put(TableDefinition def, uint64_t marker = 0);
  // Seeds a database's default collation name ("" unknown).
  void putDatabase(const std::string& database, uint16_t collation, uint64_t marker = 0);

  // The history as it was after every statement with marker <= `marker`, as text for a
  // checkpoint store (parse with restore()). Versions older than the last one <= `marker` are
  // dropped (prune) when `prune`.
  std::string save(uint64_t marker, bool prune = true);
  // Replaces the history with a saved one. kCorruption when the text is not a saved history.
  Status restore(std::string_view saved);

  size_t tableCount() const;
  // The (database, table) of every table with a definition now, sorted.
  std::vector<std::pair<std::string, std::string>> tables() const;

 private:
  struct State {
    // Key: db '\0' table. A null definition: the table was dropped (known not to exist).
    std::map<std::string, std::shared_ptr<const TableDefinition>> tables;
    std::map<std::string, uint16_t> databases;  // default collation; 0 when unknown
  };
  const State& current() const;
  void commit(std::shared_ptr<const State> state, uint64_t marker);

  Options options_;
  std::vector<std::pair<uint64_t, std::shared_ptr<const State>>> versions_;  // by marker
};

// A table's definition as the server has it now (information_schema: columns, primary and
// unique keys, table default collation), to seed a history. kNotFound when it does not exist.
Result<TableDefinition> loadLiveDefinition(mysql::Connection& conn, const std::string& database,
                                           const std::string& table);

// ---- Exposed for tests and the differential test. ----

// The collation id named `name` ("utf8_general_ci" is read as utf8mb3_general_ci), or 0.
uint16_t collationByName(std::string_view name);
// The default collation id of a character set ("utf8" is utf8mb3), or 0 when unknown.
uint16_t defaultCollationOf(std::string_view charset);

}  // namespace dts::source
