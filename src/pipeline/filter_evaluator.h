// FilterEvaluator: judges a row filter (row_filter.h) on one row image at the source server, for
// the rows dts cannot judge exactly itself (collations, temporal values, ENUM/SET, JSON...). The
// full-data phase sends the same filter to the same server as a WHERE clause, so a row judged
// here is selected exactly when the full load would have selected it.
//
// The server implementation is source::SourceFilterEvaluator; unit tests use a fake.
// Not thread-safe: one evaluator per mapping stage.
#pragma once

#include <vector>

#include "common/status.h"
#include "mysql/table_info.h"

namespace dts::pipeline {

class RowFilter;

class FilterEvaluator {
 public:
  virtual ~FilterEvaluator() = default;

  // True when `filter` is TRUE for `row` of `table` (FALSE and NULL: false), as the server
  // evaluates filter.toSqlForRow(...). Never guesses: a lost connection is kUnavailable (the
  // task retries), anything else the server refuses is returned as its error.
  virtual Result<bool> evaluate(const RowFilter& filter, const mysql::TableInfo& table,
                                const mysql::RowImage& row) = 0;

  // evaluate() for many rows of one table, the answers in the rows' order; an implementation
  // asks for them together (the source server: a few statements instead of one per row). This
  // one asks row by row.
  virtual Result<std::vector<bool>> evaluateMany(const RowFilter& filter,
                                                 const mysql::TableInfo& table,
                                                 const std::vector<const mysql::RowImage*>& rows) {
    std::vector<bool> out;
    out.reserve(rows.size());
    for (const mysql::RowImage* row : rows) {
      DTS_ASSIGN_OR_RETURN(bool selected, evaluate(filter, table, *row));
      out.push_back(selected);
    }
    return out;
  }
};

}  // namespace dts::pipeline
