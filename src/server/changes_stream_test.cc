// GET /api/v1/tasks/NAME/changes without sockets: the query, the stream's lines, filters, limits,
// long polling and the errors, over a tracking task's real change log.
#include "server/changes_stream.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server/api.h"
#include "server/kafka_groups.h"
#include "server/metrics.h"
#include "task/tracking.h"

namespace dts::server {
namespace {

using nlohmann::json;

const std::string kTracking = R"(
name: shop-changes
kind: tracking
source: {endpoint: "127.0.0.1:1", user: u, password: p}
objects: [{database: shop}]
)";

// db.table (id INT PRIMARY KEY).
std::shared_ptr<const mysql::TableInfo> idTable(const std::string& db, const std::string& table) {
  auto t = std::make_shared<mysql::TableInfo>();
  t->database = db;
  t->table = table;
  mysql::ColumnInfo id;
  id.name = "id";
  id.type = mysql::ColumnType::kLong;
  t->columns = {id};
  t->primary_key = {0};
  return t;
}

pipeline::Transaction txn(uint64_t seq, uint32_t ts, const std::string& table) {
  static auto info = idTable("", "");
  pipeline::Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.timestamp = ts;
  pipeline::ChangeEvent e;
  e.op = pipeline::ChangeEvent::Op::kInsert;
  e.database = "shop";
  e.table = table;
  e.table_info = info;
  e.after.values = {mysql::Value::ofInt(static_cast<int64_t>(seq))};
  t.events.push_back(e);
  return t;
}

// A transaction of one DDL, run in default database `db`.
pipeline::Transaction ddlTxn(uint64_t seq, uint32_t ts, const std::string& db,
                             const std::string& sql,
                             std::shared_ptr<const mysql::TableInfo> definition,
                             std::vector<std::pair<std::string, std::string>> tables) {
  pipeline::Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.timestamp = ts;
  pipeline::ChangeEvent e;
  e.op = pipeline::ChangeEvent::Op::kDdl;
  e.database = db;
  e.sql = sql;
  e.table_info = std::move(definition);
  e.ddl_tables = std::move(tables);
  t.events.push_back(std::move(e));
  return t;
}

class ChangesEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("dts_changes_" + test + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    auto m = TaskManager::open(TaskManager::Options{dir_.string(), nullptr, 200});
    ASSERT_TRUE(m.ok()) << m.status().toString();
    manager_ = std::move(*m);
    api_ = std::make_unique<Api>(manager_.get(), "tok-123456789012345", nullptr);
    ASSERT_TRUE(manager_->create(kTracking).ok());
    auto config = parseTaskText(kTracking);
    ASSERT_TRUE(config.ok());
    auto log = task::openChangeLog(*config, dir_.string());
    ASSERT_TRUE(log.ok()) << log.status().toString();
    log_ = *log;
  }
  void TearDown() override {
    log_.reset();
    api_.reset();
    manager_.reset();
    std::filesystem::remove_all(dir_);
  }
  HttpResponse get(const std::string& target,
                   const std::string& auth = "Bearer tok-123456789012345") {
    return api_->handle(makeRequest("GET", target, auth, ""));
  }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& auth = "Bearer tok-123456789012345") {
    return api_->handle(makeRequest(method, target, auth, ""));
  }
  // Commits `offset` for `group` on `topic` as the Kafka listener does (the same store).
  void commit(const std::string& group, const std::string& topic, int64_t offset) {
    auto store = kafka::OffsetStore::open(dir_.string() + "/kafka-offsets.db");
    ASSERT_TRUE(store.ok()) << store.status().toString();
    ASSERT_TRUE((*store)->commit(group, {{topic, 0, offset, std::nullopt}}).ok());
  }
  HttpResponse post(const std::string& target, const std::string& body) {
    return api_->handle(makeRequest("POST", target, "Bearer tok-123456789012345", body));
  }
  // The whole stream of a response (it must end: give wait_ms or limit).
  static std::vector<json> drain(const HttpResponse& r) {
    EXPECT_TRUE(static_cast<bool>(r.stream)) << r.body;
    std::vector<json> lines;
    if (!r.stream) return lines;
    std::string all;
    for (int i = 0; i < 1000; ++i) {
      if (!r.stream(&all)) break;
    }
    size_t start = 0;
    while (start < all.size()) {
      size_t nl = all.find('\n', start);
      lines.push_back(json::parse(all.substr(start, nl - start)));
      start = nl + 1;
    }
    return lines;
  }

  std::filesystem::path dir_;
  std::unique_ptr<TaskManager> manager_;
  std::unique_ptr<Api> api_;
  std::shared_ptr<sink::ChangeLog> log_;
};

