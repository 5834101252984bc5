#include "source/schema_history.h"

#include <gtest/gtest.h>

#include "mysql/collations.h"

namespace dts::source {
namespace {

// "name type [collation] [NOT NULL]" per column, then "PK(a,b)" and "UK name(a,b)".
std::string describe(const SchemaHistory& h, const std::string& db, const std::string& table) {
  auto d = h.find(db, table);
  if (d == nullptr) return "<none>";
  std::string out;
  for (const SchemaColumn& c : d->shape.columns) {
    out += c.name + " " + c.column_type;
    if (c.collation != 0) {
      const mysql::Collation* co = mysql::findCollation(c.collation);
      out += std::string(" ") + (co ? co->name : "?");
    }
    if (!c.nullable) out += " NN";
    out += "; ";
  }
  if (!d->shape.primary_key.empty()) {
    out += "PK(";
    for (const auto& k : d->shape.primary_key)
      out += k + (&k == &d->shape.primary_key.back() ? "" : ",");
    out += ")";
  }
  for (const auto& u : d->unique_keys) {
    out += " UK " + u.name + "(";
    for (const auto& k : u.columns) out += k + (&k == &u.columns.back() ? "" : ",");
    out += ")";
  }
  return out;
}

class HistoryTest : public ::testing::Test {
 protected:
  HistoryTest() {
    SchemaHistory::Options o;
    o.database_collation = [](const std::string&) -> Result<std::string> {
      return std::string("utf8mb4_general_ci");
    };
    o.server_collation = []() -> Result<std::string> { return std::string("latin1_swedish_ci"); };
    h_ = SchemaHistory(std::move(o));
  }
  void run(const std::string& sql, const std::string& db = "d", uint64_t sql_mode = 0) {
    auto r = h_.apply(db, sql, ++marker_, {.sql_mode = sql_mode});
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().toString();
  }
  std::string t(const std::string& table = "t", const std::string& db = "d") {
    return describe(h_, db, table);
  }
  SchemaHistory h_;
  uint64_t marker_ = 0;
};

TEST_F(HistoryTest, CreateTableTypesDefaultsAndKeys) {
  run("CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT, u INT UNSIGNED, b BIGINT, "
      "s VARCHAR(20) DEFAULT 'x', c CHAR(3) CHARACTER SET latin1, e ENUM('a','it''s') NOT NULL, "
      "st SET('x','y') COLLATE utf8mb4_bin, d DECIMAL(12,3), f FLOAT, dt DATETIME(3), "
      "ts TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, y YEAR, bt BIT(5), "
      "tx TEXT, bl BLOB, vb VARBINARY(8), j JSON, bo BOOLEAN, z INT(5) ZEROFILL, "
      "PRIMARY KEY (id), UNIQUE KEY uk_s (s), UNIQUE (c, b), KEY k (b)) ENGINE=InnoDB");
  EXPECT_EQ(t(),
            "id int(11) NN; u int(10) unsigned; b bigint(20); s varchar(20) utf8mb4_general_ci; "
            "c char(3) latin1_swedish_ci; e enum('a','it''s') utf8mb4_general_ci NN; "
            "st set('x','y') utf8mb4_bin; d decimal(12,3); f float; dt datetime(3); "
            "ts timestamp; y year(4); bt bit(5); tx text utf8mb4_general_ci; bl blob binary; "
            "vb varbinary(8) binary; j longtext utf8mb4_bin; bo tinyint(1); "
            "z int(5) unsigned zerofill; PK(id) UK uk_s(s) UK c(c,b)");
  auto d = h_.find("d", "t");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->shape.columns[3].octet_length, 80u);  // varchar(20) utf8mb4
  EXPECT_EQ(d->shape.columns[4].octet_length, 3u);
}

// A statement is read under the sql_mode its session logged: ANSI_QUOTES ("x" a name),
// NO_BACKSLASH_ESCAPES ('C:\' a whole string), REAL_AS_FLOAT (REAL is FLOAT).
TEST_F(HistoryTest, StatementsAreReadUnderTheirSessionsSqlMode) {
  const uint64_t ansi_quotes = 1ull << 2, no_escapes = 1ull << 20, real_as_float = 1;
  run("CREATE TABLE \"t\" (\"id\" INT PRIMARY KEY, \"p\" VARCHAR(9) DEFAULT 'C:\\', r REAL)", "d",
      ansi_quotes | no_escapes | real_as_float);
  EXPECT_EQ(t(), "id int(11) NN; p varchar(9) utf8mb4_general_ci; r float; PK(id)");
  run("ALTER TABLE \"t\" ADD \"q\" REAL", "d", ansi_quotes);
  EXPECT_EQ(t(), "id int(11) NN; p varchar(9) utf8mb4_general_ci; r float; q double; PK(id)");
  // The same text under the default mode is not a definition the history can read.
  EXPECT_FALSE(h_.apply("d", "CREATE TABLE \"u\" (\"id\" INT)", ++marker_).ok() &&
               h_.find("d", "u") != nullptr);
}

TEST_F(HistoryTest, AppliedNamesTheTablesAStatementDefined) {
  using Tables = std::vector<std::pair<std::string, std::string>>;
  auto defined = [&](const std::string& sql) {
    auto r = h_.apply("d", sql, ++marker_);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().toString();
    return r.ok() ? r->defined : Tables{{"<error>", ""}};
  };
  EXPECT_EQ(defined("CREATE TABLE t (id INT PRIMARY KEY)"), (Tables{{"d", "t"}}));
  EXPECT_EQ(defined("CREATE TABLE u (id INT)"), (Tables{{"d", "u"}}));
  EXPECT_EQ(defined("ALTER TABLE t ADD COLUMN n INT"), (Tables{{"d", "t"}}));
  EXPECT_EQ(defined("ALTER TABLE d.u ADD PRIMARY KEY (id)"), (Tables{{"d", "u"}}));
  EXPECT_EQ(defined("RENAME TABLE t TO t2"), (Tables{{"d", "t2"}}));
  EXPECT_EQ(defined("RENAME TABLE t2 TO t, u TO u2"), (Tables{{"d", "t"}, {"d", "u2"}}));
  EXPECT_EQ(defined("DROP TABLE u2"), Tables{});
  EXPECT_EQ(defined("INSERT INTO t VALUES (1, 2)"), Tables{});
  EXPECT_EQ(defined("CREATE DATABASE e"), Tables{});
}

TEST_F(HistoryTest, TableAndDatabaseDefaultCharsets) {
  run("CREATE DATABASE d2 CHARACTER SET latin1");
  run("CREATE TABLE d2.a (x VARCHAR(5))");
  EXPECT_EQ(t("a", "d2"), "x varchar(5) latin1_swedish_ci; ");
  run("CREATE TABLE d2.b (x VARCHAR(5), y TEXT(300)) DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin");
  EXPECT_EQ(t("b", "d2"), "x varchar(5) utf8mb4_bin; y text utf8mb4_bin; ");
  run("CREATE DATABASE d3");  // the server's default
  run("CREATE TABLE d3.c (x CHAR(2))");
  EXPECT_EQ(t("c", "d3"), "x char(2) latin1_swedish_ci; ");
  run("ALTER DATABASE d3 DEFAULT CHARACTER SET = utf8mb3");
  run("CREATE TABLE d3.e (x CHAR(2), y NATIONAL VARCHAR(3), z VARCHAR(4) BINARY)");
  EXPECT_EQ(t("e", "d3"),
            "x char(2) utf8mb3_general_ci; y varchar(3) utf8mb3_general_ci; "
            "z varchar(4) utf8mb3_bin; ");
  run("DROP DATABASE d3");
  EXPECT_EQ(t("c", "d3"), "<none>");
  EXPECT_TRUE(h_.knows("d3", "c"));  // known dropped: never the live definition
  // The session's collation_server, when its QUERY event logged it, over the server's own.
  auto r = h_.apply("d", "CREATE DATABASE d4", ++marker_, {.collation_server = 46});
  ASSERT_TRUE(r.ok()) << r.status().toString();
  run("CREATE TABLE d4.f (x CHAR(2))");
  EXPECT_EQ(t("f", "d4"), "x char(2) utf8mb4_bin; ");
}

TEST_F(HistoryTest, CreateLikeAndIfNotExists) {
  run("CREATE TABLE s (a INT PRIMARY KEY, b VARCHAR(3) UNIQUE)");
  run("CREATE TABLE t LIKE s");
  EXPECT_EQ(t(), "a int(11) NN; b varchar(3) utf8mb4_general_ci; PK(a) UK b(b)");
  run("CREATE TABLE IF NOT EXISTS t (z INT)");
  EXPECT_EQ(t(), "a int(11) NN; b varchar(3) utf8mb4_general_ci; PK(a) UK b(b)");
  run("CREATE TABLE u (LIKE s)");
  EXPECT_EQ(t("u"), t("s"));
  run("CREATE TABLE w LIKE never_seen");
  EXPECT_FALSE(h_.knows("d", "w"));
}

TEST_F(HistoryTest, AlterColumnsWithPlacement) {
  run("CREATE TABLE t (a INT, b INT, c INT)");
  run("ALTER TABLE t ADD COLUMN x INT FIRST, ADD y VARCHAR(2) AFTER x, DROP COLUMN c, "
      "MODIFY b BIGINT NOT NULL FIRST, CHANGE COLUMN a aa SMALLINT AFTER y");
  run("ALTER TABLE t RENAME COLUMN y TO yy");
  EXPECT_EQ(t(), "b bigint(20) NN; x int(11); yy varchar(2) utf8mb4_general_ci; aa smallint(6); ");
  run("ALTER TABLE t ADD (p INT, q INT)");
  EXPECT_EQ(t(),
            "b bigint(20) NN; x int(11); yy varchar(2) utf8mb4_general_ci; aa smallint(6); "
            "p int(11); q int(11); ");
  run("ALTER TABLE t DROP IF EXISTS nope, ADD COLUMN IF NOT EXISTS r INT, ALGORITHM=INPLACE, "
      "LOCK=NONE");
  EXPECT_EQ(t().substr(t().size() - 11), "r int(11); ");
}

TEST_F(HistoryTest, SwapNamesOfTwoColumns) {
  run("CREATE TABLE t (a INT, b INT)");
  // Clauses name the columns as they were before the statement, as the server reads them.
  run("ALTER TABLE t RENAME COLUMN a TO b, RENAME COLUMN b TO a");
  EXPECT_EQ(t(), "b int(11); a int(11); ");
  run("ALTER TABLE t CHANGE a b INT, CHANGE b a INT");
  EXPECT_EQ(t(), "a int(11); b int(11); ");
  run("ALTER TABLE t ADD PRIMARY KEY (a), ADD UNIQUE (b)");
  run("ALTER TABLE t CHANGE a b INT, CHANGE b a INT");
  EXPECT_EQ(t(), "b int(11) NN; a int(11); PK(b) UK b(a)");
  EXPECT_FALSE(h_.apply("d", "ALTER TABLE t RENAME COLUMN a TO b").ok());
}

TEST_F(HistoryTest, KeysFollowColumns) {
  run("CREATE TABLE t (a INT, b INT, c INT, PRIMARY KEY (a, b), UNIQUE KEY u (b, c))");
  run("ALTER TABLE t CHANGE b bb INT");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN; c int(11); PK(a,bb) UK u(bb,c)");
  run("ALTER TABLE t DROP COLUMN c");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN; PK(a,bb) UK u(bb)");
  run("ALTER TABLE t DROP PRIMARY KEY, ADD CONSTRAINT PRIMARY KEY (bb), DROP INDEX u, "
      "ADD UNIQUE INDEX v (a), ADD CONSTRAINT w UNIQUE (a, bb)");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN; PK(bb) UK v(a) UK w(a,bb)");
  run("ALTER TABLE t RENAME INDEX v TO vv, DROP KEY w");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN; PK(bb) UK vv(a)");
  run("CREATE UNIQUE INDEX z ON t (bb)");
  run("CREATE INDEX nz ON t (a)");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN; PK(bb) UK vv(a) UK z(bb)");
  run("DROP INDEX z ON t");
  run("DROP INDEX `PRIMARY` ON t");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN;  UK vv(a)");
  run("ALTER TABLE t ADD UNIQUE (a), ADD UNIQUE (a)");
  EXPECT_EQ(t(), "a int(11) NN; bb int(11) NN;  UK vv(a) UK a(a) UK a_2(a)");
}

TEST_F(HistoryTest, CharsetsAndConvert) {
  run("CREATE TABLE t (a VARCHAR(10), b TINYTEXT, c TEXT, e ENUM('x'), n INT, v VARBINARY(4)) "
      "CHARSET latin1");
  EXPECT_EQ(t(),
            "a varchar(10) latin1_swedish_ci; b tinytext latin1_swedish_ci; "
            "c text latin1_swedish_ci; e enum('x') latin1_swedish_ci; n int(11); "
            "v varbinary(4) binary; ");
  run("ALTER TABLE t DEFAULT CHARSET utf8mb4, ADD d CHAR(1)");
  EXPECT_EQ(t().substr(t().size() - 30), "d char(1) utf8mb4_general_ci; ");
  run("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
  EXPECT_EQ(t(),
            "a varchar(10) utf8mb4_unicode_ci; b text utf8mb4_unicode_ci; "
            "c mediumtext utf8mb4_unicode_ci; e enum('x') utf8mb4_unicode_ci; n int(11); "
            "v varbinary(4) binary; d char(1) utf8mb4_unicode_ci; ");
  auto d = h_.find("d", "t");
  EXPECT_EQ(d->shape.columns[0].octet_length, 40u);
  EXPECT_EQ(d->default_collation, collationByName("utf8mb4_unicode_ci"));
}

TEST_F(HistoryTest, ConvertingNonAsciiMembersIsRefused) {
  run("CREATE TABLE t (e ENUM('ü')) CHARSET latin1");
  EXPECT_EQ(h_.apply("d", "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4").status().code(),
            Status::Code::kUnsupported);
  run("ALTER TABLE t CONVERT TO CHARACTER SET latin1 COLLATE latin1_bin");  // same charset
}

TEST_F(HistoryTest, ColumnNamesCompareAsTheServerDoes) {
  run("CREATE TABLE t (`ÄÖ` INT, `Ελ` INT, `Жa` INT)");
  run("ALTER TABLE t MODIFY `äö` BIGINT, DROP `ελ`, CHANGE `жA` x INT");
  EXPECT_EQ(t(), "äö bigint(20); x int(11); ");                    // MODIFY spells the name anew
  EXPECT_FALSE(h_.apply("d", "ALTER TABLE t ADD `AO` INT").ok());  // accents do not count
}

TEST_F(HistoryTest, EnumAndSetMemberChanges) {
  run("CREATE TABLE t (e ENUM('a','b'), s SET('x'))");
  run("ALTER TABLE t MODIFY e ENUM('a','b','ü'), MODIFY COLUMN s SET('x','y','z') NOT NULL");
  EXPECT_EQ(t(),
            "e enum('a','b','ü') utf8mb4_general_ci; s set('x','y','z') utf8mb4_general_ci NN; ");
}

TEST_F(HistoryTest, RenameTablesAcrossDatabases) {
  run("CREATE TABLE a (x INT)");
  run("CREATE TABLE b (y INT)");
  run("RENAME TABLE a TO tmp, b TO a, tmp TO other.b");
  EXPECT_EQ(t("a"), "y int(11); ");
  EXPECT_EQ(t("b", "other"), "x int(11); ");
  EXPECT_EQ(t("b"), "<none>");
  run("ALTER TABLE a RENAME TO c, ADD z INT");
  EXPECT_EQ(t("c"), "y int(11); z int(11); ");
  EXPECT_EQ(t("a"), "<none>");
  run("ALTER TABLE c RENAME AS e");
  EXPECT_EQ(t("e"), "y int(11); z int(11); ");
}

TEST_F(HistoryTest, DropAndTruncate) {
  run("CREATE TABLE a (x INT)");
  run("CREATE TABLE b (x INT)");
  run("TRUNCATE TABLE a");
  EXPECT_EQ(t("a"), "x int(11); ");
  run("DROP TABLE IF EXISTS a, d.b, nope");
  EXPECT_EQ(t("a"), "<none>");
  EXPECT_EQ(t("b"), "<none>");
  run("CREATE TABLE a (y CHAR(1), z INT)");  // re-created with another shape
  EXPECT_EQ(t("a"), "y char(1) utf8mb4_general_ci; z int(11); ");
}

TEST_F(HistoryTest, ExecutableCommentsQuotedAndCaseVariantNames) {
  run("/*!40101 CREATE TABLE `Odd Name` (`Col``1` INT, `b` INT) */");
  EXPECT_EQ(t("Odd Name"), "Col`1 int(11); b int(11); ");
  run("alter TABLE `Odd Name` /*!50100 ADD COLUMN c INT */ /*M!100100 , DROP B */");
  EXPECT_EQ(t("Odd Name"), "Col`1 int(11); c int(11); ");
  run("ALTER TABLE `d`.`Odd Name` CHANGE `COL``1` k INT");
  EXPECT_EQ(t("Odd Name"), "k int(11); c int(11); ");
  run("CREATE TABLE T (a INT) /*!50100 PARTITION BY HASH (a) PARTITIONS 2 */");
  EXPECT_EQ(t("T"), "a int(11); ");
  EXPECT_EQ(t("t"), "<none>");  // table names are case-sensitive
}

TEST_F(HistoryTest, StatementsWithoutShapeAreIgnored) {
  run("CREATE TABLE t (a INT)");
  for (const char* sql :
       {"BEGIN", "INSERT INTO t VALUES (1)", "CREATE VIEW v AS SELECT 1",
        "CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN END", "DROP VIEW v", "GRANT ALL ON *.* TO x",
        "ALTER TABLE t ENGINE=InnoDB COMMENT 'x' AUTO_INCREMENT=5", "ALTER TABLE t FORCE",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 3", "ALTER TABLE t ADD INDEX i (a)",
        "CREATE INDEX j ON t (a)", "ANALYZE TABLE t", "RENAME USER a TO b",
        "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES s (b) ON DELETE CASCADE"}) {
    run(sql);
  }
  EXPECT_EQ(t(), "a int(11); ");
}

// Statements an idempotent migration script or partition maintenance writes, which stopped
// tasks: IF NOT EXISTS of a column or primary key the table has (the server notes it and
// changes nothing), partition name lists, and MariaDB 10.7's CONVERT PARTITION / TABLE.
TEST_F(HistoryTest, IdempotentAndPartitionStatements) {
  run("CREATE TABLE t (id INT PRIMARY KEY, d DATE NOT NULL, v INT) PARTITION BY RANGE (id) "
      "(PARTITION p1 VALUES LESS THAN (10), PARTITION p2 VALUES LESS THAN (20), "
      "PARTITION p3 VALUES LESS THAN MAXVALUE)");
  const std::string shape = "id int(11) NN; d date NN; v int(11); PK(id)";
  run("ALTER TABLE t ADD COLUMN IF NOT EXISTS v VARCHAR(50)");
  run("ALTER TABLE t ADD COLUMN IF NOT EXISTS v VARCHAR(50) AFTER id, ADD PRIMARY KEY IF NOT "
      "EXISTS (id)");
  run("ALTER TABLE t ADD CONSTRAINT IF NOT EXISTS PRIMARY KEY (d)");
  run("ALTER TABLE t ADD IF NOT EXISTS (v INT)");
  EXPECT_EQ(t(), shape);
  for (const char* sql : {
           "ALTER TABLE t REORGANIZE PARTITION p2, p3 INTO (PARTITION p2 VALUES LESS THAN (30), "
           "PARTITION p3 VALUES LESS THAN MAXVALUE)",
           "ALTER TABLE t OPTIMIZE PARTITION p1, p2",
           "ALTER TABLE t ANALYZE PARTITION p1, p2",
           "ALTER TABLE t TRUNCATE PARTITION p1, p3",
           "ALTER TABLE t DROP PARTITION IF EXISTS p9, p8",
           "ALTER TABLE t ADD PARTITION IF NOT EXISTS (PARTITION p9 VALUES LESS THAN (99))",
       })
    run(sql);
  EXPECT_EQ(t(), shape);
  run("ALTER TABLE t CONVERT PARTITION p1 TO TABLE t_p1");
  EXPECT_EQ(t(), shape);
  EXPECT_EQ(t("t_p1"), shape);
  run("ALTER TABLE t CONVERT TABLE t_p1 TO PARTITION p1 VALUES LESS THAN (10)");
  EXPECT_EQ(t(), shape);
  EXPECT_EQ(t("t_p1"), "<none>");
  // Without IF NOT EXISTS they stay errors.
  EXPECT_FALSE(h_.apply("d", "ALTER TABLE t ADD COLUMN v INT", 200).ok());
  EXPECT_FALSE(h_.apply("d", "ALTER TABLE t ADD PRIMARY KEY (d)", 201).ok());
  // A column added by the statement's IF NOT EXISTS when the table lacks it.
  run("ALTER TABLE t ADD COLUMN IF NOT EXISTS w INT FIRST");
  EXPECT_EQ(t(), "w int(11); " + shape);
}

TEST_F(HistoryTest, UnreadableDdlOnAKnownTableIsAnError) {
  run("CREATE TABLE t (a INT)");
  auto r = h_.apply("d", "ALTER TABLE t ADD COLUMN g FROBNICATE", 99);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(r.status().message().find("ALTER TABLE t ADD COLUMN g FROBNICATE"), std::string::npos);
  EXPECT_NE(r.status().message().find("FROBNICATE"), std::string::npos);
  EXPECT_EQ(t(), "a int(11); ");  // unchanged
  r = h_.apply("d", "ALTER TABLE t WITH SYSTEM VERSIONING", 100);
  EXPECT_FALSE(r.ok());
  r = h_.apply("d", "ALTER TABLE t ADD z INT, ADD z INT", 101);
  EXPECT_FALSE(r.ok());
  // Unknown tables are not an error: the owner uses their live definition.
  r = h_.apply("d", "ALTER TABLE other ADD COLUMN g FROBNICATE", 102);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->unknown.size(), 1u);
  EXPECT_EQ(r->unknown[0].second, "other");
}

TEST_F(HistoryTest, TablesNobodyCaresAboutAreForgotten) {
  SchemaHistory::Options o;
  o.cares = [](const std::string&, const std::string& table) { return table == "kept"; };
  SchemaHistory h(std::move(o));
  ASSERT_TRUE(h.apply("d", "CREATE TABLE skipped (a INT)").ok());
  auto r = h.apply("d", "ALTER TABLE skipped ADD g FROBNICATE");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(h.knows("d", "skipped"));
}

// A selected table created WITH SYSTEM VERSIONING (table option or column clauses) stops the
// history at its CREATE, naming the table and why; one nobody selected falls back as before.
TEST_F(HistoryTest, ASelectedTableCreatedWithSystemVersioningIsRefusedAtItsCreate) {
  SchemaHistory::Options o;
  o.cares = [](const std::string&, const std::string& table) { return table != "other"; };
  SchemaHistory h(std::move(o));
  for (const char* sql :
       {"CREATE TABLE sv (id INT PRIMARY KEY) WITH SYSTEM VERSIONING",
        "CREATE TABLE sv (id INT PRIMARY KEY, s TIMESTAMP(6) GENERATED ALWAYS AS ROW START, e "
        "TIMESTAMP(6) GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(s, e)) WITH SYSTEM "
        "VERSIONING",
        "CREATE TABLE sv (id INT PRIMARY KEY, v INT WITH SYSTEM VERSIONING)"}) {
    auto r = h.apply("d", sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Status::Code::kUnsupported) << sql;
    EXPECT_NE(r.status().message().find("makes `d`.`sv` a system-versioned table (WITH SYSTEM "
                                        "VERSIONING), which dts does not move"),
              std::string::npos)
        << r.status().message();
  }
  auto r = h.apply("d", "CREATE TABLE other (id INT PRIMARY KEY) WITH SYSTEM VERSIONING");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_FALSE(h.knows("d", "other"));
}

TEST_F(HistoryTest, SaveAtAMarkerAndRestore) {
  run("CREATE TABLE t (a INT PRIMARY KEY, `we ird%~` VARCHAR(3) UNIQUE)");  // marker 1
  const uint64_t before_alter = marker_;
  run("ALTER TABLE t ADD b INT FIRST");  // marker 2
  run("DROP TABLE t");                   // marker 3
  std::string saved = h_.save(before_alter);
  SchemaHistory r;
  ASSERT_TRUE(r.restore(saved).ok());
  EXPECT_EQ(describe(r, "d", "t"),
            "a int(11) NN; we ird%~ varchar(3) utf8mb4_general_ci; PK(a) UK we ird%~(we ird%~)");
  // Later markers still see the newest state in the original.
  EXPECT_EQ(t(), "<none>");
  SchemaHistory r2;
  ASSERT_TRUE(r2.restore(h_.save(marker_)).ok());
  EXPECT_TRUE(r2.knows("d", "t"));
  EXPECT_EQ(describe(r2, "d", "t"), "<none>");
  // Corrupt text is refused.
  EXPECT_EQ(r.restore("garbage").code(), Status::Code::kCorruption);
  EXPECT_EQ(r.restore("dts-schema-history 1\nC x").code(), Status::Code::kCorruption);
  EXPECT_EQ(r.restore("dts-schema-history 1\nT d t %G1").code(), Status::Code::kCorruption);
}

TEST(CollationNamesTest, NamesAndDefaults) {
  EXPECT_EQ(collationByName("utf8_general_ci"), collationByName("utf8mb3_general_ci"));
  EXPECT_EQ(collationByName("LATIN1_SWEDISH_CI"), 8);
  EXPECT_EQ(defaultCollationOf("latin1"), 8);
  EXPECT_EQ(defaultCollationOf("utf8"), 33);
  EXPECT_EQ(defaultCollationOf("binary"), 63);
  EXPECT_EQ(defaultCollationOf("nope"), 0);
}

}  // namespace
}  // namespace dts::source

namespace dts::source {
namespace {

TEST(SchemaHistorySeedTest, PutAccumulatesTables) {
  SchemaHistory h;
  for (const char* name : {"t", "r", "s"}) {
    TableDefinition d;
    d.shape.database = "hs";
    d.shape.table = name;
    d.shape.columns.push_back(SchemaColumn{});
    d.shape.columns.back().name = "a";
    h.put(std::move(d), 0);
  }
  EXPECT_EQ(h.tableCount(), 3u);
  SchemaHistory r;
  ASSERT_TRUE(r.restore(h.save(0)).ok());
  EXPECT_EQ(r.tableCount(), 3u);
}

}  // namespace
}  // namespace dts::source
