// Kinds of tables and columns that need care. Generated columns (VIRTUAL, STORED/PERSISTENT)
// through a sync task, full and incremental: the
// destination computes them, so dts never writes one, in any statement form (bulk REPLACE,
// REPLACE, UPDATE, DELETE by key or by every column of a table without a key, streamed or
// batched), also after a DDL adds one mid-stream. Writing one would be refused by the server
// ("The value specified for generated column ... has been ignored", error 1906 in strict mode).
// Tables dts cannot move (system-versioned tables, sequences) fail the task's precheck, naming
// each, instead of being left out of a whole-database selection unnoticed; exclude_tables leaves
// them (or any table) out of a database otherwise moved whole.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "cluster_fixture.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;

class TableKindsTest : public SharedClusterTest {
 protected:
  static void sql(mysql::Connection& c, const std::string& statement) {
    Status st = c.execute(statement);
    ASSERT_TRUE(st.ok()) << statement << ": " << st.toString();
  }
  // Waits until the task's checkpoint is the source's position now; `when` names the moment in
  // a failure, with the task's status and the log of the dts that runs it.
  static void caughtUp(mysql::Connection& src, const std::string& data, const std::string& task,
                       const DtsProcess& dts, const std::string& when) {
    auto pos = src.queryValue("SELECT @@GLOBAL.gtid_binlog_pos");
    ASSERT_TRUE(pos.ok());
    ASSERT_TRUE(eventually(
        180s,
        [&] { return taskStatus(data, task).value("checkpoint_gtid", "") == pos->value_or(""); }))
        << when << ": " << taskStatus(data, task).dump() << "\n"
        << dts.log();
  }
  static std::vector<mysql::Row> dump(mysql::Connection& c, const std::string& select) {
    auto r = c.query(select);
    EXPECT_TRUE(r.ok()) << select << ": " << r.status().toString();
    return r.ok() ? r->rows : std::vector<mysql::Row>{};
  }
};

