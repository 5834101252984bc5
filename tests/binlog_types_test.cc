// Every column type through `dts binlog tail` against a real MariaDB: inserts, updates and deletes
// of edge values and NULLs, each value compared with what SELECT prints for the same row. Runs
// with binlog_row_metadata=FULL (names from the TABLE_MAP) and MINIMAL (names from the schema
// tracker), and checks that a definition newer than the stream is refused, never guessed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cluster_fixture.h"

namespace dts::testing {
namespace {

using nlohmann::json;

enum class Ref { kText, kHex, kFloat, kDouble, kBit, kNumber };

struct Col {
  std::string name, type;
  Ref ref = Ref::kText;
  int bit_bytes = 0;
};

const std::vector<Col>& columns() {
  static const std::vector<Col> cols = {
      {"ti", "TINYINT"},
      {"tiu", "TINYINT UNSIGNED"},
      {"si", "SMALLINT"},
      {"siu", "SMALLINT UNSIGNED"},
      {"mi", "MEDIUMINT"},
      {"miu", "MEDIUMINT UNSIGNED"},
      {"i", "INT"},
      {"iu", "INT UNSIGNED"},
      {"bi", "BIGINT"},
      {"biu", "BIGINT UNSIGNED"},
      {"d1", "DECIMAL(10,2)"},
      {"d2", "DECIMAL(65,30)"},
      {"d3", "DECIMAL(5,0)"},
      {"d4", "DECIMAL(18,9)"},
      {"d5", "DECIMAL(1,1)"},
      {"d6", "DECIMAL(65,0)"},
      {"f", "FLOAT", Ref::kFloat},
      {"dbl", "DOUBLE", Ref::kDouble},
      {"b1", "BIT(1)", Ref::kBit, 1},
      {"b10", "BIT(10)", Ref::kBit, 2},
      {"b64", "BIT(64)", Ref::kBit, 8},
      {"y", "YEAR", Ref::kNumber},
      {"dt", "DATE"},
      {"t0", "TIME"},
      {"t1", "TIME(1)"},
      {"t3", "TIME(3)"},
      {"t6", "TIME(6)"},
      {"dt0", "DATETIME"},
      {"dt2", "DATETIME(2)"},
      {"dt4", "DATETIME(4)"},
      {"dt6", "DATETIME(6)"},
      {"ts0", "TIMESTAMP NULL"},
      {"ts1", "TIMESTAMP(1) NULL"},
      {"ts5", "TIMESTAMP(5) NULL"},
      {"ts6", "TIMESTAMP(6) NULL"},
      {"c", "CHAR(10) CHARACTER SET utf8mb4"},
      {"vc", "VARCHAR(300) CHARACTER SET utf8mb4"},
      {"tx", "TEXT CHARACTER SET utf8mb4"},
      {"tt", "TINYTEXT CHARACTER SET utf8mb4"},
      {"mt", "MEDIUMTEXT CHARACTER SET utf8mb4"},
      {"l1", "VARCHAR(20) CHARACTER SET latin1"},
      {"lc", "CHAR(5) CHARACTER SET latin1"},
      {"lt", "TEXT CHARACTER SET latin1"},
      {"cb", "CHAR(100) CHARACTER SET utf8mb4"},
      {"bn", "BINARY(4)", Ref::kHex},
      {"vb", "VARBINARY(300)", Ref::kHex},
      {"tb", "TINYBLOB", Ref::kHex},
      {"bl", "BLOB", Ref::kHex},
      {"mb", "MEDIUMBLOB", Ref::kHex},
      {"lb", "LONGBLOB", Ref::kHex},
      {"e", "ENUM('a','b','ç','')", Ref::kNumber},  // a member '': by index
      {"s", "SET('x','y','z')"},
      {"j", "JSON"},
      {"g", "GEOMETRY", Ref::kHex},
      {"pt", "POINT", Ref::kHex},
      // MariaDB's COMPRESSED columns (their own binlog types, values compressed by zlib unless
      // too short to gain) and its fixed-size binary types, printed as SELECT prints them.
      {"vcz", "VARCHAR(300) CHARACTER SET utf8mb4 COMPRESSED"},
      {"txz", "TEXT CHARACTER SET utf8mb4 COMPRESSED"},
      {"bz", "BLOB COMPRESSED", Ref::kHex},
      {"vbz", "VARBINARY(300) COMPRESSED", Ref::kHex},
      {"u", "UUID"},
      {"i6", "INET6"},
      {"i4", "INET4"},
  };
  return cols;
}

std::string all256Hex() {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (int i = 0; i < 256; ++i) {
    out.push_back(digits[i >> 4]);
    out.push_back(digits[i & 15]);
  }
  return out;
}

// Rows: id then one SQL expression per column (in columns() order).
std::vector<std::string> insertRows() {
  std::string h = all256Hex();
  std::vector<std::string> rows;
  rows.push_back(  // minimums and negative edges
      "(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,"
      " -99999999.99, '-99999999999999999999999999999999999.999999999999999999999999999999', -99999,"
      " -999999999.999999999, -0.9, '-99999999999999999999999999999999999999999999999999999999999999999',"
      " -3.40282e38, -1.7976931348623157e308, b'0', b'0', b'0', 1901, '1000-01-01',"
      " '-838:59:59', '-838:59:59.9', '-00:00:00.001', '-838:59:59.000000', '1000-01-01 00:00:00',"
      " '1000-01-01 00:00:00.01', '1000-01-01 00:00:00.0001', '1000-01-01 00:00:00.000001',"
      " '1970-01-01 00:00:01', '1970-01-01 00:00:01.1', '1970-01-01 00:00:01.00001', '1970-01-01 00:00:01.000001',"
      " '', '', '', '', '', '', '', '', '', UNHEX(''), UNHEX(''), UNHEX(''), UNHEX(''), UNHEX(''), UNHEX(''),"
      " '', '', '[]', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)'),"
      " '', '', UNHEX(''), UNHEX(''), '00000000-0000-0000-0000-000000000000', '::', '0.0.0.0')");
  rows.push_back(  // maximums
      "(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807,"
      " 18446744073709551615, 99999999.99, '99999999999999999999999999999999999.999999999999999999999999999999',"
      " 99999, 999999999.999999999, 0.9, '99999999999999999999999999999999999999999999999999999999999999999',"
      " 3.40282e38, 1.7976931348623157e308, b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',"
      " 2155, '9999-12-31', '838:59:59', '838:59:59.9', '838:59:59.999', '838:59:59.000000',"
      " '9999-12-31 23:59:59', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.999999',"
      " '2038-01-19 03:14:07', '2038-01-19 03:14:07.9', '2038-01-19 03:14:07.99999', '2038-01-19 03:14:07.999999',"
      " 'emoji😀ñ', REPEAT('é😀', 150), 'multi\\nline \\\"quoted\\\" \\\\ back', 'tab\\there', REPEAT('x', 70000),"
      " 'àéîõü', 'ÀÉÎ', 'Grüße, ça va?', REPEAT('ü', 100),"
      " UNHEX('00FF7F80'), UNHEX('" +
      h + "'), UNHEX('" + h.substr(0, 254 * 2) + "'), UNHEX('" + h +
      "'),"
      " UNHEX(REPEAT('" +
      h + "', 300)), UNHEX('" + h +
      "'),"
      " 'ç', 'x,y,z', '{\"a\": [1, 2.5, \"ü\"], \"b\": null, \"c\": {\"d\": true}}',"
      " ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), ST_GeomFromText('POINT(1e300 -1e-300)'),"
      " REPEAT('é😀', 150), REPEAT('ab', 30000), UNHEX(REPEAT('" +
      h + "', 100)), UNHEX('" + h.substr(0, 300 * 2) +
      "'), 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',"
      " '255.255.255.255')");
  rows.push_back(  // zeros, zero dates, small fractions
      "(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.00, '0.000000000000000000000000000001', 0, -0.000000001, 0.0, '0',"
      " 1.17549e-38, 2.2250738585072014e-308, b'0', b'0000000001', b'1000000000000000000000000000000000000000000000000000000000000000',"
      " 0, '0000-00-00', '00:00:00', '00:00:00.0', '-00:00:01.5', '00:00:00.000001', '0000-00-00 00:00:00',"
      " '0000-00-00 00:00:00.00', '2000-02-29 12:34:56.0001', '2024-01-31 10:00:00.120000',"
      " '0000-00-00 00:00:00', '0000-00-00 00:00:00.0', '2001-09-09 01:46:40.12345', '2001-09-09 01:46:40.000001',"
      " ' lead', 'trail  ', ' ', '\\0nul', 'x', 'a', 'b', 'c', 'd',"
      " UNHEX('00'), UNHEX('00'), UNHEX('FF'), UNHEX('0001'), UNHEX('7F'), UNHEX('80'),"
      " 'a', '', '\"just a string\"', ST_GeomFromText('LINESTRING(0 0,1 1,2 2)'), ST_GeomFromText('POINT(3 4)'),"
      " 'x', 'ü', UNHEX('00'), UNHEX('FF'), '123e4567-e89b-12d3-a456-426614174000', '2001:db8::', '1.2.3.4')");
  std::string nulls = "(4";
  for (size_t i = 0; i < columns().size(); ++i) nulls += ", NULL";
  rows.push_back(nulls + ")");
  return rows;
}

std::string selectList() {
  std::string sql = "id";
  for (const Col& c : columns()) {
    sql += ", ";
    switch (c.ref) {
      case Ref::kText: sql += "CONVERT(CAST(`" + c.name + "` AS CHAR) USING utf8mb4)"; break;
      case Ref::kHex: sql += "LOWER(HEX(`" + c.name + "`))"; break;
      case Ref::kNumber:  // YEAR: SELECT prints 0 as "0000"; dts writes the number
        sql += "`" + c.name + "` + 0";
        break;
      case Ref::kFloat:
      case Ref::kDouble: sql += "CAST(`" + c.name + "` AS DOUBLE)"; break;
      case Ref::kBit:
        sql += "LPAD(LOWER(HEX(`" + c.name + "`)), " + std::to_string(2 * c.bit_bytes) + ", '0')";
        break;
    }
  }
  return sql;
}

using Snapshot = std::map<int, mysql::Row>;

Snapshot snapshot(mysql::Connection& c, const std::string& db) {
  auto r = c.query("SELECT " + selectList() + " FROM `" + db + "`.t ORDER BY id");
  EXPECT_TRUE(r.ok()) << r.status().toString();
  Snapshot out;
  if (!r.ok()) return out;
  for (auto& row : r->rows) out[std::stoi(*row[0])] = row;
  return out;
}

void compareImage(const json& image, const mysql::Row& expected, const std::string& what) {
  ASSERT_TRUE(image.is_object()) << what << ": " << image.dump();
  ASSERT_EQ(image.size(), columns().size() + 1) << what;
  for (size_t i = 0; i < columns().size(); ++i) {
    const Col& col = columns()[i];
    const std::optional<std::string>& want = expected[i + 1];
    ASSERT_TRUE(image.contains(col.name)) << what << " lacks " << col.name;
    const json& got = image[col.name];
    std::string where = what + " column " + col.name;
    if (!want) {
      EXPECT_TRUE(got.is_null()) << where << ": got " << got.dump();
      continue;
    }
    if (got.is_null()) {
      ADD_FAILURE() << where << ": got null, want " << *want;
      continue;
    }
    switch (col.ref) {
      case Ref::kFloat:
        ASSERT_TRUE(got.is_number()) << where << ": " << got.dump();
        EXPECT_EQ(static_cast<float>(got.get<double>()),
                  static_cast<float>(std::strtod(want->c_str(), nullptr)))
            << where << ": got " << got.dump() << " want " << *want;
        break;
      case Ref::kDouble:
        ASSERT_TRUE(got.is_number()) << where << ": " << got.dump();
        EXPECT_EQ(got.get<double>(), std::strtod(want->c_str(), nullptr))
            << where << ": got " << got.dump();
        break;
      default:
        if (got.is_number()) {
          EXPECT_EQ(got.dump(), *want) << where;
        } else {
          ASSERT_TRUE(got.is_string()) << where << ": " << got.dump();
          EXPECT_EQ(got.get<std::string>(), *want) << where;
        }
    }
  }
}

// "--from-file F --from-pos N" at the end of the node's binlog now.
std::string here(mysql::Connection& c) {
  auto r = c.query("SHOW MASTER STATUS");
  EXPECT_TRUE(r.ok() && !r->rows.empty());
  if (!r.ok() || r->rows.empty()) return "";
  return "--from-file " + *r->rows[0][0] + " --from-pos " + *r->rows[0][1];
}

class BinlogTypesTest : public SharedClusterTest {
 protected:
  // binlog_row_metadata is global only and needs more than the dts account may do: root over
  // the node's socket.
  void setRowMetadata(const std::string& value) {
    std::string out;
    int rc =
        runCommand("mariadb --no-defaults -uroot --socket=" + cluster_->dir() +
                       "/node-1/mysqld.sock -e 'SET GLOBAL binlog_row_metadata = " + value + "'",
                   &out);
    ASSERT_EQ(rc, 0) << out;
  }

