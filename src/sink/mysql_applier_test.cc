#include "sink/mysql_applier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sink/fake_destination_for_tests.h"

namespace dts::sink {
namespace {

// The transaction a checkpoint's pending DDL mark names ("GTID#STATEMENT#FINGERPRINT", or the
// GTID alone).
std::string markedDdl(const std::string& pending) {
  return pending.substr(0, pending.find('#'));
}

// A sink's position in text ("" = none), for comparing with expected texts.
std::string resumeText(const dts::sink::Sink& s) {
  auto p = s.resumePosition();
  return p.ok() && p->has_value() ? (*p)->toString() : "";
}
std::string durableText(const dts::sink::Sink& s) {
  auto p = s.durablePosition();
  return p.has_value() ? p->toString() : "";
}

using pipeline::ChangeEvent;
using pipeline::Transaction;
using testing::FakeDestination;

TEST(SourceCommitTest, TheReceiptRefinesTheWholeSecondStamp) {
  using std::chrono::milliseconds;
  auto at = [](int64_t ms) { return std::chrono::system_clock::time_point(milliseconds(ms)); };
  // Streaming live: received 250 ms into the stamped second; it committed no later than that.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, at(100250)), 100250.0);
  // A backlog read long after: the end of the stamped second is the latest it can have committed.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, at(160000)), 100999.0);
  // dts's clock behind the source's, or no receipt: the stamp.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, at(99500)), 100000.0);
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 0, {}), 100000.0);
  // The source recorded the commit in microseconds (MySQL): exact, whatever the receipt.
  EXPECT_DOUBLE_EQ(sourceCommitMs(100, 100123456, at(160000)), 100123.456);
}

// Sessions of an applier with W workers, in the order open() makes them.
constexpr int kControl = 0;
constexpr int kWorker1 = 1;

std::shared_ptr<const mysql::TableInfo> tableT() {
  auto column = [](const char* name) {
    mysql::ColumnInfo c;
    c.name = name;
    c.type = mysql::ColumnType::kLong;
    c.nullable = false;
    return c;
  };
  // d.t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)
  static const auto t = std::make_shared<const mysql::TableInfo>(
      mysql::TableInfo{0, "d", "t", {column("id"), column("v")}, {0}});
  return t;
}

ChangeEvent insertRow(int id, int v) {
  ChangeEvent e;
  e.op = ChangeEvent::Op::kInsert;
  e.database = "d";
  e.table = "t";
  e.table_info = tableT();
  e.after.values = {mysql::Value::ofInt(id), mysql::Value::ofInt(v)};
  return e;
}

Transaction txn(uint64_t seq, std::vector<ChangeEvent> events) {
  Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.events = std::move(events);
  return t;
}

Transaction ddl(uint64_t seq, const std::string& sql) {
  ChangeEvent e;
  e.op = ChangeEvent::Op::kDdl;
  e.database = "d";
  e.sql = sql;
  return txn(seq, {e});
}

// The row "(id,v)" as the applier writes it.
std::string row(int id, int v) {
  return "(" + std::to_string(id) + "," + std::to_string(v) + ")";
}

class ApplierFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dest_ = FakeDestination::create();
    dest_->addKey("d", "t", "PRIMARY", {"id"});
  }

  // batch = 1: every transaction without a conflict goes to the least loaded worker.
  std::unique_ptr<MysqlApplier> open(int workers = 2, size_t batch = 512) {
    ApplierOptions o;
    o.task = "task1";
    o.workers = workers;
    o.batch_transactions = batch;
    o.batch_fill = std::chrono::milliseconds(0);
    auto a = MysqlApplier::open(o, dest_->factory());
    EXPECT_TRUE(a.ok()) << a.status().toString();
    return a.ok() ? std::move(*a) : nullptr;
  }

  // Where in the committed statements `needle` first appears; -1 when it does not.
  int committedAt(const std::string& needle) const {
    auto all = dest_->committed();
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].sql.find(needle) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }
  size_t committedCount(const std::string& needle) const {
    size_t n = 0;
    for (const auto& c : dest_->committed()) {
      size_t at = 0;
      while ((at = c.sql.find(needle, at)) != std::string::npos) {
        ++n;
        at += needle.size();
      }
    }
    return n;
  }

  // Applies DDL 0-1-1 (ALTER TABLE t ADD COLUMN w) while the control session dies after the DDL
  // ran and before the record that it ran: the checkpoint is left with the DDL pending. The
  // hook that killed it stays set.
  void interruptDdlBeforeItsRecord() {
    dest_->setHook([&](int session, const std::string& sql) -> unsigned {
      if (session == kControl && sql.find("pending_ddl") != std::string::npos &&
          sql.find("ALTER") == std::string::npos && committedAt("ALTER TABLE") >= 0)
        return FakeDestination::kConnectionLost;
      return 0;
    });
    auto a = open(1);
    ASSERT_NE(a, nullptr);
    EXPECT_FALSE(a->apply(ddl(1, "ALTER TABLE t ADD COLUMN w INT")).ok());
    a.reset();
    EXPECT_EQ(markedDdl(dest_->checkpoint("task1")[0].pending_ddl), "0-1-1");
  }

  // Worker 1 holds its first statement of a streamed transaction's rows (v = 2) until *release
  // (setting *running): the pieces after it queue meanwhile.
  void holdTheFirstStreamedStatement(std::atomic<bool>* running, std::atomic<bool>* release) {
    dest_->setHook([running, release](int session, const std::string& sql) -> unsigned {
      if (session == kWorker1 && sql.find(",2)") != std::string::npos && !running->exchange(true)) {
        while (!*release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return 0;
    });
  }
  static bool waitUntil(const std::atomic<bool>& flag) {
    for (int wait = 0; wait < 500 && !flag; ++wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return flag;
  }

  std::shared_ptr<FakeDestination> dest_;
};

TEST_F(ApplierFakeTest, CommitsInParallelAndTheCheckpointIsTheAppliedPrefix) {
  // Worker 2's commits wait until released: the checkpoint may not pass its transactions.
  // Worker 1's first commit waits until worker 2 has a transaction: a worker that commits at once
  // keeps getting the next one (the tracker stays on it), so without this worker 2 might get none.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool worker2_has_work = false;
  bool worker1_waited = false;
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    std::unique_lock<std::mutex> lock(mu);
    if (session == kWorker1 + 1 && sql != "COMMIT" &&
        (sql.find("REPLACE") != std::string::npos || sql.find("INSERT") != std::string::npos)) {
      worker2_has_work = true;
      cv.notify_all();
    }
    if (session == kWorker1 && sql == "COMMIT" && !worker1_waited) {
      worker1_waited = true;
      // Bounded only so that a change of scheduling fails the assertion below instead of hanging.
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return worker2_has_work; });
    }
    if (session == kWorker1 + 1 && sql == "COMMIT") cv.wait(lock, [&] { return release; });
    return 0;
  });
  auto a = open(2, 1);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, i * 10)})).ok());
  // Worker 1 commits what it got; the position stops before the first transaction of worker 2.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string held = durableText(*a);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(worker2_has_work);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(a->flush().ok());
  EXPECT_EQ(durableText(*a), "0-1-20");
  EXPECT_NE(held, "0-1-20");
  for (int i = 1; i <= 20; ++i) EXPECT_EQ(committedCount(row(i, i * 10)), 1u) << i;
  // Every transaction is in exactly the slots that committed it; their union is everything.
  auto slots = dest_->checkpoint("task1");
  mysql::GtidSet all;
  for (const auto& [slot, r] : slots) {
    auto g = mysql::GtidSet::parse(r.applied);
    ASSERT_TRUE(g.ok());
    all.addAll(*g);
  }
  EXPECT_EQ(all.toString(), "0:1-20");
  SinkStats s = a->stats();
  EXPECT_EQ(s.transactions_applied, 20u);
  EXPECT_EQ(s.rows_applied, 20u);
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(dest_->sessionsOpen(), 0);
}