TEST_F(TableKindsTest, GeneratedColumnsAreComputedByTheDestinationInEveryPhaseAndForm) {
  auto src = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(src, nullptr);
  sql(*src, "DROP DATABASE IF EXISTS gc; CREATE DATABASE gc; USE gc");
  // A keyed table with a VIRTUAL (indexed) and a STORED column, and an expression default that
  // is not a generated column (written like any other: MySQL 8 calls it DEFAULT_GENERATED).
  sql(*src,
      "CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(20), "
      "v INT AS (a * 2) VIRTUAL, s VARCHAR(40) AS (CONCAT(IFNULL(b, '-'), '!')) STORED, "
      "d DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (v))");
  // Without a key: deletes and updates match on every written column.
  sql(*src,
      "CREATE TABLE nokey (a INT, b VARCHAR(10), v INT AS (a + 1) VIRTUAL, "
      "p INT AS (a * 10) PERSISTENT)");
  // A unique key on a STORED generated column.
  sql(*src,
      "CREATE TABLE uk (id INT PRIMARY KEY, a INT NOT NULL, u INT AS (a + 100) STORED, "
      "UNIQUE KEY (u))");
  sql(*src,
      "INSERT INTO t (id, a, b) SELECT seq, seq, CONCAT('r', seq) FROM seq_1_to_50; "
      "INSERT INTO nokey (a, b) VALUES (1, 'x'), (2, 'y'), (2, 'y'), (3, NULL); "
      "INSERT INTO uk (id, a) VALUES (1, 1), (2, 2), (3, 3)");

  const std::string task = workFile("gc.yaml");
  {
    std::ofstream f(task);
    f << "name: gc\nkind: sync\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects:\n  - database: gc\n"
      << "options: {parallelism: 2}\n";
  }
  const std::string data = workFile("data-gc"), log = workFile("gc.log");
  DtsProcess dts;
  dts.start({"run", task, "--data-dir", data}, log);
  ASSERT_TRUE(eventually(120s, [&] {
    return taskStatus(data, "gc").value("phase", "") == "incremental";
  })) << dts.log();

  // Row changes of every kind, in transactions of one row and of many.
  sql(*src, "INSERT INTO t (id, a, b) VALUES (100, 7, 'new'), (101, 8, NULL)");
  sql(*src, "UPDATE t SET a = a + 1000 WHERE id <= 10");                    // v changes with a
  sql(*src, "UPDATE t SET b = CONCAT(b, '+') WHERE id BETWEEN 11 AND 20");  // s changes with b
  sql(*src, "UPDATE t SET id = id + 200 WHERE id = 21");                    // a key change
  sql(*src, "DELETE FROM t WHERE id BETWEEN 30 AND 35");
  sql(*src,
      "START TRANSACTION; UPDATE t SET a = a + 1 WHERE id > 40; DELETE FROM t WHERE id = 41; "
      "INSERT INTO t (id, a, b) VALUES (102, 9, 'txn'); COMMIT");
  sql(*src,
      "UPDATE nokey SET a = 20 WHERE a = 2 LIMIT 1; DELETE FROM nokey WHERE a = 3; "
      "INSERT INTO nokey (a, b) VALUES (4, 'z')");
  sql(*src,
      "UPDATE uk SET a = a + 10; DELETE FROM uk WHERE id = 2; INSERT INTO uk (id, a) "
      "VALUES (4, 2)");
  caughtUp(*src, data, "gc", dts, "after row changes");

  // A generated column added mid-stream: rows after it must leave it to the destination too.
  sql(*src, "ALTER TABLE t ADD COLUMN w INT AS (a + id) VIRTUAL");
  sql(*src,
      "UPDATE t SET a = a + 5 WHERE id BETWEEN 42 AND 45; INSERT INTO t (id, a, b) VALUES "
      "(103, 1, 'after-ddl'); DELETE FROM t WHERE id = 50");
  // One transaction large enough to be streamed in pieces (more rows than a piece holds).
  sql(*src, "INSERT INTO t (id, a, b) SELECT 1000 + seq, seq, 'bulk' FROM seq_1_to_12000");
  sql(*src, "UPDATE t SET a = a + 1 WHERE id > 1000");
  caughtUp(*src, data, "gc", dts, "after the DDL and a streamed transaction");

  dts.signal(SIGTERM);
  EXPECT_EQ(dts.wait(60s), 0) << dts.log();
  EXPECT_EQ(dts.log().find("generated column"), std::string::npos) << dts.log();

  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dst, nullptr);
  const char* selects[] = {
      "SELECT id, a, b, v, s, d, w FROM gc.t ORDER BY id",
      "SELECT a, b, v, p FROM gc.nokey ORDER BY a, b",
      "SELECT id, a, u FROM gc.uk ORDER BY id",
  };
  for (const char* select : selects) {
    auto want = dump(*src, select);
    EXPECT_FALSE(want.empty()) << select;
    EXPECT_EQ(dump(*dst, select), want) << select;
  }
  // The destination's columns are still generated (computed there, not plain columns).
  auto kinds = dump(*dst,
                    "SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE "
                    "TABLE_SCHEMA = 'gc' AND EXTRA LIKE '%GENERATED%' ORDER BY TABLE_NAME, "
                    "COLUMN_NAME");
  std::string names;
  for (const auto& r : kinds) names += r[0].value_or("") + " ";
  EXPECT_EQ(names, "p v s v w u ");
}

