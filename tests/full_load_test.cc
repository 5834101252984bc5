// Full data through `dts run` on the local cluster, checked row by row.
//
// Exactness is checked against the source as of each chunk's recorded snapshot position: node-2
// (a GTID replica of the primary) is stopped before the task starts, then moved forward with
// START SLAVE UNTIL master_gtid_pos to each snapshot position in turn, and every chunk loaded
// from that snapshot must equal node-2's rows of the same key range (and WHERE filter). Together
// with the incremental start position (the first snapshot) and the idempotent applier, that is
// what makes full + incremental exact; here it proves that no row is lost or doubled by the full
// phase, also when `dts run` is killed with SIGKILL at random moments and restarted.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "cluster_fixture.h"
#include "task/catalog.h"
#include "task/full_loader.h"
#include "task/task_config.h"

extern char** environ;

namespace dts::testing {
namespace {

class FullLoadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = LocalCluster::start().release();
    setenv("DTS_IT_PW", cluster_->password().c_str(), 1);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  std::string rootSql(const std::string& node, const std::string& sql) { return cluster_->rootSql(node, sql); }


  std::string workFile(const std::string& name) { return cluster_->dir() + "/" + name; }

  std::string writeTask(const std::string& name, const std::string& target_db, const std::string& options) {
    std::string path = workFile(name + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\n"
      << "kind: migration\n"
      << "source: {endpoint: '" << cluster_->endpoint() << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint() << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects:\n"
      << "  - database: shop\n"
      << "    rename_to: " << target_db << "\n"
      << "    tables:\n"
      << "      - name: orders\n"
      << "        rename_to: orders_v2\n"
      << "        columns: [id, customer, total, status]\n"
      << "        where: \"status <> 'test'\"\n"
      << "      - lines\n"
      << "      - events\n"
      << "      - \"we`ird;name\"\n"
      << "options: " << options << "\n";
    return path;
  }

  int runDts(const std::string& args, std::string* out) {
    return runCommand(dtsBinary() + " " + args, out);
  }

  pid_t spawnDts(const std::string& args, const std::string& log) {
    std::string cmd = "exec " + dtsBinary() + " " + args + " >> " + log + " 2>&1";
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
    return pid;
  }

  static int waitExit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

  void createSourceData() {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->execute("DROP DATABASE IF EXISTS shop; CREATE DATABASE shop").ok());
    ASSERT_TRUE(c->execute("USE shop").ok());
    ASSERT_TRUE(c->execute(
                     "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL,"
                     " total DECIMAL(10,2), status VARCHAR(20) NOT NULL, note TEXT, KEY (status));"
                     "CREATE TABLE `lines` (order_id INT NOT NULL, line INT NOT NULL, sku VARBINARY(16),"
                     " qty INT, at DATETIME(3), PRIMARY KEY (order_id, line));"
                     "CREATE TABLE events (a INT, b VARCHAR(20));"
                     "CREATE TABLE `we``ird;name` (`k``ey` VARCHAR(20) NOT NULL, `v;al` LONGTEXT, bits BIT(5),"
                     " e ENUM('x','y'), f DOUBLE, UNIQUE KEY (`k``ey`));"
                     "INSERT INTO orders (customer, total, status, note) SELECT seq % 97, seq / 7,"
                     " ELT(1 + seq % 4, 'paid', 'test', 'sent', 'new'), REPEAT('n', seq % 30) FROM seq_1_to_12000;"
                     "INSERT INTO `lines` SELECT 1 + seq DIV 4, seq % 4, UNHEX(MD5(seq)), seq % 9,"
                     " '2024-01-02 03:04:05.678' + INTERVAL seq SECOND FROM seq_0_to_11999;"
                     "INSERT INTO events SELECT seq % 50, CONCAT('e', seq) FROM seq_1_to_2000;"
                     "INSERT INTO `we``ird;name` SELECT CONCAT('k''', seq, '`'), CONCAT('{\"a\":', seq, '}'),"
                     " seq % 32, ELT(1 + seq % 2, 'x', 'y'), seq / 3 FROM seq_1_to_600;"
                     "INSERT INTO `we``ird;name` VALUES ('nul\\\\l\\0x', NULL, NULL, NULL, NULL)")
                    .ok());
  }

