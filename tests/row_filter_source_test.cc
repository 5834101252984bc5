// Row filters judged during the incremental phase against the truth of the full load: for each
// filter, the rows the source server selects with `SELECT id FROM t WHERE <filter>` (the full
// load's WHERE on the real columns) must be exactly the rows RowFilter::matches selects from the
// same values as the binlog decodes them, judged locally or by SourceFilterEvaluator on the same
// server. The filters cover what a value in a column's place changes: BIGINT against constants
// beyond 2^53, BIT and YEAR as LIKE's subject, strings of different collations and character
// sets meeting in one expression, ENUM against numbers, strings and other columns.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "cluster_fixture.h"
#include "mysql/collations.h"
#include "pipeline/row_filter.h"
#include "source/source_filter_evaluator.h"

namespace dts::testing {
namespace {

using mysql::Value;

constexpr uint16_t kGeneralCi = 45, kUtf8mb4Bin = 46, kLatin1Swedish = 8;

mysql::TableInfo tableInfo() {
  using CT = mysql::ColumnType;
  mysql::TableInfo t;
  t.database = "rfs";
  t.table = "k";
  auto col = [&](const char* name, CT type, uint16_t collation = 0, bool is_unsigned = false) {
    mysql::ColumnInfo c;
    c.name = name;
    c.type = type;
    c.collation = collation;
    c.is_unsigned = is_unsigned;
    t.columns.push_back(c);
  };
  col("id", CT::kLong);
  col("bi", CT::kLongLong);
  col("bu", CT::kLongLong, 0, true);
  col("bt", CT::kBit);
  t.columns.back().meta = 1 << 8;  // BIT(8)
  col("y", CT::kYear);
  col("a", CT::kVarchar, kUtf8mb4Bin);
  col("g", CT::kVarchar, kGeneralCi);
  col("l", CT::kVarchar, kLatin1Swedish);
  col("e", CT::kString, kGeneralCi);
  t.columns.back().enum_values = {"x", "y", "10"};
  col("i", CT::kLong);
  t.primary_key = {0};
  return t;
}

Value bits(uint8_t b) {
  Value v = Value::ofUInt(b);
  v.kind = Value::Kind::kBit;
  v.s = std::string(1, static_cast<char>(b));
  return v;
}

Value enumValue(uint64_t index, const char* name) {
  Value v = Value::ofUInt(index);
  v.kind = Value::Kind::kEnum;
  v.s = name;
  return v;
}

Value str(const std::string& s) {
  return Value::ofText(Value::Kind::kString, s);
}

struct TestRow {
  std::string insert;  // the VALUES tuple
  mysql::RowImage image;
};

std::vector<TestRow> testRows() {
  auto image = [](std::vector<Value> v) {
    mysql::RowImage r;
    r.values = std::move(v);
    return r;
  };
  return {
      {"(1, 9007199254740992, 18446744073709551614, b'01100001', 2024, 'A', 'a', 'a', 'y', 2)",
       image({Value::ofInt(1), Value::ofInt(9007199254740992), Value::ofUInt(18446744073709551614u),
              bits(0x61), Value::ofInt(2024), str("A"), str("a"), str("a"), enumValue(2, "y"),
              Value::ofInt(2)})},
      {"(2, 9007199254740993, 9007199254740993, b'00000010', 0, 'a', 'B', 'b', '10', 3)",
       image({Value::ofInt(2), Value::ofInt(9007199254740993), Value::ofUInt(9007199254740993u),
              bits(2), Value::ofInt(0), str("a"), str("B"), str("b"), enumValue(3, "10"),
              Value::ofInt(3)})},
      {"(3, -9007199254740993, 0, b'00000000', 1999, 'b', 'A', _latin1 X'E5', 'x', 10)",
       image({Value::ofInt(3), Value::ofInt(-9007199254740993), Value::ofUInt(0), bits(0),
              Value::ofInt(1999), str("b"), str("A"), str("\xe5"), enumValue(1, "x"),
              Value::ofInt(10)})},
      {"(4, 5, 5, b'00110101', 2000, 'c', 'c', 'C', '10', 10)",
       image({Value::ofInt(4), Value::ofInt(5), Value::ofUInt(5), bits(0x35), Value::ofInt(2000),
              str("c"), str("c"), str("C"), enumValue(3, "10"), Value::ofInt(10)})},
  };
}

class RowFilterSourceTest : public SharedClusterTest {
 protected:
  static void SetUpTestSuite() {
    SharedClusterTest::SetUpTestSuite();
    auto src = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(src, nullptr);
    std::string values;
    for (const auto& r : testRows()) values += (values.empty() ? "" : ",") + r.insert;
    Status st = src->execute(
        "CREATE DATABASE rfs; USE rfs;"
        "CREATE TABLE k (id INT PRIMARY KEY, bi BIGINT, bu BIGINT UNSIGNED, bt BIT(8), y YEAR,"
        " a VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,"
        " g VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,"
        " l VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci,"
        " e ENUM('x','y','10') CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, i INT);"
        "INSERT INTO k VALUES " +
        values);
    ASSERT_TRUE(st.ok()) << st.toString();
  }

