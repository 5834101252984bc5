// MysqlApplier against a real destination: exact values, row ops and mapping, parallel order,
// DDL replay, and kill -9 at random instants without losing or doubling a transaction.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <thread>
#include <tuple>

#include "cluster_fixture.h"
#include "mysql/gtid.h"
#include "pipeline/change_event_for_tests.h"
#include "pipeline/mapping_stage.h"
#include "sink/checkpoint_store.h"
#include "sink/mysql_applier.h"
#include "sink/row_prefetcher.h"

namespace dts::testing {
namespace {

// A sink's position in text ("" = none), for comparing with expected texts.
std::string resumeText(const dts::sink::Sink& s) {
  auto p = s.resumePosition();
  return p.ok() && p->has_value() ? (*p)->toString() : "";
}

using mysql::ColumnType;
using mysql::Value;
using pipeline::ChangeEvent;
using pipeline::Transaction;
using Kind = Value::Kind;

std::string one(mysql::Connection& c, const std::string& sql) {
  auto r = c.queryValue(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().toString();
  return r.ok() ? r->value_or("NULL") : "";
}

mysql::ColumnInfo col(std::string name, ColumnType type, uint16_t collation = 0) {
  mysql::ColumnInfo c;
  c.name = std::move(name);
  c.type = type;
  c.collation = collation;
  return c;
}

std::shared_ptr<mysql::TableInfo> table(std::string db, std::string name,
                                        std::vector<mysql::ColumnInfo> cols,
                                        std::vector<size_t> pk) {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = std::move(db);
  t->table = std::move(name);
  t->columns = std::move(cols);
  t->primary_key = std::move(pk);
  return t;
}

// Every byte value from `first` to 255, in order.
std::string bytesFrom(int first) {
  std::string out;
  for (int b = first; b < 256; ++b) out.push_back(static_cast<char>(b));
  return out;
}

mysql::RowImage img(std::vector<Value> v) {
  return mysql::RowImage{std::move(v), {}};
}

ChangeEvent rowEvent(ChangeEvent::Op op, const std::shared_ptr<mysql::TableInfo>& t,
                     std::optional<mysql::RowImage> before, std::optional<mysql::RowImage> after) {
  return pipeline::testing::rowChange(op, t, std::move(before), std::move(after));
}

Transaction txn(uint64_t seq, std::vector<ChangeEvent> events) {
  Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.timestamp = static_cast<uint32_t>(time(nullptr));
  t.events = std::move(events);
  return t;
}

Transaction ddlTxn(uint64_t seq, std::string db, std::string sql) {
  ChangeEvent e;
  e.op = ChangeEvent::Op::kDdl;
  e.database = std::move(db);
  e.sql = std::move(sql);
  return txn(seq, {e});
}

// The applier behind the task's mapping stage, as the incremental engine runs them.
class MappedApplier {
 public:
  MappedApplier(std::unique_ptr<sink::MysqlApplier> applier,
                std::shared_ptr<const pipeline::Mapping> mapping)
      : applier_(std::move(applier)), stage_(std::move(mapping)) {}
  Status apply(pipeline::Transaction txn) {
    DTS_RETURN_IF_ERROR(stage_.map(&txn));
    return applier_->apply(std::move(txn));
  }
  Status close() { return applier_->close(); }
  std::string resumeGtid() const { return resumeText(*applier_); }
  const sink::Checkpoint& checkpoint() const { return applier_->checkpoint(); }
  sink::SinkStats stats() const { return applier_->stats(); }
  std::vector<sink::TableChanges> changesByTable() const { return applier_->changesByTable(); }

 private:
  std::unique_ptr<sink::MysqlApplier> applier_;
  pipeline::MappingStage stage_;
};

class ApplierTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    dest_ = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_NE(dest_, nullptr);
  }
  sink::ApplierOptions options(const std::string& task, int workers = 1) {
    sink::ApplierOptions o;
    o.destination = cluster_->options(cluster_->destinationEndpoint());
    o.task = task;
    o.workers = workers;
    return o;
  }
  std::unique_ptr<MappedApplier> open(const sink::ApplierOptions& o,
                                      std::shared_ptr<const pipeline::Mapping> m = nullptr) {
    auto a = sink::MysqlApplier::open(o);
    EXPECT_TRUE(a.ok()) << a.status().toString();
    return a.ok() ? std::make_unique<MappedApplier>(std::move(*a), std::move(m)) : nullptr;
  }
  std::unique_ptr<mysql::Connection> dest_;
};

// Connection::affectedRows: the rows the statement changed. Connector/C's count reads -1 once the
// connection has looked for a next result, which execute() does: a new task's first run logged
// "removed 18446744073709551612 rows" of a task that never existed, and INSERT's inserted count
// was that too.
TEST_F(ApplierTest, AffectedRowsAreTheStatementsOwn) {
  ASSERT_TRUE(dest_->execute("DROP DATABASE IF EXISTS ar; CREATE DATABASE ar").ok());
  ASSERT_TRUE(dest_->execute("CREATE TABLE ar.t (id INT PRIMARY KEY)").ok());
  EXPECT_EQ(dest_->affectedRows(), 0u);
  ASSERT_TRUE(dest_->execute("INSERT IGNORE INTO ar.t VALUES (1), (2), (2), (3)").ok());
  EXPECT_EQ(dest_->affectedRows(), 3u);
  EXPECT_EQ(dest_->warningCount(), 1u);
  ASSERT_TRUE(dest_->execute("DELETE FROM ar.t WHERE id > 5").ok());
  EXPECT_EQ(dest_->affectedRows(), 0u);
  ASSERT_TRUE(dest_->execute("DELETE FROM ar.t WHERE id > 1").ok());
  EXPECT_EQ(dest_->affectedRows(), 2u);
  ASSERT_TRUE(dest_->query("SELECT * FROM ar.t").ok());
  EXPECT_EQ(dest_->affectedRows(), 0u);
  ASSERT_TRUE(dest_->execute("DROP DATABASE ar").ok());
}

TEST_F(ApplierTest, ValuesAreStoredExactly) {
  ASSERT_TRUE(dest_->execute("CREATE DATABASE vals").ok());
  ASSERT_TRUE(
      dest_
          ->execute(
              "CREATE TABLE vals.t (id INT PRIMARY KEY, u BIGINT UNSIGNED, i BIGINT, f FLOAT, d DOUBLE, "
              "dec1 DECIMAL(30,10), dt DATETIME(3), dz DATE, s VARCHAR(300) CHARACTER SET utf8mb4, "
              "l VARCHAR(300) CHARACTER SET latin1, b VARBINARY(300), bit1 BIT(64), e ENUM('a','b','c'), "
              "st SET('x','y','z'), j JSON, ts TIMESTAMP NULL)")
          .ok());
  const std::string all = bytesFrom(0);
  const std::string latin = bytesFrom(32);
  auto t = table("vals", "t",
                 {col("id", ColumnType::kLong), col("u", ColumnType::kLongLong),
                  col("i", ColumnType::kLongLong), col("f", ColumnType::kFloat),
                  col("d", ColumnType::kDouble), col("dec1", ColumnType::kNewDecimal),
                  col("dt", ColumnType::kDateTime2), col("dz", ColumnType::kDate),
                  col("s", ColumnType::kVarchar, 45), col("l", ColumnType::kVarchar, 8),
                  col("b", ColumnType::kVarchar, 63), col("bit1", ColumnType::kBit),
                  col("e", ColumnType::kString, 45), col("st", ColumnType::kString, 45),
                  col("j", ColumnType::kBlob, 46), col("ts", ColumnType::kTimestamp2)},
                 {0});
  Value f;
  f.kind = Kind::kFloat;
  f.d = static_cast<double>(0.1f);
  Value d;
  d.kind = Kind::kDouble;
  d.d = 0.1 + 0.2;
  Value bit;
  bit.kind = Kind::kBit;
  bit.u = UINT64_MAX;
  Value e;
  e.kind = Kind::kEnum;
  e.u = 2;
  Value st;
  st.kind = Kind::kSet;
  st.u = 5;
  auto row = img({Value::ofInt(1), Value::ofUInt(UINT64_MAX), Value::ofInt(INT64_MIN), f, d,
                  Value::ofText(Kind::kDecimal, "-12345678901234567890.0123456789"),
                  Value::ofText(Kind::kTemporal, "0000-00-00 00:00:00.000"),
                  Value::ofText(Kind::kTemporal, "0000-00-00"),
                  Value::ofText(Kind::kString, "h\xC3\xA9llo \xF0\x9F\x98\x80 '\\\"`"),
                  Value::ofText(Kind::kString, latin), Value::ofText(Kind::kBytes, all), bit, e, st,
                  Value::ofText(Kind::kJson, "{\"k\": \"\xF0\x9F\x98\x80\"}"),
                  Value::ofText(Kind::kTemporal, "2024-01-31 10:00:00")});
  auto a = open(options("vals"));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->apply(txn(1, {rowEvent(ChangeEvent::Op::kInsert, t, std::nullopt, row)})).ok());
  ASSERT_TRUE(a->close().ok());

