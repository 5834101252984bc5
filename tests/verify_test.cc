// dts verify against real servers: equal data (in another physical order, with other float and
// JSON spellings) is reported equal; differences planted on purpose are each reported exactly
// (kind, key, column), in a keyed table, a keyless table, the schema, and across the task's
// renames, column subset and WHERE filter; the repair SQL written by --fix makes them equal.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cluster_fixture.h"
#include "support_data.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;

// Columns of every common type. The source and destination get the same values from the same
// expressions, except where `dest` asks for another spelling of the same value.
std::string typesTableSql() {
  return "CREATE TABLE types (id INT PRIMARY KEY, i INT, d DECIMAL(12,3), f FLOAT, g DOUBLE,"
         " vl VARCHAR(30) CHARACTER SET latin1, vu VARCHAR(30) CHARACTER SET utf8mb4, b BLOB,"
         " dt DATE, dtt DATETIME(3), ts TIMESTAMP(6) NULL, j JSON, e ENUM('a','b','c'),"
         " s SET('x','y','z'), bt BIT(10));"
         "CREATE TABLE nokey (a INT, b VARCHAR(20), c DOUBLE);"
         "CREATE TABLE cs (id INT PRIMARY KEY, t VARCHAR(20) CHARACTER SET utf8mb4);";
}

std::string fillSql(bool dest) {
  // The destination spells floats differently and inserts in another order. (MariaDB keeps JSON
  // text as it is written, and that text is the data: another spelling is a difference, planted
  // below.)
  std::string order = dest ? " ORDER BY seq DESC" : "";
  std::string g = dest ? "ROUND(seq / 10, 1)" : "(seq DIV 10) + (seq % 10) * 0.1";
  std::string j = "CONCAT('{\"a\":\"x', seq, '\",\"b\":[1,', seq, ']}')";
  std::string f = dest ? "CONCAT(seq, '.50e0')" : "seq + 0.5";
  return "INSERT INTO types SELECT seq, CAST(seq AS SIGNED) * 7 - 1000, seq / 8, " + f + ", " + g +
         ", CONCAT('caf', _utf8mb4 X'C3A9', '-', seq), CONCAT(_utf8mb4 X'E697A5F09F9880', '-', seq),"
         " UNHEX(MD5(seq)), '2020-01-01' + INTERVAL seq DAY,"
         " '2021-02-03 04:05:06.789' + INTERVAL seq SECOND,"
         " IF(seq % 5 = 0, NULL, '2022-03-04 05:06:07.123456' + INTERVAL seq MINUTE), " +
         j +
         ", ELT(1 + seq % 3, 'a', 'b', 'c'), ELT(1 + seq % 3, 'x', 'x,y', 'y,z'), seq % 1024"
         " FROM seq_1_to_3000" +
         order +
         ";"
         "INSERT INTO nokey SELECT seq % 40, CONCAT('n', seq % 7), seq / 4 FROM seq_1_to_400" +
         order + ";" + "INSERT INTO cs SELECT seq, CONCAT('t', seq) FROM seq_1_to_50;";
}

class VerifyTest : public SharedClusterTest {
 protected:
  static void SetUpTestSuite() {
    SharedClusterTest::SetUpTestSuite();
    auto src = cluster_->connect(cluster_->endpoint());
    auto dst = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_TRUE(src != nullptr && dst != nullptr);
    Status st = src->execute("CREATE DATABASE vsrc; USE vsrc;" + typesTableSql() + fillSql(false) +
                             "CREATE TABLE orders (id INT PRIMARY KEY, customer INT NOT NULL,"
                             " total DECIMAL(10,2), status VARCHAR(10) NOT NULL, note TEXT);"
                             "INSERT INTO orders SELECT seq, seq % 97, seq / 7,"
                             " ELT(1 + seq % 3, 'paid', 'test', 'sent'), REPEAT('n', seq % 9)"
                             " FROM seq_1_to_25000");
    ASSERT_TRUE(st.ok()) << st.message();
    st = dst->execute("CREATE DATABASE vdst; USE vdst;" + typesTableSql() + fillSql(true) +
                      "CREATE TABLE orders_v2 (id INT PRIMARY KEY, customer INT NOT NULL,"
                      " total DECIMAL(10,2), status VARCHAR(10) NOT NULL);"
                      "INSERT INTO orders_v2 SELECT seq, seq % 97, seq / 7,"
                      " ELT(1 + seq % 3, 'paid', 'test', 'sent') FROM seq_1_to_25000"
                      " WHERE seq % 3 <> 1 ORDER BY seq DESC");
    ASSERT_TRUE(st.ok()) << st.message();
    task_ = writeTask("verify-it",
                      "objects:\n"
                      "  - database: vsrc\n"
                      "    rename_to: vdst\n"
                      "    tables:\n"
                      "      - types\n"
                      "      - nokey\n"
                      "      - cs\n"
                      "      - name: orders\n"
                      "        rename_to: orders_v2\n"
                      "        columns: [id, customer, total, status]\n"
                      "        where: \"status <> 'test'\"\n");
  }

  // A migration task file from the cluster's source to its destination; `rest` adds objects and
  // options. Returns its path.
  static std::string writeTask(const std::string& name, const std::string& rest) {
    std::string path = workFile(name + ".yaml");
    std::ofstream(path) << "name: " << name << "\nkind: migration\n"
                        << "source: {endpoint: '" << cluster_->endpoint()
                        << "', user: dts, password_env: DTS_IT_PW}\n"
                        << "destination: {endpoint: '" << cluster_->destinationEndpoint()
                        << "', user: dts, password_env: DTS_IT_PW}\n"
                        << rest;
    return path;
  }

  // Runs dts verify with --json; returns the exit code and the parsed report.
  static int verify(const std::string& extra, nlohmann::json* report,
                    const std::string& task = task_) {
    std::string out_file = workFile("verify.json");
    std::string output;
    // The subshell keeps the log (stderr) out of the report file.
    int rc = runCommand("(" + dtsBinary() + " verify " + shellQuote(task) + " --json " + extra +
                            " > " + shellQuote(out_file) + ")",
                        &output);
    std::ifstream in(out_file);
    std::stringstream ss;
    ss << in.rdbuf();
    *report = nlohmann::json::parse(ss.str(), nullptr, false);
    if (report->is_discarded()) ADD_FAILURE() << "not JSON: " << ss.str() << "\n" << output;
    return rc;
  }

