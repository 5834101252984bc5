// Tracking tasks (issue 15) against a real MariaDB: `dts run` of a `kind: tracking` task writes
// the source's changes to the task's change log (sink/change_log.h), read back here through
// sink::ChangeLog once dts has stopped.
//   * inserts, updates, deletes and DDL land in commit order, transaction by transaction equal to
//     what the source committed (same GTIDs, same rows, begin/commit around each);
//   * dts killed with SIGKILL again and again while a writer commits a stream of transactions,
//     then restarted: the log holds every transaction exactly once, in order;
//   * a torn tail (the last batch cut short on disk) is cut when dts starts again, and the cut
//     transaction is read again from the source: still exactly once;
//   * DDL records carry the table's new definition (from the task's own schema history);
//   * under `dts server`, GET /api/v1/tasks/NAME/changes streams what commits while it waits; kcat
//     reads the same records from the task's topic and its debezium-json view; a group token
//     reads as its group only (Kafka and HTTP); the group and its lag show in the groups list,
//     the status, `dts task status` and /metrics; deleting the task removes its change log.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cluster_fixture.h"
#include "sink/change_log.h"
#include "support_data.h"
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

  // A tracking task file: `objects` and `options` as YAML flow text ("" for none).
  std::string writeTaskFile(const std::string& name, const std::string& objects,
                            const std::string& options = "") {
    std::string path = workFile(name + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\nkind: tracking\nsource: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\nobjects: " << objects << "\n";
    if (!options.empty()) f << "options: " << options << "\n";
    return path;
  }

  // Runs the task until the log holds everything the source has, then stops it.
  void runCaughtUp(const std::string& file, const std::string& data, const std::string& task,
                   const std::string& logfile) {
    DtsProcess dts;
    dts.start({"run", file, "--data-dir", data}, logfile);
    ASSERT_TRUE(waitCaughtUp(data, task)) << fileText(logfile);
    dts.signal(SIGTERM);
    ASSERT_EQ(dts.wait(60s), 0) << fileText(logfile);
  }

  // SHOW BINLOG EVENTS IN `file`: the event that ends at `end` (its type and info).
  std::pair<std::string, std::string> sourceEvent(const std::string& file, int64_t end) {
    auto c = cluster_->connect(cluster_->endpoint());
    if (c == nullptr) return {};
    auto r = c->query("SHOW BINLOG EVENTS IN " + c->quoteString(file));
    EXPECT_TRUE(r.ok()) << r.status().toString();
    if (!r.ok()) return {};
    size_t type = 0, info = 0, end_pos = 0;
    for (size_t i = 0; i < r->columns.size(); ++i) {
      if (r->columns[i] == "Event_type") type = i;
      if (r->columns[i] == "Info") info = i;
      if (r->columns[i] == "End_log_pos") end_pos = i;
    }
    for (const auto& row : r->rows)
      if (row[end_pos].value_or("") == std::to_string(end))
        return {row[type].value_or(""), row[info].value_or("")};
    ADD_FAILURE() << "no event of " << file << " ends at " << end;
    return {};
  }
  std::string sourceEventEndingAt(const std::string& file, int64_t end) {
    return sourceEvent(file, end).first;
  }
  // The xid of the Xid event that ends at `end` ("COMMIT /* xid=123 */"), "" for another event.
  std::string sourceXid(const std::string& file, int64_t end) {
    auto [type, info] = sourceEvent(file, end);
    std::smatch m;
    if (type != "Xid" || !std::regex_search(info, m, std::regex("xid=([0-9]+)"))) {
      ADD_FAILURE() << "the event ending at " << file << ":" << end << " is " << type << " '"
                    << info << "'";
      return "";
    }
    return m[1];
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
      "CREATE TABLE trk.child (id INT PRIMARY KEY, t_id INT,"
      " CONSTRAINT to_t FOREIGN KEY (t_id) REFERENCES trk.t (id) ON DELETE CASCADE);"
      "CREATE TABLE trk.nokey (a INT, b INT);"
      "DROP DATABASE IF EXISTS trk_other; CREATE DATABASE trk_other;"
      "CREATE TABLE trk_other.t (id INT PRIMARY KEY)");
  std::string data = workFile("data-trk");
  std::string logfile = workFile("trk.log");
  DtsProcess dts;
  dts.start({"run", writeTask("trk", "trk"), "--data-dir", data}, logfile);
  ASSERT_TRUE(eventually(60s, [&] { return phase(data, "trk") == "incremental"; }))
      << fileText(logfile);
  // The binlog never holds the rows a cascade changes: the precheck says so.
  EXPECT_NE(fileText(logfile).find("[warn] foreign key actions: `trk`.`child` (to_t) ON DELETE "
                                   "CASCADE -> `trk`.`t`: the source does not log"),
            std::string::npos)
      << fileText(logfile);
  // A keyless table: what it means for its records (nothing of a load or a destination).
  EXPECT_NE(fileText(logfile).find("[warn] table without key: trk.nokey has no primary key: its "
                                   "change records have \"pk\": null"),
            std::string::npos)
      << fileText(logfile);
  EXPECT_EQ(fileText(logfile).find("loaded in one transaction"), std::string::npos);
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
  // An XA transaction is logged when the source commits it, under its prepare's GTID; one the
  // source rolled back leaves nothing.
  sourceSql(
      "XA START 'tr1'; INSERT INTO trk.t (id, v, d) VALUES (50, 'never', 0); XA END 'tr1';"
      " XA PREPARE 'tr1'");
  sourceSql("XA ROLLBACK 'tr1'");
  sourceSql(
      "XA START 'tc1'; INSERT INTO trk.t (id, v, d) VALUES (51, 'xa', 0); XA END 'tc1';"
      " XA PREPARE 'tc1'");
  const std::string xa_gtid = sourcePosition();
  sourceSql("XA COMMIT 'tc1'");
  ASSERT_TRUE(waitCaughtUp(data, "trk")) << fileText(logfile);
  dts.signal(SIGTERM);
  ASSERT_EQ(dts.wait(60s), 0) << fileText(logfile);

  std::vector<LoggedTxn> log = readLog(data, "trk");
  ASSERT_EQ(log.size(), 6u);
  EXPECT_EQ(log[5].gtid, xa_gtid);
  ASSERT_EQ(log[5].changes.size(), 1u);
  EXPECT_EQ(log[5].changes[0]["after"]["id"], 51);
  std::vector<std::string> want_gtids = {gtids[0], gtids[1], gtids[3], gtids[4], gtids[5]};
  for (size_t i = 0; i < want_gtids.size(); ++i) EXPECT_EQ(log[i].gtid, want_gtids[i]) << i;

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
  // The statement named its table with its database (run without a default one): the table is
  // in `tables`, which tables= filters on too.
  EXPECT_EQ(log[2].changes[0]["tables"], json::parse(R"([{"db":"trk","table":"t"}])"))
      << log[2].changes[0].dump();
  // The table's new definition, from the task's own schema history.
  EXPECT_EQ(log[2].changes[0]["definition"],
            json::parse(R"j({"db":"trk","table":"t","columns":{"id":"int(11)",)j"
                        R"j("v":"varchar(20)","d":"decimal(6,2)","n":"int(11)"},"pk":["id"]})j"));

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
  std::thread writer = startInsertUpdateWriter(cluster_->connect(cluster_->endpoint()), "kil",
                                               kTransactions, 5ms, &written);
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

  // The Debezium view of the same log: row changes only, at their log offsets.
  auto kcat = [&](const std::string& password, const std::string& args) {
    std::string got;
    int rc = runCommand("timeout 60 kcat -b 127.0.0.1:" + std::string(k[1]) +
                            " -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN"
                            " -X sasl.username=any -X sasl.password=" +
                            password + " " + args,
                        &got);
    return std::make_pair(rc, got);
  };
  auto [view_rc, view] =
      kcat(token, "-C -t srv.debezium-json -p 0 -o beginning -e -q -f '%o %s\\n'");
  ASSERT_EQ(view_rc, 0) << view;
  std::istringstream vin(view);
  std::vector<std::pair<std::string, json>> encoded;
  for (std::string line; std::getline(vin, line);)
    encoded.emplace_back(line.substr(0, line.find(' ')),
                         json::parse(line.substr(line.find(' ') + 1)));
  ASSERT_EQ(encoded.size(), 2u) << view;
  EXPECT_EQ(encoded[0].first, "1");
  EXPECT_EQ(encoded[0].second["op"], "c");
  EXPECT_EQ(encoded[0].second["after"], json({{"id", 1}, {"v", "a"}}));
  EXPECT_EQ(encoded[0].second["source"]["table"], "t");
  EXPECT_EQ(encoded[1].first, "4");
  EXPECT_EQ(encoded[1].second["op"], "u");
  EXPECT_EQ(encoded[1].second["before"]["v"], "a");

  // A group token: reads as its group (Kafka and HTTP), nothing else.
  auto issued = api.Post("/api/v1/tasks/srv/groups/billing/token", auth, "", "application/json");
  ASSERT_TRUE(issued);
  ASSERT_EQ(issued->status, 201) << issued->body;
  const std::string group_token = json::parse(issued->body)["token"];
  auto [group_rc, group_out] =
      kcat(group_token,
           "-G billing -X auto.offset.reset=earliest -X enable.partition.eof=true -e -q "
           "-f '%o %s\\n' srv");
  ASSERT_EQ(group_rc, 0) << group_out;
  EXPECT_EQ(std::count(group_out.begin(), group_out.end(), '\n'), 6) << group_out;
  auto [other_rc, other_out] =
      kcat(group_token, "-G audit -X auto.offset.reset=earliest -e -q -m 10 srv");
  EXPECT_NE(other_rc, 0) << other_out;
  EXPECT_NE(other_out.find("authorization failed"), std::string::npos) << other_out;
  httplib::Headers group_auth = {{"Authorization", "Bearer " + group_token}};
  auto own = api.Get("/api/v1/tasks/srv/changes?limit=6", group_auth);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  auto forbidden = api.Get("/api/v1/tasks/srv", group_auth);
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_EQ(fileText(logfile).find(group_token), std::string::npos);  // never logged

  // The group and its lag: the groups list, the status, `dts task status`, /metrics.
  auto groups = api.Get("/api/v1/tasks/srv/groups", auth);
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->status, 200) << groups->body;
  json listed = json::parse(groups->body)["groups"];
  ASSERT_EQ(listed.size(), 1u) << listed;
  EXPECT_EQ(listed[0]["name"], "billing");
  EXPECT_EQ(listed[0]["committed_offset"], 6);
  EXPECT_EQ(listed[0]["lag"], 0);
  auto status_json = json::parse(api.Get("/api/v1/tasks/srv", auth)->body);
  EXPECT_EQ(status_json["tracking"]["log_end_offset"], 6);
  EXPECT_EQ(status_json["tracking"]["groups"], listed);
  std::string status_text;
  EXPECT_EQ(runDts({"task", "status", "srv", "--server", url, "--data-dir", data}, &status_text), 0)
      << status_text;
  EXPECT_NE(status_text.find("billing: committed 6, lag 0 records"), std::string::npos)
      << status_text;
  auto metrics = api.Get("/metrics", auth);
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("dts_tracking_log_end_offset{task=\"srv\"} 6"), std::string::npos);
  EXPECT_NE(metrics->body.find(
                "dts_tracking_group_lag_records{task=\"srv\",group=\"billing\",topic=\"srv\"} 0"),
            std::string::npos)
      << metrics->body;

  // A group's offsets are per topic, as in Kafka. Committed by kcat on a view (srv.canal-json),
  // the API shows it under that topic and `?group=&format=canal-json` resumes there; committed
  // over HTTP with format=canal-json, a Kafka consumer of the view resumes there.
  auto [views_rc, views_out] =
      kcat(token,
           "-G views -X auto.offset.reset=earliest -X enable.partition.eof=true -e -q "
           "-f '%o %s\\n' srv.canal-json");
  ASSERT_EQ(views_rc, 0) << views_out;
  EXPECT_EQ(std::count(views_out.begin(), views_out.end(), '\n'), 2) << views_out;
  auto views = api.Get("/api/v1/tasks/srv/groups/views?format=canal-json", auth);
  ASSERT_TRUE(views);
  ASSERT_EQ(views->status, 200) << views->body;
  json views_json = json::parse(views->body);
  EXPECT_EQ(views_json["topic"], "srv.canal-json") << views->body;
  ASSERT_TRUE(views_json["offset"].is_number_integer()) << views->body;
  const int64_t view_offset = views_json["offset"];
  EXPECT_GE(view_offset, 5) << views->body;  // after the update at offset 4
  ASSERT_EQ(views_json["topics"].size(), 1u) << views->body;
  EXPECT_EQ(views_json["topics"][0]["format"], "canal-json") << views->body;
  EXPECT_EQ(views_json["topics"][0]["offset"], view_offset) << views->body;
  auto views_base = json::parse(api.Get("/api/v1/tasks/srv/groups/views", auth)->body);
  EXPECT_TRUE(views_base["offset"].is_null()) << views_base;  // never committed on srv itself
  EXPECT_EQ(views_base["topics"], views_json["topics"]);
  auto resumed =
      api.Get("/api/v1/tasks/srv/changes?group=views&format=canal-json&wait_ms=500", auth);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 200) << resumed->body;
  EXPECT_EQ(resumed->body, "");  // nothing after its commit on the view
  auto from_base = api.Get("/api/v1/tasks/srv/changes?group=views&wait_ms=500", auth);
  ASSERT_TRUE(from_base);
  EXPECT_EQ(std::count(from_base->body.begin(), from_base->body.end(), '\n'), 6)
      << from_base->body;  // its position on srv is its own: from the earliest
  auto bad_format = api.Post("/api/v1/tasks/srv/groups/views2/commit?format=avro", auth,
                             R"({"offset": 2})", "application/json");
  ASSERT_TRUE(bad_format);
  EXPECT_EQ(bad_format->status, 400) << bad_format->body;
  EXPECT_NE(bad_format->body.find("format"), std::string::npos) << bad_format->body;
  auto http_commit = api.Post("/api/v1/tasks/srv/groups/views2/commit?format=canal-json", auth,
                              R"({"offset": 2})", "application/json");
  ASSERT_TRUE(http_commit);
  ASSERT_EQ(http_commit->status, 200) << http_commit->body;
  EXPECT_EQ(json::parse(http_commit->body)["topic"], "srv.canal-json");
  auto [views2_rc, views2_out] =
      kcat(token,
           "-G views2 -X auto.offset.reset=earliest -X enable.partition.eof=true -e -q "
           "-f '%o %s\\n' srv.canal-json");
  ASSERT_EQ(views2_rc, 0) << views2_out;
  EXPECT_EQ(views2_out.substr(0, 2), "4 ") << views2_out;  // the update only: resumed at 2
  EXPECT_EQ(std::count(views2_out.begin(), views2_out.end(), '\n'), 1) << views2_out;

  // One statement, three rows: one binlog rows event. Debezium's source.row is each row's index
  // in it, source.server_id the server that wrote it; Maxwell's server_id too.
  sourceSql("INSERT INTO srv.t VALUES (10, 'x'), (11, 'y'), (12, 'z')");
  std::string multi;
  ASSERT_TRUE(eventually(30s, [&] {
    auto r = api.Get("/api/v1/tasks/srv/changes?from=6&format=debezium-json&wait_ms=500", auth);
    if (!r || r->status != 200) return false;
    multi = r->body;
    return std::count(multi.begin(), multi.end(), '\n') >= 3;
  })) << multi;
  std::istringstream min(multi);
  int expect_row = 0;
  std::set<int64_t> positions;
  for (std::string line; std::getline(min, line); ++expect_row) {
    json d = json::parse(line);
    EXPECT_EQ(d["source"]["row"], expect_row) << line;
    EXPECT_EQ(d["transaction"]["data_collection_order"], expect_row + 1) << line;
    EXPECT_GT(d["source"]["server_id"].get<int64_t>(), 0) << line;
    positions.insert(d["source"]["pos"].get<int64_t>());
  }
  EXPECT_EQ(expect_row, 3) << multi;
  EXPECT_EQ(positions.size(), 1u) << multi;  // the three rows share their event's position
  // Maxwell's xid is the XID event's that committed the transaction in the source's binlog (the
  // dts commit marker records it; SHOW BINLOG EVENTS: the Xid event that ends where the marker's
  // position is), on every row; "commit": true on its last row only.
  auto marker = api.Get("/api/v1/tasks/srv/changes?from=10&limit=1", auth);
  ASSERT_TRUE(marker);
  json commit_marker = json::parse(marker->body);
  ASSERT_EQ(commit_marker["op"], "commit") << marker->body;
  const std::string source_xid = sourceXid(commit_marker["file"], commit_marker["pos"]);
  ASSERT_FALSE(source_xid.empty());
  EXPECT_EQ(commit_marker["xid"].dump(), source_xid) << marker->body;
  auto maxwell = api.Get("/api/v1/tasks/srv/changes?from=6&format=maxwell-json&limit=3", auth);
  ASSERT_TRUE(maxwell);
  std::istringstream maxin(maxwell->body);
  int xoffset = 0;
  for (std::string line; std::getline(maxin, line); ++xoffset) {
    json d = json::parse(line);
    EXPECT_EQ(d["xoffset"], xoffset) << line;
    EXPECT_GT(d["server_id"].get<int64_t>(), 0) << line;
    EXPECT_EQ(d["xid"].dump(), source_xid) << line;
    EXPECT_EQ(d.contains("commit"), xoffset == 2) << line;
    if (xoffset == 2) {
      EXPECT_EQ(d["commit"], true) << line;
    }
  }
  EXPECT_EQ(xoffset, 3) << maxwell->body;

  // A MariaDB transaction of a non-transactional table (MyISAM) ends with a COMMIT query, no XID
  // event: its rows have no xid, and its last row is still the commit.
  sourceSql("CREATE TABLE srv.m (id INT PRIMARY KEY) ENGINE=MyISAM");
  sourceSql("INSERT INTO srv.m VALUES (1), (2)");
  std::vector<json> mrows;  // offset 11 begin, 12 ddl, 13 commit; 14 begin, 15-16 rows, 17 commit
  ASSERT_TRUE(eventually(30s, [&] {
    auto r = api.Get("/api/v1/tasks/srv/changes?from=11&wait_ms=500", auth);
    if (!r || r->status != 200) return false;
    mrows.clear();
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) mrows.push_back(json::parse(line));
    return mrows.size() >= 7;
  }));
  ASSERT_EQ(mrows[6]["op"], "commit") << mrows[6];
  EXPECT_FALSE(mrows[6].contains("xid")) << mrows[6];
  EXPECT_EQ(sourceEventEndingAt(mrows[6]["file"], mrows[6]["pos"]), "Query") << mrows[6];
  auto myisam = api.Get("/api/v1/tasks/srv/changes?from=14&format=maxwell-json&limit=2", auth);
  ASSERT_TRUE(myisam);
  std::vector<json> mx;
  std::istringstream myin(myisam->body);
  for (std::string line; std::getline(myin, line);) mx.push_back(json::parse(line));
  ASSERT_EQ(mx.size(), 2u) << myisam->body;
  EXPECT_FALSE(mx[0].contains("xid") || mx[0].contains("commit")) << mx[0];
  EXPECT_FALSE(mx[1].contains("xid")) << mx[1];
  EXPECT_EQ(mx[1]["commit"], true) << mx[1];

  // The same on the Kafka view, fetched one record at a time (a fetch cut between each row and
  // the next, and between the last row and its commit marker).
  auto [mk_rc, mk_out] = kcat(token,
                              "-C -t srv.maxwell-json -p 0 -o beginning -e -q "
                              "-X fetch.max.bytes=1000 -X message.max.bytes=1000 "
                              "-X max.partition.fetch.bytes=1 -f '%o %s\\n'");
  ASSERT_EQ(mk_rc, 0) << mk_out;
  std::map<int64_t, json> by_offset;
  std::istringstream mkin(mk_out);
  for (std::string line; std::getline(mkin, line);)
    by_offset[std::stoll(line.substr(0, line.find(' ')))] =
        json::parse(line.substr(line.find(' ') + 1));
  ASSERT_EQ(by_offset.size(), 7u) << mk_out;  // 1, 4, 7-9, 15-16
  for (int64_t o : {1, 4, 9, 16}) EXPECT_EQ(by_offset[o]["commit"], true) << o << " " << mk_out;
  for (int64_t o : {7, 8, 15}) EXPECT_FALSE(by_offset[o].contains("commit")) << o;
  for (int64_t o : {7, 8, 9}) EXPECT_EQ(by_offset[o]["xid"].dump(), source_xid) << o;
  for (int64_t o : {15, 16}) EXPECT_FALSE(by_offset[o].contains("xid")) << o;
  EXPECT_TRUE(by_offset[1]["xid"].is_number_unsigned()) << by_offset[1];

  // Deleting the task removes its change log.
  ASSERT_TRUE(std::filesystem::exists(data + "/changes/srv"));
  auto stopped = api.Post("/api/v1/tasks/srv/stop", auth, "", "application/json");
  ASSERT_TRUE(stopped);
  ASSERT_EQ(stopped->status, 200) << stopped->body;
  auto deleted = api.Delete("/api/v1/tasks/srv", auth);
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_FALSE(std::filesystem::exists(data + "/changes/srv"));
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(60s), 0) << fileText(logfile);
}

