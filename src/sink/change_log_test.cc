#include "sink/change_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/vector_state_for_tests.h"
#include "sink/change_formats.h"

namespace dts::sink {
namespace {

namespace fs = std::filesystem;
using pipeline::ChangeEvent;
using pipeline::Transaction;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("dts_change_log_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

mysql::ColumnInfo column(std::string name, mysql::ColumnType type, std::string column_type,
                         uint16_t collation = 0) {
  mysql::ColumnInfo c;
  c.name = std::move(name);
  c.type = type;
  c.column_type = std::move(column_type);
  c.collation = collation;
  return c;
}

// shop.orders (id INT PRIMARY KEY, note VARCHAR(200)).
std::shared_ptr<const mysql::TableInfo> table() {
  static const std::shared_ptr<const mysql::TableInfo> orders(
      new mysql::TableInfo{0,
                           "shop",
                           "orders",
                           {column("id", mysql::ColumnType::kLong, "int(11)"),
                            column("note", mysql::ColumnType::kVarchar, "varchar(200)", 45)},
                           {0}});
  return orders;
}

ChangeEvent row(ChangeEvent::Op op, int64_t id, std::string note) {
  ChangeEvent e;
  e.op = op;
  e.database = "shop";
  e.table = "orders";
  e.table_info = table();
  mysql::RowImage img;
  img.values = {mysql::Value::ofInt(id), mysql::Value::ofText(mysql::Value::Kind::kString, note)};
  if (op != ChangeEvent::Op::kInsert) e.before = img;
  if (op != ChangeEvent::Op::kDelete) e.after = img;
  e.position = {"bin.000001", static_cast<uint64_t>(100 + id)};
  e.payload_bytes = 8 + note.size();
  return e;
}

Transaction txn(uint64_t seq, uint32_t ts_s, std::vector<ChangeEvent> events) {
  Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.timestamp = ts_s;
  t.begin = {"bin.000001", seq * 1000};
  t.end = {"bin.000001", seq * 1000 + 999};
  t.events = std::move(events);
  return t;
}

ChangeLogOptions options(const std::string& dir) {
  ChangeLogOptions o;
  o.dir = dir;
  o.retention_check = std::chrono::milliseconds(50);
  return o;
}

std::string segmentPath(const std::string& dir, int64_t base) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020lld.log", static_cast<long long>(base));
  return dir + "/" + buf;
}

// A segment file's bytes and the byte position of each batch in it (by the length fields).
struct SegmentBytes {
  std::string bytes;
  std::vector<uint64_t> batches;
};
SegmentBytes readSegment(const std::string& path) {
  SegmentBytes out;
  std::ifstream f(path, std::ios::binary);
  out.bytes.assign(std::istreambuf_iterator<char>(f), {});
  for (uint64_t pos = 0; pos + 29 <= out.bytes.size();) {
    out.batches.push_back(pos);
    uint32_t length = 0;
    std::memcpy(&length, out.bytes.data() + pos + 4, 4);
    pos += 8 + length;
  }
  return out;
}

std::vector<nlohmann::json> readAll(const ChangeLog& log) {
  std::vector<nlohmann::json> out;
  int64_t at = log.firstOffset();
  while (at < log.endOffset()) {
    auto r = log.read(at, 1 << 20);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    if (!r.ok() || r->empty()) break;
    for (const auto& rec : *r) {
      EXPECT_EQ(rec.offset, at);
      auto j = nlohmann::json::parse(rec.value);
      EXPECT_EQ(j["offset"], rec.offset);
      out.push_back(j);
      ++at;
    }
  }
  return out;
}

void copyDir(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) fs::copy(e.path(), to / e.path().filename());
}

// A row's place among its transaction's rows of the same table (Debezium's
// data_collection_order), beside its place in the transaction; rows and server ids as given.
TEST(ChangeLogTest, RowsCarryTheirPlacePerTableAndInTheirRowsEvent) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok()) << log.status().toString();
  std::vector<ChangeEvent> events;
  for (int i = 0; i < 4; ++i) {
    ChangeEvent e = row(ChangeEvent::Op::kInsert, 10 + i, "x");
    if (i % 2 == 1) e.table = "items";  // orders, items, orders, items
    e.row_in_event = static_cast<uint32_t>(i / 2);
    e.server_id = 7;
    events.push_back(std::move(e));
  }
  ASSERT_TRUE((*log)->apply(txn(1, 100, std::move(events))).ok());
  ASSERT_TRUE((*log)->flush().ok());
  std::vector<nlohmann::json> all = readAll(**log);
  ASSERT_EQ(all.size(), 6u);
  for (int i = 0; i < 4; ++i) {
    const nlohmann::json& r = all[static_cast<size_t>(i + 1)];
    EXPECT_EQ(r["tx"]["seq"], i + 1) << r;
    EXPECT_EQ(r["tx"]["table_seq"], i / 2 + 1) << r;
    EXPECT_EQ(r["row"], i / 2) << r;
    EXPECT_EQ(r["server_id"], 7) << r;
    auto d = encodeChange(ChangeFormat::kDebeziumJson, r.dump(), "t");
    ASSERT_TRUE(d.ok() && d->has_value());
    auto dj = nlohmann::json::parse(**d);
    EXPECT_EQ(dj["transaction"]["total_order"], i + 1) << dj;
    EXPECT_EQ(dj["transaction"]["data_collection_order"], i / 2 + 1) << dj;
    EXPECT_EQ(dj["source"]["row"], i / 2) << dj;
  }
}

