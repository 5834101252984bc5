// The Kafka listener against the real clients Debian ships: kcat (librdkafka 2.0.2),
// python3-confluent-kafka (the same librdkafka) and python3-kafka (its own protocol code), over
// the in-memory change log (no database servers needed). Each client must read every record
// once, in order; a group resumes right after its last commit; a wrong password is refused;
// 20 groups on one topic are independent; a long-polled Fetch returns records appended while it
// waits; a group token reads its topic as its group only; kcat reads an encoded view
// (TASK.debezium-json: offsets with gaps) to its end.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server/group_tokens.h"
#include "server/kafka_listener.h"
#include "server/kafka_memory_log_for_tests.h"
#include "sink/change_formats.h"

namespace dts::server {
namespace {

using nlohmann::json;

const std::string kToken = "kafka-test-token-0123456789";
constexpr int kRecords = 200;
constexpr int64_t kBaseMs = 1767225600000;  // 2026-01-01T00:00:00Z

// Runs a shell command; returns its exit code, stdout and stderr in *output.
int run(const std::string& cmd, std::string* output) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  output->clear();
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) output->append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// "OFFSET VALUE" lines (other lines, e.g. client logs, are skipped).
std::vector<std::pair<int64_t, std::string>> records(const std::string& text) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const std::string& l : lines(text)) {
    size_t sp = l.find(' ');
    if (sp == std::string::npos || sp == 0) continue;
    if (!std::all_of(l.begin(), l.begin() + static_cast<long>(sp), ::isdigit)) continue;
    out.emplace_back(std::stoll(l.substr(0, sp)), l.substr(sp + 1));
  }
  return out;
}

void expectRange(const std::vector<std::pair<int64_t, std::string>>& got, int64_t from, int64_t to,
                 const std::string& output) {
  ASSERT_EQ(got.size(), static_cast<size_t>(to - from)) << output;
  for (int64_t o = from; o < to; ++o) {
    EXPECT_EQ(got[static_cast<size_t>(o - from)].first, o) << output;
    EXPECT_EQ(got[static_cast<size_t>(o - from)].second, "{\"n\":" + std::to_string(o) + "}");
  }
}

class KafkaClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"/usr/bin/kcat", "/usr/bin/python3"})
      ASSERT_TRUE(std::filesystem::exists(tool)) << tool << ": run scripts/install-deps.sh";
    dir_ = std::filesystem::temp_directory_path() /
           ("dts_kafka_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    log_ = std::make_shared<MemoryChangeLog>();
    appendRecords(kRecords);
    KafkaListenerOptions o =
        listenerOptionsForTests(log_, "orders", kToken, (dir_ / "kafka-offsets.db").string());
    auto l = KafkaListener::start(std::move(o));
    ASSERT_TRUE(l.ok()) << l.status().toString();
    listener_ = std::move(*l);
    bootstrap_ = "127.0.0.1:" + std::to_string(listener_->port());
  }
  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Markers (begin/commit) have no key, as in the change log.
  void appendRecords(int n) {
    for (int i = 0; i < n; ++i) {
      int64_t o = log_->endOffset();
      log_->append(o % 5 == 0 ? "" : "{\"id\":" + std::to_string(o) + "}",
                   "{\"n\":" + std::to_string(o) + "}", kBaseMs + o * 10);
    }
  }
  std::string kcat(const std::string& args, const std::string& password = kToken) {
    return "timeout 60 /usr/bin/kcat -b " + bootstrap_ +
           " -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username=any"
           " -X sasl.password=" +
           password + " " + args;
  }
  std::string python(const std::string& client, const std::string& args,
                     const std::string& password = kToken) {
    return "timeout 120 /usr/bin/python3 " + std::string(DTS_SOURCE_DIR) +
           "/tests/kafka/consume.py --client " + client + " --bootstrap " + bootstrap_ +
           " --password " + password + " --topic orders " + args;
  }

  std::filesystem::path dir_;
  std::shared_ptr<MemoryChangeLog> log_;
  std::unique_ptr<KafkaListener> listener_;
  std::string bootstrap_;
};

