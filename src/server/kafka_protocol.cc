#include "server/kafka_protocol.h"

#include <algorithm>
#include <limits>

#include "common/byte_reader.h"
#include "common/crc32.h"

namespace dts::server::kafka {

std::string apiName(int16_t api_key) {
  switch (api_key) {
    case kProduce: return "Produce";
    case kFetch: return "Fetch";
    case kListOffsets: return "ListOffsets";
    case kMetadata: return "Metadata";
    case kOffsetCommit: return "OffsetCommit";
    case kOffsetFetch: return "OffsetFetch";
    case kFindCoordinator: return "FindCoordinator";
    case kJoinGroup: return "JoinGroup";
    case kHeartbeat: return "Heartbeat";
    case kLeaveGroup: return "LeaveGroup";
    case kSyncGroup: return "SyncGroup";
    case kSaslHandshake: return "SaslHandshake";
    case kApiVersions: return "ApiVersions";
    case kSaslAuthenticate: return "SaslAuthenticate";
    default: return "api key " + std::to_string(api_key);
  }
}

const std::vector<VersionRange>& supportedApis() {
  // Every minimum is 0 on purpose: librdkafka 2.0.2 turns features off when a range misses the
  // single old version its feature table names (research note, section 2), and it ignored our
  // Fetch 4..11 and OffsetFetch 1..5 entries altogether (its "Broker API support" list left them
  // out and it then sent Fetch v0, failing locally). Fetch v0-3 get record batch v2 like the
  // rest: consumers pick the format by the magic byte.
  static const std::vector<VersionRange> kApis = {
      {kFetch, 0, 11},           {kListOffsets, 0, 2},   {kMetadata, 0, 5},
      {kOffsetCommit, 0, 7},     {kOffsetFetch, 0, 5},   {kFindCoordinator, 0, 2},
      {kJoinGroup, 0, 5},        {kHeartbeat, 0, 3},     {kLeaveGroup, 0, 2},
      {kSyncGroup, 0, 3},        {kSaslHandshake, 0, 1}, {kApiVersions, 0, 3},
      {kSaslAuthenticate, 0, 1},
  };
  return kApis;
}

std::optional<VersionRange> supportedRange(int16_t api_key) {
  for (const VersionRange& r : supportedApis()) {
    if (r.api_key == api_key) return r;
  }
  return std::nullopt;
}

bool isFlexible(int16_t api_key, int16_t version) {
  int16_t first;  // the first flexible version of each API (KIP-482)
  switch (api_key) {
    case kProduce: first = 9; break;
    case kFetch: first = 12; break;
    case kListOffsets: first = 6; break;
    case kMetadata: first = 9; break;
    case kOffsetCommit: first = 8; break;
    case kOffsetFetch: first = 6; break;
    case kFindCoordinator: first = 3; break;
    case kJoinGroup: first = 6; break;
    case kHeartbeat: first = 4; break;
    case kLeaveGroup: first = 4; break;
    case kSyncGroup: first = 4; break;
    case kApiVersions: first = 3; break;
    case kSaslAuthenticate: first = 2; break;
    default: return false;  // SaslHandshake never; unknown keys are never decoded
  }
  return version >= first;
}

namespace {

// Reads one message at one version. Errors are sticky: after the first failure every read leaves
// its field untouched and arrays come out empty, and the caller reports where it failed.
class Decoder {
 public:
  Decoder(std::string_view bytes, int16_t version, bool flexible)
      : in_(bytes), version_(version), flexible_(flexible) {}

  static constexpr bool kDecoding = true;
  int16_t version() const { return version_; }
  bool failed() const { return failed_; }
  size_t failedAt() const { return failed_at_; }
  size_t position() const { return in_.position(); }
  size_t size() const { return in_.data().size(); }

  void i8(int8_t& v) { v = static_cast<int8_t>(be(1, v)); }
  void i16(int16_t& v) { v = static_cast<int16_t>(be(2, v)); }
  void i32(int32_t& v) { v = static_cast<int32_t>(be(4, v)); }
  void i64(int64_t& v) { v = static_cast<int64_t>(be(8, v)); }
  void boolean(bool& v) {
    int8_t b = v ? 1 : 0;
    i8(b);
    v = b != 0;
  }

