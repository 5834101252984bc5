#include "task/state_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/sqlite.h"

namespace dts::task {
namespace {

// A data dir as an older dts left it: `sql` run on a fresh dts.db in a new data dir under a
// temporary directory (*tmp, for remove_all); returns the data dir.
std::string oldDataDir(const std::string& sql, std::string* tmp) {
  char tmpl[] = "/tmp/dts-state-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  *tmp = tmpl;
  std::string dir = *tmp + "/data";
  EXPECT_EQ(mkdir(dir.c_str(), 0700), 0);
  auto db = Sqlite::open(dir + "/dts.db");
  EXPECT_TRUE(db.ok());
  if (db.ok()) {
    EXPECT_TRUE((*db)->exec(sql).ok()) << sql;
  }
  return dir;
}

constexpr char kOldTaskStateTable[] =
    "CREATE TABLE task_state (name TEXT PRIMARY KEY, kind TEXT, phase TEXT NOT NULL,"
    " config_yaml TEXT, last_error TEXT, schema_done INTEGER, full_done INTEGER,"
    " start_gtid TEXT, checkpoint_gtid TEXT, stats TEXT, updated_at_ms INTEGER);";

TEST(StateStoreTest, SavesAndLoadsTaskState) {
  char tmpl[] = "/tmp/dts-state-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/data";
  {
    auto store = SqliteStateStore::open(dir);
    ASSERT_TRUE(store.ok()) << store.status().toString();
    auto none = (*store)->load("t");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    TaskState s;
    s.name = "t";
    s.kind = "sync";
    s.phase = TaskPhase::kFull;
    s.start_gtid = "0-1-42";
    s.schema_done = true;
    s.schema_started = true;
    s.rps = 12.5;
    s.open_transaction = {"0-1-43", 250000};
    s.tables.push_back(
        {"shop", "orders", "shop2", "orders_v2", 10, 100, 1000, false, 123456789012});
    s.tables.push_back({"shop", "we`ird", "shop2", "we`ird", 5, 5, 50, true});
    s.verify.state = "different";
    s.verify.chunks = 7;
    s.verify.rows_checked = 1234;
    s.verify.differing_tables_json = R"([{"source_table":"shop.orders","rows":[]}])";
    ASSERT_TRUE((*store)->save(s).ok());
    s.phase = TaskPhase::kIncremental;
    ASSERT_TRUE((*store)->save(s).ok());
  }
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok());
  auto s = (*store)->load("t");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->phase, TaskPhase::kIncremental);
  EXPECT_EQ((*s)->start_gtid, "0-1-42");
  EXPECT_TRUE((*s)->schema_done);
  EXPECT_TRUE((*s)->schema_started);
  EXPECT_FALSE((*s)->full_done);
  EXPECT_DOUBLE_EQ((*s)->rps, 12.5);
  EXPECT_EQ((*s)->open_transaction, (OpenTransaction{"0-1-43", 250000}));
  ASSERT_EQ((*s)->tables.size(), 2u);
  EXPECT_EQ((*s)->tables[1].source_table, "we`ird");
  EXPECT_TRUE((*s)->tables[1].done);
  EXPECT_EQ((*s)->tables[0].rows_estimated, 100u);
  EXPECT_EQ((*s)->tables[0].changes_applied, 123456789012u);
  EXPECT_EQ((*s)->tables[1].changes_applied, 0u);
  EXPECT_EQ((*s)->verify.state, "different");
  EXPECT_EQ((*s)->verify.chunks, 7u);
  EXPECT_EQ((*s)->verify.rows_checked, 1234u);
  auto verify = verifyStateJson((*s)->verify);
  EXPECT_EQ(verify["differing_tables"][0]["source_table"], "shop.orders");
  EXPECT_TRUE(verifyStateJson(VerifyState{})["differing_tables"].is_array()) << "none: []";
  auto names = (*store)->list();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"t"});
  std::filesystem::remove_all(tmpl);
}

