// Consumers of tracking tasks (issue 15, items 5 and 6) against a real MariaDB cluster, through
// `dts server` and `dts subscribe` (the consumer library, include/dts/consumer.h):
//   * `dts subscribe` killed with SIGKILL at random points while a writer commits: every change
//     reaches the group at least once, a commit never covers a record that was not printed, and
//     each new run starts right at the group's last commit; SIGINT commits and exits 0;
//   * `dts subscribe` rides through `dts server` killed with SIGKILL twice (same address): it
//     reconnects and goes on with no gap and no duplicate, and commits at the end;
//   * a group is one group over Kafka (kcat -G) and HTTP (dts subscribe): each resumes right
//     after the other's commit;
//   * --from TIME starts exactly at the first transaction committed at or after that time;
//   * the log equals the source's binlog transaction by transaction (GTIDs and row counts, read
//     with `dts binlog decode` from the node's binlog files) across a promotion of the task's
//     secondary node in the middle, and across an outage of that node (stop-node/start-node).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cluster_fixture.h"
#include "support_data.h"
#include "support_dts.h"
#include "support_subscribe.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string trackingTask(const std::string& name, const std::string& source,
                         const std::string& database) {
  return "name: " + name + "\nkind: tracking\nsource: " + source +
         "\nobjects: [{database: " + database + "}]\n";
}