TEST(ChangeLogTest, AppendsTransactionsAndReadsThemBack) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok()) << log.status().toString();
  EXPECT_EQ((*log)->firstOffset(), 0);
  EXPECT_EQ((*log)->endOffset(), 0);
  EXPECT_EQ((*log)->committedPosition(), "");
  ASSERT_TRUE((*log)
                  ->apply(txn(1, 100,
                              {row(ChangeEvent::Op::kInsert, 1, "a"),
                               row(ChangeEvent::Op::kUpdate, 1, "b")}))
                  .ok());
  ChangeEvent ddl;
  ddl.op = ChangeEvent::Op::kDdl;
  ddl.database = "shop";
  ddl.sql = "ALTER TABLE orders ADD COLUMN x INT";
  auto session = std::make_shared<pipeline::DdlSession>();
  session->sql_mode = 1048582;  // as MariaDB logs PIPES_AS_CONCAT,ANSI_QUOTES,NO_BACKSLASH_ESCAPES
  session->flavor = mysql::ServerFlavor::kMariaDb;
  ddl.ddl_session = session;
  ASSERT_TRUE((*log)->apply(txn(2, 101, {ddl})).ok());
  ASSERT_TRUE((*log)->apply(txn(3, 102, {row(ChangeEvent::Op::kDelete, 1, "b")})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ((*log)->endOffset(), 4 + 3 + 3);
  EXPECT_EQ((*log)->committedPosition(), "0-1-3");

  auto records = (*log)->read(0, 1 << 20);
  ASSERT_TRUE(records.ok()) << records.status().toString();
  ASSERT_EQ(records->size(), 10u);
  std::vector<std::string> ops;
  for (const auto& r : *records) ops.push_back(nlohmann::json::parse(r.value)["op"]);
  EXPECT_EQ(ops, (std::vector<std::string>{"begin", "insert", "update", "commit", "begin", "ddl",
                                           "commit", "begin", "delete", "commit"}));
  const LogRecord& ins = (*records)[1];
  EXPECT_EQ(ins.key, R"({"db":"shop","table":"orders","pk":{"id":1}})");
  // A session's binlog_row_image=MINIMAL: the after image lacks the key it did not change, the
  // before image has it, and so does the record's key (it was {}: every such update one key).
  {
    ChangeEvent minimal = row(ChangeEvent::Op::kUpdate, 7, "m");
    minimal.before.present = {true, false};
    minimal.after.present = {false, true};
    auto mlog = ChangeLog::open(options(dir.str() + "/minimal"));
    ASSERT_TRUE(mlog.ok()) << mlog.status().toString();
    ASSERT_TRUE((*mlog)->apply(txn(1, 100, {minimal})).ok());
    ASSERT_TRUE((*mlog)->flush().ok());
    auto m = (*mlog)->read(0, 1 << 20);
    ASSERT_TRUE(m.ok() && m->size() == 3u);
    EXPECT_EQ((*m)[1].key, R"({"db":"shop","table":"orders","pk":{"id":7}})");
  }
  EXPECT_EQ(ins.timestamp_ms, 100000);
  auto j = nlohmann::json::parse(ins.value);
  EXPECT_EQ(j["after"]["note"], "a");
  EXPECT_TRUE(j["before"].is_null());
  EXPECT_EQ(j["types"]["note"], "varchar(200)");
  EXPECT_EQ(j["pk"], nlohmann::json::array({"id"}));
  EXPECT_EQ(j["gtid"], "0-1-1");
  EXPECT_EQ(j["tx"]["seq"], 1);
  EXPECT_EQ(j["tx"]["table_seq"], 1);
  EXPECT_EQ(nlohmann::json::parse((*records)[2].value)["tx"]["table_seq"], 2);
  EXPECT_FALSE(nlohmann::json::parse((*records)[5].value)["tx"].contains("table_seq"));  // ddl
  EXPECT_FALSE(nlohmann::json::parse((*records)[3].value)["tx"].contains("table_seq"));  // commit
  EXPECT_EQ(j["file"], "bin.000001");
  EXPECT_EQ(j["pos"], 101);
  auto commit = nlohmann::json::parse((*records)[3].value);
  EXPECT_EQ(commit["event_count"], 2);
  EXPECT_EQ(commit["position"], "0-1-1");
  EXPECT_EQ((*records)[3].key, "");
  auto d = nlohmann::json::parse((*records)[5].value);
  EXPECT_EQ(d["sql"], "ALTER TABLE orders ADD COLUMN x INT");
  EXPECT_EQ(d["sql_mode"], "PIPES_AS_CONCAT,ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
  EXPECT_EQ(d["op"], "ddl");

  // max_bytes: at least one record, then as many as fit.
  auto one = (*log)->read(2, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].offset, 2);
  auto none = (*log)->read(10, 1 << 20);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto beyond = (*log)->read(11, 1 << 20);
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.status().message().find("first offset 0, end offset 10"), std::string::npos)
      << beyond.status().message();
  EXPECT_EQ((*log)->stats().rows_applied, 3u);
  EXPECT_EQ((*log)->stats().ddl_applied, 1u);
  // The engine's lag is measured from the last durable transaction's source commit time.
  EXPECT_GE((*log)->stats().last_source_commit_ms, 102000.0);
}

// Writing (encode, zstd, CRC32, pwrite) and reading back (CRC32, zstd) leave both threads'
// vector registers with clean upper halves: code after them runs without the SSE/AVX transition
// penalty (ISA-L's AVX-512 CRC left them dirty, and the decoder ran 4x slower).
TEST(ChangeLogTest, LeavesTheUpperVectorStateCleanOnItsThreads) {
  if (!testing::upperVectorStateInUse())
    GTEST_SKIP() << "this CPU does not report XINUSE (XGETBV with ECX=1)";
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  std::mutex mu;
  std::vector<uint64_t> appender;  // XINUSE on the appender thread before each piece
  o.before_piece = [&] {
    std::lock_guard<std::mutex> lock(mu);
    appender.push_back(testing::upperVectorStateInUse().value_or(0));
  };
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok()) << log.status().toString();
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    std::vector<ChangeEvent> rows;
    for (int i = 0; i < 200; ++i)
      rows.push_back(row(ChangeEvent::Op::kInsert, i, std::string(300, char('a' + i % 26))));
    ASSERT_TRUE((*log)->apply(txn(seq, 100, std::move(rows))).ok());
    ASSERT_TRUE((*log)->flush().ok());  // the piece is compressed and written before the next
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(appender, (std::vector<uint64_t>{0, 0, 0}));
  }
  auto records = (*log)->read(0, 64 << 20);
  ASSERT_TRUE(records.ok()) << records.status().toString();
  EXPECT_EQ(records->size(), 3u * 202);
  EXPECT_EQ(*testing::upperVectorStateInUse(), 0u);
}

TEST(ChangeLogTest, DdlRecordCarriesTheTablesNewDefinition) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok()) << log.status().toString();
  auto altered = std::make_shared<mysql::TableInfo>(*table());
  mysql::ColumnInfo x;
  x.name = "x";
  x.column_type = "int(11)";
  altered->columns.push_back(x);
  ChangeEvent ddl;
  ddl.op = ChangeEvent::Op::kDdl;
  ddl.database = "shop";
  ddl.sql = "ALTER TABLE orders ADD COLUMN x INT";
  ddl.table_info = altered;
  ChangeEvent other = ddl;  // a table of another database than the statement's default
  other.database = "app";
  other.sql = "ALTER TABLE shop.orders ADD COLUMN x INT";
  ChangeEvent none = ddl;  // a statement that defined no single table
  none.table_info = nullptr;
  none.sql = "DROP TABLE a, b";
  ASSERT_TRUE((*log)->apply(txn(1, 100, {ddl, other, none})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  auto records = readAll(**log);
  ASSERT_EQ(records.size(), 5u);
  const nlohmann::json want_definition = nlohmann::json::parse(
      R"j({"db":"shop","table":"orders","columns":{"id":"int(11)","note":"varchar(200)",)j"
      R"j("x":"int(11)"},"pk":["id"]})j");
  EXPECT_EQ(records[1]["table"], "orders");
  EXPECT_EQ(records[1]["definition"], want_definition);
  EXPECT_EQ(records[2]["db"], "app");
  EXPECT_TRUE(records[2]["table"].is_null());
  EXPECT_EQ(records[2]["definition"], want_definition);
  EXPECT_TRUE(records[3]["table"].is_null());
  EXPECT_FALSE(records[3].contains("definition"));
}

TEST(ChangeLogTest, OffsetForTimeIsATransactionBoundary) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.index_interval = 1;  // an index entry per transaction
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  for (uint64_t i = 1; i <= 20; ++i)
    ASSERT_TRUE((*log)
                    ->apply(txn(i, static_cast<uint32_t>(1000 + 10 * i),
                                {row(ChangeEvent::Op::kInsert, static_cast<int64_t>(i), "x")}))
                    .ok());
  ASSERT_TRUE((*log)->flush().ok());
  // Each transaction is 3 records: transaction i begins at 3 * (i - 1).
  EXPECT_EQ(*(*log)->offsetForTime(0), 0);
  EXPECT_EQ(*(*log)->offsetForTime(1010 * 1000), 0);
  EXPECT_EQ(*(*log)->offsetForTime(1050 * 1000), 12);
  EXPECT_EQ(*(*log)->offsetForTime(1050 * 1000 + 1), 15);
  EXPECT_EQ(*(*log)->offsetForTime(1200 * 1000), 57);
  EXPECT_EQ(*(*log)->offsetForTime(1201 * 1000), 60);
}

