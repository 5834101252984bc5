#include "support_data.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "cluster_fixture.h"
#include "common/byte_reader.h"
#include "mysql/event_builder_for_tests.h"
#include "task/catalog.h"

namespace dts::testing {

const char* const kTypeTablesSql =
    "CREATE TABLE t_int (id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT,"
    "  siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,"
    "  bi BIGINT, biu BIGINT UNSIGNED);"
    "CREATE TABLE t_dec (id INT PRIMARY KEY, d1 DECIMAL(10,2), d2 DECIMAL(65,30), d3 DECIMAL(5,0),"
    "  d4 DECIMAL(18,9), d5 DECIMAL(1,1), du DECIMAL(10,2) UNSIGNED, f FLOAT, d DOUBLE);"
    "CREATE TABLE t_time (id INT PRIMARY KEY, dt DATE, t0 TIME, t3 TIME(3), t6 TIME(6), dt0 DATETIME,"
    "  dt1 DATETIME(1), dt6 DATETIME(6), ts0 TIMESTAMP NULL, ts2 TIMESTAMP(2) NULL,"
    "  ts6 TIMESTAMP(6) NULL, y YEAR);"
    "CREATE TABLE t_str (id INT PRIMARY KEY, c CHAR(10), vc VARCHAR(300), vs VARCHAR(20),"
    "  l1 VARCHAR(20) CHARACTER SET latin1, cb CHAR(100), bn BINARY(4), vb VARBINARY(20),"
    "  tb TINYBLOB, b BLOB, mb MEDIUMBLOB, lb LONGBLOB, tt TINYTEXT, tx TEXT,"
    "  e ENUM('a','b','c'), s SET('x','y','z'), b1 BIT(1), b10 BIT(10), b64 BIT(64), j JSON,"
    "  g GEOMETRY) DEFAULT CHARSET=utf8mb4;";

namespace {

std::string orderBy(mysql::Connection& c, const std::string& db, const std::string& table) {
  auto pk =
      c.query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA=" +
              c.quoteString(db) + " AND TABLE_NAME=" + c.quoteString(table) +
              " AND CONSTRAINT_NAME='PRIMARY' ORDER BY ORDINAL_POSITION");
  std::string cols;
  if (pk.ok()) {
    for (const auto& r : pk->rows)
      cols += (cols.empty() ? "" : ",") + mysql::quoteIdentifier(*r[0]);
  }
  if (!cols.empty()) return cols;
  auto all = c.query(
      "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=" + c.quoteString(db) +
      " AND TABLE_NAME=" + c.quoteString(table) + " ORDER BY ORDINAL_POSITION");
  if (all.ok()) {
    for (const auto& r : all->rows)
      cols += (cols.empty() ? "" : ",") + mysql::quoteIdentifier(*r[0]);
  }
  return cols;
}

// Every column, FLOAT and DOUBLE as doubles: a FLOAT prints only 6 significant digits, so
// SELECT * would hide a float changed in its last digits; and a zero as "-0" or "0" by its sign
// (MariaDB prints -0 as 0).
std::string exactColumns(mysql::Connection& c, const std::string& db, const std::string& table) {
  auto all = c.query(
      "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE"
      " TABLE_SCHEMA=" +
      c.quoteString(db) + " AND TABLE_NAME=" + c.quoteString(table) + " ORDER BY ORDINAL_POSITION");
  if (!all.ok() || all->rows.empty()) return "*";
  std::string cols;
  for (const auto& r : all->rows) {
    std::string q = mysql::quoteIdentifier(*r[0]);
    bool floating = r[1] == "float" || r[1] == "double";
    cols += (cols.empty() ? "" : ", ") + (floating ? task::floatTextExpr(q) : q);
  }
  return cols;
}

std::string rowText(const mysql::Row& r) {
  std::string s = "(";
  for (size_t i = 0; i < r.size(); ++i) {
    if (i) s += ", ";
    s += r[i] ? "'" + *r[i] + "'" : "NULL";
  }
  return s + ")";
}

}  // namespace

std::string binlogInsertDoubleSql(const std::string& db, const std::string& table, int32_t id,
                                  double d) {
  using namespace mysql::testing;
  auto base64 = [](const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
  };
  EventBuilder b(mysql::ServerFlavor::kMariaDb);
  std::string fde = b.formatDescription();
  std::vector<TestColumn> cols = {colInt(mysql::ColumnType::kLong, "id"), colDouble("d")};
  cols[0].nullable = false;
  std::string id_bytes, d_bytes(8, '\0');
  putUint(&id_bytes, static_cast<uint32_t>(id), 4);
  std::memcpy(d_bytes.data(), &d, 8);  // little-endian hosts only, like the servers here
  std::string events = b.tableMap(4242, db, table, cols, /*full_metadata=*/false) +
                       b.rows(mysql::EventType::kWriteRowsV1, 4242, cols.size(),
                              rowImage({id_bytes, d_bytes}, {false, false}));
  return "BINLOG '" + base64(fde) + "'; BINLOG '" + base64(events) + "'";
}

