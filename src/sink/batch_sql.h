// BatchSql: turns a batch of mapped row events (target names, cut table info) into the SQL
// statements one destination transaction runs. Semantics (conflicting_tables = ignore, incremental
// overwrites):
//
//   insert                  REPLACE INTO (keyed table) / INSERT INTO (table without any key)
//   update, full images     keyed: DELETE the old key when the key changed, REPLACE the after row
//                           (so a row missing at the destination is written, not silently lost)
//   update, partial image   UPDATE ... SET <present after columns> WHERE <identity> = <before>
//   delete                  DELETE ... WHERE <identity> = <before>
//   no key at all           UPDATE/DELETE ... WHERE every present before column <=> value LIMIT 1
//
// The session is strict (sql_literal.h strictSqlMode); a statement that writes an ENUM's error
// value ('' at index 0) goes alone between SET SESSION sql_mode statements: lenient, then strict.
//
// Compaction: for keyed tables whose identity columns compare byte-wise (numbers, temporal,
// binary strings, *_bin collations), full-image changes to the same row inside one batch collapse
// into the row's final state, emitted as one DELETE ... IN (...) for rows that end deleted and
// multi-row REPLACEs for rows that end present (deletes first). Any other change to that table
// first flushes what is pending for it, so per-table order is kept.
//
// Bulk updates (bulk_updates = true; the applier's streamed pieces on a MariaDB destination):
// where a row's final state comes from UPDATEs that kept its key (so the row was there before
// the batch), and the table has no unique key but its identity, the row is not REPLACEd but
// updated by key: one prepared UPDATE ... SET <every other column> = ? WHERE <identity> = ?,
// run once per row of a BulkUpdate (mysql::BulkStatement). The destination then finds the row
// once instead of failing an insert on it first (REPLACE's cost, measured in issue 11), and
// parses no literal. Values travel as the literal would carry them: strings and JSON as their
// bytes under CONVERT(? USING <their character set>), exactly what `_cs X'..'` converts;
// numbers, DECIMAL and temporal values as their text; binary strings as bytes. A row with a
// value a parameter does not carry the same way (BIT, ENUM/SET known only by index, the ENUM
// error value) or a string identity (a collation to match) is REPLACEd as before. A BulkUpdate
// that matches fewer rows than it has (a destination missing rows) is followed by its REPLACE
// statements (replaceStatements), so the row is written rather than lost, as REPLACE would.
// Not thread-safe; one per worker.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "mysql/bulk_statement.h"
#include "pipeline/change_event.h"

namespace dts::sink {

// How rows of one target table are identified.
struct TableKeys {
  // Columns (indexes into the event's table_info) that identify a row: the primary key, else the
  // first unique key whose columns are all NOT NULL; empty when the table has neither.
  std::vector<size_t> identity;
  // Every unique key (identity included), for dependency tracking.
  std::vector<std::vector<size_t>> unique;
  // True when the identity values may be compacted by their bytes (see above).
  bool byte_comparable = false;
};

// Rows of one table updated by key with one prepared statement (see above).
struct BulkUpdate {
  std::string sql;  // UPDATE `db`.`t` SET `a`=?,`b`=CONVERT(? USING latin1) WHERE `id`=?
  std::vector<mysql::BulkStatement::Param> params;
  std::string table_sql;                         // `db`.`t`
  std::shared_ptr<const mysql::TableInfo> info;  // the rows' columns
  std::vector<size_t> order;                     // the column of each parameter: SET, then WHERE
  size_t key_columns = 0;                        // the last key_columns of order: the identity
  std::vector<std::string> forms;                // how each parameter travels (BatchSql's forms)
  std::vector<mysql::RowImage> rows;             // full after images

  // The parameters of every row, built when the statement runs.
  Result<mysql::BulkRows> bulkRows() const;
  // The rows as REPLACE statements of at most about max_bytes each (for a destination lacking
  // some of them).
  Result<std::vector<std::string>> replaceStatements(size_t max_bytes) const;
};

// One step of a batch: an SQL statement, or a bulk UPDATE.
struct BatchStep {
  std::string sql;
  std::shared_ptr<const BulkUpdate> bulk;  // set: the step is this (sql is empty)
};

class BatchSql {
 public:
  explicit BatchSql(size_t max_statement_bytes = 1 << 20, bool bulk_updates = false)
      : max_bytes_(max_statement_bytes), bulk_updates_(bulk_updates) {}