// options.start before a DDL on a selected table: today's definitions are not the ones in force
// at the start, so the start is refused naming the table, the statement and where to start
// instead; started there (the task file edited), every row has its own column names.
TEST_F(TrackingTest, AStartBeforeADdlOfASelectedTableIsRefusedAndAStartAfterItIsExact) {
  sourceSql(
      "DROP DATABASE IF EXISTS pst; CREATE DATABASE pst;"
      "CREATE TABLE pst.ro2 (id INT PRIMARY KEY, a INT, b INT);"
      "CREATE TABLE pst.calm (id INT PRIMARY KEY, v INT)");
  const std::string g = sourcePosition();
  sourceSql("INSERT INTO pst.ro2 VALUES (1, 10, 20)");
  sourceSql("INSERT INTO pst.calm VALUES (1, 1)");
  sourceSql("ALTER TABLE pst.ro2 MODIFY b INT AFTER id");
  const std::string after_alter = sourcePosition();
  sourceSql("UPDATE pst.ro2 SET a = 11 WHERE id = 1");

  std::string data = workFile("data-pst");
  std::string logfile = workFile("pst.log");
  std::string file =
      writeTaskFile("pst", "[{database: pst, tables: [ro2, calm]}]", "{start: '" + g + "'}");
  {
    DtsProcess dts;
    dts.start({"run", file, "--data-dir", data}, logfile);
    std::optional<int> rc = dts.wait(60s);
    if (!rc.has_value()) {  // still running: it did not refuse
      dts.signal(SIGTERM);
      dts.wait(60s);
    }
    EXPECT_TRUE(rc.has_value() && *rc != 0) << "not refused:\n" << fileText(logfile);
  }
  const std::string out = fileText(logfile);
  EXPECT_NE(out.find("cannot start at " + g +
                     ": table `pst`.`ro2` was changed since then, by "
                     "'ALTER TABLE pst.ro2 MODIFY b INT AFTER id' (GTID " +
                     after_alter),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("options.start: \"" + after_alter + "\""), std::string::npos) << out;
  EXPECT_EQ(phase(data, "pst"), "failed");

  // A table no DDL touched keeps its live definition: started at G with it alone, it is exact.
  std::string calm_data = workFile("data-pst-calm");
  std::string calm =
      writeTaskFile("pstc", "[{database: pst, tables: [calm]}]", "{start: '" + g + "'}");
  runCaughtUp(calm, calm_data, "pstc", workFile("pstc.log"));
  std::vector<LoggedTxn> calm_log = readLog(calm_data, "pstc");
  ASSERT_EQ(calm_log.size(), 1u);
  EXPECT_EQ(calm_log[0].changes[0]["after"], json({{"id", 1}, {"v", 1}}));

  // Started after the ALTER, as the message says (the same data dir: nothing was logged yet).
  file = writeTaskFile("pst", "[{database: pst, tables: [ro2, calm]}]",
                       "{start: '" + after_alter + "'}");
  runCaughtUp(file, data, "pst", logfile);
  std::vector<LoggedTxn> log = readLog(data, "pst");
  ASSERT_EQ(log.size(), 1u);
  ASSERT_EQ(log[0].changes.size(), 1u);
  EXPECT_EQ(log[0].changes[0]["before"], json({{"id", 1}, {"b", 20}, {"a", 10}}));
  EXPECT_EQ(log[0].changes[0]["after"], json({{"id", 1}, {"b", 20}, {"a", 11}}));
}