// A consumer group's read-only token (server/group_tokens.h, issued as the API does) reads its
// task's topic as its group, and nothing else.
TEST_F(KafkaClientsTest, GroupTokenReadsItsTopicAsItsGroupOnly) {
  auto store = GroupTokenStore::open((dir_ / "group-tokens.db").string());
  ASSERT_TRUE(store.ok()) << store.status().toString();
  std::shared_ptr<GroupTokenStore> tokens = std::move(*store);
  auto issued = tokens->issue("orders", "billing");
  ASSERT_TRUE(issued.ok()) << issued.status().toString();
  const std::string token = *issued;
  auto secret = std::make_shared<MemoryChangeLog>();
  secret->append("", "{\"secret\":1}", kBaseMs);
  KafkaListenerOptions o =
      listenerOptionsForTests(log_, "orders", kToken, (dir_ / "kafka-offsets.db").string());
  o.lookup = [this, secret](const std::string& t) -> std::shared_ptr<const sink::ChangeLogReader> {
    return t == "orders"   ? std::shared_ptr<const sink::ChangeLogReader>(log_)
           : t == "secret" ? secret
                           : nullptr;
  };
  o.topics = [] { return std::vector<std::string>{"orders", "secret"}; };
  o.group_token = [tokens](const std::string& password) {
    auto scope = tokens->find(password);
    return scope.ok() ? *scope : std::nullopt;
  };
  listener_.reset();
  auto l = KafkaListener::start(std::move(o));
  ASSERT_TRUE(l.ok()) << l.status().toString();
  listener_ = std::move(*l);
  bootstrap_ = "127.0.0.1:" + std::to_string(listener_->port());
  auto authorized = [&](const std::string& topic, const std::string& group, int count) {
    return "timeout 120 /usr/bin/python3 " + std::string(DTS_SOURCE_DIR) +
           "/tests/kafka/authorized.py --bootstrap " + bootstrap_ + " --password " + token +
           " --topic " + topic + " --group " + group + " --count " + std::to_string(count) +
           " --timeout 30";
  };

  std::string out;
  // Metadata of all topics: its own only; another topic by name: refused.
  ASSERT_EQ(run(kcat("-L", token), &out), 0) << out;
  EXPECT_NE(out.find("topic \"orders\""), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;
  run(kcat("-L -t secret", token), &out);
  EXPECT_NE(out.find("Topic authorization failed"), std::string::npos) << out;
  // Its group reads every record and commits.
  ASSERT_EQ(run(authorized("orders", "billing", kRecords), &out), 0) << out;
  expectRange(records(out), 0, kRecords, out);
  EXPECT_NE(out.find("committed 200"), std::string::npos) << out;
  // Another group, another topic: refused with the protocol's authorization errors.
  EXPECT_EQ(run(authorized("orders", "audit", 1), &out), 5) << out;
  EXPECT_EQ(run(authorized("secret", "billing", 1), &out), 6) << out;
  // The API token still reads everything.
  ASSERT_EQ(run(kcat("-C -t secret -p 0 -o beginning -e -q -f '%o %s\\n'"), &out), 0) << out;
  EXPECT_NE(out.find("0 {\"secret\":1}"), std::string::npos) << out;
  // Revoked: refused at authentication.
  ASSERT_TRUE(tokens->revoke("orders", "billing").ok());
  EXPECT_NE(run(kcat("-L -m 5", token), &out), 0) << out;
  EXPECT_NE(out.find("Authentication failed"), std::string::npos) << out;
}

// TASK.debezium-json and friends (sink::encodedView): what kcat reads, offsets with gaps where
// the markers were; kcat's -e (end of partition) works although the log ends with a marker.
TEST_F(KafkaClientsTest, KcatReadsAnEncodedView) {
  auto log = std::make_shared<MemoryChangeLog>();
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    const std::string tail =
        R"(,"gtid":"0-1-)" + n +
        R"(","file":"bin.000001","pos":4,"ts_ms":1767225600000,"tx":{"id":"0-1-)" + n +
        R"(","seq":)";
    log->append("", R"({"offset":0,"op":"begin")" + tail + "0}}", kBaseMs);
    log->append(R"({"db":"shop","table":"t","pk":{"id":)" + n + "}}",
                R"j({"offset":1,"op":"insert","db":"shop","table":"t","pk":["id"],)j"
                R"j("types":{"id":"int(11)","b":"varbinary(4)"},"before":null,"after":{"id":)j" +
                    n + R"j(,"b":"ff00"})j" + tail + "1}}",
                kBaseMs);
    log->append("", R"({"offset":2,"op":"commit")" + tail + "2}}", kBaseMs);
  }
  KafkaListenerOptions o =
      listenerOptionsForTests(log, "shop", kToken, (dir_ / "kafka-offsets.db").string());
  o.lookup = [log](const std::string& t) -> std::shared_ptr<const sink::ChangeLogReader> {
    if (t == "shop") return log;
    if (t == "shop.debezium-json")
      return sink::encodedView(log, sink::ChangeFormat::kDebeziumJson, "shop", true);
    return nullptr;
  };
  listener_.reset();
  auto l = KafkaListener::start(std::move(o));
  ASSERT_TRUE(l.ok()) << l.status().toString();
  listener_ = std::move(*l);
  bootstrap_ = "127.0.0.1:" + std::to_string(listener_->port());

  std::string out;
  ASSERT_EQ(run(kcat("-C -t shop.debezium-json -p 0 -o beginning -e -q -f '%o %s\\n'"), &out), 0)
      << out;
  auto got = records(out);
  ASSERT_EQ(got.size(), 3u) << out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[static_cast<size_t>(i)].first, 3 * i + 1) << out;
    EXPECT_EQ(
        got[static_cast<size_t>(i)].second,
        R"({"before":null,"after":{"id":)" + std::to_string(i) +
            R"(,"b":"/wA="},"source":{"version":"dts","connector":"mysql","name":"shop",)"
            R"("ts_ms":1767225600000,"snapshot":"false","db":"shop","table":"t","server_id":0,)"
            R"("gtid":"0-1-)" +
            std::to_string(i) +
            R"(","file":"bin.000001","pos":4,"row":0,"thread":null,"query":null},"op":"c",)"
            R"("ts_ms":1767225600000,"transaction":{"id":"0-1-)" +
            std::to_string(i) + R"(","total_order":1,"data_collection_order":1}})")
        << out;
  }
  // As a group: reads the three, commits, and a second run has nothing left.
  const std::string group =
      "-G view -X auto.offset.reset=earliest -X enable.partition.eof=true -e -q -f '%o %s\\n' "
      "shop.debezium-json";
  ASSERT_EQ(run(kcat(group), &out), 0) << out;
  EXPECT_EQ(records(out).size(), 3u) << out;
  ASSERT_EQ(run(kcat(group), &out), 0) << out;
  EXPECT_EQ(records(out).size(), 0u) << out;
  // kafka-python (its own protocol code) reads the view too, each client as its own group.
  auto consumeView = [&](const std::string& client, int count, int timeout_s = 60) {
    return run("timeout 120 /usr/bin/python3 " + std::string(DTS_SOURCE_DIR) +
                   "/tests/kafka/consume.py --client " + client + " --bootstrap " + bootstrap_ +
                   " --password " + kToken + " --topic shop.debezium-json --group py-" + client +
                   " --count " + std::to_string(count) + " --timeout " + std::to_string(timeout_s),
               &out);
  };
  for (const char* client : {"kafka-python", "confluent"}) {
    ASSERT_EQ(consumeView(client, 3), 0) << out;
    auto read = records(out);
    ASSERT_EQ(read.size(), 3u) << out;
    EXPECT_EQ(read[2].first, 7) << out;
    EXPECT_EQ(json::parse(read[2].second)["after"]["id"], 2) << out;
  }
  // The view ends with offsets it leaves out: the last commit marker (8), then a transaction of
  // one DDL (9-11), which the view leaves out whole. Every group, committed at 8, reads nothing
  // there (and kafka-python, which fails on a record batch of no records, does not fail), kcat
  // -e ends at once, and each reads the next row (offset 13) once it comes.
  {
    const std::string tail =
        R"(,"gtid":"0-1-3","file":"bin.000001","pos":4,"ts_ms":1767225600000,"tx":{"id":"0-1-3","seq":)";
    log->append("", R"({"offset":9,"op":"begin")" + tail + "0}}", kBaseMs);
    log->append(
        "",
        R"({"offset":10,"op":"ddl","db":"shop","table":"t","sql":"ALTER TABLE t ADD c INT")" +
            tail + "1}}",
        kBaseMs);
    log->append("", R"({"offset":11,"op":"commit")" + tail + "2}}", kBaseMs);
  }
  for (const char* client : {"kafka-python", "confluent"}) {
    EXPECT_EQ(consumeView(client, 1, 6), 3) << out;  // 3: nothing to read before the timeout
    EXPECT_EQ(records(out).size(), 0u) << out;
  }
  ASSERT_EQ(run(kcat(group), &out), 0) << out;
  EXPECT_EQ(records(out).size(), 0u) << out;
  {
    const std::string tail =
        R"(,"gtid":"0-1-4","file":"bin.000001","pos":4,"ts_ms":1767225600000,"tx":{"id":"0-1-4","seq":)";
    log->append("", R"({"offset":12,"op":"begin")" + tail + "0}}", kBaseMs);
    log->append(R"({"db":"shop","table":"t","pk":{"id":3}})",
                R"j({"offset":13,"op":"insert","db":"shop","table":"t","pk":["id"],)j"
                R"j("types":{"id":"int(11)","b":"varbinary(4)"},"before":null,"after":{"id":3,)j"
                R"j("b":"ff00"})j" +
                    tail + "1}}",
                kBaseMs);
    log->append("", R"({"offset":14,"op":"commit")" + tail + "2}}", kBaseMs);
  }
  for (const char* client : {"kafka-python", "confluent"}) {
    ASSERT_EQ(consumeView(client, 1), 0) << out;
    auto read = records(out);
    ASSERT_EQ(read.size(), 1u) << out;
    EXPECT_EQ(read[0].first, 13) << out;
    EXPECT_EQ(json::parse(read[0].second)["after"]["id"], 3) << out;
  }
  ASSERT_EQ(run(kcat(group), &out), 0) << out;
  auto last = records(out);
  ASSERT_EQ(last.size(), 1u) << out;
  EXPECT_EQ(last[0].first, 13) << out;
}