  EXPECT_EQ(one(*dest_, "SELECT u FROM vals.t"), "18446744073709551615");
  EXPECT_EQ(one(*dest_, "SELECT i FROM vals.t"), "-9223372036854775808");
  EXPECT_EQ(one(*dest_, "SELECT f = CAST(0.1 AS FLOAT) FROM vals.t"), "1");
  EXPECT_EQ(one(*dest_, "SELECT d = 0.1e0 + 0.2e0 FROM vals.t"), "1");
  EXPECT_EQ(one(*dest_, "SELECT dec1 FROM vals.t"), "-12345678901234567890.0123456789");
  EXPECT_EQ(one(*dest_, "SELECT CAST(dt AS CHAR) FROM vals.t"), "0000-00-00 00:00:00.000");
  EXPECT_EQ(one(*dest_, "SELECT CAST(dz AS CHAR) FROM vals.t"), "0000-00-00");
  EXPECT_EQ(one(*dest_, "SELECT HEX(s) FROM vals.t"), "68C3A96C6C6F20F09F988020275C2260");
  std::string latin_hex;
  for (unsigned char c : latin) {
    char buf[3];
    snprintf(buf, sizeof(buf), "%02X", c);
    latin_hex += buf;
  }
  EXPECT_EQ(one(*dest_, "SELECT HEX(l) FROM vals.t"), latin_hex);
  EXPECT_EQ(one(*dest_, "SELECT LENGTH(b) FROM vals.t"), "256");
  auto raw = dest_->queryValue("SELECT b FROM vals.t");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->value_or(""), all);
  EXPECT_EQ(one(*dest_, "SELECT bit1 + 0 FROM vals.t"), "18446744073709551615");
  EXPECT_EQ(one(*dest_, "SELECT e FROM vals.t"), "b");
  EXPECT_EQ(one(*dest_, "SELECT st FROM vals.t"), "x,z");
  EXPECT_EQ(one(*dest_, "SELECT JSON_VALUE(j, '$.k') = _utf8mb4 X'F09F9880' FROM vals.t"), "1");
  EXPECT_EQ(one(*dest_, "SELECT UNIX_TIMESTAMP(ts) FROM vals.t"), "1706695200");
}

