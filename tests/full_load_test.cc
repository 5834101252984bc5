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
#include "support_data.h"
#include "support_dts.h"
#include "task/catalog.h"
#include "task/chunk_plan.h"
#include "task/full_loader.h"
#include "task/task_config.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;

class FullLoadTest : public SharedClusterTest {
 protected:
  std::string rootSql(const std::string& node, const std::string& sql) {
    return cluster_->rootSql(node, sql);
  }

  std::string writeTask(const std::string& name, const std::string& target_db,
                        const std::string& options) {
    std::string path = workFile(name + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\n"
      << "kind: migration\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
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

  // A migration task file `name` from the read/write endpoint into the destination; objects and
  // options as YAML flow text.
  std::string migrationFile(const std::string& name, const std::string& objects,
                            const std::string& options) {
    std::string path = workFile(name + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\nkind: migration\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: " << objects << "\noptions: " << options << "\n";
    return path;
  }

  // The first value of sql's first row ("NULL", or the error).
  static std::string valueOf(mysql::Connection& c, const std::string& sql) {
    auto v = c.queryValue(sql);
    return v.ok() ? v->value_or("NULL") : v.status().toString();
  }

  void createSourceData() {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->execute("DROP DATABASE IF EXISTS shop; CREATE DATABASE shop").ok());
    ASSERT_TRUE(c->execute("USE shop").ok());
    ASSERT_TRUE(
        c->execute(
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
        case 0:
          sql = "INSERT INTO orders (customer, total, status) VALUES (" + r(97) + ", " + r(900) +
                ", 'paid')";
          break;
        case 1:
          sql =
              "UPDATE orders SET total = total + 1, status = IF(status = 'test', 'paid', 'test') WHERE id = " +
              r(12500);
          break;
        case 2: sql = "DELETE FROM orders WHERE id = " + r(12500); break;
        case 3:
          sql = "REPLACE INTO `lines` VALUES (" + r(3500) + ", " + r(6) + ", 'sku', 1, NOW(3))";
          break;
        case 4: sql = "UPDATE `lines` SET qty = qty + 1 WHERE order_id = " + r(3000); break;
        case 5:
          sql = "DELETE FROM `lines` WHERE order_id = " + r(3000) + " AND line = " + r(4);
          break;
        case 6: sql = "INSERT INTO events VALUES (" + r(50) + ", 'w')"; break;
        case 7: sql = "DELETE FROM events WHERE a = " + r(50) + " LIMIT 1"; break;
        case 8:
          sql = "UPDATE `we``ird;name` SET f = f + 1, `v;al` = NULL WHERE bits = " + r(31);
          break;
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
    auto chunks = dest->query(
        "SELECT db, tbl, chunk, lower_key, upper_key, done, snapshot_gtid, loaded_rows"
        " FROM dts_meta.full_chunks WHERE task = " +
        dest->quoteString(task));
    ASSERT_TRUE(chunks.ok()) << chunks.status().toString();
    ASSERT_FALSE(chunks->rows.empty());
    std::map<uint64_t, std::vector<mysql::Row>> by_position;
    std::map<std::string, uint64_t> loaded_per_table;
    for (const auto& row : chunks->rows) {
      ASSERT_EQ(row[5].value_or(""), "1") << "chunk not done: " << *row[1] << " #" << *row[2];
      by_position[gtidSeq(row[6].value_or(""))].push_back(row);
      loaded_per_table[*row[1]] += std::stoull(row[7].value_or("0"));
    }
    std::cout << "chunks: " << chunks->rows.size()
              << ", distinct snapshot positions: " << by_position.size() << "\n";
    auto replica = cluster_->connect(cluster_->nodeEndpoint("node-2"));
    ASSERT_NE(replica, nullptr);
    std::map<std::string, task::CatalogTable> tables;
    for (const auto& [seq, rows] : by_position) {
      std::string pos = rows[0][6].value_or("");
      rootSql("node-2", "START SLAVE UNTIL master_gtid_pos = '" + pos + "'");
      auto waited = replica->queryValue("SELECT MASTER_GTID_WAIT('" + pos + "', 120)");
      ASSERT_TRUE(waited.ok() && waited->value_or("") == "0") << "node-2 did not reach " << pos;
      // The SQL thread stops itself at the UNTIL position, but a moment after MASTER_GTID_WAIT
      // returns; the next START SLAVE UNTIL would find it still running. STOP SLAVE waits for
      // both threads (a note only when they are already stopped).
      rootSql("node-2", "STOP SLAVE");
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
        std::string range =
            task::chunkPredicate(t, lower ? &*lower : nullptr, upper ? &*upper : nullptr, q);
        std::string cols, order;
        for (const auto& c : t.copy_columns)
          cols += (cols.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
        for (const auto& c : t.chunk_key)
          order += (order.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
        if (order.empty()) order = cols;
        std::string src_where = range;
        if (t.route.filter) src_where = "(" + range + ") AND " + t.route.filter->toSql(q);
        auto expected =
            replica->query("SELECT " + cols + " FROM " + mysql::quoteQualified("shop", tbl) +
                           " WHERE " + src_where + " ORDER BY " + order);
        ASSERT_TRUE(expected.ok()) << expected.status().toString();
        auto actual =
            dest->query("SELECT " + cols + " FROM " +
                        mysql::quoteQualified(t.route.target_database, t.route.target_table) +
                        " WHERE " + range + " ORDER BY " + order);
        ASSERT_TRUE(actual.ok()) << actual.status().toString();
        ASSERT_EQ(expected->rows.size(), actual->rows.size())
            << tbl << " chunk " << *row[2] << " at " << pos;
        EXPECT_TRUE(expected->rows == actual->rows)
            << tbl << " chunk " << *row[2] << " differs at " << pos;
        EXPECT_EQ(std::to_string(actual->rows.size()), row[7].value_or(""))
            << tbl << " chunk " << *row[2];
      }
    }
    // No row outside the chunks (each loaded once).
    for (const auto& [tbl, loaded] : loaded_per_table) {
      const auto& t = tables[tbl];
      auto n =
          dest->queryValue("SELECT COUNT(*) FROM " +
                           mysql::quoteQualified(t.route.target_database, t.route.target_table));
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
    EXPECT_NE(create->rows[0][1]->find("KEY `status` (`status`)"), std::string::npos)
        << *create->rows[0][1];
    auto pending = dest->queryValue("SELECT COUNT(*) FROM dts_meta.pending_indexes WHERE db = " +
                                    dest->quoteString(db));
    ASSERT_TRUE(pending.ok()) << pending.status().toString();
    EXPECT_EQ(pending->value_or(""), "0");
  }

  void stopReplicaAtCurrentPosition() {
    rootSql("node-2", "START SLAVE");
    cluster_->waitReplicated("node-2");
    rootSql("node-2", "STOP SLAVE");
  }
};

TEST_F(FullLoadTest, MigrationUnderConcurrentWritesIsExact) {
  createSourceData();
  stopReplicaAtCurrentPosition();
  std::string file =
      writeTask("full1", "shop_copy",
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
  auto weird = dest->queryValue(
      "SELECT COUNT(*) FROM shop_copy.`we``ird;name` WHERE `k``ey` = 'nul\\\\l\\0x'");
  ASSERT_TRUE(weird.ok());
  EXPECT_EQ(weird->value_or(""), "1");

  // Status shows the completed task.
  ASSERT_EQ(runDts("status --json --data-dir " + workFile("data1"), &out), 0) << out;
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["phase"], "completed");
  EXPECT_EQ(st[0]["rps"], 0) << out;  // a completed task moves nothing (it kept its last rate)
  EXPECT_EQ(st[0]["mbps"], 0) << out;
  EXPECT_EQ(st[0]["tables"].size(), 4u);
  EXPECT_FALSE(st[0]["start_gtid"].get<std::string>().empty());
}

TEST_F(FullLoadTest, KilledAndStoppedRunsResumeExactly) {
  createSourceData();
  stopReplicaAtCurrentPosition();
  std::string file =
      writeTask("full2", "shop_kill",
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
  DtsProcess dts;
  dts.start({"run", file, "--data-dir", data}, log);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  dts.signal(SIGTERM);
  EXPECT_EQ(dts.wait(60s), 0);
  std::string out;
  ASSERT_EQ(runDts("status --json --data-dir " + data, &out), 0);
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["phase"], "paused") << out;
  // SIGKILL at random moments.
  int killed = 0;
  for (int i = 0; i < 4; ++i) {
    dts.start({"run", file, "--data-dir", data}, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 2200));
    dts.signal(SIGKILL);
    if (dts.wait(60s) == -SIGKILL) ++killed;
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

// Every column type of the binlog issue's table, with NULLs, bytes LOAD DATA and SQL escape
// (tab, newline, backslash, quotes, NUL, 0x1a) and a row too large for one bulk packet, arrives
// unchanged by each write method of options.full.method, several chunks and batches per table.
TEST_F(FullLoadTest, EveryTypeArrivesUnchangedByEveryWriteMethod) {
  rootSql(
      "node-1",
      "DROP DATABASE IF EXISTS ft; CREATE DATABASE ft; USE ft;" + std::string(kTypeTablesSql) +
          "ALTER TABLE t_str ADD KEY (vs);"
          "SET time_zone = '+00:00'; SET sql_mode = '';"
          "INSERT INTO t_int VALUES (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0),"
          "  (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807,"
          "   18446744073709551615), (3, 0, 1, -1, 1, -1, 1, -1, 1, -1, 1),"
          "  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
          "INSERT INTO t_int SELECT seq, seq % 100, seq % 200, seq, seq, seq, seq, seq, seq, seq * 1000, seq FROM seq_5_to_400;"
          "INSERT INTO t_dec VALUES (1, 12345678.90, 12345678901234567890123456789012345.123456789012345678901234567890,"
          "  99999, 123456789.123456789, 0.9, 99999999.99, 1.5, 3.141592653589793),"
          "  (2, -12345678.90, -12345678901234567890123456789012345.123456789012345678901234567890, -99999,"
          "   -0.000000001, -0.9, 0, -2.25, -1e300), (3, 0, 0, 0, 0, 0, 0, 0, 0),"
          "  (4, -0.05, 0.000000000000000000000000000001, 1, 1, 0.1, 0.01, 3.4028234e38, 2.2250738585072014e-308),"
          "  (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), (6, 0, 0, 0, 0, 0, 0, 0.1, 0.1);"
          "INSERT INTO t_time VALUES (1, '2024-01-31', '12:34:56', '-838:59:59.000', '-00:00:00.000001',"
          "  '2024-01-31 10:00:00', '2024-01-31 10:00:00.5', '9999-12-31 23:59:59.999999', '2024-02-29 12:00:00',"
          "  '2038-01-19 03:14:07.99', '1970-01-01 00:00:01.000001', 2024),"
          "  (2, '0000-00-00', '-12:00:00', '838:59:59.999', '00:00:00.5', '0000-00-00 00:00:00', '1000-01-01 00:00:00.0',"
          "   '2000-02-29 23:59:59.123456', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2000-01-01 00:00:00.5', 1901),"
          "  (3, '1000-01-01', '00:00:00', '-00:00:01.5', '-838:59:58.999999', '1999-12-31 23:59:59', NULL, NULL, NULL,"
          "   NULL, NULL, 2155),"
          "  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0);"
          "INSERT INTO t_str VALUES"
          "  (1, 'abc', REPEAT('x', 300), 'héllo wörld', 'café', REPEAT('é', 100), 0x00ff1020, 0xdeadbeef,"
          "   0x01, 0x0203, 0x040506, 0x0708090a, 'tiny', 'text with\\ttab', 'b', 'x,z', b'1', b'1010101010',"
          "   b'1111111111111111111111111111111111111111111111111111111111111111',"
          "   '{\"k\": [1, 2.5, \"s\", null, true], \"n\": {\"a\": 1}}', ST_GeomFromText('POINT(1 2)')),"
          "  (2, '', '', '', '', '', 0x00000000, '', '', '', '', '', '', '', 'a', '', b'0', b'0', b'0', '[]', NULL),"
          "  (3, 'ünïcødé', '日本語テキスト', '🙂 emoji', 'ÿ', 'x', 0x61626364, 0x00, 0xff, UNHEX(REPEAT('AB', 300)),"
          "   0x00, 0x00, 'a\"b\\\\c', 'line1\\nline2', 'c', 'x,y,z', b'1', b'1111111111',"
          "   b'1000000000000000000000000000000000000000000000000000000000000000', '\"just a string\"',"
          "   ST_GeomFromText('LINESTRING(0 0,1 1)')),"
          "  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
          "   NULL, NULL, NULL),"
          "  (5, '\\\\N', 'tab\\there\\nnew\\rline\\\\back', '\\'q\\' \"d\"', 'x', 'NULL', 0x5c4e0a09, 0x0a0d095c00275c4e,"
          "   0x1a, 0x5c, 0x09, 0x0a, '\\0nul', CONCAT('ctrl', CHAR(26), 'z'), NULL, 'y', NULL, b'0000000001',"
          "   NULL, '{}', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'));"
          "INSERT INTO t_str (id, vc, vs, lb) SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 50), seq, RANDOM_BYTES(64)"
          "  FROM seq_6_to_300;"
          // A 5 MB row: too large for one bulk packet once the destination's max_allowed_packet is
          // 4 MB (goes by LOAD DATA), between rows that are not.
          "CREATE TABLE t_big (id INT PRIMARY KEY, lb LONGBLOB, tx TEXT);"
          "INSERT INTO t_big VALUES (1, 0x00, 'a'), (2, REPEAT(0x00FF5C0A, 1250000), REPEAT('é\\t', 1000)), (3, NULL, 'c');"
          // t_str cannot go by LOAD DATA (BIT, GEOMETRY): too large is a clear error, not a retry.
          "CREATE TABLE t_bigbit (id INT PRIMARY KEY, lb LONGBLOB, b BIT(8));"
          "INSERT INTO t_bigbit VALUES (1, REPEAT(0x00FF5C0A, 1250000), b'101');"
          // MariaDB's own types: UUID and INET (the bulk insert sent their text as bytes, which
          // the server refused) and COMPRESSED columns.
          "CREATE TABLE t_fbt (id INT PRIMARY KEY, u UUID, i6 INET6, i4 INET4,"
          "  vz VARCHAR(100) COMPRESSED, bz BLOB COMPRESSED);"
          "INSERT INTO t_fbt VALUES (1, '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1',"
          "  '10.0.0.1', REPEAT('ab', 40), REPEAT(0x00FF, 500)),"
          "  (2, '00000000-0000-0000-0000-000000000000', '::', '0.0.0.0', '', ''),"
          "  (3, NULL, NULL, NULL, NULL, NULL),"
          "  (4, '6ccd780c-baba-1026-9564-5b8c656024db', '::ffff:1.2.3.4', '255.255.255.255', 'x',"
          "   0x00);");
  auto source = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(source, nullptr);
  ASSERT_NE(dest, nullptr);
  rootSql("dest", "SET GLOBAL max_allowed_packet = 4194304");
  for (const std::string method : {"auto", "bulk_insert", "load_data", "insert"}) {
    std::string db = "ft_" + method;
    std::string path = workFile("types_" + method + ".yaml");
    {
      std::ofstream f(path);
      f << "name: types_" << method << "\nkind: migration\n"
        << "source: {endpoint: '" << cluster_->endpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "destination: {endpoint: '" << cluster_->destinationEndpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "objects: [{database: ft, rename_to: " << db << "}]\n"
        << "options: {incremental: false, parallelism: 3, full: {chunk_rows: 70, method: " << method
        << "}}\n";
    }
    std::string out;
    int rc = runDts("run " + path + " --data-dir " + workFile("data-types-" + method), &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(
        out.find(
            "more than the destination's max_allowed_packet (4194304); raise max_allowed_packet"),
        std::string::npos)
        << out;
    if (method == "insert") {
      // As SQL text t_big's big row does not fit either (hex digits).
      EXPECT_NE(out.find("writing " + db + ".t_big"), std::string::npos) << out;
    } else {
      EXPECT_NE(out.find("writing " + db + ".t_bigbit"), std::string::npos) << out;
    }
    // With a larger max_allowed_packet the same task, run again, resumes and finishes.
    rootSql("dest", "SET GLOBAL max_allowed_packet = 268435456");
    rc = runDts("run " + path + " --data-dir " + workFile("data-types-" + method), &out);
    rootSql("dest", "SET GLOBAL max_allowed_packet = 4194304");
    ASSERT_EQ(rc, 0) << method << ": " << out;
    for (const std::string table :
         {"t_int", "t_dec", "t_time", "t_str", "t_big", "t_bigbit", "t_fbt"}) {
      EXPECT_EQ(diffTables(*source, "ft", table, *dest, db, table), "") << method << " " << table;
    }
  }
  rootSql("dest", "SET GLOBAL max_allowed_packet = 268435456");
}

// FLOAT values arrive bit for bit by every write method: the server prints a FLOAT with only 6
// significant digits, and a full load that copied that text cut 1.2345678 to 1.23457, 16777217 to
// 16777200 and FLT_MAX to 3.40282e38 (the server's own CHECKSUM TABLE differed). Covers FLOAT,
// FLOAT UNSIGNED, FLOAT(M,D), DOUBLE, DOUBLE(M,D), the largest, smallest normal and smallest
// denormal floats, thousands of floats spread over the whole range, and a FLOAT primary key the
// chunks are planned by. A FLOAT -0 (which MariaDB holds when it is sent a negative number too
// small for a FLOAT) arrives as -0, as a value, as a primary key and in a table without a key next
// to a +0 row: it was read as "0" and written as 0; dts verify says equal. A DOUBLE -0 (MariaDB
// gets one only from a binlog row) cannot be written to MariaDB: the load fails, naming the table
// and column, and writes nothing of the chunk.
TEST_F(FullLoadTest, FloatsArriveBitForBitByEveryWriteMethod) {
  rootSql(
      "node-1",
      "DROP DATABASE IF EXISTS ffl; CREATE DATABASE ffl; USE ffl;"
      "CREATE TABLE f (id INT PRIMARY KEY, f FLOAT, d DOUBLE, fu FLOAT UNSIGNED,"
      "  fmd FLOAT(10,4), dmd DOUBLE(20,6));"
      "INSERT INTO f VALUES (1, 1.2345678, 0.1, 1.2345678, 123.4567, 1.1234567),"
      "  (2, 123456.789, 1e-300, 123456.789, -99999.9999, -12345678901234.123456),"
      "  (3, 16777217, 0.3, 16777217, 0.0001, 0.000001),"
      "  (4, 3.4028234663852886e38, 1.7976931348623157e308, 3.4028234663852886e38, 0, 0),"
      "  (5, -3.4028234663852886e38, -1.7976931348623157e308, 0, NULL, NULL),"
      "  (6, 1.1754943508222875e-38, 2.2250738585072014e-308, 1.1754943508222875e-38, 1, 1),"
      "  (7, 1.401298464324817e-45, 4.9406564584124654e-324, 1.401298464324817e-45, -1, -1),"
      "  (8, -1.401298464324817e-45, -4.9406564584124654e-324, 2.802596928649634e-45, 0.5, 0.5),"
      "  (9, 0, 0, 0, 0, 0), (10, NULL, NULL, NULL, NULL, NULL), (11, 0.1, 0.1, 0.1, 0.1, 0.1),"
      // -0 next to +0 and the tiniest numbers of both signs.
      "  (12, -1e-50, -0e0, 0, 0, 0), (13, -1e-46, -1e-320, 0, -0.00001, -0.0000001);"
      // Mantissas of every kind, exponents from 1e-38 to 1e38.
      "INSERT INTO f SELECT 100 + seq, x, x * 1.000000001, ABS(x), MOD(x * 1e30, 99999),"
      "  MOD(x * 1e30, 99999999) FROM (SELECT seq, POW(10, (seq * 7919 % 7600) / 100 - 38)"
      "  * (CAST(seq * 104729 % 19997 AS SIGNED) - 9998) / 9998 * 1.2345678 AS x FROM seq_1_to_3000) s;"
      "CREATE TABLE fk (k FLOAT NOT NULL PRIMARY KEY, v INT);"
      "INSERT IGNORE INTO fk SELECT f, id FROM f WHERE f IS NOT NULL;"
      "CREATE TABLE fz (k FLOAT NOT NULL PRIMARY KEY, f FLOAT, v INT);"
      "INSERT INTO fz VALUES (-1e-50, -1e-50, 1), (1.401298464324817e-45, 0, 2),"
      "  (-1.401298464324817e-45, -1e-50, 3), (1, -1e-46, 4), (-1, 1e-50, 5);"
      "CREATE TABLE fn (f FLOAT, v INT);"
      "INSERT INTO fn VALUES (-1e-50, 1), (0, 1), (-1e-50, 2);");
  auto source = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(source, nullptr);
  ASSERT_NE(dest, nullptr);
  auto value = &FullLoadTest::valueOf;
  EXPECT_EQ(value(*source, "SELECT f FROM ffl.f WHERE id = 1"), "1.23457");  // what was copied
  // The signs of the zeros, which SELECT prints as 0: ATAN2(-0, -1) is -pi.
  const std::string signs =
      "SELECT GROUP_CONCAT(id, IF(ATAN2(f, -1) < 0, '-', '+'), IF(ATAN2(d, -1) < 0, '-', '+')"
      " ORDER BY id) FROM %.f WHERE id IN (9, 12, 13)";
  const std::string key_signs =
      "SELECT GROUP_CONCAT(v, IF(ATAN2(k, -1) < 0, '-', '+'), IF(ATAN2(f, -1) < 0, '-', '+')"
      " ORDER BY v) FROM %.fz";
  const std::string keyless_signs =
      "SELECT GROUP_CONCAT(v, IF(ATAN2(f, -1) < 0, '-', '+') ORDER BY v, ATAN2(f, -1)) FROM %.fn";
  auto in = [](std::string sql, const std::string& db) {
    return sql.replace(sql.find('%'), 1, db);
  };
  EXPECT_EQ(value(*source, in(signs, "ffl")), "9++,12-+,13--");
  EXPECT_EQ(value(*source, in(key_signs, "ffl")), "1--,2++,3--,4+-,5-+");
  EXPECT_EQ(value(*source, in(keyless_signs, "ffl")), "1-,1+,2-");
  for (const std::string method : {"auto", "bulk_insert", "load_data", "insert"}) {
    std::string db = "ffl_" + method;
    std::string path = workFile("floats_" + method + ".yaml");
    {
      std::ofstream f(path);
      f << "name: floats_" << method << "\nkind: migration\n"
        << "source: {endpoint: '" << cluster_->endpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "destination: {endpoint: '" << cluster_->destinationEndpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "objects: [{database: ffl, rename_to: " << db << "}]\n"
        << "options: {incremental: false, parallelism: 2, full: {chunk_rows: 500, method: "
        << method << "}}\n";
    }
    std::string out;
    ASSERT_EQ(runDts("run " + path + " --data-dir " + workFile("data-floats-" + method), &out), 0)
        << method << ": " << out;
    EXPECT_EQ(value(*dest, "SELECT f * 1e0 FROM " + db + ".f WHERE id = 1"), "1.2345677614212036")
        << method;
    EXPECT_EQ(value(*dest, "SELECT f * 1e0 FROM " + db + ".f WHERE id = 3"), "16777216") << method;
    EXPECT_EQ(value(*dest, "SELECT f * 1e0 FROM " + db + ".f WHERE id = 4"),
              "3.4028234663852886e38")
        << method;
    EXPECT_EQ(value(*dest, "SELECT f * 1e0 FROM " + db + ".f WHERE id = 7"),
              "1.401298464324817e-45")
        << method;
    EXPECT_EQ(value(*dest, in(signs, db)), "9++,12-+,13--") << method;
    EXPECT_EQ(value(*dest, in(key_signs, db)), "1--,2++,3--,4+-,5-+") << method;
    EXPECT_EQ(value(*dest, in(keyless_signs, db)), "1-,1+,2-") << method;
    ASSERT_EQ(runDts("verify " + path + " --data-dir " + workFile("data-floats-" + method), &out),
              0)
        << method << ": " << out;
    EXPECT_NE(out.find("equal"), std::string::npos) << out;
    for (const std::string table : {"f", "fk", "fz", "fn"}) {
      if (table != "fn") {  // ordered by its key (fn's -0 and +0 rows are equal in ORDER BY)
        EXPECT_EQ(diffTables(*source, "ffl", table, *dest, db, table), "")
            << method << " " << table;
      }
      // The server's own checksum of the stored rows.
      auto checksum = [&](mysql::Connection& c, const std::string& d) {
        auto r = c.query("CHECKSUM TABLE " + mysql::quoteQualified(d, table));
        return r.ok() && !r->rows.empty() ? r->rows[0][1].value_or("NULL") : "error";
      };
      EXPECT_EQ(checksum(*source, "ffl"), checksum(*dest, db)) << method << " " << table;
    }
  }

  // A DOUBLE -0, from a binlog row (a replica of a MySQL primary): MariaDB stores every DOUBLE it
  // is sent as an exact zero as +0, so no method can write it.
  rootSql("node-1",
          "DROP DATABASE IF EXISTS ffz; CREATE DATABASE ffz; USE ffz;"
          "CREATE TABLE dz (id INT NOT NULL PRIMARY KEY, d DOUBLE);"
          "INSERT INTO dz VALUES (1, 0), (2, -0e0);" +
              binlogInsertDoubleSql("ffz", "dz", 3, -0.0));
  EXPECT_EQ(value(*source,
                  "SELECT GROUP_CONCAT(id, IF(ATAN2(d, -1) < 0, '-', '+') ORDER BY id)"
                  " FROM ffz.dz"),
            "1+,2+,3-");
  for (const std::string method : {"bulk_insert", "load_data", "insert"}) {
    std::string path = workFile("double_zero_" + method + ".yaml");
    {
      std::ofstream f(path);
      f << "name: double_zero_" << method << "\nkind: migration\n"
        << "source: {endpoint: '" << cluster_->endpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "destination: {endpoint: '" << cluster_->destinationEndpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "objects: [{database: ffz, rename_to: ffz_" << method << "}]\n"
        << "options: {incremental: false, full: {method: " << method << "}}\n";
    }
    std::string out;
    EXPECT_NE(runDts("run " + path + " --data-dir " + workFile("data-double-zero-" + method), &out),
              0)
        << method << ": " << out;
    EXPECT_NE(out.find("ffz.dz"), std::string::npos) << method << ": " << out;
    EXPECT_NE(out.find("column 'd' holds a DOUBLE negative zero (-0), which a MariaDB destination "
                       "cannot store"),
              std::string::npos)
        << method << ": " << out;
    EXPECT_EQ(value(*dest, "SELECT COUNT(*) FROM ffz_" + method + ".dz"), "0") << method;
  }
}

// Text that does not survive a trip through Unicode (Shift-JIS 0x5C, which comes back as
// 0x815F; cp932's NEC twin 0x8790, which comes back as 0x81E0; a GBK or Big5 code without a
// Unicode mapping; bytes a single-byte set leaves undefined) arrives byte for byte by every write
// method, and into an existing table of the same character sets (conflicting_tables: ignore).
// Only bulk_insert was exact: load_data and insert went through utf8mb4.
TEST_F(FullLoadTest, TextThatDoesNotRoundTripThroughUnicodeArrivesByteForByteByEveryMethod) {
  const std::string table =
      "CREATE TABLE t (id INT PRIMARY KEY, sj VARCHAR(40) CHARACTER SET sjis, cp VARCHAR(10) "
      "CHARACTER SET cp932, gb VARCHAR(10) CHARACTER SET gbk, b5 VARCHAR(10) CHARACTER SET big5, "
      "asc1 VARCHAR(10) CHARACTER SET ascii, th VARCHAR(10) CHARACTER SET tis620, c1 VARCHAR(10) "
      "CHARACTER SET cp1250, e ENUM('a', 'b') CHARACTER SET sjis)";
  rootSql(
      "node-1",
      "DROP DATABASE IF EXISTS rtb; CREATE DATABASE rtb; USE rtb; " + table +
          "; SET SESSION sql_mode = ''; INSERT INTO t VALUES "
          "(1, X'433A5C6469725C612E747874', X'8790', X'A140', X'A15A', X'80FF', X'A0FC', X'81', "
          "'a'), (2, 'plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'b')");
  auto source = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(source, nullptr);
  ASSERT_NE(dest, nullptr);
  auto value = &FullLoadTest::valueOf;
  auto hexRows = [](const std::string& db) {
    return "SELECT GROUP_CONCAT(id, ':', HEX(sj), ':', HEX(cp), ':', HEX(gb), ':', HEX(b5), ':', "
           "HEX(asc1), ':', HEX(th), ':', HEX(c1), ':', e + 0 ORDER BY id) FROM " +
           db + ".t";
  };
  const std::string want = value(*source, hexRows("rtb"));
  ASSERT_EQ(want,
            "1:433A5C6469725C612E747874:8790:A140:A15A:80FF:A0FC:81:1,"
            "2:706C61696E:706C61696E:706C61696E:706C61696E:706C61696E:706C61696E:706C61696E:2");
  auto migrate = [&](const std::string& name, const std::string& target,
                     const std::string& options) {
    const std::string path =
        migrationFile(name, "[{database: rtb, rename_to: " + target + "}]", options);
    std::string out;
    EXPECT_EQ(runDts("run " + path + " --data-dir " + workFile("data-" + name) + " 2>&1", &out), 0)
        << name << ": " << out;
    EXPECT_EQ(value(*dest, hexRows(target)), want) << name;
  };
  for (const std::string method : {"bulk_insert", "load_data", "insert"}) {
    rootSql("dest", "DROP DATABASE IF EXISTS rtb_" + method);
    migrate("rtb_" + method, "rtb_" + method,
            "{incremental: false, full: {method: " + method + "}}");
  }
  // An existing table with the source's character sets: raw bytes too.
  rootSql("dest",
          "DROP DATABASE IF EXISTS rtb_keep; CREATE DATABASE rtb_keep; USE rtb_keep; " + table);
  migrate("rtb_keep", "rtb_keep",
          "{incremental: false, conflicting_tables: ignore, full: {method: load_data}}");

  // verify compares such text by its bytes: the values load_data and insert used to write (each
  // converts to the same text as the source's) are differences, and the repair SQL writes the
  // source's bytes back.
  const std::string task = workFile("rtb_insert.yaml");
  std::string out;
  EXPECT_EQ(runDts("verify " + task + " 2>&1", &out), 0) << out;
  rootSql(
      "dest",
      "SET SESSION sql_mode = ''; UPDATE rtb_insert.t SET sj = X'433A815F646972815F612E747874', "
      "cp = X'81E0', gb = X'3F', b5 = X'A2CE', asc1 = X'3F3F', th = X'FFFF', c1 = X'3F' WHERE "
      "id = 1");
  const std::string fix = workFile("rtb-fix.sql");
  EXPECT_EQ(runDts("verify " + task + " --fix " + fix + " 2>&1", &out), 1) << out;
  std::ifstream in(fix);
  const std::string repair((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(repair.find("X'433A5C6469725C612E747874'"), std::string::npos) << repair;
  rootSql("dest", repair);
  EXPECT_EQ(value(*dest, hexRows("rtb_insert")), want);
  EXPECT_EQ(runDts("verify " + task + " 2>&1", &out), 0) << out;
}

// A migration without incremental changes from a source being written: every reader's snapshot
// opens at one instant, so the copy is the source as of that instant. A writer sets four values
// (two rows in each of two tables) equal in every transaction; the copy must hold four equal
// values. Before, each reader opened its own snapshot when it first had work, and the copy mixed
// them (2276 / 2276 / 2484 / 34973, "completed").
TEST_F(FullLoadTest, AMigrationWithoutIncrementalIsACopyOfOneInstant) {
  rootSql("node-1",
          "DROP DATABASE IF EXISTS pair; CREATE DATABASE pair; USE pair; "
          "CREATE TABLE a (id INT PRIMARY KEY, v INT, pad CHAR(100) DEFAULT 'x'); "
          "CREATE TABLE b LIKE a; INSERT INTO a (id, v) SELECT seq, 0 FROM seq_1_to_60000; "
          "INSERT INTO b SELECT * FROM a");
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto c = cluster_->connect(cluster_->endpoint());
    if (c == nullptr) return;
    for (int i = 1; !stop.load(); ++i) {
      const std::string v = std::to_string(i);
      if (!c->execute("START TRANSACTION; UPDATE pair.a SET v = " + v +
                      " WHERE id IN (1, 59999); UPDATE pair.b SET v = " + v +
                      " WHERE id IN (1, 59999); COMMIT")
               .ok())
        return;
      written = i;
    }
  });
  while (written.load() < 50) std::this_thread::sleep_for(10ms);
  const std::string path =
      migrationFile("pair", "[{database: pair}]",
                    "{incremental: false, parallelism: 4, full: {chunk_rows: 3000}}");
  rootSql("dest", "DROP DATABASE IF EXISTS pair");
  std::string out;
  const int rc = runDts("run " + path + " --data-dir " + workFile("data-pair") + " 2>&1", &out);
  stop = true;
  writer.join();
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("4 readers share one snapshot at"), std::string::npos) << out;
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dest, nullptr);
  auto v = dest->queryValue(
      "SELECT CONCAT((SELECT GROUP_CONCAT(v ORDER BY id) FROM pair.a WHERE id IN (1, 59999)), ',', "
      "(SELECT GROUP_CONCAT(v ORDER BY id) FROM pair.b WHERE id IN (1, 59999)))");
  ASSERT_TRUE(v.ok() && v->has_value());
  const std::string four = **v;
  const std::string first = four.substr(0, four.find(','));
  EXPECT_EQ(four, first + "," + first + "," + first + "," + first) << out;
  EXPECT_GT(written.load(), 50);
}

// A chunk commits whole, so a stop, a restart or a retry loads it again: under a rate limit the
// automatic chunks are sized to take about 10 s each (a worker's share of max_rps), where 16 MiB
// of short rows would have been one 20,000-row chunk of 40 s at this limit, lost at every stop.
TEST_F(FullLoadTest, ChunksUnderARateLimitAreSmallEnoughToKeepProgressAcrossStops) {
  rootSql("node-1",
          "DROP DATABASE IF EXISTS slow; CREATE DATABASE slow; USE slow; "
          "CREATE TABLE t (id INT PRIMARY KEY, v INT); "
          "INSERT INTO t SELECT seq, seq FROM seq_1_to_20000; ANALYZE TABLE t");
  rootSql("dest", "DROP DATABASE IF EXISTS slow");
  const std::string path = migrationFile("slow", "[{database: slow}]",
                                         "{incremental: false, parallelism: 4, "
                                         "full: {max_rps: 2000}}");
  std::string out;
  ASSERT_EQ(runDts("run " + path + " --data-dir " + workFile("data-slow") + " 2>&1", &out), 0)
      << out;
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(dest, nullptr);
  // 2000 rows/s over 4 workers: 500 rows/s each, 5000 rows in 10 s (planned counts of a split
  // key range are estimates).
  EXPECT_EQ(
      valueOf(*dest,
              "SELECT CONCAT(COUNT(*), ' ', MAX(planned_rows) <= 5000, ' ', SUM(loaded_rows)) "
              "FROM dts_meta.full_chunks WHERE task = 'slow'"),
      "4 1 20000");
  EXPECT_EQ(valueOf(*dest, "SELECT SUM(v) FROM slow.t"), "200010000");
}

// The destination refusing LOAD DATA LOCAL is a degraded mode: counted, persisted with the task
// state across runs, and shown by `dts status` (text and --json).
// Keys whose order is a number the text does not show: a BIT primary key (its bounds were X'..',
// which MariaDB compares with a BIT as matching every row or none: "completed" with 4 of 3000
// rows), keys starting with an ENUM or a SET whose members are not in alphabetical order (bounds
// compared as text while ORDER BY sorts by index or bitmask: chunks overlapped, "Duplicate entry
// 'a-60'"). Every row arrives once, by every write method, in small chunks.
TEST_F(FullLoadTest, BitEnumAndSetKeysChunkWithoutLossOrOverlap) {
  rootSql("node-1",
          "DROP DATABASE IF EXISTS fk; CREATE DATABASE fk; USE fk;"
          "CREATE TABLE b (k BIT(32) PRIMARY KEY, n INT);"
          "INSERT INTO b SELECT seq * 7919, seq FROM seq_1_to_3000;"
          "CREATE TABLE b64 (k BIT(64) PRIMARY KEY, n INT);"
          "INSERT INTO b64 SELECT seq * 3074457345618258602, seq FROM seq_0_to_5;"
          "CREATE TABLE e (k ENUM('z','a','m'), j INT, n INT, PRIMARY KEY (k, j));"
          "INSERT INTO e SELECT ELT(1 + seq % 3, 'z', 'a', 'm'), seq DIV 3, seq FROM seq_0_to_299;"
          "CREATE TABLE s (k SET('z','a','m'), j INT, n INT, PRIMARY KEY (k, j));"
          "INSERT INTO s SELECT seq % 8, seq DIV 8, seq FROM seq_0_to_299;");
  auto source = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(source, nullptr);
  ASSERT_NE(dest, nullptr);
  for (const std::string method : {"auto", "bulk_insert", "load_data", "insert"}) {
    std::string db = "fk_" + method;
    std::string path = workFile("keys_" + method + ".yaml");
    {
      std::ofstream f(path);
      f << "name: keys_" << method << "\nkind: migration\n"
        << "source: {endpoint: '" << cluster_->endpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "destination: {endpoint: '" << cluster_->destinationEndpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "objects: [{database: fk, rename_to: " << db << "}]\n"
        << "options: {incremental: false, parallelism: 2, full: {chunk_rows: 37, method: " << method
        << "}}\n";
    }
    std::string out;
    ASSERT_EQ(runDts("run " + path + " --data-dir " + workFile("data-keys-" + method), &out), 0)
        << method << ": " << out;
    for (const std::string table : {"b", "b64", "e", "s"}) {
      EXPECT_EQ(diffTables(*source, "fk", table, *dest, db, table), "") << method << " " << table;
    }
    // The chunks were many and each one's rows are exactly those of its range at the source.
    auto chunks = dest->queryValue(
        "SELECT COUNT(*) FROM dts_meta.full_chunks WHERE tbl = 'b' AND task = 'keys_" + method +
        "'");
    ASSERT_TRUE(chunks.ok());
    EXPECT_GE(std::stoi(chunks->value_or("0")), 80) << method;
  }
}

// ENUM and SET values whose text is ambiguous: the ENUM error value (index 0) of an ENUM with a
// member '' was stored as that member (index 2), the SET {''} (bitmask 1) of a SET with a member
// '' as the empty set; by every write method. They arrive as they are, a member truncated at the
// destination still fails the load (nothing written), and dts verify says equal (then sees a
// changed one).
TEST_F(FullLoadTest, AmbiguousEnumAndSetValuesArriveAsTheyAre) {
  rootSql(
      "node-1",
      "DROP DATABASE IF EXISTS fe; CREATE DATABASE fe; USE fe; SET sql_mode = '';"
      "CREATE TABLE t (id INT PRIMARY KEY, e ENUM('a','','b'), s SET('','x'),"
      " e2 ENUM('p','q'), s2 SET('1','2'));"
      "INSERT INTO t VALUES (1, 'zzz', 'x', 'p', '1'), (2, '', 'x', 'zzz', '2'),"
      " (3, 'a', '', 'q', '1,2'), (4, 2, '', NULL, ''), (5, 0, 1, 0, 3), (6, NULL, NULL, 'q', 2),"
      " (7, 3, 3, 2, 0);"
      "INSERT INTO t SELECT 100 + seq, seq % 4, seq % 4, seq % 3, seq % 4 FROM seq_1_to_200;");
  auto source = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(source, nullptr);
  ASSERT_NE(dest, nullptr);
  const std::string numbers =
      "SELECT GROUP_CONCAT(CONCAT_WS(':', id, e + 0, s + 0, e2 + 0, s2 + 0, ISNULL(e), ISNULL(s))"
      " ORDER BY id) FROM ";
  auto expected = source->queryValue(numbers + "fe.t");
  ASSERT_TRUE(expected.ok());
  for (const std::string method : {"auto", "bulk_insert", "load_data", "insert"}) {
    std::string db = "fe_" + method;
    std::string path = workFile("enums_" + method + ".yaml");
    {
      std::ofstream f(path);
      f << "name: enums_" << method << "\nkind: migration\n"
        << "source: {endpoint: '" << cluster_->endpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "destination: {endpoint: '" << cluster_->destinationEndpoint()
        << "', user: dts, password_env: DTS_IT_PW}\n"
        << "objects: [{database: fe, rename_to: " << db << "}]\n"
        << "options: {incremental: false, full: {chunk_rows: 50, method: " << method << "}}\n";
    }
    std::string out;
    ASSERT_EQ(runDts("run " + path + " --data-dir " + workFile("data-enums-" + method), &out), 0)
        << method << ": " << out;
    auto actual = dest->queryValue(numbers + db + ".t");
    ASSERT_TRUE(actual.ok());
    EXPECT_EQ(actual->value_or(""), expected->value_or("-")) << method;
    if (method != "auto") continue;
    ASSERT_EQ(runDts("verify " + path + " --data-dir " + workFile("data-enums-" + method), &out), 0)
        << out;
    // The error value and the member '' (and {} and {''}) read alike as text: verify compares
    // the index and the bitmask.
    ASSERT_TRUE(dest->execute("SET sql_mode = ''; UPDATE " + db +
                              ".t SET e = 2 WHERE id = 1; UPDATE " + db +
                              ".t SET s = 0 WHERE id = 5")
                    .ok());
    EXPECT_EQ(runDts("verify " + path + " --data-dir " + workFile("data-enums-" + method), &out), 1)
        << out;
    EXPECT_NE(out.find("2 row differences"), std::string::npos) << out;
  }
  // A destination that truncates a member (fewer members) still fails the load, by name.
  rootSql("dest",
          "DROP DATABASE IF EXISTS fe_narrow; CREATE DATABASE fe_narrow;"
          "CREATE TABLE fe_narrow.t (id INT PRIMARY KEY, e ENUM('a','','b'), s SET('','x'),"
          " e2 ENUM('p'), s2 SET('1','2'))");
  std::string path = workFile("enums_narrow.yaml");
  {
    std::ofstream f(path);
    f << "name: enums_narrow\nkind: migration\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: [{database: fe, rename_to: fe_narrow}]\n"
      << "options: {incremental: false, conflicting_tables: ignore}\n";
  }
  std::string out;
  EXPECT_EQ(runDts("run " + path + " --data-dir " + workFile("data-enums-narrow"), &out), 1) << out;
  EXPECT_NE(out.find("writing fe_narrow.t (fe.t chunk 0): the destination would store values "
                     "other than the source's"),
            std::string::npos)
      << out;
  auto narrow = dest->queryValue("SELECT COUNT(*) FROM fe_narrow.t");
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(narrow->value_or(""), "0");
}

TEST_F(FullLoadTest, RefusedLoadDataIsCountedAndShownByStatus) {
  rootSql("node-1",
          "DROP DATABASE IF EXISTS fr; CREATE DATABASE fr; USE fr;"
          "CREATE TABLE t_big (id INT PRIMARY KEY, lb LONGBLOB);"
          "INSERT INTO t_big VALUES (1, 0x00), (2, REPEAT(0x00FF5C0A, 1250000)), (3, NULL);");
  // A 5 MB row does not fit one bulk packet under a 4 MB max_allowed_packet: auto sends it by
  // LOAD DATA, which this destination refuses.
  rootSql("dest", "SET GLOBAL max_allowed_packet = 4194304; SET GLOBAL local_infile = OFF");
  std::string path = workFile("refused.yaml");
  {
    std::ofstream f(path);
    f << "name: refused\nkind: migration\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: [{database: fr}]\n"
      << "options: {incremental: false, parallelism: 2}\n";
  }
  std::string data = workFile("data-refused");
  std::string out;
  int rc = runDts("run " + path + " --data-dir " + data, &out);
  rootSql("dest", "SET GLOBAL max_allowed_packet = 268435456; SET GLOBAL local_infile = ON");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("more than the destination's max_allowed_packet"), std::string::npos) << out;
  ASSERT_EQ(runDts("status --json --data-dir " + data, &out), 0);
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  ASSERT_TRUE(st[0]["degraded"].contains("load_data_refused")) << out;
  uint64_t refused = st[0]["degraded"]["load_data_refused"].get<uint64_t>();
  EXPECT_GE(refused, 1u) << out;
  // The chunk was rolled back (twice: LOAD DATA refused, then the row too large): none of its
  // rows count as loaded, or the rows done would exceed the table's once it is loaded again.
  ASSERT_EQ(st[0]["tables"].size(), 1u) << out;
  EXPECT_EQ(st[0]["tables"][0]["rows_done"], 0) << out;
  EXPECT_EQ(st[0]["tables"][0]["bytes_done"], 0) << out;
  ASSERT_EQ(runDts("status --data-dir " + data, &out), 0);
  EXPECT_NE(out.find("degraded: load_data_refused " + std::to_string(refused)), std::string::npos)
      << out;
  // Run again where LOAD DATA is allowed: it finishes, and the count from the first run stays.
  ASSERT_EQ(runDts("run " + path + " --data-dir " + data, &out), 0) << out;
  ASSERT_EQ(runDts("status --json --data-dir " + data, &out), 0);
  st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["degraded"]["load_data_refused"].get<uint64_t>(), refused) << out;
  EXPECT_EQ(st[0]["tables"][0]["rows_done"], 3) << out;
  ASSERT_EQ(runDts("status --data-dir " + data, &out), 0);
  EXPECT_NE(out.find("rows 3/3 "), std::string::npos) << out;
  auto source = cluster_->connect(cluster_->endpoint());
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_NE(source, nullptr);
  ASSERT_NE(dest, nullptr);
  EXPECT_EQ(diffTables(*source, "fr", "t_big", *dest, "fr", "t_big"), "");
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
  EXPECT_NE(out.find("options.parallelism: must be an integer 1-64, got 'x'"), std::string::npos)
      << out;
  {
    std::ofstream f(bad);
    f << "name: bad\nkind: migration\nsource: {endpoint: 'h:1', user: u}\n";
  }
  EXPECT_EQ(runDts("run " + bad + " --data-dir " + workFile("data3"), &out), 2);
  EXPECT_NE(out.find("destination: required"), std::string::npos) << out;

  // A destination table in the way fails precheck (and nothing is written).
  createSourceData();
  auto dest = cluster_->connect(cluster_->destinationEndpoint());
  ASSERT_TRUE(
      dest->execute(
              "CREATE DATABASE IF NOT EXISTS shop_conflict; CREATE TABLE shop_conflict.events (x INT)")
          .ok());
  std::string file = writeTask("conflict", "shop_conflict", "{incremental: false}");
  EXPECT_EQ(runDts("run " + file + " --data-dir " + workFile("data3"), &out), 1);
  EXPECT_NE(out.find("conflicting tables: destination tables already exist: shop_conflict.events"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(cluster_->password()), std::string::npos);
  ASSERT_EQ(runDts("status --json --data-dir " + workFile("data3"), &out), 0);
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_array() && st.size() == 1) << out;
  EXPECT_EQ(st[0]["phase"], "failed");
  EXPECT_NE(st[0]["last_error"].get<std::string>().find("conflicting tables"), std::string::npos);
  auto n = dest->queryValue(
      "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop_conflict'");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->value_or(""), "1");
  // With conflicting_tables: ignore it proceeds and keeps the existing table.
  ASSERT_TRUE(
      dest->execute(
              "DROP TABLE shop_conflict.events; CREATE TABLE shop_conflict.events (a INT, b VARCHAR(20))")
          .ok());
  ASSERT_TRUE(dest->execute("INSERT INTO shop_conflict.events VALUES (-1, 'mine')").ok());
  std::string ignore =
      writeTask("conflict2", "shop_conflict", "{incremental: false, conflicting_tables: ignore}");
  EXPECT_EQ(runDts("run " + ignore + " --data-dir " + workFile("data3"), &out), 0) << out;
  auto kept = dest->queryValue("SELECT COUNT(*) FROM shop_conflict.events WHERE b = 'mine'");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->value_or(""), "1");
  auto all = dest->queryValue("SELECT COUNT(*) FROM shop_conflict.events");
  EXPECT_EQ(all->value_or(""), "2001");
  // An existing table with a unique key the source does not have: the source's 2000 rows hold
  // 50 values of a, so INSERT IGNORE would have kept 50 (REPLACE would delete likewise). Refused
  // by name, nothing written.
  ASSERT_TRUE(dest->execute("DROP TABLE shop_conflict.events; CREATE TABLE shop_conflict.events "
                            "(a INT, b VARCHAR(20), UNIQUE KEY ua (a))")
                  .ok());
  EXPECT_EQ(runDts("run " + ignore + " --data-dir " + workFile("data4"), &out), 1) << out;
  EXPECT_NE(out.find("[FAIL] destination unique keys: destination table `shop_conflict`.`events` "
                     "has a unique key `ua` (a) that no unique key of the source table "
                     "`shop`.`events` implies"),
            std::string::npos)
      << out;
  all = dest->queryValue("SELECT COUNT(*) FROM shop_conflict.events");
  EXPECT_EQ(all->value_or(""), "0");
}

}  // namespace
}  // namespace dts::testing