  static const nlohmann::json& table(const nlohmann::json& report, const std::string& name) {
    for (const auto& t : report["tables"]) {
      if (t["source_table"] == name) return t;
    }
    static nlohmann::json none;
    ADD_FAILURE() << "no table " << name << " in " << report.dump();
    return none;
  }

  static inline std::string task_;
};

TEST_F(VerifyTest, A_EqualDataIsEqual) {
  nlohmann::json report;
  int rc = verify("", &report);
  EXPECT_EQ(rc, 0) << report.dump(2);
  EXPECT_EQ(report["equal"], true) << report.dump(2);
  EXPECT_EQ(report["tables"].size(), 4u);
  EXPECT_EQ(table(report, "vsrc.types")["source_rows"], 3000);
  EXPECT_EQ(table(report, "vsrc.types")["destination_rows"], 3000);
  EXPECT_EQ(table(report, "vsrc.nokey")["keyless"], true);
  const auto& orders = table(report, "vsrc.orders");
  EXPECT_EQ(orders["target_table"], "vdst.orders_v2");
  EXPECT_EQ(orders["source_rows"], 16666);  // the WHERE filter applied at the source
  EXPECT_GT(orders["chunks"].get<int>(), 1);
}

TEST_F(VerifyTest, B_PlantedDifferencesAreEachReportedAndFixed) {
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dst, nullptr);
  // id -> the one column changed in that row.
  std::map<int, std::string> changed = {
      {20, "i = i + 1"},
      {21, "d = d + 0.001"},
      {22, "f = f + 0.25"},
      {23, "g = g * 1.000001"},
      {24, "vl = CONCAT(vl, 'x')"},
      {25, "vu = CONCAT(_utf8mb4 X'E697A6', SUBSTRING(vu, 2))"},
      {26, "b = UNHEX('00')"},
      {27, "dt = dt + INTERVAL 1 DAY"},
      {28, "dtt = dtt + INTERVAL 1000 MICROSECOND"},
      {29, "ts = ts + INTERVAL 1 SECOND"},
      {30, "j = JSON_SET(j, '$.a', 'changed')"},
      {31, "e = IF(e = 'a', 'b', 'a')"},
      {32, "s = 'x,y,z'"},
      {33, "bt = bt ^ 1"},
      {34, "j = CONCAT('{ \"b\" : [1, ', id, '] ,  \"a\" : \"x', id, '\" }')"},
  };
  std::string sql =
      "USE vdst; DELETE FROM types WHERE id = 10;"
      "INSERT INTO types (id, i) VALUES (100000, 1);";
  for (const auto& [id, set] : changed)
    sql += "UPDATE types SET " + set + " WHERE id = " + std::to_string(id) + ";";
  // Keyless: one row changed (a missing and an extra row), one row duplicated.
  sql +=
      "UPDATE nokey SET b = 'changed' WHERE a = 5 AND b = 'n5' LIMIT 1;"
      "INSERT INTO nokey SELECT * FROM nokey WHERE a = 7 AND b = 'n0' LIMIT 1;"
      "ALTER TABLE cs MODIFY t VARCHAR(20) CHARACTER SET latin1;"
      "INSERT INTO orders_v2 VALUES (1, 1, 0.14, 'test');"  // filtered out at the source
      "UPDATE orders_v2 SET total = total + 1 WHERE id = 3;";
  Status st = dst->execute(sql);
  ASSERT_TRUE(st.ok()) << st.message();

  nlohmann::json report;
  std::string fix = workFile("fix.sql");
  int rc = verify("--fix " + shellQuote(fix), &report);
  EXPECT_EQ(rc, 1) << report.dump(2);
  EXPECT_EQ(report["equal"], false);

  const auto& types = table(report, "vsrc.types");
  EXPECT_EQ(types["row_differences"], 2 + changed.size()) << types.dump(2);
  std::map<int, nlohmann::json> by_id;
  for (const auto& r : types["rows"]) by_id[std::stoi(r["key"]["id"].get<std::string>())] = r;
  EXPECT_EQ(by_id[10]["kind"], "missing");
  EXPECT_EQ(by_id[100000]["kind"], "extra");
  for (const auto& [id, set] : changed) {
    const auto& r = by_id[id];
    EXPECT_EQ(r["kind"], "changed") << id;
    ASSERT_EQ(r["columns"].size(), 1u) << id << ": " << r.dump();
    std::string column = set.substr(0, set.find(' '));
    EXPECT_EQ(r["columns"][0]["column"], column) << r.dump();
    EXPECT_NE(r["columns"][0]["source"], r["columns"][0]["destination"]) << r.dump();
  }
  EXPECT_EQ(by_id[20]["columns"][0]["source"], "-860");
  // Fewer rows listed: the repair SQL covers that many per table, and verify says so.
  {
    std::string capped = workFile("fix-capped.sql"), output;
    int capped_rc =
        runCommand("(" + dtsBinary() + " verify " + shellQuote(task_) +
                       " --max-rows-listed 3 --fix " + shellQuote(capped) + " > /dev/null)",
                   &output);
    EXPECT_EQ(capped_rc, 1) << output;
    const std::string total = std::to_string(2 + changed.size());
    EXPECT_NE(output.find("the repair SQL in " + capped + " covers 3 of " + total +
                          " row differences of vsrc.types (--max-rows-listed 3): run it, then "
                          "verify --fix again for the rest"),
              std::string::npos)
        << output;
    std::ifstream in(capped);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("-- only the first 3 of " + total + " differences are repaired here"),
              std::string::npos)
        << text.str();
  }
  EXPECT_EQ(by_id[20]["columns"][0]["destination"], "-859");

  const auto& nokey = table(report, "vsrc.nokey");
  EXPECT_EQ(nokey["row_differences"], 3) << nokey.dump(2);
  std::multiset<std::string> kinds;
  for (const auto& r : nokey["rows"]) {
    kinds.insert(r["kind"].get<std::string>() + ":" + r["key"]["b"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::multiset<std::string>{"missing:n5", "extra:changed", "extra:n0"}));

  const auto& cs = table(report, "vsrc.cs");
  EXPECT_EQ(cs["row_differences"], 0);
  ASSERT_EQ(cs["schema"].size(), 1u) << cs.dump(2);
  EXPECT_EQ(cs["schema"][0]["object"], "column `t`");
  EXPECT_EQ(cs["schema"][0]["what"], "character set");
  EXPECT_EQ(cs["schema"][0]["source"], "utf8mb4");
  EXPECT_EQ(cs["schema"][0]["destination"], "latin1");

  const auto& orders = table(report, "vsrc.orders");
  EXPECT_EQ(orders["row_differences"], 2) << orders.dump(2);
  std::set<std::string> order_diffs;
  for (const auto& r : orders["rows"])
    order_diffs.insert(r["kind"].get<std::string>() + ":" + r["key"]["id"].get<std::string>());
  EXPECT_EQ(order_diffs, (std::set<std::string>{"extra:1", "changed:3"}));

  // The repair SQL, applied, makes every table with row differences equal.
  std::ifstream in(fix);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  EXPECT_EQ(ss.str().find(cluster_->password()), std::string::npos);
  st = dst->execute(ss.str());
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << ss.str();
  rc = verify("--tables vsrc.types,vsrc.nokey,vsrc.orders", &report);
  EXPECT_EQ(rc, 0) << report.dump(2);
  EXPECT_EQ(report["tables"].size(), 3u);
}