TEST_F(KafkaClientsTest, KcatFromBeginningOffsetAndTimestamp) {
  std::string out;
  ASSERT_EQ(run(kcat("-L -t orders"), &out), 0) << out;
  EXPECT_NE(out.find("topic \"orders\" with 1 partitions"), std::string::npos) << out;

  const std::string fmt = " -f '%o %s\\n'";
  ASSERT_EQ(run(kcat("-C -t orders -p 0 -o beginning -e -q" + fmt), &out), 0) << out;
  expectRange(records(out), 0, kRecords, out);

  ASSERT_EQ(run(kcat("-C -t orders -p 0 -o 150 -e -q" + fmt), &out), 0) << out;
  expectRange(records(out), 150, kRecords, out);

  // From a time: record 120 is the first at or after kBaseMs + 1195 ms.
  const std::string ts = std::to_string(kBaseMs + 1195);
  ASSERT_EQ(run(kcat("-C -t orders -p 0 -o s@" + ts + " -e -q" + fmt), &out), 0) << out;
  expectRange(records(out), 120, kRecords, out);

  ASSERT_EQ(run(kcat("-Q -t orders:0:" + ts), &out), 0) << out;
  EXPECT_NE(out.find("offset 120"), std::string::npos) << out;
}

TEST_F(KafkaClientsTest, KcatGroupResumesAfterItsCommit) {
  const std::string group =
      "-G kgroup -X auto.offset.reset=earliest -X enable.partition.eof=true -e -q -f '%o %s\\n' "
      "orders";
  std::string out;
  ASSERT_EQ(run(kcat(group), &out), 0) << out;
  expectRange(records(out), 0, kRecords, out);
  appendRecords(30);
  ASSERT_EQ(run(kcat(group), &out), 0) << out;
  expectRange(records(out), kRecords, kRecords + 30, out);
}

