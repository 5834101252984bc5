// Binlog files the server has not closed (issue 12 item 3): the active binlog of a running
// MariaDB and one left by kill -9 of the server. Their FORMAT_DESCRIPTION carries the in-use
// flag, with a checksum computed without it; dts must decode them, every event the server wrote,
// offline (`dts binlog decode`, and BinlogFileSource + BinlogDecoder in process) and through a
// replication stream (`dts binlog tail`).
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cluster_fixture.h"
#include "mysql/binlog_event.h"
#include "mysql/binlog_file.h"
#include "support_dts.h"

namespace dts::testing {
namespace {

size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class BinlogInUseTest : public SharedClusterTest {
 protected:
  std::unique_ptr<mysql::Connection> primary() {
    return cluster_->connect(cluster_->nodeEndpoint("node-1"));
  }

  // `rows` rows into db.t, ten per transaction.
  void writeRows(mysql::Connection& c, const std::string& db, int rows) {
    ASSERT_TRUE(c.execute("CREATE DATABASE `" + db + "`").ok());
    ASSERT_TRUE(
        c.execute("CREATE TABLE `" + db + "`.`t` (id INT PRIMARY KEY, v VARCHAR(40))").ok());
    for (int i = 0; i < rows; i += 10) {
      std::string sql = "INSERT INTO `" + db + "`.`t` VALUES ";
      for (int k = i; k < i + 10 && k < rows; ++k)
        sql += (k > i ? ",(" : "(") + std::to_string(k) + ",'row " + std::to_string(k) + "')";
      ASSERT_TRUE(c.execute(sql).ok()) << sql;
    }
  }

  std::string currentFile(mysql::Connection& c) {
    auto r = c.query("SHOW MASTER STATUS");
    EXPECT_TRUE(r.ok() && !r->rows.empty()) << r.status().toString();
    return r.ok() && !r->rows.empty() ? r->rows[0][0].value_or("") : "";
  }

  // What the server says it wrote in `file`.
  size_t serverEventCount(mysql::Connection& c, const std::string& file) {
    auto r = c.query("SHOW BINLOG EVENTS IN " + c.quoteString(file));
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? r->rows.size() : 0;
  }

  // Every event of the file through the file reader and the decoder; fails the test on an error.
  size_t decodeInProcess(const std::string& path, bool* in_use) {
    auto src = mysql::BinlogFileSource::open(path);
    EXPECT_TRUE(src.ok()) << src.status().toString();
    if (!src.ok()) return 0;
    *in_use = (*src)->inUse();
    mysql::BinlogDecoder decoder;
    std::vector<mysql::BinlogEvent> events;
    size_t n = 0;
    while (true) {
      auto raw = (*src)->nextEvent();
      if (!raw.ok()) {
        EXPECT_EQ(raw.status().code(), Status::Code::kNotFound) << raw.status().toString();
        EXPECT_EQ((*src)->tornTailBytes(), 0u);
        break;
      }
      Status s = decoder.decode(*raw, (*src)->position(), &events);
      EXPECT_TRUE(s.ok()) << s.toString();
      if (!s.ok()) break;
      ++n;
    }
    return n;
  }

  // `dts binlog decode --tables DB.* PATH`: the inserted rows it printed; fails on an error.
  size_t dtsDecodeInserts(const std::string& path, const std::string& db) {
    std::string out;
    int rc = runDts({"binlog", "decode", "--tables", db + ".*", path}, &out);
    EXPECT_EQ(rc, 0) << out.substr(0, 2000);
    EXPECT_EQ(out.find("dts: error"), std::string::npos) << out.substr(0, 2000);
    return countOf(out, "{\"op\":\"insert\"");
  }

  // mariadb-binlog --verify-binlog-checksum, the server's own reader, accepts the file.
  void mariadbBinlogAccepts(const std::string& path) {
    std::string out;
    int rc = runCommand("mariadb-binlog --no-defaults --verify-binlog-checksum " +
                            shellQuote(path) + " > /dev/null",
                        &out);
    EXPECT_EQ(rc, 0) << out;
  }
};

TEST_F(BinlogInUseTest, ActiveBinlogOfARunningServerDecodes) {
  auto c = primary();
  writeRows(*c, "inuse_active", 200);
  const std::string file = currentFile(*c);
  const std::string path = cluster_->dir() + "/node-1/data/" + file;
  const size_t written = serverEventCount(*c, file);
  ASSERT_GT(written, 40u);

  bool in_use = false;
  EXPECT_EQ(decodeInProcess(path, &in_use), written);
  EXPECT_TRUE(in_use) << file << " is the active binlog: its FORMAT_DESCRIPTION has the flag";
  EXPECT_EQ(dtsDecodeInserts(path, "inuse_active"), 200u);
  mariadbBinlogAccepts(path);

  // The same file through a replication stream, from its first event.
  std::string out;
  int rc = runCommand("DTS_PASSWORD=" + shellQuote(cluster_->password()) + " " + dtsBinary() +
                          " binlog tail mysql://" + cluster_->user() + "@" +
                          cluster_->nodeEndpoint("node-1") + " --from-file " + file +
                          " --from-pos 4 --stop-at-end --tables 'inuse_active.*'",
                      &out);
  EXPECT_EQ(rc, 0) << out.substr(0, 2000);
  EXPECT_EQ(countOf(out, "{\"op\":\"insert\""), 200u);

  // After FLUSH BINARY LOGS the server closes the file: the flag is gone, it still decodes.
  ASSERT_TRUE(c->execute("FLUSH BINARY LOGS").ok());
  EXPECT_EQ(decodeInProcess(path, &in_use), serverEventCount(*c, file));
  EXPECT_FALSE(in_use);
}

TEST_F(BinlogInUseTest, BinlogLeftByKillMinus9Decodes) {
  auto c = primary();
  ASSERT_TRUE(c->execute("FLUSH BINARY LOGS").ok());
  writeRows(*c, "inuse_crash", 300);
  const std::string file = currentFile(*c);
  const size_t written = serverEventCount(*c, file);
  ASSERT_GT(written, 60u);
  c.reset();

  std::ifstream pid_file(cluster_->dir() + "/node-1/mysqld.pid");
  pid_t pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0) << std::strerror(errno);
  ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] { return ::kill(pid, 0) != 0; }))
      << "mariadbd " << pid << " still alive after SIGKILL";

  // A copy, as an operator would take it before restarting the server.
  const std::string path = workFile(file);
  std::filesystem::copy_file(cluster_->dir() + "/node-1/data/" + file, path,
                             std::filesystem::copy_options::overwrite_existing);
  bool in_use = false;
  EXPECT_EQ(decodeInProcess(path, &in_use), written);
  EXPECT_TRUE(in_use) << "a binlog left by a crash keeps the in-use flag";
  EXPECT_EQ(dtsDecodeInserts(path, "inuse_crash"), 300u);
  mariadbBinlogAccepts(path);

  cluster_->run("start-node node-1");
}

}  // namespace
}  // namespace dts::testing