// A table created after options.start is defined by its own CREATE TABLE, not by today's
// definition: the DDL records carry their definitions and every row its names.
TEST_F(TrackingTest, ATableCreatedAfterAPastStartIsDefinedByTheStream) {
  sourceSql("DROP DATABASE IF EXISTS pcr; CREATE DATABASE pcr");
  const std::string g = sourcePosition();
  sourceSql("CREATE TABLE pcr.c1 (id INT PRIMARY KEY, a INT, b INT)");
  sourceSql("INSERT INTO pcr.c1 VALUES (1, 10, 20)");
  sourceSql("ALTER TABLE pcr.c1 DROP COLUMN a, ADD COLUMN a INT FIRST");
  sourceSql("INSERT INTO pcr.c1 VALUES (30, 2, 40)");
  std::string data = workFile("data-pcr");
  runCaughtUp(writeTaskFile("pcr", "[{database: pcr}]", "{start: '" + g + "'}"), data, "pcr",
              workFile("pcr.log"));
  std::vector<LoggedTxn> log = readLog(data, "pcr");
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].changes[0]["op"], "ddl");
  EXPECT_EQ(log[0].changes[0]["definition"]["columns"],
            json({{"id", "int(11)"}, {"a", "int(11)"}, {"b", "int(11)"}}));
  EXPECT_EQ(log[1].changes[0]["after"], json({{"id", 1}, {"a", 10}, {"b", 20}}));
  EXPECT_EQ(log[2].changes[0]["definition"]["columns"],
            json({{"a", "int(11)"}, {"id", "int(11)"}, {"b", "int(11)"}}));
  EXPECT_EQ(log[3].changes[0]["after"], json({{"a", 30}, {"id", 2}, {"b", 40}}));
}

