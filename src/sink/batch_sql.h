// BatchSql: turns a batch of mapped row events (target names, cut table info) into the SQL
// statements one destination transaction runs. Semantics (conflicting_tables = ignore, incremental
// overwrites):
//
//   insert                  keyed table: an upsert by the identity (see key conflicts below);
//                           INSERT INTO (table without any key)
//   update, full images     keyed: DELETE the old key when the key changed, then the after row's
//                           upsert (so a row missing at the destination is written, not lost)
//   update, partial image   UPDATE ... SET <present after columns> WHERE <identity> = <before>
//   delete                  DELETE ... WHERE <identity> = <before>
//   no key at all           UPDATE/DELETE ... WHERE every present before column <=> value LIMIT 1
//
// Key conflicts (KeyConflicts): how a keyed row's upsert treats the destination's OTHER unique
// keys.
//   kFail (the default): DELETE the row's identity, then INSERT it. A row that collides on
//     another unique key fails the batch (error 1062) and nothing of it is written. Replayed in
//     source order from a destination that equals the source, no row can collide (the source
//     checked every unique key it has at every row), so a collision means the destination has a
//     unique key the source does not enforce, or rows the source does not have: REPLACE would
//     delete the other row, silently.
//   kReplace: REPLACE INTO, which deletes every row the new one collides with on any unique key.
//     Only for replaying changes the full phase's chunks may already hold (full_loader.h): the
//     destination is then a mix of snapshots, where rows collide until the replay converges.
//   Under kFail, a table whose only unique key at the destination is the identity
//   (TableKeys::identity_only) goes by REPLACE too, which then deletes no other row and runs
//   faster (an in-place update): measured in one run, a sysbench catch-up of 88,117 transactions
//   took 2.48 s by DELETE + INSERT, 2.03 s by REPLACE. That holds only while no unique key is
//   added: such tables are listed (guardedTables), and the applier reads their unique keys again
//   inside the same destination transaction, before it commits (sink/mysql_applier.h).
// The session is strict (sql_literal.h strictSqlMode); a statement that writes an ENUM's error
// value ('' at index 0) goes alone between SET SESSION sql_mode statements: lenient, then strict.
// Values are written as the destination's flavor stores them (sql_literal.h appendSqlLiteral: a
// FLOAT -0 as -1e-50 on MariaDB) and matched by appendMatchLiteral; a row of a table without a key
// is found by its values and, for a FLOAT or DOUBLE zero, its sign. A -0 the destination cannot
// store (a DOUBLE on MariaDB) fails the batch, naming the table and column.
//
// Compaction: for keyed tables whose identity columns compare byte-wise (numbers, temporal,
// binary strings, *_bin collations), full-image changes to the same row inside one batch collapse
// into the row's final state, emitted as one DELETE ... IN (...) for rows that end deleted (kFail:
// for every row it touched) and multi-row INSERTs (kFail) or REPLACEs for rows that end present
// (deletes first). The table then holds what the source's held after the last of those changes.
// Any other change to that table first flushes what is pending for it, so per-table order is
// kept. Consecutive upserts of other keyed rows go as one DELETE ... IN (...) of their keys, then
// one multi-row INSERT (a key that comes again starts the next pair).
//
// Bulk upserts (bulk_replace = true; the applier on a MariaDB destination): the rows of a
// compacted table that end present go, in the same order, as one prepared INSERT (kFail) or
// REPLACE INTO ... VALUES (?, ...) run with arrays of parameters (a BulkReplace,
// mysql::BulkStatement) instead of multi-row statements: the same semantics, without a literal
// for the destination to parse per value. Values travel as the literal would carry them: strings,
// ENUM/SET names and JSON as their bytes under CONVERT(? USING <their character set>), exactly what
// `_cs X'..'` converts; integers as 64-bit integers; DOUBLE, DECIMAL and temporal values as their
// literal's text; binary strings as bytes. A row with a value a parameter does not carry the same
// way (BIT, an ENUM/SET known only by its index, the ENUM error value) goes by a statement, in its
// place in the order.
//
// Foreign key actions: the source never logs the rows its foreign keys' ON DELETE / ON UPDATE
// actions (CASCADE, SET NULL, SET DEFAULT) change, and the applier's session runs with
// foreign_key_checks = 0, under which the destination takes no action either. So a row change
// that fires such an action (firesForeignKeyActions: written at the source with checks on, a
// delete of a row of a table that the destination's foreign keys reference with an ON DELETE
// action, or an update that changes a column referenced with an ON UPDATE action) runs with
// foreign_key_checks = 1, after everything before it in the batch, and as a statement that acts
// the way the source's did: a DELETE (never an upsert that would write a row back), an UPDATE
// of the changed referenced columns followed by the row's usual upsert, checks off again. The
// destination's own foreign keys then change the child rows, as on a native replica. The applier
// runs a transaction holding such a row alone (sink/mysql_applier.h): the rows an action changes
// are nowhere in its key hashes.
// Not thread-safe; one per worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "mysql/bulk_statement.h"
#include "mysql/row_decoder.h"
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
  // The destination's only unique key is the identity (see key conflicts above).
  bool identity_only = false;
  // The destination's foreign keys that reference this table with an action (see above): whether
  // deleting a row acts, and the columns (indexes into the event's table_info) whose change acts.
  bool delete_acts = false;
  std::vector<size_t> update_acting;
  std::vector<std::pair<std::string, std::string>> acting_on;  // the tables they change
};