TEST_F(VerifyTest, C_ErrorsHaveTheirOwnExitCode) {
  nlohmann::json report;
  std::string output;
  EXPECT_EQ(
      runCommand(dtsBinary() + " verify " + shellQuote(task_) + " --tables vsrc.nope", &output), 2)
      << output;
  EXPECT_NE(output.find("vsrc.nope"), std::string::npos) << output;
  EXPECT_EQ(runCommand(dtsBinary() + " verify /nonexistent.yaml", &output), 2) << output;
}

// options.verify in a migration with incremental: verification runs beside the incremental
// phase while the source is written, re-checks chunks that only lag, and ends equal; the result
// is in `dts status`.
TEST_F(VerifyTest, D_TaskOptionVerifiesBesideIncremental) {
  auto src = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(src, nullptr);
  Status st = src->execute(
      "CREATE DATABASE vlive; USE vlive;"
      "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20));"
      "INSERT INTO t SELECT seq, seq, CONCAT('s', seq) FROM seq_1_to_20000");
  ASSERT_TRUE(st.ok()) << st.message();
  std::string file = writeTask("verify-live",
                               "objects: [{database: vlive, rename_to: vlive_copy}]\n"
                               "options: {incremental: true, verify: {full: true, schema: true},"
                               " incremental_limits: {max_rps: 500}}\n");
  std::string data = workFile("data-live");
  std::string logfile = workFile("live.log");
  // A burst of writes that the throttled applier (incremental_limits) takes seconds to apply:
  // chunks differ until the destination catches up, which verification must wait for.
  // It is under way before the task starts, and goes on through full data and into incremental.
  std::atomic<bool> stop_writes{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto w = cluster_->connect(cluster_->endpoint());
    for (int i = 0; i < 10000 && !stop_writes.load(); ++i) {
      (void)w->execute("UPDATE vlive.t SET v = v + 1 WHERE id = " +
                       std::to_string(1 + (i * 7919) % 20000));
      ++written;
    }
  });
  ASSERT_TRUE(eventually(30s, [&] { return written.load() >= 500; }));
  DtsProcess dts;
  dts.start({"run", file, "--data-dir", data}, logfile);
  bool done = eventually(120s, [&] {
    auto s = taskStatus(data, "verify-live");
    return s.contains("verify") &&
           (s["verify"]["state"] == "equal" || s["verify"]["state"] == "different" ||
            s["verify"]["state"] == "failed");
  });
  stop_writes.store(true);
  writer.join();
  auto s = taskStatus(data, "verify-live");
  dts.signal(SIGTERM);
  EXPECT_EQ(dts.wait(60s), 0) << dts.log();
  ASSERT_TRUE(done) << s.dump(2) << "\n" << dts.log();
  EXPECT_EQ(s["verify"]["state"], "equal") << s.dump(2);
  EXPECT_EQ(s["verify"]["row_differences"], 0);
  EXPECT_EQ(s["verify"]["tables_checked"], 1);
  EXPECT_GE(s["verify"]["rechecks"].get<int>(), 1) << "the lagging chunks were re-checked";
  std::cout << "verify beside incremental: " << s["verify"].dump() << "\n";
  // Paused and resumed: a finished verification is not run again.
  std::string out;
  EXPECT_EQ(runCommand(dtsBinary() + " status --data-dir " + shellQuote(data), &out), 0);
  EXPECT_NE(out.find("verify: equal, 1/1 tables, 0 row and 0 schema differences"),
            std::string::npos)
      << out;
}

