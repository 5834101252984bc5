#include "source/start_check.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"
#include "mysql/event_builder_for_tests.h"
#include "pipeline/transaction_builder.h"
#include "source/binlog_fixture_for_tests.h"

namespace dts::source {
namespace {

namespace t = mysql::testing;

// A binlog since a start position: each transaction one statement, or a row of shop.ro2.
class StartCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    events_.push_back(b_.formatDescription());
  }

  void ddl(const std::string& db, const std::string& sql) {
    events_.push_back(b_.mariaGtid(++seq_, 0, mysql::MariaGtidEvent::kFlStandalone));
    events_.push_back(b_.query(db, sql));
  }
  void insertRow(const std::string& table) {
    events_.push_back(b_.mariaGtid(++seq_, 0, mysql::MariaGtidEvent::kFlTransactional));
    events_.push_back(b_.query("shop", "BEGIN"));
    std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
    events_.push_back(b_.tableMap(1, "shop", table, cols, /*full_metadata=*/false));
    std::string v;
    putUint(&v, 1, 4);
    events_.push_back(b_.rows(mysql::EventType::kWriteRowsV1, 1, 1, t::rowImage({v}, {})));
    events_.push_back(b_.xid(seq_));
  }

  Result<StartCheck> check(const std::string& tables = "shop") {
    std::string path = scratch_.path() + "/binlog.000001";
    EXPECT_TRUE(testing::writeBinlogFile(path, events_).ok());
    auto filter = pipeline::TableFilter::parse(tables);
    EXPECT_TRUE(filter.ok());
    ChangeReader reader(fileInput({path}), nullptr, startCheckReaderOptions());
    auto from = mysql::GtidPosition::parse("0-1-100", mysql::GtidFlavor::kMariaDb);
    EXPECT_TRUE(from.ok());
    return checkDdlSinceStart(reader, *filter, *from);
  }

  testing::ScratchDir scratch_{"dts-start-check"};
  t::EventBuilder b_{mysql::ServerFlavor::kMariaDb};
  std::vector<std::string> events_;
  uint64_t seq_ = 100;
};

TEST_F(StartCheckTest, NoDdlOnASelectedTableKeepsTheLiveDefinitions) {
  insertRow("ro2");
  ddl("other", "ALTER TABLE t ADD COLUMN z INT");  // not selected
  ddl("shop", "CREATE VIEW v AS SELECT 1");        // no table shape
  ddl("shop", "TRUNCATE TABLE ro2");               // no shape change
  auto r = check();
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->from_stream.empty());
}

TEST_F(StartCheckTest, AnAlterSinceTheStartIsRefusedNamingTableStatementAndWhereToStart) {
  insertRow("ro2");
  ddl("shop", "ALTER TABLE ro2 MODIFY b INT AFTER id");
  insertRow("ro2");
  auto r = check();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("cannot start at 0-1-100: table `shop`.`ro2` was changed since then, by "
                   "'ALTER TABLE ro2 MODIFY b INT AFTER id' (GTID 0-1-102, binlog binlog.000001:"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("options.start: \"0-1-102\""), std::string::npos) << m;
}

TEST_F(StartCheckTest, EveryKindOfChangeToAnExistingTableIsRefused) {
  for (const char* sql :
       {"ALTER TABLE ro2 DROP COLUMN a", "RENAME TABLE ro2 TO other.dd3",
        "RENAME TABLE other.x TO ro2", "CREATE UNIQUE INDEX u ON ro2 (a)",
        "CREATE TABLE IF NOT EXISTS ro2 (id INT)", "CREATE OR REPLACE TABLE ro2 (id INT)",
        "CREATE TABLE ro2 LIKE other.x", "ALTER TABLE other.x RENAME TO shop.ro2"}) {
    events_.resize(1);
    ddl("shop", sql);
    auto r = check();
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_NE(r.status().message().find("table `shop`.`ro2`"), std::string::npos)
        << sql << ": " << r.status().message();
  }
  // A DROP after rows of the table: those rows had the definition the DROP lost.
  events_.resize(1);
  insertRow("ro2");
  ddl("shop", "DROP TABLE ro2");
  EXPECT_FALSE(check().ok());
  events_.resize(1);
  insertRow("ro2");
  ddl("", "DROP DATABASE shop");
  auto r = check();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("database `shop` was changed"), std::string::npos)
      << r.status().message();
}

TEST_F(StartCheckTest, TablesCreatedSinceTheStartAreDefinedByTheStream) {
  ddl("shop", "CREATE TABLE c1 (id INT PRIMARY KEY, a INT)");
  insertRow("c1");
  ddl("shop", "ALTER TABLE c1 ADD COLUMN b INT");  // known since its CREATE: followed
  ddl("shop", "RENAME TABLE c1 TO c2");            // c2 from a table created since
  ddl("shop", "CREATE TABLE c3 LIKE c2");
  ddl("shop", "DROP TABLE IF EXISTS d1");  // no row of d1 since the start
  ddl("shop", "CREATE TABLE IF NOT EXISTS d1 (id INT)");
  ddl("other", "CREATE TABLE IF NOT EXISTS x (id INT)");  // not selected
  auto r = check();
  ASSERT_TRUE(r.ok()) << r.status().toString();
  using Names = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r->from_stream,
            (Names{{"shop", "c1"}, {"shop", "c2"}, {"shop", "c3"}, {"shop", "d1"}}));
  EXPECT_EQ(r->ddl_statements, 7u);
}

TEST_F(StartCheckTest, OnlySelectedTablesMatter) {
  ddl("shop", "ALTER TABLE ro2 ADD COLUMN z INT");
  auto r = check("shop.m2");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_FALSE(check("shop.ro2").ok());
}

TEST(CreateMayFindTheTable, ReadsTheWordsBeforeTheColumnList) {
  EXPECT_FALSE(createMayFindTheTable("CREATE TABLE t (id INT, exists_ INT)"));
  EXPECT_FALSE(createMayFindTheTable("create table `exists_log` (id int)"));
  EXPECT_TRUE(createMayFindTheTable("CREATE TABLE IF NOT EXISTS t (id INT)"));
  EXPECT_TRUE(createMayFindTheTable("CREATE TABLE /*!32312 IF NOT EXISTS*/ t (id INT)"));
  EXPECT_TRUE(createMayFindTheTable("create or replace table t (id int)"));
  EXPECT_TRUE(createMayFindTheTable("CREATE TABLE IF NOT EXISTS t LIKE u"));
}

}  // namespace
}  // namespace dts::source
