// KafkaListener over real loopback sockets and the in-memory log, driven by a raw client built on
// the codec (the real clients run in tests/kafka_test.cc).
#include "server/kafka_listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "common/loopback_socket_for_tests.h"
#include "server/kafka_memory_log_for_tests.h"
#include "server/kafka_protocol.h"

// GCC 12 reports std::optional<Response> members as maybe-uninitialized after ASSERT_TRUE(r)
// (a known false positive with optional and inlined vectors).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace dts::server {
namespace {

namespace k = kafka;
const std::string kToken = "secret-token";

// The Kafka protocol spoken by hand: frames, request headers, raw bytes.
class RawClient : public testing::LoopbackSocket {
 public:
  using LoopbackSocket::LoopbackSocket;

  void sendRaw(const std::string& bytes) { ASSERT_TRUE(send(bytes)); }
  void sendFrame(const std::string& payload) {
    std::string frame;
    uint32_t n = htonl(static_cast<uint32_t>(payload.size()));
    frame.append(reinterpret_cast<const char*>(&n), 4);
    frame += payload;
    ASSERT_TRUE(send(frame));
  }
  void sendRequest(int16_t key, int16_t version, const std::string& body) {
    sendFrame(k::encodeRequestHeader({key, version, ++correlation_, std::string("raw")}) + body);
  }
  // The next frame's payload; nullopt when the server closed the connection (or 5 s passed).
  std::optional<std::string> recvFrame() {
    char size[4];
    if (!readN(size, 4)) return std::nullopt;
    uint32_t n;
    std::memcpy(&n, size, 4);
    std::string payload(ntohl(n), '\0');
    if (!readN(payload.data(), payload.size())) return std::nullopt;
    return payload;
  }
  template <typename Resp, typename Req>
  std::optional<Resp> call(int16_t key, int16_t version, const Req& req) {
    std::string body;
    k::encode(req, version, &body);
    sendRequest(key, version, body);
    auto frame = recvFrame();
    if (!frame) return std::nullopt;
    int32_t corr = static_cast<int32_t>(ntohl(*reinterpret_cast<const uint32_t*>(frame->data())));
    EXPECT_EQ(corr, correlation_);
    Resp resp;
    Status st = k::decode(std::string_view(*frame).substr(4), version, &resp);
    EXPECT_TRUE(st.ok()) << st.toString();
    return resp;
  }
  bool authenticate(const std::string& password) {
    auto h = call<k::SaslHandshakeResponse>(k::kSaslHandshake, 1, k::SaslHandshakeRequest{"PLAIN"});
    if (!h || h->error_code != 0) return false;
    auto a = call<k::SaslAuthenticateResponse>(
        k::kSaslAuthenticate, 1, k::SaslAuthenticateRequest{std::string("\0user\0", 6) + password});
    return a && a->error_code == 0;
  }
  bool closedByServer() {
    pollfd p{fd(), POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    char c;
    return ::recv(fd(), &c, 1, 0) == 0;
  }

 private:
  bool readN(char* out, size_t n) {
    size_t got = 0;
    while (got < n) {
      pollfd p{fd(), POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return false;
      ssize_t r = ::recv(fd(), out + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  int32_t correlation_ = 0;
};

class KafkaListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dts_kafka_listener_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    log_ = std::make_shared<MemoryChangeLog>();
    for (int i = 0; i < 10; ++i)
      log_->append("k" + std::to_string(i), "value " + std::to_string(i), 1000 + i * 100);
  }
  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }
  KafkaListenerOptions options() {
    return listenerOptionsForTests(log_, "orders", kToken, (dir_ / "kafka-offsets.db").string());
  }
  void start(KafkaListenerOptions o) {
    auto l = KafkaListener::start(std::move(o));
    ASSERT_TRUE(l.ok()) << l.status().toString();
    listener_ = std::move(*l);
  }
  void start() { start(options()); }
  std::unique_ptr<RawClient> client(bool auth = true) {
    auto c = std::make_unique<RawClient>(listener_->port());
    EXPECT_TRUE(c->connected());
    if (auth) {
      EXPECT_TRUE(c->authenticate(kToken));
    }
    return c;
  }
  static k::FetchRequest fetchAt(int64_t offset, int32_t max_wait_ms) {
    k::FetchRequest f;
    f.max_wait_ms = max_wait_ms;
    f.min_bytes = 1;
    f.max_bytes = 1 << 20;
    f.topics = {{"orders", {{0, -1, offset, -1, 1 << 20}}}};
    return f;
  }

  std::filesystem::path dir_;
  std::shared_ptr<MemoryChangeLog> log_;
  std::unique_ptr<KafkaListener> listener_;
};

TEST_F(KafkaListenerTest, ApiVersionsBeforeAuthAndUnsupportedVersionIsKip511) {
  start();
  auto c = client(false);
  for (int16_t v = 0; v <= 3; ++v) {
    auto r = c->call<k::ApiVersionsResponse>(k::kApiVersions, v, k::ApiVersionsRequest{"t", "1"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_code, 0);
    EXPECT_EQ(r->api_keys.size(), k::supportedApis().size());
  }
  // v4: answered in the v0 shape with UNSUPPORTED_VERSION and our ApiVersions range.
  c->sendRequest(k::kApiVersions, 4, std::string(1, '\0'));
  auto frame = c->recvFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->substr(4), k::unsupportedVersionBody());
  // An unknown API key (after authenticating): the same error, the connection stays usable.
  EXPECT_TRUE(c->authenticate(kToken));
  c->sendRequest(99, 0, "");
  frame = c->recvFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->substr(4), k::unsupportedVersionBody());
  EXPECT_TRUE(c->call<k::MetadataResponse>(k::kMetadata, 1, k::MetadataRequest{}));
}

TEST_F(KafkaListenerTest, SaslIsRequiredAndAWrongPasswordIsRefused) {
  start();
  {
    auto c = client(false);  // Metadata before authenticating: closed
    c->sendRequest(k::kMetadata, 1, std::string("\xff\xff\xff\xff", 4));
    EXPECT_TRUE(c->closedByServer());
  }
  {
    auto c = client(false);
    auto h =
        c->call<k::SaslHandshakeResponse>(k::kSaslHandshake, 1, k::SaslHandshakeRequest{"PLAIN"});
    ASSERT_TRUE(h);
    EXPECT_EQ(h->mechanisms, std::vector<std::string>{"PLAIN"});
    auto a = c->call<k::SaslAuthenticateResponse>(
        k::kSaslAuthenticate, 0, k::SaslAuthenticateRequest{std::string("\0u\0wrong", 8)});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error_code, k::kSaslAuthenticationFailed);
    EXPECT_TRUE(c->closedByServer());
  }
  {
    auto c = client(false);  // an unknown mechanism
    auto h = c->call<k::SaslHandshakeResponse>(k::kSaslHandshake, 1,
                                               k::SaslHandshakeRequest{"SCRAM-SHA-256"});
    ASSERT_TRUE(h);
    EXPECT_EQ(h->error_code, k::kUnsupportedSaslMechanism);
    EXPECT_TRUE(c->closedByServer());
  }
  // Handshake v0: the raw token follows in its own frame; success is an empty frame.
  for (const std::string& pw : {kToken, std::string("nope")}) {
    auto c = client(false);
    auto h =
        c->call<k::SaslHandshakeResponse>(k::kSaslHandshake, 0, k::SaslHandshakeRequest{"PLAIN"});
    ASSERT_TRUE(h);
    EXPECT_EQ(h->error_code, 0);
    c->sendFrame(std::string("\0anyone\0", 8) + pw);
    if (pw == kToken) {
      auto f = c->recvFrame();
      ASSERT_TRUE(f);
      EXPECT_TRUE(f->empty());
      auto m = c->call<k::MetadataResponse>(k::kMetadata, 0, k::MetadataRequest{});
      ASSERT_TRUE(m);
      ASSERT_EQ(m->topics.size(), 1u);
    } else {
      EXPECT_TRUE(c->closedByServer());
    }
  }
}

TEST_F(KafkaListenerTest, MetadataListsTopicsAndAdvertisesTheReachedAddress) {
  start();
  auto c = client();
  auto all = c->call<k::MetadataResponse>(k::kMetadata, 5, k::MetadataRequest{std::nullopt, true});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->brokers.size(), 1u);
  EXPECT_EQ(all->brokers[0].host, "127.0.0.1");
  EXPECT_EQ(all->brokers[0].port, listener_->port());
  ASSERT_EQ(all->topics.size(), 1u);
  EXPECT_EQ(all->topics[0].name, "orders");
  ASSERT_EQ(all->topics[0].partitions.size(), 1u);
  EXPECT_EQ(all->topics[0].partitions[0].leader_id, 0);
  auto some = c->call<k::MetadataResponse>(
      k::kMetadata, 1, k::MetadataRequest{std::vector<std::string>{"orders", "nope"}, true});
  ASSERT_TRUE(some);
  ASSERT_EQ(some->topics.size(), 2u);
  EXPECT_EQ(some->topics[1].error_code, k::kUnknownTopicOrPartition);
  auto none = c->call<k::MetadataResponse>(k::kMetadata, 1,
                                           k::MetadataRequest{std::vector<std::string>{}, true});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->topics.empty());
  auto coord = c->call<k::FindCoordinatorResponse>(k::kFindCoordinator, 0,
                                                   k::FindCoordinatorRequest{"g", 0});
  ASSERT_TRUE(coord);
  EXPECT_EQ(coord->port, listener_->port());
}