// A data dir written by a dts without changes_applied opens, keeps its tables, and saves again.
TEST(StateStoreTest, OpensADataDirFromBeforeChangesApplied) {
  std::string tmpl;
  std::string dir = oldDataDir(
      std::string(kOldTaskStateTable) +
          "CREATE TABLE task_tables (task TEXT NOT NULL, seq INTEGER NOT NULL, source_db TEXT,"
          " source_table TEXT, target_db TEXT, target_table TEXT, rows_done INTEGER,"
          " rows_estimated INTEGER, bytes_done INTEGER, done INTEGER, PRIMARY KEY (task, seq));"
          "INSERT INTO task_state VALUES ('old', 'sync', 'incremental', '', '', 1, 1, '0-1-1', '',"
          " '{}', 0);"
          "INSERT INTO task_tables VALUES ('old', 0, 'shop', 'orders', 'shop', 'orders', 7, 7, 70, 1)",
      &tmpl);
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  auto s = (*store)->load("old");
  ASSERT_TRUE(s.ok() && s->has_value()) << s.status().toString();
  ASSERT_EQ((*s)->tables.size(), 1u);
  EXPECT_EQ((*s)->tables[0].rows_done, 7u);
  EXPECT_EQ((*s)->tables[0].changes_applied, 0u);
  (*s)->tables[0].changes_applied = 5;
  ASSERT_TRUE((*store)->save(**s).ok());
  auto again = SqliteStateStore::open(dir);
  ASSERT_TRUE(again.ok()) << again.status().toString();
  auto s2 = (*again)->load("old");
  ASSERT_TRUE(s2.ok() && s2->has_value());
  EXPECT_EQ((*s2)->tables[0].changes_applied, 5u);
  std::filesystem::remove_all(tmpl);
}

// Degraded-mode counts persist with the state; a state saved before they existed (its stats
// without "degraded") reads as none counted, and a name this build does not know is kept.
TEST(StateStoreTest, DegradedCountsPersistAndOldStatesHaveNone) {
  std::string tmpl;
  std::string dir = oldDataDir(std::string(kOldTaskStateTable) +
                                   "INSERT INTO task_state VALUES ('old', 'sync', 'incremental',"
                                   " '', '', 1, 1, '0-1-1', '',"
                                   " '{\"rps\": 3.5, \"retrying\": \"\"}', 0)",
                               &tmpl);
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  auto s = (*store)->load("old");
  ASSERT_TRUE(s.ok() && s->has_value()) << s.status().toString();
  EXPECT_DOUBLE_EQ((*s)->rps, 3.5);
  EXPECT_TRUE((*s)->degraded.empty());
  (*s)->degraded[degradedName(Degraded::kLoadDataRefused)] = 2;
  (*s)->degraded[degradedName(Degraded::kStateSaveFailed)] = 1;
  (*s)->degraded["from_a_newer_dts"] = 7;
  ASSERT_TRUE((*store)->save(**s).ok());
  auto again = (*store)->load("old");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->degraded,
            (std::map<std::string, uint64_t>{
                {"load_data_refused", 2}, {"state_save_failed", 1}, {"from_a_newer_dts", 7}}));
  std::filesystem::remove_all(tmpl);
}

// A tracking task's log and the error history survive a save; an older state has neither.
TEST(StateStoreTest, TrackingLogAndErrorHistoryPersist) {
  std::string tmpl;
  std::string dir =
      oldDataDir(std::string(kOldTaskStateTable) +
                     "INSERT INTO task_state VALUES ('old', 'tracking', 'incremental',"
                     " '', 'boom', 1, 1, '0-1-1', '', '{}', 0)",
                 &tmpl);
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  auto s = (*store)->load("old");
  ASSERT_TRUE(s.ok() && s->has_value()) << s.status().toString();
  EXPECT_FALSE((*s)->tracking.known());
  EXPECT_TRUE((*s)->errors.empty());
  EXPECT_EQ((*s)->last_error, "boom");
  (*s)->tracking = {5, 1205, 4096, 24, 1 << 30};
  recordError(&**s, "lost the source", 1000);
  recordRecovery(&**s, 2000);
  recordError(&**s, "lost it again", 3000);
  ASSERT_TRUE((*store)->save(**s).ok());
  auto again = (*store)->load("old");
  ASSERT_TRUE(again.ok() && again->has_value());
  const TaskState& a = **again;
  EXPECT_EQ(a.tracking.first_offset, 5);
  EXPECT_EQ(a.tracking.end_offset, 1205);
  EXPECT_EQ(a.tracking.disk_bytes, 4096u);
  EXPECT_EQ(a.tracking.retention_hours, 24u);
  EXPECT_EQ(a.tracking.retention_bytes, 1u << 30);
  ASSERT_EQ(a.errors.size(), 2u);
  EXPECT_EQ(a.errors[0].message, "lost the source");
  EXPECT_EQ(a.errors[0].at_ms, 1000);
  EXPECT_EQ(a.errors[0].recovered_at_ms, 2000);
  EXPECT_EQ(a.errors[1].recovered_at_ms, 0);
  EXPECT_EQ(a.last_error, "lost it again");
  nlohmann::json j = pastErrorsJson(a.errors);
  EXPECT_EQ(j[0]["recovered_at"], "1970-01-01T00:00:02Z");
  EXPECT_TRUE(j[1]["recovered_at"].is_null());
  std::filesystem::remove_all(tmpl);
}

