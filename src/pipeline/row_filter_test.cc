#include "pipeline/row_filter.h"

#include <gtest/gtest.h>

namespace dts::pipeline {
namespace {

using mysql::Value;

mysql::TableInfo table() {
  mysql::TableInfo t;
  t.database = "shop";
  t.table = "orders";
  t.columns.resize(4);
  t.columns[0].name = "id";
  t.columns[1].name = "status";
  t.columns[2].name = "total";
  t.columns[3].name = "note";
  return t;
}

mysql::RowImage row(int64_t id, const char* status, const char* total, const char* note) {
  mysql::RowImage r;
  r.values.push_back(Value::ofInt(id));
  r.values.push_back(status ? Value::ofText(Value::Kind::kString, status) : Value::null());
  r.values.push_back(total ? Value::ofText(Value::Kind::kDecimal, total) : Value::null());
  r.values.push_back(note ? Value::ofText(Value::Kind::kString, note) : Value::null());
  r.present.assign(4, true);
  return r;
}

bool eval(const std::string& where, const mysql::RowImage& r) {
  auto f = RowFilter::compile(where);
  EXPECT_TRUE(f.ok()) << where << ": " << f.status().toString();
  if (!f.ok()) return false;
  auto m = (*f)->matches(table(), r);
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return m.ok() && *m;
}

TEST(RowFilterTest, ComparesLikeSql) {
  auto r = row(7, "paid", "12.50", nullptr);
  EXPECT_TRUE(eval("status <> 'test'", r));
  EXPECT_FALSE(eval("status = 'test'", r));
  EXPECT_TRUE(eval("status = 'PAID'", r));  // case-insensitive text
  EXPECT_TRUE(eval("id > 5 AND total >= 12.5", r));
  EXPECT_FALSE(eval("id > 5 AND total > 12.5", r));
  EXPECT_TRUE(eval("id < 5 OR `total` BETWEEN 10 AND 20", r));
  EXPECT_TRUE(eval("id IN (1, 7, 9)", r));
  EXPECT_FALSE(eval("id NOT IN (1, 7, 9)", r));
  EXPECT_TRUE(eval("status LIKE 'p%d'", r));
  EXPECT_TRUE(eval("status NOT LIKE 'x_'", r));
  EXPECT_TRUE(eval("note IS NULL", r));
  EXPECT_FALSE(eval("note IS NOT NULL", r));
  EXPECT_TRUE(eval("NOT (id = 1)", r));
  EXPECT_TRUE(eval("id = -3 OR id = 7", r));
  EXPECT_TRUE(eval("note <=> NULL", r));
}

TEST(RowFilterTest, NullIsNotTrue) {
  auto r = row(1, nullptr, nullptr, nullptr);
  EXPECT_FALSE(eval("status <> 'test'", r));  // NULL <> 'test' is unknown: row not selected
  EXPECT_FALSE(eval("NOT (status = 'test')", r));
  EXPECT_TRUE(eval("status IS NULL OR id = 1", r));
  EXPECT_FALSE(eval("id IN (2, NULL)", r));
}

TEST(RowFilterTest, RejectsWhatItCannotEvaluate) {
  for (const char* bad : {"", "status =", "now() > 1", "a.b = 1", "id IN 1", "id IN (1", "x IS 3",
                          "'unterminated", "`unterminated", "id = 1 garbage", "id NOT 3",
                          "status LIKE id", "id BETWEEN 1 OR 2", "(id = 1"}) {
    auto f = RowFilter::compile(bad);
    EXPECT_FALSE(f.ok()) << bad;
    if (!f.ok()) {
      EXPECT_NE(f.status().message().find("where:"), std::string::npos);
    }
  }
}

TEST(RowFilterTest, UnknownOrMissingColumnIsAnError) {
  auto f = RowFilter::compile("nope = 1");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE((*f)->matches(table(), row(1, "a", "1", "n")).ok());
  auto g = RowFilter::compile("note = 'n'");
  ASSERT_TRUE(g.ok());
  auto r = row(1, "a", "1", "n");
  r.present[3] = false;
  EXPECT_FALSE((*g)->matches(table(), r).ok());
  EXPECT_EQ((*g)->columns(), std::vector<std::string>{"note"});
}

TEST(RowFilterTest, RendersQuotedSql) {
  auto f = RowFilter::compile(
      "status <> 'te''st' AND `we``ird` IN (1, -2.5) OR note IS NOT NULL AND NOT x LIKE 'a%'");
  ASSERT_TRUE(f.ok()) << f.status().toString();
  auto q = [](std::string_view s) { return "Q[" + std::string(s) + "]"; };
  EXPECT_EQ((*f)->toSql(q),
            "(((`status` <> Q[te'st]) AND (`we``ird` IN (1, -2.5))) OR ((`note` IS NOT NULL) AND "
            "(NOT (`x` LIKE Q[a%]))))");
}

}  // namespace
}  // namespace dts::pipeline