TEST_F(KafkaClientsTest, WrongPasswordIsRefused) {
  std::string out;
  EXPECT_NE(run(kcat("-L -m 5", "wrong-password"), &out), 0) << out;
  EXPECT_NE(out.find("Authentication failed"), std::string::npos) << out;
  EXPECT_EQ(run(python("confluent", "--group g --count 1 --timeout 8", "wrong"), &out), 2) << out;
  EXPECT_EQ(run(python("kafka-python", "--group g --count 1 --timeout 8", "wrong"), &out), 2)
      << out;
}

TEST_F(KafkaClientsTest, ConfluentKafkaReadsInOrderAndResumesAfterItsCommit) {
  std::string out;
  ASSERT_EQ(run(python("confluent", "--group cg --count 120"), &out), 0) << out;
  expectRange(records(out), 0, 120, out);
  EXPECT_NE(out.find("committed 120"), std::string::npos) << out;
  ASSERT_EQ(run(python("confluent", "--group cg --count 80"), &out), 0) << out;
  expectRange(records(out), 120, kRecords, out);
}

TEST_F(KafkaClientsTest, KafkaPythonReadsInOrderAndResumesAfterItsCommit) {
  std::string out;
  ASSERT_EQ(run(python("kafka-python", "--group pg --count 120"), &out), 0) << out;
  expectRange(records(out), 0, 120, out);
  EXPECT_NE(out.find("committed 120"), std::string::npos) << out;
  ASSERT_EQ(run(python("kafka-python", "--group pg --count 80"), &out), 0) << out;
  expectRange(records(out), 120, kRecords, out);
}