// A destination table with a unique key the source's does not have (a DBA added it while the task
// ran): a row that collides on it stops the applier, rolled back, and the other row stays; REPLACE
// would have deleted it. The same by bulk INSERT, by statements, and for a key compared without
// its bytes (case-insensitive: not compacted). Changes the source made under the same unique key
// (values swapped inside a transaction) apply as they did there. Inside the replace window (what
// the full phase's chunks may hold) rows still go by REPLACE.
TEST_F(ApplierTest, ARowThatCollidesOnAnotherUniqueKeyStopsTheApplierAndDeletesNothing) {
  ASSERT_TRUE(dest_->execute("DROP DATABASE IF EXISTS uk; CREATE DATABASE uk").ok());
  ASSERT_TRUE(
      dest_->execute("CREATE TABLE uk.t (id INT PRIMARY KEY, u INT, UNIQUE KEY uu (u))").ok());
  ASSERT_TRUE(dest_
                  ->execute("CREATE TABLE uk.c (name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE "
                            "utf8mb4_general_ci PRIMARY KEY, u INT, UNIQUE KEY uu (u))")
                  .ok());
  ASSERT_TRUE(dest_->execute("INSERT INTO uk.t VALUES (328741, 7), (1, 100), (2, 200)").ok());
  ASSERT_TRUE(dest_->execute("INSERT INTO uk.c VALUES ('x', 7), ('a', 100), ('b', 200)").ok());
  auto t = table("uk", "t", {col("id", ColumnType::kLong), col("u", ColumnType::kLong)}, {0});
  auto c =
      table("uk", "c", {col("name", ColumnType::kVarchar, 45), col("u", ColumnType::kLong)}, {0});
  auto T = [&](int id, int u) { return img({Value::ofInt(id), Value::ofInt(u)}); };
  auto C = [&](const char* name, int u) {
    return img({Value::ofText(Kind::kString, name), Value::ofInt(u)});
  };
  using Op = ChangeEvent::Op;
  int task = 0;
  auto run = [&](bool bulk, std::vector<ChangeEvent> evs, const std::string& window) {
    auto o = options("uk" + std::to_string(++task));
    o.bulk_replace = bulk;
    auto a = sink::MysqlApplier::open(o);
    EXPECT_TRUE(a.ok()) << a.status().toString();
    if (!a.ok()) return a.status();
    if (!window.empty()) {
      EXPECT_TRUE((*a)->addReplaceWindow(window).ok());
    }
    Status st = (*a)->apply(txn(1, std::move(evs)));
    Status closed = (*a)->close();
    return st.ok() ? closed : st;
  };
  const std::string rows_t = "1:100,2:200,328741:7";
  const std::string rows_c = "a:100,b:200,x:7";
  auto rowsOf = [&](const char* tbl, const char* key) {
    return one(*dest_, std::string("SELECT GROUP_CONCAT(") + key + ", ':', u ORDER BY " + key +
                           ") FROM uk." + tbl);
  };
  for (bool bulk : {true, false}) {
    for (const auto& ev : {rowEvent(Op::kInsert, t, std::nullopt, T(10, 7)),
                           rowEvent(Op::kUpdate, t, T(1, 100), T(1, 7)),
                           rowEvent(Op::kInsert, c, std::nullopt, C("y", 7)),
                           rowEvent(Op::kUpdate, c, C("a", 100), C("a", 7))}) {
      Status st = run(bulk, {ev}, "");
      ASSERT_FALSE(st.ok()) << bulk;
      EXPECT_NE(st.message().find("(error 1062)"), std::string::npos) << st.toString();
      EXPECT_NE(st.message().find("for key 'uu'"), std::string::npos) << st.toString();
      EXPECT_NE(st.message().find("a row collides at the destination with another row on that "
                                  "unique key"),
                std::string::npos)
          << st.toString();
      EXPECT_FALSE(st.isRetryable());
      EXPECT_EQ(rowsOf("t", "id"), rows_t) << "nothing deleted, nothing written";
      EXPECT_EQ(rowsOf("c", "name"), rows_c) << "nothing deleted, nothing written";
    }
    // u swapped between two rows through a third value, as a source with the same key does it:
    // row 1 (and 'a') holds u1, row 2 (and 'b') u2; then the other way round.
    auto swap = [&](int u1, int u2) {
      return run(bulk,
                 {rowEvent(Op::kUpdate, t, T(1, u1), T(1, 300)),
                  rowEvent(Op::kUpdate, t, T(2, u2), T(2, u1)),
                  rowEvent(Op::kUpdate, t, T(1, 300), T(1, u2)),
                  rowEvent(Op::kUpdate, c, C("a", u1), C("a", 300)),
                  rowEvent(Op::kUpdate, c, C("b", u2), C("b", u1)),
                  rowEvent(Op::kUpdate, c, C("a", 300), C("a", u2))},
                 "");
    };
    Status st = swap(100, 200);
    ASSERT_TRUE(st.ok()) << st.toString();
    EXPECT_EQ(rowsOf("t", "id"), "1:200,2:100,328741:7");
    EXPECT_EQ(rowsOf("c", "name"), "a:200,b:100,x:7");
    st = swap(200, 100);
    ASSERT_TRUE(st.ok()) << st.toString();
    EXPECT_EQ(rowsOf("t", "id"), rows_t);
    EXPECT_EQ(rowsOf("c", "name"), rows_c);
  }
  // Inside the replace window: REPLACE, which takes the other row away (the full phase's mix of
  // snapshots converges that way).
  Status st = run(true, {rowEvent(Op::kInsert, t, std::nullopt, T(10, 7))}, "0-1-1");
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(rowsOf("t", "id"), "1:100,2:200,10:7");
  ASSERT_TRUE(dest_->execute("DROP DATABASE uk").ok());
}

// A row larger than the destination's max_allowed_packet: the server would drop the connection
// ("gone away", which the task retries for its whole retry window without saying why). Whether
// the row goes by bulk or by a statement, the applier fails naming max_allowed_packet, not
// retryable, and writes nothing.
TEST_F(ApplierTest, ARowLargerThanTheDestinationsMaxAllowedPacketFailsNamingIt) {
  ASSERT_TRUE(dest_->execute("DROP DATABASE IF EXISTS mp; CREATE DATABASE mp").ok());
  ASSERT_TRUE(dest_->execute("CREATE TABLE mp.t (id INT PRIMARY KEY, b LONGBLOB)").ok());
  const std::string packet = one(*dest_, "SELECT @@GLOBAL.max_allowed_packet");
  cluster_->rootSql("dest", "SET GLOBAL max_allowed_packet = 1048576");
  auto t = table("mp", "t", {col("id", ColumnType::kLong), col("b", ColumnType::kBlob, 63)}, {0});
  const std::string big(1536 * 1024, 'x');
  for (bool bulk : {true, false}) {
    auto o = options(bulk ? "mp-bulk" : "mp-text");
    o.bulk_replace = bulk;
    auto a = sink::MysqlApplier::open(o);
    ASSERT_TRUE(a.ok()) << a.status().toString();
    Status st =
        (*a)->apply(txn(1, {rowEvent(ChangeEvent::Op::kInsert, t, std::nullopt,
                                     img({Value::ofInt(1), Value::ofText(Kind::kBytes, big)}))}));
    if (st.ok()) st = (*a)->close();
    EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition) << bulk << ": " << st.toString();
    EXPECT_NE(st.message().find("max_allowed_packet"), std::string::npos) << st.toString();
    EXPECT_EQ(one(*dest_, "SELECT COUNT(*) FROM mp.t"), "0");
  }
  cluster_->rootSql("dest", "SET GLOBAL max_allowed_packet = " + packet);
  ASSERT_TRUE(dest_->execute("DROP DATABASE mp").ok());
}