  // Runs `dts binlog tail` from `from` (options) to the end; returns the exit code, fills stdout
  // lines.
  int tail(const std::string& from, const std::string& tables, std::vector<json>* lines,
           std::string* errors) {
    std::string ep = cluster_->nodeEndpoint("node-1");
    std::string dir = cluster_->dir();
    std::string out_file = dir + "/tail.out", err_file = dir + "/tail.err";
    std::string cmd = "(DTS_PASSWORD='" + cluster_->password() + "' " + dtsBinary() +
                      " binlog tail mysql://" + cluster_->user() + "@" + ep + " " + from +
                      " --tables " + tables + " --stop-at-end > " + out_file + " 2> " + err_file +
                      ")";
    std::string ignored;
    int rc = runCommand(cmd, &ignored);
    std::ifstream in(out_file);
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        ADD_FAILURE() << "not a JSON line: " << line;
        continue;
      }
      lines->push_back(std::move(j));
    }
    std::ifstream e(err_file);
    std::stringstream ss;
    ss << e.rdbuf();
    *errors = ss.str();
    return rc;
  }

  void runAllTypes(const std::string& metadata) {
    const std::string db = "types_" + metadata;
    setRowMetadata(metadata);
    auto c = cluster_->connect(cluster_->nodeEndpoint("node-1"));  // picks up the new global
    ASSERT_TRUE(c->execute("SET time_zone = '+00:00', sql_mode = ''").ok());
    std::string ddl = "CREATE TABLE `" + db + "`.t (id INT PRIMARY KEY";
    for (const Col& col : columns()) ddl += ", `" + col.name + "` " + col.type;
    ddl += ") DEFAULT CHARSET=utf8mb4";
    ASSERT_TRUE(c->execute("CREATE DATABASE `" + db + "`").ok());
    ASSERT_TRUE(c->execute(ddl).ok()) << ddl;
    std::string start = here(*c);

    for (const std::string& row : insertRows()) {
      Status st = c->execute("INSERT INTO `" + db + "`.t VALUES " + row);
      ASSERT_TRUE(st.ok()) << st.toString() << "\n" << row.substr(0, 300);
    }
    Snapshot inserted = snapshot(*c, db);
    ASSERT_EQ(inserted.size(), 4u);
    // Updates swap edge rows into each other (every column changes) and NULLs into values.
    ASSERT_TRUE(
        c->execute(
             "UPDATE `" + db +
             "`.t SET ti = -1, d2 = '-0.5', tx = 'ü', vb = UNHEX('DEADBEEF'), "
             "dt6 = '2020-02-02 02:02:02.020202', e = 'b', s = 'y', j = '{\"k\": 1}', "
             "vcz = REPEAT('z', 300), bz = UNHEX('00'), u = '6ccd780c-baba-1026-9564-5b8c656024db', "
             "i6 = '::ffff:1.2.3.4', i4 = '10.0.0.1' WHERE id IN (1, 4)")
            .ok());
    Snapshot updated = snapshot(*c, db);
    ASSERT_TRUE(c->execute("DELETE FROM `" + db + "`.t WHERE id IN (2, 4)").ok());

    setRowMetadata("MINIMAL");
    std::vector<json> lines;
    std::string errors;
    int rc = tail(start, db + ".t", &lines, &errors);
    ASSERT_EQ(rc, 0) << errors;
    int inserts = 0, updates = 0, deletes = 0;
    for (const json& l : lines) {
      std::string op = l["op"];
      if (op == "insert") {
        int id = l["after"]["id"];
        compareImage(l["after"], inserted[id], metadata + " insert id " + std::to_string(id));
        ++inserts;
      } else if (op == "update") {
        int id = l["after"]["id"];
        compareImage(l["before"], inserted[id],
                     metadata + " update before id " + std::to_string(id));
        compareImage(l["after"], updated[id], metadata + " update after id " + std::to_string(id));
        ++updates;
      } else if (op == "delete") {
        int id = l["before"]["id"];
        compareImage(l["before"], updated[id], metadata + " delete id " + std::to_string(id));
        ++deletes;
      }
      EXPECT_EQ(l["db"], db);
      EXPECT_FALSE(l["gtid"].is_null());
    }
    EXPECT_EQ(inserts, 4);
    EXPECT_EQ(updates, 2);
    EXPECT_EQ(deletes, 2);
  }
};