TEST_F(ApplierFakeTest, TransactionsOnTheSameRowKeepTheirOrder) {
  auto a = open(4, 1);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 40; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i % 3, i)})).ok());
  ASSERT_TRUE(a->close().ok());
  // The last write of each key wins at the destination: it must be the last one committed.
  for (int k = 0; k < 3; ++k) {
    int last_i = 40 - ((40 - k) % 3);
    int last = committedAt(row(k, last_i));
    ASSERT_GE(last, 0) << k;
    for (int i = k == 0 ? 3 : k; i < last_i; i += 3) EXPECT_LT(committedAt(row(k, i)), last);
  }
}

// A unique key on a prefix (UNIQUE (v(2))): rows whose whole values differ may collide on it, so
// changes of the table conflict table-wide and commit in source order, whichever worker is free.
TEST_F(ApplierFakeTest, APrefixUniqueKeyMakesEveryChangeOfTheTableConflict) {
  dest_->addKey("d", "t", "uv", {"v"}, false, 2);
  auto a = open(4, 1);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 40; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 1000 + i)})).ok());
  ASSERT_TRUE(a->close().ok());
  for (int i = 2; i <= 40; ++i)
    EXPECT_LT(committedAt(row(i - 1, 999 + i)), committedAt(row(i, 1000 + i))) << i;
}

TEST_F(ApplierFakeTest, DdlIsABarrierAndIsRecordedAfterItRuns) {
  auto a = open(2);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 1)})).ok());
  ASSERT_TRUE(a->apply(ddl(6, "ALTER TABLE t ADD COLUMN w INT")).ok());
  for (int i = 7; i <= 9; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 1)})).ok());
  ASSERT_TRUE(a->close().ok());
  int at = committedAt("ALTER TABLE");
  ASSERT_GE(at, 0);
  for (int i = 1; i <= 5; ++i) EXPECT_LT(committedAt(row(i, 1)), at) << i;
  for (int i = 7; i <= 9; ++i) EXPECT_GT(committedAt(row(i, 1)), at) << i;
  auto slots = dest_->checkpoint("task1");
  EXPECT_EQ(slots[0].pending_ddl, "");
  EXPECT_EQ(slots[0].position.empty(), false);
}