TEST_F(KafkaListenerTest, ListOffsetsAndFetchEveryRecordInOrder) {
  start();
  auto c = client();
  auto offsets = [&](int64_t ts, int16_t v = 1) {
    k::ListOffsetsRequest q;
    q.topics = {{"orders", {{0, ts, 1}}}};
    auto r = c->call<k::ListOffsetsResponse>(k::kListOffsets, v, q);
    EXPECT_TRUE(r);
    return r->topics.at(0).partitions.at(0);
  };
  EXPECT_EQ(offsets(-2).offset, 0);
  EXPECT_EQ(offsets(-1).offset, 10);
  EXPECT_EQ(offsets(1250).offset, 3);  // first record at or after 1250 ms is 1300 ms
  EXPECT_EQ(offsets(1250).timestamp, 1300);
  EXPECT_EQ(offsets(99999).offset, -1);  // none at or after: -1, as Kafka
  EXPECT_EQ(offsets(-1, 0).old_style_offsets, std::vector<int64_t>{10});

  for (int16_t v = 4; v <= 11; ++v) {
    int64_t next = 0;
    while (next < 10) {
      auto r = c->call<k::FetchResponse>(k::kFetch, v, fetchAt(next, 100));
      ASSERT_TRUE(r);
      const auto& p = r->responses.at(0).partitions.at(0);
      ASSERT_EQ(p.error_code, 0);
      EXPECT_EQ(p.high_watermark, 10);
      auto recs = k::decodeRecordBatches(p.records.value_or(""));
      ASSERT_TRUE(recs.ok()) << recs.status().toString();
      ASSERT_FALSE(recs->empty());
      for (const auto& rec : *recs) {
        EXPECT_EQ(rec.offset, next);
        EXPECT_EQ(rec.value, "value " + std::to_string(next));
        ++next;
      }
    }
  }
  auto out = c->call<k::FetchResponse>(k::kFetch, 11, fetchAt(11, 0));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->responses[0].partitions[0].error_code, k::kOffsetOutOfRange);
  log_->dropBefore(4);
  out = c->call<k::FetchResponse>(k::kFetch, 11, fetchAt(2, 0));
  EXPECT_EQ(out->responses[0].partitions[0].error_code, k::kOffsetOutOfRange);
  EXPECT_EQ(out->responses[0].partitions[0].log_start_offset, 4);
  k::FetchRequest unknown = fetchAt(0, 0);
  unknown.topics[0].topic = "nope";
  out = c->call<k::FetchResponse>(k::kFetch, 4, unknown);
  EXPECT_EQ(out->responses[0].partitions[0].error_code, k::kUnknownTopicOrPartition);
}

