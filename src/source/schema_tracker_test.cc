#include "source/schema_tracker.h"

#include <gtest/gtest.h>

#include <map>

namespace dts::source {
namespace {

using mysql::ColumnInfo;
using mysql::ColumnType;
using mysql::TableInfo;

class FakeLoader final : public SchemaLoader {
 public:
  std::map<std::pair<std::string, std::string>, SchemaTable> tables;
  int calls = 0;
  Result<SchemaTable> load(const std::string& db, const std::string& table) override {
    ++calls;
    auto it = tables.find({db, table});
    if (it == tables.end())
      return Status::NotFound("table `" + db + "`.`" + table + "` does not exist on fake");
    return it->second;
  }
};

SchemaColumn col(std::string name, std::string data_type, std::string column_type) {
  SchemaColumn c;
  c.name = std::move(name);
  c.data_type = std::move(data_type);
  c.column_type = std::move(column_type);
  return c;
}

ColumnInfo mapCol(ColumnType type, uint16_t meta = 0) {
  ColumnInfo c;
  c.type = type;
  c.meta = meta;
  return c;
}

// shop.t (id INT UNSIGNED PRIMARY KEY, price DECIMAL(10,2), name VARCHAR(20) utf8mb4, e
// ENUM('a','b'))
SchemaTable shopTable() {
  SchemaTable t{"shop", "t", {}, {"id"}};
  t.columns.push_back(col("id", "int", "int(10) unsigned"));
  auto price = col("price", "decimal", "decimal(10,2)");
  price.precision = 10;
  price.scale = 2;
  t.columns.push_back(price);
  auto name = col("name", "varchar", "varchar(20)");
  name.octet_length = 80;
  name.collation = 45;
  t.columns.push_back(name);
  t.columns.push_back(col("e", "enum", "enum('a','it''s')"));
  return t;
}

TableInfo shopMap() {
  TableInfo m;
  m.table_id = 42;
  m.database = "shop";
  m.table = "t";
  m.columns = {mapCol(ColumnType::kLong), mapCol(ColumnType::kNewDecimal, (10 << 8) | 2),
               mapCol(ColumnType::kVarchar, 80), mapCol(ColumnType::kString, (247 << 8) | 1)};
  return m;
}

struct Fixture {
  FakeLoader* loader;
  std::unique_ptr<SchemaTracker> tracker;
};
Fixture make() {
  auto loader = std::make_unique<FakeLoader>();
  FakeLoader* raw = loader.get();
  raw->tables[{"shop", "t"}] = shopTable();
  return Fixture{raw, std::make_unique<SchemaTracker>(std::move(loader))};
}

TEST(SchemaTrackerTest, CompletesNamesKeysCollationsAndMembers) {
  auto f = make();
  auto t = f.tracker->complete(shopMap());
  ASSERT_TRUE(t.ok()) << t.status().toString();
  const TableInfo& info = **t;
  EXPECT_EQ(info.table_id, 42u);
  ASSERT_EQ(info.columns.size(), 4u);
  EXPECT_EQ(info.columns[0].name, "id");
  EXPECT_TRUE(info.columns[0].is_unsigned);
  EXPECT_EQ(info.columns[1].name, "price");
  EXPECT_FALSE(info.columns[1].is_unsigned);
  EXPECT_EQ(info.columns[2].collation, 45);
  EXPECT_EQ(info.columns[2].type, ColumnType::kVarchar);
  EXPECT_EQ(info.columns[2].meta, 80);  // the TABLE_MAP's own type metadata is kept
  EXPECT_EQ(info.columns[3].enum_values, (std::vector<std::string>{"a", "it's"}));
  EXPECT_EQ(info.primary_key, (std::vector<size_t>{0}));
}

TEST(SchemaTrackerTest, CachesUntilDdlInvalidates) {
  auto f = make();
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  EXPECT_EQ(f.loader->calls, 1);
  EXPECT_TRUE(f.tracker->onQuery("other", "INSERT INTO x VALUES (1)").ok());  // not DDL
  EXPECT_TRUE(f.tracker->onQuery("other", "ALTER TABLE t ADD c INT").ok());   // another db's t
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  EXPECT_EQ(f.loader->calls, 1);
  EXPECT_TRUE(f.tracker->onQuery("shop", "ALTER TABLE t ADD c INT").ok());
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  EXPECT_EQ(f.loader->calls, 2);
  EXPECT_TRUE(f.tracker->onQuery("", "DROP DATABASE shop").ok());
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  EXPECT_EQ(f.loader->calls, 3);
  // Executable comments are read (the schema history expands them): a view changes no table.
  EXPECT_TRUE(f.tracker->onQuery("", "/*!50001 CREATE VIEW v AS SELECT 1 */").ok());
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  EXPECT_EQ(f.loader->calls, 3);
  EXPECT_TRUE(f.tracker->onQuery("", "ALTER /* unterminated").ok());  // unreadable: forget all
  ASSERT_TRUE(f.tracker->complete(shopMap()).ok());
  EXPECT_EQ(f.loader->calls, 4);
  EXPECT_EQ(f.tracker->loads(), 4u);
}

TEST(SchemaTrackerTest, TablesCreatedInTheStreamComeFromTheHistory) {
  auto f = make();
  // The server's shop.t has 4 columns (see shopMap); the stream re-creates it with 3 of other
  // names and types: the history's definition names the rows, the server is never asked.
  ASSERT_TRUE(f.tracker->onQuery("shop", "DROP TABLE t").ok());
  ASSERT_TRUE(f.tracker
                  ->onQuery("shop",
                            "CREATE TABLE t (k INT PRIMARY KEY, price DECIMAL(10,2), "
                            "name VARCHAR(20), state ENUM('new','paid'))")
                  .ok());
  TableInfo m = shopMap();
  auto t = f.tracker->complete(m);
  ASSERT_TRUE(t.ok()) << t.status().toString();
  EXPECT_EQ((*t)->columns[0].name, "k");
  EXPECT_EQ(f.loader->calls, 0);
  // A row that does not fit the history's definition is refused, never reloaded.
  ASSERT_TRUE(f.tracker->onQuery("shop", "ALTER TABLE t DROP COLUMN state").ok());
  t = f.tracker->complete(m);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("has 3 columns in the schema history"), std::string::npos)
      << t.status().toString();
  EXPECT_EQ(f.loader->calls, 0);
  // A DDL on it that the history cannot read is an error naming the statement.
  Status st = f.tracker->onQuery("shop", "ALTER TABLE t ADD COLUMN g FROBNICATE");
  EXPECT_EQ(st.code(), Status::Code::kUnsupported);
  EXPECT_NE(st.message().find("FROBNICATE"), std::string::npos);
}

TEST(SchemaTrackerTest, PrefersFullMetadataAndQueriesNothing) {
  auto f = make();
  TableInfo m = shopMap();
  const char* names[] = {"a", "b", "c", "d"};
  for (size_t i = 0; i < 4; ++i) m.columns[i].name = names[i];
  m.primary_key = {1};
  auto t = f.tracker->complete(m);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->columns[0].name, "a");
  EXPECT_EQ((*t)->primary_key, (std::vector<size_t>{1}));
  EXPECT_EQ(f.loader->calls, 0);
}

