// Whether a data change the source logged as an SQL statement, on a table a task does not move,
// may have changed tables it does move: through a view over them, or a trigger on the table that
// names them. Those rows are in no row event (the statement is all the binlog has), so the
// transaction builder refuses such a statement as it refuses one on a moved table
// (pipeline::TransactionBuilder::Options::writes_through), instead of moving on without them.
//
// Decision: names, not semantics. A view's definition (fully qualified by the server) or a
// trigger's body (its unqualified names in the trigger's database) that names a moved table, or
// a trigger body that CALLs a procedure (whose body dts does not follow), counts; a statement in
// a trigger naming a moved table only to read it is refused too. Being refused where nothing was
// written costs a restart with binlog_format=ROW; being let through where something was costs
// rows that never arrive.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/table_selector.h"

namespace dts::source {

// Empty when writing `db`.`table` writes nothing `moved` selects, as far as its definition and
// triggers say; else what does ("a view over `s5`.`t`", "trigger `other`.`tr` names `s5`.`t`",
// "trigger `other`.`tr` calls a procedure"). Reads information_schema.VIEWS and TRIGGERS.
Result<std::string> writesThrough(mysql::Connection& source, const pipeline::TableSelector& moved,
                                  const std::string& db, const std::string& table);

// The same judgement on definitions already read (for tests): `view_definition` empty when the
// table is no view; triggers as (schema, name, body).
struct TriggerText {
  std::string schema, name, body;
};
std::string judgeWritesThrough(const pipeline::TableSelector& moved,
                               const std::string& view_definition,
                               const std::vector<TriggerText>& triggers);

}  // namespace dts::source