std::string diffTables(mysql::Connection& source, const std::string& src_db,
                       const std::string& src_table, mysql::Connection& destination,
                       const std::string& dst_db, const std::string& dst_table) {
  std::string order = orderBy(source, src_db, src_table);
  auto a = source.query("SELECT " + exactColumns(source, src_db, src_table) + " FROM " +
                        mysql::quoteQualified(src_db, src_table) + " ORDER BY " + order);
  if (!a.ok()) return "source: " + a.status().toString();
  auto b = destination.query("SELECT " + exactColumns(destination, dst_db, dst_table) + " FROM " +
                             mysql::quoteQualified(dst_db, dst_table) + " ORDER BY " + order);
  if (!b.ok()) return "destination: " + b.status().toString();
  std::ostringstream out;
  if (a->rows.size() != b->rows.size()) {
    out << src_db << "." << src_table << ": " << a->rows.size() << " rows at the source, "
        << b->rows.size() << " at the destination. ";
  }
  size_t n = std::min(a->rows.size(), b->rows.size());
  int shown = 0;
  for (size_t i = 0; i < n && shown < 3; ++i) {
    if (a->rows[i] != b->rows[i]) {
      out << "row " << i << ": source " << rowText(a->rows[i]) << " destination "
          << rowText(b->rows[i]) << ". ";
      ++shown;
    }
  }
  return out.str();
}

std::string diffDatabases(mysql::Connection& source, mysql::Connection& destination,
                          const std::string& db) {
  auto tables =
      source.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=" +
                   source.quoteString(db) + " ORDER BY TABLE_NAME");
  if (!tables.ok()) return tables.status().toString();
  std::string out;
  for (const auto& t : tables->rows) out += diffTables(source, db, *t[0], destination, db, *t[0]);
  auto dst =
      destination.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=" +
                        destination.quoteString(db));
  if (dst.ok() && dst->rows[0][0] != std::to_string(tables->rows.size())) {
    out += "table count differs: source " + std::to_string(tables->rows.size()) + ", destination " +
           dst->rows[0][0].value_or("?") + ". ";
  }
  return out;
}

Sysbench::Sysbench(std::string endpoint, std::string user, std::string password, std::string db,
                   int tables, int table_size)
    : endpoint_(std::move(endpoint)),
      user_(std::move(user)),
      password_(std::move(password)),
      db_(std::move(db)),
      tables_(tables),
      table_size_(table_size) {}

Sysbench::~Sysbench() {
  stop();
}

std::string Sysbench::args() const {
  auto colon = endpoint_.rfind(':');
  return " --db-driver=mysql --mysql-host=" + endpoint_.substr(0, colon) +
         " --mysql-port=" + endpoint_.substr(colon + 1) + " --mysql-user=" + user_ +
         " --mysql-password=" + password_ + " --mysql-db=" + db_ +
         " --tables=" + std::to_string(tables_) + " --table-size=" + std::to_string(table_size_);
}

std::string Sysbench::prepare() {
  std::string out;
  auto conn = mysql::Connection::connect([&] {
    mysql::ConnectOptions o;
    o.endpoint = *mysql::Endpoint::parse(endpoint_);
    o.user = user_;
    o.password = password_;
    return o;
  }());
  if (!conn.ok()) return conn.status().toString();
  Status st = (*conn)->execute("CREATE DATABASE IF NOT EXISTS " + mysql::quoteIdentifier(db_));
  if (!st.ok()) return st.toString();
  int rc = runCommand("sysbench oltp_write_only" + args() + " prepare", &out);
  return rc == 0 ? "" : out;
}

void Sysbench::start(int threads, int rate) {
  stop();
  // sysbench 1.0 crashes when a connection it was told to re-open drops (a failover), so a
  // loop starts it again until stop().
  std::string cmd =
      "trap 'kill $child 2>/dev/null; exit 0' INT TERM; while true; do sysbench oltp_write_only" +
      args() + " --threads=" + std::to_string(threads) + " --rate=" + std::to_string(rate) +
      " --time=0 --mysql-ignore-errors=all run >/dev/null 2>&1 & child=$!; wait $child; "
      "sleep 0.2; done";
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

void Sysbench::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    usleep(100 * 1000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::thread startInsertUpdateWriter(std::unique_ptr<mysql::Connection> conn, const std::string& db,
                                    int n, std::chrono::milliseconds pause,
                                    std::atomic<int>* written) {
  return std::thread(
      [conn = std::move(conn), table = mysql::quoteQualified(db, "t"), n, pause, written] {
        ASSERT_NE(conn, nullptr);
        for (int i = 1; i <= n; ++i) {
          std::string id = std::to_string(i);
          Status st = conn->execute("BEGIN; INSERT INTO " + table + " VALUES (" + id +
                                    ", 0, REPEAT('x', " + std::to_string(i % 200) + ")); UPDATE " +
                                    table + " SET n = " + id + " WHERE id = " + id + "; COMMIT");
          ASSERT_TRUE(st.ok()) << st.toString();
          *written = i;
          std::this_thread::sleep_for(pause);
        }
      });
}

}  // namespace dts::testing