// Holds the appender before its first piece until release(): the pieces given meanwhile pile up
// in its queue, as a backlog does, and share batches.
class AppenderGate {
 public:
  // options(dir) with batches of batch_bytes and this gate installed.
  ChangeLogOptions gated(const std::string& dir, size_t batch_bytes) {
    ChangeLogOptions o = options(dir);
    o.batch_bytes = batch_bytes;
    install(&o);
    return o;
  }
  void install(ChangeLogOptions* o) {
    o->before_piece = [this] {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return open_; });
    };
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(ChangeLogTest, ABacklogOfSmallTransactionsSharesBatchesAndStaysExact) {
  TempDir dir, crashed;
  AppenderGate gate;
  ChangeLogOptions o = gate.gated(dir.str(), 4 << 10);
  o.index_interval = 1;  // an index entry wherever one may go
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  for (uint64_t i = 1; i <= 60; ++i)
    ASSERT_TRUE((*log)
                    ->apply(txn(i, static_cast<uint32_t>(1000 + 10 * i),
                                {row(ChangeEvent::Op::kInsert, static_cast<int64_t>(i), "x"),
                                 row(ChangeEvent::Op::kUpdate, static_cast<int64_t>(i), "y")}))
                    .ok());
  gate.release();
  ASSERT_TRUE((*log)->flush().ok());
  // 60 transactions of 4 records (~1.8 KiB raw each... much less): a few batches, not 60.
  EXPECT_LT((*log)->stats().batches, 30u);
  EXPECT_EQ((*log)->stats().transactions_applied, 60u);
  EXPECT_EQ((*log)->endOffset(), 240);
  EXPECT_EQ((*log)->committedPosition(), "0-1-60");
  auto all = readAll(**log);
  ASSERT_EQ(all.size(), 240u);
  for (size_t t = 0; t < 60; ++t) {
    EXPECT_EQ(all[4 * t]["op"], "begin");
    EXPECT_EQ(all[4 * t + 1]["after"]["id"], t + 1);
    EXPECT_EQ(all[4 * t + 3]["op"], "commit");
    EXPECT_EQ(all[4 * t + 3]["gtid"], "0-1-" + std::to_string(t + 1));
  }
  // Start-from-time answers each transaction's own begin marker, inside shared batches too,
  // from the index written now and from the one rebuilt when the index is lost.
  auto exact = [](const ChangeLog& l) {
    for (int64_t i = 1; i <= 60; ++i) {
      EXPECT_EQ(*l.offsetForTime((1000 + 10 * i) * 1000), 4 * (i - 1)) << i;
      EXPECT_EQ(*l.offsetForTime((1000 + 10 * i) * 1000 - 1), 4 * (i - 1)) << i;
      EXPECT_EQ(*l.offsetForTime((1000 + 10 * i) * 1000 + 1), 4 * i) << i;
    }
  };
  exact(**log);
  ASSERT_TRUE((*log)->close().ok());
  copyDir(dir.str(), crashed.str());
  fs::remove(fs::path(crashed.str()) / "00000000000000000000.idx");
  auto reopened = ChangeLog::open(options(crashed.str()));
  ASSERT_TRUE(reopened.ok()) << reopened.status().toString();
  EXPECT_EQ((*reopened)->endOffset(), 240);
  EXPECT_EQ((*reopened)->committedPosition(), "0-1-60");
  exact(**reopened);
}

TEST(ChangeLogTest, CommitsInABatchDoNotWaitForTheLargeTransactionAfterThem) {
  TempDir dir, crashed;
  AppenderGate gate;
  auto log = ChangeLog::open(gate.gated(dir.str(), 8 << 10));
  ASSERT_TRUE(log.ok());
  for (uint64_t i = 1; i <= 5; ++i)
    ASSERT_TRUE(
        (*log)
            ->apply(txn(i, 1, {row(ChangeEvent::Op::kInsert, static_cast<int64_t>(i), "s")}))
            .ok());
  // The first pieces of a large transaction, well past a batch.
  for (int p = 0; p < 3; ++p) {
    Transaction piece = txn(6, 2, {});
    piece.first_piece = p == 0;
    piece.last_piece = false;
    for (int r = 0; r < 20; ++r)
      piece.events.push_back(
          row(ChangeEvent::Op::kInsert, 100 + 20 * p + r, std::string(500, 'L')));
    ASSERT_TRUE((*log)->apply(std::move(piece)).ok());
  }
  gate.release();
  ASSERT_TRUE((*log)->flush().ok());
  // The five small transactions are durable and visible; nothing of the open one is.
  EXPECT_EQ((*log)->endOffset(), 15);
  EXPECT_EQ((*log)->committedPosition(), "0-1-5");
  copyDir(dir.str(), crashed.str());  // what a kill -9 leaves
  auto recovered = ChangeLog::open(options(crashed.str()));
  ASSERT_TRUE(recovered.ok()) << recovered.status().toString();
  EXPECT_EQ((*recovered)->endOffset(), 15);
  EXPECT_EQ((*recovered)->committedPosition(), "0-1-5");
  // The large transaction ends; everything reads back in order.
  Transaction last = txn(6, 2, {row(ChangeEvent::Op::kInsert, 999, "end")});
  last.first_piece = false;
  ASSERT_TRUE((*log)->apply(std::move(last)).ok());
  ASSERT_TRUE((*log)->flush().ok());
  auto all = readAll(**log);
  ASSERT_EQ(all.size(), 15u + 1 + 61 + 1);
  EXPECT_EQ(all[15]["op"], "begin");
  EXPECT_EQ(all[15]["gtid"], "0-1-6");
  EXPECT_EQ(all.back()["op"], "commit");
  EXPECT_EQ(*(*log)->offsetForTime(2000), 15);
}

