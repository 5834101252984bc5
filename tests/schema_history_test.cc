// The schema history against the server itself: each DDL form is run on a real MariaDB server
// and interpreted by source::SchemaHistory; after every statement the history's definition of
// every table (column names, types, collations, nullability, ENUM/SET members, primary and
// unique keys) must equal what information_schema says, and both must hold the same tables.
#include "source/schema_history.h"

#include <gtest/gtest.h>

#include <chrono>

#include "cluster_fixture.h"
#include "mysql/collations.h"
#include "mysql/unique_keys.h"

namespace dts::testing {
namespace {

using source::SchemaColumn;
using source::SchemaHistory;

std::string collationName(uint16_t id) {
  const mysql::Collation* c = mysql::findCollation(id);
  return c == nullptr ? std::to_string(id) : c->name;
}

std::string describeColumn(const SchemaColumn& c) {
  std::string out = "`" + c.name + "` " + c.data_type + " " + c.column_type;
  if (c.collation != 0) out += " " + collationName(c.collation);
  if (!c.nullable) out += " NOT NULL";
  if (c.data_type == "char" || c.data_type == "varchar") {
    out += " bytes=" + std::to_string(c.octet_length);
  }
  if (c.data_type == "decimal") {
    out += " " + std::to_string(c.precision) + "," + std::to_string(c.scale);
  }
  if (c.data_type == "bit") out += " width=" + std::to_string(c.precision);
  if (c.data_type == "time" || c.data_type == "datetime" || c.data_type == "timestamp") {
    out += " fsp=" + std::to_string(c.datetime_precision);
  }
  if (c.data_type == "enum" || c.data_type == "set") {
    auto members = source::parseEnumMembers(c.column_type);
    out += " members=" + std::to_string(members.ok() ? members->size() : 0);
  }
  return out;
}

std::string describeKeys(const std::vector<std::string>& primary,
                         const std::vector<mysql::UniqueKey>& unique) {
  std::string out = "PRIMARY(";
  for (const auto& k : primary) out += k + ",";
  out += ")";
  std::vector<std::string> uks;
  for (const auto& u : unique) {
    if (u.primary()) continue;
    std::string s = " UNIQUE " + u.name + "(";
    for (const auto& k : u.columns) s += k + ",";
    uks.push_back(s + ")");
  }
  std::sort(uks.begin(), uks.end());
  for (const auto& s : uks) out += s;
  return out;
}

class SchemaHistoryDiffTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    conn_ = cluster_->connect(cluster_->endpoint());
    ASSERT_TRUE(conn_);
    loader_conn_ = cluster_->connect(cluster_->endpoint());
    ASSERT_TRUE(loader_conn_);
    SchemaHistory::Options o;
    mysql::Connection* lc = loader_conn_.get();
    o.server_collation = [lc]() -> Result<std::string> {
      DTS_ASSIGN_OR_RETURN(auto r, lc->query("SELECT @@collation_server"));
      return r.rows.empty() || !r.rows[0][0] ? std::string() : *r.rows[0][0];
    };
    o.database_collation = [lc](const std::string& db) -> Result<std::string> {
      DTS_ASSIGN_OR_RETURN(auto r, lc->query("SELECT DEFAULT_COLLATION_NAME FROM "
                                             "information_schema.SCHEMATA WHERE SCHEMA_NAME = " +
                                             lc->quoteString(db)));
      return r.rows.empty() || !r.rows[0][0] ? std::string() : *r.rows[0][0];
    };
    history_ = SchemaHistory(std::move(o));
  }