class SubscribeTest : public SharedClusterTest {
 protected:
  void sourceSql(const std::string& sql) {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    Status st = c->execute(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.toString();
  }
  std::string sourcePosition() {
    auto c = cluster_->connect(cluster_->endpoint());
    if (c == nullptr) return "";
    auto p = c->queryValue("SELECT @@GLOBAL.gtid_binlog_pos");
    return p.ok() ? p->value_or("") : "";
  }
  void startTracking(Server& server, const std::string& name, const std::string& database) {
    json created = server.call(
        "POST", "/api/v1/tasks?start=true",
        trackingTask(
            name, "{endpoint: '" + cluster_->endpoint() + "', user: dts, password_env: DTS_IT_PW}",
            database));
    ASSERT_EQ(created.value("http_status", 0), 201) << created.dump();
    ASSERT_TRUE(eventually(60s, [&] { return server.phase(name) == "incremental"; }));
    std::this_thread::sleep_for(1s);  // the stream opens after the phase changes
  }
  bool caughtUp(Server& server, const std::string& task) {
    std::string pos = sourcePosition();
    return eventually(60s, [&] { return server.checkpoint(task) == pos; });
  }
};

TEST_F(SubscribeTest, ConsumerKilledAtRandomPointsGetsEveryChangeAndResumesAfterItsCommit) {
  sourceSql(
      "DROP DATABASE IF EXISTS sub; CREATE DATABASE sub;"
      "CREATE TABLE sub.t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(200))");
  Server server;
  server.start(workFile("data-sub"), workFile("sub-server.log"));
  startTracking(server, "sub", "sub");

  constexpr int kTransactions = 500;
  std::atomic<int> written{0};
  std::thread writer = startInsertUpdateWriter(cluster_->connect(cluster_->endpoint()), "sub",
                                               kTransactions, 8ms, &written);

  std::mt19937 rng(std::random_device{}());
  std::map<int, int> inserted, updated;  // id -> times seen
  int kills = 0;
  int64_t committed = -1;
  for (int run = 0;; ++run) {
    bool last = written.load() >= kTransactions && kills >= 3;
    std::string out = workFile("sub-run-" + std::to_string(run) + ".ndjson");
    std::string err = workFile("sub-run-" + std::to_string(run) + ".err");
    // Commit intervals vary: after every transaction, or at most every 0-300 ms.
    std::string args = "--group billing --commit-interval-ms " + std::to_string(rng() % 300);
    if (last) args += " --idle-exit-ms 3000";
    ShellProcess p;
    p.start(server.subscribeCommand("sub", args, out, err));
    if (last) {
      ASSERT_EQ(p.wait(120s), 0) << fileText(err);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
      p.signal(SIGKILL);
      ASSERT_EQ(p.wait(30s), -SIGKILL) << "subscribe ended before the kill:\n" << fileText(err);
      ++kills;
    }
    std::vector<json> lines = jsonLines(out);
    // The run starts right at the group's last commit (the first run: the earliest record).
    if (!lines.empty()) {
      EXPECT_EQ(lines.front()["offset"].get<int64_t>(), committed < 0 ? 0 : committed)
          << "run " << run;
    }
    for (size_t i = 1; i < lines.size(); ++i)
      ASSERT_EQ(lines[i]["offset"].get<int64_t>(), lines[i - 1]["offset"].get<int64_t>() + 1)
          << "run " << run << ": records in order, none missing";
    int64_t now = server.committed("sub", "billing");
    // A commit never covers a record that was not printed.
    int64_t printed_end =
        lines.empty() ? (committed < 0 ? 0 : committed) : lines.back()["offset"].get<int64_t>() + 1;
    EXPECT_LE(now, printed_end) << "run " << run;
    EXPECT_GE(now, committed) << "run " << run;
    committed = now;
    for (const auto& l : lines) {
      if (l["op"] == "insert") ++inserted[l["after"]["id"].get<int>()];
      if (l["op"] == "update") ++updated[l["after"]["id"].get<int>()];
    }
    if (last) {
      EXPECT_EQ(committed, lines.empty() ? committed : printed_end);
      break;
    }
  }
  writer.join();
  std::cout << kills << " consumers killed with SIGKILL\n";
  for (int id = 1; id <= kTransactions; ++id) {
    EXPECT_GE(inserted[id], 1) << "insert of id " << id << " never reached the group";
    EXPECT_GE(updated[id], 1) << "update of id " << id << " never reached the group";
  }

  // SIGINT: commits what was printed and exits 0; the next run has nothing left.
  sourceSql("INSERT INTO sub.t VALUES (100000, 1, 'last')");
  ASSERT_TRUE(caughtUp(server, "sub"));
  std::string out = workFile("sub-int.ndjson"), err = workFile("sub-int.err");
  ShellProcess p;
  p.start(server.subscribeCommand("sub", "--group billing --commit-interval-ms 60000", out, err));
  ASSERT_TRUE(eventually(30s, [&] { return jsonLines(out).size() >= 3; })) << fileText(err);
  p.signal(SIGINT);
  ASSERT_EQ(p.wait(30s), 0) << fileText(err);
  std::vector<json> lines = jsonLines(out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["after"]["id"], 100000);
  EXPECT_EQ(server.committed("sub", "billing"), lines.back()["offset"].get<int64_t>() + 1);
  std::string rest = workFile("sub-rest.ndjson");
  ShellProcess q;
  q.start(server.subscribeCommand("sub", "--group billing --idle-exit-ms 1500", rest, err));
  ASSERT_EQ(q.wait(60s), 0) << fileText(err);
  EXPECT_TRUE(jsonLines(rest).empty()) << fileText(rest);
  server.stop();
}

TEST_F(SubscribeTest, SubscribeRidesThroughTheServerKilledWithSigkill) {
  sourceSql(
      "DROP DATABASE IF EXISTS rid; CREATE DATABASE rid;"
      "CREATE TABLE rid.t (id INT PRIMARY KEY)");
  Server server;
  const std::string data = workFile("data-rid"), log = workFile("rid-server.log");
  server.start(data, log);
  startTracking(server, "rid", "rid");
  const std::string listen = server.url().substr(std::string("http://").size());
  std::string out = workFile("rid.ndjson"), err = workFile("rid.err");
  ShellProcess consumer;
  consumer.start(server.subscribeCommand("rid", "--group g --commit-interval-ms 0", out, err));

  constexpr int kTransactions = 300;
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    for (int i = 1; i <= kTransactions; ++i) {
      ASSERT_TRUE(c->execute("INSERT INTO rid.t VALUES (" + std::to_string(i) + ")").ok());
      written = i;
      std::this_thread::sleep_for(10ms);
    }
  });
  // The server dies twice while the consumer reads and the writer writes; it comes back on the
  // same address and resumes the task; the consumer reconnects by itself.
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(eventually(60s, [&] { return jsonLines(out).size() > 30u * (round + 1); }))
        << fileText(err);
    server.kill();
    std::this_thread::sleep_for(1s);
    server.start(data, log, listen);
  }
  writer.join();
  std::set<int> ids;
  ASSERT_TRUE(eventually(120s,
                         [&] {
                           ids.clear();
                           for (const auto& l : jsonLines(out))
                             if (l["op"] == "insert") ids.insert(l["after"]["id"].get<int>());
                           return ids.size() == static_cast<size_t>(kTransactions);
                         }))
      << ids.size() << " ids\n"
      << fileText(err);
  consumer.signal(SIGINT);
  ASSERT_EQ(consumer.wait(30s), 0) << fileText(err);
  std::vector<json> lines = jsonLines(out);
  // One run of the consumer: no gap and no record twice, across both reconnections.
  for (size_t i = 0; i < lines.size(); ++i)
    ASSERT_EQ(lines[i]["offset"].get<int64_t>(), static_cast<int64_t>(i)) << fileText(err);
  EXPECT_EQ(lines.size(), static_cast<size_t>(kTransactions) * 3);
  EXPECT_EQ(server.committed("rid", "g"), static_cast<int64_t>(lines.size()));
  EXPECT_NE(fileText(err).find("retrying in"), std::string::npos) << fileText(err);
  server.stop();
}

