// TableSelector: which source tables a reader keeps. The transaction builder decodes the rows of
// selected tables only, and the change reader completes (source/schema_tracker.h) only their
// definitions: a table nobody asked for is never decoded, so a definition the tracker cannot
// match for it never stops a reader. Two implementations: TableFilter (a pattern list such as
// `--tables db.t,db2.*`, transaction_builder.h) and Mapping (a task's objects, mapping.h).
//
// Thread-safety: implementations are immutable; every method may be called from several threads.
#pragma once

#include <string_view>

namespace dts::pipeline {

class TableSelector {
 public:
  virtual ~TableSelector() = default;
  // True when the rows of db.table are kept.
  virtual bool selectsTable(std::string_view db, std::string_view table) const = 0;
  // True when some table of db may be kept (DDL run with db as its default database is kept).
  virtual bool selectsDatabase(std::string_view db) const = 0;
};

}  // namespace dts::pipeline
