// Tracking tasks (issue 15) against a real MariaDB: `dts run` of a `kind: tracking` task writes
// the source's changes to the task's change log (sink/change_log.h), read back here through
// sink::ChangeLog once dts has stopped.
//   * inserts, updates, deletes and DDL land in commit order, transaction by transaction equal to
//     what the source committed (same GTIDs, same rows, begin/commit around each);
//   * dts killed with SIGKILL again and again while a writer commits a stream of transactions,
//     then restarted: the log holds every transaction exactly once, in order;
//   * a torn tail (the last batch cut short on disk) is cut when dts starts again, and the cut
//     transaction is read again from the source: still exactly once;
//   * under `dts server`, GET /api/v1/tasks/NAME/changes streams what commits while it waits.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "cluster_fixture.h"
#include "sink/change_log.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct LoggedTxn {
  std::string gtid;
  std::vector<json> changes;  // rows and DDL, in order
};

class TrackingTest : public SharedClusterTest {
 protected:
  std::string writeTask(const std::string& name, const std::string& database) {
    std::string path = workFile(name + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\n"
      << "kind: tracking\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects:\n  - database: " << database << "\n";
    return path;
  }

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

  std::string checkpoint(const std::string& data, const std::string& task) {
    json s = taskStatus(data, task);
    return s.is_object() && s.contains("checkpoint_gtid") ? s["checkpoint_gtid"].get<std::string>()
                                                          : "";
  }

  bool waitCaughtUp(const std::string& data, const std::string& task) {
    std::string pos = sourcePosition();
    return eventually(60s, [&] { return checkpoint(data, task) == pos; });
  }

  std::string phase(const std::string& data, const std::string& task) {
    json s = taskStatus(data, task);
    return s.is_object() && s.contains("phase") ? s["phase"].get<std::string>() : "";
  }

  // The log's transactions (dts stopped: the test opens the log itself, which also recovers it).
  std::vector<LoggedTxn> readLog(const std::string& data, const std::string& task) {
    sink::ChangeLogOptions o;
    o.dir = data + "/changes/" + task;
    auto log = sink::ChangeLog::open(o);
    EXPECT_TRUE(log.ok()) << log.status().toString();
    std::vector<LoggedTxn> out;
    if (!log.ok()) return out;
    int64_t at = (*log)->firstOffset();
    bool open = false;
    while (at < (*log)->endOffset()) {
      auto records = (*log)->read(at, 1 << 20);
      EXPECT_TRUE(records.ok()) << records.status().toString();
      if (!records.ok()) break;
      for (const auto& r : *records) {
        EXPECT_EQ(r.offset, at);
        ++at;
        json j = json::parse(r.value);
        std::string op = j["op"];
        if (op == "begin") {
          EXPECT_FALSE(open) << "begin inside a transaction at offset " << r.offset;
          open = true;
          out.push_back(LoggedTxn{j["gtid"].is_string() ? j["gtid"].get<std::string>() : "", {}});
        } else if (op == "commit") {
          EXPECT_TRUE(open) << "commit outside a transaction at offset " << r.offset;
          EXPECT_EQ(j["event_count"], out.back().changes.size());
          EXPECT_EQ(j["gtid"], out.back().gtid);
          open = false;
        } else {
          EXPECT_TRUE(open) << op << " outside a transaction at offset " << r.offset;
          if (open) out.back().changes.push_back(j);
        }
      }
    }
    EXPECT_FALSE(open) << "the log ends inside a transaction";
    EXPECT_TRUE((*log)->close().ok());
    return out;
  }

  static std::string fileText(const std::string& path) {
    std::ifstream l(path);
    return std::string((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
  }
};

TEST_F(TrackingTest, LogsEveryChangeInCommitOrderTransactionByTransaction) {
  sourceSql(
      "DROP DATABASE IF EXISTS trk; CREATE DATABASE trk;"
      "CREATE TABLE trk.t (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(6,2));"
      "DROP DATABASE IF EXISTS trk_other; CREATE DATABASE trk_other;"
      "CREATE TABLE trk_other.t (id INT PRIMARY KEY)");
  std::string data = workFile("data-trk");
  std::string logfile = workFile("trk.log");
  DtsProcess dts;
  dts.start({"run", writeTask("trk", "trk"), "--data-dir", data}, logfile);
  ASSERT_TRUE(eventually(60s, [&] { return phase(data, "trk") == "incremental"; }))
      << fileText(logfile);
  // The start position was read before the phase changed; give the stream a moment to open.
  std::this_thread::sleep_for(1s);

  std::vector<std::string> gtids;
  auto commit = [&](const std::string& sql) {
    sourceSql(sql);
    gtids.push_back(sourcePosition());
  };
  commit("INSERT INTO trk.t VALUES (1, 'one', 1.50)");
  commit(
      "BEGIN; INSERT INTO trk.t VALUES (2, 'two', 2); UPDATE trk.t SET v = 'uno' WHERE id = 1;"
      " DELETE FROM trk.t WHERE id = 2; COMMIT");
  commit("INSERT INTO trk_other.t VALUES (1)");  // not selected: no records
  commit("ALTER TABLE trk.t ADD COLUMN n INT NOT NULL DEFAULT 7");
  commit("INSERT INTO trk.t (id, v, d) VALUES (3, 'three', 3.25)");
  commit("UPDATE trk.t SET n = n + id");
  ASSERT_TRUE(waitCaughtUp(data, "trk")) << fileText(logfile);
  dts.signal(SIGTERM);
  ASSERT_EQ(dts.wait(60s), 0) << fileText(logfile);

  std::vector<LoggedTxn> log = readLog(data, "trk");
  ASSERT_EQ(log.size(), 5u);
  std::vector<std::string> want_gtids = {gtids[0], gtids[1], gtids[3], gtids[4], gtids[5]};
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i].gtid, want_gtids[i]) << i;

  ASSERT_EQ(log[0].changes.size(), 1u);
  EXPECT_EQ(log[0].changes[0]["op"], "insert");
  EXPECT_EQ(log[0].changes[0]["after"], json({{"id", 1}, {"v", "one"}, {"d", "1.50"}}));
  EXPECT_EQ(log[0].changes[0]["types"]["d"], "decimal(6,2)");
  EXPECT_EQ(log[0].changes[0]["pk"], json::array({"id"}));

  ASSERT_EQ(log[1].changes.size(), 3u);
  EXPECT_EQ(log[1].changes[0]["op"], "insert");
  EXPECT_EQ(log[1].changes[1]["op"], "update");
  EXPECT_EQ(log[1].changes[1]["before"]["v"], "one");
  EXPECT_EQ(log[1].changes[1]["after"]["v"], "uno");
  EXPECT_EQ(log[1].changes[2]["op"], "delete");
  EXPECT_EQ(log[1].changes[2]["before"]["id"], 2);
  EXPECT_TRUE(log[1].changes[2]["after"].is_null());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(log[1].changes[i]["tx"]["seq"], i + 1);

  ASSERT_EQ(log[2].changes.size(), 1u);
  EXPECT_EQ(log[2].changes[0]["op"], "ddl");
  EXPECT_NE(log[2].changes[0]["sql"].get<std::string>().find("ADD COLUMN n"), std::string::npos);

  ASSERT_EQ(log[3].changes.size(), 1u);
  EXPECT_EQ(log[3].changes[0]["after"], json({{"id", 3}, {"v", "three"}, {"d", "3.25"}, {"n", 7}}));
  ASSERT_EQ(log[4].changes.size(), 2u);  // ids 1 and 3
  EXPECT_EQ(log[4].changes[0]["after"]["n"], 8);
  EXPECT_EQ(log[4].changes[1]["after"]["n"], 10);
}

TEST_F(TrackingTest, KillNineAndATornTailKeepEveryTransactionExactlyOnce) {
  sourceSql(
      "DROP DATABASE IF EXISTS kil; CREATE DATABASE kil;"
      "CREATE TABLE kil.t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(200))");
  std::string data = workFile("data-kil");
  std::string logfile = workFile("kil.log");
  std::string file = writeTask("kil", "kil");
  {
    DtsProcess dts;
    dts.start({"run", file, "--data-dir", data}, logfile);
    ASSERT_TRUE(eventually(60s, [&] { return phase(data, "kil") == "incremental"; }))
        << fileText(logfile);
    std::this_thread::sleep_for(1s);
    dts.signal(SIGTERM);
    ASSERT_EQ(dts.wait(60s), 0) << fileText(logfile);
  }
  // A writer commits transactions of two statements while dts is killed and restarted.
  constexpr int kTransactions = 600;
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    for (int i = 1; i <= kTransactions; ++i) {
      std::string id = std::to_string(i);
      Status st = c->execute("BEGIN; INSERT INTO kil.t VALUES (" + id + ", 0, REPEAT('x', " +
                             std::to_string(i % 200) + ")); UPDATE kil.t SET n = " + id +
                             " WHERE id = " + id + "; COMMIT");
      ASSERT_TRUE(st.ok()) << st.toString();
      written = i;
      std::this_thread::sleep_for(5ms);
    }
  });
  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  while (written.load() < kTransactions && kills < 6) {
    DtsProcess dts;
    dts.start({"run", file, "--data-dir", data}, logfile);
    std::this_thread::sleep_for(std::chrono::milliseconds(800 + rng() % 1500));
    dts.signal(SIGKILL);
    ASSERT_EQ(dts.wait(60s), -SIGKILL) << "dts ended before the kill:\n" << fileText(logfile);
    ++kills;
  }
  writer.join();
  EXPECT_GE(kills, 2);
  std::cout << kills << " kills with SIGKILL\n";

  auto runToEnd = [&] {
    DtsProcess dts;
    dts.start({"run", file, "--data-dir", data}, logfile);
    ASSERT_TRUE(waitCaughtUp(data, "kil")) << fileText(logfile);
    dts.signal(SIGTERM);
    ASSERT_EQ(dts.wait(60s), 0) << fileText(logfile);
  };
  auto checkExactlyOnce = [&](const std::vector<LoggedTxn>& log) {
    ASSERT_EQ(log.size(), static_cast<size_t>(kTransactions));
    for (int i = 0; i < kTransactions; ++i) {
      const LoggedTxn& t = log[static_cast<size_t>(i)];
      ASSERT_EQ(t.changes.size(), 2u) << i;
      EXPECT_EQ(t.changes[0]["op"], "insert");
      EXPECT_EQ(t.changes[0]["after"]["id"], i + 1);
      EXPECT_EQ(t.changes[1]["op"], "update");
      EXPECT_EQ(t.changes[1]["after"]["n"], i + 1);
    }
  };
  runToEnd();
  checkExactlyOnce(readLog(data, "kil"));

  // Tear the last batch: the segment loses its last 7 bytes, as if the machine died mid-write.
  std::string last;
  for (const auto& e : std::filesystem::directory_iterator(data + "/changes/kil"))
    if (e.path().extension() == ".log" && e.path().string() > last) last = e.path().string();
  ASSERT_FALSE(last.empty());
  std::filesystem::resize_file(last, std::filesystem::file_size(last) - 7);
  runToEnd();  // recovers the log, reads the cut transaction again from the source
  checkExactlyOnce(readLog(data, "kil"));
  EXPECT_NE(fileText(logfile).find("torn tail"), std::string::npos);
}