// A large transaction's rows go by bulk INSERT (batch_sql.h): prepared, with arrays of binary
// parameters. The same changes by statements only (bulk_replace off) and by bulk INSERT
// must leave the same rows, for every kind of value a parameter carries: strings of character
// sets whose second byte may be a backslash (sjis, gbk, big5), latin1, ucs2, a latin1 source
// column whose destination is utf8mb4 (converted), bytes of every value, JSON, DOUBLE, FLOAT,
// DECIMAL, DATETIME, TIMESTAMP, TIME, YEAR, BIGINT UNSIGNED, ENUM/SET by name, NULLs; beside what
// still goes by statements in its place (ENUM/SET by index, BIT, a partial image); with a string
// key, a second unique key, a key that moves, composite DATETIME + VARBINARY keys. A destination
// that lacks rows the source updates gets them written whole.
TEST_F(ApplierTest, StreamedPiecesByBulkReplaceStoreWhatStatementsStore) {
  const std::string cols =
      "(id INT PRIMARY KEY, s VARCHAR(300) CHARACTER SET utf8mb4 NULL, l VARCHAR(300) CHARACTER "
      "SET latin1, sj VARCHAR(100) CHARACTER SET sjis, g VARCHAR(100) CHARACTER SET gbk, b5 "
      "VARCHAR(100) CHARACTER SET big5, uc VARCHAR(100) CHARACTER SET ucs2, b VARBINARY(300), bl "
      "BLOB, e ENUM('a','b','c'), st SET('x','y','z'), j JSON, f DOUBLE, fl FLOAT, dec1 "
      "DECIMAL(30,10), dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), y YEAR, n INT, un BIGINT "
      "UNSIGNED, cv VARCHAR(300) CHARACTER SET utf8mb4)";
  const char* dbs[] = {"bu_replace", "bu_bulk", "bu_missing"};
  for (const char* db : dbs) {
    const std::string d = db;
    ASSERT_TRUE(dest_->execute("CREATE DATABASE " + d).ok());
    ASSERT_TRUE(dest_->execute("CREATE TABLE " + d + ".k " + cols).ok());
    ASSERT_TRUE(
        dest_->execute("CREATE TABLE " + d + ".bt (id INT PRIMARY KEY, x BIT(8), n INT)").ok());
    ASSERT_TRUE(dest_
                    ->execute("CREATE TABLE " + d +
                              ".sk (name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin "
                              "PRIMARY KEY, n INT)")
                    .ok());
    ASSERT_TRUE(
        dest_->execute("CREATE TABLE " + d + ".u2 (id INT PRIMARY KEY, u INT UNIQUE, n INT)").ok());
    ASSERT_TRUE(
        dest_
            ->execute("CREATE TABLE " + d +
                      ".dk (at DATETIME(3), bin VARBINARY(16), n INT, PRIMARY KEY (at, bin))")
            .ok());
  }
  const std::string bytes = bytesFrom(0);
  const std::string latin = bytesFrom(32);
  auto text = [](Kind kind, std::string v) { return Value::ofText(kind, std::move(v)); };
  // Row id of table k in version n.
  auto K = [&](int id, int n) {
    Value e = text(Kind::kEnum, n % 2 == 0 ? "b" : "c");
    e.u = n % 2 == 0 ? 2 : 3;
    Value st = text(Kind::kSet, n % 2 == 0 ? "x,z" : "y");
    st.u = n % 2 == 0 ? 5 : 2;
    Value f;
    f.kind = Kind::kDouble;
    f.d = 0.1 * id + n;
    Value fl;
    fl.kind = Kind::kFloat;
    fl.d = static_cast<double>(0.3f * static_cast<float>(id + n));
    std::string tag = std::to_string(id) + "." + std::to_string(n);
    Value un = Value::ofUInt(18446744073709551615ull - static_cast<uint64_t>(id + n));
    return img({Value::ofInt(id),
                text(Kind::kString, "h\xC3\xA9llo\t\\N\n\\ \xF0\x9F\x98\x80 " + tag),
                text(Kind::kString, latin + tag),
                text(Kind::kString, "\x95\x5C\x83\x5C" + tag),
                text(Kind::kString, "\xD6\x5C" + tag),
                text(Kind::kString, "\xA5\x5C" + tag),
                text(Kind::kString, std::string("\x00\x41\x00\x5C\x30\x42", 6)),
                text(Kind::kBytes, bytes.substr(static_cast<size_t>(id + n))),
                text(Kind::kBytes, bytes + tag),
                e,
                st,
                text(Kind::kJson, "{\"k\": \"\xF0\x9F\x98\x80\", \"t\": \"\\t" + tag + "\"}"),
                f,
                fl,
                text(Kind::kDecimal, "-123.45678" + std::to_string(n % 10)),
                text(Kind::kTemporal, "2024-02-30 10:00:00.12345" + std::to_string(n % 10)),
                text(Kind::kTemporal, "2024-01-31 10:00:0" + std::to_string(n % 10) + ".120"),
                text(Kind::kTemporal, "-838:59:5" + std::to_string(n % 10) + ".25"),
                Value::ofInt(2000 + n),
                Value::ofInt(n),
                un,
                text(Kind::kString, latin + tag)});
  };
  auto k = [&](const std::string& db) {
    return table(db, "k",
                 {col("id", ColumnType::kLong),         col("s", ColumnType::kVarchar, 45),
                  col("l", ColumnType::kVarchar, 8),    col("sj", ColumnType::kVarchar, 13),
                  col("g", ColumnType::kVarchar, 28),   col("b5", ColumnType::kVarchar, 1),
                  col("uc", ColumnType::kVarchar, 35),  col("b", ColumnType::kVarchar, 63),
                  col("bl", ColumnType::kBlob, 63),     col("e", ColumnType::kString, 45),
                  col("st", ColumnType::kString, 45),   col("j", ColumnType::kBlob, 46),
                  col("f", ColumnType::kDouble),        col("fl", ColumnType::kFloat),
                  col("dec1", ColumnType::kNewDecimal), col("dt", ColumnType::kDateTime2),
                  col("ts", ColumnType::kTimestamp2),   col("tm", ColumnType::kTime2),
                  col("y", ColumnType::kYear),          col("n", ColumnType::kLong),
                  col("un", ColumnType::kLongLong),     col("cv", ColumnType::kVarchar, 8)},
                 {0});
  };
  auto two = [&](const std::string& db, const char* name, ColumnType key, uint16_t collation) {
    return table(db, name,
                 {col(name[0] == 's' ? "name" : "id", key, collation), col("n", ColumnType::kLong)},
                 {0});
  };
  using Op = ChangeEvent::Op;
  Value bit;
  bit.kind = Kind::kBit;
  auto bitRow = [&](int id, uint64_t x) {
    Value v = bit;
    v.u = x;
    v.s = std::string(1, static_cast<char>(x));
    return img({Value::ofInt(id), v, Value::ofInt(static_cast<int64_t>(x))});
  };
  auto dkRow = [&](int i, int n) {
    return img({text(Kind::kTemporal, "2024-05-0" + std::to_string(i) + " 01:02:03.456"),
                text(Kind::kBytes, std::string("\x00\xFF", 2) + std::to_string(i)),
                Value::ofInt(n)});
  };
  // The tables of database db: k, bt, sk, u2, dk.
  auto tables = [&](const std::string& db) {
    auto ints = [](std::vector<const char*> names) {
      std::vector<mysql::ColumnInfo> cols;
      for (const char* n : names) cols.push_back(col(n, ColumnType::kLong));
      return cols;
    };
    auto bits = ints({"id", "x", "n"});
    bits[1].type = ColumnType::kBit;
    auto dk = table(db, "dk",
                    {col("at", ColumnType::kDateTime2), col("bin", ColumnType::kVarchar, 63),
                     col("n", ColumnType::kLong)},
                    {0, 1});
    return std::make_tuple(k(db), table(db, "bt", bits, {0}),
                           two(db, "sk", ColumnType::kVarchar, 46),
                           table(db, "u2", ints({"id", "u", "n"}), {0}), dk);
  };
  // Transaction 1 (whole): the rows. Transaction 2 (in pieces of 8): updates.
  auto inserts = [&](const std::string& db) {
    auto [kt, bt, sk, u2, dk] = tables(db);
    std::vector<ChangeEvent> evs;
    for (int id = 1; id <= 40; ++id)
      evs.push_back(rowEvent(Op::kInsert, kt, std::nullopt, K(id, 0)));
    for (int id = 1; id <= 3; ++id)
      evs.push_back(rowEvent(Op::kInsert, bt, std::nullopt, bitRow(id, 0x5C)));
    for (int i = 1; i <= 3; ++i) {
      evs.push_back(rowEvent(Op::kInsert, sk, std::nullopt,
                             img({text(Kind::kString, "k" + std::to_string(i)), Value::ofInt(0)})));
      evs.push_back(rowEvent(Op::kInsert, u2, std::nullopt,
                             img({Value::ofInt(i), Value::ofInt(10 + i), Value::ofInt(0)})));
      evs.push_back(rowEvent(Op::kInsert, dk, std::nullopt, dkRow(i, 0)));
    }
    return evs;
  };
  auto updates = [&](const std::string& db) {
    auto [kt, bt, sk, u2, dk] = tables(db);
    std::vector<ChangeEvent> evs;
    for (int id = 1; id <= 39; ++id) {
      auto after = K(id, 1);
      if (id == 9) {  // NULLs where the table allows them
        for (size_t i = 1; i < after.values.size(); ++i) after.values[i] = Value::null();
      }
      if (id == 4) {  // ENUM and SET by index (names unknown)
        after.values[9] = Value{};
        after.values[9].kind = Kind::kEnum;
        after.values[9].u = 1;
        after.values[10] = Value{};
        after.values[10].kind = Kind::kSet;
        after.values[10].u = 4;
      }
      evs.push_back(rowEvent(Op::kUpdate, kt, K(id, 0), after));
    }
    evs.push_back(rowEvent(Op::kUpdate, kt, K(40, 0), K(41, 1)));  // the key moves
    for (int id = 1; id <= 3; ++id)
      evs.push_back(rowEvent(Op::kUpdate, bt, bitRow(id, 0x5C), bitRow(id, 0x81)));
    for (int i = 1; i <= 3; ++i) {
      evs.push_back(rowEvent(Op::kUpdate, sk,
                             img({text(Kind::kString, "k" + std::to_string(i)), Value::ofInt(0)}),
                             img({text(Kind::kString, "k" + std::to_string(i)), Value::ofInt(i)})));
      evs.push_back(rowEvent(Op::kUpdate, u2,
                             img({Value::ofInt(i), Value::ofInt(10 + i), Value::ofInt(0)}),
                             img({Value::ofInt(i), Value::ofInt(20 + i), Value::ofInt(i)})));
      evs.push_back(rowEvent(Op::kUpdate, dk, dkRow(i, 0), dkRow(i, i)));
    }
    // Row 1 goes, then a new row takes its unique u.
    evs.push_back(rowEvent(
        Op::kDelete, u2, img({Value::ofInt(1), Value::ofInt(21), Value::ofInt(1)}), std::nullopt));
    evs.push_back(rowEvent(Op::kInsert, u2, std::nullopt,
                           img({Value::ofInt(10), Value::ofInt(21), Value::ofInt(9)})));
    auto partial_before = K(3, 1);
    partial_before.present.assign(partial_before.values.size(), false);
    partial_before.present[0] = true;
    auto partial_after = K(3, 7);
    partial_after.present.assign(partial_after.values.size(), false);
    partial_after.present[19] = true;
    evs.push_back(rowEvent(Op::kUpdate, kt, partial_before, partial_after));
    return evs;
  };
  auto inPieces = [](std::vector<ChangeEvent> evs) {
    std::vector<Transaction> out;
    for (size_t i = 0; i < evs.size(); i += 8) {
      std::vector<ChangeEvent> part(evs.begin() + static_cast<long>(i),
                                    evs.begin() + static_cast<long>(std::min(evs.size(), i + 8)));
      Transaction t = txn(2, std::move(part));
      t.first_piece = i == 0;
      t.last_piece = i + 8 >= evs.size();
      out.push_back(std::move(t));
    }
    return out;
  };
  auto prepares = [&] {
    return cluster_->rootSql("dest", "SHOW GLOBAL STATUS LIKE 'Com_stmt_prepare'");
  };
  for (const char* db : dbs) {
    auto o = options(db);
    const std::string before = prepares();
    o.bulk_replace = std::string(db) != "bu_replace";
    auto a = open(o);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->apply(txn(1, inserts(db))).ok());
    if (std::string(db) == "bu_missing") {
      // The destination lost rows the source then updates: they are written whole.
      ASSERT_TRUE(a->close().ok());
      ASSERT_TRUE(dest_->execute("DELETE FROM bu_missing.k WHERE id IN (5, 17)").ok());
      ASSERT_TRUE(dest_->execute("DELETE FROM bu_missing.dk WHERE n = 0 LIMIT 1").ok());
      a = open(o);
      ASSERT_NE(a, nullptr);
    }
    for (Transaction& p : inPieces(updates(db))) {
      Status st = a->apply(std::move(p));
      ASSERT_TRUE(st.ok()) << db << ": " << st.toString();
    }
    Status st = a->close();
    ASSERT_TRUE(st.ok()) << db << ": " << st.toString();
    if (std::string(db) == "bu_replace") {
      EXPECT_EQ(prepares(), before) << "no bulk INSERT without bulk_replace";
    } else {
      EXPECT_NE(prepares(), before) << db << ": the rows went by bulk INSERT";
    }
  }
  // The reads a streamed piece's rows get ahead of it (sink/row_prefetcher.h) are valid SQL
  // on the server and find the rows they name, whatever the key's type: here the rows the second
  // transaction's updates found that are still there (k's 40 moved to 41, u2's 1 was deleted;
  // the partial update of k's 3 is a run, and a read, of its own).
  {
    std::vector<ChangeEvent> evs = updates("bu_replace");
    std::vector<std::shared_ptr<const sink::TableKeys>> keys;
    std::map<const mysql::TableInfo*, std::shared_ptr<const sink::TableKeys>> by_table;
    for (const ChangeEvent& ev : evs) {
      auto& k = by_table[ev.table_info.get()];
      if (k == nullptr) {
        auto made = std::make_shared<sink::TableKeys>();
        made->identity = ev.table_info->primary_key;
        k = std::move(made);
      }
      keys.push_back(k);
    }
    auto reads = sink::RowPrefetcher::readsFor(evs, keys);
    EXPECT_EQ(reads.size(), 2u + 3 * 3 + 2) << "k, bt, sk, u2 and dk by turns, u2's delete, k";
    int found = 0;
    for (const std::string& sql : reads) {
      auto r = dest_->query(sql);
      ASSERT_TRUE(r.ok()) << sql << ": " << r.status().toString();
      found += std::stoi(r->rows.at(0).at(0).value_or("0"));
    }
    EXPECT_EQ(found, 39 + 3 + 3 + 2 + 3 + 1);
  }
  for (const char* t : {"k", "bt", "sk", "u2", "dk"}) {
    auto sum = [&](const std::string& db) {
      auto r = dest_->query("CHECKSUM TABLE " + db + "." + t);
      EXPECT_TRUE(r.ok());
      return r.ok() && !r->rows.empty() ? r->rows[0][1].value_or("NULL") : "";
    };
    EXPECT_EQ(sum("bu_bulk"), sum("bu_replace")) << t;
    EXPECT_EQ(sum("bu_missing"), sum("bu_replace")) << t;
  }
  EXPECT_EQ(one(*dest_, "SELECT COUNT(*) FROM bu_bulk.k"), "40");
  EXPECT_EQ(one(*dest_, "SELECT COUNT(*) FROM bu_missing.k WHERE n = 1"), "38");
  EXPECT_EQ(one(*dest_, "SELECT n FROM bu_bulk.k WHERE id = 3"), "7");
  EXPECT_EQ(one(*dest_, "SELECT CONCAT(e, '/', st) FROM bu_bulk.k WHERE id = 4"), "a/z");
  EXPECT_EQ(one(*dest_, "SELECT CONCAT(e, '/', st) FROM bu_bulk.k WHERE id = 2"), "c/y");
  EXPECT_EQ(one(*dest_, "SELECT HEX(sj) FROM bu_bulk.k WHERE id = 7"), "955C835C372E31");
  EXPECT_EQ(one(*dest_, "SELECT HEX(RIGHT(cv, 5)) FROM bu_bulk.k WHERE id = 30"), "C3BF33302E31");
  ASSERT_TRUE(dest_->execute("SET time_zone = '+00:00'").ok());
  EXPECT_EQ(one(*dest_, "SELECT CONCAT_WS(',', un, y, tm, ts) FROM bu_bulk.k WHERE id = 1"),
            "18446744073709551613,2001,-838:59:51.25,2024-01-31 10:00:01.120");
  EXPECT_EQ(one(*dest_, "SELECT COUNT(*) FROM bu_bulk.k WHERE id = 9 AND s IS NULL AND un IS NULL"),
            "1");
  EXPECT_EQ(one(*dest_, "SELECT GROUP_CONCAT(n ORDER BY n) FROM bu_missing.dk"), "1,2,3");
  EXPECT_EQ(one(*dest_, "SELECT GROUP_CONCAT(id ORDER BY id) FROM bu_bulk.u2"), "2,3,10");
}