TEST_F(SubscribeTest, AGroupIsOneGroupOverKafkaAndHttp) {
  sourceSql(
      "DROP DATABASE IF EXISTS xp; CREATE DATABASE xp;"
      "CREATE TABLE xp.t (id INT PRIMARY KEY)");
  Server server;
  server.start(workFile("data-xp"), workFile("xp-server.log"), "127.0.0.1:0", true);
  startTracking(server, "xp", "xp");
  auto insert = [&](int id) { sourceSql("INSERT INTO xp.t VALUES (" + std::to_string(id) + ")"); };
  // kcat as group xg to the end of the log; it commits when it closes.
  auto kcatGroup = [&]() {
    std::string out;
    EXPECT_EQ(runCommand("timeout 60 kcat -b 127.0.0.1:" + std::to_string(server.kafkaPort()) +
                             " -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN"
                             " -X sasl.username=any -X sasl.password=" +
                             server.token() +
                             " -G xg -X auto.offset.reset=earliest -X enable.partition.eof=true"
                             " -e -q -f '%o\\n' xp",
                         &out),
              0)
        << out;
    std::vector<int64_t> offsets;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
        offsets.push_back(std::stoll(line));
    return offsets;
  };
  for (int id : {1, 2, 3}) insert(id);
  ASSERT_TRUE(caughtUp(server, "xp"));
  EXPECT_EQ(kcatGroup(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(server.committed("xp", "xg"), 9);  // Kafka's commit, seen over HTTP

  for (int id : {4, 5}) insert(id);
  ASSERT_TRUE(caughtUp(server, "xp"));
  std::string out = workFile("xp.ndjson"), err = workFile("xp.err");
  ShellProcess p;
  p.start(server.subscribeCommand("xp", "--group xg --idle-exit-ms 1500", out, err));
  ASSERT_EQ(p.wait(60s), 0) << fileText(err);
  std::vector<json> lines = jsonLines(out);
  ASSERT_EQ(lines.size(), 6u) << fileText(out);
  EXPECT_EQ(lines.front()["offset"], 9);  // right after kcat's commit
  EXPECT_EQ(lines[1]["after"]["id"], 4);
  EXPECT_EQ(server.committed("xp", "xg"), 15);

  insert(6);
  ASSERT_TRUE(caughtUp(server, "xp"));
  EXPECT_EQ(kcatGroup(), (std::vector<int64_t>{15, 16, 17}));  // right after the HTTP commit
  server.stop();
}

// The row ids of a file of debezium-json, canal-json or maxwell-json lines (inserts).
std::vector<int> viewIds(const std::string& path) {
  std::vector<int> ids;
  std::istringstream in(fileText(path));
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;  // a line cut by a kill
    if (j.contains("after") && j["after"].is_object()) {
      ids.push_back(j["after"]["id"].get<int>());  // debezium-json
    } else if (j.contains("data") && j["data"].is_array()) {
      ids.push_back(std::stoi(j["data"][0]["id"].get<std::string>()));  // canal-json
    } else if (j.contains("data") && j["data"].is_object()) {
      ids.push_back(j["data"]["id"].get<int>());  // maxwell-json
    }
  }
  return ids;
}

// --format debezium-json|canal-json|maxwell-json: commits after each transaction, a run resumes
// right after the last commit (--max-records), and one run rides through a server restart (SIGTERM)
// without printing anything twice.
TEST_F(SubscribeTest, EveryFormatCommitsResumesAndRidesThroughARestart) {
  sourceSql(
      "DROP DATABASE IF EXISTS vf; CREATE DATABASE vf;"
      "CREATE TABLE vf.t (id INT PRIMARY KEY)");
  Server server;
  const std::string data = workFile("data-vf"), log = workFile("vf-server.log");
  server.start(data, log);
  startTracking(server, "vf", "vf");
  const std::string listen = server.url().substr(std::string("http://").size());
  auto insert = [&](int id) { sourceSql("INSERT INTO vf.t VALUES (" + std::to_string(id) + ")"); };
  for (int id = 1; id <= 5; ++id) insert(id);
  ASSERT_TRUE(caughtUp(server, "vf"));
  const std::vector<std::string> formats = {"debezium-json", "canal-json", "maxwell-json"};
  for (const auto& format : formats) {
    SCOPED_TRACE(format);
    std::vector<int> all;
    for (int run = 0; run < 3; ++run) {
      std::string out = workFile("vf-" + format + "-" + std::to_string(run) + ".out");
      std::string err = workFile("vf-" + format + "-" + std::to_string(run) + ".err");
      ShellProcess p;
      p.start(server.subscribeCommand(
          "vf",
          "--group g-" + format + " --format " + format + " --max-records 2 --idle-exit-ms 1500",
          out, err));
      ASSERT_EQ(p.wait(60s), 0) << fileText(err);
      auto ids = viewIds(out);
      all.insert(all.end(), ids.begin(), ids.end());
      // Transaction i is offsets 3(i-1) .. 3i-1, its row 3i-2: the commit is right after the
      // last row printed (or after its commit marker, when the run went on to it).
      const int64_t n = static_cast<int64_t>(all.size());
      int64_t committed = server.committed("vf", "g-" + format, format);
      EXPECT_GE(committed, 3 * n - 1) << fileText(err);
      EXPECT_LE(committed, 3 * n) << fileText(err);
    }
    EXPECT_EQ(all, (std::vector<int>{1, 2, 3, 4, 5})) << "each run right after the last commit";
  }
  // One run that follows the log while the server restarts.
  std::map<std::string, std::unique_ptr<ShellProcess>> followers;
  for (const auto& format : formats) {
    followers[format] = std::make_unique<ShellProcess>();
    followers[format]->start(server.subscribeCommand(
        "vf", "--group f-" + format + " --format " + format + " --commit-interval-ms 0",
        workFile("vf-follow-" + format + ".out"), workFile("vf-follow-" + format + ".err")));
  }
  ASSERT_TRUE(eventually(60s, [&] {
    for (const auto& format : formats)
      if (viewIds(workFile("vf-follow-" + format + ".out")).size() < 5) return false;
    return true;
  }));
  server.stop();  // SIGTERM
  server.start(data, log, listen);
  insert(6);
  for (const auto& format : formats) {
    SCOPED_TRACE(format);
    const std::string out = workFile("vf-follow-" + format + ".out");
    ASSERT_TRUE(eventually(60s, [&] { return viewIds(out).size() >= 6; }))
        << fileText(workFile("vf-follow-" + format + ".err"));
    std::this_thread::sleep_for(500ms);
    followers[format]->signal(SIGTERM);
    ASSERT_EQ(followers[format]->wait(30s), 0);
    EXPECT_EQ(viewIds(out), (std::vector<int>{1, 2, 3, 4, 5, 6}))
        << fileText(workFile("vf-follow-" + format + ".err"));
    EXPECT_EQ(server.committed("vf", "f-" + format, format), 18);
    // The task's own topic: that group never committed there.
    EXPECT_EQ(server.committed("vf", "f-" + format), -1);
  }
  server.stop();
}

TEST_F(SubscribeTest, StartFromTimeIsExactAtTransactionBoundaries) {
  sourceSql(
      "DROP DATABASE IF EXISTS tim; CREATE DATABASE tim;"
      "CREATE TABLE tim.t (id INT PRIMARY KEY)");
  Server server;
  server.start(workFile("data-tim"), workFile("tim-server.log"));
  startTracking(server, "tim", "tim");
  // Three rounds of transactions, each round in its own second of commit time.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i)
      sourceSql("BEGIN; INSERT INTO tim.t VALUES (" + std::to_string(round * 10 + i) +
                "); INSERT INTO tim.t VALUES (" + std::to_string(round * 10 + i + 100) +
                "); COMMIT");
    std::this_thread::sleep_for(1100ms);
  }
  ASSERT_TRUE(caughtUp(server, "tim"));
  std::string all_path = workFile("tim-all.ndjson"), err = workFile("tim.err");
  ShellProcess all;
  all.start(server.subscribeCommand("tim", "--from earliest --idle-exit-ms 1500", all_path, err));
  ASSERT_EQ(all.wait(60s), 0) << fileText(err);
  std::vector<json> lines = jsonLines(all_path);
  ASSERT_EQ(lines.size(), 9u * 4u);
  // Every transaction boundary where the commit time moves on: --from that time (and any time
  // after the previous transaction's) starts exactly at its begin marker.
  int checked = 0;
  for (size_t i = 4; i < lines.size(); i += 4) {
    int64_t prev = lines[i - 1]["ts_ms"], ts = lines[i]["ts_ms"];
    ASSERT_EQ(lines[i]["op"], "begin");
    if (ts == prev) continue;
    for (int64_t from : {ts, prev + 1}) {
      std::string out = workFile("tim-" + std::to_string(from) + ".ndjson");
      ShellProcess p;
      p.start(server.subscribeCommand(
          "tim", "--from ms:" + std::to_string(from) + " --max-records 1", out, err));
      ASSERT_EQ(p.wait(60s), 0) << fileText(err);
      std::vector<json> got = jsonLines(out);
      ASSERT_EQ(got.size(), 1u) << fileText(err);
      EXPECT_EQ(got[0], lines[i]) << "from ms:" << from;
    }
    ++checked;
  }
  EXPECT_GE(checked, 2);  // at least the rounds' (a slow machine spreads more)
  // After the last commit time: nothing (the next transaction to come).
  int64_t after = lines.back()["ts_ms"].get<int64_t>() + 1000;
  std::string none = workFile("tim-none.ndjson");
  ShellProcess p;
  p.start(server.subscribeCommand(
      "tim", "--from ms:" + std::to_string(after) + " --idle-exit-ms 1000", none, err));
  ASSERT_EQ(p.wait(60s), 0) << fileText(err);
  EXPECT_TRUE(jsonLines(none).empty());
  server.stop();
}

