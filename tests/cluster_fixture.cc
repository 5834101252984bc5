#include "cluster_fixture.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dts::testing {

std::string sourceDir() {
  return DTS_SOURCE_DIR;
}
std::string dtsBinary() {
  return DTS_BINARY;
}

int runCommand(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf;
  size_t n;
  output->clear();
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) output->append(buf.data(), n);
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}

std::string LocalCluster::rootSql(const std::string& node, const std::string& sql) {
  std::string out;
  int rc = runCommand("mariadb --no-defaults -uroot -N --socket=" + dir_ + "/" + node +
                          "/mysqld.sock -e " + shellQuote(sql),
                      &out);
  EXPECT_EQ(rc, 0) << node << ": " << sql << ": " << out;
  return out;
}

std::unique_ptr<LocalCluster> LocalCluster::start() {
  const char* base = getenv("DTS_TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/dts-it-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    fprintf(stderr, "mkdtemp %s failed\n", tmpl.c_str());
    abort();
  }
  std::unique_ptr<LocalCluster> c(new LocalCluster(tmpl));
  std::string out;
  int rc = runCommand(sourceDir() + "/scripts/cluster.sh --dir " + tmpl + " up", &out);
  if (rc != 0) {
    fprintf(stderr, "cluster.sh up failed (%d):\n%s\n", rc, out.c_str());
    abort();
  }
  auto st = c->status();
  c->user_ = st["user"].get<std::string>();
  std::ifstream pw(st["password_file"].get<std::string>());
  std::getline(pw, c->password_);
  return c;
}

LocalCluster::~LocalCluster() {
  std::string out;
  if (getenv("DTS_KEEP_CLUSTER") == nullptr) {
    runCommand(sourceDir() + "/scripts/cluster.sh --dir " + dir_ + " down", &out);
    // The directory is this fixture's own (mkdtemp): what the tests wrote there goes with it.
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string LocalCluster::run(const std::string& args) {
  std::string out;
  int rc = runCommand(sourceDir() + "/scripts/cluster.sh --dir " + dir_ + " " + args, &out);
  EXPECT_EQ(rc, 0) << "cluster.sh " << args << ":\n" << out;
  return out;
}

nlohmann::json LocalCluster::status() {
  std::string out;
  int rc =
      runCommand(sourceDir() + "/scripts/cluster.sh --dir " + dir_ + " status 2>/dev/null", &out);
  if (rc != 0) {
    ADD_FAILURE() << "cluster.sh status: " << out;
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(out);
}

std::string LocalCluster::endpoint() {
  return status()["endpoint"].get<std::string>();
}

std::string LocalCluster::nodeEndpoint(const std::string& name) {
  auto st = status();
  for (const auto& n : st["nodes"]) {
    if (n["name"] == name) return n["endpoint"].get<std::string>();
  }
  ADD_FAILURE() << "no node " << name;
  return "";
}

std::string LocalCluster::destinationEndpoint() {
  return status()["destination"]["endpoint"].get<std::string>();
}

mysql::ConnectOptions LocalCluster::options(const std::string& endpoint) const {
  mysql::ConnectOptions o;
  auto ep = mysql::Endpoint::parse(endpoint);
  EXPECT_TRUE(ep.ok()) << ep.status().toString();
  if (ep.ok()) o.endpoint = *ep;
  o.user = user_;
  o.password = password_;
  return o;
}

std::unique_ptr<mysql::Connection> LocalCluster::connect(const std::string& endpoint) const {
  auto c = mysql::Connection::connect(options(endpoint));
  EXPECT_TRUE(c.ok()) << c.status().toString();
  if (!c.ok()) return nullptr;
  return std::move(c).value();
}

void LocalCluster::waitReplicated(const std::string& node) {
  auto st = status();
  std::string primary_pos;
  for (const auto& n : st["nodes"]) {
    if (n["name"] == st["primary"]) primary_pos = n["gtid_binlog_pos"].get<std::string>();
  }
  if (primary_pos.empty()) return;
  auto conn = connect(nodeEndpoint(node));
  ASSERT_NE(conn, nullptr);
  auto r = conn->queryValue("SELECT MASTER_GTID_WAIT('" + primary_pos + "', 60)");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->value_or("?"), "0") << node << " did not reach " << primary_pos;
}

}  // namespace dts::testing
