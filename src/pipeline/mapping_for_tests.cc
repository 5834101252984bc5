#include "pipeline/mapping_for_tests.h"

#include "pipeline/row_filter.h"

namespace dts::pipeline::testing {

Mapping shopMapping() {
  DatabaseSelection db;
  db.database = "shop";
  db.rename_to = "shop_copy";
  TableSelection orders;
  orders.name = "orders";
  orders.rename_to = "orders_v2";
  orders.columns = {"id", "status"};
  orders.where = "status <> 'test'";
  orders.dml = DmlSet{true, true, false};
  TableSelection users;
  users.name = "users";
  db.tables = {orders, users};
  DatabaseSelection all;
  all.database = "logs";
  return Mapping::create({db, all}).value();
}

std::shared_ptr<const mysql::TableInfo> ordersInfo(const std::string& db,
                                                   const std::string& table) {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = db;
  t->table = table;
  t->columns.resize(3);
  t->columns[0].name = "id";
  t->columns[1].name = "total";
  t->columns[2].name = "status";
  t->columns[2].collation = mysql::kUtf8mb4Collation;  // utf8mb4_general_ci
  t->primary_key = {0};
  return t;
}

Result<bool> RecordingFilterEvaluator::evaluate(const RowFilter& filter,
                                                const mysql::TableInfo& table,
                                                const mysql::RowImage& row) {
  auto q = [](std::string_view s) { return "'" + std::string(s) + "'"; };
  DTS_ASSIGN_OR_RETURN(std::string sql, filter.toSqlForRow(table, row, q));
  asked.push_back(sql);
  if (!error.ok()) return error;
  return answer(row);
}

Result<std::vector<bool>> RecordingFilterEvaluator::evaluateMany(
    const RowFilter& filter, const mysql::TableInfo& table,
    const std::vector<const mysql::RowImage*>& rows) {
  batches.push_back(rows.size());
  return FilterEvaluator::evaluateMany(filter, table, rows);
}

}  // namespace dts::pipeline::testing