  void str(std::string& v) {
    std::optional<std::string> s;
    nstr(s);
    if (s)
      v = std::move(*s);
    else if (!failed_)
      v.clear();  // null where not nullable: lenient, read as ""
  }
  void nstr(std::optional<std::string>& v) { lengthPrefixed(v, /*int32_length=*/false); }
  void bytes(std::string& v) {
    std::optional<std::string> s;
    nbytes(s);
    if (s)
      v = std::move(*s);
    else if (!failed_)
      v.clear();
  }
  void nbytes(std::optional<std::string>& v) { lengthPrefixed(v, /*int32_length=*/true); }

  template <typename T, typename F>
  void array(std::vector<T>& v, F&& each) {
    std::optional<std::vector<T>> a;
    narray(a, each);
    v = a ? std::move(*a) : std::vector<T>{};
  }
  template <typename T, typename F>
  void narray(std::optional<std::vector<T>>& v, F&& each) {
    int64_t n = length(/*int32_length=*/true);
    if (failed_ || n < 0) {
      v.reset();
      return;
    }
    // Every element takes at least one byte: a count above what is left is malformed, and is
    // refused before anything is allocated.
    if (static_cast<uint64_t>(n) > in_.remaining()) return fail();
    v.emplace();
    v->resize(static_cast<size_t>(n));
    for (T& e : *v) {
      each(e);
      if (failed_) return;
    }
  }

  // A tagged-field section (flexible versions): every field is skipped.
  void tags() {
    if (!flexible_ || failed_) return;
    uint64_t count = uvarint();
    for (uint64_t i = 0; i < count && !failed_; ++i) {
      uvarint();  // tag
      uint64_t size = uvarint();
      if (!failed_ && !in_.skip(size)) fail();
    }
  }

 private:
  void fail() {
    if (!failed_) failed_at_ = in_.position();
    failed_ = true;
  }
  template <typename T>
  uint64_t be(size_t n, T keep) {
    uint64_t x = 0;
    if (failed_) return static_cast<uint64_t>(keep);
    if (!in_.getUintBE(n, &x)) {
      fail();
      return static_cast<uint64_t>(keep);
    }
    return x;
  }
  uint64_t uvarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      uint8_t b;
      if (failed_ || !in_.getU8(&b)) {
        fail();
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (v > 0xffffffffu) break;
        return v;
      }
    }
    fail();  // more than 32 bits
    return 0;
  }
  // A length prefix: -1 (or compact 0) is null.
  int64_t length(bool int32_length) {
    if (flexible_) {
      uint64_t n = uvarint();
      return failed_ ? -1 : static_cast<int64_t>(n) - 1;
    }
    if (int32_length) {
      int32_t n = 0;
      i32(n);
      if (!failed_ && n < -1) fail();
      return failed_ ? -1 : n;
    }
    int16_t n = 0;
    i16(n);
    if (!failed_ && n < -1) fail();
    return failed_ ? -1 : n;
  }
  void lengthPrefixed(std::optional<std::string>& v, bool int32_length) {
    if (failed_) return;
    int64_t n = length(int32_length);
    if (failed_) return;
    if (n < 0) {
      v.reset();
      return;
    }
    std::string_view s;
    if (!in_.getBytes(static_cast<size_t>(n), &s)) return fail();
    v = std::string(s);
  }

  ByteReader in_;
  int16_t version_;
  bool flexible_;
  bool failed_ = false;
  size_t failed_at_ = 0;
};