TEST_F(ChangesEndpointTest, StreamsRecordsAsNdjsonWithFilters) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->apply(txn(2, 200, "customers")).ok());
  ASSERT_TRUE(log_->flush().ok());
  auto reader = manager_->changeLog("shop-changes");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->endOffset(), 6);  // the task's one log

  auto all = get("/api/v1/tasks/shop-changes/changes?from=earliest&wait_ms=0");
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.content_type, "application/x-ndjson");
  auto lines = drain(all);
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i]["offset"], i);
  EXPECT_EQ(lines[1]["after"]["id"], 1);

  auto orders = drain(get("/api/v1/tasks/shop-changes/changes?tables=shop.orders&wait_ms=0"));
  ASSERT_EQ(orders.size(), 5u);  // markers stay
  EXPECT_EQ(orders[1]["table"], "orders");
  auto inserts = drain(get("/api/v1/tasks/shop-changes/changes?ops=insert&wait_ms=0"));
  ASSERT_EQ(inserts.size(), 2u);
  auto limited = drain(get("/api/v1/tasks/shop-changes/changes?from=2&limit=3"));
  ASSERT_EQ(limited.size(), 3u);
  EXPECT_EQ(limited[0]["offset"], 2);
  auto by_time = drain(get("/api/v1/tasks/shop-changes/changes?from=ms:150000&wait_ms=0"));
  ASSERT_EQ(by_time.size(), 3u);
  EXPECT_EQ(by_time[0]["op"], "begin");
  EXPECT_EQ(by_time[0]["gtid"], "0-1-2");
  auto iso = drain(get("/api/v1/tasks/shop-changes/changes?from=1970-01-01T00:03:20Z&wait_ms=0"));
  EXPECT_EQ(iso.size(), 3u);
  // Fractions of a second: at or after the time.
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?from=1970-01-01T00:03:19.999Z&wait_ms=0"))
                .size(),
            3u);
  EXPECT_TRUE(
      drain(get("/api/v1/tasks/shop-changes/changes?from=1970-01-01T00:03:20.0001Z&wait_ms=0"))
          .empty());
  // A database's every table: db.*.
  auto shop = drain(get("/api/v1/tasks/shop-changes/changes?tables=shop.*&wait_ms=0"));
  ASSERT_EQ(shop.size(), 6u);
  EXPECT_EQ(shop[4]["table"], "customers");
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?tables=other.*&wait_ms=0")).size(), 4u);
  EXPECT_TRUE(drain(get("/api/v1/tasks/shop-changes/changes?from=latest&wait_ms=0")).empty());

  // A DDL that named its table in another database than the one it ran in (ALTER TABLE
  // shop.orders run without a default database): db "", table null, and the table it defined
  // in its definition, which tables= matches too.
  ASSERT_TRUE(log_->apply(ddlTxn(3, 300, "", "ALTER TABLE shop.orders ADD c INT",
                                 idTable("shop", "orders"), {}))
                  .ok());
  // And a DROP of it, run from another database: no definition; its table is in `tables`.
  ASSERT_TRUE(
      log_->apply(ddlTxn(4, 400, "other", "DROP TABLE shop.orders", nullptr, {{"shop", "orders"}}))
          .ok());
  ASSERT_TRUE(log_->flush().ok());
  auto ddls = drain(get("/api/v1/tasks/shop-changes/changes?from=6&tables=shop.orders&wait_ms=0"));
  ASSERT_EQ(ddls.size(), 6u);
  EXPECT_EQ(ddls[1]["op"], "ddl");
  EXPECT_EQ(ddls[1]["db"], "");
  EXPECT_TRUE(ddls[1]["table"].is_null());
  EXPECT_EQ(ddls[1]["definition"]["table"], "orders");
  EXPECT_EQ(ddls[1]["tables"], json::array());
  EXPECT_EQ(ddls[4]["sql"], "DROP TABLE shop.orders");
  EXPECT_EQ(ddls[4]["db"], "other");
  EXPECT_TRUE(ddls[4]["table"].is_null());
  EXPECT_FALSE(ddls[4].contains("definition"));
  EXPECT_EQ(ddls[4]["tables"], json::parse(R"([{"db":"shop","table":"orders"}])"));
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?from=6&tables=orders&ops=ddl&wait_ms=0"))
                .size(),
            2u);
  EXPECT_TRUE(
      drain(
          get("/api/v1/tasks/shop-changes/changes?from=6&tables=shop.customers&ops=ddl&wait_ms=0"))
          .empty());
}