TEST_F(KafkaClientsTest, TwentyGroupsOnOneTopicAreIndependent) {
  std::string out;
  ASSERT_EQ(run(python("kafka-python", "--group twenty --groups 20"), &out), 0) << out;
  EXPECT_NE(out.find("groups ok"), std::string::npos) << out;
}

TEST_F(KafkaClientsTest, LongPollReturnsRecordsAppendedWhileWaiting) {
  std::thread writer([this] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    appendRecords(5);
  });
  std::string out;
  int rc = run(python("confluent", "--group lp --count " + std::to_string(kRecords + 5)), &out);
  writer.join();
  ASSERT_EQ(rc, 0) << out;
  expectRange(records(out), 0, kRecords + 5, out);
}

}  // namespace
}  // namespace dts::server

namespace dts::server {
namespace {

// For trying a client by hand: --gtest_also_run_disabled_tests --gtest_filter='*ServeForAMinute'
// prints the port and serves the 200 records (password kafka-test-token-0123456789) for 60 s;
// $DTS_KAFKA_SERVE_RECORDS more records first, to time a client reading many.
TEST_F(KafkaClientsTest, DISABLED_ServeForAMinute) {
  if (const char* more = std::getenv("DTS_KAFKA_SERVE_RECORDS")) appendRecords(std::atoi(more));
  std::printf("serving topic orders on %s\n", bootstrap_.c_str());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

}  // namespace
}  // namespace dts::server