void putBE(std::string* out, uint64_t v, size_t n) {
  for (size_t i = n; i-- > 0;) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void putVarlong(std::string* out, int64_t v) {
  putUvarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// Writes one message at one version; the pair of Decoder (same calls, same order).
class Encoder {
 public:
  Encoder(std::string* out, int16_t version, bool flexible)
      : out_(out), version_(version), flexible_(flexible) {}

  static constexpr bool kDecoding = false;
  int16_t version() const { return version_; }

  void i8(const int8_t& v) { putBE(out_, static_cast<uint8_t>(v), 1); }
  void i16(const int16_t& v) { putBE(out_, static_cast<uint16_t>(v), 2); }
  void i32(const int32_t& v) { putBE(out_, static_cast<uint32_t>(v), 4); }
  void i64(const int64_t& v) { putBE(out_, static_cast<uint64_t>(v), 8); }
  void boolean(const bool& v) { out_->push_back(v ? 1 : 0); }
  void str(const std::string& v) { put(&v, false); }
  void nstr(const std::optional<std::string>& v) { put(v ? &*v : nullptr, false); }
  void bytes(const std::string& v) { put(&v, true); }
  void nbytes(const std::optional<std::string>& v) { put(v ? &*v : nullptr, true); }

  template <typename T, typename F>
  void array(std::vector<T>& v, F&& each) {
    length(static_cast<int64_t>(v.size()), true);
    for (T& e : v) each(e);
  }
  template <typename T, typename F>
  void narray(std::optional<std::vector<T>>& v, F&& each) {
    if (!v) return length(-1, true);
    array(*v, each);
  }
  void tags() {
    if (flexible_) out_->push_back(0);
  }

 private:
  void length(int64_t n, bool int32_length) {
    if (flexible_) return putUvarint(out_, static_cast<uint64_t>(n + 1));
    putBE(out_, static_cast<uint64_t>(n), int32_length ? 4 : 2);
  }
  void put(const std::string* s, bool int32_length) {
    if (s == nullptr) return length(-1, int32_length);
    length(static_cast<int64_t>(s->size()), int32_length);
    out_->append(*s);
  }

  std::string* out_;
  int16_t version_;
  bool flexible_;
};

template <typename IO>
void int32s(IO& io, std::vector<int32_t>& v) {
  io.array(v, [&](int32_t& x) { io.i32(x); });
}

// ---- one description per message; `if (v >= N)` mirrors "versions": "N+" in Kafka's JSON.

template <typename IO>
void describe(IO& io, ApiVersionsRequest& m) {
  if (io.version() >= 3) {
    io.str(m.client_software_name);
    io.str(m.client_software_version);
  }
  io.tags();
}
template <typename IO>
void describe(IO& io, ApiVersionsResponse& m) {
  io.i16(m.error_code);
  io.array(m.api_keys, [&](VersionRange& r) {
    io.i16(r.api_key);
    io.i16(r.min);
    io.i16(r.max);
    io.tags();
  });
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.tags();
}

template <typename IO>
void describe(IO& io, MetadataRequest& m) {
  const int16_t v = io.version();
  if (v == 0) {
    std::vector<std::string> topics = m.topics.value_or(std::vector<std::string>{});
    io.array(topics, [&](std::string& t) { io.str(t); });
    if (IO::kDecoding) m.topics = std::move(topics);
  } else {
    io.narray(m.topics, [&](std::string& t) { io.str(t); });
  }
  if (v >= 4) io.boolean(m.allow_auto_topic_creation);
}
template <typename IO>
void describe(IO& io, MetadataResponse& m) {
  const int16_t v = io.version();
  if (v >= 3) io.i32(m.throttle_time_ms);
  io.array(m.brokers, [&](MetadataResponse::Broker& b) {
    io.i32(b.node_id);
    io.str(b.host);
    io.i32(b.port);
    if (v >= 1) io.nstr(b.rack);
  });
  if (v >= 2) io.nstr(m.cluster_id);
  if (v >= 1) io.i32(m.controller_id);
  io.array(m.topics, [&](MetadataResponse::Topic& t) {
    io.i16(t.error_code);
    io.str(t.name);
    if (v >= 1) io.boolean(t.is_internal);
    io.array(t.partitions, [&](MetadataResponse::Partition& p) {
      io.i16(p.error_code);
      io.i32(p.partition_index);
      io.i32(p.leader_id);
      int32s(io, p.replica_nodes);
      int32s(io, p.isr_nodes);
      if (v >= 5) int32s(io, p.offline_replicas);
    });
  });
}

template <typename IO>
void describe(IO& io, ListOffsetsRequest& m) {
  const int16_t v = io.version();
  io.i32(m.replica_id);
  if (v >= 2) io.i8(m.isolation_level);
  io.array(m.topics, [&](ListOffsetsRequest::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](ListOffsetsRequest::Partition& p) {
      io.i32(p.partition_index);
      io.i64(p.timestamp);
      if (v == 0) io.i32(p.max_num_offsets);
    });
  });
}
template <typename IO>
void describe(IO& io, ListOffsetsResponse& m) {
  const int16_t v = io.version();
  if (v >= 2) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](ListOffsetsResponse::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](ListOffsetsResponse::Partition& p) {
      io.i32(p.partition_index);
      io.i16(p.error_code);
      if (v == 0) {
        io.array(p.old_style_offsets, [&](int64_t& o) { io.i64(o); });
      } else {
        io.i64(p.timestamp);
        io.i64(p.offset);
      }
    });
  });
}