// options.start places an empty log: changed once the log holds records (where the task
// resumes after its last one), it is refused, naming the log's offsets, instead of being shown
// and never used.
TEST_F(ChangesEndpointTest, StartCannotChangeOnceTheLogHoldsRecords) {
  auto patch = [&](const std::string& body) {
    return api_->handle(makeRequest("PATCH", "/api/v1/tasks/shop-changes/options",
                                    "Bearer tok-123456789012345", body));
  };
  EXPECT_EQ(patch(R"({"start": "0-1-5"})").status, 200);
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  HttpResponse refused = patch(R"({"start": "0-1-20"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("options.start: the change log of task 'shop-changes' already "
                              "holds offsets 0-2"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(patch(R"({"retention_hours": 48})").status, 200);  // start unchanged
  auto status = json::parse(get("/api/v1/tasks/shop-changes").body);
  EXPECT_EQ(status["config"]["options"]["start"], "0-1-5") << status.dump();
}

// A tracking task loads nothing and has no destination: the options for those are refused when
// set through the API, and its configuration does not show them.
TEST_F(ChangesEndpointTest, OptionsOfLoadsAndDestinationsAreNotATrackingTasks) {
  auto patch = [&](const std::string& body) {
    return api_->handle(makeRequest("PATCH", "/api/v1/tasks/shop-changes/options",
                                    "Bearer tok-123456789012345", body));
  };
  for (const char* key : {"parallelism", "full", "conflicting_tables"}) {
    const std::string value = std::string(key) == "parallelism" ? "8"
                              : std::string(key) == "full"      ? R"({"max_rps": 5})"
                                                                : R"("ignore")";
    HttpResponse r = patch("{\"" + std::string(key) + "\": " + value + "}");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("options." + std::string(key) +
                          ": a tracking task loads nothing and has no destination"),
              std::string::npos)
        << r.body;
  }
  HttpResponse created = api_->handle(makeRequest(
      "POST", "/api/v1/tasks", "Bearer tok-123456789012345",
      R"({"name": "t2", "kind": "tracking", "source": {"endpoint": "127.0.0.1:1", "user": "u"},)"
      R"( "objects": [{"database": "shop"}], "options": {"parallelism": 4}})"));
  EXPECT_EQ(created.status, 400) << created.body;
  EXPECT_EQ(patch(R"({"retention_hours": 48, "ddl": false})").status, 200);
  auto options = json::parse(get("/api/v1/tasks/shop-changes").body)["config"]["options"];
  EXPECT_EQ(options["retention_hours"], 48) << options.dump();
  for (const char* key : {"parallelism", "full", "conflicting_tables", "verify"})
    EXPECT_FALSE(options.contains(key)) << key << ": " << options.dump();
}

TEST_F(ChangesEndpointTest, LongPollingDeliversWhatCommitsLater) {
  auto r = get("/api/v1/tasks/shop-changes/changes?from=latest&limit=3");
  ASSERT_TRUE(static_cast<bool>(r.stream));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  });
  std::string out;
  auto start = std::chrono::steady_clock::now();
  while (r.stream(&out)) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  }
  writer.join();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

// from=TIME later than every transaction logged: the stream starts at the first transaction
// committed at or after it once one is logged, never at the log's end (what was appended next
// could be older: the source's clock, a backlog being read), as Kafka's ListOffsets answers -1.
TEST_F(ChangesEndpointTest, AStartTimeLaterThanTheLogWaitsForATransactionAtOrAfterIt) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->apply(txn(2, 200, "orders")).ok());
  auto r = get("/api/v1/tasks/shop-changes/changes?from=ms:300000&limit=3");
  ASSERT_TRUE(static_cast<bool>(r.stream));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(log_->apply(txn(3, 250, "orders")).ok());  // committed before the time
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(log_->apply(txn(4, 300, "orders")).ok());
    ASSERT_TRUE(log_->apply(txn(5, 400, "orders")).ok());
  });
  std::string out;
  auto start = std::chrono::steady_clock::now();
  while (r.stream(&out)) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  }
  writer.join();
  std::vector<json> lines;
  for (size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(json::parse(out.substr(at, nl - at)));
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0]["op"], "begin") << out;
  EXPECT_EQ(lines[0]["gtid"], "0-1-4") << out;
  EXPECT_EQ(lines[1]["after"]["id"], 4) << out;
}

// wait_ms ends the stream once nothing was sent for that long: records the filter leaves out
// are no news (a stream of DDL only ended never while rows were logged).
TEST_F(ChangesEndpointTest, WaitMsCountsOnlyWhatTheFilterKeeps) {
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (uint64_t i = 1; !stop.load() && i < 100000; ++i) {
      ASSERT_TRUE(log_->apply(txn(i, 100, "orders")).ok());
      ++written;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  while (written.load() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto r = get("/api/v1/tasks/shop-changes/changes?from=earliest&ops=ddl&wait_ms=200");
  ASSERT_TRUE(static_cast<bool>(r.stream));
  std::string out;
  bool ended = false;
  for (int i = 0; i < 1000 && !ended; ++i) ended = !r.stream(&out);
  const bool writer_still_writing = !stop.load();
  stop = true;
  writer.join();
  EXPECT_TRUE(ended);
  EXPECT_TRUE(writer_still_writing);
  EXPECT_EQ(out, "");
}

TEST_F(ChangesEndpointTest, ErrorsUseTheApiFormat) {
  auto bad_from = get("/api/v1/tasks/shop-changes/changes?from=yesterday");
  EXPECT_EQ(bad_from.status, 400);
  EXPECT_NE(bad_from.body.find("\"invalid_argument\""), std::string::npos);
  EXPECT_NE(bad_from.body.find("from: must be earliest, latest"), std::string::npos);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?ops=upsert").status, 400);
  // Empty lists and malformed names would mean "everything" or "nothing" without a word.
  for (const char* q : {"ops=", "ops=,", "tables=", "tables=*", "tables=shop.t*", "tables=.t",
                        "tables=shop.", "from=2026-02-30T00:00:00Z", "wait_ms=-1"}) {
    auto r = get(std::string("/api/v1/tasks/shop-changes/changes?") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
  }
  auto twice = get("/api/v1/tasks/shop-changes/changes?from=earliest&from=latest");
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(twice.body.find("from: given more than once in the query string"), std::string::npos)
      << twice.body;
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?limit=0").status, 400);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?group=a/b").status, 400);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?group=").status, 400);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?partition=0").status, 400);
  auto beyond = get("/api/v1/tasks/shop-changes/changes?from=7");
  EXPECT_EQ(beyond.status, 404);
  EXPECT_NE(beyond.body.find("first offset 0, end offset 0"), std::string::npos) << beyond.body;
  EXPECT_EQ(get("/api/v1/tasks/nope/changes").status, 404);
  EXPECT_EQ(api_->handle(makeRequest("POST", "/api/v1/tasks/shop-changes/changes",
                                     "Bearer tok-123456789012345", ""))
                .status,
            405);
  ASSERT_TRUE(
      manager_
          ->create(R"({"name": "s", "kind": "sync", "source": {"endpoint": "127.0.0.1:1",)"
                   R"( "user": "u"}, "destination": {"endpoint": "127.0.0.1:2", "user": "u"},)"
                   R"( "objects": [{"database": "shop"}]})")
          .ok());
  auto sync = get("/api/v1/tasks/s/changes");
  EXPECT_EQ(sync.status, 400);
  EXPECT_NE(sync.body.find("only a tracking task has a change log"), std::string::npos);
}

