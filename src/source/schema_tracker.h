// SchemaTracker: the SchemaProvider (mysql/binlog_event.h) for a live source. It completes what a
// TABLE_MAP says about a table (types and type metadata) with what the server's
// information_schema says (column names in ordinal order, signedness, collations, ENUM/SET
// members, primary key), caches the result, and forgets a table when the stream shows DDL that
// may have changed it, so the next TABLE_MAP reloads it.
//
// The honest caveat: information_schema describes the table as it is *now*, which can be newer
// than the stream position being read. The tracker therefore verifies every column of the
// TABLE_MAP (count, type, DECIMAL precision/scale, temporal precision, string kind, ENUM/SET
// size, BIT width, BLOB length class) against the loaded definition, reloads once when they
// disagree, and then fails with kFailedPrecondition naming the table and the first differing
// column: it never guesses. What it cannot see is a change that keeps every type (say two
// same-typed columns renamed into each other while the stream lags behind); for exact names at
// any lag, run the source with binlog_row_metadata=FULL, whose TABLE_MAPs carry names, keys and
// charsets themselves: the tracker then uses the TABLE_MAP as it is and queries nothing.
//
// Since the schema history (schema_history.h): a table whose definition the history holds (the
// stream created it, or the owner seeded or restored it) is completed from the history, never
// from the server, so a lagging reader decodes each row with the definition in force when it
// was written, at any lag and with binlog_row_metadata=NO_LOG or MINIMAL. The live definition
// serves only the tables the history does not know.
//
// Thread-safety: one thread (the one driving the BinlogDecoder).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mysql/binlog_event.h"
#include "mysql/connection.h"
#include "mysql/table_info.h"

namespace dts::source {

// What a DDL statement means beyond its text, from the session that ran it (its QUERY event).
struct StatementSession {
  uint64_t sql_mode = 0;  // mysql/sql_mode.h: how the text reads, what REAL is
  // collation_server: what CREATE DATABASE without a character set gets; 0 when the event did
  // not log it (the server's own is read then).
  uint16_t collation_server = 0;
  // The server that ran it: which of its executable comments it ran (mysql/sql_lexer.h).
  uint32_t server_version = 0;  // 0: unknown
  bool mysql_server = false;
};

class SchemaHistory;

// One column as information_schema.COLUMNS describes it.
struct SchemaColumn {
  std::string name;
  std::string data_type;    // "int", "varchar", "enum", ... (lowercase)
  std::string column_type;  // "int(10) unsigned", "enum('a','b')", ...
  bool nullable = true;
  uint16_t collation = 0;  // 0 when not a character column; 63 for binary strings
  uint32_t precision = 0;  // DECIMAL precision
  uint32_t scale = 0;      // DECIMAL scale
  uint32_t datetime_precision = 0;
  uint32_t octet_length = 0;  // CHAR/VARCHAR/BINARY/VARBINARY maximum length in bytes
};

struct SchemaTable {
  std::string database, table;
  std::vector<SchemaColumn> columns;
  std::vector<std::string> primary_key;  // column names in key order
};

// A table definition as a TableInfo without binlog metadata (names, SHOW COLUMNS types,
// nullability, collations, primary key): what a DDL change record carries.
std::shared_ptr<const mysql::TableInfo> tableInfoOf(const SchemaTable& def);

// Where table definitions come from: information_schema over a connection, or a fake in tests.
class SchemaLoader {
 public:
  virtual ~SchemaLoader() = default;
  // kNotFound when the table does not exist (now); kUnavailable when the server is unreachable.
  virtual Result<SchemaTable> load(const std::string& database, const std::string& table) = 0;
  // The default collation name of a database now ("" when it does not exist or is unknown), and
  // the server's (for the schema history's CREATE TABLE/DATABASE without a character set).
  virtual Result<std::string> databaseCollation(const std::string& database) {
    (void)database;
    return std::string();
  }
  virtual Result<std::string> serverCollation() { return std::string(); }
};

// Reads information_schema.COLUMNS / COLLATIONS / STATISTICS over a normal connection (never
// the replication one).
class InformationSchemaLoader final : public SchemaLoader {
 public:
  // REQUIRES: conn != nullptr.
  explicit InformationSchemaLoader(std::unique_ptr<mysql::Connection> conn)
      : conn_(std::move(conn)) {}
  static Result<std::unique_ptr<InformationSchemaLoader>> connect(
      const mysql::ConnectOptions& options);
  Result<SchemaTable> load(const std::string& database, const std::string& table) override;
  Result<std::string> databaseCollation(const std::string& database) override;
  Result<std::string> serverCollation() override;