template <typename IO>
void describe(IO& io, FetchRequest& m) {
  const int16_t v = io.version();
  io.i32(m.replica_id);
  io.i32(m.max_wait_ms);
  io.i32(m.min_bytes);
  if (v >= 3) io.i32(m.max_bytes);
  if (v >= 4) io.i8(m.isolation_level);
  if (v >= 7) {
    io.i32(m.session_id);
    io.i32(m.session_epoch);
  }
  io.array(m.topics, [&](FetchRequest::Topic& t) {
    io.str(t.topic);
    io.array(t.partitions, [&](FetchRequest::Partition& p) {
      io.i32(p.partition);
      if (v >= 9) io.i32(p.current_leader_epoch);
      io.i64(p.fetch_offset);
      if (v >= 5) io.i64(p.log_start_offset);
      io.i32(p.partition_max_bytes);
    });
  });
  if (v >= 7) {
    io.array(m.forgotten_topics_data, [&](FetchRequest::Forgotten& f) {
      io.str(f.topic);
      int32s(io, f.partitions);
    });
  }
  if (v >= 11) io.str(m.rack_id);
}
template <typename IO>
void describe(IO& io, FetchResponse& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  if (v >= 7) {
    io.i16(m.error_code);
    io.i32(m.session_id);
  }
  io.array(m.responses, [&](FetchResponse::Topic& t) {
    io.str(t.topic);
    io.array(t.partitions, [&](FetchResponse::Partition& p) {
      io.i32(p.partition_index);
      io.i16(p.error_code);
      io.i64(p.high_watermark);
      if (v >= 4) io.i64(p.last_stable_offset);
      if (v >= 5) io.i64(p.log_start_offset);
      if (v >= 4) {
        io.narray(p.aborted_transactions, [&](FetchResponse::Aborted& a) {
          io.i64(a.producer_id);
          io.i64(a.first_offset);
        });
      }
      if (v >= 11) io.i32(p.preferred_read_replica);
      io.nbytes(p.records);
    });
  });
}

template <typename IO>
void describe(IO& io, FindCoordinatorRequest& m) {
  io.str(m.key);
  if (io.version() >= 1) io.i8(m.key_type);
}
template <typename IO>
void describe(IO& io, FindCoordinatorResponse& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  io.i16(m.error_code);
  if (v >= 1) io.nstr(m.error_message);
  io.i32(m.node_id);
  io.str(m.host);
  io.i32(m.port);
}

template <typename IO>
void describe(IO& io, JoinGroupRequest& m) {
  const int16_t v = io.version();
  io.str(m.group_id);
  io.i32(m.session_timeout_ms);
  if (v >= 1) io.i32(m.rebalance_timeout_ms);
  io.str(m.member_id);
  if (v >= 5) io.nstr(m.group_instance_id);
  io.str(m.protocol_type);
  io.array(m.protocols, [&](JoinGroupRequest::Protocol& p) {
    io.str(p.name);
    io.bytes(p.metadata);
  });
}
template <typename IO>
void describe(IO& io, JoinGroupResponse& m) {
  const int16_t v = io.version();
  if (v >= 2) io.i32(m.throttle_time_ms);
  io.i16(m.error_code);
  io.i32(m.generation_id);
  io.str(m.protocol_name);
  io.str(m.leader);
  io.str(m.member_id);
  io.array(m.members, [&](JoinGroupResponse::Member& e) {
    io.str(e.member_id);
    if (v >= 5) io.nstr(e.group_instance_id);
    io.bytes(e.metadata);
  });
}