TEST_F(ChangesEndpointTest, GroupsCommitOverHttpAndResumeRightAfterTheirCommit) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->apply(txn(2, 200, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  // Never committed: the group starts at the earliest record and has no offset.
  auto fresh = drain(get("/api/v1/tasks/shop-changes/changes?group=billing&wait_ms=0"));
  ASSERT_EQ(fresh.size(), 6u);
  EXPECT_EQ(fresh[0]["offset"], 0);
  auto shown = get("/api/v1/tasks/shop-changes/groups/billing");
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_TRUE(json::parse(shown.body)["offset"].is_null());
  EXPECT_EQ(json::parse(shown.body)["end_offset"], 6);

  auto committed = post("/api/v1/tasks/shop-changes/groups/billing/commit", R"({"offset": 3})");
  ASSERT_EQ(committed.status, 200) << committed.body;
  EXPECT_EQ(json::parse(committed.body),
            json({{"group", "billing"}, {"topic", "shop-changes"}, {"offset", 3}}));
  EXPECT_EQ(json::parse(get("/api/v1/tasks/shop-changes/groups/billing").body)["offset"], 3);
  // Reading resumes right after the commit; an explicit `from` wins; other groups are apart.
  auto resumed = drain(get("/api/v1/tasks/shop-changes/changes?group=billing&wait_ms=0"));
  ASSERT_EQ(resumed.size(), 3u);
  EXPECT_EQ(resumed[0]["offset"], 3);
  EXPECT_EQ(resumed[0]["op"], "begin");
  auto explicit_from =
      drain(get("/api/v1/tasks/shop-changes/changes?group=billing&from=1&wait_ms=0"));
  ASSERT_EQ(explicit_from.size(), 5u);
  EXPECT_EQ(explicit_from[0]["offset"], 1);
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?group=other&wait_ms=0")).size(), 6u);
  // Committed inside a transaction (a Kafka consumer commits record by record): the group
  // resumes at that transaction's begin, never in its middle without it (a tester's commit of a
  // row's offset resumed with update and commit records and no begin).
  for (int inside : {4, 5}) {
    ASSERT_EQ(post("/api/v1/tasks/shop-changes/groups/billing/commit",
                   "{\"offset\": " + std::to_string(inside) + "}")
                  .status,
              200);
    auto whole = drain(get("/api/v1/tasks/shop-changes/changes?group=billing&wait_ms=0"));
    ASSERT_EQ(whole.size(), 3u) << inside;
    EXPECT_EQ(whole[0]["offset"], 3) << inside;
    EXPECT_EQ(whole[0]["op"], "begin") << inside;
  }
  ASSERT_EQ(post("/api/v1/tasks/shop-changes/groups/billing/commit", R"({"offset": 3})").status,
            200);

  // One store for both protocols: the Kafka listener's offset store sees the HTTP commit, and a
  // commit made through it (as OffsetCommit does) moves the HTTP reader.
  auto store = kafka::OffsetStore::open((dir_ / "kafka-offsets.db").string());
  ASSERT_TRUE(store.ok()) << store.status().toString();
  auto seen = (*store)->fetch("billing", "shop-changes");
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].offset, 3);
  EXPECT_EQ((*seen)[0].partition, 0);
  ASSERT_TRUE((*store)->commit("billing", {{"shop-changes", 0, 6, std::string("kcat")}}).ok());
  EXPECT_TRUE(drain(get("/api/v1/tasks/shop-changes/changes?group=billing&wait_ms=0")).empty());
  // The end offset itself is a valid commit (everything read); committing back is allowed.
  EXPECT_EQ(post("/api/v1/tasks/shop-changes/groups/billing/commit", R"({"offset": 0})").status,
            200);
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?group=billing&wait_ms=0")).size(), 6u);
}