  // What the server says about every table of `dbs`, in the form of describe().
  std::string serverView(const std::vector<std::string>& dbs) {
    std::string out;
    source::InformationSchemaLoader loader(cluster_->connect(cluster_->endpoint()));
    for (const std::string& db : dbs) {
      auto tables =
          conn_->query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                       conn_->quoteString(db) + " ORDER BY TABLE_NAME");
      EXPECT_TRUE(tables.ok()) << tables.status().toString();
      if (!tables.ok()) return out;
      std::vector<std::string> names;
      for (const auto& row : tables->rows) names.push_back(*row[0]);
      std::sort(names.begin(), names.end());
      for (const std::string& t : names) {
        auto def = loader.load(db, t);
        EXPECT_TRUE(def.ok()) << def.status().toString();
        if (!def.ok()) continue;
        out += "table `" + db + "`.`" + t + "`\n";
        for (const SchemaColumn& c : def->columns) out += "  " + describeColumn(c) + "\n";
        auto keys = mysql::readUniqueKeys(*conn_, db, t);
        EXPECT_TRUE(keys.ok());
        out += "  " +
               describeKeys(def->primary_key, keys.ok() ? *keys : std::vector<mysql::UniqueKey>{}) +
               "\n";
      }
    }
    return out;
  }

  std::string historyView(const std::vector<std::string>& dbs) {
    std::string out;
    for (const auto& [db, t] : history_.tables()) {
      if (std::find(dbs.begin(), dbs.end(), db) == dbs.end()) continue;
      auto def = history_.find(db, t);
      out += "table `" + db + "`.`" + t + "`\n";
      for (const SchemaColumn& c : def->shape.columns) out += "  " + describeColumn(c) + "\n";
      out += "  " + describeKeys(def->shape.primary_key, def->unique_keys) + "\n";
    }
    return out;
  }

  // Runs the statement on the server and in the history, then compares every table.
  void step(const std::string& sql) {
    SCOPED_TRACE(sql);
    Status st = conn_->execute(sql);
    ASSERT_TRUE(st.ok()) << st.toString();
    auto db = conn_->query("SELECT DATABASE()");
    ASSERT_TRUE(db.ok());
    std::string default_db = db->rows[0][0].value_or("");
    auto applied = history_.apply(default_db, sql, ++marker_);
    ASSERT_TRUE(applied.ok()) << applied.status().toString();
    ++steps_;
    const std::string mine = historyView(dbs_), server = serverView(dbs_);
    if (mine != server)
      ADD_FAILURE() << "history vs information_schema:\n" << lineDiff(mine, server);
  }

  // The lines of each side that the other lacks.
  static std::string lineDiff(const std::string& mine, const std::string& server) {
    auto lines = [](const std::string& s) {
      std::vector<std::string> out;
      size_t b = 0;
      for (size_t e; (e = s.find('\n', b)) != std::string::npos; b = e + 1)
        out.push_back(s.substr(b, e - b));
      return out;
    };
    std::vector<std::string> a = lines(mine), b = lines(server);
    std::string out;
    std::string table;
    for (const auto& l : a) {
      if (l.rfind("table ", 0) == 0) table = l;
      if (std::find(b.begin(), b.end(), l) == b.end()) out += "history: " + table + " " + l + "\n";
    }
    for (const auto& l : b) {
      if (l.rfind("table ", 0) == 0) table = l;
      if (std::find(a.begin(), a.end(), l) == a.end()) out += "server:  " + table + " " + l + "\n";
    }
    return out;
  }

  std::unique_ptr<mysql::Connection> conn_, loader_conn_;
  SchemaHistory history_;
  uint64_t marker_ = 0;
  int steps_ = 0;
  std::vector<std::string> dbs_ = {"hd", "hd2", "hd3"};
};