template <typename IO>
void describe(IO& io, SyncGroupRequest& m) {
  io.str(m.group_id);
  io.i32(m.generation_id);
  io.str(m.member_id);
  if (io.version() >= 3) io.nstr(m.group_instance_id);
  io.array(m.assignments, [&](SyncGroupRequest::Assignment& a) {
    io.str(a.member_id);
    io.bytes(a.assignment);
  });
}
template <typename IO>
void describe(IO& io, SyncGroupResponse& m) {
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.i16(m.error_code);
  io.bytes(m.assignment);
}

template <typename IO>
void describe(IO& io, HeartbeatRequest& m) {
  io.str(m.group_id);
  io.i32(m.generation_id);
  io.str(m.member_id);
  if (io.version() >= 3) io.nstr(m.group_instance_id);
}
template <typename IO>
void describe(IO& io, HeartbeatResponse& m) {
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.i16(m.error_code);
}

template <typename IO>
void describe(IO& io, LeaveGroupRequest& m) {
  io.str(m.group_id);
  io.str(m.member_id);
}
template <typename IO>
void describe(IO& io, LeaveGroupResponse& m) {
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.i16(m.error_code);
}

template <typename IO>
void describe(IO& io, OffsetCommitRequest& m) {
  const int16_t v = io.version();
  io.str(m.group_id);
  if (v >= 1) {
    io.i32(m.generation_id);
    io.str(m.member_id);
  }
  if (v >= 7) io.nstr(m.group_instance_id);
  if (v >= 2 && v <= 4) io.i64(m.retention_time_ms);
  io.array(m.topics, [&](OffsetCommitRequest::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](OffsetCommitRequest::Partition& p) {
      io.i32(p.partition_index);
      io.i64(p.committed_offset);
      if (v >= 6) io.i32(p.committed_leader_epoch);
      if (v == 1) io.i64(p.commit_timestamp);
      io.nstr(p.committed_metadata);
    });
  });
}
template <typename IO>
void describe(IO& io, OffsetCommitResponse& m) {
  if (io.version() >= 3) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](OffsetCommitResponse::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](OffsetCommitResponse::Partition& p) {
      io.i32(p.partition_index);
      io.i16(p.error_code);
    });
  });
}

template <typename IO>
void describe(IO& io, OffsetFetchRequest& m) {
  io.str(m.group_id);
  auto topic = [&](OffsetFetchRequest::Topic& t) {
    io.str(t.name);
    int32s(io, t.partition_indexes);
  };
  if (io.version() >= 2) {
    io.narray(m.topics, topic);
  } else {
    std::vector<OffsetFetchRequest::Topic> topics =
        m.topics.value_or(std::vector<OffsetFetchRequest::Topic>{});
    io.array(topics, topic);
    if (IO::kDecoding) m.topics = std::move(topics);
  }
}
template <typename IO>
void describe(IO& io, OffsetFetchResponse& m) {
  const int16_t v = io.version();
  if (v >= 3) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](OffsetFetchResponse::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](OffsetFetchResponse::Partition& p) {
      io.i32(p.partition_index);
      io.i64(p.committed_offset);
      if (v >= 5) io.i32(p.committed_leader_epoch);
      io.nstr(p.metadata);
      io.i16(p.error_code);
    });
  });
  if (v >= 2) io.i16(m.error_code);
}

template <typename IO>
void describe(IO& io, SaslHandshakeRequest& m) {
  io.str(m.mechanism);
}
template <typename IO>
void describe(IO& io, SaslHandshakeResponse& m) {
  io.i16(m.error_code);
  io.array(m.mechanisms, [&](std::string& s) { io.str(s); });
}

template <typename IO>
void describe(IO& io, SaslAuthenticateRequest& m) {
  io.bytes(m.auth_bytes);
  io.tags();
}
template <typename IO>
void describe(IO& io, SaslAuthenticateResponse& m) {
  io.i16(m.error_code);
  io.nstr(m.error_message);
  io.bytes(m.auth_bytes);
  if (io.version() >= 1) io.i64(m.session_lifetime_ms);
  io.tags();
}