 private:
  std::unique_ptr<mysql::Connection> conn_;
};

// What InformationSchemaLoader::load reads, over any connection.
Result<SchemaTable> loadSchemaTable(mysql::Connection& conn, const std::string& database,
                                    const std::string& table);

class SchemaTracker final : public mysql::SchemaProvider {
 public:
  struct Options {
    // Whether a DDL the schema history cannot read stops the reader for this table (a selected
    // table); null: every table. See SchemaHistory::Options::cares.
    std::function<bool(const std::string& database, const std::string& table)> cares;
  };
  // `loader` may be null: tables the history does not know then keep what their TABLE_MAP says.
  explicit SchemaTracker(std::unique_ptr<SchemaLoader> loader, Options options = {});
  ~SchemaTracker() override;

  // The completed table. With binlog_row_metadata=FULL the TABLE_MAP as it is. Else, for a
  // table the schema history knows (created in the stream, seeded, restored), its definition in
  // force at this point of the stream: kFailedPrecondition when it does not fit the TABLE_MAP
  // (never a reload). Else the server's current definition (see the header comment):
  // kFailedPrecondition when it does not match the TABLE_MAP or the table no longer exists;
  // kUnavailable when the definition could not be read. Else (no loader) the TABLE_MAP as is.
  Result<std::shared_ptr<const mysql::TableInfo>> complete(
      const mysql::TableInfo& from_table_map) override;

  // A QUERY event of the stream, run with default database `default_db`: the schema history
  // follows the DDL (see schema_history.h), and cached live definitions of the tables it may
  // change are forgotten. `marker` is the stream position after the event (monotonic). Errors:
  // kUnsupported for a DDL on a known table the history cannot read (naming the statement).
  // *changed (optional) tells whether some definition changed; *defined (optional) receives the
  // tables it created or changed (SchemaHistory::Applied::defined).
  Status onQuery(std::string_view default_db, std::string_view sql, uint64_t marker = 0,
                 bool* changed = nullptr,
                 std::vector<std::pair<std::string, std::string>>* defined = nullptr,
                 const StatementSession& session = {});

  void invalidateTable(const std::string& database, const std::string& table);
  void invalidateDatabase(const std::string& database);
  void invalidateAll();

  SchemaHistory& history() { return *history_; }

  // How many definitions were read from the loader (for tests and metrics).
  uint64_t loads() const { return loads_; }

 private:
  Result<std::shared_ptr<const SchemaTable>> definition(const std::string& db,
                                                        const std::string& table, bool reload);
  std::unique_ptr<SchemaLoader> loader_;
  std::unique_ptr<SchemaHistory> history_;
  std::unordered_map<std::string, std::shared_ptr<const SchemaTable>> cache_;  // key: db '\0' table
  uint64_t loads_ = 0;
};

// ---- Exposed for tests. ----

// What a DDL statement may change.
struct DdlEffect {
  enum class Kind : uint8_t { kNone, kTables, kDatabase, kEverything };
  Kind kind = Kind::kNone;
  std::vector<std::pair<std::string, std::string>> tables;  // (db, table); db defaulted
  std::string database;                                     // kDatabase
};
// no_backslash_escapes: the session's sql_mode had NO_BACKSLASH_ESCAPES ("x" is always read as a
// name: where a name is expected that only widens what is forgotten).
DdlEffect ddlEffect(std::string_view default_db, std::string_view sql,
                    bool no_backslash_escapes = false);

// ENUM/SET members from a COLUMN_TYPE such as "enum('a','it''s','b\\c')".
Result<std::vector<std::string>> parseEnumMembers(std::string_view column_type);

// Whether a TABLE_MAP column can hold a column of this definition; the reason when not.
Status checkColumnMatches(const mysql::ColumnInfo& from_map, const SchemaColumn& def);

}  // namespace dts::source