TEST_F(SchemaHistoryDiffTest, EveryDdlFormMatchesInformationSchema) {
  const auto start = std::chrono::steady_clock::now();
  for (
      const std::string& sql : std::vector<std::string>{
          "DROP DATABASE IF EXISTS hd",
          "DROP DATABASE IF EXISTS hd2",
          "DROP DATABASE IF EXISTS hd3",
          "CREATE DATABASE hd CHARACTER SET latin1",
          "CREATE DATABASE IF NOT EXISTS hd2",
          "USE hd",
          // Every type family, column-level and table-level keys.
          "CREATE TABLE t1 (id INT NOT NULL AUTO_INCREMENT, u INT UNSIGNED, b BIGINT, "
          "s VARCHAR(20) DEFAULT 'x', c CHAR(3) CHARACTER SET utf8mb4, "
          "e ENUM('a','it''s','b') NOT NULL, e2 ENUM('ü','é'), st SET('x','y') COLLATE latin1_bin, "
          "d DECIMAL(12,3), d2 NUMERIC, f FLOAT, f2 FLOAT(30), db DOUBLE, dbp DOUBLE(8,2), "
          "dt DATETIME(3), tm TIME, ts TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE "
          "CURRENT_TIMESTAMP, dd DATE, y YEAR, bt BIT(5), bt1 BIT, tx TEXT, ttx TINYTEXT, "
          "mtx MEDIUMTEXT, ltx LONGTEXT, bl BLOB, tbl TINYBLOB, vb VARBINARY(8), bn BINARY(2), "
          "j JSON, bo BOOLEAN, z INT(5) ZEROFILL, sm SMALLINT UNSIGNED, mi MEDIUMINT, "
          "ti TINYINT, nc NATIONAL CHAR(2), nv NVARCHAR(4), vbin VARCHAR(4) BINARY, "
          "t100 TEXT(100), b300 BLOB(300), g POINT, uid INET6 UNIQUE, "
          "PRIMARY KEY (id), UNIQUE KEY uk_s (s), UNIQUE (c, b), KEY k (b)) ENGINE=InnoDB",
          "CREATE TABLE t2 LIKE t1",
          "ALTER TABLE t1 DROP COLUMN e2",
          "CREATE TABLE hd2.t2 (LIKE t1)",
          "CREATE TABLE IF NOT EXISTS t2 (other INT)",
          "CREATE TABLE ser (a SERIAL, b CHAR(1) CHARACTER SET ascii, c CHAR(1) ASCII)",
          // ALTER with many clauses and placements.
          "ALTER TABLE t1 ADD COLUMN a0 INT FIRST, ADD COLUMN a1 VARCHAR(7) AFTER id, DROP COLUMN "
          "mi, MODIFY u BIGINT UNSIGNED NOT NULL, CHANGE s s2 VARCHAR(30) CHARACTER SET utf8mb4 "
          "AFTER a0, RENAME COLUMN c TO cc",
          "ALTER TABLE t1 DROP INDEX c, DROP COLUMN b",
          "ALTER TABLE t1 ADD (p1 INT, p2 CHAR(2)), DROP COLUMN IF EXISTS nope, ALGORITHM=COPY",
          "ALTER TABLE t1 RENAME COLUMN p1 TO dd, RENAME COLUMN dd TO p1",
          "ALTER TABLE t1 CHANGE p1 dd INT, CHANGE dd p1 DATE AFTER dd",
          "ALTER TABLE t1 CONVERT TO CHARACTER SET utf8mb4",
          "ALTER TABLE t1 DEFAULT CHARSET latin1, ADD x CHAR(4), ADD x2 TINYTEXT",
          "ALTER TABLE t1 CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci",
          "ALTER TABLE t1 DROP PRIMARY KEY, ADD PRIMARY KEY (id, a0), ADD UNIQUE KEY ux (x), "
          "DROP INDEX uk_s, ADD CONSTRAINT cu UNIQUE (a1)",
          "ALTER TABLE t1 MODIFY e ENUM('a','it''s','ü','new') NOT NULL, MODIFY st "
          "SET('x','y','z')",
          "ALTER TABLE t1 RENAME INDEX ux TO ux2, DROP KEY cu, ENGINE=InnoDB COMMENT 'c'",
          "CREATE UNIQUE INDEX ui ON t1 (a1, x)",
          "CREATE INDEX plain ON t1 (a1)",
          "DROP INDEX ui ON t1",
          "ALTER TABLE t1 DROP COLUMN a1",
          "ALTER TABLE t1 ALTER COLUMN x SET DEFAULT 'q', FORCE",
          // Renames: several pairs, across databases; ALTER ... RENAME.
          "RENAME TABLE t1 TO tmp, t2 TO t1, tmp TO hd2.t9",
          "ALTER TABLE t1 RENAME TO t3, ADD COLUMN r1 INT FIRST",
          "ALTER TABLE hd2.t9 RENAME AS hd.t9",
          "TRUNCATE TABLE t3",
          // Quoted and case-variant names; executable comments.
          "CREATE TABLE `Mixed Case` (`Weird``Col` INT, `lower` INT, `ÄÖ` CHAR(1))",
          "ALTER TABLE `Mixed Case` CHANGE `WEIRD``COL` k INT, DROP `LOWER`, MODIFY `äö` CHAR(2)",
          "/*!40101 ALTER TABLE t3 ADD COLUMN z1 INT */",
          "ALTER TABLE t3 /*!50100 ADD COLUMN z2 INT, */ /*M!100100 ADD COLUMN z3 INT */",
          "CREATE TABLE p (a INT) /*!50100 PARTITION BY HASH (a) PARTITIONS 2 */",
          // Database charsets.
          "CREATE DATABASE hd3 CHARACTER SET utf8mb3",
          "CREATE TABLE hd3.x (a VARCHAR(3), b TEXT(100))",
          "ALTER DATABASE hd3 CHARACTER SET latin1 COLLATE latin1_general_ci",
          "CREATE TABLE hd3.y (a VARCHAR(3), b ENUM('é'))",
          "DROP DATABASE hd3",
          // Drop and re-create with another shape.
          "DROP TABLE t3, p",
          "CREATE TABLE t3 (k CHAR(5) PRIMARY KEY, v TIME(6)) CHARSET=utf8mb4 "
          "COLLATE=utf8mb4_unicode_ci",
          "DROP TABLE IF EXISTS t3, never_there",
          "DROP DATABASE hd2",
      }) {
    step(sql);
    if (HasFatalFailure()) return;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("schema history differential test: %d statements compared in %.2f s\n", steps_, seconds);
}

}  // namespace
}  // namespace dts::testing
