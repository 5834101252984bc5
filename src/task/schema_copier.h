// SchemaCopier: creates the selected databases and tables at the destination from the source's
// SHOW CREATE TABLE, with the mapping applied: database and table renames, unselected columns
// dropped, keys kept only when every column they use is kept, foreign keys re-pointed at the
// renamed referenced table (or dropped, with a warning, when that table is not moved).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"
#include "task/catalog.h"

namespace dts::task {

struct RewrittenTable {
  std::string sql;                    // CREATE TABLE IF NOT EXISTS `db`.`table` (...) ...
  std::vector<std::string> warnings;  // e.g. a dropped foreign key, for the operator
};

// Rewrites create_sql (SHOW CREATE TABLE output of route's source table). kInvalidArgument when
// the text is not in the server's SHOW CREATE TABLE layout, kFailedPrecondition when a selected
// column is not in it.
Result<RewrittenTable> rewriteCreateTable(std::string_view create_sql, const pipeline::TableRoute& route,
                                          const pipeline::Mapping& mapping);

// What copySchema found at the destination.
struct SchemaResult {
  std::vector<std::string> created;   // "db.table" (target names)
  std::vector<std::string> existing;  // target tables that were there already (ignore policy)
  std::vector<std::string> warnings;
};

// Creates every target database and table that does not exist yet (IF NOT EXISTS: a rerun after
// a crash continues). Session time_zone and sql_mode are made neutral so defaults copy verbatim.
Result<SchemaResult> copySchema(mysql::Connection& source, mysql::Connection& dest,
                                const std::vector<CatalogTable>& tables, const pipeline::Mapping& mapping);

// True when `db`.`table` exists at conn.
Result<bool> tableExists(mysql::Connection& conn, const std::string& db, const std::string& table);

}  // namespace dts::task
