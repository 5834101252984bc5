// Mapping: which source objects a task moves and what they become at the destination. One model
// shared by the full-data loader (task/) and the incremental applier (sink/), so that both phases
// select, rename, cut and filter rows the same way:
//
//   database selection  -> optional rename of the database
//   table selection     -> optional rename, column subset, WHERE filter, allowed DML kinds
//   no table list       -> every table of the database, all columns, all rows, all DML
//
// Names are compared exactly (case-sensitive), as MySQL does on Linux with
// lower_case_table_names=0. Thread-safety: a Mapping is immutable after create(); every const
// method may be called from several threads at once.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pipeline/change_event.h"
#include "pipeline/row_filter.h"
#include "pipeline/table_selector.h"

namespace dts::pipeline {

// The DML kinds a table's changes are replicated with (DDL is governed by options.ddl).
struct DmlSet {
  bool insert = true;
  bool update = true;
  bool del = true;

  // True for row ops allowed by the set; kDdl is always allowed here.
  bool allows(ChangeEvent::Op op) const;
  // "insert", "update", "delete": anything else is kInvalidArgument naming the word.
  static Result<DmlSet> parse(const std::vector<std::string>& names);
  bool all() const { return insert && update && del; }
};

struct TableSelection {
  std::string name;                  // source table name
  std::string rename_to;             // empty: same name
  std::vector<std::string> columns;  // empty: every column; else the columns to keep, in order
  std::string where;                 // empty: every row; else a boolean expression (row_filter.h)
  DmlSet dml;
};

struct DatabaseSelection {
  std::string database;                // source database name
  std::string rename_to;               // empty: same name
  std::vector<TableSelection> tables;  // empty: every table of the database
};

// Where one source table goes and how.
struct TableRoute {
  std::string source_database;
  std::string source_table;
  std::string target_database;
  std::string target_table;
  std::vector<std::string> columns;         // empty: every column
  std::string where;                        // empty: every row (the text, for SQL WHERE)
  std::shared_ptr<const RowFilter> filter;  // null: every row (compiled `where`)
  DmlSet dml;

  bool allColumns() const { return columns.empty(); }
  // True when `column` is kept at the destination.
  bool keepsColumn(std::string_view column) const;
};

// As a TableSelector it selects the tables it routes (what a reader must decode for the task).
class Mapping final : public TableSelector {
 public:
  Mapping() = default;

  // Validates the selections: non-empty names, no database or table listed twice, no two
  // sources renamed onto the same target, no duplicate column, a WHERE that compiles
  // (row_filter.h). Errors name the offending object ("objects[0].tables[1].where: ...").
  static Result<Mapping> create(std::vector<DatabaseSelection> selections);

  const std::vector<DatabaseSelection>& selections() const { return selections_; }

  // True when some table of db may be selected.
  bool selectsDatabase(std::string_view db) const override;
  // True when db.table is moved: route() has a value (without building the route).
  bool selectsTable(std::string_view db, std::string_view table) const override;
  // The destination name of a selected database (db itself when not renamed or not selected).
  std::string targetDatabase(std::string_view db) const;
  // The route of a selected table; nullopt when the task does not move it.
  std::optional<TableRoute> route(std::string_view db, std::string_view table) const;
  // True when db is selected with an explicit table list (so tables created later are not).
  bool hasTableList(std::string_view db) const;

  // Maps one row event (insert/update/delete) of a source table to what the destination must
  // apply, or nullopt when the event is not moved (table not selected, DML kind not allowed, rows
  // outside the WHERE filter). The result has target names, and its table_info and row images cut
  // to the selected columns. With a WHERE filter an update is judged on both images:
  //   before in,  after in   -> update
  //   before out, after in   -> insert   (the row enters the selection; apply as an upsert)
  //   before in,  after out  -> delete   (the row leaves the selection)
  //   before out, after out  -> nullopt
  // Whether an update is moved at all is decided by the dml set's update flag (the source op),
  // also when it turns into an insert or delete. DDL events come back with the target database
  // name and the statement unchanged (rewriting DDL text is the applier's job).
  // REQUIRES: row events carry table_info with column names. Pass an event the caller no longer
  // needs with std::move: its values are then moved, not copied.
  Result<std::optional<ChangeEvent>> mapEvent(ChangeEvent event) const;

 private:
  const DatabaseSelection* findDatabase(std::string_view db) const;
  std::shared_ptr<const mysql::TableInfo> cutTableInfo(
      const std::shared_ptr<const mysql::TableInfo>& source, const TableRoute& route,
      std::shared_ptr<const std::vector<size_t>>* kept) const;

  std::vector<DatabaseSelection> selections_;
  // Compiled filters, by "db\0table".
  std::map<std::string, std::shared_ptr<const RowFilter>, std::less<>> filters_;

  struct CutCache {
    std::mutex mu;
    struct Entry {
      std::shared_ptr<const mysql::TableInfo> source;  // kept alive so the key is never reused
      std::shared_ptr<const mysql::TableInfo> cut;
      std::shared_ptr<const std::vector<size_t>> kept;
    };
    std::map<const mysql::TableInfo*, Entry> entries;
  };
  std::shared_ptr<CutCache> cache_ = std::make_shared<CutCache>();
};

}  // namespace dts::pipeline
