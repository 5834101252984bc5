// BinlogStream against a real MariaDB cluster: positioning (current, file/offset, GTID), rotation,
// reading from a secondary, and the error paths (killed connection, bad password, no server).
// These tests look at raw events only (type byte, GTID events), so they exercise the stream and
// not the decoder; the decoded values are covered by binlog_types_test.
#include "mysql/binlog_stream.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "cluster_fixture.h"
#include "common/byte_reader.h"

namespace dts::testing {
namespace {

using mysql::BinlogPosition;
using mysql::BinlogStream;
using mysql::BinlogStreamOptions;

constexpr uint8_t kQueryEvent = 2;
constexpr uint8_t kXidEvent = 16;
constexpr uint8_t kMariaGtidEvent = 162;
constexpr uint8_t kWriteRowsV1 = 23;

uint8_t typeOf(std::string_view e) {
  return static_cast<uint8_t>(e[4]);
}

// "0-1-42" from a MariaDB GTID event (body: seq_no u64, domain u32, flags u8).
std::string mariaGtid(std::string_view e) {
  ByteReader r(e);
  uint32_t server_id = 0, domain = 0;
  uint64_t seq = 0;
  EXPECT_TRUE(r.skip(5) && r.getU32(&server_id) && r.skip(10) && r.getU64(&seq) &&
              r.getU32(&domain));
  return std::to_string(domain) + "-" + std::to_string(server_id) + "-" + std::to_string(seq);
}

std::string one(mysql::Connection& c, const std::string& sql) {
  auto r = c.queryValue(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().toString();
  return r.ok() ? r->value_or("NULL") : "";
}

class BinlogStreamTest : public SharedClusterTest {
 protected:
  BinlogStreamOptions options(const std::string& node = "node-1") {
    BinlogStreamOptions o;
    o.connection = cluster_->options(cluster_->nodeEndpoint(node));
    o.heartbeat_period = std::chrono::milliseconds(500);
    o.read_timeout = std::chrono::seconds(20);
    return o;
  }
  std::unique_ptr<BinlogStream> open(const BinlogStreamOptions& o) {
    auto s = BinlogStream::open(o);
    EXPECT_TRUE(s.ok()) << s.status().toString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<mysql::Connection> primary() {
    return cluster_->connect(cluster_->nodeEndpoint("node-1"));
  }

  // Reads events until `count` events of `type` were seen; returns every GTID seen on the way.
  std::vector<std::string> readUntil(BinlogStream& s, uint8_t type, int count,
                                     std::vector<BinlogPosition>* positions = nullptr) {
    std::vector<std::string> gtids;
    int seen = 0;
    while (seen < count) {
      auto e = s.nextEvent();
      if (!e.ok()) {
        ADD_FAILURE() << e.status().toString();
        break;
      }
      if (typeOf(*e) == kMariaGtidEvent) gtids.push_back(mariaGtid(*e));
      if (positions != nullptr) positions->push_back(s.position());
      if (typeOf(*e) == type) ++seen;
    }
    return gtids;
  }
};

TEST_F(BinlogStreamTest, StreamsFromNowAcrossRotationWithExactPositions) {
  auto c = primary();
  ASSERT_TRUE(
      c->execute("CREATE DATABASE rot; CREATE TABLE rot.t (id INT PRIMARY KEY, v TEXT)").ok());
  auto o = options();
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  EXPECT_GE(s->serverId(), BinlogStream::kMinRandomServerId);
  EXPECT_TRUE(s->isMariaDB());
  EXPECT_TRUE(s->checksumEnabled());
  std::string file_before = one(*c, "SELECT @@log_bin_basename");  // keeps the connection warm
  auto status_before = c->query("SHOW MASTER STATUS");
  ASSERT_TRUE(status_before.ok());
  std::string first_file = *status_before->rows[0][0];

  ASSERT_TRUE(c->execute("INSERT INTO rot.t VALUES (1, 'a'), (2, 'b')").ok());
  ASSERT_TRUE(c->execute("FLUSH BINARY LOGS").ok());
  ASSERT_TRUE(c->execute("INSERT INTO rot.t VALUES (3, 'c')").ok());
  auto status_after = c->query("SHOW MASTER STATUS");
  std::string second_file = *status_after->rows[0][0];
  ASSERT_NE(first_file, second_file);

  std::vector<BinlogPosition> positions;
  readUntil(*s, kXidEvent, 2, &positions);
  // Every event we returned from a file starts where SHOW BINLOG EVENTS says an event starts.
  std::set<std::pair<std::string, uint64_t>> real;
  for (const auto& f : {first_file, second_file}) {
    auto ev = c->query("SHOW BINLOG EVENTS IN '" + f + "'");
    ASSERT_TRUE(ev.ok()) << ev.status().toString();
    for (const auto& row : ev->rows) real.insert({f, std::stoull(*row[1])});
  }
  bool saw_second = false;
  for (const auto& p : positions) {
    EXPECT_TRUE(real.count({p.file, p.offset}) == 1 || p.offset == 4)
        << p.file << ":" << p.offset << " is not the start of an event";
    if (p.file == second_file) saw_second = true;
  }
  EXPECT_TRUE(saw_second);
  EXPECT_EQ(s->position().file, second_file);
  auto end = c->query("SHOW MASTER STATUS");
  EXPECT_EQ(s->nextPosition().file, *end->rows[0][0]);
  EXPECT_EQ(s->nextPosition().offset, std::stoull(*end->rows[0][1]));
}

TEST_F(BinlogStreamTest, ResumesFromGtidWithoutRepeatingOrLosing) {
  auto c = primary();
  ASSERT_TRUE(c->execute("CREATE DATABASE gt; CREATE TABLE gt.t (id INT PRIMARY KEY)").ok());
  std::string start = one(*c, "SELECT @@gtid_binlog_pos");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(c->execute("INSERT INTO gt.t VALUES (" + std::to_string(i) + ")").ok());
  }
  // Everything after `start`.
  auto o = options();
  o.start = BinlogStreamOptions::Start::kGtid;
  o.from_gtid = start;
  o.stop_at_end = true;
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  std::vector<std::string> all;
  while (true) {
    auto e = s->nextEvent();
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), Status::Code::kNotFound) << e.status().toString();
      break;
    }
    if (typeOf(*e) == kMariaGtidEvent) all.push_back(mariaGtid(*e));
  }
  ASSERT_EQ(all.size(), 10u);
  // Resume after the 4th: exactly the 6 that follow, in order.
  o.from_gtid = all[3];
  auto r = open(o);
  ASSERT_NE(r, nullptr);
  std::vector<std::string> rest;
  while (true) {
    auto e = r->nextEvent();
    if (!e.ok()) break;
    if (typeOf(*e) == kMariaGtidEvent) rest.push_back(mariaGtid(*e));
  }
  EXPECT_EQ(rest, std::vector<std::string>(all.begin() + 4, all.end()));
  // The offset tracked from a GTID start matches the server's end of log.
  auto end = c->query("SHOW MASTER STATUS");
  EXPECT_EQ(r->nextPosition().offset, std::stoull(*end->rows[0][1]));
}