// A group's offsets are per topic, as in Kafka: its position on a view (the Kafka topic
// shop-changes.canal-json, or format=canal-json over HTTP) is its own, shown with every other
// topic it committed on, and one never moves the other.
TEST_F(ChangesEndpointTest, AGroupHasAnOffsetPerTopicAndFormatPicksIt) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->apply(txn(2, 200, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  // Committed over Kafka on the view (as OffsetCommit stores it).
  auto store = kafka::OffsetStore::open((dir_ / "kafka-offsets.db").string());
  ASSERT_TRUE(store.ok()) << store.status().toString();
  ASSERT_TRUE((*store)->commit("flink", {{"shop-changes.canal-json", 0, 3, std::nullopt}}).ok());
  auto view = get("/api/v1/tasks/shop-changes/groups/flink?format=canal-json");
  ASSERT_EQ(view.status, 200) << view.body;
  json v = json::parse(view.body);
  EXPECT_EQ(v["topic"], "shop-changes.canal-json");
  EXPECT_EQ(v["offset"], 3);
  ASSERT_EQ(v["topics"].size(), 1u) << view.body;
  EXPECT_EQ(v["topics"][0]["topic"], "shop-changes.canal-json");
  EXPECT_EQ(v["topics"][0]["format"], "canal-json");
  EXPECT_EQ(v["topics"][0]["lag"], 3);
  json base = json::parse(get("/api/v1/tasks/shop-changes/groups/flink").body);
  EXPECT_TRUE(base["offset"].is_null()) << base;  // never committed on the task's own topic
  EXPECT_EQ(base["topics"], v["topics"]);
  // Reading the view as the group resumes after its commit there (the second transaction's
  // row); reading the dts records starts from the earliest.
  auto resumed = get("/api/v1/tasks/shop-changes/changes?group=flink&format=canal-json&wait_ms=0");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  std::string lines;
  while (resumed.stream(&lines)) {
  }
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1) << lines;
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?group=flink&wait_ms=0")).size(), 6u);
  // Committed over HTTP with a format: that topic moves, the other stays.
  auto c = post("/api/v1/tasks/shop-changes/groups/flink/commit?format=dts", R"({"offset": 6})");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(
      json::parse(get("/api/v1/tasks/shop-changes/groups/flink?format=canal-json").body)["offset"],
      3);
  c = post("/api/v1/tasks/shop-changes/groups/flink/commit?format=canal-json", R"({"offset": 5})");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(json::parse(c.body)["topic"], "shop-changes.canal-json");
  auto fetched = (*store)->fetch("flink", "shop-changes.canal-json");
  ASSERT_TRUE(fetched.ok() && fetched->size() == 1u);
  EXPECT_EQ((*fetched)[0].offset, 5);  // where a Kafka consumer of the view resumes
  EXPECT_EQ(json::parse(get("/api/v1/tasks/shop-changes/groups/flink").body)["offset"], 6);
  EXPECT_EQ(json::parse(get("/api/v1/tasks/shop-changes/groups/flink").body)["topics"].size(), 2u);
  auto bad = get("/api/v1/tasks/shop-changes/groups/flink?format=avro");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("format: must be dts, debezium-json"), std::string::npos) << bad.body;
}

TEST_F(ChangesEndpointTest, GroupCommitRefusesBadInput) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  const std::string commit = "/api/v1/tasks/shop-changes/groups/g1/commit";
  for (const char* body : {"", "[]", "{}", R"({"offset": "2"})", R"({"offset": 1.5})",
                           R"({"offset": -1})", R"({"offset": 4})", "{\"offset\": 2"}) {
    auto r = post(commit, body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_NE(r.body.find("\"invalid_argument\""), std::string::npos) << r.body;
  }
  auto past = post(commit, R"({"offset": 4})");
  EXPECT_NE(past.body.find("end offset 3"), std::string::npos) << past.body;
  EXPECT_NE(past.body.find("\"field\": \"offset\""), std::string::npos) << past.body;
  EXPECT_EQ(post("/api/v1/tasks/nope/groups/g1/commit", R"({"offset": 0})").status, 404);
  EXPECT_EQ(post("/api/v1/tasks/shop-changes/groups/a%2Fb/commit", R"({"offset": 0})").status, 400);
  EXPECT_EQ(post("/api/v1/tasks/shop-changes/groups/g1/rollback", R"({"offset": 0})").status, 404);
  EXPECT_EQ(get(commit).status, 405);
  EXPECT_EQ(post("/api/v1/tasks/shop-changes/groups/g1", R"({"offset": 0})").status, 405);
  // Nothing was stored by the refused calls.
  EXPECT_TRUE(json::parse(get("/api/v1/tasks/shop-changes/groups/g1").body)["offset"].is_null());
  ASSERT_TRUE(
      manager_
          ->create(R"({"name": "s", "kind": "sync", "source": {"endpoint": "127.0.0.1:1",)"
                   R"( "user": "u"}, "destination": {"endpoint": "127.0.0.1:2", "user": "u"},)"
                   R"( "objects": [{"database": "shop"}]})")
          .ok());
  EXPECT_EQ(post("/api/v1/tasks/s/groups/g1/commit", R"({"offset": 0})").status, 400);
}