TEST_F(TableKindsTest, TablesDtsCannotMoveFailThePrecheckByName) {
  auto src = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(src, nullptr);
  sql(*src,
      "DROP DATABASE IF EXISTS tk; CREATE DATABASE tk; USE tk; "
      "CREATE TABLE plain (id INT PRIMARY KEY, a INT); INSERT INTO plain VALUES (1, 1), (2, 2); "
      "CREATE TABLE audit (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING; "
      "INSERT INTO audit VALUES (1, 1); CREATE SEQUENCE seq_ids; CREATE VIEW v AS SELECT * FROM plain");
  auto writeTask = [&](const std::string& name, const std::string& objects) {
    std::string path = workFile(name + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\nkind: migration\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: " << objects << "\noptions: {incremental: false}\n";
    return path;
  };
  std::string out;
  // The whole database: refused before anything is written, naming the table and why.
  EXPECT_EQ(runDts({"run", writeTask("tk-all", "[{database: tk, rename_to: tk_all}]"), "--data-dir",
                    workFile("data-tk-all")},
                   &out),
            1)
      << out;
  EXPECT_NE(out.find("source table tk.audit is a system-versioned table"), std::string::npos)
      << out;
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(dump(*dst,
                 "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "
                 "'tk_all'")
                .size(),
            0u);
  // Named: the same, for a sequence too.
  EXPECT_EQ(runDts({"run", writeTask("tk-seq", "[{database: tk, tables: [plain, seq_ids]}]"),
                    "--data-dir", workFile("data-tk-seq")},
                   &out),
            1)
      << out;
  EXPECT_NE(out.find("source table tk.seq_ids is a SEQUENCE"), std::string::npos) << out;
  // Leaving them out by listing the other tables works.
  EXPECT_EQ(runDts({"run",
                    writeTask("tk-plain", "[{database: tk, rename_to: tk_plain, tables: [plain]}]"),
                    "--data-dir", workFile("data-tk-plain")},
                   &out),
            0)
      << out;
  EXPECT_EQ(dump(*dst, "SELECT id, a FROM tk_plain.plain ORDER BY id"),
            dump(*src, "SELECT id, a FROM tk.plain ORDER BY id"));
}

// exclude_tables: a database moved whole but for named tables. Its views and routines go with it
// (a tables: list would leave them behind), the excluded tables, their rows and their DDL stay at
// the source, and a sequence created later stops the task naming exclude_tables, the way past.
TEST_F(TableKindsTest, ExcludedTablesLeaveTheRestOfTheDatabaseMovedWhole) {
  auto src = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(src, nullptr);
  sql(*src,
      "DROP DATABASE IF EXISTS ex; CREATE DATABASE ex; USE ex; "
      "CREATE TABLE plain (id INT PRIMARY KEY, a INT); INSERT INTO plain VALUES (1, 1), (2, 2); "
      "CREATE TABLE audit (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING; "
      "INSERT INTO audit VALUES (1, 1); CREATE SEQUENCE seq_ids; "
      "CREATE TABLE skipped (id INT PRIMARY KEY, b TEXT); INSERT INTO skipped VALUES (1, 'x'); "
      "CREATE VIEW v AS SELECT id, a FROM plain; "
      "CREATE PROCEDURE p() SELECT COUNT(*) FROM plain");
  auto writeTask = [&](const std::string& exclude) {
    std::string path = workFile("ex.yaml");
    std::ofstream f(path);
    f << "name: ex\nkind: sync\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: [{database: ex, rename_to: ex_copy, exclude_tables: [" << exclude << "]}]\n";
    return path;
  };
  const std::string data = workFile("data-ex");
  DtsProcess dts;
  dts.start({"run", writeTask("audit, seq_ids, skipped, nosuch"), "--data-dir", data},
            workFile("ex.log"));
  ASSERT_TRUE(eventually(120s, [&] {
    return taskStatus(data, "ex").value("phase", "") == "incremental";
  })) << dts.log();
  EXPECT_NE(dts.log().find("`ex`.`audit`, `ex`.`seq_ids`, `ex`.`skipped`: not moved"),
            std::string::npos)
      << dts.log();
  EXPECT_NE(dts.log().find("`ex`.`nosuch`: not at the source"), std::string::npos) << dts.log();
  // Changes to excluded tables, their DDL (a sequence's too) and the rows a sequence logs as it
  // hands out numbers: left out; the rest follows.
  sql(*src,
      "USE ex; INSERT INTO plain VALUES (3, 3); SELECT NEXTVAL(seq_ids); "
      "INSERT INTO skipped VALUES (2, 'y'); ALTER TABLE skipped ADD COLUMN c INT; "
      "UPDATE audit SET a = 5; ALTER SEQUENCE seq_ids RESTART WITH 100; "
      "DROP SEQUENCE seq_ids; CREATE SEQUENCE seq_ids START WITH 7; UPDATE plain SET a = 20");
  caughtUp(*src, data, "ex", dts, "after changes to excluded tables");
  // A sequence the task would move: the task stops naming it and the way past.
  sql(*src, "USE ex; CREATE SEQUENCE s2; INSERT INTO plain VALUES (4, 4)");
  auto code = dts.wait(120s);
  ASSERT_TRUE(code.has_value()) << dts.log();
  EXPECT_NE(*code, 0);
  EXPECT_NE(dts.log().find("`ex`.`s2` is in a database the task moves whole; add it to that "
                           "database's objects[].exclude_tables"),
            std::string::npos)
      << dts.log();
  DtsProcess again;
  again.start({"run", writeTask("audit, seq_ids, skipped, nosuch, s2"), "--data-dir", data},
              workFile("ex2.log"));
  caughtUp(*src, data, "ex", again, "after s2 was excluded");
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(60s), 0) << again.log();
  // Fewer exclusions would move a table that was never loaded: refused.
  std::string out;
  EXPECT_EQ(runDts({"run", writeTask("audit, skipped, nosuch, s2"), "--data-dir", data}, &out), 1)
      << out;
  EXPECT_NE(out.find("`ex`.`seq_ids` was in exclude_tables"), std::string::npos) << out;

  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(dump(*dst, "SELECT id, a FROM ex_copy.plain ORDER BY id"),
            dump(*src, "SELECT id, a FROM ex.plain ORDER BY id"));
  EXPECT_EQ(dump(*dst, "SELECT id, a FROM ex_copy.v ORDER BY id"),
            dump(*src, "SELECT id, a FROM ex.plain ORDER BY id"));
  std::string objects;
  for (const auto& r :
       dump(*dst,
            "SELECT CONCAT(TABLE_NAME, ':', TABLE_TYPE) FROM information_schema.TABLES WHERE "
            "TABLE_SCHEMA = 'ex_copy' UNION ALL SELECT CONCAT(ROUTINE_NAME, ':', ROUTINE_TYPE) "
            "FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'ex_copy' ORDER BY 1"))
    objects += r[0].value_or("") + " ";
  EXPECT_EQ(objects, "p:PROCEDURE plain:BASE TABLE v:VIEW ");
}