// Whether a row change fires foreign key actions at the destination (see above).
bool firesForeignKeyActions(const pipeline::ChangeEvent& ev, const TableKeys& keys);

// How an upsert treats the destination's other unique keys (see above).
enum class KeyConflicts { kFail, kReplace };

// Rows of one table written by one prepared INSERT or REPLACE (see above).
struct BulkReplace {
  std::string sql;    // REPLACE INTO `db`.`t` (`id`,`s`) VALUES (?,CONVERT(? USING latin1))
  std::string table;  // `db`.`t`
  std::vector<mysql::BulkStatement::Param> params;                  // one per column of info
  std::shared_ptr<const mysql::TableInfo> info;                     // the rows' columns
  std::vector<mysql::RowImage> rows;                                // full after images
  mysql::ServerFlavor destination = mysql::ServerFlavor::kMariaDb;  // how its literals store

  // The parameters of rows [begin, end) (every row by default), built when the statement runs.
  Result<mysql::BulkRows> bulkRows(size_t begin = 0, size_t end = SIZE_MAX) const;
  // About the bytes the parameters of rows [begin, end) take on the wire.
  size_t bytes(size_t begin = 0, size_t end = SIZE_MAX) const;
  // Rows [begin, ...) as multi-row REPLACE statements of at most about max_bytes each (a row
  // larger goes alone), for a server that refuses to prepare another statement.
  Result<std::vector<std::string>> statements(size_t max_bytes, size_t begin = 0) const;
};

// One step of a batch: an SQL statement, or a bulk REPLACE.
struct BatchStep {
  std::string sql;
  std::shared_ptr<const BulkReplace> bulk;  // set: the step is this (sql is empty)
};

class BatchSql {
 public:
  // destination: the server's flavor, for the literals that store values (appendSqlLiteral).
  // guarded: a table whose only unique key is the identity may go by REPLACE under kFail (see
  // key conflicts above).
  explicit BatchSql(size_t max_statement_bytes = 1 << 20, bool bulk_replace = false,
                    mysql::ServerFlavor destination = mysql::ServerFlavor::kMariaDb,
                    KeyConflicts conflicts = KeyConflicts::kFail, bool guarded = false)
      : max_bytes_(max_statement_bytes),
        bulk_replace_(bulk_replace),
        destination_(destination),
        replace_(conflicts == KeyConflicts::kReplace),
        guarded_(guarded) {}