TEST(ChangeLogTest, ASkippedTransactionNeverMakesUnwrittenCommitsDurable) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  AppenderGate gate;
  gate.install(&o);
  // What is durable when the appender takes each piece (the skipped transaction 2 was handled
  // before piece 3, while transaction 1 waited in the batch).
  std::vector<std::string> durable;
  ChangeLog* raw = nullptr;
  auto hold = o.before_piece;
  o.before_piece = [&] {
    hold();
    durable.push_back(raw->committedPosition());
  };
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  raw = log->get();
  ASSERT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
  ASSERT_TRUE((*log)->apply(txn(2, 1, {})).ok());  // nothing of the task's tables
  ASSERT_TRUE((*log)->apply(txn(3, 1, {row(ChangeEvent::Op::kInsert, 3, "c")})).ok());
  ASSERT_TRUE((*log)->apply(txn(4, 1, {})).ok());
  gate.release();
  ASSERT_TRUE((*log)->flush().ok());
  ASSERT_EQ(durable.size(), 4u);
  EXPECT_EQ(durable[2], "");  // not 0-1-2: transaction 1 was not even written
  EXPECT_EQ((*log)->endOffset(), 6);
  EXPECT_EQ((*log)->committedPosition(), "0-1-4");
  auto all = readAll(**log);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[2]["position"], "0-1-1");
  EXPECT_EQ(all[5]["position"], "0-1-3");
}

// A source busy only with tables the task does not record: the log's position still moves on
// disk, so a restart does not ask the source for binlogs it may have purged since (a caught-up
// tracking task failed with "Could not find GTID state" at its next reconnect).
TEST(ChangeLogTest, SkippedTransactionsMoveThePositionAcrossARestart) {
  TempDir dir;
  {
    auto log = ChangeLog::open(options(dir.str()));
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
    ASSERT_TRUE((*log)->apply(txn(2, 1, {})).ok());
    ASSERT_TRUE((*log)->apply(txn(3, 1, {})).ok());
    ASSERT_TRUE((*log)->close().ok());
  }
  {
    auto log = ChangeLog::open(options(dir.str()));
    ASSERT_TRUE(log.ok()) << log.status().toString();
    EXPECT_EQ((*log)->committedPosition(), "0-1-3");
    EXPECT_EQ((*log)->endOffset(), 3);
    // A recorded transaction after them: its commit marker says where the log is, and the
    // file, which speaks of an older end, no longer counts.
    ASSERT_TRUE((*log)->apply(txn(4, 1, {row(ChangeEvent::Op::kInsert, 4, "d")})).ok());
    ASSERT_TRUE((*log)->flush().ok());
  }
  {
    auto log = ChangeLog::open(options(dir.str()));
    ASSERT_TRUE(log.ok()) << log.status().toString();
    EXPECT_EQ((*log)->committedPosition(), "0-1-4");
    EXPECT_EQ((*log)->endOffset(), 6);
  }
  // Skipped transactions with nothing before them, and a file that does not parse: ignored.
  TempDir empty;
  {
    auto log = ChangeLog::open(options(empty.str()));
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->apply(txn(7, 1, {})).ok());
    ASSERT_TRUE((*log)->close().ok());
  }
  {
    auto log = ChangeLog::open(options(empty.str()));
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->committedPosition(), "0-1-7");
  }
  {
    std::ofstream(empty.str() + "/skipped-position") << "{not json";
    auto log = ChangeLog::open(options(empty.str()));
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->committedPosition(), "");
  }
}

TEST(ChangeLogTest, ATransactionInPiecesIsOneQueuedTransaction) {
  TempDir dir;
  AppenderGate gate;
  auto log = ChangeLog::open(gate.gated(dir.str(), 4 << 10));
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
  for (int p = 0; p < 3; ++p) {
    Transaction piece = txn(2, 1, {row(ChangeEvent::Op::kInsert, 10 + p, "b")});
    piece.first_piece = p == 0;
    piece.last_piece = false;
    ASSERT_TRUE((*log)->apply(std::move(piece)).ok());
  }
  EXPECT_EQ((*log)->stats().queued_transactions, 2u) << "four pieces of two transactions";
  gate.release();
  ASSERT_TRUE((*log)->flush().ok());
  SinkStats s = (*log)->stats();
  EXPECT_EQ(s.queued_transactions, 1u) << "the second is open";
  EXPECT_EQ(s.open_transaction_rows, 3u);
  Transaction last = txn(2, 1, {});
  last.first_piece = false;
  ASSERT_TRUE((*log)->apply(std::move(last)).ok());
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ((*log)->stats().queued_transactions, 0u);
  EXPECT_EQ((*log)->stats().rows_applied, 4u);
}

TEST(ChangeLogTest, TablesSharingOneDefinitionKeepTheirOwnNamesAndFilesTheirs) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok());
  ChangeEvent orders = row(ChangeEvent::Op::kInsert, 1, "a");
  ChangeEvent customers = row(ChangeEvent::Op::kInsert, 2, "b");
  customers.table = "customers";  // same definition object, another table
  ASSERT_TRUE((*log)->apply(txn(1, 1, {orders, customers, orders})).ok());
  // A source without file names (none known yet): "file" is "", still JSON.
  Transaction unnamed = txn(2, 1, {customers});
  unnamed.begin.file.clear();
  unnamed.end.file.clear();
  unnamed.events[0].position.file.clear();
  ASSERT_TRUE((*log)->apply(unnamed).ok());
  ASSERT_TRUE((*log)->flush().ok());
  auto all = readAll(**log);
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[5]["file"], "");
  EXPECT_EQ(all[6]["file"], "");
  EXPECT_EQ(all[4]["file"], "bin.000001");
  EXPECT_EQ(all[1]["table"], "orders");
  EXPECT_EQ(all[2]["table"], "customers");
  EXPECT_EQ(all[3]["table"], "orders");
  EXPECT_EQ(all[6]["table"], "customers");
  auto records = (*log)->read(0, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(nlohmann::json::parse((*records)[2].key)["table"], "customers");
  EXPECT_EQ(nlohmann::json::parse((*records)[2].key)["pk"]["id"], 2);
}

TEST(ChangeLogTest, WaitBeyondWakesOnCommit) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*log)->waitBeyond(0, std::chrono::milliseconds(50)), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
  });
  EXPECT_EQ((*log)->waitBeyond(0, std::chrono::seconds(10)), 3);
  writer.join();
}

TEST(ChangeLogTest, ReopenResumesOffsetsAndPosition) {
  TempDir dir;
  {
    auto log = ChangeLog::open(options(dir.str()));
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
    ASSERT_TRUE((*log)->apply(txn(2, 2, {row(ChangeEvent::Op::kInsert, 2, "b")})).ok());
    ASSERT_TRUE((*log)->close().ok());
  }
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok()) << log.status().toString();
  EXPECT_EQ((*log)->endOffset(), 6);
  EXPECT_EQ((*log)->committedPosition(), "0-1-2");
  auto typed = (*log)->resumePosition();
  ASSERT_TRUE(typed.ok() && typed->has_value());
  EXPECT_EQ((*typed)->flavor(), mysql::GtidFlavor::kMariaDb);
  EXPECT_EQ((*typed)->toString(), "0-1-2");
  ASSERT_TRUE((*log)->apply(txn(3, 3, {row(ChangeEvent::Op::kInsert, 3, "c")})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  auto all = readAll(**log);
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all[7]["after"]["id"], 3);
  EXPECT_EQ((*log)->committedPosition(), "0-1-3");
}