// Tests that change the cluster's topology: each has its own cluster.
class SubscribeClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::start();
    setenv("DTS_IT_PW", cluster_->password().c_str(), 1);
    data_ = cluster_->dir() + "/dts";
    json st = cluster_->status();
    std::ofstream f(cluster_->dir() + "/instance.yaml");
    f << "name: shop\nendpoint: '" << st["endpoint"].get<std::string>()
      << "'\nuser: dts\npassword_env: DTS_IT_PW\nnodes:\n";
    for (const auto& n : st["nodes"])
      f << "  - {name: " << n["name"].get<std::string>() << ", endpoint: '"
        << n["endpoint"].get<std::string>() << "'}\n";
    f.close();
    std::string out;
    ASSERT_EQ(runDts({"instance", "create", "-f", cluster_->dir() + "/instance.yaml", "--data-dir",
                      data_},
                     &out),
              0)
        << out;
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(
        c->execute("CREATE DATABASE fo; CREATE TABLE fo.t (id INT PRIMARY KEY, k INT)").ok());
    server_.start(data_, cluster_->dir() + "/server.log");
    json created =
        server_.call("POST", "/api/v1/tasks?start=true",
                     trackingTask("fo", "{instance: shop, secondary_node: node-2}", "fo"));
    ASSERT_EQ(created.value("http_status", 0), 201) << created.dump();
    ASSERT_TRUE(eventually(60s, [&] { return server_.phase("fo") == "incremental"; }))
        << server_.call("GET", "/api/v1/tasks/fo").dump();
    std::this_thread::sleep_for(1s);
  }
  void TearDown() override {
    stopWriter();
    if (server_.process() != nullptr) server_.stop();
    cluster_.reset();
  }

  // A writer through the read/write endpoint: transactions of 1-3 rows, retried on errors (a
  // promotion refuses writes for a moment).
  void startWriter() {
    writer_ = std::thread([this] {
      std::mt19937 rng(7);
      int id = 0;
      while (!stop_writer_.load()) {
        auto c = cluster_->connect(cluster_->endpoint());
        if (c == nullptr) {
          std::this_thread::sleep_for(100ms);
          continue;
        }
        while (!stop_writer_.load()) {
          int rows = 1 + static_cast<int>(rng() % 3);
          std::string sql = "BEGIN;";
          for (int r = 0; r < rows; ++r)
            sql += " INSERT INTO fo.t VALUES (" + std::to_string(++id) + ", " +
                   std::to_string(rows) + ");";
          sql += " COMMIT";
          if (!c->execute(sql).ok()) {
            (void)c->execute("ROLLBACK");
            break;  // reconnect
          }
          std::this_thread::sleep_for(10ms);
        }
      }
    });
  }
  void stopWriter() {
    stop_writer_ = true;
    if (writer_.joinable()) writer_.join();
  }

  // The transactions of database fo in a node's binlog files: GTID and row count, in order.
  std::vector<std::pair<std::string, int>> binlogTransactions(const std::string& node) {
    std::vector<std::string> files;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(cluster_->dir() + "/" + node)) {
      std::string name = e.path().filename().string();
      if (std::regex_match(name, std::regex("binlog\\.[0-9]+"))) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    EXPECT_FALSE(files.empty());
    std::vector<std::string> args = {"binlog", "decode", "--tables", "fo.*"};
    args.insert(args.end(), files.begin(), files.end());
    std::string out;
    EXPECT_EQ(runDts(args, &out), 0) << out.substr(0, 2000);
    std::vector<std::pair<std::string, int>> txs;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("gtid") || !j["gtid"].is_string()) continue;
      std::string op = j.value("op", "");
      if (op != "insert" && op != "update" && op != "delete") continue;
      std::string gtid = j["gtid"];
      if (txs.empty() || txs.back().first != gtid) txs.emplace_back(gtid, 0);
      ++txs.back().second;
    }
    return txs;
  }

  // The log's transactions through the endpoint (all of it, from the earliest record).
  std::vector<std::pair<std::string, int>> logTransactions() {
    std::string out = cluster_->dir() + "/log.ndjson", err = cluster_->dir() + "/log.err";
    ShellProcess p;
    p.start(server_.subscribeCommand("fo", "--from earliest --idle-exit-ms 2000", out, err));
    EXPECT_EQ(p.wait(120s), 0) << fileText(err);
    std::vector<std::pair<std::string, int>> txs;
    for (const json& j : jsonLines(out)) {
      std::string op = j["op"];
      if (op == "begin") txs.emplace_back(j["gtid"].get<std::string>(), 0);
      if (op == "insert" || op == "update" || op == "delete") ++txs.back().second;
      if (op == "commit") {
        EXPECT_EQ(j["event_count"], txs.back().second);
      }
    }
    return txs;
  }

  void expectLogEqualsBinlog(const std::string& node) {
    std::string pos = cluster_->rootSql(node, "SELECT @@gtid_binlog_pos");
    while (!pos.empty() && (pos.back() == '\n' || pos.back() == '\r')) pos.pop_back();
    ASSERT_TRUE(eventually(120s, [&] { return server_.checkpoint("fo") == pos; }))
        << "checkpoint " << server_.checkpoint("fo") << " never reached " << pos;
    auto want = binlogTransactions(node);
    auto got = logTransactions();
    ASSERT_GT(want.size(), 50u);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].first, want[i].first) << "transaction " << i;
      ASSERT_EQ(got[i].second, want[i].second) << "transaction " << i << " " << want[i].first;
    }
    std::cout << want.size() << " transactions equal, last " << want.back().first << "\n";
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::string data_;
  Server server_;
  std::thread writer_;
  std::atomic<bool> stop_writer_{false};
};