// The rows a destination foreign key's ON DELETE CASCADE changes are in no transaction's key
// hashes: the transaction whose delete fires it runs alone, after every earlier transaction
// committed and before any later one starts, with foreign_key_checks on around its DELETE.
TEST_F(ApplierFakeTest, ATransactionThatFiresForeignKeyActionsRunsAlone) {
  dest_->addReferencing("d", "t", "d", "c", "c_ibfk_1", "CASCADE", "RESTRICT", "id");
  std::mutex mu;
  std::set<int> in_txn;  // sessions between their first data statement and COMMIT
  int acting = -1;       // the session running the delete, until it commits
  int overlaps = 0;      // data statements of two sessions while one of them is the delete's
  std::vector<std::string> acting_statements;       // what the delete's transaction ran
  std::map<int, std::vector<std::string>> current;  // each session's open transaction
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    if (session == kControl) return 0;
    std::unique_lock<std::mutex> lock(mu);
    if (sql == "COMMIT" || sql == "ROLLBACK") {
      if (session == acting || sql.find("(5,1)") != std::string::npos) {
        // Held a moment: a transaction that did not wait would start meanwhile. Not a timing
        // assertion: with the barrier nothing else can run, however long this is.
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        lock.lock();
      }
      in_txn.erase(session);
      if (session == acting) {
        acting = -1;
        acting_statements = current[session];
      }
      current.erase(session);
      return 0;
    }
    if (sql.find("checkpoint") != std::string::npos) return 0;
    const bool data = sql.starts_with("REPLACE") || sql.starts_with("INSERT") ||
                      sql.starts_with("DELETE") || sql.starts_with("UPDATE");
    if (sql.starts_with("DELETE FROM `d`.`t` WHERE `id`=")) {  // the acting row's own DELETE
      for (int other : in_txn) overlaps += other != session;
      acting = session;
    } else if (data && acting != -1 && session != acting) {
      ++overlaps;
    }
    if (data || sql.starts_with("SET SESSION foreign_key_checks")) current[session].push_back(sql);
    if (data) in_txn.insert(session);
    return 0;
  });
  auto a = open(4, 1);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 1)})).ok());
  ChangeEvent del;
  del.op = ChangeEvent::Op::kDelete;
  del.database = "d";
  del.table = "t";
  del.table_info = tableT();
  del.before.values = {mysql::Value::ofInt(100), mysql::Value::ofInt(1)};
  ASSERT_TRUE(a->apply(txn(6, {del})).ok());
  for (int i = 7; i <= 12; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 1)})).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(overlaps, 0);
  EXPECT_EQ(acting_statements, (std::vector<std::string>{"SET SESSION foreign_key_checks=1",
                                                         "DELETE FROM `d`.`t` WHERE `id`=100",
                                                         "SET SESSION foreign_key_checks=0"}));
  int at = committedAt("DELETE FROM `d`.`t` WHERE `id`=100");
  ASSERT_GE(at, 0);
  for (int i = 1; i <= 5; ++i) EXPECT_LT(committedAt(row(i, 1)), at) << i;
  for (int i = 7; i <= 12; ++i) EXPECT_GT(committedAt(row(i, 1)), at) << i;
  EXPECT_EQ(a->stats().foreign_key_action_transactions, 1u);
  // A delete the source wrote with foreign_key_checks off fires nothing: no barrier.
  del.foreign_key_checks = false;
  auto b = open(4, 1);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->apply(txn(13, {del})).ok());
  ASSERT_TRUE(b->close().ok());
  EXPECT_EQ(b->stats().foreign_key_action_transactions, 0u);

  // The child table was loaded without a key at 0-1-20: a delete it already shows acts on
  // nothing (its rows of transactions up to 0-1-20 are skipped, and acting would remove them);
  // a later one acts.
  dest_->setHook(nullptr);
  auto c = open(2, 1);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->setTableSnapshot("d", "c", "0-1-20").ok());
  del.foreign_key_checks = true;
  ASSERT_TRUE(c->apply(txn(20, {del})).ok());
  ASSERT_TRUE(c->apply(txn(21, {del})).ok());
  ASSERT_TRUE(c->close().ok());
  EXPECT_EQ(c->stats().foreign_key_action_transactions, 1u);
}