  // The ids the source selects with `where` on the real columns (the full load's WHERE).
  static std::set<int64_t> serverSelects(const std::string& where) {
    auto src = cluster_->connect(cluster_->endpoint());
    auto r = src->query("SELECT id FROM rfs.k WHERE " + where);
    EXPECT_TRUE(r.ok()) << where << ": " << r.status().toString();
    std::set<int64_t> ids;
    if (r.ok())
      for (const auto& row : r->rows) ids.insert(std::stoll(*row[0]));
    return ids;
  }
};

TEST_F(RowFilterSourceTest, IncrementalSelectsWhatTheFullLoadSelects) {
  const char* filters[] = {
      // BIGINT against constants that doubles cannot tell apart (beyond 2^53).
      "bi = '9007199254740993'",
      "bi BETWEEN '9007199254740993' AND '9007199254740999'",
      "bi NOT BETWEEN '-9007199254740993' AND '9007199254740992'",
      "bi IN ('9007199254740993', '1')",
      "bi = 9007199254740992e0",
      "bi BETWEEN 9007199254740993e0 AND 1e19",
      "bi < '-9007199254740992'",
      "bu = '18446744073709551615'",
      "bu BETWEEN '9007199254740993' AND '9007199254740993'",
      "bu > 18446744073709551613e0",
      // BIT: a number in comparisons, its bytes as LIKE's subject.
      "bt = 'a'",
      "bt LIKE 'a'",
      "bt LIKE '5'",
      "bt = 97",
      "bt IN ('a', 2)",
      // YEAR: a four-digit string compares as the year; LIKE reads four digits.
      "y = '2024'",
      "y BETWEEN '1999' AND '2024'",
      "y LIKE '20%'",
      "y LIKE '0000'",
      "y IN ('1999', 2000)",
      // Columns of different collations and character sets in one expression.
      "a = g",
      "a < g",
      "g = l",
      "a = l",
      "g IN (a, 'b')",
      "l < g",
      // ENUM against numbers, strings and other columns.
      "e = i",
      "e = g",
      "e < a",
      "e = 2",
      "e = '10'",
      "e IN (2, 'x')",
      "e NOT IN (3, 'y')",
      "e LIKE '1%'",
      "e = 'Y'",
      "e > i",
  };
  source::SourceFilterEvaluator evaluator(cluster_->options(cluster_->endpoint()));
  const auto table = tableInfo();
  for (const char* where : filters) {
    auto f = pipeline::RowFilter::compile(where);
    ASSERT_TRUE(f.ok()) << where << ": " << f.status().toString();
    std::set<int64_t> selected;
    for (const auto& r : testRows()) {
      auto m = (*f)->matches(table, r.image, &evaluator);
      EXPECT_TRUE(m.ok()) << where << " (row " << r.insert << "): " << m.status().toString();
      if (m.ok() && *m) selected.insert(r.image.values[0].i);
    }
    EXPECT_EQ(selected, serverSelects(where)) << where;
  }
}

TEST_F(RowFilterSourceTest, RefusesWhatNoLiteralReproduces) {
  source::SourceFilterEvaluator evaluator(cluster_->options(cluster_->endpoint()));
  const auto table = tableInfo();
  const auto rows = testRows();
  // A BIGINT beyond 2^53 against a string the server may or may not convert to an integer.
  auto f = pipeline::RowFilter::compile("bi = '5.0'");
  ASSERT_TRUE(f.ok());
  auto m = (*f)->matches(table, rows[0].image, &evaluator);
  EXPECT_EQ(m.status().code(), Status::Code::kUnsupported) << m.status().toString();
  EXPECT_NE(m.status().message().find("'bi'"), std::string::npos) << m.status().toString();
  // A YEAR against a string the server reads by YEAR's rules ('24' is 2024).
  auto y = pipeline::RowFilter::compile("y = '24'");
  ASSERT_TRUE(y.ok());
  m = (*y)->matches(table, rows[0].image, &evaluator);
  EXPECT_EQ(m.status().code(), Status::Code::kUnsupported) << m.status().toString();
  // Below 2^53 the same string is judged (the server compares it exactly either way).
  m = (*f)->matches(table, rows[3].image, &evaluator);  // bi = 5
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_TRUE(*m);
}

// Rows only the source can judge cost one statement per kMaxBatchRows rows with evaluateMany, not
// one each, with the same answers. Prints both rates (no timing is asserted):
//   build/row_filter_source_test --gtest_filter='*ManyRows*'
TEST_F(RowFilterSourceTest, JudgesManyRowsInFewStatements) {
  const auto table = tableInfo();
  const auto base = testRows()[0].image;
  std::vector<mysql::RowImage> rows;
  for (int i = 0; i < 3000; ++i) {
    mysql::RowImage r = base;
    r.values[0] = Value::ofInt(i);
    r.values[6] = str("n" + std::to_string(i));  // distinct values: nothing comes from a cache
    rows.push_back(std::move(r));
  }
  std::vector<const mysql::RowImage*> pointers;
  for (const auto& r : rows) pointers.push_back(&r);
  auto f = pipeline::RowFilter::compile("g < a OR e = g OR g LIKE 'n1%'");
  ASSERT_TRUE(f.ok());
  using Clock = std::chrono::steady_clock;

  source::SourceFilterEvaluator one_by_one(cluster_->options(cluster_->endpoint()));
  std::vector<bool> expected;
  auto start = Clock::now();
  for (const auto& r : rows) {
    auto m = one_by_one.evaluate(**f, table, r);
    ASSERT_TRUE(m.ok()) << m.status().toString();
    expected.push_back(*m);
  }
  double single = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(one_by_one.queries(), rows.size());

  source::SourceFilterEvaluator together(cluster_->options(cluster_->endpoint()));
  start = Clock::now();
  auto many = together.evaluateMany(**f, table, pointers);
  double batched = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_TRUE(many.ok()) << many.status().toString();
  EXPECT_EQ(*many, expected);
  EXPECT_EQ(together.queries(), 6u);  // 3000 rows, 500 a statement
  std::printf("row filter at the source: %.0f rows/s one by one, %.0f rows/s together\n",
              rows.size() / single, rows.size() / batched);
  // Answered again from the cache, without a statement.
  auto again = together.evaluateMany(**f, table, pointers);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, expected);
  EXPECT_EQ(together.queries(), 6u);
}

}  // namespace
}  // namespace dts::testing
