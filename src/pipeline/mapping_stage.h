// MappingStage: the pipeline stage between the change reader and the sinks (DESIGN.md, data
// flow). It turns source transactions into transactions named for the target, so that every
// sink applies or records what it is given and knows nothing of the task's mapping:
//   - a row event of a table the task moves gets the target database and table names, the
//     target table definition (the kept columns, in the mapping's order) and images cut to those
//     columns; its op follows the WHERE filter (mapping.h: an update entering the selection
//     becomes an insert, one leaving it a delete); its sizes are measured again when its images
//     changed;
//   - a row event the task does not move (table not selected, DML kind not allowed, row outside
//     the WHERE filter) is dropped;
//   - a DDL statement is rewritten for the destination (ddl_rewrite.h): `sql` becomes the
//     statement to run, `database` the default database to run it in ("" for none); a statement
//     that touches no moved table is dropped, and so is one the destination does not get
//     (a trigger, an event: object_ddl.h), which takeNotApplied() then reports.
// The transaction itself always stays (GTID, positions, piece flags): one left empty still
// tells a sink that it was read.
//
// Each source table definition (one mysql::TableInfo, shared by its rows until the definition
// changes) is resolved against the mapping once, on its first row, and cached; any DDL clears
// the cache, so a definition changed by it is resolved again.
// Not thread-safe: one stage per stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "pipeline/change_event.h"
#include "pipeline/ddl_rewrite.h"
#include "pipeline/mapping.h"

namespace dts::pipeline {

class PrejudgedRows;  // mapping_stage.cc

class MappingStage {
 public:
  // mapping null: every table moves unchanged; DDL is still rewritten (names qualified,
  // statements dts cannot place refused: ddl_rewrite.h).
  // source: judges the rows a WHERE filter cannot judge exactly in dts (row_filter.h), at the
  // source server; null: such a row fails map(). Not owned; must outlive the stage.
  // `ddl`: what the sink does with DDL (DdlUse::kRecord: a change log, which records every
  // statement on a selected table as sent).
  explicit MappingStage(std::shared_ptr<const Mapping> mapping, FilterEvaluator* source = nullptr,
                        DdlUse ddl = DdlUse::kApply);

  // Maps piece's events in place, keeping their order. Errors name the transaction: a moved row
  // without table_info (kInternal), a WHERE filter that cannot judge a row, a DDL dts cannot place
  // at the destination (kUnsupported); a filter the source server could not judge (kUnavailable
  // when the source connection was lost: retry). After an error the piece is partly mapped: drop
  // it.
  Status map(Transaction* piece);

  // Table definitions resolved and cached now (cleared by DDL).
  size_t cachedTables() const { return tables_.size(); }
  // Resolutions since the stage was made (each one a route lookup and a target definition).
  uint64_t resolutions() const { return resolutions_; }
  // The statements map() dropped since the last call because the destination does not get them
  // although they concern the task (a trigger, an event: object_ddl.h), each "transaction G:
  // <why>: <statement>", for the caller to warn about and count.
  std::vector<std::string> takeNotApplied() { return std::exchange(not_applied_, {}); }

 private:
  // The cached resolution of ev's table definition, made on first use.
  Result<const ResolvedTable*> resolve(const ChangeEvent& ev);
  // Asks the source, with FilterEvaluator::evaluateMany per table, for every row of the piece a
  // filter cannot judge in dts, into out->answers (nothing for fewer than two such rows).
  Status judgeTogether(Transaction* piece, PrejudgedRows* out);

  std::shared_ptr<const Mapping> mapping_;
  FilterEvaluator* source_;
  DdlUse ddl_use_;
  // By source definition; ResolvedTable::source holds it, so its address is not reused while
  // cached.
  std::unordered_map<const mysql::TableInfo*, ResolvedTable> tables_;
  const mysql::TableInfo* last_key_ = nullptr;  // the previous row's definition ...
  const ResolvedTable* last_ = nullptr;         // ... and its resolution
  uint64_t resolutions_ = 0;
  std::vector<std::string> not_applied_;
};

}  // namespace dts::pipeline