TEST_F(SubscribeClusterTest, LogEqualsTheBinlogAcrossAPromotionInTheMiddle) {
  startWriter();
  std::this_thread::sleep_for(3s);
  cluster_->run("promote node-2");  // the task's secondary becomes the primary
  std::this_thread::sleep_for(3s);
  stopWriter();
  EXPECT_EQ(server_.call("GET", "/api/v1/tasks/fo").value("state", ""), "running");
  expectLogEqualsBinlog("node-2");
}

TEST_F(SubscribeClusterTest, LogEqualsTheBinlogAcrossAnOutageOfTheSecondary) {
  startWriter();
  std::this_thread::sleep_for(2s);
  cluster_->run("stop-node node-2");
  std::this_thread::sleep_for(3s);
  cluster_->run("start-node node-2");
  std::this_thread::sleep_for(2s);
  stopWriter();
  cluster_->waitReplicated("node-2");
  EXPECT_EQ(server_.call("GET", "/api/v1/tasks/fo").value("state", ""), "running");
  expectLogEqualsBinlog("node-2");
}

// `dts subscribe` against a server without a database behind it: what must fail does (exit 1
// for an error, 2 for bad arguments), never "nothing read" with exit 0.
class SubscribeErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dts_subscribe_errors_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    server_.start((dir_ / "data").string(), (dir_ / "server.log").string());
    // Tasks that are never started: the source is nowhere.
    json t = server_.call("POST", "/api/v1/tasks",
                          "name: trk\nkind: tracking\nsource: {endpoint: '127.0.0.1:1', user: u, "
                          "password: p}\nobjects: [{database: d}]\n");
    ASSERT_EQ(t.value("http_status", 0), 201) << t.dump();
    json s = server_.call(
        "POST", "/api/v1/tasks",
        "name: syn\nkind: sync\nsource: {endpoint: '127.0.0.1:1', user: u, password: p}\n"
        "destination: {endpoint: '127.0.0.1:1', user: u, password: p}\n"
        "objects: [{database: d}]\n");
    ASSERT_EQ(s.value("http_status", 0), 201) << s.dump();
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  // The exit code of `dts subscribe ARGS` (env: extra environment), its stderr in *err.
  int subscribe(const std::string& args, std::string* err, const std::string& env = "") {
    const std::string out = (dir_ / "out").string(), err_path = (dir_ / "err").string();
    std::string cmd = "env DTS_TOKEN=" + server_.token() + " " + env + " " +
                      shellQuote(dtsBinary()) + " subscribe " + args + " > " + shellQuote(out) +
                      " 2> " + shellQuote(err_path);
    std::string ignored;
    int code = runCommand("timeout 60 sh -c " + shellQuote(cmd), &ignored);
    *err = fileText(err_path);
    return code;
  }

  std::filesystem::path dir_;
  Server server_;
};