// DDL a tracking task cannot "apply" but records: a table renamed out of the selection, a table
// renamed into it, a column-subset table altered. The stream never stops.
TEST_F(TrackingTest, DdlOnSelectedTablesIsRecordedAndNeverStopsTheStream) {
  sourceSql(
      "DROP DATABASE IF EXISTS ddr; CREATE DATABASE ddr; DROP DATABASE IF EXISTS ddr_other;"
      "CREATE DATABASE ddr_other; DROP DATABASE IF EXISTS ddr_in; CREATE DATABASE ddr_in;"
      "CREATE TABLE ddr.dd2 (id INT PRIMARY KEY, v INT);"
      "CREATE TABLE ddr.m2 (id INT PRIMARY KEY, a INT, b INT)");
  std::string data = workFile("data-ddr");
  std::string logfile = workFile("ddr.log");
  std::string file = writeTaskFile(
      "ddr", "[{database: ddr, tables: [dd2, {name: m2, columns: [id, a]}]}, {database: ddr_in}]");
  DtsProcess dts;
  dts.start({"run", file, "--data-dir", data}, logfile);
  ASSERT_TRUE(eventually(60s, [&] { return phase(data, "ddr") == "incremental"; }))
      << fileText(logfile);
  std::this_thread::sleep_for(1s);
  sourceSql("USE ddr; RENAME TABLE dd2 TO ddr_other.dd3");
  sourceSql("INSERT INTO ddr_other.dd3 VALUES (1, 1)");  // no longer selected
  sourceSql("USE ddr; ALTER TABLE m2 ADD COLUMN z INT");
  sourceSql("INSERT INTO ddr.m2 VALUES (1, 2, 3, 4)");
  sourceSql("USE ddr_in; RENAME TABLE ddr_other.dd3 TO dd4");
  sourceSql("INSERT INTO ddr_in.dd4 VALUES (2, 2)");
  ASSERT_TRUE(waitCaughtUp(data, "ddr")) << fileText(logfile);
  EXPECT_EQ(phase(data, "ddr"), "incremental");
  // `dts status` of a tracking task: its log and position, no full load; the table renamed out
  // of the selection is no longer listed, the one renamed in is.
  std::string status_text;
  EXPECT_TRUE(eventually(30s, [&] {
    runDts({"status", "--data-dir", data}, &status_text);
    return status_text.find("ddr_in.dd4") != std::string::npos &&
           status_text.find("ddr.dd2") == std::string::npos;
  })) << status_text;
  std::cout << "dts status of a tracking task:\n" << status_text;
  EXPECT_EQ(status_text.find("tables 0/"), std::string::npos) << status_text;
  EXPECT_NE(status_text.find("change log "), std::string::npos) << status_text;
  EXPECT_NE(status_text.find("source position logged: "), std::string::npos) << status_text;
  EXPECT_NE(status_text.find("retention: 24 h"), std::string::npos) << status_text;
  std::string status_json;
  ASSERT_EQ(runDts({"status", "--json", "--data-dir", data}, &status_json), 0) << status_json;
  json sj = json::parse(status_json, nullptr, false);
  ASSERT_TRUE(sj.is_array() && sj.size() == 1) << status_json;
  EXPECT_GE(sj[0]["tracking"]["log"]["end_offset"].get<int64_t>(), 15) << status_json;
  for (const auto& t : sj[0]["tables"]) EXPECT_NE(t["source"], "ddr.dd2") << status_json;
  dts.signal(SIGTERM);
  ASSERT_EQ(dts.wait(60s), 0) << fileText(logfile);

  std::vector<LoggedTxn> log = readLog(data, "ddr");
  ASSERT_EQ(log.size(), 5u);  // the insert into ddr_other.dd3 is not logged
  const json& out = log[0].changes.at(0);
  EXPECT_EQ(out["op"], "ddl");
  EXPECT_EQ(out["sql"], "RENAME TABLE dd2 TO ddr_other.dd3");
  EXPECT_EQ(out["db"], "ddr");
  EXPECT_EQ(out["table"], "dd2");
  EXPECT_FALSE(out.contains("definition"));
  const json& alter = log[1].changes.at(0);
  EXPECT_EQ(alter["table"], "m2");
  EXPECT_EQ(alter["definition"]["columns"], json({{"id", "int(11)"}, {"a", "int(11)"}}));
  EXPECT_EQ(log[2].changes.at(0)["after"], json({{"id", 1}, {"a", 2}}));
  const json& in = log[3].changes.at(0);
  EXPECT_EQ(in["db"], "ddr_in");
  EXPECT_EQ(in["table"], "dd4");
  EXPECT_EQ(in["definition"]["columns"], json({{"id", "int(11)"}, {"v", "int(11)"}}));
  EXPECT_EQ(log[4].changes.at(0)["after"], json({{"id", 2}, {"v", 2}}));
}