// dts verify killed midway (kill -9) continues from its last finished chunk: the second run
// checksums only the chunks the first did not finish, and its report is still exact (the
// differences found before the kill and after it). A run that ends leaves nothing to resume;
// --restart starts over.
TEST_F(VerifyTest, E_InterruptedRunResumesAfterTheLastFinishedChunk) {
  auto src = cluster_->connect(cluster_->endpoint());
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(src != nullptr && dst != nullptr);
  const char* big_table =
      "CREATE TABLE big (id INT PRIMARY KEY, v INT, s VARCHAR(20));"
      "INSERT INTO big SELECT seq, seq * 3, CONCAT('s', seq) FROM seq_1_to_40000;";
  ASSERT_TRUE(src->execute(std::string("CREATE DATABASE vres; USE vres;") + big_table).ok());
  Status st = dst->execute(std::string("CREATE DATABASE vres; USE vres;") + big_table +
                           "UPDATE big SET v = -1 WHERE id = 5;"  // in the first chunk
                           "DELETE FROM big WHERE id = 39000;");  // in the last ones
  ASSERT_TRUE(st.ok()) << st.message();
  std::string file = writeTask("verify-resume", "objects: [{database: vres}]\n");
  std::string data = workFile("verify-resume-data");
  std::string progress = data + "/verify/verify-resume.json";
  std::string log = workFile("verify-resume.log");
  // 20 chunks of 2000 rows, paced at 4000 rows/s: about 10 s, killed once 6 ranges are done
  // (the first chunk differs: it and its two bisection halves count 3).
  auto killMidway = [&] {
    DtsProcess slow;
    slow.start({"verify", file, "--data-dir", data, "--chunk-rows", "2000", "--max-rps", "4000"},
               log);
    bool six = eventually(60s, [&] {
      std::ifstream in(progress);
      std::stringstream ss;
      ss << in.rdbuf();
      auto j = nlohmann::json::parse(ss.str(), nullptr, false);
      if (j.is_discarded() || !j.contains("tables") || j["tables"].empty()) return false;
      return j["tables"][0]["result"]["chunks"].get<int>() >= 6;
    });
    ASSERT_TRUE(six) << slow.log();
    ASSERT_TRUE(slow.running()) << "finished before it could be killed: " << slow.log();
    slow.signal(SIGKILL);
    slow.wait(10s);
  };
  killMidway();
  std::string saved_task = task_;
  task_ = file;
  nlohmann::json report;
  int rc = verify("--data-dir " + shellQuote(data) + " --chunk-rows 2000", &report);
  EXPECT_EQ(rc, 1) << report.dump(2);
  EXPECT_EQ(report["resumed"], true);
  const auto& big = table(report, "vres.big");
  int resumed = big["chunks_resumed"].get<int>();
  int chunks = big["chunks"].get<int>();
  EXPECT_GE(resumed, 6) << big.dump(2);
  // A run from the start checksums 20 chunks (and 2 bisection halves): this one, the rest only.
  EXPECT_LT(chunks - resumed, 20) << big.dump(2);
  EXPECT_EQ(big["source_rows"], 40000) << big.dump(2);
  EXPECT_EQ(big["destination_rows"], 39999) << big.dump(2);
  EXPECT_EQ(big["row_differences"], 2) << big.dump(2);
  std::set<std::string> diffs;
  for (const auto& r : big["rows"])
    diffs.insert(r["kind"].get<std::string>() + ":" + r["key"]["id"].get<std::string>());
  EXPECT_EQ(diffs, (std::set<std::string>{"changed:5", "missing:39000"})) << big.dump(2);
  EXPECT_FALSE(std::filesystem::exists(progress)) << "a finished run leaves nothing to resume";

  // Ended runs are not resumed; --restart ignores an interrupted one.
  rc = verify("--data-dir " + shellQuote(data), &report);
  EXPECT_EQ(report["resumed"], false);
  EXPECT_EQ(table(report, "vres.big")["chunks_resumed"], 0);
  killMidway();
  rc = verify("--data-dir " + shellQuote(data) + " --restart", &report);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(report["resumed"], false);
  EXPECT_EQ(table(report, "vres.big")["chunks_resumed"], 0);
  EXPECT_EQ(table(report, "vres.big")["row_differences"], 2);
  task_ = saved_task;
}

// options.verify.incremental: rows the incremental phase changes are compared once the
// destination has applied them. A row altered at the destination behind dts's back as dts
// applied it (a trigger there) is reported with its key; the many rows that only lag behind the
// throttled applier are not.
TEST_F(VerifyTest, F_IncrementalVerificationReportsTamperedRowsNotLag) {
  auto src = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(src, nullptr);
  Status st = src->execute(
      "CREATE DATABASE vinc; USE vinc;"
      "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20));"
      "INSERT INTO t SELECT seq, seq, CONCAT('s', seq) FROM seq_1_to_2000");
  ASSERT_TRUE(st.ok()) << st.message();
  std::string file = writeTask("verify-inc",
                               "objects: [{database: vinc, rename_to: vinc_copy}]\n"
                               "options: {incremental: true,"
                               " verify: {incremental: true, interval: 1},"
                               " incremental_limits: {max_rps: 300}}\n");
  std::string data = workFile("data-inc");
  DtsProcess dts;
  dts.start({"run", file, "--data-dir", data}, workFile("inc.log"));
  ASSERT_TRUE(eventually(120s, [&] {
    return taskStatus(data, "verify-inc").value("phase", "") == "incremental";
  })) << dts.log();
  // Behind dts's back: whatever dts writes into row 7 from now on is changed as it is written.
  std::string out;
  ASSERT_EQ(runCommand("mariadb --no-defaults -uroot --socket=" +
                           shellQuote(cluster_->dir() + "/dest/mysqld.sock") +
                           " -e \"CREATE TRIGGER vinc_copy.tamper BEFORE INSERT ON vinc_copy.t"
                           " FOR EACH ROW SET NEW.s = IF(NEW.id = 7, 'tampered', NEW.s)\"",
                       &out),
            0)
      << out;
  // A burst the throttled applier (300 rows/s) takes seconds to apply: checks run meanwhile.
  std::set<int> ids;
  auto w = cluster_->connect(cluster_->endpoint());
  for (int i = 0; i < 1500; ++i) {
    int id = 1 + (i * 7919) % 2000;
    if (id == 7) continue;
    ids.insert(id);
    ASSERT_TRUE(w->execute("UPDATE vinc.t SET v = v + 1 WHERE id = " + std::to_string(id)).ok());
  }
  ASSERT_TRUE(w->execute("UPDATE vinc.t SET v = v + 1 WHERE id = 7").ok());
  ids.insert(7);
  nlohmann::json s;
  bool checked = eventually(180s, [&] {
    s = taskStatus(data, "verify-inc");
    return s.contains("verify") && s["verify"].contains("incremental") &&
           s["verify"]["incremental"]["rows_checked"].get<size_t>() >= ids.size();
  });
  dts.signal(SIGTERM);
  EXPECT_EQ(dts.wait(60s), 0) << dts.log();
  ASSERT_TRUE(checked) << s.dump(2) << "\n" << dts.log();
  const auto& inc = s["verify"]["incremental"];
  std::cout << "incremental verification: " << inc.dump() << "\n";
  EXPECT_EQ(inc["row_differences"], 1) << inc.dump(2);
  EXPECT_EQ(inc["skipped"], 0);
  std::string detail = inc["detail"];
  EXPECT_NE(detail.find("changed: id='7'"), std::string::npos) << detail;
  EXPECT_NE(detail.find("s: source 's7', destination 'tampered'"), std::string::npos) << detail;
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  auto v = dst->queryValue("SELECT s FROM vinc_copy.t WHERE id = 7");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "tampered");
}