TEST_F(ApplierTest, RowOpsMappingAndNoKeyTables) {
  ASSERT_TRUE(dest_->execute("CREATE DATABASE ops2").ok());
  ASSERT_TRUE(
      dest_->execute("CREATE TABLE ops2.users (id INT PRIMARY KEY, name VARCHAR(20))").ok());
  ASSERT_TRUE(dest_->execute("CREATE TABLE ops2.nokey (a INT, b VARCHAR(10))").ok());
  pipeline::DatabaseSelection sel;
  sel.database = "ops";
  sel.rename_to = "ops2";
  pipeline::TableSelection users;
  users.name = "people";
  users.rename_to = "users";
  users.columns = {"id", "name"};
  users.where = "id < 100";
  pipeline::TableSelection nokey;
  nokey.name = "nokey";
  nokey.dml.del = false;
  sel.tables = {users, nokey};
  auto m = pipeline::Mapping::create({sel});
  ASSERT_TRUE(m.ok()) << m.status().toString();
  auto mapping = std::make_shared<pipeline::Mapping>(std::move(*m));

  auto people = table("ops", "people",
                      {col("id", ColumnType::kLong), col("name", ColumnType::kVarchar, 45),
                       col("secret", ColumnType::kLong)},
                      {0});
  auto nk =
      table("ops", "nokey", {col("a", ColumnType::kLong), col("b", ColumnType::kVarchar, 45)}, {});
  auto P = [&](int id, const char* name) {
    return img({Value::ofInt(id), Value::ofText(Kind::kString, name), Value::ofInt(7)});
  };
  auto N = [&](int a, const char* b) {
    return img({Value::ofInt(a), Value::ofText(Kind::kString, b)});
  };
  using Op = ChangeEvent::Op;
  auto a = open(options("ops"), mapping);
  ASSERT_NE(a, nullptr);
  uint64_t s = 0;
  ASSERT_TRUE(a->apply(txn(++s, {rowEvent(Op::kInsert, people, std::nullopt, P(1, "ann")),
                                 rowEvent(Op::kInsert, people, std::nullopt, P(2, "bob")),
                                 rowEvent(Op::kInsert, people, std::nullopt, P(500, "filtered"))}))
                  .ok());
  ASSERT_TRUE(
      a->apply(txn(++s, {rowEvent(Op::kUpdate, people, P(1, "ann"), P(1, "anne")),
                         rowEvent(Op::kUpdate, people, P(2, "bob"), P(200, "bob moved out")),
                         rowEvent(Op::kUpdate, people, P(500, "x"), P(5, "moved in"))}))
          .ok());
  ASSERT_TRUE(a->apply(txn(++s, {rowEvent(Op::kInsert, nk, std::nullopt, N(1, "x")),
                                 rowEvent(Op::kInsert, nk, std::nullopt, N(1, "x")),
                                 rowEvent(Op::kInsert, nk, std::nullopt, N(2, "y"))}))
                  .ok());
  ASSERT_TRUE(a->apply(txn(++s, {rowEvent(Op::kUpdate, nk, N(1, "x"), N(1, "z")),
                                 rowEvent(Op::kDelete, nk, N(2, "y"), std::nullopt)}))
                  .ok());
  ASSERT_TRUE(a->apply(txn(++s, {rowEvent(Op::kInsert, people, std::nullopt, P(3, "cy")),
                                 rowEvent(Op::kDelete, people, P(3, "cy"), std::nullopt)}))
                  .ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(one(*dest_, "SELECT GROUP_CONCAT(id, ':', name ORDER BY id) FROM ops2.users"),
            "1:anne,5:moved in");
  // Deletes are not selected for nokey: (2,'y') stays; one of the two (1,'x') was updated.
  EXPECT_EQ(one(*dest_, "SELECT GROUP_CONCAT(a, b ORDER BY a, b) FROM ops2.nokey"), "1x,1z,2y");
  auto cp =
      dest_->queryValue("SELECT GROUP_CONCAT(applied) FROM dts_meta.checkpoint WHERE task='ops'");
  ASSERT_TRUE(cp.ok());
  auto applied = mysql::GtidSet::parse(cp->value_or(""));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->toString(), "0:1-5");
  // Reopening resumes after everything.
  auto b = open(options("ops"), mapping);
  ASSERT_NE(b, nullptr);
  // While b is open, a second applier of the same task is refused (fencing).
  auto o2 = options("ops");
  o2.fence_timeout = std::chrono::seconds(1);
  auto second = sink::MysqlApplier::open(o2);
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable) << second.status().toString();
  EXPECT_EQ(b->resumeGtid(), "0-1-5");
  // A transaction already applied is skipped (no duplicate no-key row).
  ASSERT_TRUE(b->apply(txn(3, {rowEvent(Op::kInsert, nk, std::nullopt, N(9, "dup"))})).ok());
  ASSERT_TRUE(b->close().ok());
  EXPECT_EQ(one(*dest_, "SELECT COUNT(*) FROM ops2.nokey WHERE a=9"), "0");
  EXPECT_EQ(b->stats().transactions_skipped, 1u);
}