// DDL runs under the source session's sql_mode, in the destination's terms: a MySQL source's
// default rounding is TIME_ROUND_FRACTIONAL on MariaDB. A destination too old for that name
// (error 1231) runs it without the fractional-seconds mode, with a warning; any other refusal of
// the session stops the task.
TEST_F(ApplierFakeTest, DdlRunsUnderTheSourceSqlModeAndWithoutTheFractionalModeOnAnOldServer) {
  Transaction t = ddl(1, "ALTER TABLE t ADD COLUMN w INT");
  auto session = std::make_shared<pipeline::DdlSession>();
  session->sql_mode = (1ull << 21) | (1ull << 2);  // STRICT_TRANS_TABLES, ANSI_QUOTES
  session->flavor = mysql::ServerFlavor::kMySql;
  t.events[0].ddl_session = session;
  std::vector<std::string> sets;
  std::mutex mu;
  dest_->setHook([&](int, const std::string& sql) -> unsigned {
    if (sql.find("sql_mode = ") == std::string::npos) return 0;
    std::lock_guard<std::mutex> lock(mu);
    sets.push_back(sql);
    return sql.find("TIME_ROUND_FRACTIONAL") != std::string::npos ? 1231u : 0u;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->apply(t).ok());
  ASSERT_TRUE(a->apply(txn(2, {insertRow(2, 1)})).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_GE(committedAt("ALTER TABLE"), 0);
  ASSERT_GE(sets.size(), 2u);
  EXPECT_NE(sets[0].find("sql_mode = 'ANSI_QUOTES,STRICT_TRANS_TABLES,NO_DIR_IN_CREATE,"
                         "TIME_ROUND_FRACTIONAL'"),
            std::string::npos)
      << sets[0];
  EXPECT_NE(sets[1].find("sql_mode = 'ANSI_QUOTES,STRICT_TRANS_TABLES,NO_DIR_IN_CREATE'"),
            std::string::npos)
      << sets[1];

  // Refused for another reason: the DDL does not run without the source's mode.
  dest_ = FakeDestination::create();
  dest_->addKey("d", "t", "PRIMARY", {"id"});
  dest_->setHook([&](int, const std::string& sql) -> unsigned {
    return sql.find("sql_mode = 'ANSI_QUOTES") != std::string::npos ? 1231u : 0u;
  });
  auto b = open(1);
  ASSERT_NE(b, nullptr);
  Status st = b->apply(t);
  if (st.ok()) st = b->close();
  EXPECT_FALSE(st.ok());
  EXPECT_LT(committedAt("ALTER TABLE"), 0);
}

TEST_F(ApplierFakeTest, ADdlInterruptedBeforeItsRecordIsReplayedOnce) {
  interruptDdlBeforeItsRecord();
  dest_->setHook(nullptr);
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(markedDdl(a->checkpoint().pending_ddl), "0-1-1");
  ASSERT_TRUE(a->apply(ddl(1, "ALTER TABLE t ADD COLUMN w INT")).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(committedCount("ALTER TABLE"), 2u);  // replayed: the destination tolerates it
  EXPECT_EQ(dest_->checkpoint("task1")[0].pending_ddl, "");
}

TEST_F(ApplierFakeTest, AReplayedDdlTheDestinationAlreadyHasIsSkippedAndCounted) {
  interruptDdlBeforeItsRecord();
  // The column is there now: the replay fails as MariaDB does ("Duplicate column name 'w'").
  // (Sessions are numbered across appliers: the new control session is not kControl.)
  dest_->setHook([&](int, const std::string& sql) -> unsigned {
    return sql.find("ALTER TABLE") != std::string::npos ? 1060u : 0u;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->stats().ddl_replays_skipped, 0u);
  ASSERT_TRUE(a->apply(ddl(1, "ALTER TABLE t ADD COLUMN w INT")).ok());
  ASSERT_TRUE(a->apply(txn(2, {insertRow(2, 1)})).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(a->stats().ddl_replays_skipped, 1u);
  EXPECT_EQ(a->stats().ddl_applied, 1u);
  EXPECT_EQ(dest_->checkpoint("task1")[0].pending_ddl, "");
  EXPECT_GE(committedAt(row(2, 1)), 0);
}

// CREATE TABLE ... SELECT is one source transaction: its DDL, then the new table's rows. The
// table is created first (a DDL commits by itself), the rows then commit with the checkpoint
// that has the transaction; until they do, the DDL stays pending. Interrupted between the two,
// the next run replays the CREATE (skipped: the destination has it) and applies the rows, once.
TEST_F(ApplierFakeTest, CreateTableSelectCreatesTheTableThenCommitsItsRowsWithTheCheckpoint) {
  auto ctas = [] {
    Transaction t = ddl(1, "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)");
    t.events.push_back(insertRow(1, 10));
    t.events.push_back(insertRow(2, 20));
    return t;
  };
  std::atomic<bool> lost{false};
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    if (session == kWorker1 && sql == "COMMIT" && !lost.exchange(true))
      return FakeDestination::kConnectionLost;
    return 0;
  });
  {
    auto a = open(1);
    ASSERT_NE(a, nullptr);
    Status st = a->apply(ctas());
    if (st.ok()) st = a->flush();
    EXPECT_FALSE(st.ok());
    (void)a->close();
  }
  EXPECT_EQ(committedCount("CREATE TABLE t "), 1u);
  EXPECT_EQ(committedCount(row(1, 10)), 0u);
  auto slots = dest_->checkpoint("task1");
  EXPECT_EQ(markedDdl(slots[0].pending_ddl), "0-1-1");
  for (const auto& [slot, r] : slots) EXPECT_EQ(r.applied, "") << slot;

  // The table is there now: the replay fails as MariaDB does ("Table 't' already exists").
  dest_->setHook([&](int, const std::string& sql) -> unsigned {
    return sql.find("CREATE TABLE t ") != std::string::npos ? 1050u : 0u;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->apply(ctas()).ok());
  ASSERT_TRUE(a->apply(txn(2, {insertRow(3, 30)})).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(committedCount(row(1, 10)), 1u);
  EXPECT_EQ(committedCount(row(2, 20)), 1u);
  EXPECT_GT(committedAt(row(1, 10)), committedAt("CREATE TABLE t "));
  EXPECT_EQ(a->stats().ddl_replays_skipped, 1u);
  EXPECT_EQ(a->stats().rows_applied, 3u);
  EXPECT_EQ(durableText(*a), "0-1-2");
  EXPECT_EQ(dest_->checkpoint("task1")[0].pending_ddl, "");
}

TEST_F(ApplierFakeTest, ACreateTableSelectAppliesWhole) {
  auto a = open(2);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->apply(txn(1, {insertRow(9, 9)})).ok());
  Transaction t = ddl(2, "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)");
  t.events.push_back(insertRow(1, 10));
  ASSERT_TRUE(a->apply(std::move(t)).ok());
  ASSERT_TRUE(a->close().ok());
  const int created = committedAt("CREATE TABLE t ");
  ASSERT_GE(created, 0);
  EXPECT_LT(committedAt(row(9, 9)), created);  // a barrier, as any DDL
  EXPECT_GT(committedAt(row(1, 10)), created);
  SinkStats s = a->stats();
  EXPECT_EQ(s.ddl_applied, 1u);
  EXPECT_EQ(s.transactions_applied, 2u);
  EXPECT_EQ(s.rows_applied, 2u);
  EXPECT_EQ(durableText(*a), "0-1-2");
}

TEST_F(ApplierFakeTest, ANewDdlTheDestinationAlreadyHasFailsTheTask) {
  // Not a replay: the destination had the column before dts ran the DDL. Skipping would hide a
  // destination that differs from the source, so the task fails naming the DDL.
  dest_->setHook([&](int, const std::string& sql) -> unsigned {
    return sql.find("ALTER TABLE") != std::string::npos ? 1060u : 0u;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  Status st = a->apply(ddl(1, "ALTER TABLE t ADD COLUMN w INT"));
  if (st.ok()) st = a->flush();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("applying DDL of transaction 0-1-1"), std::string::npos)
      << st.message();
  EXPECT_EQ(a->stats().ddl_replays_skipped, 0u);
}

TEST_F(ApplierFakeTest, ADeadlockIsRetriedAndAppliesOnce) {
  std::atomic<int> deadlocks{0};
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    if (session == kWorker1 && sql.find("INTO `d`.`t`") != std::string::npos && deadlocks < 2) {
      ++deadlocks;
      return 1213;
    }
    return 0;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 7)})).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(deadlocks.load(), 2);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(committedCount(row(i, 7)), 1u);
}

TEST_F(ApplierFakeTest, KilledMidBatchLosesAndDoublesNothing) {
  // Worker 1's session dies in its second batch, after some statements ran.
  std::atomic<int> commits{0};
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    if (session != kWorker1) return 0;
    if (sql == "COMMIT") ++commits;
    if (commits >= 1 && sql.find(row(9, 1)) != std::string::npos)
      return FakeDestination::kConnectionLost;
    return 0;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  std::vector<Transaction> all;
  for (int i = 1; i <= 12; ++i) all.push_back(txn(i, {insertRow(i, 1)}));
  Status st;
  for (int i = 0; i < 4 && st.ok(); ++i) st = a->apply(all[static_cast<size_t>(i)]);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(a->flush().ok());
  for (int i = 4; i < 12 && st.ok(); ++i) st = a->apply(all[static_cast<size_t>(i)]);
  if (st.ok()) st = a->flush();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_FALSE(a->apply(txn(13, {insertRow(13, 1)})).ok()) << "errors are sticky";
  a.reset();
  // A new applier resumes from the checkpoint: what committed is skipped, the rest applied.
  dest_->setHook(nullptr);
  a = open(1);
  ASSERT_NE(a, nullptr);
  // Batches before the failing one may have committed; the failing one did not.
  auto resume = mysql::Gtid::parse(resumeText(*a));
  ASSERT_TRUE(resume.ok()) << resumeText(*a);
  EXPECT_GE(resume->seq, 4u);
  EXPECT_LT(resume->seq, 9u);
  for (const Transaction& t : all) ASSERT_TRUE(a->apply(t).ok());
  ASSERT_TRUE(a->close().ok());
  for (int i = 1; i <= 12; ++i) EXPECT_EQ(committedCount(row(i, 1)), 1u) << i;
}

TEST_F(ApplierFakeTest, TwoAppliersOfOneTaskNeverRunAtOnce) {
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  ApplierOptions o;
  o.task = "task1";
  auto b = MysqlApplier::open(o, dest_->factory());
  EXPECT_EQ(b.status().code(), Status::Code::kUnavailable);
  ASSERT_TRUE(a->close().ok());
  b = MysqlApplier::open(o, dest_->factory());
  EXPECT_TRUE(b.ok()) << b.status().toString();
}

// A transaction in pieces, as the reader cuts a large one.
std::vector<Transaction> pieces(uint64_t seq, int first_id, int rows, int per_piece, int v) {
  std::vector<Transaction> out;
  for (int i = 0; i < rows; i += per_piece) {
    std::vector<ChangeEvent> events;
    for (int k = i; k < std::min(rows, i + per_piece); ++k)
      events.push_back(insertRow(first_id + k, v));
    Transaction t = txn(seq, std::move(events));
    t.first_piece = i == 0;
    t.last_piece = i + per_piece >= rows;
    out.push_back(std::move(t));
  }
  return out;
}

// The same, as updates of rows with v = 1 to v = 2 (an insert's row is new: nothing to read
// ahead).
std::vector<Transaction> updatePieces(uint64_t seq, int first_id, int rows, int per_piece) {
  auto out = pieces(seq, first_id, rows, per_piece, 2);
  for (Transaction& p : out) {
    for (ChangeEvent& e : p.events) {
      e.op = ChangeEvent::Op::kUpdate;
      e.before.values = {e.after.values[0], mysql::Value::ofInt(1)};
    }
  }
  return out;
}

TEST_F(ApplierFakeTest, AStreamedTransactionCommitsOnceWithItsCheckpoint) {
  // Nothing of the streamed transaction may be visible before its last piece.
  std::atomic<int> big_statements{0}, last_session{0};
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    last_session = std::max(last_session.load(), session);
    if (session == kWorker1 && sql.starts_with("INSERT") && sql.find(",2)") != std::string::npos)
      ++big_statements;
    return 0;
  });
  auto a = open(3);
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 1)})).ok());
  auto big = pieces(11, 100, 50, 10, 2);
  ASSERT_EQ(big.size(), 5u);
  for (size_t i = 0; i + 1 < big.size(); ++i) ASSERT_TRUE(a->apply(big[i]).ok());
  for (int wait = 0; wait < 500 && big_statements < 4; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(big_statements.load(), 4);
  EXPECT_EQ(committedAt(row(100, 2)), -1);
  // While it is open, its rows so far are reported (a progress that would otherwise show
  // nothing until the commit), and they are not counted as applied.
  SinkStats open = a->stats();
  for (int wait = 0; wait < 500 && open.open_transaction_rows < 40; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    open = a->stats();
  }
  EXPECT_EQ(open.open_transaction_gtid, "0-1-11");
  EXPECT_EQ(open.open_transaction_rows, 40u);
  EXPECT_EQ(open.rows_applied, 10u);
  ASSERT_TRUE(a->apply(big.back()).ok());
  for (int i = 12; i <= 20; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i % 10 + 1, 3)})).ok());
  ASSERT_TRUE(a->close().ok());
  int first_big = committedAt(row(100, 2));
  ASSERT_GE(first_big, 0);
  for (int i = 1; i <= 10; ++i) EXPECT_LT(committedAt(row(i, 1)), first_big) << "barrier " << i;
  for (int i = 12; i <= 20; ++i)
    EXPECT_GT(committedAt(row(i % 10 + 1, 3)), committedAt(row(149, 2))) << "after it " << i;
  for (int k = 0; k < 50; ++k) EXPECT_EQ(committedCount(row(100 + k, 2)), 1u) << k;
  // The pieces ran on worker 1 in one destination transaction that wrote slot 1.
  for (const auto& c : dest_->committed()) {
    if (c.sql.find(",2)") != std::string::npos) {
      EXPECT_EQ(c.session, kWorker1);
    }
  }
  auto g = mysql::GtidSet::parse(dest_->checkpoint("task1")[1].applied);
  ASSERT_TRUE(g.ok());
  mysql::Gtid id11 = *mysql::Gtid::parse("0-1-11");
  EXPECT_TRUE(g->contains(id11));
  SinkStats s = a->stats();
  EXPECT_EQ(s.transactions_applied, 20u);
  EXPECT_EQ(s.rows_applied, 69u);
  EXPECT_EQ(s.open_transaction_gtid, "");
  EXPECT_EQ(s.open_transaction_rows, 0u);
  // Inserts only: nothing to read ahead, and no session opened for it (control, 3 workers).
  EXPECT_EQ(last_session.load(), 3);
}