TEST(SchemaTrackerTest, RefusesAColumnCountMismatchAfterOneReload) {
  auto f = make();
  TableInfo m = shopMap();
  m.columns.pop_back();
  auto t = f.tracker->complete(m);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(
      t.status().message().find("`shop`.`t` has 4 columns on the server now but 3 in the binlog"),
      std::string::npos)
      << t.status().toString();
  EXPECT_EQ(f.loader->calls, 2);  // the cached definition, then one fresh read
}

TEST(SchemaTrackerTest, RefusesTypeMismatchesNamingTheColumn) {
  auto f = make();
  TableInfo m = shopMap();
  m.columns[1].meta = (12 << 8) | 4;  // DECIMAL(12,4) in the binlog
  auto t = f.tracker->complete(m);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("column 2"), std::string::npos) << t.status().toString();
  EXPECT_NE(t.status().message().find("`price` is decimal(10,2)"), std::string::npos)
      << t.status().toString();
  EXPECT_NE(t.status().message().find("precision or scale"), std::string::npos);

  m = shopMap();
  m.columns[0].type = ColumnType::kLongLong;
  EXPECT_EQ(f.tracker->complete(m).status().code(), Status::Code::kFailedPrecondition);
}

TEST(SchemaTrackerTest, DroppedTableIsAClearError) {
  auto f = make();
  TableInfo m = shopMap();
  m.table = "gone";
  auto t = f.tracker->complete(m);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("gone"), std::string::npos);
  EXPECT_NE(t.status().message().find("binlog_row_metadata=FULL"), std::string::npos);
}

