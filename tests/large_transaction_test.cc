// A transaction far larger than dts's memory budget through a sync task (issue 11, item 7): the
// reader hands it out in bounded pieces and the applier streams them into one destination
// transaction, so dts's peak resident memory (VmHWM) stays under 256 MB for the whole task.
//   * one UPDATE of every row of a table of 1,000,000 rows of about 500 bytes (about 1 GB of row
//     images, before and after), after a full phase that loaded that table: the destination
//     equals the source;
//   * a transaction that writes rows to a table without a key and then updates every row again:
//     dts is killed with SIGKILL while the destination applies it, restarted, and the
//     destination ends equal (nothing lost, nothing doubled: the keyless rows show a double).
// The secondaries are stopped: they would replay the same gigabyte on the same two cores.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cluster_fixture.h"
#include "support_data.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kRows = 1000000;
constexpr int kPadBytes = 480;
constexpr uint64_t kMaxResidentKb = 256 * 1024;

class LargeTransactionTest : public SharedClusterTest {
 protected:
  static void SetUpTestSuite() {
    SharedClusterTest::SetUpTestSuite();
    cluster_->run("stop-node node-2");
    cluster_->run("stop-node node-3");
    source_ = cluster_->nodeEndpoint("node-1");
    cluster_->rootSql(
        "node-1",
        "CREATE DATABASE big; USE big;"
        "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(500) NOT NULL);"
        "CREATE TABLE audit (k INT, note VARCHAR(20));"
        "INSERT INTO t SELECT seq, 0, REPEAT(CHAR(65 + seq % 26), " +
            std::to_string(kPadBytes) + ") FROM seq_1_to_" + std::to_string(kRows));
    std::ofstream f(workFile("big.yaml"));
    f << "name: big\nkind: sync\n"
      << "source: {endpoint: '" << source_ << "', user: dts, password_env: DTS_IT_PW}\n"
      << "destination: {endpoint: '" << cluster_->destinationEndpoint()
      << "', user: dts, password_env: DTS_IT_PW}\n"
      << "objects:\n  - database: big\noptions: {parallelism: 2}\n";
  }