TEST_F(SubscribeErrorsTest, UnreachableServerWrongTokenUnknownOrSyncTaskAreErrors) {
  std::string err;
  const std::string url = " --server " + server_.url();
  // Out of reach: retried, then exit 1, even with --idle-exit-ms (nothing came: not idle).
  EXPECT_EQ(subscribe("trk --group g --idle-exit-ms 500 --retry-window-ms 1500", &err,
                      "DTS_SERVER=http://127.0.0.1:1"),
            1)
      << err;
  EXPECT_NE(err.find("127.0.0.1:1"), std::string::npos) << err;
  EXPECT_EQ(err.find("nothing read"), std::string::npos) << err;
  EXPECT_EQ(subscribe("trk --group g --idle-exit-ms 500" + url, &err, "DTS_TOKEN=wrong"), 1) << err;
  EXPECT_NE(err.find("refused the token"), std::string::npos) << err;
  EXPECT_EQ(subscribe("nope --group g --idle-exit-ms 500" + url, &err), 1) << err;
  EXPECT_EQ(subscribe("syn --group g --idle-exit-ms 500" + url, &err), 1) << err;
  EXPECT_NE(err.find("syn"), std::string::npos) << err;
  // A tracking task that is there: idle after 500 ms, exit 0.
  EXPECT_EQ(subscribe("trk --group g --idle-exit-ms 500" + url, &err), 0) << err;
}

