#include "server/kafka_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace dts::server::kafka {
namespace {

std::string hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}
std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// Every message at every version it is modelled for: filled, encoded, decoded and encoded again
// gives the same bytes; every strict prefix of the encoding fails to decode (an error, no crash).
template <typename T>
void roundTripEveryVersion(int16_t key, int16_t lo, int16_t hi) {
  for (int16_t v = lo; v <= hi; ++v) {
    for (uint32_t seed = 1; seed <= 8; ++seed) {
      T m;
      fillForTests(&m, v, seed);
      std::string bytes;
      encode(m, v, &bytes);
      T back;
      ASSERT_TRUE(decode(bytes, v, &back).ok()) << apiName(key) << " v" << v << " seed " << seed;
      std::string again;
      encode(back, v, &again);
      ASSERT_EQ(hex(again), hex(bytes)) << apiName(key) << " v" << v << " seed " << seed;
      if (seed > 2) continue;
      for (size_t n = 0; n < bytes.size(); ++n) {
        T cut;
        Status st = decode(std::string_view(bytes).substr(0, n), v, &cut);
        ASSERT_FALSE(st.ok()) << apiName(key) << " v" << v << " prefix " << n << " of "
                              << bytes.size();
        EXPECT_EQ(st.code(), Status::Code::kCorruption);
      }
    }
  }
}

template <typename Req, typename Resp>
void roundTripApi(int16_t key) {
  auto r = supportedRange(key);
  int16_t lo = r ? r->min : 0, hi = r ? r->max : 8;  // Produce: decoded only to refuse it
  roundTripEveryVersion<Req>(key, lo, hi);
  roundTripEveryVersion<Resp>(key, lo, hi);
}

TEST(KafkaProtocolTest, EveryServedVersionRoundTripsAndEveryTruncationIsAnError) {
  roundTripApi<ApiVersionsRequest, ApiVersionsResponse>(kApiVersions);
  roundTripApi<MetadataRequest, MetadataResponse>(kMetadata);
  roundTripApi<ListOffsetsRequest, ListOffsetsResponse>(kListOffsets);
  roundTripApi<FetchRequest, FetchResponse>(kFetch);
  roundTripApi<FindCoordinatorRequest, FindCoordinatorResponse>(kFindCoordinator);
  roundTripApi<JoinGroupRequest, JoinGroupResponse>(kJoinGroup);
  roundTripApi<SyncGroupRequest, SyncGroupResponse>(kSyncGroup);
  roundTripApi<HeartbeatRequest, HeartbeatResponse>(kHeartbeat);
  roundTripApi<LeaveGroupRequest, LeaveGroupResponse>(kLeaveGroup);
  roundTripApi<OffsetCommitRequest, OffsetCommitResponse>(kOffsetCommit);
  roundTripApi<OffsetFetchRequest, OffsetFetchResponse>(kOffsetFetch);
  roundTripApi<SaslHandshakeRequest, SaslHandshakeResponse>(kSaslHandshake);
  roundTripApi<SaslAuthenticateRequest, SaslAuthenticateResponse>(kSaslAuthenticate);
  roundTripApi<ProduceRequest, ProduceResponse>(kProduce);
}

TEST(KafkaProtocolTest, AdvertisedRangesKeepTheVersionsOldClientsGateOn) {
  // librdkafka 2.0.2 enables a feature only when our range covers the version its table names.
  auto has = [](int16_t key, int16_t v) {
    auto r = supportedRange(key);
    return r && r->min <= v && v <= r->max;
  };
  EXPECT_TRUE(has(kFindCoordinator, 0));
  EXPECT_TRUE(has(kSaslHandshake, 0));
  EXPECT_TRUE(has(kSaslHandshake, 1));
  EXPECT_TRUE(has(kSaslAuthenticate, 0));
  EXPECT_TRUE(has(kListOffsets, 1));
  EXPECT_TRUE(has(kApiVersions, 0));
  EXPECT_TRUE(has(kFetch, 4));         // kafka-python and sarama
  EXPECT_FALSE(has(kOffsetFetch, 6));  // librdkafka would go flexible
  EXPECT_FALSE(supportedRange(kProduce).has_value());
  // Only ApiVersions v3 is flexible among what is served.
  for (const VersionRange& r : supportedApis()) {
    for (int16_t v = r.min; v <= r.max; ++v)
      EXPECT_EQ(isFlexible(r.api_key, v), r.api_key == kApiVersions && v >= 3)
          << apiName(r.api_key) << " v" << v;
  }
}

