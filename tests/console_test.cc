// The web console (console/, served by `dts server`) in headless Chromium: a real browser
// driven through ChromeDriver by tests/console/console_test.py, against the local cluster.
// This binary prepares the source data, keeps a stream of inserts going on the primary (so the
// task's lag and rows/s charts have something to show), starts the server, runs the browser
// script, and checks afterwards through the API what the script did through the page:
//   log in (a wrong token first) -> register the cluster -> discover its nodes (roles read live)
//   -> wizard: sync task reading secondary node-2, test connections (a registered secondary
//   refused as destination; its password named as an environment variable of the server), pick
//   objects, options (an out-of-range value refused; schema verification), precheck -> start ->
//   incremental -> charts move under load, verification "equal" -> pause -> resume; then a
//   migration with data verification created by keyboard only (Tab, typing, Enter), whose
//   verification finds the row planted in the destination; a task whose source cannot be reached
//   shows its error history (not recovered; the password nowhere on the page), and status
//   fixtures render its panels (an error history with recoveries, newest first). Every page is
//   audited by axe-core.
// Screenshots of every page at 1280x800 and 400x800 land in BUILD_DIR/console-screenshots.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cluster_fixture.h"
#include "support_data.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ConsoleTest : public SharedClusterTest {};

std::string fileText(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Element ids made from names never collide: `we ird`.`t 1` and `we ird`.`t_1` both had the id
// t-we_ird-t_1 (clicking one's label ticked the other). domId (console/ui.js) in node, over names
// that differ only in the characters an id cannot hold.
TEST(ConsoleIdsTest, IdsMadeFromNamesNeverCollide) {
  std::string out;
  ASSERT_EQ(runCommand("command -v node", &out), 0) << "this check needs node";
  const std::string script =
      "import('" + std::string(DTS_SOURCE_DIR) +
      "/console/ui.js').then(({ domId }) => {"
      " const names = [['we ird', 't 1'], ['we ird', 't_1'], ['we_ird', 't 1'], ['we-ird', 't1'],"
      "  ['we', 'ird-t1'], ['we-ird-t1'], ['a', 'b', 'c'], ['a-b', 'c'], ['a', 'b-c'], ['x_0020'],"
      "  ['x '], ['\u00e9'], ['\u00c3\u00a9'], ['']];"
      " const ids = names.map((n) => domId('t', ...n));"
      " console.log(JSON.stringify(ids));"
      " if (new Set(ids).size !== ids.length) { console.log('COLLISION'); process.exit(1); }"
      " if (!ids.every((id) => /^[A-Za-z0-9_-]+$/.test(id))) { console.log('BAD'); process.exit(1); }"
      " if (domId('db', 'shop') !== 'db-shop') process.exit(1); })";
  std::string quoted = "'";
  for (char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  EXPECT_EQ(runCommand("node --input-type=module -e " + quoted + " 2>&1", &out), 0) << out;
  EXPECT_EQ(out.find("COLLISION"), std::string::npos) << out;
}

TEST_F(ConsoleTest, WizardCreatesASyncTaskFromASecondaryAndWatchesIt) {
  std::string out;
  ASSERT_EQ(runCommand("command -v chromium && command -v chromedriver && "
                       "/usr/bin/python3 -c 'import selenium'",
                       &out),
            0)
      << "the console test needs chromium, chromium-driver and python3-selenium "
         "(scripts/install-deps.sh installs them): "
      << out;

  {
    auto c = cluster_->connect(cluster_->endpoint());
    ASSERT_NE(c, nullptr);
    Status st = c->execute(
        "CREATE DATABASE shop; USE shop;"
        "CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2),"
        " status VARCHAR(16), note VARCHAR(64));"
        "CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64), email VARCHAR(64));"
        "INSERT INTO shop.orders (total, status, note) SELECT seq / 10, 'paid', CONCAT('n', seq)"
        " FROM seq_1_to_20000;"
        "INSERT INTO shop.customers SELECT seq, CONCAT('c', seq), CONCAT('c', seq, '@x')"
        " FROM seq_1_to_2000;"
        "CREATE DATABASE crm; CREATE TABLE crm.leads (id INT PRIMARY KEY, v INT);"
        "INSERT INTO crm.leads SELECT seq, seq * 3 FROM seq_1_to_300;");
    ASSERT_TRUE(st.ok()) << st.toString();
  }
  {
    // The keyboard-made migration of crm writes into this table (conflicting tables ignored);
    // its verification must report the row the source does not have.
    auto c = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_NE(c, nullptr);
    Status st = c->execute(
        "CREATE DATABASE crm; CREATE TABLE crm.leads (id INT PRIMARY KEY, v INT);"
        "INSERT INTO crm.leads VALUES (999999, 1);");
    ASSERT_TRUE(st.ok()) << st.toString();
  }
  // sysbench oltp_write_only on two more tables of shop, for the whole test (the lag and rows/s
  // charts must move under it).
  Sysbench bench(cluster_->endpoint(), "dts", cluster_->password(), "shop", 2, 2000);
  std::string prepared = bench.prepare();
  ASSERT_EQ(prepared, "") << prepared;
  bench.start(1, 100);
  cluster_->waitReplicated("node-2");

  // And a steady stream of small transactions on orders.
  std::atomic<bool> stop_load{false};
  std::atomic<uint64_t> inserted{0};
  std::thread load;
  // Stops and joins the load on every way out of the test (an ASSERT returns early).
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop_load, load};
  load = std::thread([&] {
    auto c = cluster_->connect(cluster_->endpoint());
    if (c == nullptr || !c->execute("USE shop").ok()) return;
    while (!stop_load.load()) {
      Status st = c->execute(
          "INSERT INTO shop.orders (total, status, note) SELECT seq, 'new', 'load'"
          " FROM seq_1_to_20");
      if (st.ok()) inserted += 20;
      std::this_thread::sleep_for(50ms);
    }
  });

  // The wizard names this variable instead of typing the destination's password: the server
  // reads it from its environment (inherited from here).
  const char* kPasswordEnv = "DTS_CONSOLE_DST_PW";
  setenv(kPasswordEnv, cluster_->password().c_str(), 1);
  const std::string data = workFile("console-data");
  const std::string log_path = workFile("console-server.log");
  DtsProcess server;
  server.start({"server", "--data-dir", data, "--listen", "127.0.0.1:0"}, log_path);
  ASSERT_TRUE(eventually(20s, [&] {
    return fileText(log_path).find("listening on http://") != std::string::npos;
  })) << fileText(log_path);
  std::smatch m;
  std::string log = fileText(log_path);
  ASSERT_TRUE(std::regex_search(log, m, std::regex("listening on (http://[0-9.]+:[0-9]+)")));
  const std::string url = m[1];
  std::string token;
  std::getline(std::ifstream(data + "/api-token"), token);
  ASSERT_EQ(token.size(), 64u);

  std::string shots = std::filesystem::path(dtsBinary()).parent_path() / "console-screenshots";
  std::filesystem::remove_all(shots);  // no stale picture from an earlier run
  std::filesystem::create_directories(shots);
  json params = {{"url", url},
                 {"endpoint", cluster_->endpoint()},
                 {"node3", cluster_->nodeEndpoint("node-3")},
                 {"destination", cluster_->destinationEndpoint()},
                 {"screenshots", shots},
                 {"password_env", kPasswordEnv}};
  // Secrets through the environment, never on a command line.
  setenv("DTS_CONSOLE_TOKEN", token.c_str(), 1);
  setenv("DTS_CONSOLE_PASSWORD", cluster_->password().c_str(), 1);
  int rc =
      runCommand("/usr/bin/python3 " + shellQuote(sourceDir() + "/tests/console/console_test.py") +
                     " " + shellQuote(params.dump()),
                 &out);
  EXPECT_EQ(rc, 0) << out;
  std::printf("%s", out.c_str());

  // What the page did, seen through the API.
  httplib::Client api(url);
  httplib::Headers h = {{"Authorization", "Bearer " + token}};
  auto r = api.Get("/api/v1/tasks/console-sync", h);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json t = json::parse(r->body);
  EXPECT_EQ(t["state"], "running");
  EXPECT_EQ(t["phase"], "incremental");
  EXPECT_EQ(t["config"]["source"]["instance"], "local");
  EXPECT_EQ(t["config"]["source"]["secondary_node"], "node-2");
  EXPECT_EQ(t["config"]["destination"]["password_env"], kPasswordEnv);
  EXPECT_FALSE(t["config"]["destination"].contains("password")) << t["config"].dump();
  EXPECT_EQ(t["config"]["objects"][0]["rename_to"], "shop_copy");
  EXPECT_EQ(t["config"]["options"]["verify"]["schema"], true) << t["config"].dump();
  EXPECT_EQ(t["verify"]["state"], "equal") << t.dump();
  // The migration made by keyboard: its verification found the planted row, by its key.
  auto rv = api.Get("/api/v1/tasks/console-verify", h);
  ASSERT_TRUE(rv);
  ASSERT_EQ(rv->status, 200) << rv->body;
  json v = json::parse(rv->body);
  EXPECT_EQ(v["kind"], "migration");
  EXPECT_EQ(v["config"]["options"]["conflicting_tables"], "ignore");
  EXPECT_EQ(v["verify"]["state"], "different") << v.dump();
  EXPECT_EQ(v["verify"]["row_differences"], 1) << v.dump();
  EXPECT_EQ(v["verify"]["rows_checked"], 300) << v.dump();
  ASSERT_EQ(v["verify"]["differing_tables"].size(), 1u) << v.dump();
  EXPECT_EQ(v["verify"]["differing_tables"][0]["rows"][0]["kind"], "extra") << v.dump();
  EXPECT_EQ(v["verify"]["differing_tables"][0]["rows"][0]["key"]["id"], "999999") << v.dump();
  EXPECT_GT(inserted.load(), 0u);
  auto ev = api.Get("/api/v1/tasks/console-sync/events", h);
  ASSERT_TRUE(ev);
  EXPECT_NE(ev->body.find("pause"), std::string::npos) << ev->body;
  EXPECT_NE(ev->body.find("resume"), std::string::npos) << ev->body;

  stop_load = true;
  load.join();
  server.signal(SIGTERM);
  auto code = server.wait(60s);
  EXPECT_EQ(code, std::optional<int>(0)) << server.log();
  // The password is in no server log line.
  EXPECT_EQ(fileText(log_path).find(cluster_->password()), std::string::npos);
}

}  // namespace
}  // namespace dts::testing
