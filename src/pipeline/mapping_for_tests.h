// A mapping and a table definition shared by the mapping and mapping stage tests.
#pragma once

#include <memory>
#include <string>

#include "pipeline/mapping.h"

namespace dts::pipeline::testing {

// shop -> shop_copy: orders -> orders_v2 (id and status only, rows whose status is not 'test',
// no deletes), users as is; logs: every table, unchanged.
Mapping shopMapping();

// db.table (id, total, status), primary key id.
std::shared_ptr<const mysql::TableInfo> ordersInfo(const std::string& db = "shop",
                                                   const std::string& table = "orders");

}  // namespace dts::pipeline::testing
