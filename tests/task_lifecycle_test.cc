// A task's life across runs, as a user meets it with `dts run`: created again under the name of a
// deleted task (or on a new data dir), run twice at once, killed and looked at with `dts status`,
// and fixed after its precheck failed. Real MariaDB (the local cluster), the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>

#include "cluster_fixture.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;

class TaskLifecycleTest : public SharedClusterTest {
 protected:
  static int dts(const std::string& args, std::string* out) {
    return runCommand(dtsBinary() + " " + args + " 2>&1", out);
  }

  static std::string writeTask(const std::string& name, const std::string& kind,
                               const std::string& db, const std::string& tables,
                               const std::string& options) {
    const std::string path = workFile(name + "-" + db + ".yaml");
    std::ofstream f(path);
    f << "name: " << name << "\nkind: " << kind << "\n"
      << "source: {endpoint: '" << cluster_->endpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects: [{database: " << db << tables << "}]\n"
      << "options: " << options << "\n";
    return path;
  }

  static std::string count(const std::string& node, const std::string& table) {
    std::string out = cluster_->rootSql(node, "SELECT COUNT(*) FROM " + table);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  static void createTable(const std::string& db, int rows) {
    cluster_->rootSql("node-1", "DROP DATABASE IF EXISTS " + db + "; CREATE DATABASE " + db +
                                    "; CREATE TABLE " + db +
                                    ".t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO " + db +
                                    ".t SELECT seq, CONCAT('v', seq) FROM " + db + ".seq_1_to_" +
                                    std::to_string(rows));
  }
};

// dts_meta at the destination keeps a task's chunk plan, chunk progress and checkpoint under the
// task's name. A task deleted and created again, or the same task file run on a new data dir,
// must load everything again, not take the earlier task's chunks as loaded (it used to report
// every row loaded and leave the destination empty).
TEST_F(TaskLifecycleTest, ATaskCreatedAgainUnderItsNameLoadsEverything) {
  createTable("lc1", 1000);
  const std::string file = writeTask("again", "migration", "lc1", "", "{incremental: false}");
  const std::string data = workFile("data-again");
  std::string out;
  ASSERT_EQ(dts("run " + file + " --data-dir " + data, &out), 0) << out;
  EXPECT_EQ(count("dest", "lc1.t"), "1000");

  // Deleted, the destination's copy dropped, more rows at the source, created again.
  ASSERT_EQ(dts("task delete again --data-dir " + data, &out), 0) << out;
  cluster_->rootSql("dest", "DROP DATABASE lc1");
  cluster_->rootSql("node-1", "INSERT INTO lc1.t SELECT seq, 'w' FROM lc1.seq_1001_to_1500");
  ASSERT_EQ(dts("run " + file + " --data-dir " + data, &out), 0) << out;
  EXPECT_NE(out.find("rows an earlier task named again left in the destination's dts_meta"),
            std::string::npos)
      << out;
  EXPECT_EQ(count("dest", "lc1.t"), "1500") << out;

  // The same file on a new data dir: the same.
  cluster_->rootSql("dest", "DROP DATABASE lc1");
  cluster_->rootSql("node-1", "INSERT INTO lc1.t SELECT seq, 'x' FROM lc1.seq_1501_to_1700");
  ASSERT_EQ(dts("run " + file + " --data-dir " + workFile("data-again-2"), &out), 0) << out;
  EXPECT_EQ(count("dest", "lc1.t"), "1700") << out;
  EXPECT_EQ(cluster_->rootSql("dest", "CHECKSUM TABLE lc1.t"),
            cluster_->rootSql("node-1", "CHECKSUM TABLE lc1.t"));
}

// One process runs a task at a time: a second `dts run` is refused at once, naming the first's
// pid. `dts status` tells a running task from one whose process was killed: the killed one is
// "not running" with no rates, instead of looking busy forever. Run again, it resumes.
TEST_F(TaskLifecycleTest, ASecondRunIsRefusedAndAKilledRunShowsAsNotRunning) {
  createTable("lc2", 200);
  const std::string file = writeTask("live", "sync", "lc2", "", "{parallelism: 2}");
  const std::string data = workFile("data-live");
  DtsProcess run;
  run.start({"run", file, "--data-dir", data}, workFile("live.log"));
  ASSERT_TRUE(eventually(120s, [&] {
    return taskStatus(data, "live").value("phase", "") == "incremental";
  })) << run.log();
  cluster_->rootSql("node-1", "INSERT INTO lc2.t VALUES (1000, 'live')");
  ASSERT_TRUE(eventually(60s, [&] { return count("dest", "lc2.t") == "201"; })) << run.log();

  std::string out;
  EXPECT_EQ(dts("run " + file + " --data-dir " + data, &out), 1) << out;
  // Refused before it read or wrote anything (it used to run its precheck and wait at the
  // destination's locks, printing progress, then fail).
  EXPECT_EQ(out.find("precheck"), std::string::npos) << out;
  EXPECT_NE(out.find("task live is already running (pid " + std::to_string(run.pid()) + ")"),
            std::string::npos)
      << out;
  nlohmann::json st = taskStatus(data, "live");
  EXPECT_EQ(st["running"], true) << st.dump();
  EXPECT_EQ(st["pid"], run.pid()) << st.dump();
  EXPECT_TRUE(run.running()) << "the refused run stopped the first: " << run.log();

  run.signal(SIGKILL);
  ASSERT_EQ(run.wait(30s), -SIGKILL);
  st = taskStatus(data, "live");
  EXPECT_EQ(st["phase"], "incremental") << st.dump();
  EXPECT_EQ(st["running"], false) << st.dump();
  EXPECT_EQ(st["rps"], 0.0) << st.dump();
  EXPECT_TRUE(st["latency_ms"].is_null()) << st.dump();
  ASSERT_EQ(dts("status --data-dir " + data, &out), 0) << out;
  EXPECT_NE(out.find("not running: no process runs this task now"), std::string::npos) << out;

  // Asked about what is not there: an error, not an empty answer.
  EXPECT_EQ(dts("status --task nosuch --data-dir " + data, &out), 1) << out;
  EXPECT_NE(out.find("no task named nosuch"), std::string::npos) << out;
  EXPECT_EQ(dts("status --data-dir " + workFile("no-such-dir"), &out), 1) << out;
  EXPECT_NE(out.find("no data dir"), std::string::npos) << out;

  // Run again: it resumes and applies what came meanwhile.
  cluster_->rootSql("node-1", "INSERT INTO lc2.t VALUES (1001, 'after')");
  run.start({"run", file, "--data-dir", data}, workFile("live.log"));
  EXPECT_TRUE(eventually(120s, [&] { return count("dest", "lc2.t") == "202"; })) << run.log();
  EXPECT_EQ(taskStatus(data, "live")["running"], true);
  run.signal(SIGTERM);
  EXPECT_EQ(run.wait(60s), 0) << run.log();
  EXPECT_EQ(taskStatus(data, "live")["phase"], "paused");
}

// A task file whose precheck failed has written nothing: fixed, it runs (it used to be refused
// as "created from a different task file"). Once it has written data, a changed file is refused
// with the way out.
TEST_F(TaskLifecycleTest, AFileFixedAfterAFailedPrecheckRuns) {
  createTable("lc3", 300);
  const std::string data = workFile("data-fix");
  std::string out;
  const std::string typo =
      writeTask("fix", "migration", "lc3", ", tables: [tt]", "{incremental: false}");
  EXPECT_NE(dts("run " + typo + " --data-dir " + data, &out), 0) << out;
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;

  const std::string fixed =
      writeTask("fix", "migration", "lc3", ", tables: [t]", "{incremental: false}");
  ASSERT_EQ(dts("run " + fixed + " --data-dir " + data, &out), 0) << out;
  EXPECT_EQ(count("dest", "lc3.t"), "300");

  createTable("lc3b", 10);
  const std::string changed = writeTask("fix", "migration", "lc3b", "", "{incremental: false}");
  EXPECT_EQ(dts("run " + changed + " --data-dir " + data, &out), 1) << out;
  EXPECT_NE(out.find("has already written data"), std::string::npos) << out;
  EXPECT_NE(out.find("dts task delete fix"), std::string::npos) << out;
}

}  // namespace
}  // namespace dts::testing