TEST_F(ApplierFakeTest, AStreamedTransactionIsOneQueuedTransactionHoweverManyPiecesWait) {
  std::atomic<bool> running{false}, release{false};
  holdTheFirstStreamedStatement(&running, &release);
  auto a = open(2);
  ASSERT_NE(a, nullptr);
  auto big = pieces(5, 100, 30, 10, 2);
  ASSERT_EQ(big.size(), 3u);
  ASSERT_TRUE(a->apply(big[0]).ok());
  ASSERT_TRUE(waitUntil(running));
  ASSERT_TRUE(a->apply(big[1]).ok());  // waits while the first runs
  EXPECT_EQ(a->stats().queued_transactions, 1u) << "two pieces of one transaction";
  release = true;
  ASSERT_TRUE(a->apply(big[2]).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(a->stats().queued_transactions, 0u);
  for (int k = 0; k < 30; ++k) EXPECT_EQ(committedCount(row(100 + k, 2)), 1u) << k;
}

// The rows of a streamed transaction's next piece are read on a session of their own while
// worker 1 applies the piece before, so that their pages are in the destination's memory when
// its statements run (sink/row_prefetcher.h). The reads change nothing.
TEST_F(ApplierFakeTest, AStreamedTransactionsNextPieceIsReadAheadOnASessionOfItsOwn) {
  constexpr int kPrefetch = 3;  // control, two workers, then the prefetcher
  std::atomic<bool> running{false}, release{false};
  holdTheFirstStreamedStatement(&running, &release);
  auto a = open(2);
  ASSERT_NE(a, nullptr);
  auto big = updatePieces(5, 100, 30, 10);
  ASSERT_TRUE(a->apply(big[0]).ok());
  ASSERT_TRUE(waitUntil(running));
  ASSERT_TRUE(a->apply(big[1]).ok());  // queued while the first piece runs
  const std::string second =
      "SELECT COUNT(*) FROM `d`.`t` WHERE (`id`) IN "
      "((110),(111),(112),(113),(114),(115),(116),(117),(118),(119))";
  auto readsOf = [&](const std::string& sql) {
    for (const auto& r : dest_->reads())
      if (r.sql == sql) return r.session;
    return -1;
  };
  for (int wait = 0; wait < 500 && readsOf(second) < 0; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(readsOf(second), kPrefetch) << "the second piece's rows, read while the first runs";
  release = true;
  ASSERT_TRUE(a->apply(big[2]).ok());
  ASSERT_TRUE(a->close().ok());
  for (int k = 0; k < 30; ++k) EXPECT_EQ(committedCount(row(100 + k, 2)), 1u) << k;
  for (const auto& c : dest_->committed()) EXPECT_NE(c.session, kPrefetch) << c.sql;
  for (const auto& r : dest_->reads()) EXPECT_EQ(r.session, kPrefetch) << r.sql;
}

// A read ahead that fails (here: refused) ends reading ahead; the transaction applies the same.
TEST_F(ApplierFakeTest, AReadAheadThatFailsChangesNothingElse) {
  std::atomic<int> reads{0};
  dest_->setHook([&](int, const std::string& sql) -> unsigned {
    if (sql.rfind("SELECT COUNT(*)", 0) == 0) {
      ++reads;
      return 1142;  // SELECT command denied
    }
    return 0;
  });
  auto a = open(2);
  ASSERT_NE(a, nullptr);
  for (auto& p : updatePieces(5, 100, 50, 10)) ASSERT_TRUE(a->apply(std::move(p)).ok());
  ASSERT_TRUE(a->close().ok());
  for (int k = 0; k < 50; ++k) EXPECT_EQ(committedCount(row(100 + k, 2)), 1u) << k;
  EXPECT_LE(reads.load(), 1);
  EXPECT_TRUE(dest_->reads().empty());
  EXPECT_EQ(a->stats().transactions_applied, 1u);
}

TEST_F(ApplierFakeTest, AStreamedTransactionKilledInTheMiddleIsReadAgainWhole) {
  std::atomic<int> statements{0};
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    if (session == kWorker1 && sql.find("INTO `d`.`t`") != std::string::npos && ++statements == 3)
      return FakeDestination::kConnectionLost;
    return 0;
  });
  auto a = open(2);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->apply(txn(1, {insertRow(1, 1)})).ok());
  auto big = pieces(2, 100, 50, 10, 2);
  Status st;
  for (const Transaction& p : big) {
    st = a->apply(p);
    if (!st.ok()) break;
  }
  if (st.ok()) st = a->flush();
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_EQ(a->stats().open_transaction_rows, 10u) << "one piece ran before the failure";
  Status closed = a->close();  // fails again with the error it met
  EXPECT_FALSE(closed.ok());
  EXPECT_EQ(a->stats().open_transaction_rows, 0u) << "rolled back with its session";
  a.reset();
  EXPECT_EQ(committedAt(",2)"), -1) << "nothing of it committed";
  dest_->setHook(nullptr);
  a = open(2);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->checkpoint().applied.toString(), "0:1");
  for (const Transaction& p : big) ASSERT_TRUE(a->apply(p).ok());
  ASSERT_TRUE(a->close().ok());
  for (int k = 0; k < 50; ++k) EXPECT_EQ(committedCount(row(100 + k, 2)), 1u) << k;
}

