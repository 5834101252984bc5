// Row changes for tests, named as their table.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "pipeline/change_event.h"

namespace dts::pipeline::testing {

// A row change of `table` (database and table named as it is), with the images given.
inline ChangeEvent rowChange(ChangeEvent::Op op, std::shared_ptr<const mysql::TableInfo> table,
                             std::optional<mysql::RowImage> before,
                             std::optional<mysql::RowImage> after) {
  ChangeEvent e;
  e.op = op;
  e.database = table->database;
  e.table = table->table;
  e.table_info = std::move(table);
  if (before) e.before = std::move(*before);
  if (after) e.after = std::move(*after);
  return e;
}

}  // namespace dts::pipeline::testing