  std::string log() const {
    std::ifstream l(workFile("big.log"));
    return std::string((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
  }

  // As root through the mariadb client: a statement this large outlasts a connection's read
  // timeout on a loaded machine.
  void sourceSql(const std::string& sql) { cluster_->rootSql("node-1", sql); }

  void startDts(DtsProcess* dts) {
    dts->start({"run", workFile("big.yaml"), "--data-dir", workFile("data-big")},
               workFile("big.log"));
  }

  // Starts dts and waits until it streams changes (the incremental phase).
  void startIncremental(DtsProcess* dts) {
    startDts(dts);
    ASSERT_TRUE(eventually(600s, [&] {
      return !dts->running() ||
             taskStatus(workFile("data-big"), "big").value("phase", "") == "incremental";
    })) << log();
    ASSERT_TRUE(dts->running()) << log();
  }

  // Waits until the task's checkpoint is the source's binlog position; samples dts's peak
  // resident memory meanwhile (it must be read before the process ends), and the most rows
  // `dts status` showed of the transaction open at the destination (open_rows, when given).
  bool waitCaughtUp(DtsProcess* dts, std::chrono::seconds timeout, uint64_t* peak_kb,
                    uint64_t* open_rows = nullptr) {
    auto c = cluster_->connect(source_);
    if (c == nullptr) return false;
    auto p = c->queryValue("SELECT @@GLOBAL.gtid_binlog_pos");
    if (!p.ok() || !p->has_value()) return false;
    const std::string want = **p;
    return eventually(timeout, [&] {
      if (!dts->running()) return false;
      *peak_kb = std::max(*peak_kb, peakResidentKb(dts->pid()));
      auto status = taskStatus(workFile("data-big"), "big");
      if (auto o = status.find("open_transaction");
          open_rows && o != status.end() && o->is_object())
        *open_rows = std::max(*open_rows, o->value("rows", uint64_t{0}));
      return status.value("checkpoint_gtid", "") == want;
    });
  }

  void expectEqual() {
    auto src = cluster_->connect(source_);
    auto dst = cluster_->connect(cluster_->destinationEndpoint());
    ASSERT_NE(src, nullptr);
    ASSERT_NE(dst, nullptr);
    for (const char* table : {"t", "audit"}) {
      const std::string sql = std::string("CHECKSUM TABLE big.") + table;
      auto a = src->query(sql);
      auto b = dst->query(sql);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(a->rows[0][1], b->rows[0][1]) << table;
    }
    EXPECT_EQ(diffTables(*src, "big", "audit", *dst, "big", "audit"), "");
  }

  static inline std::string source_;
};

TEST_F(LargeTransactionTest, OneGigabyteUpdateInBoundedMemory) {
  DtsProcess dts;
  ASSERT_NO_FATAL_FAILURE(startIncremental(&dts));
  // About 1 GB of row images in one transaction: every row's before and after image.
  sourceSql("UPDATE big.t SET n = n + 1, pad = REVERSE(CONCAT(pad, 'x'))");
  uint64_t peak_kb = 0, open_rows = 0;
  ASSERT_TRUE(waitCaughtUp(&dts, 900s, &peak_kb, &open_rows)) << log();
  peak_kb = std::max(peak_kb, peakResidentKb(dts.pid()));
  std::cout << "dts peak resident memory: " << peak_kb / 1024 << " MB\n";
  EXPECT_GT(peak_kb, 0u);
  EXPECT_LT(peak_kb, kMaxResidentKb);
  // While it was applied, `dts status` and the progress lines showed its rows so far (rows/s
  // counts committed rows only), and once committed, no transaction is open.
  std::cout << "most rows shown in progress before the commit: " << open_rows << "\n";
  EXPECT_GT(open_rows, 0u);
  EXPECT_LT(open_rows, static_cast<uint64_t>(kRows));
  EXPECT_NE(log().find("  open transaction "), std::string::npos) << log();
  EXPECT_TRUE(eventually(
      30s, [&] { return taskStatus(workFile("data-big"), "big")["open_transaction"].is_null(); }));
  dts.signal(SIGTERM);
  EXPECT_EQ(dts.wait(60s), 0) << log();
  expectEqual();
}

TEST_F(LargeTransactionTest, KilledWhileApplyingItLosesAndDoublesNothing) {
  DtsProcess dts;
  ASSERT_NO_FATAL_FAILURE(startIncremental(&dts));
  sourceSql(
      "USE big; BEGIN; INSERT INTO big.audit SELECT seq, 'once' FROM seq_1_to_1000;"
      "UPDATE big.t SET n = n + 1, pad = REVERSE(pad); COMMIT");
  // Kill dts once the destination transaction holds a good part of it.
  bool applying = eventually(600s, [&] {
    std::string rows = cluster_->rootSql(
        "dest", "SELECT IFNULL(MAX(trx_rows_modified), 0) FROM information_schema.INNODB_TRX");
    return !dts.running() || std::stoull(rows) >= kRows / 4;
  });
  ASSERT_TRUE(applying && dts.running()) << log();
  dts.signal(SIGKILL);
  ASSERT_EQ(dts.wait(60s), -SIGKILL);
  EXPECT_EQ(cluster_->rootSql("dest", "SELECT COUNT(*) FROM big.audit"), "0\n")
      << "nothing of the killed transaction is visible";

  DtsProcess again;
  startDts(&again);
  uint64_t peak_kb = 0;
  ASSERT_TRUE(waitCaughtUp(&again, 900s, &peak_kb)) << log();
  peak_kb = std::max(peak_kb, peakResidentKb(again.pid()));
  std::cout << "dts peak resident memory after the restart: " << peak_kb / 1024 << " MB\n";
  EXPECT_LT(peak_kb, kMaxResidentKb);
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(60s), 0) << log();
  EXPECT_EQ(cluster_->rootSql("dest", "SELECT COUNT(*) FROM big.audit"), "1000\n");
  expectEqual();
}

}  // namespace
}  // namespace dts::testing
