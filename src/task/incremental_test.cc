#include "task/incremental.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/byte_reader.h"
#include "mysql/event_builder_for_tests.h"
#include "source/binlog_fixture_for_tests.h"

namespace dts::task {
namespace {

// A position from its text ("" = none); the tests' shorthand.
std::optional<mysql::GtidPosition> pos(const std::string& text) {
  auto p = mysql::GtidPosition::parseStored(text);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : std::nullopt;
}

// incrementalStartPosition over texts, its result as text ("" = none).
std::string startOf(const std::string& task_start, const std::string& resume) {
  auto r = incrementalStartPosition(pos(task_start), pos(resume));
  EXPECT_TRUE(r.ok()) << r.status().toString();
  return r.ok() && r->has_value() ? (*r)->toString() : "";
}

TEST(IncrementalStartPosition, TakesTheFurthestPerMariadbDomain) {
  EXPECT_EQ(startOf("0-1-100", ""), "0-1-100");
  EXPECT_EQ(startOf("", "0-1-7"), "0-1-7");
  EXPECT_EQ(startOf("", ""), "");
  EXPECT_EQ(startOf("0-1-100", "0-1-250"), "0-1-250");
  // A checkpoint can never be behind the start, but if it were the start wins.
  EXPECT_EQ(startOf("0-1-100", "0-1-50"), "0-1-100");
  // A domain the checkpoint never saw keeps its start; a failover's new server id is followed.
  EXPECT_EQ(startOf("0-1-100,1-5-9", "0-2-130"), "0-2-130,1-5-9");
}

TEST(IncrementalStartPosition, UnitesMysqlSets) {
  const std::string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100";
  EXPECT_EQ(startOf(a, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-150:152"),
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-150:152");
}

TEST(IncrementalStartPosition, RefusesACheckpointOfTheOtherFlavour) {
  auto r =
      incrementalStartPosition(pos("0-1-100"), pos("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-150"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("MariaDB position (0-1-100)"), std::string::npos)
      << r.status().toString();
  EXPECT_NE(r.status().message().find("another source"), std::string::npos);
}

// ---- The engine over its seams: a fixture binlog, a fake schema loader, a fake sink. ----

// What the fake sink saw; shared with the test (the engine owns the sink).
struct SinkRecord {
  mutable std::mutex mu;
  std::vector<pipeline::Transaction> applied;
  bool closed = false;
  std::string resume;     // resumePosition() in text; "" = none
  size_t stop_after = 0;  // with stop: set *stop once this many pieces were applied
  std::atomic<bool>* stop = nullptr;
  uint64_t ddl_replays_skipped = 0;  // reported by stats()
  // failure() once fail_after pieces were applied: a worker that failed in the background.
  size_t fail_after = 0;
  Status failure;
};

class FakeSink final : public sink::Sink {
 public:
  explicit FakeSink(std::shared_ptr<SinkRecord> r) : r_(std::move(r)) {}
  Result<std::optional<mysql::GtidPosition>> resumePosition() const override {
    return mysql::GtidPosition::parseStored(r_->resume);
  }
  Status apply(pipeline::Transaction piece) override {
    std::lock_guard<std::mutex> lock(r_->mu);
    if (r_->closed) return Status::Internal("apply after close");
    r_->applied.push_back(std::move(piece));
    if (r_->stop != nullptr && r_->applied.size() == r_->stop_after) r_->stop->store(true);
    if (r_->fail_after != 0 && r_->applied.size() == r_->fail_after) {
      r_->failure = Status::Unavailable("worker 1: lost the destination applying 0-1-5");
    }
    return Status::OK();
  }
  Status failure() const override {
    std::lock_guard<std::mutex> lock(r_->mu);
    return r_->failure;
  }
  Status flush() override { return Status::OK(); }
  Status close() override {
    std::lock_guard<std::mutex> lock(r_->mu);
    r_->closed = true;
    return Status::OK();
  }
  std::optional<mysql::GtidPosition> durablePosition() const override {
    std::lock_guard<std::mutex> lock(r_->mu);
    if (r_->applied.empty()) return std::nullopt;
    return *mysql::GtidPosition::parseStored(r_->applied.back().gtid);
  }
  sink::SinkStats stats() const override {
    std::lock_guard<std::mutex> lock(r_->mu);
    sink::SinkStats s;
    s.transactions_applied = r_->applied.size();
    s.ddl_replays_skipped = r_->ddl_replays_skipped;
    for (const auto& t : r_->applied) {
      for (const auto& e : t.events) s.rows_applied += e.op != pipeline::ChangeEvent::Op::kDdl;
    }
    return s;
  }
  std::vector<sink::TableChanges> changesByTable() const override {
    std::lock_guard<std::mutex> lock(r_->mu);
    std::map<std::pair<std::string, std::string>, uint64_t> rows;
    for (const auto& t : r_->applied) {
      for (const auto& e : t.events) {
        if (e.op != pipeline::ChangeEvent::Op::kDdl) ++rows[{e.database, e.table}];
      }
    }
    std::vector<sink::TableChanges> out;
    for (const auto& [k, n] : rows) out.push_back({k.first, k.second, n});
    return out;
  }

 private:
  std::shared_ptr<SinkRecord> r_;
};

class IncrementalEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    ASSERT_TRUE(
        source::testing::writeBinlogFile(path_, source::testing::shopFixture().events).ok());
    config_.name = "replay";
  }

  IncrementalSeams seams() {
    IncrementalSeams s;
    s.reader = source::fileReaderFactory({path_}, [loads = loads_] {
      return std::make_unique<source::testing::FakeSchemaLoader>(source::testing::shopSchema(),
                                                                 loads);
    });
    s.sink = [record = record_](
                 const TaskConfig&,
                 std::shared_ptr<const pipeline::Mapping>) -> Result<std::unique_ptr<sink::Sink>> {
      return std::unique_ptr<sink::Sink>(std::make_unique<FakeSink>(record));
    };
    s.clock = &clock_;
    return s;
  }

  // One run of the engine over `seams` for a task moving `databases`.
  Status run(IncrementalSeams s, const std::vector<std::string>& databases,
             const std::string& start = "") {
    std::vector<pipeline::DatabaseSelection> objects;
    for (const auto& db : databases) objects.push_back({db, "", {}, {}});
    auto mapping = pipeline::Mapping::create(objects);
    EXPECT_TRUE(mapping.ok());
    std::vector<CatalogTable> tables;
    auto engine = incrementalFactory(std::move(s))(
        IncrementalContext{config_, *mapping, tables, "", nullptr});
    EXPECT_TRUE(engine.ok());
    return (*engine)->run(pos(start), &progress_, stop_);
  }

  std::vector<std::string> appliedGtids() const {
    std::vector<std::string> out;
    for (const auto& t : record_->applied) out.push_back(t.gtid);
    return out;
  }

  source::testing::ScratchDir scratch_{"dts-incremental"};
  const std::string path_ = scratch_.path() + "/binlog.000001";
  TaskConfig config_;
  std::shared_ptr<SinkRecord> record_ = std::make_shared<SinkRecord>();
  std::shared_ptr<std::vector<std::string>> loads_ = std::make_shared<std::vector<std::string>>();
  FakeClock clock_;
  Progress progress_;
  std::atomic<bool> stop_{false};
};

TEST_F(IncrementalEngineTest, ReplaysAFixtureBinlogWithoutAServer) {
  record_->stop = &stop_;
  record_->stop_after = 5;  // the last transaction of the fixture
  Status st = run(seams(), {"shop"});
  ASSERT_TRUE(st.ok()) << st.toString();
  ASSERT_EQ(appliedGtids(),
            (std::vector<std::string>{"0-1-1", "0-1-2", "0-1-3", "0-1-4", "0-1-5"}));
  const auto& a = record_->applied;
  for (const auto& t : a) {
    EXPECT_TRUE(t.whole());
    EXPECT_EQ(t.received, clock_.now());  // stamped with the seams' clock
  }
  ASSERT_EQ(a[0].events.size(), 1u);
  EXPECT_EQ(a[0].events[0].op, pipeline::ChangeEvent::Op::kDdl);
  ASSERT_EQ(a[1].events.size(), 2u);
  EXPECT_EQ(a[1].events[0].op, pipeline::ChangeEvent::Op::kInsert);
  EXPECT_EQ(a[1].events[0].table_info->columns[1].name, "name");  // completed by the tracker
  EXPECT_EQ(a[1].events[1].after.values[0], mysql::Value::ofInt(2));
  EXPECT_TRUE(a[2].events.empty());  // other.x: not moved, not decoded; its GTID still recorded
  ASSERT_EQ(a[3].events.size(), 2u);
  EXPECT_EQ(a[3].events[0].op, pipeline::ChangeEvent::Op::kUpdate);
  EXPECT_EQ(a[3].events[1].op, pipeline::ChangeEvent::Op::kDelete);
  // Every DDL reaches the mapping stage (a qualified statement may touch a moved table), which
  // decides: CREATE TABLE y in `other` touches none, so its transaction reaches the sink empty,
  // still carrying its GTID (mapping_stage_test covers a DDL from another database that does).
  EXPECT_EQ(a[4].gtid, "0-1-5");
  EXPECT_TRUE(a[4].events.empty());
  // shop.t named by the schema history from the stream's CREATE TABLE; other.x never looked up.
  EXPECT_EQ(*loads_, std::vector<std::string>{});
  EXPECT_TRUE(record_->closed);
  // Published on the way out.
  EXPECT_EQ(progress_.checkpoint(), "0-1-5");
  EXPECT_EQ(progress_.rowsMoved(), 4u);
  Progress::Table* t = progress_.findTable("shop", "t");
  ASSERT_NE(t, nullptr);  // created during the incremental phase
  EXPECT_EQ(t->changes_applied.load(), 4u);
  EXPECT_TRUE(t->done.load());
}

TEST_F(IncrementalEngineTest, DdlReplaysTheSinkSkippedAreCountedAsADegradedMode) {
  record_->stop = &stop_;
  record_->stop_after = 5;
  record_->ddl_replays_skipped = 2;
  progress_.restoreDegraded({{"ddl_replay_skipped", 1}});  // an earlier run's count
  Status st = run(seams(), {"shop"});
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(progress_.degradedCount(Degraded::kDdlReplaySkipped), 3u);
  std::map<std::string, uint64_t> stored;
  progress_.storeDegraded(&stored);
  EXPECT_EQ(stored["ddl_replay_skipped"], 3u);
}

TEST_F(IncrementalEngineTest, StopsBetweenTransactionsAndCommitsWhatItGave) {
  record_->stop = &stop_;
  record_->stop_after = 2;
  Status st = run(seams(), {"shop"});
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(appliedGtids(), (std::vector<std::string>{"0-1-1", "0-1-2"}));
  EXPECT_TRUE(record_->closed);
  EXPECT_EQ(progress_.checkpoint(), "0-1-2");
}

TEST_F(IncrementalEngineTest, TheEndOfAFiniteInputIsAnErrorNamingThePhase) {
  Status st = run(seams(), {"shop"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("incremental phase of task 'replay'"), std::string::npos)
      << st.toString();
  EXPECT_NE(st.message().find("ended"), std::string::npos) << st.toString();
  EXPECT_EQ(record_->applied.size(), 5u);  // everything before the end was given
  EXPECT_TRUE(record_->closed);
}

TEST_F(IncrementalEngineTest, WithDdlOffTransactionsKeepTheirGtidsWithoutTheStatements) {
  config_.options.ddl = false;
  record_->stop = &stop_;
  record_->stop_after = 5;
  ASSERT_TRUE(run(seams(), {"shop"}).ok());
  ASSERT_EQ(record_->applied.size(), 5u);
  EXPECT_EQ(record_->applied[0].gtid, "0-1-1");
  EXPECT_TRUE(record_->applied[0].events.empty());
  EXPECT_TRUE(record_->applied[4].events.empty());
  EXPECT_EQ(record_->applied[1].events.size(), 2u);
  // Each statement left out is counted (and logged), never dropped silently: CREATE TABLE t of
  // shop; CREATE TABLE y of `other` concerns nothing the task moves and is not counted.
  std::map<std::string, uint64_t> stored;
  progress_.storeDegraded(&stored);
  EXPECT_EQ(stored["ddl_not_applied"], 1u);
}

// The fixture's events, then a source with nothing more to send: the next read blocks until
// interrupt(), as a live stream's does.
class IdleAtEndInput final : public source::BinlogInput {
 public:
  explicit IdleAtEndInput(std::unique_ptr<source::BinlogInput> in) : in_(std::move(in)) {}
  Result<std::string_view> nextEvent() override {
    auto r = in_->nextEvent();
    if (r.ok() || !in_->ended()) return r;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return interrupted_; });
    return Status::Aborted("interrupted while idle");
  }
  bool ended() const override { return false; }
  const mysql::BinlogPosition& position() const override { return in_->position(); }
  mysql::BinlogPosition nextPosition() const override { return in_->nextPosition(); }
  std::string describe() const override { return in_->describe(); }
  void interrupt() override {
    in_->interrupt();
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
    cv_.notify_all();
  }
  bool caughtUp() const override { return true; }

 private:
  std::unique_ptr<source::BinlogInput> in_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
};

// A sink's worker fails after the source's last transaction: the run ends with its error while
// the source has nothing more to send, instead of looking healthy until the next write.
TEST_F(IncrementalEngineTest, ASinkFailureEndsTheRunWhileTheSourceIsIdle) {
  IncrementalSeams s = seams();
  s.reader =
      [path = path_, loads = loads_](
          const std::optional<mysql::GtidPosition>&,
          source::ChangeReaderOptions options) -> Result<std::unique_ptr<source::ChangeReader>> {
    return std::make_unique<source::ChangeReader>(
        std::make_unique<IdleAtEndInput>(source::fileInput({path})),
        std::make_unique<source::testing::FakeSchemaLoader>(source::testing::shopSchema(), loads),
        std::move(options));
  };
  record_->fail_after = 5;  // the fixture's last transaction
  // Only a hang detector: without the watch the run would wait for the source forever.
  std::atomic<bool> returned{false};
  std::thread guard([&] {
    for (int i = 0; i < 600 && !returned.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop_.store(true);
  });
  Status st = run(std::move(s), {"shop"});
  returned.store(true);
  guard.join();
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("lost the destination applying 0-1-5"), std::string::npos)
      << st.toString();
  EXPECT_EQ(appliedGtids().size(), 5u);
}

// A binlog that jumps over a transaction (0-1-2 then 0-1-4: the node applied 0-1-3 without
// logging it) stops the run before the transaction after the jump: nothing of it is applied, the
// checkpoint stays before it, and the error names the node and the missing range.
TEST_F(IncrementalEngineTest, ASeqNoJumpStopsBeforeItNamingTheMissingTransactions) {
  const auto fixture = source::testing::shopFixture();
  std::vector<std::string> events;
  for (size_t i = 0; i < fixture.events.size(); ++i) {
    if (i >= fixture.transaction_starts[2] && i < fixture.transaction_starts[3]) continue;
    events.push_back(fixture.events[i]);
  }
  ASSERT_TRUE(source::testing::writeBinlogFile(path_, events).ok());
  config_.source.endpoint = "127.0.0.1:3307";
  config_.source.secondary_node = "node-2";
  Status st = run(seams(), {"shop"});
  ASSERT_EQ(st.code(), Status::Code::kFailedPrecondition) << st.toString();
  EXPECT_NE(st.message().find("transactions 0-1-3 (1) are missing from the binlog of node node-2 "
                              "(127.0.0.1:3307): it goes from 0-1-2 straight to 0-1-4"),
            std::string::npos)
      << st.toString();
  EXPECT_NE(st.message().find("incremental phase of task 'replay'"), std::string::npos);
  EXPECT_EQ(appliedGtids(), (std::vector<std::string>{"0-1-1", "0-1-2"}));
  EXPECT_TRUE(record_->closed);
  EXPECT_EQ(progress_.checkpoint(), "0-1-2");
}

// Resumed past the hole, the same binlog reads on: the jump is at or before the position.
TEST_F(IncrementalEngineTest, AJumpBeforeThePositionIsNotTheTasks) {
  const auto fixture = source::testing::shopFixture();
  std::vector<std::string> events;
  for (size_t i = 0; i < fixture.events.size(); ++i) {
    if (i >= fixture.transaction_starts[2] && i < fixture.transaction_starts[3]) continue;
    events.push_back(fixture.events[i]);
  }
  ASSERT_TRUE(source::testing::writeBinlogFile(path_, events).ok());
  IncrementalSeams s = seams();
  s.reader = [files = s.reader](const std::optional<mysql::GtidPosition>&,
                                source::ChangeReaderOptions o) {
    return files(std::nullopt, std::move(o));  // the files from their start
  };
  record_->resume = "0-1-3";
  record_->stop = &stop_;
  record_->stop_after = 4;
  Status st = run(std::move(s), {"shop"});
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(appliedGtids().back(), "0-1-5");
}

TEST_F(IncrementalEngineTest, ReadsFromTheFurthestOfTaskStartAndCheckpoint) {
  record_->resume = "0-1-3";
  std::vector<std::string> asked;
  IncrementalSeams s = seams();
  s.reader = [&asked, files = s.reader](const std::optional<mysql::GtidPosition>& from,
                                        source::ChangeReaderOptions o) {
    asked.push_back(from.has_value() ? from->toString() : "");
    // The fixture from its start; the position is what matters.
    return files(std::nullopt, std::move(o));
  };
  record_->stop = &stop_;
  record_->stop_after = 1;
  ASSERT_TRUE(run(std::move(s), {"shop"}, "0-1-2").ok());
  EXPECT_EQ(asked, std::vector<std::string>{"0-1-3"});

  // The file reader itself refuses a position it cannot honour, and the error says where.
  Status refused = run(seams(), {"shop"}, "0-1-2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("incremental phase of task 'replay'"), std::string::npos);
}

TEST_F(IncrementalEngineTest, ADefinitionMismatchOfAMovedTableNamesThePhaseAndThePosition) {
  // Moving `other` too: other.x must be completed and the loader does not know it.
  Status st = run(seams(), {"shop", "other"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("incremental phase of task 'replay': decoding binlog file " + path_),
            std::string::npos)
      << st.toString();
  EXPECT_EQ(appliedGtids(), (std::vector<std::string>{"0-1-1", "0-1-2"}));
  EXPECT_TRUE(record_->closed);
}

TEST_F(IncrementalEngineTest, TheThrottlePacesOnTheSeamsClock) {
  config_.options.incremental_limits.max_rps = 1;
  record_->stop = &stop_;
  record_->stop_after = 5;
  const auto before = clock_.now();
  const auto wall = std::chrono::steady_clock::now();
  ASSERT_TRUE(run(seams(), {"shop"}).ok());
  EXPECT_EQ(record_->applied.size(), 5u);
  // 6 events at 1 row/s: seconds of the fake clock, not of the wall.
  EXPECT_GE(clock_.now() - before, std::chrono::seconds(4));
  EXPECT_LT(std::chrono::steady_clock::now() - wall, std::chrono::seconds(4));
}

// DDL a tracking task records and a sync task cannot apply (MariaDB; each statement its own
// transaction, default database shop):
//   0-1-1  CREATE TABLE t (id INT, name VARCHAR(40))
//   0-1-2  RENAME TABLE t TO other.t2          (t leaves the selection)
//   0-1-3  insert other.t2 (1)                   (no longer selected)
//   0-1-4  CREATE TABLE m (id INT PRIMARY KEY, a INT)
//   0-1-5  ALTER TABLE m ADD COLUMN z INT       (m is moved with columns [id, z])
//   0-1-6  RENAME TABLE other.t2 TO t3          (enters the selection as shop.t3)
class DdlOfMovedTablesTest : public IncrementalEngineTest {
 protected:
  void SetUp() override {
    IncrementalEngineTest::SetUp();
    namespace t = mysql::testing;
    t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
    const auto standalone = mysql::MariaGtidEvent::kFlStandalone;
    std::vector<std::string> events = {b.formatDescription()};
    auto ddl = [&](uint64_t seq, const char* sql) {
      events.push_back(b.mariaGtid(seq, 0, standalone));
      events.push_back(b.query("shop", sql));
    };
    ddl(1, "CREATE TABLE t (id INT, name VARCHAR(40))");
    ddl(2, "RENAME TABLE t TO other.t2");
    events.push_back(b.mariaGtid(3, 0, mysql::MariaGtidEvent::kFlTransactional));
    events.push_back(b.query("other", "BEGIN"));
    const std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id"),
                                             t::colVarchar("name", 160)};
    events.push_back(b.tableMap(2, "other", "t2", cols, /*full_metadata=*/false));
    std::string id, name = std::string(1, 1) + "x";
    putUint(&id, 1, 4);
    events.push_back(b.rows(mysql::EventType::kWriteRowsV1, 2, 2, t::rowImage({id, name}, {})));
    events.push_back(b.xid(3));
    ddl(4, "CREATE TABLE m (id INT PRIMARY KEY, a INT)");
    ddl(5, "ALTER TABLE m ADD COLUMN z INT");
    ddl(6, "RENAME TABLE other.t2 TO t3");
    ASSERT_TRUE(source::testing::writeBinlogFile(path_, events).ok());
  }

  Status runWith(TaskKind kind) {
    config_.kind = kind;
    pipeline::TableSelection m;
    m.name = "m";
    m.columns = {"id", "z"};
    pipeline::TableSelection t, t3;
    t.name = "t";
    t3.name = "t3";
    auto mapping = pipeline::Mapping::create({{"shop", "", {t, m, t3}, {}}});
    EXPECT_TRUE(mapping.ok()) << mapping.status().toString();
    std::vector<CatalogTable> tables;
    auto engine =
        incrementalFactory(seams())(IncrementalContext{config_, *mapping, tables, "", nullptr});
    EXPECT_TRUE(engine.ok());
    record_->stop = &stop_;
    record_->stop_after = 6;
    return (*engine)->run(std::nullopt, &progress_, stop_);
  }
};

TEST_F(DdlOfMovedTablesTest, ATrackingTaskRecordsEveryStatementAndKeepsStreaming) {
  Status st = runWith(TaskKind::kTracking);
  ASSERT_TRUE(st.ok()) << st.toString();
  const auto& a = record_->applied;
  ASSERT_EQ(a.size(), 6u);
  // Leaving: a record for the selected side, as the client sent it, with no definition.
  ASSERT_EQ(a[1].events.size(), 1u);
  EXPECT_EQ(a[1].events[0].op, pipeline::ChangeEvent::Op::kDdl);
  EXPECT_EQ(a[1].events[0].sql, "RENAME TABLE t TO other.t2");
  EXPECT_EQ(a[1].events[0].database, "shop");
  EXPECT_EQ(a[1].events[0].table, "t");
  EXPECT_EQ(a[1].events[0].table_info, nullptr);
  // Its rows are no longer logged.
  EXPECT_EQ(a[2].gtid, "0-1-3");
  EXPECT_TRUE(a[2].events.empty());
  // A column subset: the new definition cut to the selected columns.
  ASSERT_EQ(a[4].events.size(), 1u);
  EXPECT_EQ(a[4].events[0].table, "m");
  ASSERT_NE(a[4].events[0].table_info, nullptr);
  ASSERT_EQ(a[4].events[0].table_info->columns.size(), 2u);
  EXPECT_EQ(a[4].events[0].table_info->columns[0].name, "id");
  EXPECT_EQ(a[4].events[0].table_info->columns[1].name, "z");
  // Entering: its definition from then on (the history followed it under its other name).
  ASSERT_EQ(a[5].events.size(), 1u);
  EXPECT_EQ(a[5].events[0].table, "t3");
  ASSERT_NE(a[5].events[0].table_info, nullptr);
  EXPECT_EQ(a[5].events[0].table_info->table, "t3");
  ASSERT_EQ(a[5].events[0].table_info->columns.size(), 2u);
  EXPECT_EQ(a[5].events[0].table_info->columns[1].name, "name");
}

TEST_F(DdlOfMovedTablesTest, ASyncTaskRefusesWhatItCannotApplyNamingTheTable) {
  Status st = runWith(TaskKind::kSync);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kUnsupported);
  EXPECT_NE(st.message().find("it names both tables the task moves (`shop`.`t`) and tables it "
                              "does not (`other`.`t2`)"),
            std::string::npos)
      << st.toString();
}

}  // namespace
}  // namespace dts::task
