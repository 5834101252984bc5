// Kafka wire protocol: the request and response messages a consumer needs, and record batch v2.
// https://kafka.apache.org/protocol.html ; field layouts per version from Kafka's
// clients/src/main/resources/common/message/*.json ; record batches:
// https://kafka.apache.org/documentation/#recordbatch . Which versions Debian's clients send:
// ../shared/research/kafka-protocol.md.
//
// Every message is described once, by a function template over an "IO" that either decodes or
// encodes (kafka_protocol.cc), so a request's decoder and encoder (tests, fuzzing) cannot
// disagree. All integers are big-endian; flexible versions use compact strings/arrays (uvarint
// length + 1) and tagged-field sections, which the decoder skips and the encoder writes empty.
//
// Decoding is bounds-checked: bytes from the network are untrusted. A truncated or malformed
// message is an error (kCorruption) naming the message, its version and the byte offset; an array
// whose count exceeds the bytes left is refused before anything is allocated. Bytes after the last
// field are ignored (as Kafka does).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sink/change_log_reader.h"

namespace dts::server::kafka {

// Error codes (org.apache.kafka.common.protocol.Errors).
enum ErrorCode : int16_t {
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kIllegalGeneration = 22,
  kInconsistentGroupProtocol = 23,
  kInvalidGroupId = 24,
  kUnknownMemberId = 25,
  kInvalidSessionTimeout = 26,
  kRebalanceInProgress = 27,
  kTopicAuthorizationFailed = 29,
  kGroupAuthorizationFailed = 30,
  kUnsupportedSaslMechanism = 33,
  kIllegalSaslState = 34,
  kUnsupportedVersion = 35,
  kInvalidRequest = 42,
  kSaslAuthenticationFailed = 58,
};

enum ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kSaslHandshake = 17,
  kApiVersions = 18,
  kSaslAuthenticate = 36,
};

// "Fetch", "JoinGroup", ...; "api key N" for keys this file does not model.
std::string apiName(int16_t api_key);

struct VersionRange {
  int16_t api_key;
  int16_t min;
  int16_t max;
};
// What the listener serves and advertises in ApiVersions (the research note's section 3).
const std::vector<VersionRange>& supportedApis();
// The range served for api_key; nullopt when the key is not served at all.
std::optional<VersionRange> supportedRange(int16_t api_key);
// True when (api_key, version) uses the flexible encoding (KIP-482).
bool isFlexible(int16_t api_key, int16_t version);

// Request header v1 (v2 for flexible requests: a tagged-field section after client_id).
struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
};
// Decodes the header at the start of a request frame (the bytes after the 4-byte size) and sets
// *body_offset to where the body starts. Only api_key, api_version and correlation_id are needed
// to answer; when the rest fails to decode, the error says so and *header keeps those three.
Status decodeRequestHeader(std::string_view frame, RequestHeader* header, size_t* body_offset);
// The inverse (tests and the fuzz target).
std::string encodeRequestHeader(const RequestHeader& header);

// A topic and its partitions, as most messages nest them.
template <typename Partition>
struct NamedTopic {
  std::string name;
  std::vector<Partition> partitions;
};

// ---- messages (field names follow Kafka's JSON schemas; comments give the versions that have
// them)

struct ApiVersionsRequest {
  std::string client_software_name;  // v3+
  std::string client_software_version;
};
struct ApiVersionsResponse {
  int16_t error_code = 0;
  std::vector<VersionRange> api_keys;
  int32_t throttle_time_ms = 0;  // v1+
};

struct MetadataRequest {
  std::optional<std::vector<std::string>> topics;  // v0: empty = all; v1+: null = all
  bool allow_auto_topic_creation = true;           // v4+
};
struct MetadataResponse {
  struct Broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;  // v1+
  };
  struct Partition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;  // v5+
  };
  struct Topic {
    int16_t error_code = 0;
    std::string name;
    bool is_internal = false;  // v1+
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  int32_t controller_id = -1;             // v1+
  std::vector<Topic> topics;
};