// Counters: transaction s increments counter (s % keys) from its before to its after value, and
// appends a row to a key-less log table (a doubled transaction would show as a duplicate).
struct CounterWorkload {
  static constexpr int kKeys = 7;
  std::shared_ptr<mysql::TableInfo> counters =
      table("ctr", "counters", {col("k", ColumnType::kLong), col("v", ColumnType::kLong)}, {0});
  std::shared_ptr<mysql::TableInfo> log =
      table("ctr", "log", {col("seq", ColumnType::kLong), col("k", ColumnType::kLong)}, {});
  Transaction make(uint64_t s) const {
    int k = static_cast<int>(s % kKeys);
    int64_t before = static_cast<int64_t>((s - 1) / kKeys);  // increments of key k so far
    std::vector<ChangeEvent> evs;
    if (before == 0) {
      evs.push_back(rowEvent(ChangeEvent::Op::kInsert, counters, std::nullopt,
                             img({Value::ofInt(k), Value::ofInt(1)})));
    } else {
      evs.push_back(rowEvent(ChangeEvent::Op::kUpdate, counters,
                             img({Value::ofInt(k), Value::ofInt(before)}),
                             img({Value::ofInt(k), Value::ofInt(before + 1)})));
    }
    evs.push_back(rowEvent(ChangeEvent::Op::kInsert, log, std::nullopt,
                           img({Value::ofInt(static_cast<int64_t>(s)), Value::ofInt(k)})));
    return txn(s, std::move(evs));
  }
};