TEST_F(TrackingTest, UnderDtsServerTheChangesEndpointStreamsWhatCommits) {
  sourceSql(
      "DROP DATABASE IF EXISTS srv; CREATE DATABASE srv;"
      "CREATE TABLE srv.t (id INT PRIMARY KEY, v VARCHAR(10))");
  std::string data = workFile("data-srv");
  std::string logfile = workFile("srv.log");
  DtsProcess server;
  server.start(
      {"server", "--data-dir", data, "--listen", "127.0.0.1:0", "--kafka-listen", "127.0.0.1:0"},
      logfile);
  ASSERT_TRUE(eventually(20s, [&] {
    return fileText(logfile).find("listening on http://") != std::string::npos;
  })) << fileText(logfile);
  std::smatch m;
  std::string text = fileText(logfile);
  ASSERT_TRUE(std::regex_search(text, m, std::regex("listening on (http://[0-9.]+:[0-9]+)")));
  std::string url = m[1];
  std::string token;
  std::ifstream(data + "/api-token") >> token;
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  httplib::Client api(url);
  std::string task = "name: srv\nkind: tracking\nsource: {endpoint: '" + cluster_->endpoint() +
                     "', user: dts, password_env: DTS_IT_PW}\nobjects: [{database: srv}]\n";
  auto created = api.Post("/api/v1/tasks?start=true", auth, task, "application/yaml");
  ASSERT_TRUE(created) << fileText(logfile);
  ASSERT_EQ(created->status, 201) << created->body;
  ASSERT_TRUE(eventually(60s, [&] {
    auto r = api.Get("/api/v1/tasks/srv", auth);
    return r && json::parse(r->body, nullptr, false).value("phase", "") == "incremental";
  })) << fileText(logfile);
  std::this_thread::sleep_for(1s);

  // The stream starts before anything is logged and ends after two transactions (6 lines).
  std::string streamed;
  int status = 0;
  std::thread reader([&] {
    httplib::Client c(url);
    c.set_read_timeout(60);
    auto r = c.Get(
        "/api/v1/tasks/srv/changes?from=earliest&limit=6", auth,
        [&](const httplib::Response& resp) {
          status = resp.status;
          return true;
        },
        [&](const char* data, size_t n) {
          streamed.append(data, n);
          return true;
        });
    EXPECT_TRUE(r);
  });
  std::this_thread::sleep_for(500ms);
  sourceSql("INSERT INTO srv.t VALUES (1, 'a')");
  sourceSql("BEGIN; UPDATE srv.t SET v = 'b' WHERE id = 1; COMMIT");
  reader.join();
  EXPECT_EQ(status, 200);
  std::vector<json> lines;
  std::istringstream in(streamed);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 6u) << streamed;
  std::vector<std::string> ops;
  for (const auto& l : lines) ops.push_back(l["op"]);
  EXPECT_EQ(ops,
            (std::vector<std::string>{"begin", "insert", "commit", "begin", "update", "commit"}));
  EXPECT_EQ(lines[4]["before"]["v"], "a");
  EXPECT_EQ(lines[4]["after"]["v"], "b");

  // The same records over the Kafka protocol, to kcat: topic = the task, one partition, the
  // record values are the NDJSON lines.
  std::smatch k;
  text = fileText(logfile);
  ASSERT_TRUE(std::regex_search(text, k, std::regex("Kafka consumers on .* \\(port ([0-9]+)")))
      << text;
  std::string out;
  ASSERT_EQ(runCommand("timeout 60 kcat -b 127.0.0.1:" + std::string(k[1]) +
                           " -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN"
                           " -X sasl.username=any -X sasl.password=" +
                           token + " -C -t srv -p 0 -o beginning -e -q -f '%o %s\\n'",
                       &out),
            0)
      << out;
  std::istringstream kin(out);
  size_t n = 0;
  for (std::string line; std::getline(kin, line); ++n) {
    ASSERT_LT(n, lines.size()) << out;
    auto space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_EQ(line.substr(0, space), std::to_string(lines[n]["offset"].get<int64_t>()));
    EXPECT_EQ(json::parse(line.substr(space + 1)), lines[n]) << line;
  }
  EXPECT_EQ(n, lines.size()) << out;

  auto bad = api.Get("/api/v1/tasks/srv/changes?from=99", auth);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 404);
  EXPECT_NE(bad->body.find("outside the change log"), std::string::npos) << bad->body;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(60s), 0) << fileText(logfile);
}

TEST_F(TrackingTest, BadTrackingTaskFilesFailClearly) {
  std::string path = workFile("bad-tracking.yaml");
  {
    std::ofstream f(path);
    f << "name: bad\nkind: tracking\nsource: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\nobjects: [{database: x}]\n";
  }
  std::string out;
  EXPECT_EQ(runDts({"run", path, "--data-dir", workFile("data-bad")}, &out), 2);
  EXPECT_NE(out.find("destination: a tracking task has no destination"), std::string::npos) << out;
}

}  // namespace
}  // namespace dts::testing