TEST(KafkaProtocolTest, RequestHeaderV1AndV2) {
  RequestHeader h{kFetch, 11, 7, std::string("rdkafka")};
  std::string bytes = encodeRequestHeader(h);
  EXPECT_EQ(hex(bytes), "0001000b00000007000772646b61666b61");
  bytes += "body";
  RequestHeader back;
  size_t body = 0;
  ASSERT_TRUE(decodeRequestHeader(bytes, &back, &body).ok());
  EXPECT_EQ(back.api_key, kFetch);
  EXPECT_EQ(back.correlation_id, 7);
  EXPECT_EQ(back.client_id, "rdkafka");
  EXPECT_EQ(bytes.substr(body), "body");

  // ApiVersions v3 as librdkafka sends it: header v2 (a tag section after the client id), then
  // compact strings and a tag section in the body.
  std::string v3 = unhex("0012000300000001000772646b61666b6100") + "\x0b" + "librdkafka" + "\x06" +
                   "2.0.2" + std::string(1, '\0');
  ASSERT_TRUE(decodeRequestHeader(v3, &back, &body).ok());
  EXPECT_EQ(back.api_version, 3);
  ApiVersionsRequest req;
  ASSERT_TRUE(decode(std::string_view(v3).substr(body), 3, &req).ok());
  EXPECT_EQ(req.client_software_name, "librdkafka");
  EXPECT_EQ(req.client_software_version, "2.0.2");

  // A null client id (-1) is allowed; a frame too short for the correlation id is an error.
  std::string null_id = unhex("0003000100000009ffff");
  ASSERT_TRUE(decodeRequestHeader(null_id, &back, &body).ok());
  EXPECT_FALSE(back.client_id.has_value());
  for (size_t n = 0; n < 8; ++n)
    EXPECT_FALSE(decodeRequestHeader(null_id.substr(0, n), &back, &body).ok()) << n;
  Status st = decodeRequestHeader(null_id.substr(0, 9), &back, &body);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(back.correlation_id, 9);  // still known, so the error can be answered
  EXPECT_NE(st.message().find("client id"), std::string::npos) << st.message();
}

TEST(KafkaProtocolTest, ApiVersionsV3ResponseIsFlexibleV0IsNot) {
  ApiVersionsResponse r;
  r.api_keys = {{kFetch, 4, 11}};
  std::string v0, v3;
  encode(r, 0, &v0);
  encode(r, 3, &v3);
  EXPECT_EQ(hex(v0),
            "0000"
            "00000001"
            "00010004000b");
  EXPECT_EQ(hex(v3),
            "0000"
            "02"
            "00010004000b00"
            "00000000"
            "00");
}

TEST(KafkaProtocolTest, UnsupportedVersionBodyIsKip511) {
  EXPECT_EQ(hex(unsupportedVersionBody()),
            "0023"
            "00000001"
            "001200000003");
  std::string frame = responseFrame(5, "ab");
  EXPECT_EQ(hex(frame),
            "00000006"
            "00000005"
            "6162");
}

