// The consumer library against the real API over HTTP on loopback (an in-process server over a
// tracking task's change log): transactions and records in order, filters, commits and
// resumption, a server restart in the middle, parts of large transactions, and the errors that
// end a run.
#include "dts/consumer.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "server/api.h"
#include "server/task_manager.h"
#include "task/tracking.h"

namespace dts::consumer {
namespace {

const char* kTracking = R"(
name: orders-log
kind: tracking
source: {endpoint: "127.0.0.1:1", user: u, password: p}
objects: [{database: shop}]
)";
const char* kToken = "tok-consumer-0123456789";

// A transaction of `rows` inserts into shop.TABLE with ids from `first`.
pipeline::Transaction txn(uint64_t seq, int rows, const std::string& table = "orders",
                          int64_t first = 0) {
  static auto info = [] {
    auto t = std::make_shared<mysql::TableInfo>();
    mysql::ColumnInfo id;
    id.name = "id";
    id.type = mysql::ColumnType::kLong;
    t->columns = {id};
    t->primary_key = {0};
    return std::shared_ptr<const mysql::TableInfo>(t);
  }();
  pipeline::Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.timestamp = static_cast<uint32_t>(1000 + seq);
  for (int i = 0; i < rows; ++i) {
    pipeline::ChangeEvent e;
    e.op = pipeline::ChangeEvent::Op::kInsert;
    e.database = "shop";
    e.table = table;
    e.table_info = info;
    e.after.values = {mysql::Value::ofInt(first + i)};
    t.events.push_back(e);
  }
  return t;
}

// The API served over HTTP as `dts server` serves it (streamed bodies included).
class TestServer {
 public:
  TestServer(server::Api* api, int port) : api_(api) {
    http_.Get(".*",
              [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    http_.Post(".*",
               [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = port == 0 ? http_.bind_to_any_port("127.0.0.1") : port;
    if (port != 0) {
      for (int i = 0; i < 100 && !http_.bind_to_port("127.0.0.1", port); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    while (!http_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~TestServer() {
    stopping_.store(true);  // ends open streams, as `dts server` does when it stops
    http_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    server::HttpRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query[k] = v;
    r.authorization = req.get_header_value("Authorization");
    r.body = req.body;
    server::HttpResponse out = api_->handle(r);
    res.status = out.status;
    if (out.stream) {
      res.set_chunked_content_provider(
          out.content_type, [stream = out.stream, this](size_t, httplib::DataSink& sink) {
            std::string chunk;
            bool more = !stopping_.load() && stream(&chunk);
            if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
            if (!more) sink.done();
            return true;
          });
      return;
    }
    res.set_content(out.body, out.content_type.c_str());
  }

  server::Api* api_;
  httplib::Server http_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("dts_consumer_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    auto m = server::TaskManager::open(server::TaskManager::Options{dir_.string(), nullptr, 200});
    ASSERT_TRUE(m.ok()) << m.status().toString();
    manager_ = std::move(*m);
    api_ = std::make_unique<server::Api>(manager_.get(), kToken, nullptr);
    ASSERT_TRUE(manager_->create(kTracking).ok());
    auto config = server::parseTaskText(kTracking);
    ASSERT_TRUE(config.ok());
    auto log = task::openChangeLog(*config, dir_.string());
    ASSERT_TRUE(log.ok()) << log.status().toString();
    log_ = *log;
    server_ = std::make_unique<TestServer>(api_.get(), 0);
  }
  void TearDown() override {
    server_.reset();
    log_.reset();
    api_.reset();
    manager_.reset();
    std::filesystem::remove_all(dir_);
  }
  Options options(const std::string& group = "g") {
    Options o;
    o.server = server_->url();
    o.token = kToken;
    o.task = "orders-log";
    o.group = group;
    o.idle_reopen = std::chrono::milliseconds(300);
    o.retry_min = std::chrono::milliseconds(50);
    o.retry_max = std::chrono::milliseconds(200);
    return o;
  }
  void append(const pipeline::Transaction& t) {
    ASSERT_TRUE(log_->apply(t).ok());
    ASSERT_TRUE(log_->flush().ok());
  }

  // Reads with `o` on a thread until a record at offset `last` or beyond. Once `before` records
  // have arrived (after `settle`), the server goes away, `while_down` is appended, the server
  // comes back on its port and `after` (if any) is appended. The offsets read, in order.
  std::vector<int64_t> readThroughARestart(Options o, int64_t last, size_t before,
                                           const pipeline::Transaction& while_down,
                                           const std::optional<pipeline::Transaction>& after,
                                           std::chrono::milliseconds settle = {}) {
    const int port = server_->port();
    std::vector<int64_t> offsets;
    std::mutex mu;
    std::atomic<int> retries{0};
    o.on_retry = [&](const Status&, std::chrono::milliseconds) { retries.fetch_add(1); };
    Consumer c(o);
    std::thread reader([&] {
      Status st = c.runRecords([&](const Record& r) {
        std::lock_guard lock(mu);
        offsets.push_back(r.offset);
        return r.offset < last;
      });
      EXPECT_TRUE(st.ok()) << st.message();
    });
    auto count = [&] {
      std::lock_guard lock(mu);
      return offsets.size();
    };
    for (int i = 0; i < 200 && count() < before; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    EXPECT_EQ(count(), before);
    std::this_thread::sleep_for(settle);
    server_.reset();  // the server goes away
    append(while_down);
    for (int i = 0; i < 200 && retries.load() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    EXPECT_GT(retries.load(), 0);
    server_ = std::make_unique<TestServer>(api_.get(), port);
    if (after.has_value()) append(*after);
    reader.join();
    return offsets;
  }

  std::filesystem::path dir_;
  std::unique_ptr<server::TaskManager> manager_;
  std::unique_ptr<server::Api> api_;
  std::shared_ptr<sink::ChangeLog> log_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ConsumerTest, TransactionsInOrderAndAGroupResumesRightAfterItsCommit) {
  append(txn(1, 2));  // offsets 0-3
  append(txn(2, 1));  // 4-6
  append(txn(3, 3));  // 7-11
  std::vector<Transaction> seen;
  Consumer first(options());
  Status st = first.runTransactions([&](const Transaction& t) {
    seen.push_back(t);
    return seen.size() < 2;
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].gtid, "0-1-1");
  EXPECT_EQ(seen[0].id, "0-1-1");
  ASSERT_EQ(seen[0].records.size(), 2u);
  EXPECT_EQ(seen[0].records[0].offset, 1);
  EXPECT_EQ(seen[0].records[0].op, "insert");
  EXPECT_EQ(seen[0].records[1].value["after"]["id"], 1);
  EXPECT_EQ(seen[0].end_offset, 4);
  EXPECT_EQ(seen[0].event_count, 2);
  EXPECT_TRUE(seen[0].complete);
  EXPECT_EQ(seen[1].end_offset, 7);
  EXPECT_EQ(first.position(), 7);
  int64_t committed = 0;
  ASSERT_TRUE(first.committed(&committed).ok());
  EXPECT_EQ(committed, -1);  // nothing committed yet
  ASSERT_TRUE(first.commit().ok());
  ASSERT_TRUE(first.committed(&committed).ok());
  EXPECT_EQ(committed, 7);

  // The next member of the group starts right after the commit; another group from the start.
  std::vector<Transaction> next;
  Consumer second(options());
  st = second.runTransactions([&](const Transaction& t) {
    next.push_back(t);
    return false;
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].gtid, "0-1-3");
  EXPECT_EQ(next[0].records.front().offset, 8);
  Consumer other(options("other"));
  std::string gtid;
  ASSERT_TRUE(other
                  .runTransactions([&](const Transaction& t) {
                    gtid = t.gtid;
                    return false;
                  })
                  .ok());
  EXPECT_EQ(gtid, "0-1-1");
}

TEST_F(ConsumerTest, RecordsWithFiltersAndAutoCommitAfterEachTransaction) {
  append(txn(1, 1, "orders"));      // 0-2
  append(txn(2, 1, "customers"));   // 3-5
  append(txn(3, 2, "orders", 10));  // 6-9
  Options o = options();
  o.tables = {"shop.orders"};
  o.ops = {"insert"};
  o.auto_commit = true;
  std::vector<Record> seen;
  Consumer c(o);
  Status st = c.runRecords([&](const Record& r) {
    seen.push_back(r);
    return seen.size() < 3;
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(seen.size(), 3u);  // inserts of orders only: offsets 1, 7, 8
  EXPECT_EQ(seen[0].offset, 1);
  EXPECT_EQ(seen[1].offset, 7);
  EXPECT_EQ(seen[2].offset, 8);
  for (const auto& r : seen) EXPECT_EQ(r.value["table"], "orders");
  // Auto-commit after transactions 1 and 2 (6), and at the end of the run (after 8: 9).
  int64_t committed = 0;
  ASSERT_TRUE(c.committed(&committed).ok());
  EXPECT_EQ(committed, 9);
  EXPECT_EQ(c.lastCommitted(), 9);

  // Transactions the filters leave empty are passed, not delivered.
  Options t = options("tx");
  t.tables = {"orders"};
  t.auto_commit = true;
  std::vector<Transaction> txs;
  Consumer tc(t);
  ASSERT_TRUE(tc.runTransactions([&](const Transaction& x) {
                  txs.push_back(x);
                  return txs.size() < 2;
                }).ok());
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_EQ(txs[0].gtid, "0-1-1");
  EXPECT_EQ(txs[1].gtid, "0-1-3");
  EXPECT_EQ(txs[1].records.size(), 2u);
  ASSERT_TRUE(tc.committed(&committed).ok());
  EXPECT_EQ(committed, 10);
}

// With auto_commit_interval, a commit the interval put off is made once it has passed, also
// when nothing more arrives: a consumer that caught up and sits idle shows no lag, and a crash
// then repeats nothing.
TEST_F(ConsumerTest, ACommitPutOffByTheIntervalIsMadeWhileIdle) {
  Options o = options("idle");
  o.auto_commit = true;
  o.auto_commit_interval = std::chrono::milliseconds(400);
  Consumer c(o);
  std::atomic<int64_t> last{-1};
  std::thread reader([&] {
    Status st = c.runRecords([&](const Record& r) {
      last.store(r.offset);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.message();
  });
  auto committedNow = [&] {
    int64_t offset = -2;
    Consumer probe(options("idle"));
    EXPECT_TRUE(probe.committed(&offset).ok());
    return offset;
  };
  auto waitFor = [&](auto done) {
    for (int i = 0; i < 400 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return done();
  };
  // Three transactions in quick succession: the first is committed at once, the other two are
  // put off, then committed while the stream is idle.
  append(txn(1, 1));  // 0-2
  ASSERT_TRUE(waitFor([&] { return last.load() == 2; }));
  append(txn(2, 1));  // 3-5
  append(txn(3, 1));  // 6-8
  ASSERT_TRUE(waitFor([&] { return last.load() == 8; }));
  EXPECT_TRUE(waitFor([&] { return committedNow() == 9; })) << committedNow();
  EXPECT_EQ(c.lastCommitted(), 9);
  // Again after a pause longer than the interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  append(txn(4, 1));  // 9-11
  append(txn(5, 1));  // 12-14
  EXPECT_TRUE(waitFor([&] { return committedNow() == 15; })) << committedNow();
  c.stop();
  reader.join();
  EXPECT_EQ(committedNow(), 15);
}

TEST_F(ConsumerTest, LinesPassedOnWithoutParsingKeepOffsetsAndOps) {
  append(txn(1, 2));  // 0-3
  Options o = options();
  o.parse_values = false;
  o.auto_commit = true;
  std::vector<Record> seen;
  Consumer c(o);
  ASSERT_TRUE(c.runRecords([&](const Record& r) {
                 seen.push_back(r);
                 return r.op != "commit";
               }).ok());
  ASSERT_EQ(seen.size(), 4u);
  const char* ops[] = {"begin", "insert", "insert", "commit"};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(seen[i].op, ops[i]);
    EXPECT_EQ(nlohmann::json::parse(seen[i].line)["offset"], i);
  }
  EXPECT_TRUE(seen[1].value.is_null());        // a row: not parsed
  EXPECT_EQ(seen[3].value["event_count"], 2);  // markers are
  EXPECT_EQ(c.lastCommitted(), 4);
}

TEST_F(ConsumerTest, LargeTransactionsComeInBoundedParts) {
  append(txn(1, 200));  // 0-201
  Options o = options();
  o.max_transaction_bytes = 4096;
  std::vector<Transaction> parts;
  Consumer c(o);
  ASSERT_TRUE(c.runTransactions([&](const Transaction& t) {
                 parts.push_back(t);
                 return !t.complete;
               }).ok());
  ASSERT_GT(parts.size(), 2u);
  int64_t expect = 1;
  size_t rows = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].complete, i + 1 == parts.size());
    EXPECT_EQ(parts[i].gtid, "0-1-1");
    for (const auto& r : parts[i].records) EXPECT_EQ(r.offset, expect++);
    rows += parts[i].records.size();
    if (!parts[i].complete) {
      EXPECT_EQ(parts[i].end_offset, expect);
    }
  }
  EXPECT_EQ(rows, 200u);
  EXPECT_EQ(parts.back().end_offset, 202);
}

TEST_F(ConsumerTest, ReconnectsAfterAServerRestartAndResumesWithoutGapOrDuplicate) {
  append(txn(1, 1));  // 0-2; 3-5 written while the server is down, nothing after it
  EXPECT_EQ(readThroughARestart(options(), 5, 3, txn(2, 1), std::nullopt),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

// Every view format (debezium-json, canal-json, maxwell-json) knows each record's offset and
// its transaction: commits, resumption after a commit, and transactions work as with the native
// records, and the lines are the format's, byte for byte.
TEST_F(ConsumerTest, ViewFormatsCommitAndResumeRightAfterTheirCommit) {
  append(txn(1, 2));  // offsets 0-3
  append(txn(2, 1));  // 4-6
  append(txn(3, 3));  // 7-11
  for (const std::string format : {"debezium-json", "canal-json", "maxwell-json"}) {
    SCOPED_TRACE(format);
    Options o = options("g-" + format);
    o.format = format;
    o.parse_values = false;  // as dts subscribe reads them
    o.auto_commit = true;
    std::vector<Record> seen;
    Consumer first(o);
    Status st = first.runRecords([&](const Record& r) {
      seen.push_back(r);
      return seen.size() < 3;
    });
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_EQ(seen.size(), 3u);  // rows only: the format has no markers
    EXPECT_EQ(seen[0].offset, 1);
    EXPECT_EQ(seen[1].offset, 2);
    EXPECT_EQ(seen[2].offset, 5);
    for (const auto& r : seen) {
      EXPECT_EQ(r.op, "insert");
      auto line = nlohmann::json::parse(r.line);  // the format's own JSON, no envelope
      EXPECT_FALSE(line.contains("record")) << r.line;
      if (format == "debezium-json") {
        EXPECT_EQ(line["op"], "c") << r.line;
      } else {
        EXPECT_EQ(line["table"], "orders") << r.line;
      }
    }
    EXPECT_EQ(first.position(), 6);
    int64_t committed = -1;
    ASSERT_TRUE(first.committed(&committed).ok());
    EXPECT_EQ(committed, 6);  // auto-commit after transaction 1, and at the end of the run

    // The next run of the group starts right after the commit, in transactions this time.
    Options t = o;
    t.parse_values = true;
    std::vector<Transaction> txs;
    Consumer second(t);
    st = second.runTransactions([&](const Transaction& x) {
      txs.push_back(x);
      return false;
    });
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_EQ(txs.size(), 1u);
    EXPECT_EQ(txs[0].gtid, "0-1-3");
    EXPECT_EQ(txs[0].event_count, 3);
    EXPECT_EQ(txs[0].end_offset, 12);
    ASSERT_EQ(txs[0].records.size(), 3u);
    EXPECT_EQ(txs[0].records[0].offset, 8);
    EXPECT_TRUE(txs[0].records[0].value.is_object()) << txs[0].records[0].line;
    ASSERT_TRUE(second.committed(&committed).ok());
    EXPECT_EQ(committed, 12);
  }
}

// A view format across a server restart: reading resumes right after the last record delivered,
// nothing twice, nothing skipped.
TEST_F(ConsumerTest, ViewFormatsReconnectWithoutGapOrDuplicate) {
  for (const std::string format : {"debezium-json", "canal-json", "maxwell-json"}) {
    SCOPED_TRACE(format);
    TearDown();
    SetUp();
    append(txn(1, 2));  // 0-3; 4-6 while the server is down, 7-10 after
    Options o = options();
    o.format = format;
    // Idle reopenings of the long poll first (settle), then the restart.
    EXPECT_EQ(readThroughARestart(o, 9, 2, txn(2, 1), txn(3, 2), std::chrono::milliseconds(700)),
              (std::vector<int64_t>{1, 2, 5, 8, 9}));
  }
}

// A 40 MB record (one long line over thousands of chunks) arrives whole. Finding its end scans
// each chunk once (it rescanned the whole buffer per chunk: 13 s here, and long enough for
// --idle-exit-ms to give up on it); no timing is asserted, the bench is the place for that.
TEST_F(ConsumerTest, ALargeRecordArrivesWhole) {
  pipeline::Transaction t = txn(1, 1);
  auto info = std::make_shared<mysql::TableInfo>(*t.events[0].table_info);
  mysql::ColumnInfo note;
  note.name = "note";
  note.type = mysql::ColumnType::kBlob;
  note.collation = 45;  // utf8mb4_general_ci: a LONGTEXT
  info->columns.push_back(note);
  t.events[0].table_info = info;
  t.events[0].after.values.push_back(
      mysql::Value::ofText(mysql::Value::Kind::kString, std::string(40000000, 'x')));
  append(t);  // 0-2
  Options o = options("");
  o.parse_values = false;
  size_t longest = 0;
  bool whole = false;
  Consumer c(o);
  ASSERT_TRUE(c.runRecords([&](const Record& r) {
                 longest = std::max(longest, r.line.size());
                 if (r.op == "insert")
                   whole = r.line.find(std::string(40000000, 'x')) != std::string::npos;
                 return r.op != "insert";
               }).ok());
  EXPECT_GT(longest, 40000000u);
  EXPECT_TRUE(whole);
}

// idleFor() counts only time with no byte arriving: a long line that trickles in is not idle,
// a server out of reach is not idle, and idle starts once the stream is quiet.
TEST_F(ConsumerTest, IdleMeansConnectedWithNoByteArriving) {
  httplib::Server slow;
  const std::string line =
      "{\"offset\":0,\"op\":\"insert\",\"pad\":\"" + std::string(800000, 'x') + "\"}\n";
  slow.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    auto sent = std::make_shared<size_t>(0);
    res.set_chunked_content_provider(
        "application/x-ndjson", [&line, sent](size_t, httplib::DataSink& sink) {
          if (*sent < line.size()) {  // 16 pieces, 60 ms apart: about a second for one line
            std::this_thread::sleep_for(std::chrono::milliseconds(60));
            size_t n = std::min(line.size() - *sent, line.size() / 16 + 1);
            sink.write(line.data() + *sent, n);
            *sent += n;
            return true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // quiet, connected
          return true;
        });
  });
  int port = slow.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { slow.listen_after_bind(); });
  Options o = options("");
  o.server = "http://127.0.0.1:" + std::to_string(port);
  o.parse_values = false;
  o.idle_reopen = std::chrono::milliseconds(60000);
  Consumer c(o);
  std::atomic<bool> delivered{false};
  std::atomic<int64_t> idle_before_ms{0}, idle_after_ms{0};
  std::thread sampler([&] {
    for (int i = 0; i < 1000; ++i) {
      int64_t idle = c.idleFor().count();
      if (!delivered.load()) {
        idle_before_ms.store(std::max(idle_before_ms.load(), idle));
      } else {
        idle_after_ms.store(idle);
        if (idle > 500) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    c.stop();
  });
  size_t size = 0;
  Status st = c.runRecords([&](const Record& r) {
    size = r.line.size();
    delivered.store(true);
    return true;
  });
  sampler.join();
  slow.stop();
  serving.join();
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(size + 1, line.size());
  EXPECT_LT(idle_before_ms.load(), 200) << "the line was arriving";
  EXPECT_GT(idle_after_ms.load(), 500) << "quiet after it";
  EXPECT_EQ(c.idleFor().count(), 0);  // not running

  // Out of reach: never idle, however long it retries.
  Options gone = options("");
  gone.server = "http://127.0.0.1:1";
  gone.retry_window = std::chrono::milliseconds(600);
  Consumer g(gone);
  std::atomic<int64_t> idle_gone{0};
  std::atomic<bool> over{false};
  std::thread watch([&] {
    while (!over.load()) {
      idle_gone.store(std::max(idle_gone.load(), g.idleFor().count()));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  EXPECT_EQ(g.runRecords([](const Record&) { return true; }).code(), Status::Code::kUnavailable);
  over.store(true);
  watch.join();
  EXPECT_EQ(idle_gone.load(), 0);
}

TEST_F(ConsumerTest, StopEndsABlockedRead) {
  Consumer c(options());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    c.stop();
  });
  Status st = c.runRecords([](const Record&) { return true; });
  stopper.join();
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(c.position(), -1);
  EXPECT_EQ(c.commit().code(), Status::Code::kInvalidArgument);  // nothing read
}

TEST_F(ConsumerTest, ErrorsThatRetryingCannotMend) {
  auto run = [](Options o) { return Consumer(o).runRecords([](const Record&) { return true; }); };
  Options bad_token = options();
  bad_token.token = "wrong";
  EXPECT_EQ(run(bad_token).code(), Status::Code::kUnauthenticated);
  Options unknown = options();
  unknown.task = "nope";
  EXPECT_EQ(run(unknown).code(), Status::Code::kNotFound);
  Options bad_group = options("a b");
  EXPECT_EQ(run(bad_group).code(), Status::Code::kInvalidArgument);
  Options bad_from = options();
  bad_from.from = "yesterday";
  Status st = run(bad_from);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("from: must be earliest"), std::string::npos) << st.message();
  Options bad_url = options();
  bad_url.server = "ftp://x";
  EXPECT_EQ(run(bad_url).code(), Status::Code::kInvalidArgument);
  Options no_group = options("");
  no_group.auto_commit = true;
  EXPECT_EQ(run(no_group).code(), Status::Code::kInvalidArgument);
  // Unreachable with a retry window: kUnavailable once it passed.
  Options gone = options();
  gone.server = "http://127.0.0.1:1";
  gone.retry_window = std::chrono::milliseconds(300);
  EXPECT_EQ(run(gone).code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace dts::consumer