TEST_F(ChangesEndpointTest, GroupWhoseCommitExpiredIsToldWhereTheLogStands) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  auto store = kafka::OffsetStore::open((dir_ / "kafka-offsets.db").string());
  ASSERT_TRUE(store.ok());
  // An offset beyond the log (a log rebuilt by hand) must not silently skip or rewind.
  ASSERT_TRUE((*store)->commit("late", {{"shop-changes", 0, 99, std::nullopt}}).ok());
  auto r = get("/api/v1/tasks/shop-changes/changes?group=late&wait_ms=0");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("committed offset 99 of topic 'shop-changes' is outside the change log "
                        "(first offset 0, end offset 3)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(
      drain(get("/api/v1/tasks/shop-changes/changes?group=late&from=earliest&wait_ms=0")).size(),
      3u);
}

TEST_F(ChangesEndpointTest, FormatParameterEncodesTheRecords) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  auto debezium = drain(get("/api/v1/tasks/shop-changes/changes?format=debezium-json&wait_ms=0"));
  ASSERT_EQ(debezium.size(), 1u);  // no markers
  EXPECT_EQ(debezium[0]["op"], "c");
  EXPECT_EQ(debezium[0]["after"]["id"], 1);
  EXPECT_EQ(debezium[0]["source"]["name"], "shop-changes");
  EXPECT_EQ(debezium[0]["source"]["table"], "orders");
  auto canal = drain(get("/api/v1/tasks/shop-changes/changes?format=canal-json&wait_ms=0"));
  ASSERT_EQ(canal.size(), 1u);
  EXPECT_EQ(canal[0]["type"], "INSERT");
  EXPECT_EQ(canal[0]["data"][0]["id"], "1");
  auto maxwell = drain(get("/api/v1/tasks/shop-changes/changes?format=maxwell-json&limit=1"));
  ASSERT_EQ(maxwell.size(), 1u);
  EXPECT_EQ(maxwell[0]["type"], "insert");
  auto dts = drain(get("/api/v1/tasks/shop-changes/changes?format=dts&wait_ms=0"));
  EXPECT_EQ(dts.size(), 3u);
  auto bad = get("/api/v1/tasks/shop-changes/changes?format=avro");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("format: must be dts, debezium-json"), std::string::npos) << bad.body;
}

// maxwell-json over HTTP: every row has its transaction's xid, and the last row the stream gives
// (after `tables`) "commit": true, however the stream's reads cut the transaction.
TEST_F(ChangesEndpointTest, MaxwellRowsCarryXidAndCommitOnTheLastRowGiven) {
  pipeline::Transaction mixed = txn(1, 100, "orders");
  for (const char* table : {"customers", "orders", "customers"}) {
    mixed.events.push_back(mixed.events.front());
    mixed.events.back().table = table;
  }
  mixed.xid = 5;
  ASSERT_TRUE(log_->apply(mixed).ok());
  pipeline::Transaction others = txn(2, 101, "customers");
  others.xid = 6;
  ASSERT_TRUE(log_->apply(others).ok());
  ASSERT_TRUE(log_->apply(txn(3, 102, "orders")).ok());  // no XID (a MariaDB COMMIT query)
  ASSERT_TRUE(log_->flush().ok());
  auto reader = manager_->changeLog("shop-changes");
  ASSERT_TRUE(reader.ok());
  for (size_t max_bytes : {size_t{1}, size_t{400}, size_t{1} << 20}) {
    ChangesQuery q;
    q.format = sink::ChangeFormat::kMaxwellJson;
    q.tables = {"shop.orders"};
    q.wait_ms = 0;
    q.task = "shop-changes";
    auto stream = ChangesStream::open(*reader, q);
    ASSERT_TRUE(stream.ok()) << stream.status().toString();
    std::string out;
    for (int i = 0; i < 100; ++i) {
      auto more = (*stream)->next(&out, max_bytes, std::chrono::milliseconds(0));
      ASSERT_TRUE(more.ok()) << more.status().toString();
      if (!*more) break;
    }
    std::vector<json> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    ASSERT_EQ(lines.size(), 3u) << out;
    EXPECT_EQ(lines[0]["xid"], 5) << max_bytes;
    EXPECT_FALSE(lines[0].contains("commit")) << max_bytes;
    EXPECT_EQ(lines[1]["xid"], 5) << max_bytes;
    EXPECT_EQ(lines[1]["commit"], true) << max_bytes;  // the last orders row of the first
    EXPECT_FALSE(lines[2].contains("xid")) << max_bytes;
    EXPECT_EQ(lines[2]["commit"], true) << max_bytes;
  }
  // Through the API as well, every row given: the last customers row is the commit.
  auto all = drain(get("/api/v1/tasks/shop-changes/changes?format=maxwell-json&wait_ms=0"));
  ASSERT_EQ(all.size(), 6u);
  std::vector<bool> commits;
  for (const auto& m : all) commits.push_back(m.contains("commit"));
  EXPECT_EQ(commits, (std::vector<bool>{false, false, false, true, true, true}));
  EXPECT_EQ(all[4]["xid"], 6);
}