template <typename IO>
void describe(IO& io, ProduceRequest& m) {
  if (io.version() >= 3) io.nstr(m.transactional_id);
  io.i16(m.acks);
  io.i32(m.timeout_ms);
  io.array(m.topics, [&](ProduceRequest::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](ProduceRequest::Partition& p) {
      io.i32(p.index);
      io.nbytes(p.records);
    });
  });
}
template <typename IO>
void describe(IO& io, ProduceResponse& m) {
  const int16_t v = io.version();
  io.array(m.responses, [&](ProduceResponse::Topic& t) {
    io.str(t.name);
    io.array(t.partitions, [&](ProduceResponse::Partition& p) {
      io.i32(p.index);
      io.i16(p.error_code);
      io.i64(p.base_offset);
      if (v >= 2) io.i64(p.log_append_time_ms);
      if (v >= 5) io.i64(p.log_start_offset);
      if (v >= 8) {
        std::vector<int32_t> record_errors;  // never any: the whole partition is refused
        io.array(record_errors, [&](int32_t&) {});
        io.nstr(p.error_message);
      }
    });
  });
  if (v >= 1) io.i32(m.throttle_time_ms);
}

// Sets every field to a value drawn from a seed (fillForTests).
class Filler {
 public:
  Filler(int16_t version, uint32_t seed) : version_(version), state_(seed * 2654435761u + 1) {}
  static constexpr bool kDecoding = true;
  int16_t version() const { return version_; }
  void i8(int8_t& v) { v = static_cast<int8_t>(next()); }
  void i16(int16_t& v) { v = static_cast<int16_t>(next()); }
  void i32(int32_t& v) { v = static_cast<int32_t>(next()); }
  void i64(int64_t& v) { v = (static_cast<int64_t>(next()) << 32) | next(); }
  void boolean(bool& v) { v = (next() & 1) != 0; }
  void str(std::string& v) { v = "s" + std::to_string(next() % 1000); }
  void nstr(std::optional<std::string>& v) {
    if (next() % 4 == 0)
      v.reset();
    else
      v = "n" + std::to_string(next() % 100);
  }
  void bytes(std::string& v) {
    v.assign(next() % 6, '\0');
    for (char& c : v) c = static_cast<char>(next());
  }
  void nbytes(std::optional<std::string>& v) {
    if (next() % 4 == 0) {
      v.reset();
    } else {
      v.emplace();
      bytes(*v);
    }
  }
  template <typename T, typename F>
  void array(std::vector<T>& v, F&& each) {
    v.resize(1 + next() % 2);
    for (T& e : v) each(e);
  }
  template <typename T, typename F>
  void narray(std::optional<std::vector<T>>& v, F&& each) {
    if (next() % 4 == 0) return v.reset();
    v.emplace();
    array(*v, each);
  }
  void tags() {}

 private:
  uint32_t next() {
    state_ = state_ * 1103515245u + 12345u;
    return state_ >> 8;
  }
  int16_t version_;
  uint32_t state_;
};

template <typename T>
Status decodeMessage(std::string_view bytes, int16_t key, int16_t version, const char* type,
                     T* out) {
  Decoder d(bytes, version, isFlexible(key, version));
  *out = T{};
  describe(d, *out);
  if (d.failed()) {
    return Status::Corruption(std::string(type) + " v" + std::to_string(version) +
                              ": truncated or malformed at byte " + std::to_string(d.failedAt()) +
                              " of " + std::to_string(d.size()));
  }
  return Status::OK();
}

}  // namespace

