#include "chaos/writer.h"

#include <unistd.h>

#include <random>

namespace dts::testing {

namespace {
const char* const kTables[] = {"k1", "k2", "nokey", "side1", "side2", "side3", nullptr};
}

const char* const* chaosTables() {
  return kTables;
}

std::string chaosTablesSql(const std::string& db, int rows) {
  std::string q = "`" + db + "`";
  std::string n = std::to_string(rows);
  return "CREATE DATABASE " + q + "; USE " + q +
         ";"
         "CREATE TABLE k1 (id BIGINT PRIMARY KEY, v INT NOT NULL, s VARCHAR(40), d DECIMAL(12,2),"
         " t DATETIME(6), KEY (v));"
         "CREATE TABLE k2 (id BIGINT PRIMARY KEY, ref BIGINT, note TEXT, f DOUBLE);"
         "CREATE TABLE nokey (a INT, b VARCHAR(20), c BIGINT);"
         "CREATE TABLE side1 (id INT PRIMARY KEY, v VARCHAR(10));"
         "CREATE TABLE side2 (id INT PRIMARY KEY, v VARCHAR(10));"
         "CREATE TABLE side3 (x INT, y INT, UNIQUE KEY (x));"
         "INSERT INTO k1 SELECT seq, seq % 1000, CONCAT('s', seq), seq / 3,"
         " '2026-01-01' + INTERVAL seq SECOND FROM seq_1_to_" +
         n +
         ";"
         "INSERT INTO k2 SELECT seq, seq % 77, REPEAT('n', seq % 50), seq / 7 FROM seq_1_to_" +
         n +
         ";"
         "INSERT INTO nokey SELECT seq % 50, CONCAT('p', seq % 9), seq FROM seq_1_to_" +
         std::to_string(rows / 2) +
         ";"
         "INSERT INTO side1 SELECT seq, 'a' FROM seq_1_to_10;"
         "INSERT INTO side2 SELECT seq, 'b' FROM seq_1_to_10;"
         "INSERT INTO side3 SELECT seq, seq FROM seq_1_to_10;";
}

ChaosWriter::ChaosWriter(mysql::ConnectOptions endpoint, std::string db, uint64_t seed,
                         int64_t first_free_id)
    : options_(std::move(endpoint)), db_(std::move(db)), seed_(seed), next_id_(first_free_id) {
  options_.read_timeout = std::chrono::seconds(10);
  options_.write_timeout = std::chrono::seconds(10);
  options_.connect_timeout = std::chrono::seconds(3);
}

void ChaosWriter::start() {
  stop_.store(false);
  thread_ = std::thread([this] { loop(); });
}

void ChaosWriter::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ChaosWriter::loop() {
  std::mt19937_64 rng(seed_);
  std::unique_ptr<mysql::Connection> conn;
  const std::string q = "`" + db_ + "`.";
  while (!stop_.load()) {
    if (conn == nullptr) {
      auto c = mysql::Connection::connect(options_);
      if (!c.ok()) {
        errors_.fetch_add(1);
        usleep(200 * 1000);
        continue;
      }
      conn = std::move(c).value();
    }
    auto pick = [&] { return std::to_string(1 + static_cast<int64_t>(rng() % next_id_)); };
    uint64_t r = rng() % 100;
    std::string sql;
    if (r < 30) {
      int64_t id = next_id_++;
      sql = "INSERT INTO " + q + "k1 VALUES (" + std::to_string(id) + ", " +
            std::to_string(rng() % 1000) + ", 'w" + std::to_string(id) + "', " +
            std::to_string(rng() % 100000) + ".25, NOW(6))";
    } else if (r < 50) {
      sql = "UPDATE " + q + "k1 SET v = v + 1, s = CONCAT('u', v), t = NOW(6) WHERE id = " + pick();
    } else if (r < 58) {
      sql = "DELETE FROM " + q + "k1 WHERE id = " + pick();
    } else if (r < 70) {
      sql = "INSERT INTO " + q + "nokey VALUES (" + std::to_string(rng() % 50) + ", 'w', " +
            std::to_string(rng() % 1000000) + ")";
    } else if (r < 78) {
      sql = "DELETE FROM " + q + "nokey WHERE a = " + std::to_string(rng() % 50) + " LIMIT 1";
    } else if (r < 84) {
      sql = "UPDATE " + q + "nokey SET c = c + 1 WHERE a = " + std::to_string(rng() % 50) +
            " LIMIT 2";
    } else if (r < 94) {
      // A transaction over three tables: all of it or none of it arrives.
      int64_t id = next_id_++;
      sql = "BEGIN; INSERT INTO " + q + "k2 VALUES (" + std::to_string(id) + ", " + pick() +
            ", 'tx', " + std::to_string(rng() % 1000) + " / 7); UPDATE " + q +
            "k1 SET d = d + 1 WHERE id = " + pick() + "; INSERT INTO " + q + "nokey VALUES (" +
            std::to_string(rng() % 50) + ", 'tx', " + std::to_string(id) + "); COMMIT";
    } else {
      sql = "DELETE FROM " + q + "k2 WHERE id = " + pick();
    }
    Status st = conn->execute(sql);
    if (st.ok()) {
      ok_.fetch_add(1);
      usleep(static_cast<useconds_t>(5000 + rng() % 10000));
    } else {
      errors_.fetch_add(1);
      conn.reset();  // the statement may or may not have committed; the source is the truth
      usleep(100 * 1000);
    }
  }
}

}  // namespace dts::testing