// options.verify of a task killed (kill -9) while it verifies: the restarted task continues the
// verification after its last finished chunk instead of from the start, and ends equal.
TEST_F(VerifyTest, G_TaskVerificationResumesAfterARestart) {
  auto src = cluster_->connect(cluster_->endpoint());
  ASSERT_NE(src, nullptr);
  Status st = src->execute(
      "CREATE DATABASE vtres; USE vtres;"
      "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20));"
      "INSERT INTO t SELECT seq, seq, CONCAT('s', seq) FROM seq_1_to_60000");
  ASSERT_TRUE(st.ok()) << st.message();
  // Paced at 4000 rows/s: chunks of 10000 rows or more, several seconds each.
  std::string file =
      writeTask("verify-tres",
                "objects: [{database: vtres}]\n"
                "options: {incremental: true, verify: {full: true, max_rps: 4000}}\n");
  std::string data = workFile("data-tres");
  std::string progress = data + "/verify/verify-tres.task.json";
  {
    DtsProcess dts;
    dts.start({"run", file, "--data-dir", data}, workFile("tres-1.log"));
    bool chunk = eventually(120s, [&] {
      std::ifstream in(progress);
      std::stringstream ss;
      ss << in.rdbuf();
      auto j = nlohmann::json::parse(ss.str(), nullptr, false);
      return !j.is_discarded() && j.contains("tables") && !j["tables"].empty() &&
             j["tables"][0]["result"]["chunks"].get<int>() >= 1;
    });
    ASSERT_TRUE(chunk) << dts.log();
    ASSERT_TRUE(dts.running()) << dts.log();
    dts.signal(SIGKILL);
    dts.wait(10s);
  }
  DtsProcess dts;
  dts.start({"run", file, "--data-dir", data}, workFile("tres-2.log"));
  nlohmann::json s;
  bool done = eventually(120s, [&] {
    s = taskStatus(data, "verify-tres");
    return s.contains("verify") &&
           (s["verify"]["state"] == "equal" || s["verify"]["state"] == "different" ||
            s["verify"]["state"] == "failed");
  });
  dts.signal(SIGTERM);
  EXPECT_EQ(dts.wait(60s), 0) << dts.log();
  ASSERT_TRUE(done) << s.dump(2) << "\n" << dts.log();
  EXPECT_EQ(s["verify"]["state"], "equal") << s.dump(2);
  EXPECT_GE(s["verify"]["chunks_resumed"].get<int>(), 1) << s.dump(2);
  EXPECT_LT(s["verify"]["chunks_resumed"].get<int>(), s["verify"]["chunks"].get<int>())
      << s.dump(2);
  EXPECT_FALSE(std::filesystem::exists(progress));
}