TEST(ChangeLogTest, OneProcessWritesALog) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok());
  auto second = ChangeLog::open(options(dir.str()));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  auto shared = sharedChangeLog(options(dir.str()));
  ASSERT_FALSE(shared.ok());  // not registered: opened directly
  auto a = sharedChangeLog(options(dir.str() + "/sub"));
  auto b = sharedChangeLog(options(dir.str() + "/sub"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
}

// The log after two transactions and the segment bytes after each commit, for tail tests.
struct TwoAndAHalf {
  uint64_t after_two = 0;
  uint64_t after_three = 0;
};

TwoAndAHalf writeThree(const std::string& dir) {
  TwoAndAHalf sizes;
  auto log = ChangeLog::open(options(dir));
  EXPECT_TRUE(log.ok());
  EXPECT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
  EXPECT_TRUE((*log)->apply(txn(2, 2, {row(ChangeEvent::Op::kInsert, 2, "b")})).ok());
  EXPECT_TRUE((*log)->flush().ok());
  sizes.after_two = fs::file_size(segmentPath(dir, 0));
  EXPECT_TRUE((*log)
                  ->apply(txn(3, 3,
                              {row(ChangeEvent::Op::kInsert, 3, "c"),
                               row(ChangeEvent::Op::kUpdate, 3, std::string(300, 'd'))}))
                  .ok());
  EXPECT_TRUE((*log)->close().ok());
  sizes.after_three = fs::file_size(segmentPath(dir, 0));
  return sizes;
}

TEST(ChangeLogTest, TornTailIsCutAtEveryByteOfTheLastBatch) {
  TempDir dir, work;
  TwoAndAHalf sizes = writeThree(dir.str());
  ASSERT_LT(sizes.after_two, sizes.after_three);
  for (uint64_t cut = sizes.after_two; cut <= sizes.after_three; ++cut) {
    copyDir(dir.str(), work.str());
    fs::resize_file(segmentPath(work.str(), 0), cut);
    auto log = ChangeLog::open(options(work.str()));
    ASSERT_TRUE(log.ok()) << "cut at " << cut << ": " << log.status().toString();
    bool whole = cut == sizes.after_three;
    EXPECT_EQ((*log)->endOffset(), whole ? 10 : 6) << cut;
    EXPECT_EQ((*log)->committedPosition(), whole ? "0-1-3" : "0-1-2") << cut;
    EXPECT_EQ(fs::file_size(segmentPath(work.str(), 0)), whole ? cut : sizes.after_two);
    // Writing goes on right after the last durable transaction.
    ASSERT_TRUE((*log)->apply(txn(4, 4, {row(ChangeEvent::Op::kInsert, 4, "e")})).ok());
    ASSERT_TRUE((*log)->flush().ok());
    auto all = readAll(**log);
    ASSERT_EQ(all.size(), whole ? 13u : 9u);
    EXPECT_EQ(all.back()["op"], "commit");
    EXPECT_EQ(all.back()["gtid"], "0-1-4");
  }
}

TEST(ChangeLogTest, ZeroFilledTailIsTorn) {
  TempDir dir;
  TwoAndAHalf sizes = writeThree(dir.str());
  {
    std::ofstream f(segmentPath(dir.str(), 0), std::ios::binary | std::ios::app);
    f << std::string(100, '\0');
  }
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok()) << log.status().toString();
  EXPECT_EQ((*log)->endOffset(), 10);
  EXPECT_EQ(fs::file_size(segmentPath(dir.str(), 0)), sizes.after_three);
}

// Writes `bytes` over the file's bytes at `at`.
void overwrite(const std::string& path, uint64_t at, std::string_view bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void flipByte(const std::string& path, uint64_t at) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  in.read(&c, 1);
  in.close();
  c = static_cast<char>(c ^ 0x5a);
  overwrite(path, at, std::string_view(&c, 1));
}

TEST(ChangeLogTest, CorruptBatchInTheMiddleIsAnErrorNamingFileAndOffset) {
  TempDir dir;
  writeThree(dir.str());
  flipByte(segmentPath(dir.str(), 0), 40);  // inside the first batch's payload
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption);
  EXPECT_NE(log.status().message().find(segmentPath(dir.str(), 0) + ": batch at byte 0: CRC"),
            std::string::npos)
      << log.status().message();
}

TEST(ChangeLogTest, CorruptSealedSegmentIsReportedWhenRead) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.segment_bytes = 1;  // a segment per transaction
  {
    auto log = ChangeLog::open(o);
    ASSERT_TRUE(log.ok());
    // Committed now: retention keeps them.
    const auto now = static_cast<uint32_t>(std::time(nullptr));
    for (uint64_t i = 1; i <= 3; ++i)
      ASSERT_TRUE((*log)->apply(txn(i, now, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
    ASSERT_TRUE((*log)->close().ok());
  }
  flipByte(segmentPath(dir.str(), 3), 45);
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok()) << log.status().toString();
  EXPECT_EQ((*log)->segmentCount(), 3u);
  auto before = (*log)->read(0, 1);
  ASSERT_TRUE(before.ok()) << before.status().toString();
  EXPECT_EQ(before->size(), 1u);
  auto bad = (*log)->read(3, 1 << 20);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(segmentPath(dir.str(), 3) + ": batch at byte 0"),
            std::string::npos)
      << bad.status().message();
  // A read that starts before it does not skip it either.
  auto from0 = (*log)->read(0, 1 << 30);
  EXPECT_FALSE(from0.ok());
}

