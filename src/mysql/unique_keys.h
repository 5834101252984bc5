// The unique keys of a table, as the server's information_schema.STATISTICS reports them: the
// one query the catalog (chunking keys), the applier (row identity, conflict detection) and the
// schema tracker (primary key) share. Also its generated columns, as information_schema.COLUMNS
// reports them: the catalog (not copied by the full load) and the applier (never written) share
// one rule.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"

namespace dts::mysql {

struct UniqueKey {
  std::string name;                  // the index name; "PRIMARY" for the primary key
  std::vector<std::string> columns;  // in key order (SEQ_IN_INDEX)
  bool nullable = false;             // some column of the key accepts NULL
  // Per column: the prefix length the key covers (SUB_PART: characters, bytes for binary
  // strings), 0 for the whole column.
  std::vector<uint32_t> sub_parts;

  bool prefix() const {
    for (uint32_t p : sub_parts)
      if (p != 0) return true;
    return false;
  }

  bool primary() const { return name == "PRIMARY"; }
};

// The unique keys of `database`.`table`: PRIMARY first, then the others by name. Empty when the
// table has none or does not exist. Errors name the table.
Result<std::vector<UniqueKey>> readUniqueKeys(Connection& conn, const std::string& database,
                                              const std::string& table);

// The same over any session: `query` runs the statement, `quote` makes an SQL string literal.
using QueryFn = std::function<Result<QueryResult>(const std::string& sql)>;
using QuoteFn = std::function<std::string(std::string_view text)>;
Result<std::vector<UniqueKey>> readUniqueKeys(const QueryFn& query, const QuoteFn& quote,
                                              const std::string& database,
                                              const std::string& table);

// Whether a column whose information_schema.COLUMNS.EXTRA is `extra` is generated, its value
// computed by the server and never written: "VIRTUAL GENERATED" / "STORED GENERATED" (MySQL 5.7+,
// MariaDB 10.2+), "VIRTUAL" / "PERSISTENT" (MariaDB 10.1). MySQL 8's "DEFAULT_GENERATED" (a
// column whose DEFAULT is an expression, such as CURRENT_TIMESTAMP) is not generated: it is
// written like any other column. Case-insensitive.
bool isGeneratedColumnExtra(std::string_view extra);

// The generated columns of `database`.`table`, in table order; empty when it has none or does not
// exist. Errors name the table.
Result<std::vector<std::string>> readGeneratedColumns(const QueryFn& query, const QuoteFn& quote,
                                                      const std::string& database,
                                                      const std::string& table);

// What the foreign keys that reference a table do to their own rows when a row of it is deleted
// or its referenced columns change (REFERENTIAL_CONSTRAINTS' DELETE_RULE and UPDATE_RULE):
// CASCADE, SET NULL and SET DEFAULT act; RESTRICT and NO ACTION only check. The binlog never
// carries the rows those actions change (sink/batch_sql.h).
// Whether a DELETE_RULE / UPDATE_RULE acts on the referencing rows (CASCADE, SET NULL, SET
// DEFAULT) rather than only checking (RESTRICT, NO ACTION).
bool foreignKeyRuleActs(std::string_view rule);

struct ReferencingActions {
  bool on_delete = false;  // some foreign key acts ON DELETE
  // The referenced columns (of the table) of the foreign keys that act ON UPDATE, each once.
  std::vector<std::string> on_update_columns;
  // The tables whose acting foreign keys reference it (database, table), each once.
  std::vector<std::pair<std::string, std::string>> tables;
};
// Every table of the server that acting foreign keys reference, by (database, table). One query:
// information_schema cannot look foreign keys up by the table they reference, so a query per
// table would read every table's definition each time (0.3 s a table with 2,000 tables).
using ReferencingActionsMap = std::map<std::pair<std::string, std::string>, ReferencingActions>;
Result<ReferencingActionsMap> readReferencingActions(const QueryFn& query);

}  // namespace dts::mysql