// The secondary node's replication health persists (dts status reads it from another process);
// a state from before it existed reads as not watched.
TEST(StateStoreTest, SourceReplicationHealthPersists) {
  std::string tmpl;
  std::string dir = oldDataDir(std::string(kOldTaskStateTable) +
                                   "INSERT INTO task_state VALUES ('old', 'sync', 'incremental',"
                                   " '', '', 1, 1, '0-1-1', '', '{\"rps\": 1}', 0)",
                               &tmpl);
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  auto s = (*store)->load("old");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->source_replication.state, source::ReplicationHealth::State::kNotWatched);
  (*s)->source_replication.state = source::ReplicationHealth::State::kStopped;
  (*s)->source_replication.node = "node-2";
  (*s)->source_replication.io_running = "No";
  (*s)->source_replication.sql_running = "No";
  (*s)->source_replication.since_ms = 42;
  ASSERT_TRUE((*store)->save(**s).ok());
  auto again = (*store)->load("old");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_TRUE((*again)->source_replication.sameCondition((*s)->source_replication));
  EXPECT_TRUE((*again)->source_replication.degraded());
  EXPECT_EQ((*again)->source_replication.since_ms, 42);
  std::filesystem::remove_all(tmpl);
}

// The start position: unknown (nullopt) and known-but-empty ("") survive a save, and a data dir
// written by an older dts, which kept "-" in memory for the empty position, reads the same way.
TEST(StateStoreTest, StartPositionUnknownOrEmpty) {
  const std::string root = std::filesystem::temp_directory_path().string() + "/dts-state-start-" +
                           std::to_string(getpid());
  std::filesystem::remove_all(root);
  ASSERT_TRUE(std::filesystem::create_directory(root));
  const std::string dir = root + "/data";
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.status().toString();
  TaskState unknown;
  unknown.name = "unknown";
  ASSERT_TRUE((*store)->save(unknown).ok());
  TaskState empty;
  empty.name = "empty";
  empty.start_gtid = "";
  ASSERT_TRUE((*store)->save(empty).ok());
  auto u = (*store)->load("unknown");
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_FALSE((*u)->start_gtid.has_value());
  auto e = (*store)->load("empty");
  ASSERT_TRUE(e.ok() && e->has_value());
  ASSERT_TRUE((*e)->start_gtid.has_value());
  EXPECT_EQ(*(*e)->start_gtid, "");
  {
    auto db = Sqlite::open(dir + "/dts.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->exec("INSERT INTO task_state (name, phase, start_gtid) VALUES"
                           " ('old-empty', 'incremental', '-'), ('old-unknown', 'full', '')")
                    .ok());
  }
  auto old_empty = (*store)->load("old-empty");
  ASSERT_TRUE(old_empty.ok() && old_empty->has_value()) << old_empty.status().toString();
  EXPECT_EQ((*old_empty)->start_gtid, std::optional<std::string>(""));
  auto old_unknown = (*store)->load("old-unknown");
  ASSERT_TRUE(old_unknown.ok() && old_unknown->has_value());
  EXPECT_FALSE((*old_unknown)->start_gtid.has_value());
  std::filesystem::remove_all(root);
}

TEST(StateStoreTest, PhaseNamesRoundTrip) {
  for (TaskPhase p :
       {TaskPhase::kCreated, TaskPhase::kPrechecking, TaskPhase::kSchema, TaskPhase::kFull,
        TaskPhase::kIncremental, TaskPhase::kPaused, TaskPhase::kCompleted, TaskPhase::kFailed}) {
    auto back = parsePhase(phaseName(p));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
  }
  EXPECT_FALSE(parsePhase("running").ok());
}

}  // namespace
}  // namespace dts::task

namespace dts::task {
namespace {

// One outage retried many times is one entry; an outage met after an earlier one ended without
// recovering (the task failed, or was stopped, and was started again) is a new entry, whose time
// a restarted process carries as its retry window's start.
TEST(StateStoreErrorsTest, AnOutageAfterAFailureIsANewEntry) {
  TaskState s;
  recordError(&s, "node down", 1000);
  recordError(&s, "node down", 2000);  // retried: the same outage
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].at_ms, 1000);
  recordError(&s, "node down", 9000, /*new_outage=*/true);  // started again after a failure
  ASSERT_EQ(s.errors.size(), 2u);
  EXPECT_EQ(s.errors[1].at_ms, 9000);
  EXPECT_EQ(s.errors[0].recovered_at_ms, 0);
}

}  // namespace
}  // namespace dts::task