TEST(ChangeLogTest, IncompleteTransactionIsCutOnRecovery) {
  TempDir dir, crashed;
  ChangeLogOptions o = options(dir.str());
  o.batch_bytes = 512;
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  uint64_t durable = fs::file_size(segmentPath(dir.str(), 0));
  Transaction first = txn(2, 2, {});
  first.last_piece = false;
  for (int i = 0; i < 100; ++i)
    first.events.push_back(row(ChangeEvent::Op::kInsert, 10 + i, std::string(50, 'x')));
  ASSERT_TRUE((*log)->apply(first).ok());
  ASSERT_TRUE((*log)->flush().ok());  // the appender has written the piece; nothing commits
  EXPECT_GT(fs::file_size(segmentPath(dir.str(), 0)), durable);  // written, not visible
  EXPECT_EQ((*log)->endOffset(), 3);
  copyDir(dir.str(), crashed.str());  // what a kill -9 leaves
  auto recovered = ChangeLog::open(options(crashed.str()));
  ASSERT_TRUE(recovered.ok()) << recovered.status().toString();
  EXPECT_EQ((*recovered)->endOffset(), 3);
  EXPECT_EQ((*recovered)->committedPosition(), "0-1-1");
  EXPECT_EQ(fs::file_size(segmentPath(crashed.str(), 0)), durable);
  EXPECT_EQ((*log)->stats().open_transaction_rows, 100u);
  // close() discards the unfinished transaction as well.
  ASSERT_TRUE((*log)->close().ok());
  EXPECT_EQ((*log)->stats().open_transaction_rows, 0u);
  EXPECT_EQ(fs::file_size(segmentPath(dir.str(), 0)), durable);
  ASSERT_TRUE((*log)->restartWriting().ok());
  ASSERT_TRUE((*log)->apply(txn(2, 2, {row(ChangeEvent::Op::kInsert, 2, "b")})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ(readAll(**log).size(), 6u);
}

TEST(ChangeLogTest, BigTransactionIsStreamedNotHeld) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.batch_bytes = 64 << 10;
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  const std::string payload(1000, 'p');
  uint64_t rows = 0;
  for (int p = 0; p < 200; ++p) {
    Transaction piece = txn(1, 5, {});
    piece.first_piece = p == 0;
    piece.last_piece = p == 199;
    for (int i = 0; i < 100; ++i)
      piece.events.push_back(row(ChangeEvent::Op::kInsert, static_cast<int64_t>(rows++), payload));
    ASSERT_TRUE((*log)->apply(std::move(piece)).ok());
    if (p == 100) {
      ASSERT_TRUE((*log)->flush().ok());  // the appender has written every piece given
      // Half the transaction is on disk already, none of it visible; the writer holds at most one
      // batch (64 KiB) of it.
      EXPECT_GT((*log)->stats().batches, 100u);
      EXPECT_EQ((*log)->endOffset(), 0);
      // Its rows so far are reported as an open transaction, not as logged rows.
      SinkStats s = (*log)->stats();
      EXPECT_EQ(s.open_transaction_gtid, "0-1-1");
      EXPECT_EQ(s.open_transaction_rows, 101u * 100);
      EXPECT_EQ(s.rows_applied, 0u);
    }
  }
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ((*log)->stats().open_transaction_rows, 0u);
  EXPECT_EQ((*log)->stats().open_transaction_gtid, "");
  EXPECT_EQ((*log)->stats().rows_applied, rows);
  EXPECT_EQ((*log)->endOffset(), static_cast<int64_t>(rows + 2));
  auto first = (*log)->read(0, 1 << 20);
  ASSERT_TRUE(first.ok());
  EXPECT_LT(first->size(), rows);  // max_bytes bounds a read
  auto last = (*log)->read(static_cast<int64_t>(rows + 1), 1 << 20);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ(nlohmann::json::parse((*last)[0].value)["event_count"], rows);
  EXPECT_EQ((*last)[0].timestamp_ms, 5000);
  EXPECT_EQ(*(*log)->offsetForTime(5000), 0);
}

TEST(ChangeLogTest, RetentionRemovesOnlyWholeExpiredSegments) {
  TempDir dir;
  FakeClock clock(Clock::TimePoint(std::chrono::seconds(1000)));
  ChangeLogOptions o = options(dir.str());
  o.segment_bytes = 1;  // a segment per transaction
  o.clock = &clock;
  o.retention_hours = 1;
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  for (uint64_t i = 1; i <= 4; ++i)
    ASSERT_TRUE((*log)
                    ->apply(txn(i, static_cast<uint32_t>(1000 + i * 600),
                                {row(ChangeEvent::Op::kInsert, 1, "a")}))
                    .ok());
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ((*log)->segmentCount(), 4u);
  // One hour after the second commit: segments 1 and 2 expire, 3 does not, 4 is active.
  clock.advance(std::chrono::seconds(1200 + 3600 + 1));
  for (int i = 0; i < 200 && (*log)->firstOffset() != 6; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ((*log)->firstOffset(), 6);
  EXPECT_EQ((*log)->segmentCount(), 2u);
  EXPECT_FALSE(fs::exists(segmentPath(dir.str(), 0)));
  EXPECT_TRUE(fs::exists(segmentPath(dir.str(), 6)));
  auto expired = (*log)->read(0, 100);
  EXPECT_FALSE(expired.ok());
  EXPECT_EQ(readAll(**log).size(), 6u);
  // The active segment stays, however old.
  clock.advance(std::chrono::hours(100));
  // The retention check runs every 50 ms; waited for by its effect, not a fixed delay (a loaded
  // machine may take longer than one period).
  for (int i = 0; i < 500 && (*log)->firstOffset() != 9; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ((*log)->segmentCount(), 1u);
  EXPECT_EQ((*log)->firstOffset(), 9);
  EXPECT_EQ((*log)->endOffset(), 12);
}

TEST(ChangeLogTest, RetentionBySize) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.segment_bytes = 1;
  o.retention_bytes = 1;  // keep only the active segment
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  for (uint64_t i = 1; i <= 5; ++i)
    ASSERT_TRUE((*log)
                    ->apply(txn(i, static_cast<uint32_t>(std::time(nullptr)),
                                {row(ChangeEvent::Op::kInsert, 1, "a")}))
                    .ok());
  ASSERT_TRUE((*log)->flush().ok());
  for (int i = 0; i < 200 && (*log)->segmentCount() != 1u; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ((*log)->segmentCount(), 1u);
  EXPECT_EQ((*log)->firstOffset(), 12);
}

TEST(ChangeLogTest, SharedSinkWritesAgainAfterClose) {
  TempDir dir;
  auto log = sharedChangeLog(options(dir.str()));
  ASSERT_TRUE(log.ok());
  {
    auto sink = changeLogSink(*log);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->apply(txn(1, 1, {row(ChangeEvent::Op::kInsert, 1, "a")})).ok());
  }  // destroyed: closed, durable
  EXPECT_EQ((*log)->endOffset(), 3);
  auto sink = changeLogSink(*log);
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ((*sink)->durablePosition()->toString(), "0-1-1");
  // Its counters are this run's (the engine adds them to the task's totals): the first run's
  // row is not counted again after a pause and a resume.
  EXPECT_EQ((*sink)->stats().rows_applied, 0u);
  EXPECT_EQ((*sink)->stats().transactions_applied, 0u);
  for (const auto& t : (*sink)->changesByTable()) EXPECT_EQ(t.rows, 0u) << t.table;
  ASSERT_TRUE((*sink)->apply(txn(2, 2, {row(ChangeEvent::Op::kInsert, 2, "b")})).ok());
  ASSERT_TRUE((*sink)->close().ok());
  EXPECT_EQ((*log)->endOffset(), 6);
  EXPECT_EQ((*sink)->stats().rows_applied, 1u);
  EXPECT_EQ((*sink)->stats().transactions_applied, 1u);
  auto tables = (*sink)->changesByTable();
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].rows, 1u);
}