// envelope=true: a view format's records with their offsets and ops, and the markers (in the dts
// encoding), so that a client can commit and resume (include/dts/consumer.h reads it so).
TEST_F(ChangesEndpointTest, EnvelopeGivesViewRecordsTheirOffsetsAndKeepsTheMarkers) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());  // 0-2
  ASSERT_TRUE(log_->apply(txn(2, 200, "orders")).ok());  // 3-5
  ASSERT_TRUE(log_->flush().ok());
  for (const std::string format : {"debezium-json", "canal-json", "maxwell-json"}) {
    SCOPED_TRACE(format);
    auto plain = get("/api/v1/tasks/shop-changes/changes?format=" + format + "&from=3&wait_ms=0");
    std::string plain_text;
    while (plain.stream(&plain_text)) {
    }
    auto r = get("/api/v1/tasks/shop-changes/changes?format=" + format +
                 "&envelope=true&from=3&wait_ms=0");
    ASSERT_TRUE(static_cast<bool>(r.stream)) << r.body;
    std::string text;
    while (r.stream(&text)) {
    }
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
      size_t nl = text.find('\n', start);
      lines.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
    ASSERT_EQ(lines.size(), 3u) << text;
    EXPECT_EQ(json::parse(lines[0])["op"], "begin");
    EXPECT_EQ(json::parse(lines[0])["offset"], 3);
    EXPECT_EQ(json::parse(lines[2])["op"], "commit");
    EXPECT_EQ(json::parse(lines[2])["event_count"], 1);
    // The row: its offset and op, then the record exactly as the plain format sends it.
    const std::string prefix = "{\"offset\":4,\"op\":\"insert\",\"record\":";
    ASSERT_EQ(lines[1].compare(0, prefix.size(), prefix), 0) << lines[1];
    EXPECT_EQ(lines[1].substr(prefix.size(), lines[1].size() - prefix.size() - 1) + "\n",
              plain_text);
    EXPECT_EQ(lines[1].back(), '}');
  }
  // With the native records it changes nothing; anything but true/false is refused.
  EXPECT_EQ(drain(get("/api/v1/tasks/shop-changes/changes?envelope=true&wait_ms=0")).size(), 6u);
  auto bad = get("/api/v1/tasks/shop-changes/changes?envelope=yes");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("envelope: must be true or false"), std::string::npos) << bad.body;
}

TEST_F(ChangesEndpointTest, GroupsAndTheirLagInTheListTheStatusAndMetrics) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->apply(txn(2, 200, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  auto none = get("/api/v1/tasks/shop-changes/groups");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(json::parse(none.body), json::parse(R"({"groups": []})"));
  commit("billing", "shop-changes", 2);
  commit("flink", "shop-changes.debezium-json", 6);
  commit("elsewhere", "another-task", 1);
  auto r = get("/api/v1/tasks/shop-changes/groups");
  ASSERT_EQ(r.status, 200) << r.body;
  json groups = json::parse(r.body)["groups"];
  ASSERT_EQ(groups.size(), 2u) << groups;
  EXPECT_EQ(groups[0]["name"], "billing");
  EXPECT_EQ(groups[0]["committed_offset"], 2);
  EXPECT_EQ(groups[0]["lag"], 4);  // end offset 6 - 2
  EXPECT_TRUE(groups[0]["updated_at"].is_string());
  EXPECT_EQ(groups[0]["topic"], "shop-changes");
  EXPECT_EQ(groups[1]["name"], "flink");
  EXPECT_EQ(groups[1]["lag"], 0);
  EXPECT_EQ(groups[1]["topic"], "shop-changes.debezium-json");

  auto status = json::parse(get("/api/v1/tasks/shop-changes").body);
  ASSERT_TRUE(status.contains("tracking")) << status;
  EXPECT_EQ(status["tracking"]["log_start_offset"], 0);
  EXPECT_EQ(status["tracking"]["log_end_offset"], 6);
  EXPECT_EQ(status["tracking"]["groups"], groups);
  auto list = json::parse(get("/api/v1/tasks").body);
  EXPECT_EQ(list["tasks"][0]["tracking"]["groups"], groups);

  auto metrics = get("/metrics");
  for (const char* line :
       {"dts_tracking_log_end_offset{task=\"shop-changes\"} 6",
        "dts_tracking_log_start_offset{task=\"shop-changes\"} 0",
        "dts_tracking_group_lag_records{task=\"shop-changes\",group=\"billing\",topic=\"shop-"
        "changes\"} 4",
        "dts_tracking_group_lag_records{task=\"shop-changes\",group=\"flink\",topic=\"shop-"
        "changes.debezium-json\"} 0"})
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n" << metrics.body;
  EXPECT_EQ(get("/api/v1/tasks/nope/groups").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/tasks/shop-changes/groups").status, 405);
}

TEST_F(ChangesEndpointTest, GroupTokenReadsItsTasksChangesOnly) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(manager_
                  ->create(std::string(kTracking).replace(kTracking.find("shop-changes"), 12,
                                                          "other-changes"))
                  .ok());
  auto issued = call("POST", "/api/v1/tasks/shop-changes/groups/billing/token");
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string token = json::parse(issued.body)["token"];
  EXPECT_EQ(token.rfind("dtsg_", 0), 0u);
  EXPECT_EQ(token.size(), 69u);
  const std::string bearer = "Bearer " + token;

  auto read = get("/api/v1/tasks/shop-changes/changes?wait_ms=0", bearer);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(drain(read).size(), 3u);
  // Nothing else: other tasks, other groups, the rest of the API.
  EXPECT_EQ(get("/api/v1/tasks/other-changes/changes?wait_ms=0", bearer).status, 403);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?group=audit", bearer).status, 403);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes", bearer).status, 403);
  EXPECT_EQ(get("/api/v1/tasks", bearer).status, 403);
  EXPECT_EQ(get("/metrics", bearer).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/tasks/shop-changes/groups/billing/token", bearer).status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/shop-changes", bearer).status, 403);
  // Only its hash is stored.
  std::ifstream db(dir_ / "group-tokens.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  std::ifstream wal(dir_ / "group-tokens.db-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(token.substr(5)), std::string::npos);

  // A new token replaces the old one; revoking ends it.
  auto again = call("POST", "/api/v1/tasks/shop-changes/groups/billing/token");
  ASSERT_EQ(again.status, 201);
  const std::string second = json::parse(again.body)["token"];
  EXPECT_NE(second, token);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?wait_ms=0", bearer).status, 403);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?wait_ms=0", "Bearer " + second).status, 200);
  auto scope = manager_->groupTokenScope(second);
  ASSERT_TRUE(scope.ok() && scope->has_value());
  EXPECT_EQ((*scope)->task, "shop-changes");
  EXPECT_EQ((*scope)->group, "billing");
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/shop-changes/groups/billing/token").status, 200);
  EXPECT_EQ(get("/api/v1/tasks/shop-changes/changes?wait_ms=0", "Bearer " + second).status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/tasks/shop-changes/groups/billing/token").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/tasks/shop-changes/groups/bad%20group/token").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/tasks/nope/groups/billing/token").status, 404);
}