#define DTS_KAFKA_DEFINE(Type, key)                                       \
  Status decode(std::string_view bytes, int16_t version, Type* out) {     \
    return decodeMessage(bytes, key, version, #Type, out);                \
  }                                                                       \
  void encode(const Type& message, int16_t version, std::string* out) {   \
    Encoder e(out, version, isFlexible(key, version));                    \
    describe(e, const_cast<Type&>(message)); /* the encoder only reads */ \
  }                                                                       \
  void fillForTests(Type* message, int16_t version, uint32_t seed) {      \
    *message = Type{};                                                    \
    Filler f(version, seed);                                              \
    describe(f, *message);                                                \
  }
DTS_KAFKA_MESSAGES(DTS_KAFKA_DEFINE)
#undef DTS_KAFKA_DEFINE

Status decodeRequestHeader(std::string_view frame, RequestHeader* header, size_t* body_offset) {
  Decoder d(frame, 1, /*flexible=*/false);
  d.i16(header->api_key);
  d.i16(header->api_version);
  d.i32(header->correlation_id);
  if (d.failed()) {
    return Status::Corruption("request header: " + std::to_string(frame.size()) +
                              " bytes, too short for api key, version and correlation id");
  }
  d.nstr(header->client_id);
  if (!d.failed() && isFlexible(header->api_key, header->api_version)) {
    Decoder tags(frame.substr(d.position()), header->api_version, /*flexible=*/true);
    tags.tags();
    if (tags.failed()) {
      return Status::Corruption("request header of " + apiName(header->api_key) + " v" +
                                std::to_string(header->api_version) +
                                ": malformed tagged fields at byte " +
                                std::to_string(d.position() + tags.failedAt()));
    }
    *body_offset = d.position() + tags.position();
    return Status::OK();
  }
  if (d.failed()) {
    return Status::Corruption("request header of " + apiName(header->api_key) + " v" +
                              std::to_string(header->api_version) +
                              ": truncated client id at byte " + std::to_string(d.failedAt()));
  }
  *body_offset = d.position();
  return Status::OK();
}

std::string encodeRequestHeader(const RequestHeader& header) {
  std::string out;
  Encoder e(&out, 1, false);
  e.i16(header.api_key);
  e.i16(header.api_version);
  e.i32(header.correlation_id);
  e.nstr(header.client_id);
  if (isFlexible(header.api_key, header.api_version)) out.push_back(0);
  return out;
}

std::string responseFrame(int32_t correlation_id, std::string_view body) {
  std::string out;
  out.reserve(8 + body.size());
  putBE(&out, static_cast<uint32_t>(4 + body.size()), 4);
  putBE(&out, static_cast<uint32_t>(correlation_id), 4);
  out.append(body);
  return out;
}

std::string unsupportedVersionBody() {
  ApiVersionsResponse r;
  r.error_code = kUnsupportedVersion;
  r.api_keys.push_back(*supportedRange(kApiVersions));
  std::string out;
  encode(r, 0, &out);
  return out;
}

// ---- record batch v2 (https://kafka.apache.org/documentation/#recordbatch)

namespace {
constexpr size_t kBatchHeaderSize = 61;  // baseOffset .. recordsCount
constexpr size_t kCrcStart = 21;         // attributes: the CRC covers from here to the end

void putVarint(std::string* out, int64_t v) {
  putVarlong(out, v);
}
}  // namespace

void encodeRecordBatch(const std::vector<sink::LogRecord>& records, std::string* out) {
  const size_t start = out->size();
  const sink::LogRecord& first = records.front();
  int64_t max_ts = first.timestamp_ms;
  for (const auto& r : records) max_ts = std::max(max_ts, r.timestamp_ms);
  putBE(out, static_cast<uint64_t>(first.offset), 8);
  putBE(out, 0, 4);   // batchLength, set below
  putBE(out, 0, 4);   // partitionLeaderEpoch
  out->push_back(2);  // magic
  putBE(out, 0, 4);   // crc, set below
  putBE(out, 0, 2);   // attributes: no compression, create time, not transactional
  putBE(out, static_cast<uint32_t>(records.back().offset - first.offset), 4);
  putBE(out, static_cast<uint64_t>(first.timestamp_ms), 8);
  putBE(out, static_cast<uint64_t>(max_ts), 8);
  putBE(out, static_cast<uint64_t>(-1), 8);  // producerId
  putBE(out, static_cast<uint16_t>(-1), 2);  // producerEpoch
  putBE(out, static_cast<uint32_t>(-1), 4);  // baseSequence
  // A placeholder (left out by an encoded view) is no record, but it ends the batch: clients
  // continue after the batch's last offset (KAFKA-5443, as after log compaction).
  const size_t count = static_cast<size_t>(std::count_if(
      records.begin(), records.end(), [](const sink::LogRecord& r) { return !r.placeholder; }));
  putBE(out, static_cast<uint32_t>(count), 4);
  std::string rec;
  for (const auto& r : records) {
    if (r.placeholder) continue;
    rec.clear();
    rec.push_back(0);  // attributes
    putVarlong(&rec, r.timestamp_ms - first.timestamp_ms);
    putVarint(&rec, r.offset - first.offset);
    if (r.key.empty()) {
      putVarint(&rec, -1);
    } else {
      putVarint(&rec, static_cast<int64_t>(r.key.size()));
      rec.append(r.key);
    }
    putVarint(&rec, static_cast<int64_t>(r.value.size()));
    rec.append(r.value);
    putVarint(&rec, 0);  // headers
    putVarint(out, static_cast<int64_t>(rec.size()));
    out->append(rec);
  }
  const size_t length = out->size() - start - 12;
  for (size_t i = 0; i < 4; ++i)
    (*out)[start + 8 + i] = static_cast<char>((length >> (8 * (3 - i))) & 0xff);
  const uint32_t crc =
      crc32cExtend(0, out->data() + start + kCrcStart, out->size() - start - kCrcStart);
  for (size_t i = 0; i < 4; ++i)
    (*out)[start + 17 + i] = static_cast<char>((crc >> (8 * (3 - i))) & 0xff);
}

namespace {
bool getVarlong(ByteReader& in, int64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b;
    if (!in.getU8(&b)) return false;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
      return true;
    }
  }
  return false;
}
bool getVarBytes(ByteReader& in, std::string* out) {
  int64_t n;
  if (!getVarlong(in, &n) || n < -1) return false;
  out->clear();
  if (n < 0) return true;
  std::string_view s;
  if (!in.getBytes(static_cast<size_t>(n), &s)) return false;
  out->assign(s);
  return true;
}
}  // namespace