// options.start as a time on a source that purged its older binlogs: the stream starts at the
// binlog file that holds the time (not at the oldest, which would be refused as purged, nor at
// the current one), and the log holds exactly the transactions committed from that time on; a
// time before the oldest binlog the source still has is refused, naming the file and the
// earliest time it covers, since the transactions committed between were purged.
TEST_F(TrackingTest, AStartTimeReadsFromTheBinlogFileThatHoldsItAndRefusesAPurgedPast) {
  auto now_s = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  auto currentFile = [&] {
    auto c = cluster_->connect(cluster_->endpoint());
    if (c == nullptr) return std::string();
    auto r = c->query("SHOW MASTER STATUS");
    return r.ok() && !r->rows.empty() ? r->rows[0][0].value_or("") : std::string();
  };
  sourceSql(
      "DROP DATABASE IF EXISTS tst; CREATE DATABASE tst;"
      "CREATE TABLE tst.t (id INT PRIMARY KEY)");
  sourceSql("INSERT INTO tst.t VALUES (1)");
  cluster_->waitReplicated("node-2");
  cluster_->waitReplicated("node-3");
  const int64_t before_oldest = now_s() - 1;
  sourceSql("FLUSH BINARY LOGS");
  const std::string oldest = currentFile();
  // A dump thread still on an older file (a reader of an earlier test going away) keeps it:
  // PURGE stops there without an error, so it is repeated until the oldest file is gone.
  auto oldestListed = [&] {
    auto c = cluster_->connect(cluster_->endpoint());
    if (c == nullptr) return std::string();
    auto r = c->query("SHOW BINARY LOGS");
    return r.ok() && !r->rows.empty() ? r->rows[0][0].value_or("") : std::string();
  };
  ASSERT_TRUE(eventually(60s,
                         [&] {
                           cluster_->rootSql(cluster_->status()["primary"],
                                             "PURGE BINARY LOGS TO '" + oldest + "'");
                           return oldestListed() == oldest;
                         }))
      << "the binlogs before " << oldest << " were not purged";
  std::this_thread::sleep_for(1100ms);
  sourceSql("INSERT INTO tst.t VALUES (2)");
  sourceSql("FLUSH BINARY LOGS");
  const std::string holding = currentFile();
  std::this_thread::sleep_for(1100ms);
  sourceSql("INSERT INTO tst.t VALUES (3)");  // in the file the stream starts at, before the time
  const int64_t start = now_s() + 1;
  while (now_s() < start) std::this_thread::sleep_for(50ms);
  sourceSql("INSERT INTO tst.t VALUES (4)");
  sourceSql("FLUSH BINARY LOGS");
  sourceSql("INSERT INTO tst.t VALUES (5)");

  std::string data = workFile("data-tst"), logfile = workFile("tst.log");
  runCaughtUp(writeTaskFile("tst", "[{database: tst}]", "{start: '" + std::to_string(start) + "'}"),
              data, "tst", logfile);
  EXPECT_NE(fileText(logfile).find("'s " + holding + " (begun "), std::string::npos)
      << "not started at " << holding << ":\n"
      << fileText(logfile);
  std::vector<LoggedTxn> log = readLog(data, "tst");
  ASSERT_EQ(log.size(), 2u) << fileText(logfile);
  EXPECT_EQ(log[0].changes.at(0)["after"], json({{"id", 4}}));
  EXPECT_EQ(log[1].changes.at(0)["after"], json({{"id", 5}}));

  // Before the oldest binlog: refused, nothing logged.
  std::string early_data = workFile("data-tst-early"), early_log = workFile("tst-early.log");
  std::string file = writeTaskFile("tste", "[{database: tst}]",
                                   "{start: '" + std::to_string(before_oldest - 60) + "'}");
  DtsProcess dts;
  dts.start({"run", file, "--data-dir", early_data}, early_log);
  std::optional<int> rc = dts.wait(60s);
  if (!rc.has_value()) {
    dts.signal(SIGTERM);
    dts.wait(60s);
  }
  EXPECT_TRUE(rc.has_value() && *rc != 0) << "not refused:\n" << fileText(early_log);
  const std::string out = fileText(early_log);
  EXPECT_NE(out.find("options.start: the start time "), std::string::npos) << out;
  EXPECT_NE(out.find("precedes the oldest binlog file source " + cluster_->endpoint() +
                     " still has (" + oldest + ", begun "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(" or later, or at a GTID set"), std::string::npos) << out;
  EXPECT_EQ(phase(early_data, "tste"), "failed");
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