  // Adds one mapped row event. kInvalidArgument when the event lacks what its statement needs
  // (a before image without the identity columns, an unrenderable value), naming table and row.
  Status add(const pipeline::ChangeEvent& event, const TableKeys& keys);
  // Emits everything pending. Call before takeStatements().
  Status finish();
  // The steps so far, in order; the builder is empty afterwards.
  std::vector<BatchStep> takeSteps();
  // The same as text, a bulk REPLACE as "<its sql> -- N rows" (tests).
  std::vector<std::string> takeStatements();

  size_t rows() const { return rows_; }
  // The tables written by REPLACE under kFail because their only unique key is the identity
  // ((db, table) target names -> the identity's column names): whose unique keys must be read
  // again before the commit.
  using GuardedTables = std::map<std::pair<std::string, std::string>, std::vector<std::string>>;
  const GuardedTables& guardedTables() const { return guarded_tables_; }

 private:
  struct Entry {
    std::shared_ptr<const mysql::TableInfo> info;
    std::string key_sql;   // "(1,2)" rendered identity (keyTerm)
    bool present = false;  // final state: row present (after) or deleted
    // The final row when present: rendered "(v1,v2)", or (row_sql empty, bulk_replace) its
    // image.
    std::string row_sql;
    bool lenient = false;  // row_sql writes an ENUM error value (emitLenient)
    mysql::RowImage row;
  };
  struct Pending {
    std::string table_sql;  // `db`.`t`
    std::vector<size_t> identity;
    bool replace = false;  // upserts by REPLACE (replacing)
    std::vector<Entry> entries;
    std::unordered_map<std::string, size_t> index;  // key_sql -> entries
  };

  Status flushTable(const std::string& table_sql);
  Status flushAll();
  Status emitDirect(const pipeline::ChangeEvent& ev, const std::string& table_sql,
                    const TableKeys& keys);
  // The WHERE condition that finds the row the event changes: identity = before, or (no key)
  // every present before column <=> its value.
  Status matchWhere(const pipeline::ChangeEvent& ev, const std::string& table_sql,
                    const TableKeys& keys, std::string* where) const;
  // An event that fires foreign key actions (see above). *done: nothing more to write for it;
  // otherwise the row's usual statements follow.
  Status emitActing(const pipeline::ChangeEvent& ev, const std::string& table_sql,
                    const TableKeys& keys, bool* done);
  void emitInsert(const std::string& verb, const std::string& table_sql,
                  const mysql::TableInfo& info, std::string values_row, bool lenient);
  // A keyed row's upsert, not compacted (see key conflicts above): REPLACE, or (kFail) INSERT
  // preceded by a DELETE of its identity, which consecutive upserts into the table share.
  Status emitUpsert(const pipeline::ChangeEvent& ev, const std::string& table_sql,
                    const TableKeys& keys, const mysql::RowImage& row);
  // Whether a row of the event's table is upserted by REPLACE: kReplace, or a guarded table whose
  // only unique key is the identity (then listed in guardedTables).
  bool replacing(const pipeline::ChangeEvent& ev, const TableKeys& keys);
  static const char* upsertVerb(bool replace) { return replace ? "REPLACE" : "INSERT"; }
  // Emits one statement alone under the lenient sql_mode, then back to strict (sql_literal.h:
  // the ENUM error value, which only a source without strict mode writes).
  void emitLenient(std::string statement);
  void endOpenInsert();
  // Ends what is open and emits one statement.
  void emit(std::string statement);
  // Whether row (of a table described by info) can go by bulk REPLACE (see above); if so, sets
  // forms[i] to how column i travels: "" NULL, "i"/"u" as a signed/unsigned 64-bit integer, "t"
  // as text, "b" as bytes, "c<charset>" as bytes under CONVERT(? USING <charset>).
  static bool rowForms(const mysql::TableInfo& info, const mysql::RowImage& row,
                       std::vector<std::string>* forms);
  // Adds row to the open bulk upsert (a new one when its verb, table or forms differ, or it is
  // full).
  void addBulk(bool replace, const std::string& table_sql,
               const std::shared_ptr<const mysql::TableInfo>& info, mysql::RowImage row,
               const std::vector<std::string>& forms);
  void endOpenBulk();

