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
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "pipeline/change_event.h"
#include "pipeline/filter_evaluator.h"
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
  // With no `tables` list: the tables left out of "every table" (exact names, also tables the
  // source creates later). The database is still moved whole otherwise: its views and routines
  // go with it, which a `tables` list would leave behind.
  std::vector<std::string> exclude;

  bool excludes(std::string_view table) const;
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

// One source table definition resolved against the mapping (Mapping::resolve): what every row
// of it becomes. Resolved once per table definition by the mapping stage (mapping_stage.h).
struct ResolvedTable {
  std::shared_ptr<const mysql::TableInfo> source;  // the definition it was resolved for
  bool moved = false;  // false: the task does not move the table (nothing below is set)
  TableRoute route;
  // The target definition: target names, the kept columns in route order, the primary key
  // renumbered (empty when a key column is not kept: the destination has no such key either).
  std::shared_ptr<const mysql::TableInfo> target;
  std::vector<size_t> kept;  // for each target column, its index in the source definition
  bool all_columns = true;   // kept is every source column in order: images pass unchanged
};

// The definition with only the columns `kept` (indexes into source, in that order), database,
// table and table id unchanged, the primary key renumbered (empty when a key column is not kept:
// the destination has no such key either). The mapping cuts a route's column subset with it; the
// MySQL applier cuts the columns its destination computes (generated columns).
std::shared_ptr<mysql::TableInfo> keepColumns(const mysql::TableInfo& source,
                                              const std::vector<size_t>& kept);
// The image cut to the columns `kept` (as keepColumns); a column the image lacks becomes an
// absent NULL. `all_columns`: kept is every column in order (an image that has them all is
// left as it is).
void cutImage(mysql::RowImage* image, const std::vector<size_t>& kept, bool all_columns);

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
  // The source table whose rows go to target_db.target_table at the destination (the renames
  // in reverse: create() lets no two sources map onto one target); nullopt when none does.
  std::optional<std::pair<std::string, std::string>> sourceTable(
      std::string_view target_db, std::string_view target_table) const;
  // True when db is selected with an explicit table list (so tables created later are not).
  bool hasTableList(std::string_view db) const;

  // The source table db.table with definition `source` resolved against the mapping.
  // kInternal when the table is moved and source is null.
  Result<ResolvedTable> resolve(std::string_view db, std::string_view table,
                                const std::shared_ptr<const mysql::TableInfo>& source) const;
  // Maps one row event of `table` in place (see mapEvent); false when the row is not moved (the
  // event is then left as it was). `source` judges the rows the WHERE filter cannot judge exactly
  // in dts (row_filter.h); null: such a row is an error. REQUIRES: event is a row event of
  // table's definition.
  static Result<bool> mapRow(const ResolvedTable& table, ChangeEvent* event,
                             FilterEvaluator* source = nullptr);

  // Maps one row event (insert/update/delete) of a source table to what the destination must
  // apply, or nullopt when the event is not moved (table not selected, DML kind not allowed, rows
  // outside the WHERE filter). The result has target names, and its table_info and row images cut
  // to the selected columns (and its sizes measured again when its images changed). With a WHERE
  // filter an update is judged on both images:
  //   before in,  after in   -> update
  //   before out, after in   -> insert   (the row enters the selection; apply as an upsert)
  //   before in,  after out  -> delete   (the row leaves the selection)
  //   before out, after out  -> nullopt
  // Whether an update is moved at all is decided by the dml set's update flag (the source op),
  // also when it turns into an insert or delete. DDL events come back with the target database
  // name and the statement unchanged (rewriting DDL text is the applier's job).
  // REQUIRES: row events carry table_info with column names. Pass an event the caller no longer
  // needs with std::move: its values are then moved, not copied. This resolves the table for
  // every call; a stream of events goes through a MappingStage, which resolves once per table.
  Result<std::optional<ChangeEvent>> mapEvent(ChangeEvent event,
                                              FilterEvaluator* source = nullptr) const;

 private:
  const DatabaseSelection* findDatabase(std::string_view db) const;

  std::vector<DatabaseSelection> selections_;
  // Compiled filters, by "db\0table".
  std::map<std::string, std::shared_ptr<const RowFilter>, std::less<>> filters_;
};

}  // namespace dts::pipeline