TEST_F(BinlogStreamTest, ResumesFromFileAndOffset) {
  auto c = primary();
  ASSERT_TRUE(c->execute("CREATE DATABASE fp; CREATE TABLE fp.t (id INT PRIMARY KEY)").ok());
  auto o = options();
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c->execute("INSERT INTO fp.t VALUES (" + std::to_string(i) + ")").ok());
  auto first = readUntil(*s, kXidEvent, 2);
  ASSERT_EQ(first.size(), 2u);
  BinlogPosition resume = s->nextPosition();  // right after the 2nd transaction
  auto rest = readUntil(*s, kXidEvent, 3);
  s.reset();

  o.start = BinlogStreamOptions::Start::kFilePosition;
  o.from_position = resume;
  o.stop_at_end = true;
  auto r = open(o);
  ASSERT_NE(r, nullptr);
  std::vector<std::string> again;
  bool first_in_file = true;
  while (true) {
    auto e = r->nextEvent();
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), Status::Code::kNotFound) << e.status().toString();
      break;
    }
    uint8_t t = typeOf(*e);
    if (t == kMariaGtidEvent) {
      if (first_in_file) {
        EXPECT_EQ(r->position(), resume);
      }
      first_in_file = false;
      again.push_back(mariaGtid(*e));
    }
  }
  EXPECT_EQ(again, rest);
}