TEST_F(ApplierFakeTest, ADeadlockInAStreamedTransactionFailsRetryablyWithoutARetry) {
  std::atomic<int> tries{0};
  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    if (session == kWorker1 && sql.find(row(125, 2)) != std::string::npos) {
      ++tries;
      return 1213;
    }
    return 0;
  });
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  Status st;
  for (const Transaction& p : pieces(1, 100, 50, 10, 2)) {
    st = a->apply(p);
    if (!st.ok()) break;
  }
  if (st.ok()) st = a->flush();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("(error 1213)"), std::string::npos) << st.toString();
  EXPECT_NE(st.message().find("streamed transaction 0-1-1"), std::string::npos) << st.toString();
  EXPECT_EQ(tries.load(), 1);
  EXPECT_EQ(committedAt(",2)"), -1);
}

TEST_F(ApplierFakeTest, PiecesOutOfOrderAreRefused) {
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  auto big = pieces(1, 100, 30, 10, 2);
  EXPECT_EQ(a->apply(big[1]).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(a->apply(big[0]).ok());
  EXPECT_EQ(a->apply(txn(2, {insertRow(1, 1)})).code(), Status::Code::kInvalidArgument);
}

// Upserted rows go by bulk INSERT after the DELETE of their keys, one per streamed piece (the
// kill, deadlock and ordering tests above run through it too), and by bulk REPLACE per table of a
// batch of whole transactions when the table's only unique key is the identity (its keys are
// read again before the commit). A destination without bulk statements, or one that refuses to
// prepare another (max_prepared_stmt_count), gets multi-row statements.
TEST_F(ApplierFakeTest, RowsGoByBulkReplaceWhereTheDestinationCan) {
  auto a = open(1);
  ASSERT_NE(a, nullptr);
  for (const Transaction& p : pieces(1, 100, 50, 10, 2)) ASSERT_TRUE(a->apply(p).ok());
  ASSERT_TRUE(a->apply(txn(2, {insertRow(7, 3)})).ok());
  ASSERT_TRUE(a->close().ok());
  auto all = dest_->committed();
  ASSERT_EQ(all.size(), 11u);
  for (size_t i = 0; i < 5; ++i) {
    std::string keys;
    std::string expected = "INSERT INTO `d`.`t` (`id`,`v`) VALUES (?,?) -- 10 rows: ";
    for (int k = 0; k < 10; ++k) {
      expected += (k > 0 ? "," : "") + row(100 + 10 * i + k, 2);
      keys += (k > 0 ? ",(" : "(") + std::to_string(100 + 10 * i + k) + ")";
    }
    EXPECT_EQ(all[2 * i].sql, "DELETE FROM `d`.`t` WHERE (`id`) IN (" + keys + ")");
    EXPECT_EQ(all[2 * i + 1].sql, expected);
  }
  EXPECT_EQ(all[10].sql, "REPLACE INTO `d`.`t` (`id`,`v`) VALUES (?,?) -- 1 rows: (7,3)");

  for (bool refuses : {false, true}) {
    auto plain = FakeDestination::create();
    plain->addKey("d", "t", "PRIMARY", {"id"});
    plain->setBulk(refuses);  // no bulk statements at all, or bulk whose prepare is refused
    if (refuses) {
      plain->setHook([](int, const std::string& sql) -> unsigned {
        return sql.find("(?,?)") != std::string::npos ? 1461 : 0;  // max_prepared_stmt_count
      });
    }
    ApplierOptions o;
    o.task = "task1";
    auto b = MysqlApplier::open(o, plain->factory());
    ASSERT_TRUE(b.ok());
    for (const Transaction& p : pieces(1, 100, 50, 10, 2)) ASSERT_TRUE((*b)->apply(p).ok());
    ASSERT_TRUE((*b)->apply(txn(2, {insertRow(7, 3)})).ok());
    ASSERT_TRUE((*b)->close().ok());
    auto done = plain->committed();
    ASSERT_EQ(done.size(), 11u) << refuses;
    EXPECT_EQ(done[1].sql.substr(0, 49), "INSERT INTO `d`.`t` (`id`,`v`) VALUES (100,2),(10");
    EXPECT_EQ(done[10].sql, "REPLACE INTO `d`.`t` (`id`,`v`) VALUES (7,3)");
  }
}

// Transactions the full phase's chunks may already hold (the replace window) go by REPLACE: the
// mix of snapshots converges. Every later one deletes its rows' keys and INSERTs them, and a
// collision on another unique key stops the applier with what to do, not retryable, nothing of
// the batch committed.
TEST_F(ApplierFakeTest, OnlyTheFullPhaseWindowGoesByReplace) {
  dest_->addKey("d", "t", "uv", {"v"});  // a second unique key: no REPLACE outside the window
  auto a = open(1, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->addReplaceWindow("0-1-2").ok());
  ASSERT_TRUE(a->addReplaceWindow("0-1-1").ok());  // the union: still up to 2
  EXPECT_FALSE(a->addReplaceWindow("0-1-x").ok());
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(a->apply(txn(i, {insertRow(i, 5)})).ok());
  ASSERT_TRUE(a->close().ok());
  EXPECT_EQ(committedCount("REPLACE INTO `d`.`t`"), 2u);
  EXPECT_EQ(committedCount("INSERT INTO `d`.`t`"), 2u);
  EXPECT_EQ(committedCount("DELETE FROM `d`.`t` WHERE (`id`) IN ((3))"), 1u);
  EXPECT_EQ(committedCount("DELETE FROM `d`.`t` WHERE (`id`) IN ((4))"), 1u);
  EXPECT_LT(committedAt("DELETE FROM `d`.`t` WHERE (`id`) IN ((3))"), committedAt(row(3, 5)));

  dest_->setHook([&](int session, const std::string& sql) -> unsigned {
    (void)session;
    return sql.starts_with("INSERT INTO `d`.`t`") ? 1062 : 0;
  });
  auto b = open(1, 512);
  ASSERT_NE(b, nullptr);
  Status st = b->apply(txn(5, {insertRow(5, 5), insertRow(6, 5)}));
  if (st.ok()) st = b->flush();
  if (st.ok()) st = b->close();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition) << st.toString();
  EXPECT_FALSE(st.isRetryable());
  EXPECT_NE(st.message().find("(error 1062)"), std::string::npos) << st.toString();
  EXPECT_NE(st.message().find("a row collides at the destination with another row on that unique "
                              "key"),
            std::string::npos)
      << st.toString();
  EXPECT_NE(st.message().find("drop the destination's extra unique key"), std::string::npos);
  EXPECT_EQ(committedAt(row(5, 5)), -1);
}

