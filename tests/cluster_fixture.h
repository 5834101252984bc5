// LocalCluster: the C++ side of scripts/cluster.sh, for integration tests. Each instance owns a
// fresh work directory (under $DTS_TEST_TMPDIR or /tmp) and its own free ports, so test binaries
// run side by side; the destructor tears the cluster down.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mysql/connection.h"

namespace dts::testing {

class LocalCluster {
 public:
  // Starts the cluster; aborts the test binary with the script's output if that fails.
  static std::unique_ptr<LocalCluster> start();
  ~LocalCluster();

  const std::string& dir() const { return dir_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }

  // Runs a cluster.sh command ("promote node-2", "add node-4", ...); returns its stdout, and
  // fails the current test when it exits non-zero.
  std::string run(const std::string& args);
  nlohmann::json status();

  std::string endpoint();  // the read/write endpoint, host:port
  std::string nodeEndpoint(const std::string& name);
  std::string destinationEndpoint();

  mysql::ConnectOptions options(const std::string& endpoint) const;
  // A connection as the dts user; fails the test when it cannot connect.
  std::unique_ptr<mysql::Connection> connect(const std::string& endpoint) const;

  // Runs SQL as the server's root account over the node's unix socket ("dest" for the
  // destination): for what the dts account may not do (SET GLOBAL, users). Returns the output
  // (tab-separated, no column names); fails the current test on an error.
  std::string rootSql(const std::string& node, const std::string& sql);

  // Blocks until the node's gtid_binlog_pos contains everything the primary has written.
  void waitReplicated(const std::string& node);

 private:
  explicit LocalCluster(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::string user_;
  std::string password_;
};

// A test suite whose tests share one cluster, started before the first test and torn down after
// the last. DTS_IT_PW holds the dts account's password, for task files' password_env.
class SharedClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = LocalCluster::start().release();
    setenv("DTS_IT_PW", cluster_->password().c_str(), 1);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  // A path in the cluster's work directory.
  static std::string workFile(const std::string& name) { return cluster_->dir() + "/" + name; }

  static inline LocalCluster* cluster_ = nullptr;
};

// s quoted for /bin/sh.
std::string shellQuote(const std::string& s);

// Runs a shell command, returning its exit code and combined output.
int runCommand(const std::string& cmd, std::string* output);

// The source tree (for scripts/) and the dts binary under test.
std::string sourceDir();
std::string dtsBinary();

}  // namespace dts::testing
