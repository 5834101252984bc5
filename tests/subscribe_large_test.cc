// A 1 GB transaction through a tracking task and to a consumer (issue 15, item 6): one UPDATE of
// 1,000,000 rows of about 500 bytes (about 1 GB of before and after images) is logged by `dts
// server`'s tracking task and delivered whole, in order, to `dts subscribe`, while the server's
// peak resident memory (VmHWM) stays under 256 MB: the log streams the transaction to disk and
// the HTTP endpoint reads it back in bounded chunks. Its own binary: it takes minutes.
// The secondaries are stopped: they would replay the same gigabyte on the same two cores.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cluster_fixture.h"
#include "support_dts.h"
#include "support_subscribe.h"

namespace dts::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kRows = 1000000;
constexpr int kPadBytes = 480;
constexpr uint64_t kMaxResidentKb = 256 * 1024;

class SubscribeLargeTest : public SharedClusterTest {};

TEST_F(SubscribeLargeTest, OneGigabyteTransactionLoggedAndDeliveredInBoundedMemory) {
  cluster_->run("stop-node node-2");
  cluster_->run("stop-node node-3");
  const std::string source = cluster_->nodeEndpoint("node-1");
  cluster_->rootSql("node-1",
                    "CREATE DATABASE big; USE big;"
                    "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(500) NOT "
                    "NULL);"
                    "INSERT INTO t SELECT seq, 0, REPEAT(CHAR(65 + seq % 26), " +
                        std::to_string(kPadBytes) + ") FROM seq_1_to_" + std::to_string(kRows));
  Server server;
  server.start(workFile("data-big"), workFile("big-server.log"));
  json created =
      server.call("POST", "/api/v1/tasks?start=true",
                  "name: big\nkind: tracking\nsource: {endpoint: '" + source +
                      "', user: dts, password_env: DTS_IT_PW}\nobjects: [{database: big}]\n");
  ASSERT_EQ(created.value("http_status", 0), 201) << created.dump();
  ASSERT_TRUE(eventually(120s, [&] { return server.phase("big") == "incremental"; }));
  std::this_thread::sleep_for(1s);
  pid_t pid = server.process()->pid();

  cluster_->rootSql("node-1", "UPDATE big.t SET n = n + 1, pad = REVERSE(CONCAT(pad, 'x'))");
  std::string want = cluster_->rootSql("node-1", "SELECT @@gtid_binlog_pos");
  while (!want.empty() && (want.back() == '\n' || want.back() == '\r')) want.pop_back();
  uint64_t peak_kb = 0, open_rows = 0;
  std::string status_text;  // `dts task status big` once, while the transaction is open
  ASSERT_TRUE(eventually(900s, [&] {
    peak_kb = std::max(peak_kb, peakResidentKb(pid));
    json t = server.call("GET", "/api/v1/tasks/big");
    if (auto a = t.find("applier"); a != t.end() && a->is_object()) {
      if (auto o = a->find("open_transaction"); o != a->end() && o->is_object()) {
        open_rows = std::max(open_rows, o->value("rows", uint64_t{0}));
        if (status_text.empty())
          runCommand(dtsBinary() + " task status big --data-dir " + workFile("data-big"),
                     &status_text);
      }
    }
    return t.value("checkpoint_gtid", "") == want;
  })) << fileText(workFile("big-server.log"));
  std::cout << "dts peak resident memory after logging: " << peak_kb / 1024 << " MB\n";
  // While it was logged, the task's status showed its rows so far (none are counted, nor
  // readable, before its commit marker).
  std::cout << "most rows shown as logged before the commit: " << open_rows << "\n";
  EXPECT_GT(open_rows, 0u);
  EXPECT_LT(open_rows, static_cast<uint64_t>(kRows));
  EXPECT_NE(status_text.find("\n  open transaction "), std::string::npos) << status_text;

  // Delivered whole to a consumer: one begin, 1,000,000 updates, one commit, in order (the
  // records are checked by a small awk program, to keep 1 GB out of the test's memory too).
  std::string summary = workFile("big-summary.txt"), err = workFile("big-subscribe.err");
  ShellProcess consumer;
  consumer.start("sh -c " + shellQuote(server.subscribeCommand(
                                           "big", "--group big --from earliest --idle-exit-ms 5000",
                                           "/dev/stdout", err) +
                                       " | awk '/\"op\":\"update\"/{u++} /\"op\":\"begin\"/{b++} "
                                       "/\"op\":\"commit\"/{c++} {n++} END{print n, b, u, c}' > " +
                                       shellQuote(summary)));
  auto done = std::chrono::steady_clock::now() + 900s;
  while (!consumer.wait(1s) && std::chrono::steady_clock::now() < done)
    peak_kb = std::max(peak_kb, peakResidentKb(pid));
  ASSERT_EQ(consumer.wait(1s), 0) << fileText(err);
  peak_kb = std::max(peak_kb, peakResidentKb(pid));
  std::cout << "dts peak resident memory after delivery: " << peak_kb / 1024 << " MB\n";
  EXPECT_EQ(fileText(summary), "1000002 1 1000000 1\n") << fileText(err);
  EXPECT_EQ(server.committed("big", "big"), 1000002);
  EXPECT_GT(peak_kb, 0u);
  EXPECT_LT(peak_kb, kMaxResidentKb);
  server.stop();
}

}  // namespace
}  // namespace dts::testing