// A FLOAT or DOUBLE that differs in its last bit is a difference: verification compared FLOATs by
// 6 significant digits (the digits the server prints), so a full load that had cut every float to
// 6 digits was reported EQUAL, and DOUBLEs by 15. The table goes through a real migration first
// (which must copy the floats exactly, so that verification finds nothing), then each planted
// neighbouring float is reported as a changed row, and the repair SQL (which must write the exact
// float, also as the key of a FLOAT primary key) makes the tables equal again.
TEST_F(VerifyTest, H_AFloatDifferingInItsLastBitIsReported) {
  auto src = cluster_->connect(cluster_->endpoint());
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(src != nullptr && dst != nullptr);
  Status st = src->execute(
      "CREATE DATABASE vfl; USE vfl;"
      "CREATE TABLE f (id INT PRIMARY KEY, f FLOAT, fu FLOAT UNSIGNED, d DOUBLE);"
      "INSERT INTO f VALUES (1, 1.2345678, 1.2345678, 0.1), (2, 123456.789, 0, 1e-300),"
      " (3, 16777217, 3.4028234663852886e38, 0.3), (4, 3.4028234663852886e38, 0, 5e-324),"
      " (5, 1.401298464324817e-45, 1.401298464324817e-45, 1e-323),"
      " (6, 1.1754943508222875e-38, 0, 2.2250738585072014e-308), (7, -1.2345678, 0, -0.1),"
      " (8, 0, 0, 1.7976931348623157e308), (9, 0, 0, 5e-324), (10, 0, 0, 2.2250738585072014e-308),"
      " (11, 0, 0, 9007199254740992e0), (12, 0, 0, 0.1e0), (13, 0, 0, -123456.789e0),"
      " (14, -0.0e0, 0, -1e-300 * 1e-300), (15, -1e-50, 0, 0);"
      "INSERT INTO f SELECT 100 + seq, x, ABS(x), x FROM (SELECT seq, POW(10, (seq * 7919 % 7600)"
      " / 100 - 38) * (CAST(seq * 104729 % 19997 AS SIGNED) - 9998) / 9998 * 1.2345678 AS x"
      " FROM seq_1_to_2000) s;"
      "CREATE TABLE fk (k FLOAT NOT NULL PRIMARY KEY, v INT);"
      "INSERT INTO fk VALUES (1.2345678, 1), (16777217, 2), (3.4028234663852886e38, 3),"
      " (1.401298464324817e-45, 4), (-1.2345678, 5);");
  ASSERT_TRUE(st.ok()) << st.message();
  std::string file = writeTask("verify-floats",
                               "objects: [{database: vfl, rename_to: vfl_copy}]\n"
                               "options: {incremental: false, full: {method: auto}}\n");
  std::string out;
  ASSERT_EQ(runCommand(dtsBinary() + " run " + shellQuote(file) + " --data-dir " +
                           shellQuote(workFile("data-floats")),
                       &out),
            0)
      << out;
  auto stored = dst->queryValue("SELECT f * 1e0 FROM vfl_copy.f WHERE id = 1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->value_or("NULL"), "1.2345677614212036");
  // MariaDB stores a -0 it is sent (a literal, or a double expression that underflows) as 0, in
  // FLOAT and DOUBLE columns alike: ATAN2 tells -0 (-pi) from 0 (pi). A FLOAT keeps the -0 of a
  // negative number too small for it (id 15), and the migration copied it.
  for (auto* c : {src.get(), dst.get()}) {
    auto zeros = c->queryValue(
        std::string("SELECT GROUP_CONCAT(ATAN2(f, -1) > 0, ATAN2(d, -1) > 0 ORDER BY id) FROM ") +
        (c == src.get() ? "vfl" : "vfl_copy") + ".f WHERE id IN (14, 15)");
    ASSERT_TRUE(zeros.ok()) << zeros.status().toString();
    EXPECT_EQ(zeros->value_or("NULL"), "11,01");
  }
  nlohmann::json report;
  EXPECT_EQ(verify("", &report, file), 0) << report.dump(2);
  EXPECT_EQ(report["equal"], true) << report.dump(2);

  // Each source float's neighbour, one bit of the mantissa away (a denormal's, a unit of 2^-149).
  auto neighbour = [](float v, float toward) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(std::nextafter(v, toward)));
    return std::string(buf);
  };
  auto doubleNeighbour = [](double v, double toward) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", std::nextafter(v, toward));
    return std::string(buf);
  };
  const float kMax = 3.4028234663852886e38f;
  std::map<int, std::string> planted = {
      {1, "f = " + neighbour(1.2345678f, 2.0f)},
      {2, "f = " + neighbour(123456.789f, 0.0f)},
      {3, "fu = " + neighbour(kMax, 0.0f)},
      {4, "f = " + neighbour(kMax, 0.0f)},
      {5, "f = " + neighbour(1.401298464324817e-45f, 1.0f)},
      {6, "f = " + neighbour(1.1754943508222875e-38f, 0.0f)},
      {7, "f = " + neighbour(-1.2345678f, 0.0f)},
      // DOUBLEs one ULP apart (compared at 15 significant digits, these were reported EQUAL).
      {8, "d = " + doubleNeighbour(1.7976931348623157e308, 0.0)},
      {9, "d = " + doubleNeighbour(5e-324, 1.0)},
      {10, "d = " + doubleNeighbour(2.2250738585072014e-308, 0.0)},
      {11, "d = " + doubleNeighbour(9007199254740992.0, 1e300)},
      {12, "d = " + doubleNeighbour(0.1, 1.0)},
      {13, "d = " + doubleNeighbour(-123456.789, 0.0)},
  };
  std::string sql = "USE vfl_copy;";
  for (const auto& [id, set] : planted)
    sql += "UPDATE f SET " + set + " WHERE id = " + std::to_string(id) + ";";
  sql += "UPDATE fk SET v = v + 10 WHERE v IN (1, 5);";
  st = dst->execute(sql);
  ASSERT_TRUE(st.ok()) << st.message();
  std::string fix = workFile("fix-floats.sql");
  EXPECT_EQ(verify("--fix " + shellQuote(fix), &report, file), 1) << report.dump(2);
  EXPECT_EQ(report["equal"], false);
  const auto& f = table(report, "vfl.f");
  EXPECT_EQ(f["row_differences"], planted.size()) << f.dump(2);
  std::map<int, nlohmann::json> by_id;
  for (const auto& r : f["rows"]) by_id[std::stoi(r["key"]["id"].get<std::string>())] = r;
  for (const auto& [id, set] : planted) {
    const auto& r = by_id[id];
    EXPECT_EQ(r["kind"], "changed") << id << ": " << f.dump(2);
    ASSERT_EQ(r["columns"].size(), 1u) << id << ": " << r.dump();
    EXPECT_EQ(r["columns"][0]["column"], set.substr(0, set.find(' '))) << r.dump();
    // Shown exactly, so the two values differ as shown.
    EXPECT_NE(r["columns"][0]["source"], r["columns"][0]["destination"]) << r.dump();
  }
  EXPECT_EQ(by_id[1]["columns"][0]["source"], "1.2345677614212036");
  EXPECT_EQ(by_id[1]["columns"][0]["destination"], neighbour(1.2345678f, 2.0f));
  const auto& fk = table(report, "vfl.fk");
  EXPECT_EQ(fk["row_differences"], 2) << fk.dump(2);
  std::set<std::string> keys;
  for (const auto& r : fk["rows"])
    keys.insert(r["kind"].get<std::string>() + ":" + r["key"]["k"].get<std::string>());
  EXPECT_EQ(keys,
            (std::set<std::string>{"changed:1.2345677614212036", "changed:-1.2345677614212036"}));

  // The repair SQL writes the exact floats (and finds the FLOAT keys): equal again.
  std::ifstream in(fix);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  st = dst->execute(ss.str());
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << ss.str();
  EXPECT_EQ(verify("", &report, file), 0) << report.dump(2) << "\n" << ss.str();
  auto fixed = dst->queryValue("SELECT COUNT(*) FROM vfl_copy.fk");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->value_or(""), "5");  // replaced, not added beside

  // A FLOAT does keep a -0 made by narrowing a tiny negative double; verify compared -0 and 0 as
  // equal, it now reports the difference, showing each side's sign (both showed "0"), and the
  // repair SQL writes the -0 as the destination keeps it (it wrote 0).
  st = dst->execute(
      "UPDATE vfl_copy.f SET f = -1e-60 WHERE id = 14; UPDATE vfl_copy.f SET f = 0"
      " WHERE id = 15");
  ASSERT_TRUE(st.ok()) << st.message();
  auto negative = dst->queryValue(
      "SELECT GROUP_CONCAT(ATAN2(f, -1) < 0 ORDER BY id) FROM vfl_copy.f WHERE id IN (14, 15)");
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->value_or("NULL"), "1,0");
  EXPECT_EQ(verify("--fix " + shellQuote(fix), &report, file), 1) << report.dump(2);
  const auto& z = table(report, "vfl.f");
  EXPECT_EQ(z["row_differences"], 2) << z.dump(2);
  ASSERT_EQ(z["rows"].size(), 2u) << z.dump(2);
  std::map<std::string, std::string> zero_rows;
  for (const auto& r : z["rows"]) {
    ASSERT_EQ(r["columns"].size(), 1u) << r.dump();
    EXPECT_EQ(r["columns"][0]["column"], "f") << r.dump();
    zero_rows[r["key"]["id"].get<std::string>()] =
        r["columns"][0]["source"].get<std::string>() + " " +
        r["columns"][0]["destination"].get<std::string>();
  }
  EXPECT_EQ(zero_rows, (std::map<std::string, std::string>{{"14", "0 -0"}, {"15", "-0 0"}}))
      << z.dump(2);
  std::ifstream zero_fix(fix);
  std::stringstream zero_sql;
  zero_sql << zero_fix.rdbuf();
  EXPECT_NE(zero_sql.str().find("-1e-50"), std::string::npos) << zero_sql.str();
  st = dst->execute(zero_sql.str());
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << zero_sql.str();
  EXPECT_EQ(verify("", &report, file), 0) << report.dump(2) << "\n" << zero_sql.str();

  // A DOUBLE -0 (MariaDB gets one only from a binlog row) cannot be repaired by SQL at a MariaDB
  // destination: the repair SQL says so above its statement.
  st = src->execute(
      "CREATE DATABASE vdz; USE vdz; CREATE TABLE dz (id INT NOT NULL PRIMARY KEY, d DOUBLE)");
  ASSERT_TRUE(st.ok()) << st.message();
  cluster_->rootSql("node-1", binlogInsertDoubleSql("vdz", "dz", 1, -0.0));
  st = dst->execute(
      "CREATE DATABASE vdz_copy; USE vdz_copy; CREATE TABLE dz (id INT NOT NULL PRIMARY KEY,"
      " d DOUBLE); INSERT INTO dz VALUES (1, 0)");
  ASSERT_TRUE(st.ok()) << st.message();
  std::string dz_file = writeTask("verify-double-zero",
                                  "objects: [{database: vdz, rename_to: vdz_copy}]\n"
                                  "options: {incremental: false}\n");
  EXPECT_EQ(verify("--fix " + shellQuote(fix), &report, dz_file), 1) << report.dump(2);
  const auto& dz = table(report, "vdz.dz");
  ASSERT_EQ(dz["rows"].size(), 1u) << dz.dump(2);
  EXPECT_EQ(dz["rows"][0]["columns"][0]["source"], "-0") << dz.dump(2);
  EXPECT_EQ(dz["rows"][0]["columns"][0]["destination"], "0") << dz.dump(2);
  std::ifstream dz_fix(fix);
  std::stringstream dz_sql;
  dz_sql << dz_fix.rdbuf();
  EXPECT_NE(dz_sql.str().find("-- column 'd' holds a DOUBLE negative zero (-0), which a MariaDB "
                              "destination cannot store"),
            std::string::npos)
      << dz_sql.str();
}