TEST(KafkaProtocolTest, HostileLengthsAreRefusedBeforeAllocating) {
  // Fetch v4 with a topic count of 2^31-1 in a 20-byte body.
  std::string b = unhex(
      "ffffffff"
      "000001f4"
      "00000001"
      "00100000"
      "00"
      "7fffffff");
  FetchRequest f;
  Status st = decode(b, 4, &f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("FetchRequest v4"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("byte"), std::string::npos) << st.message();
  // A string length below -1.
  SaslHandshakeRequest h;
  EXPECT_FALSE(decode(unhex("fffe"), 0, &h).ok());
  // A compact length varint longer than 32 bits.
  ApiVersionsRequest a;
  EXPECT_FALSE(decode(unhex("ffffffffff7f"), 3, &a).ok());
}

TEST(KafkaProtocolTest, RecordBatchMatchesKafkaPythonByteForByte) {
  // Built by kafka-python 2.0.2's DefaultRecordBatchBuilder (magic 2, uncompressed) with the
  // same three records; its CRC-32C is what consumers with check.crcs verify.
  const std::string want =
      "0000000000000000000000620000000002e1aed6520000000000020000018bcfe568000000018bcfe56805"
      "ffffffffffffffffffffffffffff0000000316000000010a626567696e002e000002046b311e7b226f70223a"
      "22696e73657274227d0018000a04010c636f6d6d697400";
  std::vector<sink::LogRecord> recs = {{0, 1700000000000, "", "begin"},
                                       {1, 1700000000000, "k1", "{\"op\":\"insert\"}"},
                                       {2, 1700000000005, "", "commit"}};
  std::string got;
  encodeRecordBatch(recs, &got);
  EXPECT_EQ(hex(got), want);

  auto back = decodeRecordBatches(got);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[1].key, "k1");
  EXPECT_EQ((*back)[2].timestamp_ms, 1700000000005);
  EXPECT_EQ((*back)[2].value, "commit");
}

TEST(KafkaProtocolTest, RecordBatchOffsetsAndCorruptionAreDetected) {
  std::vector<sink::LogRecord> recs;
  for (int64_t i = 0; i < 50; ++i)
    recs.push_back({1000 + i, 1700000000000 + i * 7, i % 3 ? "key" + std::to_string(i) : "",
                    std::string(static_cast<size_t>(i * 13), 'v')});
  std::string bytes;
  encodeRecordBatch({recs.begin(), recs.begin() + 20}, &bytes);
  encodeRecordBatch({recs.begin() + 20, recs.end()}, &bytes);
  auto back = decodeRecordBatches(bytes);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  ASSERT_EQ(back->size(), recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ((*back)[i].offset, recs[i].offset);
    EXPECT_EQ((*back)[i].timestamp_ms, recs[i].timestamp_ms);
    EXPECT_EQ((*back)[i].key, recs[i].key);
    EXPECT_EQ((*back)[i].value, recs[i].value);
  }
  for (size_t pos : {size_t{30}, size_t{70}, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[pos] ^= 0x01;
    auto r = decodeRecordBatches(bad);
    EXPECT_FALSE(r.ok()) << pos;
  }
  for (size_t n = 1; n < bytes.size(); n += 17)
    EXPECT_FALSE(decodeRecordBatches(bytes.substr(0, n)).ok()) << n;
}

// An encoded view's placeholder (sink::LogRecord::placeholder) is no record but the batch's last
// offset, so that clients continue after the records the view left out.
TEST(KafkaProtocolTest, PlaceholderEndsTheBatchWithoutARecord) {
  auto be32 = [](const std::string& b, size_t at) {
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
           (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
  };
  constexpr size_t kLastOffsetDelta = 8 + 4 + 4 + 1 + 4 + 2;
  constexpr size_t kRecordCount = kLastOffsetDelta + 4 + 8 + 8 + 8 + 2 + 4;
  std::vector<sink::LogRecord> recs = {{1, 1700000000000, "k", "one"},
                                       {4, 1700000000000, "k", "four"},
                                       {8, 1700000000000, "", "", /*placeholder=*/true}};
  std::string bytes;
  encodeRecordBatch(recs, &bytes);
  EXPECT_EQ(be32(bytes, kLastOffsetDelta), 7u);  // offset 8 - base offset 1
  EXPECT_EQ(be32(bytes, kRecordCount), 2u);
  auto back = decodeRecordBatches(bytes);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].offset, 1);
  EXPECT_EQ((*back)[1].offset, 4);
  EXPECT_EQ((*back)[1].value, "four");

  std::string only;
  encodeRecordBatch({{8, 1700000000000, "", "", true}}, &only);
  EXPECT_EQ(be32(only, kRecordCount), 0u);
  auto none = decodeRecordBatches(only);
  ASSERT_TRUE(none.ok()) << none.status().toString();
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace dts::server::kafka