TEST(SchemaTrackerTest, UnknownServerTypeIsUnsupported) {
  auto f = make();
  f.loader->tables[{"shop", "t"}].columns[0] = col("id", "vector", "vector(3)");
  EXPECT_EQ(f.tracker->complete(shopMap()).status().code(), Status::Code::kUnsupported);
}

TEST(CheckColumnTest, MatchesEveryTypeFamily) {
  auto ok = [](ColumnInfo m, SchemaColumn d) { return checkColumnMatches(m, d).ok(); };
  auto d = [](std::string dt, uint32_t p = 0, uint32_t s = 0, uint32_t fsp = 0, uint32_t octets = 0,
              std::string ct = "") {
    SchemaColumn c = col("c", dt, ct.empty() ? dt : ct);
    c.precision = p;
    c.scale = s;
    c.datetime_precision = fsp;
    c.octet_length = octets;
    return c;
  };
  EXPECT_TRUE(ok(mapCol(ColumnType::kTiny), d("tinyint")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kInt24), d("mediumint")));
  EXPECT_FALSE(ok(mapCol(ColumnType::kShort), d("int")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kFloat, 4), d("float")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kDouble, 8), d("double")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kNewDecimal, (65 << 8) | 30), d("decimal", 65, 30)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kDate), d("date")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kYear), d("year")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kTime2, 3), d("time", 0, 0, 3)));
  EXPECT_FALSE(ok(mapCol(ColumnType::kTime2, 3), d("time", 0, 0, 6)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kTime), d("time")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kDateTime2, 6), d("datetime", 0, 0, 6)));
  // MariaDB's 5.3 format: old binlog types; with fractions its values cannot be read, and the
  // message says how to rebuild the table.
  EXPECT_TRUE(
      ok(mapCol(ColumnType::kDateTime), d("datetime", 0, 0, 0, 0, "datetime /* mariadb-5.3 */")));
  Status old53 = checkColumnMatches(mapCol(ColumnType::kDateTime),
                                    d("datetime", 0, 0, 3, 0, "datetime(3) /* mariadb-5.3 */"));
  EXPECT_NE(old53.message().find("a MariaDB 5.3-format temporal column with fractional seconds"),
            std::string::npos)
      << old53.message();
  EXPECT_NE(old53.message().find("ALTER TABLE ... FORCE"), std::string::npos);
  EXPECT_TRUE(ok(mapCol(ColumnType::kTimestamp2, 0), d("timestamp")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kBit, (8 << 8) | 0), d("bit", 64)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kBit, (1 << 8) | 2), d("bit", 10)));
  EXPECT_FALSE(ok(mapCol(ColumnType::kBit, 1), d("bit", 10)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kString, (254 << 8) | 40), d("char", 0, 0, 0, 40)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kString, (254 << 8) | 4), d("binary", 0, 0, 0, 4)));
  EXPECT_FALSE(ok(mapCol(ColumnType::kString, (254 << 8) | 40), d("char", 0, 0, 0, 80)));
  // CHAR(100) utf8mb4 = 400 bytes: the length's high bits live inverted in the type byte.
  EXPECT_TRUE(
      ok(mapCol(ColumnType::kString, static_cast<uint16_t>(((254 ^ 0x10) << 8) | (400 & 0xff))),
         d("char", 0, 0, 0, 400)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kVarchar, 1200), d("varchar", 0, 0, 0, 1200)));
  EXPECT_TRUE(ok(mapCol(ColumnType::kVarchar, 20), d("varbinary", 0, 0, 0, 20)));
  EXPECT_TRUE(
      ok(mapCol(ColumnType::kString, (247 << 8) | 1), d("enum", 0, 0, 0, 0, "enum('a','b')")));
  EXPECT_FALSE(
      ok(mapCol(ColumnType::kString, (248 << 8) | 1), d("enum", 0, 0, 0, 0, "enum('a','b')")));
  EXPECT_TRUE(
      ok(mapCol(ColumnType::kString, (248 << 8) | 1), d("set", 0, 0, 0, 0, "set('x','y','z')")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kBlob, 1), d("tinytext")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kBlob, 2), d("blob")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kBlob, 3), d("mediumblob")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kBlob, 4), d("longtext")));
  EXPECT_FALSE(ok(mapCol(ColumnType::kBlob, 2), d("longtext")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kJson, 4), d("json")));
  EXPECT_TRUE(ok(mapCol(ColumnType::kGeometry, 4), d("point")));
}

