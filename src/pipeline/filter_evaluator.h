// FilterEvaluator: judges a row filter (row_filter.h) on one row image at the source server, for
// the rows dts cannot judge exactly itself (collations, temporal values, ENUM/SET, JSON...). The
// full-data phase sends the same filter to the same server as a WHERE clause, so a row judged
// here is selected exactly when the full load would have selected it.
//
// The server implementation is source::SourceFilterEvaluator; unit tests use a fake.
// Not thread-safe: one evaluator per mapping stage.
#pragma once

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
};

}  // namespace dts::pipeline