  // Adds one mapped row event. kInvalidArgument when the event lacks what its statement needs
  // (a before image without the identity columns, an unrenderable value), naming table and row.
  Status add(const pipeline::ChangeEvent& event, const TableKeys& keys);
  // Emits everything pending. Call before takeStatements().
  Status finish();
  // The steps so far, in order; the builder is empty afterwards.
  std::vector<BatchStep> takeSteps();
  // The same as text, a bulk update as "<its sql> -- N rows" (tests).
  std::vector<std::string> takeStatements();

  size_t rows() const { return rows_; }

 private:
  struct Entry {
    std::shared_ptr<const mysql::TableInfo> info;
    std::string key_sql;   // "(1,2)" rendered identity
    bool present = false;  // final state: row present (after) or deleted
    // Every change to the row in this batch was an UPDATE keeping its key: the row existed.
    bool in_place = false;
    // The final row when present: rendered "(v1,v2)", or its image while it may go by bulk
    // update (row_sql empty).
    std::string row_sql;
    bool lenient = false;  // row_sql writes an ENUM error value (emitLenient)
    mysql::RowImage row;
  };
  struct Pending {
    std::string table_sql;  // `db`.`t`
    std::vector<size_t> identity;
    bool sole_key = false;  // the identity is the table's only unique key
    std::vector<Entry> entries;
    std::unordered_map<std::string, size_t> index;  // key_sql -> entries
  };

  Status flushTable(const std::string& table_sql);
  Status flushAll();
  // Appends "(v1,v2,...)"; sets *lenient when a value is an ENUM's error value (sql_literal.h),
  // whose statement then runs alone under the lenient sql_mode.
  Status appendRow(std::string* out, const mysql::TableInfo& info, const mysql::RowImage& row,
                   bool* lenient);
  Result<std::string> keySql(const mysql::TableInfo& info, const std::vector<size_t>& identity,
                             const mysql::RowImage& row, const char* image) const;
  Status emitDirect(const pipeline::ChangeEvent& ev, const std::string& table_sql,
                    const TableKeys& keys);
  void emitInsert(const std::string& verb, const std::string& table_sql,
                  const mysql::TableInfo& info, std::string values_row, bool lenient);
  // Emits one statement alone under the lenient sql_mode, then back to strict (sql_literal.h:
  // the ENUM error value, which only a source without strict mode writes).
  void emitLenient(std::string statement);
  void endOpenInsert();
  // Ends what is open and emits one statement.
  void emit(std::string statement);
  // Whether present entry e of p goes by bulk update (see above); if so, sets forms[i] to how
  // column i travels: "" NULL, "i"/"u" as a signed/unsigned 64-bit integer, "t" as text, "b"
  // as bytes, "c<charset>" as bytes under CONVERT(? USING <charset>).
  bool bulkEligible(const Pending& p, const Entry& e, std::vector<std::string>* forms) const;
  // Adds e to the open bulk update (a new one when e's table or forms differ, or it is full).
  void addBulk(const Pending& p, Entry& e, const std::vector<std::string>& forms);
  void endOpenBulk();

  size_t max_bytes_;
  bool bulk_updates_;
  size_t rows_ = 0;
  std::vector<BatchStep> out_;
  std::unordered_map<std::string, Pending> pending_;
  std::vector<std::string> pending_order_;
  // A multi-row INSERT/REPLACE being built directly (not compacted), extended by consecutive
  // inserts into the same table with the same column list.
  std::string open_insert_head_;
  std::string open_insert_;
  // A bulk update being built, its parameter forms and its rows' bytes.
  std::shared_ptr<BulkUpdate> open_bulk_;
  std::vector<std::string> open_bulk_forms_;
  size_t open_bulk_bytes_ = 0;
};

// "`a`,`b`" for the columns of info.
std::string columnList(const mysql::TableInfo& info);

}  // namespace dts::sink