TEST_F(BinlogTypesTest, EveryTypeWithFullRowMetadata) {
  runAllTypes("FULL");
}

TEST_F(BinlogTypesTest, EveryTypeWithMinimalRowMetadataThroughTheSchemaTracker) {
  runAllTypes("MINIMAL");
}

TEST_F(BinlogTypesTest, FollowsDdlAndRefusesADefinitionNewerThanTheStream) {
  auto c = cluster_->connect(cluster_->nodeEndpoint("node-1"));
  setRowMetadata("MINIMAL");
  ASSERT_TRUE(
      c->execute("CREATE DATABASE ddl; CREATE TABLE ddl.t (id INT PRIMARY KEY, a INT)").ok());
  std::string start = here(*c);
  ASSERT_TRUE(c->execute("INSERT INTO ddl.t VALUES (1, 10)").ok());
  ASSERT_TRUE(c->execute("ALTER TABLE ddl.t ADD COLUMN b VARCHAR(5) AFTER id").ok());
  ASSERT_TRUE(c->execute("INSERT INTO ddl.t VALUES (2, 'x', 20)").ok());

  // From before the ALTER: the first row's TABLE_MAP has 2 columns, the server now 3. Refused.
  std::vector<json> lines;
  std::string errors;
  EXPECT_EQ(tail(start, "ddl.t", &lines, &errors), 1);
  EXPECT_NE(errors.find("has 3 columns on the server now but 2 in the binlog"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("binlog."), std::string::npos) << "names the position: " << errors;
  EXPECT_EQ(errors.find(cluster_->password()), std::string::npos);

  // From after the ALTER: names follow the new definition.
  std::string after_alter = here(*c);
  ASSERT_TRUE(c->execute("INSERT INTO ddl.t VALUES (3, 'y', 30)").ok());
  ASSERT_TRUE(c->execute("ALTER TABLE ddl.t DROP COLUMN a").ok());
  ASSERT_TRUE(c->execute("INSERT INTO ddl.t VALUES (4, 'z')").ok());
  lines.clear();
  // Row 3 was written with 3 columns but the server has 2 now: also refused, never guessed.
  EXPECT_EQ(tail(after_alter, "ddl.t", &lines, &errors), 1);
  // A live tail that reads the ALTER before the rows reloads the definition and names them.
  std::string last = here(*c);
  ASSERT_TRUE(c->execute("USE ddl").ok());  // DDL lines are kept for the statement's default db
  ASSERT_TRUE(c->execute("ALTER TABLE ddl.t ADD COLUMN c INT").ok());
  ASSERT_TRUE(c->execute("INSERT INTO ddl.t VALUES (5, 'w', 50)").ok());
  lines.clear();
  ASSERT_EQ(tail(last, "ddl.t", &lines, &errors), 0) << errors;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["op"], "ddl");
  EXPECT_EQ(lines[1]["after"], json::parse(R"({"id":5,"b":"w","c":50})"));
}