struct ListOffsetsRequest {
  struct Partition {
    int32_t partition_index = 0;
    int64_t timestamp = 0;        // -1 latest, -2 earliest, else ms
    int32_t max_num_offsets = 1;  // v0
  };
  using Topic = NamedTopic<Partition>;
  int32_t replica_id = -1;
  int8_t isolation_level = 0;  // v2+
  std::vector<Topic> topics;
};
struct ListOffsetsResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    std::vector<int64_t> old_style_offsets;  // v0
    int64_t timestamp = -1;                  // v1+
    int64_t offset = -1;                     // v1+
  };
  using Topic = NamedTopic<Partition>;
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
};

struct FetchRequest {
  struct Partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;  // v9+
    int64_t fetch_offset = 0;
    int64_t log_start_offset = -1;  // v5+
    int32_t partition_max_bytes = 0;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  struct Forgotten {
    std::string topic;
    std::vector<int32_t> partitions;
  };
  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;  // v3+
  int8_t isolation_level = 0;      // v4+
  int32_t session_id = 0;          // v7+
  int32_t session_epoch = -1;      // v7+
  std::vector<Topic> topics;
  std::vector<Forgotten> forgotten_topics_data;  // v7+
  std::string rack_id;                           // v11+
};
struct FetchResponse {
  struct Aborted {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
  };
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;                           // v4+
    int64_t log_start_offset = -1;                             // v5+
    std::optional<std::vector<Aborted>> aborted_transactions;  // v4+
    int32_t preferred_read_replica = -1;                       // v11+
    std::optional<std::string> records;                        // record batches
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;        // v7+
  int32_t session_id = 0;        // v7+
  std::vector<Topic> responses;
};

struct FindCoordinatorRequest {
  std::string key;
  int8_t key_type = 0;  // v1+: 0 group, 1 transaction
};
struct FindCoordinatorResponse {
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::optional<std::string> error_message;  // v1+
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
};

struct JoinGroupRequest {
  struct Protocol {
    std::string name;
    std::string metadata;
  };
  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // v1+ (v0: the session timeout)
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v5+
  std::string protocol_type;
  std::vector<Protocol> protocols;
};
struct JoinGroupResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v5+
    std::string metadata;
  };
  int32_t throttle_time_ms = 0;  // v2+
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<Member> members;
};

struct SyncGroupRequest {
  struct Assignment {
    std::string member_id;
    std::string assignment;
  };
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::vector<Assignment> assignments;
};
struct SyncGroupResponse {
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::string assignment;
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
};
struct HeartbeatResponse {
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
};

struct LeaveGroupRequest {  // v0..2
  std::string group_id;
  std::string member_id;
};
struct LeaveGroupResponse {
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
};

struct OffsetCommitRequest {
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;  // v6+
    int64_t commit_timestamp = -1;        // v1 only
    std::optional<std::string> committed_metadata;
  };
  using Topic = NamedTopic<Partition>;
  std::string group_id;
  int32_t generation_id = -1;                    // v1+
  std::string member_id;                         // v1+
  std::optional<std::string> group_instance_id;  // v7+
  int64_t retention_time_ms = -1;                // v2..4
  std::vector<Topic> topics;
};
struct OffsetCommitResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
  };
  using Topic = NamedTopic<Partition>;
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;
};

struct OffsetFetchRequest {
  struct Topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
  };
  std::string group_id;
  std::optional<std::vector<Topic>> topics;  // v2+: null = every committed partition
};
struct OffsetFetchResponse {
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = -1;
    int32_t committed_leader_epoch = -1;  // v5+
    std::optional<std::string> metadata;
    int16_t error_code = 0;
  };
  using Topic = NamedTopic<Partition>;
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;
  int16_t error_code = 0;  // v2+
};

struct SaslHandshakeRequest {
  std::string mechanism;
};
struct SaslHandshakeResponse {
  int16_t error_code = 0;
  std::vector<std::string> mechanisms;
};

struct SaslAuthenticateRequest {
  std::string auth_bytes;
};
struct SaslAuthenticateResponse {
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  std::string auth_bytes;
  int64_t session_lifetime_ms = 0;  // v1+
};

// Produce is not served (topics are read-only); it is decoded so that it can be answered with an
// error per partition instead of a dropped connection.
struct ProduceRequest {
  struct Partition {
    int32_t index = 0;
    std::optional<std::string> records;
  };
  using Topic = NamedTopic<Partition>;
  std::optional<std::string> transactional_id;  // v3+
  int16_t acks = -1;                            // 0: the client expects no response
  int32_t timeout_ms = 0;
  std::vector<Topic> topics;
};
struct ProduceResponse {
  struct Partition {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = -1;
    int64_t log_append_time_ms = -1;           // v2+
    int64_t log_start_offset = -1;             // v5+
    std::optional<std::string> error_message;  // v8+ (with an empty record_errors)
  };
  using Topic = NamedTopic<Partition>;
  std::vector<Topic> responses;
  int32_t throttle_time_ms = 0;  // v1+ (after the topics)
};