// The XID of the XID event that committed a transaction is in its commit marker; a transaction
// without one (a MariaDB COMMIT query, a DDL) has none.
TEST(ChangeLogTest, CommitMarkersCarryTheTransactionsXid) {
  TempDir dir;
  auto log = ChangeLog::open(options(dir.str()));
  ASSERT_TRUE(log.ok()) << log.status().toString();
  Transaction with = txn(1, 100, {row(ChangeEvent::Op::kInsert, 1, "a")});
  with.xid = 18446744073709551615ull;
  ASSERT_TRUE((*log)->apply(with).ok());
  ASSERT_TRUE((*log)->apply(txn(2, 101, {row(ChangeEvent::Op::kInsert, 2, "b")})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  auto all = readAll(**log);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[2]["op"], "commit");
  EXPECT_EQ(all[2]["xid"], 18446744073709551615ull);
  EXPECT_EQ(all[2]["position"], "0-1-1");
  EXPECT_FALSE(all[0].contains("xid"));  // the begin marker: not known yet
  EXPECT_FALSE(all[1].contains("xid"));
  EXPECT_FALSE(all[5].contains("xid"));
  auto raw = (*log)->read(2, 1);
  ASSERT_TRUE(raw.ok());
  EXPECT_NE((*raw)[0].value.find(R"(,"position":"0-1-1","xid":18446744073709551615})"),
            std::string::npos)
      << (*raw)[0].value;
}

// A backlog of small transactions sharing batches, then a large one over many batches: from
// every offset, commitMarkerOf answers the marker that closes that offset's transaction.
TEST(ChangeLogTest, CommitMarkerOfEveryOffsetIsItsTransactions) {
  TempDir dir;
  AppenderGate gate;
  auto log = ChangeLog::open(gate.gated(dir.str(), 1 << 10));
  ASSERT_TRUE(log.ok());
  for (uint64_t i = 1; i <= 20; ++i) {
    Transaction t = txn(i, static_cast<uint32_t>(i), {row(ChangeEvent::Op::kInsert, 1, "x")});
    if (i % 3 != 0) t.xid = 100 + i;
    ASSERT_TRUE((*log)->apply(std::move(t)).ok());
  }
  gate.release();
  for (int p = 0; p < 4; ++p) {
    Transaction piece = txn(21, 21, {});
    piece.first_piece = p == 0;
    piece.last_piece = p == 3;
    if (piece.last_piece) piece.xid = 121;
    for (int i = 0; i < 20; ++i) piece.events.push_back(row(ChangeEvent::Op::kInsert, i, "yyyy"));
    ASSERT_TRUE((*log)->apply(std::move(piece)).ok());
  }
  ASSERT_TRUE((*log)->apply(txn(22, 22, {row(ChangeEvent::Op::kInsert, 1, "z")})).ok());
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_GT((*log)->stats().batches, 5u);
  auto all = readAll(**log);
  ASSERT_EQ(static_cast<int64_t>(all.size()), (*log)->endOffset());
  for (int64_t at = 0; at < (*log)->endOffset(); ++at) {
    int64_t commit = at;
    while (all[static_cast<size_t>(commit)]["op"] != "commit") ++commit;
    auto marker = (*log)->commitMarkerOf(at);
    ASSERT_TRUE(marker.ok()) << at << ": " << marker.status().toString();
    EXPECT_EQ(marker->offset, commit) << at;
    EXPECT_EQ(nlohmann::json::parse(marker->value), all[static_cast<size_t>(commit)]) << at;
  }
  EXPECT_EQ((*log)->commitMarkerOf(7)->value.find("xid"), std::string::npos);  // transaction 3
  EXPECT_EQ(nlohmann::json::parse((*log)->commitMarkerOf(61)->value)["xid"], 121);
  auto beyond = (*log)->commitMarkerOf((*log)->endOffset());
  EXPECT_EQ(beyond.status().code(), Status::Code::kNotFound);
}

// A batch header whose commit flag lies (its CRC, which peeking at headers does not check,
// would tell) makes the walk pass the transaction's marker: the marker found then does not close
// that transaction, which is corruption, never another transaction's XID.
TEST(ChangeLogTest, ACommitMarkerOfAnotherTransactionIsCorruption) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.batch_bytes = 1 << 10;
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  Transaction big = txn(1, 1, {});
  for (int i = 0; i < 40; ++i) big.events.push_back(row(ChangeEvent::Op::kInsert, i, "yyyy"));
  big.xid = 1;
  ASSERT_TRUE((*log)->apply(std::move(big)).ok());
  ASSERT_TRUE((*log)->flush().ok());
  Transaction next = txn(2, 2, {row(ChangeEvent::Op::kInsert, 1, "z")});
  next.xid = 2;
  ASSERT_TRUE((*log)->apply(std::move(next)).ok());
  ASSERT_TRUE((*log)->flush().ok());
  // The batches: the big transaction's, the last of them flagged (bit 0 of the byte at 24).
  const std::string path = segmentPath(dir.str(), 0);
  const SegmentBytes segment = readSegment(path);
  const std::string& bytes = segment.bytes;
  std::vector<uint64_t> flagged;
  for (uint64_t pos : segment.batches)
    if (bytes[pos + 24] & 1) flagged.push_back(pos);
  ASSERT_EQ(flagged.size(), 2u);  // the two transactions' last batches
  const char flags = static_cast<char>(bytes[flagged[0] + 24] & ~1);
  overwrite(path, flagged[0] + 24, std::string_view(&flags, 1));
  auto marker = (*log)->commitMarkerOf(1);
  ASSERT_FALSE(marker.ok());
  EXPECT_EQ(marker.status().code(), Status::Code::kCorruption);
  EXPECT_NE(marker.status().message().find("does not close the transaction holding offset 1"),
            std::string::npos)
      << marker.status().message();
}