  // Random writes to every table until stop; returns the number of statements.
  static void writer(std::atomic<bool>* stop, std::atomic<uint64_t>* count) {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->execute("USE shop").ok());
    std::mt19937 rng(42);
    auto r = [&](int n) { return std::to_string(rng() % static_cast<unsigned>(n) + 1); };
    while (!stop->load()) {
      std::string sql;
      switch (rng() % 10) {
        case 0: sql = "INSERT INTO orders (customer, total, status) VALUES (" + r(97) + ", " + r(900) + ", 'paid')"; break;
        case 1: sql = "UPDATE orders SET total = total + 1, status = IF(status = 'test', 'paid', 'test') WHERE id = " + r(12500); break;
        case 2: sql = "DELETE FROM orders WHERE id = " + r(12500); break;
        case 3: sql = "REPLACE INTO `lines` VALUES (" + r(3500) + ", " + r(6) + ", 'sku', 1, NOW(3))"; break;
        case 4: sql = "UPDATE `lines` SET qty = qty + 1 WHERE order_id = " + r(3000); break;
        case 5: sql = "DELETE FROM `lines` WHERE order_id = " + r(3000) + " AND line = " + r(4); break;
        case 6: sql = "INSERT INTO events VALUES (" + r(50) + ", 'w')"; break;
        case 7: sql = "DELETE FROM events WHERE a = " + r(50) + " LIMIT 1"; break;
        case 8: sql = "UPDATE `we``ird;name` SET f = f + 1, `v;al` = NULL WHERE bits = " + r(31); break;
        default:
          sql = "BEGIN; UPDATE orders SET customer = customer + 1 WHERE id = " + r(12000) +
                "; INSERT INTO events VALUES (0, 'tx'); COMMIT";
      }
      Status st = c->execute(sql);
      ASSERT_TRUE(st.ok()) << sql << ": " << st.toString();
      count->fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  static uint64_t gtidSeq(const std::string& pos) {
    // Domain 0 only on this cluster: "0-1-123".
    size_t dash = pos.rfind('-');
    return dash == std::string::npos ? 0 : std::stoull(pos.substr(dash + 1));
  }

  // Checks every chunk of the task against node-2 moved to the chunk's snapshot position.
  void verifyAgainstSnapshots(const std::string& task, const std::string& task_file) {
    auto config = task::loadTaskFile(task_file);
    ASSERT_TRUE(config.ok()) << config.status().toString();
    auto mapping = config->mapping();
    ASSERT_TRUE(mapping.ok());
    auto dest = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_NE(dest, nullptr);
    auto chunks = dest->query("SELECT db, tbl, chunk, lower_key, upper_key, done, snapshot_gtid, loaded_rows"
                              " FROM dts_meta.full_chunks WHERE task = " + dest->quoteString(task));
    ASSERT_TRUE(chunks.ok()) << chunks.status().toString();
    ASSERT_FALSE(chunks->rows.empty());
    std::map<uint64_t, std::vector<mysql::Row>> by_position;
    std::map<std::string, uint64_t> loaded_per_table;
    for (const auto& row : chunks->rows) {
      ASSERT_EQ(row[5].value_or(""), "1") << "chunk not done: " << *row[1] << " #" << *row[2];
      by_position[gtidSeq(row[6].value_or(""))].push_back(row);
      loaded_per_table[*row[1]] += std::stoull(row[7].value_or("0"));
    }
    std::cout << "chunks: " << chunks->rows.size() << ", distinct snapshot positions: " << by_position.size() << "\n";
    auto replica = cluster_->connect(cluster_->nodeEndpoint("node-2"));
    ASSERT_NE(replica, nullptr);
    std::map<std::string, task::CatalogTable> tables;
    for (const auto& [seq, rows] : by_position) {
      std::string pos = rows[0][6].value_or("");
      rootSql("node-2", "START SLAVE UNTIL master_gtid_pos = '" + pos + "'");
      auto waited = replica->queryValue("SELECT MASTER_GTID_WAIT('" + pos + "', 120)");
      ASSERT_TRUE(waited.ok() && waited->value_or("") == "0") << "node-2 did not reach " << pos;
      auto at = replica->queryValue("SELECT @@gtid_slave_pos");
      ASSERT_TRUE(at.ok());
      ASSERT_EQ(at->value_or(""), pos) << "node-2 went past the snapshot position";
      for (const auto& row : rows) {
        std::string tbl = *row[1];
        if (tables.count(tbl) == 0) {
          task::CatalogTable t;
          t.route = *mapping->route("shop", tbl);
          ASSERT_TRUE(task::describeTable(*replica, &t).ok());
          tables[tbl] = t;
        }
        const task::CatalogTable& t = tables[tbl];
        std::optional<std::vector<std::string>> lower, upper;
        if (row[3]) lower = *task::decodeKey(*row[3]);
        if (row[4]) upper = *task::decodeKey(*row[4]);
        auto q = [&](std::string_view s) { return replica->quoteString(s); };
        std::string range = task::chunkPredicate(t, lower ? &*lower : nullptr, upper ? &*upper : nullptr, q);
        std::string cols, order;
        for (const auto& c : t.copy_columns) cols += (cols.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
        for (const auto& c : t.chunk_key) order += (order.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
        if (order.empty()) order = cols;
        std::string src_where = range;
        if (t.route.filter) src_where = "(" + range + ") AND " + t.route.filter->toSql(q);
        auto expected = replica->query("SELECT " + cols + " FROM " + mysql::quoteQualified("shop", tbl) + " WHERE " +
                                       src_where + " ORDER BY " + order);
        ASSERT_TRUE(expected.ok()) << expected.status().toString();
        auto actual = dest->query("SELECT " + cols + " FROM " +
                                  mysql::quoteQualified(t.route.target_database, t.route.target_table) + " WHERE " +
                                  range + " ORDER BY " + order);
        ASSERT_TRUE(actual.ok()) << actual.status().toString();
        ASSERT_EQ(expected->rows.size(), actual->rows.size()) << tbl << " chunk " << *row[2] << " at " << pos;
        EXPECT_TRUE(expected->rows == actual->rows) << tbl << " chunk " << *row[2] << " differs at " << pos;
        EXPECT_EQ(std::to_string(actual->rows.size()), row[7].value_or("")) << tbl << " chunk " << *row[2];
      }
    }
    // No row outside the chunks (each loaded once).
    for (const auto& [tbl, loaded] : loaded_per_table) {
      const auto& t = tables[tbl];
      auto n = dest->queryValue("SELECT COUNT(*) FROM " + mysql::quoteQualified(t.route.target_database, t.route.target_table));
      ASSERT_TRUE(n.ok());
      EXPECT_EQ(n->value_or(""), std::to_string(loaded)) << tbl;
    }
  }

  // The deferred secondary key of orders exists and nothing is left pending for the database.
  void expectSecondaryKeysBuilt(const std::string& db) {
    auto dest = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_NE(dest, nullptr);
    auto create = dest->query("SHOW CREATE TABLE " + mysql::quoteQualified(db, "orders_v2"));
    ASSERT_TRUE(create.ok()) << create.status().toString();
    EXPECT_NE(create->rows[0][1]->find("KEY `status` (`status`)"), std::string::npos) << *create->rows[0][1];
    auto pending = dest->queryValue("SELECT COUNT(*) FROM dts_meta.pending_indexes WHERE db = " + dest->quoteString(db));
    ASSERT_TRUE(pending.ok()) << pending.status().toString();
    EXPECT_EQ(pending->value_or(""), "0");
  }

  void stopReplicaAtCurrentPosition() {
    rootSql("node-2", "START SLAVE");
    cluster_->waitReplicated("node-2");
    rootSql("node-2", "STOP SLAVE");
  }

  static LocalCluster* cluster_;
};

LocalCluster* FullLoadTest::cluster_ = nullptr;

TEST_F(FullLoadTest, MigrationUnderConcurrentWritesIsExact) {
  createSourceData();
  stopReplicaAtCurrentPosition();
  std::string file = writeTask("full1", "shop_copy",
                               "{incremental: false, parallelism: 4, full: {max_rps: 12000, chunk_rows: 700}}");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  std::thread w(writer, &stop, &writes);
  std::string out;
  int rc = runDts("run " + file + " --data-dir " + workFile("data1"), &out);
  stop = true;
  w.join();
  ASSERT_EQ(rc, 0) << out;
  std::cout << "writes during the run: " << writes.load() << "\n" << out;
  EXPECT_GT(writes.load(), 0u);
  EXPECT_NE(out.find("[warn] table without key: shop.events"), std::string::npos) << out;
  EXPECT_EQ(out.find(cluster_->password()), std::string::npos);
  verifyAgainstSnapshots("full1", file);

  // The destination schema: renamed, column subset, keys kept.
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  auto create = dest->query("SHOW CREATE TABLE shop_copy.orders_v2");
  ASSERT_TRUE(create.ok());
  std::string sql = *create->rows[0][1];
  EXPECT_EQ(sql.find("`note`"), std::string::npos) << sql;
  EXPECT_NE(sql.find("PRIMARY KEY (`id`)"), std::string::npos) << sql;
  expectSecondaryKeysBuilt("shop_copy");
  auto weird = dest->queryValue("SELECT COUNT(*) FROM shop_copy.`we``ird;name` WHERE `k``ey` = 'nul\\\\l\\0x'");
  ASSERT_TRUE(weird.ok());
  EXPECT_EQ(weird->value_or(""), "1");

  // Status shows the completed task.
  ASSERT_EQ(runDts("status --json --data-dir " + workFile("data1"), &out), 0) << out;
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["phase"], "completed");
  EXPECT_EQ(st[0]["tables"].size(), 4u);
  EXPECT_FALSE(st[0]["start_gtid"].get<std::string>().empty());
}

TEST_F(FullLoadTest, KilledAndStoppedRunsResumeExactly) {
  createSourceData();
  stopReplicaAtCurrentPosition();
  std::string file = writeTask("full2", "shop_kill",
                               "{incremental: false, parallelism: 3, full: {max_rps: 1500, chunk_rows: 400}}");
  std::string data = workFile("data2");
  std::string log = workFile("full2.log");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  std::thread w(writer, &stop, &writes);
  std::random_device rd;
  unsigned seed = rd();
  std::mt19937 rng(seed);
  std::cout << "kill seed " << seed << "\n";
  // SIGTERM: a clean pause.
  pid_t pid = spawnDts("run " + file + " --data-dir " + data, log);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid), 0);
  std::string out;
  ASSERT_EQ(runDts("status --json --data-dir " + data, &out), 0);
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["phase"], "paused") << out;
  // SIGKILL at random moments.
  int killed = 0;
  for (int i = 0; i < 4; ++i) {
    pid = spawnDts("run " + file + " --data-dir " + data, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 2200));
    kill(pid, SIGKILL);
    if (waitExit(pid) == 128 + SIGKILL) ++killed;
  }
  EXPECT_GE(killed, 3) << "the full phase ended before the kills";
  int rc = runDts("run " + file + " --data-dir " + data, &out);
  stop = true;
  w.join();
  std::ifstream l(log);
  std::string previous((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
  ASSERT_EQ(rc, 0) << previous << out;
  verifyAgainstSnapshots("full2", file);
  expectSecondaryKeysBuilt("shop_kill");
}

TEST_F(FullLoadTest, BadTaskFilesAndConflictsFailClearly) {
  std::string out;
  std::string bad = workFile("bad.yaml");
  {
    std::ofstream f(bad);
    f << "name: bad\nkind: migration\nsource: {endpoint: 'h:1', user: u}\ndestination: {endpoint: 'h:2', user: u}\n"
         "objects: [{database: d}]\noptions: {parallelism: x}\n";
  }
  EXPECT_EQ(runDts("run " + bad + " --data-dir " + workFile("data3"), &out), 2);
  EXPECT_NE(out.find("options.parallelism: must be an integer 1-64, got 'x'"), std::string::npos) << out;
  {
    std::ofstream f(bad);
    f << "name: bad\nkind: migration\nsource: {endpoint: 'h:1', user: u}\n";
  }
  EXPECT_EQ(runDts("run " + bad + " --data-dir " + workFile("data3"), &out), 2);
  EXPECT_NE(out.find("destination: required"), std::string::npos) << out;

  // A destination table in the way fails precheck (and nothing is written).
  createSourceData();
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(dest->execute("CREATE DATABASE IF NOT EXISTS shop_conflict; CREATE TABLE shop_conflict.events (x INT)").ok());
  std::string file = writeTask("conflict", "shop_conflict", "{incremental: false}");
  EXPECT_EQ(runDts("run " + file + " --data-dir " + workFile("data3"), &out), 1);
  EXPECT_NE(out.find("conflicting tables: destination tables already exist: shop_conflict.events"), std::string::npos)
      << out;
  EXPECT_EQ(out.find(cluster_->password()), std::string::npos);
  ASSERT_EQ(runDts("status --json --data-dir " + workFile("data3"), &out), 0);
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["phase"], "failed");
  EXPECT_NE(st[0]["last_error"].get<std::string>().find("conflicting tables"), std::string::npos);
  auto n = dest->queryValue("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop_conflict'");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->value_or(""), "1");
  // With conflicting_tables: ignore it proceeds and keeps the existing table.
  ASSERT_TRUE(dest->execute("DROP TABLE shop_conflict.events; CREATE TABLE shop_conflict.events (a INT, b VARCHAR(20))").ok());
  ASSERT_TRUE(dest->execute("INSERT INTO shop_conflict.events VALUES (-1, 'mine')").ok());
  std::string ignore = writeTask("conflict2", "shop_conflict", "{incremental: false, conflicting_tables: ignore}");
  EXPECT_EQ(runDts("run " + ignore + " --data-dir " + workFile("data3"), &out), 0) << out;
  auto kept = dest->queryValue("SELECT COUNT(*) FROM shop_conflict.events WHERE b = 'mine'");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->value_or(""), "1");
  auto all = dest->queryValue("SELECT COUNT(*) FROM shop_conflict.events");
  EXPECT_EQ(all->value_or(""), "2001");
}

}  // namespace
}  // namespace dts::testing