// A table whose only unique key is the identity goes by REPLACE, and its keys are read again in
// the same destination transaction before the commit: a unique key added meanwhile rolls the
// batch back (the REPLACE may have deleted another row) and fails it retryably; the next applier
// reads the keys afresh and deletes + inserts, so the collision stops it instead.
TEST_F(ApplierFakeTest, AUniqueKeyAddedWhileReplacingRollsTheBatchBack) {
  auto a = open(1, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->apply(txn(1, {insertRow(1, 5)})).ok());
  ASSERT_TRUE(a->flush().ok());
  EXPECT_EQ(committedCount("REPLACE INTO `d`.`t`"), 1u);
  dest_->addKey("d", "t", "uv", {"v"});  // a DBA adds a unique key
  Status st = a->apply(txn(2, {insertRow(2, 5)}));
  if (st.ok()) st = a->flush();
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("the unique keys of `d`.`t` at the destination changed"),
            std::string::npos)
      << st.toString();
  EXPECT_EQ(committedAt(row(2, 5)), -1) << "rolled back";
  a.reset();
  auto b = open(1, 1);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->apply(txn(2, {insertRow(2, 5)})).ok());
  ASSERT_TRUE(b->close().ok());
  EXPECT_EQ(committedCount("DELETE FROM `d`.`t` WHERE (`id`) IN ((2))"), 1u);
  EXPECT_EQ(committedCount("INSERT INTO `d`.`t` (`id`,`v`) VALUES (?,?) -- 1 rows: (2,5)"), 1u);
}

