// A mapping and a table definition shared by the mapping and mapping stage tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/filter_evaluator.h"
#include "pipeline/mapping.h"

namespace dts::pipeline::testing {

// shop -> shop_copy: orders -> orders_v2 (id and status only, rows whose status is not 'test',
// no deletes), users as is; logs: every table, unchanged.
Mapping shopMapping();

// db.table (id, total, status), primary key id.
std::shared_ptr<const mysql::TableInfo> ordersInfo(const std::string& db = "shop",
                                                   const std::string& table = "orders");

// Stands in for the source server that judges a row's filter: records the SQL it is asked
// (strings quoted plainly) and answers answer(row), or fails with `error` when it is set.
class RecordingFilterEvaluator final : public FilterEvaluator {
 public:
  Result<bool> evaluate(const RowFilter& filter, const mysql::TableInfo& table,
                        const mysql::RowImage& row) override;
  // Records the batch's size, then asks row by row (each in `asked`).
  Result<std::vector<bool>> evaluateMany(const RowFilter& filter, const mysql::TableInfo& table,
                                         const std::vector<const mysql::RowImage*>& rows) override;
  std::vector<std::string> asked;
  std::vector<size_t> batches;  // the size of each evaluateMany call
  std::function<bool(const mysql::RowImage&)> answer = [](const mysql::RowImage&) { return true; };
  Status error;
};

}  // namespace dts::pipeline::testing