// Each message type's API key, and decode/encode at a version. REQUIRES for encode: the version is
// one this file models (supportedRange, or Produce 0..8). Responses are decoded only by tests.
// clang-format off: one message per line (clang-format 14 folds this list differently each run)
#define DTS_KAFKA_MESSAGES(X)                    \
  X(ApiVersionsRequest, kApiVersions)            \
  X(ApiVersionsResponse, kApiVersions)           \
  X(MetadataRequest, kMetadata)                  \
  X(MetadataResponse, kMetadata)                 \
  X(ListOffsetsRequest, kListOffsets)            \
  X(ListOffsetsResponse, kListOffsets)           \
  X(FetchRequest, kFetch)                        \
  X(FetchResponse, kFetch)                       \
  X(FindCoordinatorRequest, kFindCoordinator)    \
  X(FindCoordinatorResponse, kFindCoordinator)   \
  X(JoinGroupRequest, kJoinGroup)                \
  X(JoinGroupResponse, kJoinGroup)               \
  X(SyncGroupRequest, kSyncGroup)                \
  X(SyncGroupResponse, kSyncGroup)               \
  X(HeartbeatRequest, kHeartbeat)                \
  X(HeartbeatResponse, kHeartbeat)               \
  X(LeaveGroupRequest, kLeaveGroup)              \
  X(LeaveGroupResponse, kLeaveGroup)             \
  X(OffsetCommitRequest, kOffsetCommit)          \
  X(OffsetCommitResponse, kOffsetCommit)         \
  X(OffsetFetchRequest, kOffsetFetch)            \
  X(OffsetFetchResponse, kOffsetFetch)           \
  X(SaslHandshakeRequest, kSaslHandshake)        \
  X(SaslHandshakeResponse, kSaslHandshake)       \
  X(SaslAuthenticateRequest, kSaslAuthenticate)  \
  X(SaslAuthenticateResponse, kSaslAuthenticate) \
  X(ProduceRequest, kProduce)                    \
  X(ProduceResponse, kProduce)
// clang-format on

// fillForTests sets every field the version has to a value drawn from seed (arrays of 1 or 2
// elements, nullable fields sometimes null): round-trip tests and the fuzz target use it.
#define DTS_KAFKA_DECLARE(Type, key)                                   \
  Status decode(std::string_view bytes, int16_t version, Type* out);   \
  void encode(const Type& message, int16_t version, std::string* out); \
  void fillForTests(Type* message, int16_t version, uint32_t seed);
DTS_KAFKA_MESSAGES(DTS_KAFKA_DECLARE)
#undef DTS_KAFKA_DECLARE

// A whole response frame: int32 size, response header v0 (the correlation id), then body.
std::string responseFrame(int32_t correlation_id, std::string_view body);

// The body answering a request for an API or version that is not served: an ApiVersions v0
// response with UNSUPPORTED_VERSION and the ApiVersions range (KIP-511: clients retry ApiVersions
// at a version we have; other APIs are only sent at advertised versions by negotiating clients,
// and read the leading int16 as the error).
std::string unsupportedVersionBody();

// ---- record batch v2

// Encodes records (ascending offsets, gaps allowed) as one uncompressed record batch v2 with its
// CRC-32C: base offset = the first record's, base timestamp its timestamp, an empty key as a null
// key; the last offset delta is the last element's, so a placeholder there (LogRecord::
// placeholder: not written as a record) moves the client past the records an encoded view left
// out. Appends to *out. REQUIRES: records non-empty.
void encodeRecordBatch(const std::vector<sink::LogRecord>& records, std::string* out);

// Decodes every record batch v2 in bytes (a Fetch response's records), checking each batch's
// CRC-32C; only uncompressed batches (what encodeRecordBatch writes). Errors name the batch's
// byte offset. A null key decodes as "".
Result<std::vector<sink::LogRecord>> decodeRecordBatches(std::string_view bytes);

}  // namespace dts::server::kafka