Result<std::vector<sink::LogRecord>> decodeRecordBatches(std::string_view bytes) {
  std::vector<sink::LogRecord> out;
  ByteReader in(bytes);
  while (!in.empty()) {
    const size_t at = in.position();
    auto bad = [&](const std::string& what) {
      return Status::Corruption("record batch at byte " + std::to_string(at) + ": " + what);
    };
    uint64_t base_offset, length, epoch, magic, crc, attributes, last_delta, base_ts, max_ts,
        producer, pepoch, seq, count;
    if (!in.getUintBE(8, &base_offset) || !in.getUintBE(4, &length)) return bad("truncated header");
    if (length < kBatchHeaderSize - 12 || length > in.remaining())
      return bad("length " + std::to_string(length) + " but " + std::to_string(in.remaining()) +
                 " bytes left");
    const std::string_view crc_covered = bytes.substr(at + kCrcStart, length - 9);
    if (!in.getUintBE(4, &epoch) || !in.getUintBE(1, &magic) || !in.getUintBE(4, &crc) ||
        !in.getUintBE(2, &attributes) || !in.getUintBE(4, &last_delta) ||
        !in.getUintBE(8, &base_ts) || !in.getUintBE(8, &max_ts) || !in.getUintBE(8, &producer) ||
        !in.getUintBE(2, &pepoch) || !in.getUintBE(4, &seq) || !in.getUintBE(4, &count))
      return bad("truncated header");
    if (magic != 2) return bad("magic " + std::to_string(magic) + ", want 2");
    if (crc32c(crc_covered) != crc) return bad("CRC-32C mismatch");
    if ((attributes & 0x07) != 0) return bad("compressed batches are not decoded here");
    ByteReader recs(bytes.substr(in.position(), at + 12 + length - in.position()));
    if (!in.skip(recs.remaining())) return bad("truncated records");
    for (uint64_t i = 0; i < count; ++i) {
      int64_t rec_len, ts_delta, off_delta, headers;
      uint8_t rec_attr;
      sink::LogRecord r;
      if (!getVarlong(recs, &rec_len) || rec_len < 0 ||
          static_cast<uint64_t>(rec_len) > recs.remaining() || !recs.getU8(&rec_attr) ||
          !getVarlong(recs, &ts_delta) || !getVarlong(recs, &off_delta) ||
          !getVarBytes(recs, &r.key) || !getVarBytes(recs, &r.value) ||
          !getVarlong(recs, &headers) || headers != 0)
        return bad("record " + std::to_string(i) + " is malformed");
      r.offset = static_cast<int64_t>(base_offset) + off_delta;
      r.timestamp_ms = static_cast<int64_t>(base_ts) + ts_delta;
      out.push_back(std::move(r));
    }
    if (!recs.empty()) return bad("bytes after the last record");
  }
  return out;
}

}  // namespace dts::server::kafka
