#include "pipeline/mapping.h"

#include <gtest/gtest.h>

#include "pipeline/mapping_for_tests.h"

namespace dts::pipeline {
namespace {

using mysql::Value;

using testing::ordersInfo;
using testing::shopMapping;

mysql::RowImage image(int64_t id, const char* status) {
  mysql::RowImage r;
  r.values = {Value::ofInt(id), Value::ofText(Value::Kind::kDecimal, "1.00"),
              Value::ofText(Value::Kind::kString, status)};
  r.present.assign(3, true);
  return r;
}

ChangeEvent event(ChangeEvent::Op op, const char* before, const char* after) {
  ChangeEvent e;
  e.op = op;
  e.database = "shop";
  e.table = "orders";
  e.table_info = ordersInfo();
  if (before) e.before = image(1, before);
  if (after) e.after = image(1, after);
  return e;
}

TEST(MappingTest, RoutesRenamesAndSelectsTables) {
  Mapping m = shopMapping();
  auto r = m.route("shop", "orders");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->target_database, "shop_copy");
  EXPECT_EQ(r->target_table, "orders_v2");
  EXPECT_TRUE(r->keepsColumn("status"));
  EXPECT_FALSE(r->keepsColumn("total"));
  ASSERT_NE(r->filter, nullptr);
  EXPECT_FALSE(m.route("shop", "other").has_value());
  EXPECT_FALSE(m.route("nope", "orders").has_value());
  auto logs = m.route("logs", "anything");
  ASSERT_TRUE(logs.has_value());
  EXPECT_EQ(logs->target_database, "logs");
  EXPECT_EQ(logs->target_table, "anything");
  EXPECT_TRUE(logs->allColumns());
  EXPECT_EQ(m.targetDatabase("shop"), "shop_copy");
  EXPECT_TRUE(m.hasTableList("shop"));
  EXPECT_FALSE(m.hasTableList("logs"));
}

// The status shows tables by their source name; the sinks count them by their target name.
TEST(MappingTest, FindsTheSourceOfATargetTable) {
  Mapping m = shopMapping();
  using Name = std::pair<std::string, std::string>;
  EXPECT_EQ(m.sourceTable("shop_copy", "orders_v2"), (Name{"shop", "orders"}));
  EXPECT_EQ(m.sourceTable("shop_copy", "users"), (Name{"shop", "users"}));
  EXPECT_EQ(m.sourceTable("logs", "anything"), (Name{"logs", "anything"}));
  EXPECT_FALSE(m.sourceTable("shop_copy", "orders").has_value());  // renamed away
  EXPECT_FALSE(m.sourceTable("shop", "orders").has_value());       // not a target database
  EXPECT_FALSE(m.sourceTable("nope", "t").has_value());
}

// What a reader decodes for the task (it replaced a database filter text made from the mapping and
// parsed back, which let every table of a selected database through and every table of all
// databases when a name could not be written as a pattern).
TEST(MappingTest, SelectsExactlyTheTablesItRoutes) {
  Mapping m = shopMapping();
  const TableSelector& selector = m;
  for (const auto& [db, table] :
       std::vector<std::pair<std::string, std::string>>{{"shop", "orders"},
                                                        {"shop", "users"},
                                                        {"shop", "other"},
                                                        {"logs", "anything"},
                                                        {"nope", "orders"},
                                                        {"", ""}}) {
    EXPECT_EQ(selector.selectsTable(db, table), m.route(db, table).has_value())
        << db << "." << table;
  }
  EXPECT_TRUE(selector.selectsDatabase("shop"));
  EXPECT_TRUE(selector.selectsDatabase("logs"));
  EXPECT_FALSE(selector.selectsDatabase("nope"));

  auto odd = Mapping::create({{"shop", "", {}, {}}, {"we.ird,*", "", {}, {}}});
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->selectsTable("we.ird,*", "t"));
  EXPECT_FALSE(odd->selectsTable("we", "ird"));
  EXPECT_FALSE(odd->selectsTable("sb", "t"));
}