void createCounterTables(mysql::Connection& c) {
  ASSERT_TRUE(c.execute("DROP DATABASE IF EXISTS ctr").ok());
  ASSERT_TRUE(c.execute("CREATE DATABASE ctr").ok());
  ASSERT_TRUE(c.execute("CREATE TABLE ctr.counters (k INT PRIMARY KEY, v INT NOT NULL)").ok());
  ASSERT_TRUE(c.execute("CREATE TABLE ctr.log (seq INT NOT NULL, k INT NOT NULL)").ok());
}

void checkCounters(mysql::Connection& c, uint64_t n) {
  EXPECT_EQ(one(c, "SELECT COUNT(*) FROM ctr.log"), std::to_string(n));
  EXPECT_EQ(one(c, "SELECT COUNT(DISTINCT seq) FROM ctr.log"), std::to_string(n));
  for (int k = 0; k < CounterWorkload::kKeys; ++k) {
    uint64_t expect = 0;
    for (uint64_t s = 1; s <= n; ++s)
      expect += (s % CounterWorkload::kKeys == static_cast<uint64_t>(k));
    EXPECT_EQ(
        one(c, "SELECT IFNULL((SELECT v FROM ctr.counters WHERE k=" + std::to_string(k) + "), 0)"),
        std::to_string(expect))
        << "key " << k;
  }
}

TEST_F(ApplierTest, ParallelApplyKeepsPerKeyOrder) {
  createCounterTables(*dest_);
  auto o = options("parallel", 4);
  o.batch_transactions = 16;
  auto a = open(o);
  ASSERT_NE(a, nullptr);
  CounterWorkload w;
  const uint64_t n = 3000;
  for (uint64_t s = 1; s <= n; ++s) ASSERT_TRUE(a->apply(w.make(s)).ok());
  ASSERT_TRUE(a->close().ok());
  checkCounters(*dest_, n);
  auto st = a->stats();
  EXPECT_EQ(st.transactions_applied, n);
  EXPECT_EQ(st.rows_applied, 2 * n);
}