TEST_F(KafkaListenerTest, FetchLongPollsUntilARecordIsAppended) {
  start();
  auto c = client();
  auto t0 = std::chrono::steady_clock::now();
  auto empty = c->call<k::FetchResponse>(k::kFetch, 11, fetchAt(10, 300));
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->responses[0].partitions[0].records->empty());
  EXPECT_GE(waited, std::chrono::milliseconds(250));

  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    log_->append("late", "appended while waiting", 5000);
  });
  t0 = std::chrono::steady_clock::now();
  auto r = c->call<k::FetchResponse>(k::kFetch, 11, fetchAt(10, 10000));
  waited = std::chrono::steady_clock::now() - t0;
  writer.join();
  ASSERT_TRUE(r);
  auto recs = k::decodeRecordBatches(*r->responses[0].partitions[0].records);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].value, "appended while waiting");
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(KafkaListenerTest, MalformedRequestsAreAnsweredAndFramingErrorsClose) {
  start();
  auto c = client();
  // A Fetch v11 body cut short: INVALID_REQUEST, and the connection keeps working.
  std::string body;
  k::encode(fetchAt(0, 0), 11, &body);
  c->sendRequest(k::kFetch, 11, body.substr(0, 20));
  auto frame = c->recvFrame();
  ASSERT_TRUE(frame);
  k::FetchResponse r;
  ASSERT_TRUE(k::decode(std::string_view(*frame).substr(4), 11, &r).ok());
  EXPECT_EQ(r.error_code, k::kInvalidRequest);
  // Produce: refused per partition.
  k::ProduceRequest p;
  p.acks = 1;
  p.topics = {{"orders", {{0, std::string("x")}}}};
  auto pr = c->call<k::ProduceResponse>(k::kProduce, 3, p);
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->responses.at(0).partitions.at(0).error_code, k::kUnsupportedVersion);
  auto m = c->call<k::MetadataResponse>(k::kMetadata, 0, k::MetadataRequest{});
  ASSERT_TRUE(m);
  // A frame too short for a header: framing is lost, the connection closes.
  c->sendFrame("abc");
  EXPECT_TRUE(c->closedByServer());
  // A size above max_request_bytes closes too (nothing is allocated for it).
  auto big = client();
  big->sendRaw(std::string("\x20\x00\x00\x00", 4));  // 512 MiB
  EXPECT_TRUE(big->closedByServer());
}

}  // namespace
}  // namespace dts::server