TEST_F(BinlogStreamTest, ReadsFromASecondaryWithTheSameGtids) {
  auto c = primary();
  std::string start = one(*c, "SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(c->execute("CREATE DATABASE sec; CREATE TABLE sec.t (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(c->execute("INSERT INTO sec.t VALUES (1),(2),(3)").ok());
  cluster_->waitReplicated("node-2");
  auto o = options("node-2");
  o.start = BinlogStreamOptions::Start::kGtid;
  o.from_gtid = start;
  o.stop_at_end = true;
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  std::vector<std::string> gtids;
  int rows = 0;
  while (true) {
    auto e = s->nextEvent();
    if (!e.ok()) break;
    if (typeOf(*e) == kMariaGtidEvent) gtids.push_back(mariaGtid(*e));
    if (typeOf(*e) == kWriteRowsV1 || typeOf(*e) == 30) ++rows;
  }
  ASSERT_EQ(gtids.size(), 3u);  // two DDL + one insert, written by node-1 (server id 1)
  for (const auto& g : gtids) EXPECT_EQ(g.substr(0, 4), "0-1-");
  EXPECT_EQ(rows, 1);
  auto n2 = cluster_->connect(cluster_->nodeEndpoint("node-2"));
  EXPECT_EQ(s->nextPosition().file, *n2->query("SHOW MASTER STATUS")->rows[0][0]);
}

TEST_F(BinlogStreamTest, KilledConnectionIsRetryableAndNamesThePosition) {
  auto o = options();
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  auto c = primary();
  ASSERT_TRUE(c->execute("CREATE DATABASE kil; CREATE TABLE kil.t (id INT PRIMARY KEY)").ok());
  readUntil(*s, kQueryEvent, 2);
  std::string file = s->nextPosition().file;
  EXPECT_EQ(one(*c, "SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = " +
                        std::to_string(s->connectionId())),
            "Binlog Dump");
  ASSERT_TRUE(c->execute("KILL CONNECTION " + std::to_string(s->connectionId())).ok());
  Status st;
  while (true) {
    auto e = s->nextEvent();
    if (!e.ok()) {
      st = e.status();
      break;
    }
  }
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_TRUE(st.isRetryable());
  EXPECT_NE(st.message().find(file + ":" + std::to_string(s->nextPosition().offset)),
            std::string::npos)
      << st.toString();
  EXPECT_NE(st.message().find(cluster_->nodeEndpoint("node-1")), std::string::npos)
      << st.toString();
}

TEST_F(BinlogStreamTest, InterruptStopsABlockedRead) {
  auto s = open(options());
  ASSERT_NE(s, nullptr);
  // Drain the start-of-stream events, then block waiting for more.
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    s->interrupt();
  });
  Status st;
  while (true) {
    auto e = s->nextEvent();
    if (!e.ok()) {
      st = e.status();
      break;
    }
  }
  stopper.join();
  EXPECT_EQ(st.code(), Status::Code::kAborted) << st.toString();
}

TEST_F(BinlogStreamTest, WrongPasswordIsAClearErrorWithoutThePassword) {
  auto o = options();
  o.connection.password = "not-the-password-xyz";
  auto s = BinlogStream::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kFailedPrecondition) << s.status().toString();
  EXPECT_EQ(s.status().message().find("not-the-password-xyz"), std::string::npos);
  EXPECT_EQ(s.status().message().find(cluster_->password()), std::string::npos);
  EXPECT_NE(s.status().message().find("Access denied"), std::string::npos) << s.status().toString();
}

TEST_F(BinlogStreamTest, UnreachableServerIsUnavailable) {
  auto o = options();
  o.connection.endpoint = mysql::Endpoint{"127.0.0.1", 1};
  o.connection.connect_timeout = std::chrono::seconds(2);
  auto s = BinlogStream::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kUnavailable) << s.status().toString();
  EXPECT_TRUE(s.status().isRetryable());
}

TEST_F(BinlogStreamTest, RefusesTheSourcesOwnServerIdAndBadPositions) {
  auto o = options();
  o.server_id = 1;
  EXPECT_EQ(BinlogStream::open(o).status().code(), Status::Code::kInvalidArgument);
  o.server_id = 4242;
  o.start = BinlogStreamOptions::Start::kFilePosition;
  o.from_position = BinlogPosition{"no-such-binlog.000042", 4};
  auto s = BinlogStream::open(o);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  auto e = (*s)->nextEvent();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Status::Code::kFailedPrecondition) << e.status().toString();
  EXPECT_NE(e.status().message().find("no-such-binlog.000042"), std::string::npos)
      << e.status().toString();
}

}  // namespace
}  // namespace dts::testing