// Transfers between random accounts: many transactions touch rows that two different workers
// hold pending, so they must wait for one of those to commit. Each update carries the
// balance it expects (before image) and sets the new one, so any reordering of two transactions
// on an account leaves a wrong final balance.
TEST_F(ApplierTest, TransactionsSpanningTwoWorkersKeepOrder) {
  ASSERT_TRUE(dest_->execute("DROP DATABASE IF EXISTS bank").ok());
  ASSERT_TRUE(dest_->execute("CREATE DATABASE bank").ok());
  ASSERT_TRUE(
      dest_->execute("CREATE TABLE bank.acct (id INT PRIMARY KEY, bal BIGINT NOT NULL)").ok());
  auto acct =
      table("bank", "acct", {col("id", ColumnType::kLong), col("bal", ColumnType::kLongLong)}, {0});
  constexpr int kAccounts = 400;
  std::vector<int64_t> bal(kAccounts, 1000);
  auto o = options("transfers", 4);
  o.batch_transactions = 8;
  auto a = open(o);
  ASSERT_NE(a, nullptr);
  uint64_t seq = 0;
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(a->apply(txn(++seq, {rowEvent(ChangeEvent::Op::kInsert, acct, std::nullopt,
                                              img({Value::ofInt(i), Value::ofInt(1000)}))}))
                    .ok());
  }
  std::mt19937 rng(7);
  for (int n = 0; n < 4000; ++n) {
    int from = static_cast<int>(rng() % kAccounts), to = static_cast<int>(rng() % kAccounts);
    if (from == to) continue;
    int64_t amount = 1 + static_cast<int64_t>(rng() % 9);
    std::vector<ChangeEvent> evs;
    for (auto [id, delta] : {std::pair{from, -amount}, std::pair{to, amount}}) {
      evs.push_back(rowEvent(ChangeEvent::Op::kUpdate, acct,
                             img({Value::ofInt(id), Value::ofInt(bal[id])}),
                             img({Value::ofInt(id), Value::ofInt(bal[id] + delta)})));
      bal[id] += delta;
    }
    ASSERT_TRUE(a->apply(txn(++seq, std::move(evs))).ok());
  }
  ASSERT_TRUE(a->close().ok());
  for (int i = 0; i < kAccounts; ++i) {
    EXPECT_EQ(one(*dest_, "SELECT bal FROM bank.acct WHERE id = " + std::to_string(i)),
              std::to_string(bal[i]))
        << "account " << i;
  }
  auto st = a->stats();
  EXPECT_EQ(st.transactions_applied, seq);
  EXPECT_GT(st.waits_conflict, 0u)
      << "no transaction conflicted with two workers: the test did not test that";
  EXPECT_EQ(st.waits_queue_full, 0u);
  // Row changes per source table, for `dts status`: the inserts and two updates per transfer.
  auto changes = a->changesByTable();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].database, "bank");
  EXPECT_EQ(changes[0].table, "acct");
  EXPECT_EQ(changes[0].rows, kAccounts + 2 * (seq - kAccounts));
  EXPECT_EQ(changes[0].rows, st.rows_applied);
}

// The stream resumes where resumePosition() says (MariaDB position) and the applier skips what it
// has; killed with SIGKILL at random instants, nothing is lost or doubled.
void runChild(const sink::ApplierOptions& o, uint64_t n) {
  auto a = sink::MysqlApplier::open(o);
  if (!a.ok()) _exit(2);
  uint64_t from = 1;
  std::string pos = resumeText(**a);
  if (!pos.empty()) from = std::stoull(pos.substr(pos.rfind('-') + 1)) + 1;
  CounterWorkload w;
  for (uint64_t s = from; s <= n; ++s) {
    if (!(*a)->apply(w.make(s)).ok()) _exit(3);
  }
  if (!(*a)->close().ok()) _exit(4);
  _exit(0);
}

TEST_F(ApplierTest, KillNineAtRandomInstantsNeitherLosesNorDoubles) {
  createCounterTables(*dest_);
  auto o = options("killme", 4);
  o.batch_transactions = 8;
  const uint64_t n = 60000;
  std::mt19937 rng(12345);
  sink::CheckpointStore store("dts_meta", "killme");
  // Kill at random instants until at least 5 kills landed inside one run; a run that finishes
  // first is checked and started over (so the test does not depend on the machine's speed).
  int kills = 0;
  while (kills < 5) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) runChild(o, n);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 300));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed: " << status;
      checkCounters(*dest_, n);
      createCounterTables(*dest_);
      sink::MysqlDestinationSession session(*dest_);
      ASSERT_TRUE(store.clear(session).ok());
      kills = 0;
      continue;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++kills;
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) runChild(o, n);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  checkCounters(*dest_, n);
}

TEST_F(ApplierTest, DdlIsRenamedAndItsReplayIsSafe) {
  pipeline::DatabaseSelection sel;
  sel.database = "src";
  sel.rename_to = "dst";
  auto m = pipeline::Mapping::create({sel});
  ASSERT_TRUE(m.ok());
  auto mapping = std::make_shared<pipeline::Mapping>(std::move(*m));
  auto o = options("ddl");
  {
    auto a = open(o, mapping);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->apply(ddlTxn(1, "", "CREATE DATABASE src")).ok());
    ASSERT_TRUE(a->apply(ddlTxn(2, "src", "CREATE TABLE t (id INT PRIMARY KEY)")).ok());
    auto t = table("src", "t", {col("id", ColumnType::kLong)}, {0});
    ASSERT_TRUE(a->apply(txn(3, {rowEvent(ChangeEvent::Op::kInsert, t, std::nullopt,
                                          img({Value::ofInt(1)}))}))
                    .ok());
    ASSERT_TRUE(a->close().ok());
  }
  EXPECT_EQ(one(*dest_, "SELECT COUNT(*) FROM dst.t"), "1");
  // Simulate a crash right after an ALTER ran but before its GTID was recorded: the statement is
  // applied, the checkpoint only carries the pending mark.
  ASSERT_TRUE(dest_->execute("ALTER TABLE dst.t ADD COLUMN x INT").ok());
  sink::CheckpointStore store("dts_meta", "ddl");
  auto applied = mysql::GtidSet::parse("0:1-3");
  ASSERT_TRUE(dest_
                  ->execute(store.upsertSql(
                      0, *applied,
                      *mysql::GtidPosition::parse("0-1-3", mysql::GtidFlavor::kMariaDb), "0-1-4"))
                  .ok());
  {
    auto a = open(o, mapping);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->checkpoint().pending_ddl, "0-1-4");
    auto st = a->apply(ddlTxn(4, "src", "ALTER TABLE t ADD COLUMN x INT"));
    ASSERT_TRUE(st.ok()) << st.toString();
    ASSERT_TRUE(a->apply(ddlTxn(5, "src", "ALTER TABLE t ADD COLUMN y INT")).ok());
    ASSERT_TRUE(a->close().ok());
  }
  EXPECT_EQ(
      one(*dest_,
          "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='dst' AND TABLE_NAME='t'"),
      "3");
  // Without the pending mark, a failing DDL is an error, never silently skipped.
  {
    auto a = open(o, mapping);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->resumeGtid(), "0-1-5");
    auto st = a->apply(ddlTxn(6, "src", "ALTER TABLE t ADD COLUMN y INT"));
    EXPECT_FALSE(st.ok());
    a.reset();  // one applier per task at a time
    // A DDL dts cannot place is refused with a clear error.
    auto b = open(o, mapping);
    ASSERT_NE(b, nullptr);
    auto st2 = b->apply(ddlTxn(6, "src", "CREATE SEQUENCE s"));
    EXPECT_EQ(st2.code(), Status::Code::kUnsupported) << st2.toString();
  }
}

}  // namespace
}  // namespace dts::testing