namespace dts::server {
namespace {

TEST_F(KafkaListenerTest, ConnectionsAboveTheLimitAreRefused) {
  auto o = options();
  o.max_connections = 2;
  start(o);
  auto a = client();
  auto b = client();
  RawClient third(listener_->port());
  EXPECT_TRUE(third.closedByServer());
  a.reset();
  for (int i = 0; i < 50 && listener_->connectionCount() > 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto again = client();  // room again once one closed
  EXPECT_TRUE(again->call<k::MetadataResponse>(k::kMetadata, 1, k::MetadataRequest{}));
}

k::JoinGroupRequest joinRequest(const std::string& group, const std::string& member,
                                int32_t session_ms = 10000) {
  k::JoinGroupRequest j;
  j.group_id = group;
  j.session_timeout_ms = session_ms;
  j.rebalance_timeout_ms = 5000;
  j.member_id = member;
  j.protocol_type = "consumer";
  j.protocols = {{"range", "meta-of-" + (member.empty() ? std::string("new") : member)}};
  return j;
}

TEST_F(KafkaListenerTest, GroupJoinSyncCommitAndResumeAcrossRestart) {
  start();
  auto a = client();
  auto join = a->call<k::JoinGroupResponse>(k::kJoinGroup, 5, joinRequest("g1", ""));
  ASSERT_TRUE(join);
  ASSERT_EQ(join->error_code, 0);
  EXPECT_EQ(join->leader, join->member_id);
  ASSERT_EQ(join->members.size(), 1u);
  const std::string member_a = join->member_id;
  int32_t gen = join->generation_id;
  k::SyncGroupRequest sync{"g1", gen, member_a, std::nullopt, {{member_a, "assignment-a"}}};
  auto s = a->call<k::SyncGroupResponse>(k::kSyncGroup, 3, sync);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->assignment, "assignment-a");

  // A second member joins: the first learns of the rebalance through its heartbeat and rejoins.
  auto b = client();
  std::optional<k::JoinGroupResponse> join_b;
  std::thread tb([&] {
    RawClient& cb = *b;
    join_b = cb.call<k::JoinGroupResponse>(k::kJoinGroup, 2, joinRequest("g1", ""));
  });
  int16_t hb = 0;
  for (int i = 0; i < 250 && hb != k::kRebalanceInProgress; ++i) {
    auto h = a->call<k::HeartbeatResponse>(k::kHeartbeat, 3,
                                           k::HeartbeatRequest{"g1", gen, member_a, std::nullopt});
    hb = h->error_code;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(hb, k::kRebalanceInProgress);
  auto rejoin = a->call<k::JoinGroupResponse>(k::kJoinGroup, 5, joinRequest("g1", member_a));
  tb.join();
  ASSERT_TRUE(rejoin && join_b);
  EXPECT_EQ(rejoin->generation_id, join_b->generation_id);
  EXPECT_EQ(rejoin->leader, member_a);  // the oldest member stays leader
  EXPECT_EQ(rejoin->members.size(), 2u);
  EXPECT_TRUE(join_b->members.empty());
  gen = rejoin->generation_id;
  std::optional<k::SyncGroupResponse> sync_b;
  std::thread tsb([&] {
    sync_b = b->call<k::SyncGroupResponse>(
        k::kSyncGroup, 1, k::SyncGroupRequest{"g1", gen, join_b->member_id, std::nullopt, {}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // b waits for the leader
  s = a->call<k::SyncGroupResponse>(
      k::kSyncGroup, 1, k::SyncGroupRequest{"g1", gen, member_a, std::nullopt, {{member_a, "A"}}});
  tsb.join();
  EXPECT_EQ(s->assignment, "A");
  ASSERT_TRUE(sync_b);
  EXPECT_EQ(sync_b->assignment.size(), 10u);  // an encoded empty assignment, never zero bytes

  // Commits: a stale generation is refused, the current one stored with its metadata.
  k::OffsetCommitRequest commit;
  commit.group_id = "g1";
  commit.generation_id = gen - 1;
  commit.member_id = member_a;
  commit.topics = {{"orders", {{0, 7, -1, -1, std::string("meta")}}}};
  auto cr = a->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
  EXPECT_EQ(cr->topics[0].partitions[0].error_code, k::kIllegalGeneration);
  commit.generation_id = gen;
  cr = a->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
  EXPECT_EQ(cr->topics[0].partitions[0].error_code, 0);
  auto left =
      a->call<k::LeaveGroupResponse>(k::kLeaveGroup, 1, k::LeaveGroupRequest{"g1", member_a});
  EXPECT_EQ(left->error_code, 0);

  a.reset();
  b.reset();
  listener_.reset();
  start();  // the committed offsets survive a restart
  auto c = client();
  auto f = c->call<k::OffsetFetchResponse>(
      k::kOffsetFetch, 1,
      k::OffsetFetchRequest{"g1", std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->topics.at(0).partitions.at(0).committed_offset, 7);
  EXPECT_EQ(f->topics[0].partitions[0].metadata, "meta");
  auto all = c->call<k::OffsetFetchResponse>(k::kOffsetFetch, 5,
                                             k::OffsetFetchRequest{"g1", std::nullopt});
  ASSERT_EQ(all->topics.size(), 1u);
  auto never = c->call<k::OffsetFetchResponse>(
      k::kOffsetFetch, 3,
      k::OffsetFetchRequest{"other", std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
  EXPECT_EQ(never->topics.at(0).partitions.at(0).committed_offset, -1);
  EXPECT_EQ(never->topics[0].partitions[0].error_code, 0);
}

TEST_F(KafkaListenerTest, TwentyGroupsAreIndependentAndSilentMembersAreEvicted) {
  start();
  auto c = client();
  for (int g = 0; g < 20; ++g) {
    const std::string group = "group-" + std::to_string(g);
    auto j = c->call<k::JoinGroupResponse>(k::kJoinGroup, 5, joinRequest(group, "", 1000));
    ASSERT_EQ(j->error_code, 0) << group;
    EXPECT_EQ(j->generation_id, 1) << group;  // no other group's members count
    k::OffsetCommitRequest commit;
    commit.group_id = group;
    commit.generation_id = j->generation_id;
    commit.member_id = j->member_id;
    commit.topics = {{"orders", {{0, g / 2, -1, -1, std::nullopt}}}};  // 0-9: the log's offsets
    auto cr = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 7, commit);
    ASSERT_EQ(cr->topics[0].partitions[0].error_code, 0) << group;
  }
  for (int g = 0; g < 20; ++g) {
    auto f = c->call<k::OffsetFetchResponse>(
        k::kOffsetFetch, 5,
        k::OffsetFetchRequest{"group-" + std::to_string(g),
                              std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
    EXPECT_EQ(f->topics.at(0).partitions.at(0).committed_offset, g / 2);
  }
  // Nobody heartbeats: after the 1 s session timeout every member is gone, and a simple commit
  // (generation -1, as after assign()) is accepted again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  k::OffsetCommitRequest simple;
  simple.group_id = "group-3";
  simple.topics = {{"orders", {{0, 9, -1, -1, std::nullopt}}}};
  auto cr = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, simple);
  EXPECT_EQ(cr->topics[0].partitions[0].error_code, 0);
}

}  // namespace
}  // namespace dts::server

namespace dts::server {
namespace {

// A consumer group's token (server/group_tokens.h) as the SASL password: its task's topic and its
// group only, every refusal with the protocol's authorization error codes.
TEST_F(KafkaListenerTest, GroupTokenScopeRefusesOtherTopicsAndGroups) {
  const std::string group_token = "dtsg_" + std::string(64, 'a');
  auto secret = std::make_shared<MemoryChangeLog>();
  secret->append("", "secret", 1000);
  KafkaListenerOptions o = options();
  o.lookup = [this, secret](const std::string& t) -> std::shared_ptr<const sink::ChangeLogReader> {
    if (t == "orders") return log_;
    if (t == "secret") return secret;
    return nullptr;
  };
  o.topics = [] { return std::vector<std::string>{"orders", "secret"}; };
  auto revoked = std::make_shared<std::atomic<bool>>(false);
  o.group_token = [group_token,
                   revoked](const std::string& password) -> std::optional<GroupTokenScope> {
    if (password != group_token || revoked->load()) return std::nullopt;
    return GroupTokenScope{"orders", "g"};
  };
  start(std::move(o));
  auto c = client(false);
  ASSERT_TRUE(c->authenticate(group_token));

  auto all = c->call<k::MetadataResponse>(k::kMetadata, 5, k::MetadataRequest{std::nullopt, true});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->topics.size(), 1u);
  EXPECT_EQ(all->topics[0].name, "orders");
  auto named = c->call<k::MetadataResponse>(
      k::kMetadata, 1, k::MetadataRequest{std::vector<std::string>{"secret"}, true});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->topics.at(0).error_code, k::kTopicAuthorizationFailed);

  k::ListOffsetsRequest q;
  q.topics = {{"secret", {{0, -2, 1}}}, {"orders", {{0, -1, 1}}}};
  auto offsets = c->call<k::ListOffsetsResponse>(k::kListOffsets, 1, q);
  ASSERT_TRUE(offsets);
  EXPECT_EQ(offsets->topics.at(0).partitions.at(0).error_code, k::kTopicAuthorizationFailed);
  EXPECT_EQ(offsets->topics.at(1).partitions.at(0).offset, 10);
  k::FetchRequest f = fetchAt(0, 0);
  f.topics.push_back({"secret", {{0, -1, 0, -1, 1 << 20}}});
  auto fetched = c->call<k::FetchResponse>(k::kFetch, 11, f);
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_FALSE(fetched->responses.at(0).partitions.at(0).records->empty());
  EXPECT_EQ(fetched->responses.at(1).partitions.at(0).error_code, k::kTopicAuthorizationFailed);

  auto coordinator = c->call<k::FindCoordinatorResponse>(k::kFindCoordinator, 2,
                                                         k::FindCoordinatorRequest{"other", 0});
  EXPECT_EQ(coordinator->error_code, k::kGroupAuthorizationFailed);
  coordinator = c->call<k::FindCoordinatorResponse>(k::kFindCoordinator, 2,
                                                    k::FindCoordinatorRequest{"g", 0});
  EXPECT_EQ(coordinator->error_code, 0);
  auto join = c->call<k::JoinGroupResponse>(k::kJoinGroup, 5, joinRequest("other", ""));
  EXPECT_EQ(join->error_code, k::kGroupAuthorizationFailed);
  auto beat = c->call<k::HeartbeatResponse>(k::kHeartbeat, 3,
                                            k::HeartbeatRequest{"other", 1, "m", std::nullopt});
  EXPECT_EQ(beat->error_code, k::kGroupAuthorizationFailed);
  auto leave =
      c->call<k::LeaveGroupResponse>(k::kLeaveGroup, 1, k::LeaveGroupRequest{"other", "m"});
  EXPECT_EQ(leave->error_code, k::kGroupAuthorizationFailed);

  k::OffsetCommitRequest commit;
  commit.group_id = "other";
  commit.topics = {{"orders", {{0, 3, -1, -1, std::nullopt}}}};
  auto refused = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
  EXPECT_EQ(refused->topics.at(0).partitions.at(0).error_code, k::kGroupAuthorizationFailed);
  commit.group_id = "g";
  commit.topics = {{"secret", {{0, 1, -1, -1, std::nullopt}}},
                   {"orders", {{0, 3, -1, -1, std::nullopt}}}};
  auto mixed = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
  EXPECT_EQ(mixed->topics.at(0).partitions.at(0).error_code, k::kTopicAuthorizationFailed);
  EXPECT_EQ(mixed->topics.at(1).partitions.at(0).error_code, 0);
  auto other_fetch = c->call<k::OffsetFetchResponse>(
      k::kOffsetFetch, 5,
      k::OffsetFetchRequest{"other", std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
  EXPECT_EQ(other_fetch->error_code, k::kGroupAuthorizationFailed);
  auto own = c->call<k::OffsetFetchResponse>(
      k::kOffsetFetch, 5,
      k::OffsetFetchRequest{"g", std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
  EXPECT_EQ(own->topics.at(0).partitions.at(0).committed_offset, 3);

  // The API token is not limited; a wrong password is refused as before.
  auto admin = client();
  auto everything =
      admin->call<k::MetadataResponse>(k::kMetadata, 5, k::MetadataRequest{std::nullopt, true});
  EXPECT_EQ(everything->topics.size(), 2u);
  auto wrong = client(false);
  EXPECT_FALSE(wrong->authenticate("dtsg_" + std::string(64, 'b')));

  // Revoked: the connection that used it is closed at a request once the scope is checked again
  // (every 5 s), and the token no longer authenticates.
  revoked->store(true);
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = !c->call<k::MetadataResponse>(k::kMetadata, 1, k::MetadataRequest{}).has_value();
    if (!closed) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(closed);
  EXPECT_FALSE(client(false)->authenticate(group_token));
}

// Connections that never authenticate (a port scan, a flood of idle sockets, a request cut in
// the middle) neither keep their place past auth_timeout nor keep a consumer out at the limit.
TEST_F(KafkaListenerTest, UnauthenticatedConnectionsNeverLockConsumersOut) {
  auto o = options();
  o.max_connections = 4;
  o.auth_timeout = std::chrono::milliseconds(800);
  start(o);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<RawClient>(listener_->port()));
  auto cut = std::make_unique<RawClient>(listener_->port());
  cut->sendRaw(std::string("\x00\x00\x00\x64", 4) + "0123456789");  // 100 bytes announced
  for (int i = 0; i < 50 && listener_->connectionCount() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(listener_->connectionCount(), 4u);
  // At the limit: a consumer gets in (the oldest unauthenticated connection makes room).
  auto consumer = client();
  EXPECT_TRUE(consumer->call<k::MetadataResponse>(k::kMetadata, 1, k::MetadataRequest{}));
  // The others are closed once their time to authenticate is over; the consumer stays.
  for (auto& c : idle) EXPECT_TRUE(c->closedByServer());
  EXPECT_TRUE(cut->closedByServer());
  EXPECT_TRUE(consumer->call<k::MetadataResponse>(k::kMetadata, 1, k::MetadataRequest{}));
  for (int i = 0; i < 50 && listener_->connectionCount() > 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(listener_->connectionCount(), 1u);
}

// The log names each peer by its own address and port (not ":0").
TEST_F(KafkaListenerTest, TheLogNamesThePeersAddressAndPort) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  spdlog::default_logger()->sinks().push_back(sink);
  start();
  {
    auto c = client(false);  // Metadata before authenticating: logged, closed
    c->sendRequest(k::kMetadata, 1, std::string("\xff\xff\xff\xff", 4));
    EXPECT_TRUE(c->closedByServer());
    const std::string want = "kafka: 127.0.0.1:" + std::to_string(c->localPort()) + ": ";
    bool found = false;
    for (const auto& line : sink->last_formatted())
      found = found || line.find(want) != std::string::npos;
    EXPECT_TRUE(found) << want;
  }
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
}

// Fetch: a negative max_bytes is INVALID_REQUEST; the record batches a response holds stay within
// max_fetch_bytes and the limits asked for, framing included (at least one record, KIP-74).
TEST_F(KafkaListenerTest, FetchSizeLimitsAreValidatedAndHold) {
  auto o = options();
  o.max_fetch_bytes = 150;
  start(o);
  auto c = client();
  k::FetchRequest f = fetchAt(0, 0);
  f.topics[0].partitions[0].partition_max_bytes = -100;
  auto r = c->call<k::FetchResponse>(k::kFetch, 11, f);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->responses.at(0).partitions.at(0).error_code, k::kInvalidRequest);
  EXPECT_EQ(r->responses[0].partitions[0].records.value_or("").size(), 0u);
  f = fetchAt(0, 0);
  f.max_bytes = -1;
  r = c->call<k::FetchResponse>(k::kFetch, 11, f);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->responses.at(0).partitions.at(0).error_code, k::kInvalidRequest);
  // The cap (150 bytes): ten records of 9 bytes of key and value are 90 bytes as read() counts
  // them, about 230 as a record batch.
  r = c->call<k::FetchResponse>(k::kFetch, 11, fetchAt(0, 0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->responses.at(0).partitions.at(0).error_code, 0);
  size_t size = r->responses[0].partitions[0].records.value_or("").size();
  EXPECT_GT(size, 0u);
  EXPECT_LE(size, 150u);
  // A partition's own limit below one record: still one record.
  f = fetchAt(3, 0);
  f.topics[0].partitions[0].partition_max_bytes = 10;
  r = c->call<k::FetchResponse>(k::kFetch, 11, f);
  ASSERT_TRUE(r);
  EXPECT_GT(r->responses.at(0).partitions.at(0).records.value_or("").size(), 0u);
}

// A limit of 0 (the request's or the partition's) is a limit, not "none": one record (KIP-74),
// where it was answered with up to max_fetch_bytes (64 MiB).
TEST_F(KafkaListenerTest, AZeroFetchLimitGivesOneRecord) {
  start();
  auto c = client();
  auto records_in = [](const k::FetchResponse& r) {
    const std::string batch = r.responses.at(0).partitions.at(0).records.value_or("");
    if (batch.size() < 61) return -1;
    // RecordBatch: lastOffsetDelta (int32, big-endian) at byte 23.
    const auto* b = reinterpret_cast<const unsigned char*>(batch.data()) + 23;
    return static_cast<int>((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                            (uint32_t{b[2]} << 8) | b[3]) +
           1;
  };
  for (auto [request, partition] :
       {std::pair<int32_t, int32_t>{0, 0}, {0, 1 << 20}, {1 << 20, 0}}) {
    k::FetchRequest f = fetchAt(0, 0);
    f.max_bytes = request;
    f.topics[0].partitions[0].partition_max_bytes = partition;
    auto r = c->call<k::FetchResponse>(k::kFetch, 11, f);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->responses.at(0).partitions.at(0).error_code, 0);
    EXPECT_EQ(records_in(*r), 1) << request << " " << partition;
  }
  auto all = c->call<k::FetchResponse>(k::kFetch, 11, fetchAt(0, 0));
  ASSERT_TRUE(all);
  EXPECT_EQ(records_in(*all), 10);
}

// OffsetCommit takes an offset of the log only (0 to its end), as the HTTP commit does.
TEST_F(KafkaListenerTest, OffsetCommitOutsideTheLogIsOffsetOutOfRange) {
  start();
  auto c = client();
  auto commitAt = [&](int64_t offset) {
    k::OffsetCommitRequest commit;
    commit.group_id = "g";
    commit.topics = {{"orders", {{0, offset, -1, -1, std::nullopt}}}};
    auto r = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
    return r ? r->topics.at(0).partitions.at(0).error_code : int16_t{-100};
  };
  EXPECT_EQ(commitAt(1000000000000), k::kOffsetOutOfRange);
  EXPECT_EQ(commitAt(11), k::kOffsetOutOfRange);  // the end is 10
  EXPECT_EQ(commitAt(-5), k::kOffsetOutOfRange);
  EXPECT_EQ(commitAt(10), 0);
  auto f = c->call<k::OffsetFetchResponse>(
      k::kOffsetFetch, 1,
      k::OffsetFetchRequest{"g", std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->topics.at(0).partitions.at(0).committed_offset, 10);
}

// A group id the HTTP API could not name (not UTF-8, NUL, a slash or space, too long, empty) is
// INVALID_GROUP_ID in every group request, and nothing of it is stored: the API's task status,
// group list and /metrics show only names they can show.
TEST_F(KafkaListenerTest, GroupIdsTheApiCannotNameAreInvalidGroupId) {
  start();
  auto c = client();
  for (const std::string& bad : {std::string("bad\xff\x00utf", 8), std::string("a/b c"),
                                 std::string(250, 'g'), std::string("x\ny"), std::string()}) {
    SCOPED_TRACE(bad);
    auto coordinator = c->call<k::FindCoordinatorResponse>(k::kFindCoordinator, 2,
                                                           k::FindCoordinatorRequest{bad, 0});
    ASSERT_TRUE(coordinator);
    EXPECT_EQ(coordinator->error_code, k::kInvalidGroupId);
    auto join = c->call<k::JoinGroupResponse>(k::kJoinGroup, 5, joinRequest(bad, ""));
    EXPECT_EQ(join->error_code, k::kInvalidGroupId);
    k::SyncGroupRequest sync_request;
    sync_request.group_id = bad;
    sync_request.generation_id = 1;
    sync_request.member_id = "m";
    auto sync = c->call<k::SyncGroupResponse>(k::kSyncGroup, 1, sync_request);
    EXPECT_EQ(sync->error_code, k::kInvalidGroupId);
    auto beat = c->call<k::HeartbeatResponse>(k::kHeartbeat, 3,
                                              k::HeartbeatRequest{bad, 1, "m", std::nullopt});
    EXPECT_EQ(beat->error_code, k::kInvalidGroupId);
    auto leave = c->call<k::LeaveGroupResponse>(k::kLeaveGroup, 1, k::LeaveGroupRequest{bad, "m"});
    EXPECT_EQ(leave->error_code, k::kInvalidGroupId);
    k::OffsetCommitRequest commit;
    commit.group_id = bad;
    commit.topics = {{"orders", {{0, 3, -1, -1, std::nullopt}}}};
    auto committed = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
    EXPECT_EQ(committed->topics.at(0).partitions.at(0).error_code, k::kInvalidGroupId);
    auto fetched = c->call<k::OffsetFetchResponse>(
        k::kOffsetFetch, 5,
        k::OffsetFetchRequest{bad, std::vector<k::OffsetFetchRequest::Topic>{{"orders", {0}}}});
    EXPECT_EQ(fetched->error_code, k::kInvalidGroupId);
  }
  {
    auto store = k::OffsetStore::open((dir_ / "kafka-offsets.db").string());
    ASSERT_TRUE(store.ok()) << store.status().toString();
    auto stored = (*store)->groupsOf({"orders"});
    ASSERT_TRUE(stored.ok()) << stored.status().toString();
    EXPECT_TRUE(stored->empty());
  }
  // The longest and the odd-but-valid names still work.
  for (const std::string& good : {std::string(249, 'g'), std::string("app.v2_consumer-1")}) {
    k::OffsetCommitRequest commit;
    commit.group_id = good;
    commit.topics = {{"orders", {{0, 3, -1, -1, std::nullopt}}}};
    auto committed = c->call<k::OffsetCommitResponse>(k::kOffsetCommit, 2, commit);
    EXPECT_EQ(committed->topics.at(0).partitions.at(0).error_code, 0) << good;
  }
}

// A malformed Produce is answered like any malformed request (an empty response: Produce has no
// error code outside its partitions), and the connection stays open.
TEST_F(KafkaListenerTest, MalformedProduceIsAnsweredAndTheConnectionStays) {
  start();
  auto c = client();
  k::ProduceRequest p;
  p.acks = 1;
  p.topics = {{"orders", {{0, std::string("x")}}}};
  std::string body;
  k::encode(p, 3, &body);
  c->sendRequest(k::kProduce, 3, body.substr(0, body.size() - 3));
  auto frame = c->recvFrame();
  ASSERT_TRUE(frame);
  k::ProduceResponse r;
  ASSERT_TRUE(k::decode(std::string_view(*frame).substr(4), 3, &r).ok());
  EXPECT_TRUE(r.responses.empty());
  EXPECT_TRUE(c->call<k::MetadataResponse>(k::kMetadata, 1, k::MetadataRequest{}));
}

}  // namespace
}  // namespace dts::server

namespace dts::server {
namespace {

// A port another process listens on is refused (no SO_REUSEPORT: the two would share it).
TEST_F(KafkaListenerTest, APortInUseIsRefused) {
  start();
  KafkaListenerOptions o = options();
  o.listen = "127.0.0.1:" + std::to_string(listener_->port());
  o.offsets_db = (dir_ / "second-offsets.db").string();
  auto second = KafkaListener::start(std::move(o));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().toString();
}

}  // namespace
}  // namespace dts::server
