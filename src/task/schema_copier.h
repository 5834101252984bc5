// SchemaCopier: creates the selected databases and tables at the destination from the source's
// SHOW CREATE TABLE, with the mapping applied: database and table renames, unselected columns
// dropped, keys kept only when every column they use is kept, foreign keys re-pointed at the
// renamed referenced table (or dropped, with a warning, when that table is not moved).
//
// Deferred secondary keys: a table the copier creates gets its plain secondary keys (KEY, not
// PRIMARY/UNIQUE/FULLTEXT/SPATIAL) only after its rows are loaded, because a sorted index build
// is much cheaper than maintaining the index row by row. The keys left out are recorded in
// `dts_meta`.`pending_indexes` BEFORE the table is created, so a crash at any instant leaves them
// recorded; the full loader adds them when the table's last chunk is done (see full_loader.h) and
// the incremental phase starts only after every pending key exists. Not deferred: keys of a table
// with foreign keys or referenced by one (InnoDB needs those indexes for the constraint), and a
// key that is the only index of an AUTO_INCREMENT column.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"
#include "task/catalog.h"

namespace dts::task {

// A secondary key left out of the CREATE TABLE, to be added once the table is loaded.
struct DeferredKey {
  std::string name;        // the index name (SHOW CREATE TABLE always names keys)
  std::string definition;  // as in SHOW CREATE TABLE: KEY `k_1` (`k`) ... ; ALTER TABLE ... ADD
                           // <definition>
};

struct RewrittenTable {
  std::string sql;                         // CREATE TABLE IF NOT EXISTS `db`.`table` (...) ...
  std::vector<std::string> warnings;       // e.g. a dropped foreign key, for the operator
  std::vector<DeferredKey> deferred_keys;  // left out of sql (only when deferral was asked)
};

// Rewrites create_sql (SHOW CREATE TABLE output of route's source table). kInvalidArgument when
// the text is not in the server's SHOW CREATE TABLE layout, kFailedPrecondition when a selected
// column is not in it. defer_secondary_keys: leave the deferrable keys out of sql (see above;
// the caller knows whether another table references this one and passes false then).
Result<RewrittenTable> rewriteCreateTable(std::string_view create_sql,
                                          const pipeline::TableRoute& route,
                                          const pipeline::Mapping& mapping,
                                          bool defer_secondary_keys = false);

// What copySchema found at the destination.
struct SchemaResult {
  std::vector<std::string> created;   // "db.table" (target names)
  std::vector<std::string> existing;  // target tables that were there already (ignore policy)
  std::vector<std::string> warnings;
};

// Creates every target database and table that does not exist yet (IF NOT EXISTS: a rerun after
// a crash continues). Session time_zone and sql_mode are made neutral so defaults copy verbatim.
// defer_secondary_keys: see above; the pending keys are recorded in dest's `dts_meta`.
Result<SchemaResult> copySchema(mysql::Connection& source, mysql::Connection& dest,
                                const std::vector<CatalogTable>& tables,
                                const pipeline::Mapping& mapping, bool defer_secondary_keys = true);

// True when `db`.`table` exists at conn.
Result<bool> tableExists(mysql::Connection& conn, const std::string& db, const std::string& table);

}  // namespace dts::task