// The schema history: a tail started before a table's CREATE TABLE, over a stream that alters,
// drops, re-creates and renames it, names every row with the definition in force when the row
// was written, with binlog_row_metadata=NO_LOG (TABLE_MAPs without names) and although the
// database no longer exists when the tail runs (no live definition to fall back to).
TEST_F(BinlogTypesTest, HistoryFromBeforeCreateTableNamesEveryRow) {
  auto c = cluster_->connect(cluster_->nodeEndpoint("node-1"));
  setRowMetadata("NO_LOG");
  auto pos = c->query("SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(pos.ok() && !pos->rows.empty());
  const std::string start = "--from-gtid '" + pos->rows[0][0].value_or("") + "'";
  std::vector<std::string> script = {
      "CREATE DATABASE hist CHARACTER SET latin1",
      "USE hist",
      "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(10), c INT, p INT, q INT)",
      "INSERT INTO t VALUES (1, 10, 'x', 100, 1, 2)",
      "ALTER TABLE t ADD COLUMN f0 INT FIRST",
      "INSERT INTO t VALUES (7, 2, 20, 'y', 200, 1, 2)",
      "ALTER TABLE t ADD COLUMN m VARCHAR(3) AFTER id, DROP COLUMN c",
      "INSERT INTO t VALUES (8, 3, 'mm', 30, 'z', 1, 2)",
      "ALTER TABLE t RENAME COLUMN b TO bb, MODIFY a BIGINT",
      "INSERT INTO t VALUES (9, 4, 'mm', 40000000000, 'w', 1, 2)",
      "ALTER TABLE t RENAME COLUMN p TO q, RENAME COLUMN q TO p",
      "INSERT INTO t VALUES (10, 5, 'mm', 50, 'v', 1, 2)",
      "UPDATE t SET bb = 'u' WHERE id = 5",
      "CREATE TABLE u (k INT PRIMARY KEY, v CHAR(2))",
      "INSERT INTO u VALUES (1, 'ab')",
      "DROP TABLE u",
      "CREATE TABLE u (k VARCHAR(4) PRIMARY KEY, w INT, v INT)",
      "INSERT INTO u VALUES ('k2', 2, 3)",
      "RENAME TABLE u TO u2",
      "INSERT INTO u2 VALUES ('k3', 4, 5)",
      "DROP DATABASE hist",
  };
  for (const std::string& sql : script) ASSERT_TRUE(c->execute(sql).ok()) << sql;
  std::vector<json> lines;
  std::string errors;
  ASSERT_EQ(tail(start, "hist.*", &lines, &errors), 0) << errors;
  std::vector<json> rows;
  for (const json& l : lines) {
    if (l["op"] == "ddl") continue;
    rows.push_back(json{{"op", l["op"]},
                        {"table", l["table"]},
                        {"image", l["op"] == "update" ? l["after"] : l["after"]}});
  }
  const std::vector<json> want = {
      json::parse(
          R"({"op":"insert","table":"t","image":{"id":1,"a":10,"b":"x","c":100,"p":1,"q":2}})"),
      json::parse(
          R"({"op":"insert","table":"t","image":{"f0":7,"id":2,"a":20,"b":"y","c":200,"p":1,"q":2}})"),
      json::parse(
          R"({"op":"insert","table":"t","image":{"f0":8,"id":3,"m":"mm","a":30,"b":"z","p":1,"q":2}})"),
      json::parse(
          R"({"op":"insert","table":"t","image":{"f0":9,"id":4,"m":"mm","a":40000000000,"bb":"w","p":1,"q":2}})"),
      json::parse(
          R"({"op":"insert","table":"t","image":{"f0":10,"id":5,"m":"mm","a":50,"bb":"v","q":1,"p":2}})"),
      json::parse(
          R"({"op":"update","table":"t","image":{"f0":10,"id":5,"m":"mm","a":50,"bb":"u","q":1,"p":2}})"),
      json::parse(R"({"op":"insert","table":"u","image":{"k":1,"v":"ab"}})"),
      json::parse(R"({"op":"insert","table":"u","image":{"k":"k2","w":2,"v":3}})"),
      json::parse(R"({"op":"insert","table":"u2","image":{"k":"k3","w":4,"v":5}})"),
  };
  ASSERT_EQ(rows.size(), want.size()) << errors;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(rows[i], want[i]) << "row " << i;
}

TEST_F(BinlogTypesTest, TailErrorsAreClearAndNeverShowThePassword) {
  std::string ep = cluster_->nodeEndpoint("node-1");
  std::string out;
  int rc = runCommand(dtsBinary() + " binlog tail mysql://" + cluster_->user() +
                          ":wrong-secret-123@" + ep + " --limit 1",
                      &out);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out.find("wrong-secret-123"), std::string::npos) << out;
  EXPECT_NE(out.find("Access denied"), std::string::npos) << out;
  EXPECT_NE(out.find(ep), std::string::npos) << out;
  rc = runCommand(dtsBinary() + " binlog tail mysql://u:hunter2@127.0.0.1:1 --limit 1", &out);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_NE(out.find("unavailable"), std::string::npos) << out;
  // --limit counts lines, then exits 0.
  auto c = cluster_->connect(ep);
  std::string start = here(*c);
  ASSERT_TRUE(c->execute("CREATE DATABASE lim; CREATE TABLE lim.t (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(c->execute("INSERT INTO lim.t VALUES (1),(2),(3),(4),(5)").ok());
  rc = runCommand("DTS_PASSWORD='" + cluster_->password() + "' " + dtsBinary() +
                      " binlog tail mysql://" + cluster_->user() + "@" + ep + " " + start +
                      " --tables lim.t --limit 3 2>/dev/null",
                  &out);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  std::string base = "DTS_PASSWORD='" + cluster_->password() + "' " + dtsBinary() +
                     " binlog tail mysql://" + cluster_->user() + "@" + ep + " " + start +
                     " --tables lim.t --stop-at-end";
  rc = runCommand(base + " 2>/dev/null", &out);
  EXPECT_EQ(rc, 0);
  auto lines = std::count(out.begin(), out.end(), '\n');
  EXPECT_GE(lines, 5);
  rc = runCommand(base + " --format count 2>/dev/null", &out);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, std::to_string(lines) + "\n");
}

}  // namespace
}  // namespace dts::testing