TEST_F(SubscribeErrorsTest, NumericOptionsAreValidated) {
  std::string err;
  const std::string base = "trk --group g --server " + server_.url();  // refused before reading
  for (const char* bad : {"--commit-interval-ms -5", "--max-records -1", "--idle-exit-ms -1",
                          "--retry-window-ms -3"}) {
    EXPECT_EQ(subscribe(base + " " + bad, &err), 2) << bad << ": " << err;
    EXPECT_NE(err.find("must be 0 or more"), std::string::npos) << bad << ": " << err;
  }
}

// --idle-exit-ms counts time with no byte arriving: a record streaming in slowly (one long line
// over a second and a half, no gap of 300 ms) is printed, then the run ends once it is quiet.
TEST_F(SubscribeErrorsTest, ALongRecordStreamingInIsNotIdle) {
  httplib::Server slow;
  const std::string line =
      "{\"offset\":0,\"op\":\"insert\",\"pad\":\"" + std::string(2000000, 'x') + "\"}\n";
  slow.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    auto sent = std::make_shared<size_t>(0);
    res.set_chunked_content_provider(
        "application/x-ndjson", [&line, sent](size_t, httplib::DataSink& sink) {
          std::this_thread::sleep_for(100ms);
          if (*sent < line.size()) {
            size_t n = std::min(line.size() - *sent, line.size() / 15 + 1);
            sink.write(line.data() + *sent, n);
            *sent += n;
          }
          return true;
        });
  });
  int port = slow.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { slow.listen_after_bind(); });
  std::string err;
  auto started = std::chrono::steady_clock::now();
  int code =
      subscribe("big --idle-exit-ms 300 --server http://127.0.0.1:" + std::to_string(port), &err);
  auto took = std::chrono::steady_clock::now() - started;
  slow.stop();
  serving.join();
  EXPECT_EQ(code, 0) << err;
  const std::string printed = fileText((dir_ / "out").string());
  EXPECT_EQ(printed.size(), line.size()) << err;
  EXPECT_TRUE(printed == line) << "the record, whole";
  EXPECT_GT(took, 1500ms);
}

}  // namespace
}  // namespace dts::testing