  size_t max_bytes_;
  bool bulk_replace_;
  mysql::ServerFlavor destination_;
  bool replace_;  // KeyConflicts::kReplace
  bool guarded_;
  GuardedTables guarded_tables_;
  size_t rows_ = 0;
  std::vector<BatchStep> out_;
  std::unordered_map<std::string, Pending> pending_;
  std::vector<std::string> pending_order_;
  // A multi-row INSERT/REPLACE being built directly (not compacted), extended by consecutive
  // inserts into the same table with the same column list.
  std::string open_insert_head_;
  std::string open_insert_;
  // kFail: the identities of the rows of the open INSERT or bulk (whichever is open), emitted as
  // one DELETE right before it; empty when it has none (a compacted table's flush deletes them).
  std::string open_delete_;
  std::string open_delete_table_;             // its table
  std::vector<size_t> open_delete_identity_;  // and key columns
  const char* open_delete_separator_ = ",";
  const char* open_delete_tail_ = ")";
  std::unordered_set<std::string> open_keys_;  // its keys: a row's second upsert starts another
  // A bulk REPLACE being built, its table, its parameter forms and its rows' bytes.
  std::shared_ptr<BulkReplace> open_bulk_;
  bool open_bulk_replace_ = false;
  std::string open_bulk_table_;
  std::vector<std::string> open_bulk_forms_;
  size_t open_bulk_bytes_ = 0;
};

// "`a`,`b`" for the columns of info.
std::string columnList(const mysql::TableInfo& info);
// "`a`,`b`" for the columns `identity` (indexes into info's columns).
std::string columnList(const mysql::TableInfo& info, const std::vector<size_t>& identity);
// "(1,'x')": row's values of the columns `identity` as match literals (sql_literal.h), the
// tuple a `WHERE (identity columns) IN (...)` takes. kInvalidArgument naming the table, the
// image ("before"/"after") and the column when the row lacks one.
Result<std::string> keyTuple(const mysql::TableInfo& info, const std::vector<size_t>& identity,
                             const mysql::RowImage& row, const char* image);

// A DELETE of rows listed by key: `DELETE FROM t WHERE (cols) IN (` + keyTerms joined by `,` +
// `)`; for a key with an ENUM or SET column, `DELETE FROM t WHERE ` + keyTerms joined by ` OR `.
// MariaDB's row IN compares a column with the whole list under one type and character set
// aggregated over the list: an ENUM whose member names are in another character set than the
// column's, or a list mixing names and an index (the ENUM error value), matches nothing.
// How many keys one such list holds at most. MariaDB's range optimizer gives up on a long list
// (optimizer_max_sel_arg_weight) and scans the whole table instead, much sooner for a key of
// several columns: measured on MariaDB 10.11 with 150,000 rows, a 2-column key with one more
// index was a scan from 2,000 tuples on, a 3-column key with three more indexes from 1,000; a
// 1-column key from between 20,000 and 50,000 values. Every DELETE and key read by key list
// stays under these.
inline constexpr size_t kMaxKeysPerList = 10000;
inline constexpr size_t kMaxCompositeKeysPerList = 200;
inline size_t maxKeysPerList(size_t key_columns) {
  return key_columns > 1 ? kMaxCompositeKeysPerList : kMaxKeysPerList;
}
struct KeyListDelete {
  std::string head;
  const char* separator = ",";
  const char* tail = ")";
};
KeyListDelete keyListDelete(const std::string& table_sql, const mysql::TableInfo& info,
                            const std::vector<size_t>& identity);
// One row's key in such a DELETE: keyTuple, or `(`a`=1 AND `k`='x')` for a key with an ENUM
// or SET column. Errors as keyTuple's.
Result<std::string> keyTerm(const mysql::TableInfo& info, const std::vector<size_t>& identity,
                            const mysql::RowImage& row, const char* image);

}  // namespace dts::sink