// A read from the middle of a large transaction passes the batches before it by their headers:
// every offset still reads exactly its record, and a header whose offsets break the chain from
// the index entry is corruption naming the file, never a record skipped.
TEST(ChangeLogTest, AReadInsideALargeTransactionPassesEarlierBatchesByTheirHeaders) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.batch_bytes = 1 << 10;
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok());
  Transaction big = txn(1, 1, {});
  for (int i = 0; i < 60; ++i)
    big.events.push_back(row(ChangeEvent::Op::kInsert, i, "row" + std::to_string(i)));
  ASSERT_TRUE((*log)->apply(std::move(big)).ok());
  ASSERT_TRUE((*log)->flush().ok());
  const int64_t end = (*log)->endOffset();
  ASSERT_EQ(end, 62);
  // The last record is in the last batch: that one alone is decompressed.
  const uint64_t before = (*log)->batchesDecompressed();
  ASSERT_TRUE((*log)->read(end - 1, 1).ok());
  EXPECT_EQ((*log)->batchesDecompressed() - before, 1u);
  for (int64_t from = 0; from < end; ++from) {
    auto r = (*log)->read(from, 1);
    ASSERT_TRUE(r.ok()) << from << ": " << r.status().toString();
    ASSERT_EQ(r->size(), 1u) << from;
    EXPECT_EQ((*r)[0].offset, from);
    auto j = nlohmann::json::parse((*r)[0].value);
    EXPECT_EQ(j["offset"], from);
    if (from >= 1 && from <= 60) {
      EXPECT_EQ(j["after"]["note"], "row" + std::to_string(from - 1));
    }
  }
  // The batches' positions; then the second batch's record count made one smaller (a header
  // field, outside what a header-only pass checks by CRC).
  const std::string path = segmentPath(dir.str(), 0);
  const SegmentBytes segment = readSegment(path);
  const std::string& bytes = segment.bytes;
  const std::vector<uint64_t>& batches = segment.batches;
  ASSERT_GE(batches.size(), 4u);
  uint32_t count = 0;
  std::memcpy(&count, bytes.data() + batches[1] + 20, 4);
  const uint32_t less = count - 1;
  overwrite(path, batches[1] + 20, std::string_view(reinterpret_cast<const char*>(&less), 4));
  auto r = (*log)->read(end - 1, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

// A ChangeLogReader over the log that counts what it hands out.
class CountingReader final : public ChangeLogReader {
 public:
  explicit CountingReader(std::shared_ptr<ChangeLog> log) : log_(std::move(log)) {}
  int64_t firstOffset() const override { return log_->firstOffset(); }
  int64_t endOffset() const override { return log_->endOffset(); }
  Result<int64_t> offsetForTime(int64_t ms) const override { return log_->offsetForTime(ms); }
  int64_t waitBeyond(int64_t offset, std::chrono::milliseconds t) const override {
    return log_->waitBeyond(offset, t);
  }
  Result<std::vector<LogRecord>> read(int64_t from, size_t max_bytes) const override {
    auto r = log_->read(from, max_bytes);
    if (r.ok())
      for (const LogRecord& rec : *r) bytes_read += rec.key.size() + rec.value.size();
    return r;
  }
  Result<LogRecord> commitMarkerOf(int64_t offset) const override {
    ++markers_asked;
    return log_->commitMarkerOf(offset);
  }
  mutable size_t bytes_read = 0;
  mutable int markers_asked = 0;

 private:
  std::shared_ptr<ChangeLog> log_;
};

// The maxwell-json view over the real log, a transaction cut by max_bytes at every point (reads
// of one row each, from every offset): every row has its transaction's xid and exactly the last
// one "commit": true. A transaction much larger than a read is looked ahead in without reading
// its rows: what the view reads is its window and one look-ahead chunk.
TEST(ChangeLogTest, MaxwellViewMarksTransactionsCutAnywhere) {
  TempDir dir;
  ChangeLogOptions o = options(dir.str());
  o.batch_bytes = 2 << 10;
  auto opened = ChangeLog::open(o);
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<ChangeLog> log = *opened;
  std::vector<std::vector<ChangeEvent>> bodies = {
      {row(ChangeEvent::Op::kInsert, 1, "a")}, {}, {}, {row(ChangeEvent::Op::kDelete, 9, "z")}};
  for (int i = 0; i < 30; ++i) bodies[1].push_back(row(ChangeEvent::Op::kUpdate, i, "yyyyyyy"));
  ChangeEvent ddl;
  ddl.op = ChangeEvent::Op::kDdl;
  ddl.database = "shop";
  ddl.sql = "ALTER TABLE orders ADD COLUMN x INT";
  bodies[2].push_back(ddl);
  const std::vector<std::optional<uint64_t>> xids = {7, 8, std::nullopt, std::nullopt};
  for (size_t t = 0; t < bodies.size(); ++t) {
    Transaction tx = txn(t + 1, static_cast<uint32_t>(t + 1), bodies[t]);
    tx.xid = xids[t];
    ASSERT_TRUE(log->apply(std::move(tx)).ok());
  }
  ASSERT_TRUE(log->flush().ok());
  auto all = readAll(*log);
  std::map<int64_t, std::pair<std::optional<uint64_t>, bool>> want;  // row -> xid, last
  {
    size_t t = 0;
    int64_t last_row = -1;
    for (const auto& r : all) {
      const std::string op = r["op"];
      if (op == "insert" || op == "update" || op == "delete") {
        last_row = r["offset"].get<int64_t>();
        want[last_row] = {xids[t], false};
      } else if (op == "commit") {
        if (last_row >= 0) want[last_row].second = true;
        last_row = -1;
        ++t;
      }
    }
  }
  ASSERT_EQ(want.size(), 32u);
  auto view = encodedView(log, ChangeFormat::kMaxwellJson, "t", /*rows_only=*/true);
  for (size_t max_bytes : {size_t{1}, size_t{300}, size_t{2000}, size_t{1} << 20}) {
    for (int64_t from = 0; from < log->endOffset(); ++from) {
      size_t rows = 0;
      for (int64_t at = from; at < view->endOffset();) {
        auto got = view->read(at, max_bytes);
        ASSERT_TRUE(got.ok()) << got.status().toString();
        for (const LogRecord& r : *got) {
          at = r.offset + 1;
          if (r.placeholder) continue;
          auto m = nlohmann::json::parse(r.value);
          const auto& [xid, last] = want.at(r.offset);
          const std::string where = std::to_string(r.offset) + " from " + std::to_string(from) +
                                    " max_bytes " + std::to_string(max_bytes);
          if (xid) {
            EXPECT_EQ(m["xid"], *xid) << where;
          } else {
            EXPECT_FALSE(m.contains("xid")) << where;
          }
          EXPECT_EQ(m.contains("commit"), last) << where;
          if (last) {
            EXPECT_EQ(m["commit"], true) << where;
          }
          ++rows;
        }
      }
      EXPECT_EQ(rows,
                static_cast<size_t>(std::count_if(want.begin(), want.end(),
                                                  [&](const auto& w) { return w.first >= from; })))
          << from;
    }
  }

  // A transaction of 4000 rows (~1 MB): a read of 4 KB in its middle reads its window and one
  // look-ahead chunk, and asks for the commit marker (found by batch headers) once.
  Transaction large = txn(5, 5, {});
  for (int i = 0; i < 4000; ++i)
    large.events.push_back(row(ChangeEvent::Op::kInsert, i, std::string(200, 'q')));
  large.xid = 99;
  ASSERT_TRUE(log->apply(std::move(large)).ok());
  ASSERT_TRUE(log->flush().ok());
  auto counting = std::make_shared<CountingReader>(log);
  auto large_view = encodedView(counting, ChangeFormat::kMaxwellJson, "t", /*rows_only=*/true);
  const int64_t middle = log->endOffset() - 2000;
  auto got = large_view->read(middle, 4 << 10);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  ASSERT_FALSE(got->empty());
  for (const LogRecord& r : *got) {
    auto m = nlohmann::json::parse(r.value);
    EXPECT_EQ(m["xid"], 99) << r.offset;
    EXPECT_FALSE(m.contains("commit")) << r.offset;
  }
  EXPECT_EQ(counting->markers_asked, 1);
  EXPECT_LT(counting->bytes_read, 64u << 10);  // of the ~500 KB after `middle`
  // The next read of it asks the log again (the log remembers its answer).
  auto next = large_view->read(got->back().offset + 1, 4 << 10);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(nlohmann::json::parse(next->front().value)["xid"], 99);
  // Its last row, read alone, is the commit.
  auto last = large_view->read(log->endOffset() - 2, 1);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(nlohmann::json::parse(last->front().value)["commit"], true);
}

}  // namespace
}  // namespace dts::sink