// Keys of any bytes: a BIT key and a VARBINARY key that is not UTF-8 were written into the
// progress file (JSON) as they are, and verify aborted (nlohmann type_error 316, exit 134). Both
// are verified in chunks, resumable, and a difference is reported with its key as 0x hex.
TEST_F(VerifyTest, I_KeysOfAnyBytesAreVerifiedAndReported) {
  auto src = cluster_->connect(cluster_->endpoint());
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(src != nullptr && dst != nullptr);
  const char* tables =
      "CREATE TABLE bk (k BIT(32) PRIMARY KEY, n INT);"
      "INSERT INTO bk SELECT seq * 7919, seq FROM seq_1_to_3000;"
      "CREATE TABLE vk (k VARBINARY(8) PRIMARY KEY, n INT);"
      "INSERT INTO vk SELECT CONCAT(0xFF, UNHEX(LPAD(HEX(seq), 4, '0'))), seq FROM seq_1_to_3000;";
  ASSERT_TRUE(src->execute(std::string("CREATE DATABASE vbytes; USE vbytes;") + tables).ok());
  ASSERT_TRUE(dst->execute(std::string("CREATE DATABASE vbytes; USE vbytes;") + tables +
                           "UPDATE vk SET n = -1 WHERE n = 2000; UPDATE bk SET n = -1 WHERE n = 7")
                  .ok());
  std::string file = writeTask("verify-bytes", "objects: [{database: vbytes}]\n");
  nlohmann::json report;
  EXPECT_EQ(verify("--chunk-rows 1000 --data-dir " + shellQuote(workFile("verify-bytes-data")),
                   &report, file),
            1)
      << report.dump(2);
  EXPECT_EQ(report["equal"], false);
  const auto& vk = table(report, "vbytes.vk");
  ASSERT_EQ(vk["row_differences"], 1) << vk.dump(2);
  EXPECT_EQ(vk["rows"][0]["key"]["k"], "0xFF07D0") << vk.dump(2);
  const auto& bk = table(report, "vbytes.bk");
  ASSERT_EQ(bk["row_differences"], 1) << bk.dump(2);
  EXPECT_EQ(bk["rows"][0]["key"]["k"], std::to_string(7 * 7919)) << bk.dump(2);
  EXPECT_EQ(bk["source_rows"], 3000);
}