TEST(DdlEffectTest, FindsTheTablesADdlChanges) {
  using K = DdlEffect::Kind;
  auto e = ddlEffect("shop", "ALTER TABLE t ADD COLUMN x INT");
  ASSERT_EQ(e.kind, K::kTables);
  EXPECT_EQ(e.tables, (std::vector<std::pair<std::string, std::string>>{{"shop", "t"}}));
  e = ddlEffect("shop", "  /* c */ create or replace table `other db`.`we``ird` (id int)");
  ASSERT_EQ(e.kind, K::kTables);
  EXPECT_EQ(e.tables, (std::vector<std::pair<std::string, std::string>>{{"other db", "we`ird"}}));
  e = ddlEffect("d", "DROP TABLE IF EXISTS a, d2.b /* generated by server */");
  ASSERT_EQ(e.kind, K::kTables);
  EXPECT_EQ(e.tables, (std::vector<std::pair<std::string, std::string>>{{"d", "a"}, {"d2", "b"}}));
  e = ddlEffect("d", "RENAME TABLE a TO b, x.c TO y.c");
  ASSERT_EQ(e.kind, K::kTables);
  EXPECT_EQ(e.tables.size(), 4u);
  e = ddlEffect("d", "ALTER TABLE a RENAME TO b");
  ASSERT_EQ(e.kind, K::kTables);
  EXPECT_EQ(e.tables, (std::vector<std::pair<std::string, std::string>>{{"d", "a"}, {"d", "b"}}));
  e = ddlEffect("d", "CREATE UNIQUE INDEX i ON t (a)");
  ASSERT_EQ(e.kind, K::kTables);
  EXPECT_EQ(e.tables, (std::vector<std::pair<std::string, std::string>>{{"d", "t"}}));
  e = ddlEffect("d", "DROP DATABASE IF EXISTS `shop`");
  ASSERT_EQ(e.kind, K::kDatabase);
  EXPECT_EQ(e.database, "shop");
  EXPECT_EQ(ddlEffect("d", "CREATE SCHEMA s").kind, K::kDatabase);
  EXPECT_EQ(ddlEffect("d", "BEGIN").kind, K::kNone);
  EXPECT_EQ(ddlEffect("d", "INSERT INTO t VALUES (1)").kind, K::kNone);
  EXPECT_EQ(ddlEffect("d", "CREATE VIEW v AS SELECT 1").kind, K::kNone);
  EXPECT_EQ(
      ddlEffect(
          "d",
          "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a=1")
          .kind,
      K::kNone);
  EXPECT_EQ(ddlEffect("d", "CREATE SEQUENCE s").kind, K::kEverything);
  EXPECT_EQ(ddlEffect("d", "ALTER TABLE `unterminated").kind, K::kEverything);
  EXPECT_EQ(ddlEffect("d", "/*!40000 ALTER TABLE t DISABLE KEYS */").kind, K::kEverything);
  EXPECT_EQ(ddlEffect("d", "").kind, K::kNone);
}

TEST(EnumMembersTest, ParsesQuotedMembers) {
  auto m = parseEnumMembers("enum('a','it''s','b\\\\c','')");
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ(*m, (std::vector<std::string>{"a", "it's", "b\\c", ""}));
  EXPECT_FALSE(parseEnumMembers("enum").ok());
  EXPECT_FALSE(parseEnumMembers("enum('a'").ok());
  EXPECT_FALSE(parseEnumMembers("enum('a' 'b')").ok());
  // As information_schema prints them (checked against MariaDB 10.11): a newline member as \n.
  m = parseEnumMembers("enum('nl\\nz','tab\tq','q\"r','\\0')");
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ(*m, (std::vector<std::string>{"nl\nz", "tab\tq", "q\"r", std::string(1, '\0')}));
  EXPECT_FALSE(parseEnumMembers("enum()").ok());
  EXPECT_FALSE(parseEnumMembers("enum('a',").ok());
}

}  // namespace
}  // namespace dts::source