TEST_F(ChangesEndpointTest, DeletingTheTaskRemovesItsLogGroupsAndTokens) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  const std::filesystem::path log_dir = dir_ / "changes" / "shop-changes";
  ASSERT_TRUE(std::filesystem::exists(log_dir / "schema_history.db") ||
              std::filesystem::exists(log_dir));
  commit("billing", "shop-changes", 3);
  auto issued = call("POST", "/api/v1/tasks/shop-changes/groups/billing/token");
  ASSERT_EQ(issued.status, 201);
  const std::string token = json::parse(issued.body)["token"];
  ASSERT_TRUE(log_->close().ok());
  log_.reset();
  ASSERT_EQ(call("DELETE", "/api/v1/tasks/shop-changes").status, 200);
  EXPECT_FALSE(std::filesystem::exists(log_dir));
  auto scope = manager_->groupTokenScope(token);
  ASSERT_TRUE(scope.ok());
  EXPECT_FALSE(scope->has_value());
  // A new task of the same name starts with an empty log and no groups.
  ASSERT_TRUE(manager_->create(kTracking).ok());
  auto groups = get("/api/v1/tasks/shop-changes/groups");
  ASSERT_EQ(groups.status, 200);
  EXPECT_EQ(json::parse(groups.body)["groups"].size(), 0u);
  auto status = json::parse(get("/api/v1/tasks/shop-changes").body);
  EXPECT_EQ(status["tracking"]["log_end_offset"], 0);
}

// A reader that follows the log when its task is deleted: the stream ends, and a task created
// again under the name has a log of its own (it served the deleted task's records from the
// still-open log, and failed to start: its files were gone).
TEST_F(ChangesEndpointTest, DeletingATaskEndsItsReadersAndANewTaskOfTheNameHasItsOwnLog) {
  ASSERT_TRUE(log_->apply(txn(1, 100, "orders")).ok());
  ASSERT_TRUE(log_->flush().ok());
  auto follower = get("/api/v1/tasks/shop-changes/changes?from=earliest");
  ASSERT_EQ(follower.status, 200);
  ASSERT_TRUE(static_cast<bool>(follower.stream));
  std::string seen;
  for (int i = 0; i < 10 && seen.find("\"commit\"") == std::string::npos; ++i)
    ASSERT_TRUE(follower.stream(&seen));
  ASSERT_NE(seen.find("\"commit\""), std::string::npos) << seen;
  // The follower (and this test's writer) still hold the log when it is deleted.
  ASSERT_EQ(call("DELETE", "/api/v1/tasks/shop-changes").status, 200);
  EXPECT_TRUE(log_->removed());
  bool ended = false;
  for (int i = 0; i < 3 && !ended; ++i) ended = !follower.stream(&seen);
  EXPECT_TRUE(ended) << "the stream of a deleted task goes on";
  ASSERT_TRUE(manager_->create(kTracking).ok());
  EXPECT_TRUE(drain(get("/api/v1/tasks/shop-changes/changes?from=earliest&wait_ms=0")).empty());
  auto status = json::parse(get("/api/v1/tasks/shop-changes").body);
  EXPECT_EQ(status["tracking"]["log_end_offset"], 0);
  auto reopened = manager_->changeLog("shop-changes");
  ASSERT_TRUE(reopened.ok()) << reopened.status().toString();
  EXPECT_NE(reopened->get(), static_cast<const sink::ChangeLogReader*>(log_.get()));
  EXPECT_FALSE((*reopened)->removed());
}

}  // namespace
}  // namespace dts::server