// A DDL still running at the destination when dts is killed goes on there and ends; the next
// run must not run it again. Each statement here succeeds a second time with a different result
// (found by a tester, 7 of 7): a swap of two columns swapped every existing row's values back, an
// unnamed index got a duplicate (pad_2), and an ADD COLUMN stopped the task for good on
// "Duplicate column name". ALGORITHM=COPY over 300,000 rows keeps each at the destination long
// enough to kill dts while it runs.
TEST_F(TableKindsTest, ADdlRunningAtTheDestinationWhenDtsIsKilledRunsOnce) {
  auto src = cluster_->connect(cluster_->endpoint());
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dst, nullptr);
  sql(*src,
      "DROP DATABASE IF EXISTS rd; CREATE DATABASE rd; USE rd; "
      "CREATE TABLE big (id INT PRIMARY KEY, g INT, pad VARCHAR(100), w INT); "
      "INSERT INTO big SELECT seq, seq, REPEAT('x', 80), seq * 2 FROM seq_1_to_300000");
  const std::string task = workFile("rd.yaml"), data = workFile("data-rd");
  {
    std::ofstream f(task);
    f << "name: rd\nkind: sync\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: [{database: rd}]\n";
  }
  auto dts = std::make_unique<DtsProcess>();
  dts->start({"run", task, "--data-dir", data}, workFile("rd-0.log"));
  ASSERT_TRUE(eventually(180s, [&] {
    return taskStatus(data, "rd").value("phase", "") == "incremental";
  })) << dts->log();
  const char* statements[] = {
      "ALTER TABLE rd.big RENAME COLUMN g TO w, RENAME COLUMN w TO g, ALGORITHM=COPY",
      "ALTER TABLE rd.big ADD INDEX (pad, g), ALGORITHM=COPY",
      "ALTER TABLE rd.big ADD COLUMN c9 INT DEFAULT 0, ALGORITHM=COPY",
  };
  int killed_while_running = 0, run = 0;
  for (const char* ddl : statements) {
    sql(*src, ddl);
    // Killed while the destination runs it, then started once the destination has finished.
    bool seen = false;
    for (int i = 0; i < 1200 && !seen; ++i) {
      auto n = dst->queryValue(
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'ALTER TABLE%big%' "
          "AND ID <> CONNECTION_ID()");
      seen = n.ok() && n->value_or("0") != "0";
      if (!seen) std::this_thread::sleep_for(25ms);
    }
    dts->signal(SIGKILL);
    (void)dts->wait(30s);
    if (seen) ++killed_while_running;
    ASSERT_TRUE(eventually(180s, [&] {
      auto n = dst->queryValue(
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'ALTER TABLE%big%' "
          "AND ID <> CONNECTION_ID()");
      return n.ok() && n->value_or("1") == "0";
    }));
    sql(*src, "INSERT INTO rd.big (id, g, pad, w) VALUES (" + std::to_string(400000 + run) +
                  ", 1, 'after', 2)");
    dts = std::make_unique<DtsProcess>();
    dts->start({"run", task, "--data-dir", data}, workFile("rd-" + std::to_string(++run) + ".log"));
    caughtUp(*src, data, "rd", *dts, ddl);
  }
  // Killed during each of them, or the test proves nothing (the tester's machine: 7 of 7).
  EXPECT_EQ(killed_while_running, 3);
  dts->signal(SIGTERM);
  EXPECT_EQ(dts->wait(60s), 0) << dts->log();
  const char* selects[] = {
      "SELECT COUNT(*), SUM(g), SUM(w), SUM(c9) FROM rd.big",
      "SELECT id, g, w, c9 FROM rd.big WHERE id IN (1, 2, 299999, 400000, 400001, 400002) "
      "ORDER BY id",
      "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'rd' "
      "ORDER BY ORDINAL_POSITION",
      "SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS WHERE "
      "TABLE_SCHEMA = 'rd' ORDER BY 1, 2",
  };
  for (const char* select : selects) EXPECT_EQ(dump(*dst, select), dump(*src, select)) << select;
}

}  // namespace
}  // namespace dts::testing