// exclude_tables: every table of the database but the excluded ones, which no route, selection
// or reverse lookup finds; the database still counts as moved whole (its views and routines).
TEST(MappingTest, ExcludedTablesAreLeftOutOfAWholeDatabase) {
  DatabaseSelection shop;
  shop.database = "shop";
  shop.rename_to = "shop2";
  shop.exclude = {"seq1", "Audit"};
  auto m = Mapping::create({shop});
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_TRUE(m->selectsDatabase("shop"));
  EXPECT_FALSE(m->hasTableList("shop"));
  EXPECT_TRUE(m->selectsTable("shop", "orders"));
  EXPECT_TRUE(m->route("shop", "orders").has_value());
  EXPECT_FALSE(m->selectsTable("shop", "seq1"));
  EXPECT_FALSE(m->route("shop", "seq1").has_value());
  EXPECT_FALSE(m->selectsTable("shop", "Audit"));
  EXPECT_TRUE(m->selectsTable("shop", "audit"));  // names are exact, as the server's are
  EXPECT_FALSE(m->sourceTable("shop2", "seq1").has_value());
  using Name = std::pair<std::string, std::string>;
  EXPECT_EQ(m->sourceTable("shop2", "orders"), (Name{"shop", "orders"}));

  DatabaseSelection both = shop;
  TableSelection orders;
  orders.name = "orders";
  both.tables = {orders};
  EXPECT_NE(Mapping::create({both}).status().message().find("cannot be combined"),
            std::string::npos);
  DatabaseSelection twice = shop;
  twice.exclude = {"a", "a"};
  EXPECT_NE(Mapping::create({twice}).status().message().find("objects[0].exclude_tables[1]"),
            std::string::npos);
  DatabaseSelection empty = shop;
  empty.exclude = {""};
  EXPECT_NE(Mapping::create({empty}).status().message().find("must not be empty"),
            std::string::npos);
}

TEST(MappingTest, MapsEventsThroughFilterColumnsAndDml) {
  Mapping m = shopMapping();
  auto ins = m.mapEvent(event(ChangeEvent::Op::kInsert, nullptr, "paid"));
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->has_value());
  const ChangeEvent& e = **ins;
  EXPECT_EQ(e.database, "shop_copy");
  EXPECT_EQ(e.table, "orders_v2");
  ASSERT_EQ(e.table_info->columns.size(), 2u);
  EXPECT_EQ(e.table_info->columns[1].name, "status");
  EXPECT_EQ(e.table_info->primary_key, std::vector<size_t>{0});
  ASSERT_EQ(e.after.values.size(), 2u);
  EXPECT_EQ(e.after.values[1].s, "paid");

  EXPECT_FALSE(m.mapEvent(event(ChangeEvent::Op::kInsert, nullptr, "test"))->has_value());
  // Deletes are not selected by dml.
  EXPECT_FALSE(m.mapEvent(event(ChangeEvent::Op::kDelete, "paid", nullptr))->has_value());
  // An update entering the filter becomes an insert, one leaving it a delete.
  auto enter = m.mapEvent(event(ChangeEvent::Op::kUpdate, "test", "paid"));
  ASSERT_TRUE(enter.ok() && enter->has_value());
  EXPECT_EQ((*enter)->op, ChangeEvent::Op::kInsert);
  auto leave = m.mapEvent(event(ChangeEvent::Op::kUpdate, "paid", "test"));
  ASSERT_TRUE(leave.ok() && leave->has_value());
  EXPECT_EQ((*leave)->op, ChangeEvent::Op::kDelete);
  EXPECT_EQ((*leave)->before.values.size(), 2u);
  EXPECT_FALSE(m.mapEvent(event(ChangeEvent::Op::kUpdate, "test", "test"))->has_value());
  auto stay = m.mapEvent(event(ChangeEvent::Op::kUpdate, "paid", "sent"));
  ASSERT_TRUE(stay.ok() && stay->has_value());
  EXPECT_EQ((*stay)->op, ChangeEvent::Op::kUpdate);
}

TEST(MappingTest, RejectsInvalidSelections) {
  auto bad = [](std::vector<DatabaseSelection> s) {
    return Mapping::create(std::move(s)).status();
  };
  DatabaseSelection a;
  a.database = "a";
  DatabaseSelection empty;
  EXPECT_NE(bad({empty}).message().find("objects[0].database"), std::string::npos);
  EXPECT_NE(bad({a, a}).message().find("listed twice"), std::string::npos);
  DatabaseSelection b;
  b.database = "b";
  b.rename_to = "a";
  EXPECT_NE(bad({a, b}).message().find("map onto destination database 'a'"), std::string::npos);
  DatabaseSelection c;
  c.database = "c";
  TableSelection t1;
  t1.name = "t1";
  TableSelection t2;
  t2.name = "t2";
  t2.rename_to = "t1";
  c.tables = {t1, t2};
  EXPECT_NE(bad({c}).message().find("objects[0].tables[1]"), std::string::npos);
  c.tables = {t1, t1};
  EXPECT_NE(bad({c}).message().find("listed twice"), std::string::npos);
  t1.columns = {"x", "x"};
  c.tables = {t1};
  EXPECT_NE(bad({c}).message().find("column 'x' is listed twice"), std::string::npos);
  t1.columns = {};
  t1.where = "f(x)";
  c.tables = {t1};
  EXPECT_NE(bad({c}).message().find("objects[0].tables[0]: where:"), std::string::npos);
  EXPECT_FALSE(DmlSet::parse({"insert", "upsert"}).ok());
  auto d = DmlSet::parse({"delete"});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->del && !d->insert && !d->update);
}

}  // namespace
}  // namespace dts::pipeline