// The repair SQL changes the differing rows and nothing else: a surplus row whose key differs
// from a missing one only where the column's collation sees no difference (case, trailing
// spaces) is deleted before the missing row is written (the DELETE after it deleted the row it
// had just repaired); a REPLACE of a parent row neither cascades to its children (ON DELETE
// CASCADE deleted them) nor fails on them (a plain foreign key: error 1451); and a keyless row
// missing twice is one listed difference of 2 copies, all repaired.
TEST_F(VerifyTest, K_RepairSqlChangesOnlyTheDifferingRows) {
  auto src = cluster_->connect(cluster_->endpoint());
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(src != nullptr && dst != nullptr);
  Status st = src->execute(
      "CREATE DATABASE vrep; USE vrep;"
      "CREATE TABLE ck (x INT, y VARCHAR(10) COLLATE utf8mb4_general_ci, v VARCHAR(10),"
      " PRIMARY KEY (y, x));"
      "INSERT INTO ck VALUES (1, 'a', 'v1'), (2, 'B', 'v2'), (3, 'c', 'v3'), (4, 'd ', 'v4');"
      "CREATE TABLE p (id INT PRIMARY KEY, v INT);"
      "INSERT INTO p VALUES (1, 1), (2, 2), (3, 3);"
      "CREATE TABLE c (id INT PRIMARY KEY, pid INT,"
      " FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE);"
      "INSERT INTO c VALUES (1, 1), (2, 1), (3, 2);"
      "CREATE TABLE r (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p (id));"
      "INSERT INTO r VALUES (1, 3);"
      "CREATE TABLE kl (a INT, b CHAR(1));"
      "INSERT INTO kl VALUES (1, 'a'), (1, 'a'), (2, 'b');");
  ASSERT_TRUE(st.ok()) << st.message();
  std::string file =
      writeTask("verify-repair", "objects: [{database: vrep}]\noptions: {incremental: false}\n");
  std::string out;
  ASSERT_EQ(runCommand(dtsBinary() + " run " + shellQuote(file) + " --data-dir " +
                           shellQuote(workFile("data-repair")),
                       &out),
            0)
      << out;
  st = dst->execute(
      "USE vrep; UPDATE ck SET y = 'b' WHERE x = 2; UPDATE ck SET y = 'd' WHERE x = 4;"
      "DELETE FROM ck WHERE x = 3; INSERT INTO ck VALUES (9, 'z', 'extra');"
      "UPDATE p SET v = -1 WHERE id IN (1, 3); DELETE FROM kl WHERE a = 1");
  ASSERT_TRUE(st.ok()) << st.message();
  const std::string fix = workFile("fix-repair.sql");
  nlohmann::json report;
  EXPECT_EQ(verify("--fix " + shellQuote(fix) + " --data-dir " +
                       shellQuote(workFile("verify-repair-data")),
                   &report, file),
            1)
      << report.dump(2);
  const auto& kl = table(report, "vrep.kl");
  EXPECT_EQ(kl["row_differences"], 2) << kl.dump(2);
  ASSERT_EQ(kl["rows"].size(), 1u) << kl.dump(2);
  EXPECT_EQ(kl["rows"][0]["count"], 2) << kl.dump(2);
  std::ifstream in(fix);
  std::stringstream sql;
  sql << in.rdbuf();
  EXPECT_EQ(sql.str().find("only the first"), std::string::npos) << sql.str();
  st = dst->execute(sql.str());
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << sql.str();
  EXPECT_EQ(verify("--data-dir " + shellQuote(workFile("verify-repair-data")), &report, file), 0)
      << report.dump(2) << "\n"
      << sql.str();
  auto children = dst->queryValue(
      "SELECT CONCAT((SELECT COUNT(*) FROM vrep.c), ',', (SELECT COUNT(*) FROM vrep.r), ',',"
      " (SELECT GROUP_CONCAT(CONCAT(x, y) ORDER BY x) FROM vrep.ck), ',', @@foreign_key_checks + 0)");
  ASSERT_TRUE(children.ok()) << children.status().toString();
  EXPECT_EQ(children->value_or("NULL"), "3,1,1a,2B,3c,4d ,1");  // the session's checks back on

  // The schema check sees a lost or added index, a changed default and a changed comment too
  // (it saw column types and unique keys only).
  st = dst->execute(
      "ALTER TABLE vrep.p ALTER COLUMN v SET DEFAULT 5, COMMENT 'changed';"
      "ALTER TABLE vrep.kl ADD INDEX ia (a, b(1)), ADD INDEX ia_2 (a, b(1));"
      // A second copy of a key the source has: it was folded into the first (a DDL applied
      // twice left such a copy, and verify said equal).
      "ALTER TABLE vrep.p ADD UNIQUE KEY id_2 (id)");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(verify("--data-dir " + shellQuote(workFile("verify-repair-data")) + " --restart",
                   &report, file),
            1)
      << report.dump(2);
  std::set<std::string> seen;
  for (const char* t : {"vrep.p", "vrep.kl"})
    for (const auto& d : table(report, t)["schema"])
      seen.insert(std::string(t) + " " + d["object"].get<std::string>() + ": " +
                  d["what"].get<std::string>() + " " + d["source"].get<std::string>() + " / " +
                  d["destination"].get<std::string>());
  EXPECT_EQ(
      seen,
      (std::set<std::string>{
          "vrep.p column `v`: default NULL / 5",
          "vrep.p table: comment  / changed",
          "vrep.kl index INDEX (`a`, `b`): extra at destination  / ia",  // b(1) of a CHAR(1): whole
          "vrep.kl index INDEX (`a`, `b`): extra at destination  / ia_2",
          "vrep.p key UNIQUE KEY (`id`): extra at destination  / id_2",
      }))
      << report.dump(2);
}

// An ENUM error value and a member '' read alike as text ('' both), so do a SET's {} and {''}:
// verify said equal where the values differ. It compares the index and the bitmask.
TEST_F(VerifyTest, J_EnumAndSetAreComparedByValue) {
  auto src = cluster_->connect(cluster_->endpoint());
  auto dst = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(src != nullptr && dst != nullptr);
  const char* table_sql =
      "SET sql_mode = ''; CREATE TABLE t (id INT PRIMARY KEY, e ENUM('a','','b'), s SET('','x'));"
      "INSERT INTO t VALUES (1, 'zzz', 1), (2, '', 0), (3, 'a', 'x');";
  ASSERT_TRUE(src->execute(std::string("CREATE DATABASE venum; USE venum;") + table_sql).ok());
  ASSERT_TRUE(dst->execute(std::string("CREATE DATABASE venum; USE venum;") + table_sql).ok());
  std::string file = writeTask("verify-enum", "objects: [{database: venum}]\n");
  nlohmann::json report;
  EXPECT_EQ(verify("", &report, file), 0) << report.dump(2);
  ASSERT_TRUE(dst->execute("SET sql_mode = ''; UPDATE venum.t SET e = 2, s = 0 WHERE id = 1;"
                           "UPDATE venum.t SET e = 0, s = 1 WHERE id = 2")
                  .ok());
  EXPECT_EQ(verify("", &report, file), 1) << report.dump(2);
  const auto& t = table(report, "venum.t");
  ASSERT_EQ(t["row_differences"], 2) << t.dump(2);
  // Shown as the numbers that differ.
  EXPECT_EQ(t["rows"][0]["columns"][0]["source"], "0") << t.dump(2);
  EXPECT_EQ(t["rows"][0]["columns"][0]["destination"], "2") << t.dump(2);
}

}  // namespace
}  // namespace dts::testing