// A column the destination computes (generated) is never written, whatever the statement: its
// values in the images are dropped, and the table's other columns go as usual.
TEST_F(ApplierFakeTest, GeneratedColumnsOfTheDestinationAreNeverWritten) {
  dest_->addGenerated("d", "t", "v");
  auto a = open(1, 1);  // one transaction per batch: no compaction of the three on key 7
  ASSERT_NE(a, nullptr);
  ChangeEvent update = insertRow(7, 4);
  update.op = ChangeEvent::Op::kUpdate;
  update.before.values = {mysql::Value::ofInt(7), mysql::Value::ofInt(3)};
  ChangeEvent del = insertRow(7, 4);
  del.op = ChangeEvent::Op::kDelete;
  del.before = del.after;
  del.after = mysql::RowImage();
  ASSERT_TRUE(a->apply(txn(1, {insertRow(7, 3)})).ok());
  ASSERT_TRUE(a->apply(txn(2, {update})).ok());
  ASSERT_TRUE(a->apply(txn(3, {del})).ok());
  for (const Transaction& p : pieces(4, 100, 30, 10, 2)) ASSERT_TRUE(a->apply(p).ok());
  ASSERT_TRUE(a->close().ok());
  auto all = dest_->committed();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].sql, "REPLACE INTO `d`.`t` (`id`) VALUES (?) -- 1 rows: (7)");
  EXPECT_EQ(committedCount("`v`"), 0u);
  EXPECT_EQ(committedCount("DELETE FROM `d`.`t` WHERE (`id`) IN ((7))"), 1u);
  EXPECT_EQ(committedCount("VALUES (?) -- 10 rows: (100),(101)"), 1u);  // the streamed rows, no v
  // The source's definition is untouched: only what the applier writes is cut.
  EXPECT_EQ(tableT()->columns.size(), 2u);
}

}  // namespace
}  // namespace dts::sink
