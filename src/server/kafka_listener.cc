#include "server/kafka_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/log.h"
#include "common/socket_address.h"
#include "server/changes_stream.h"
#include "server/kafka_protocol.h"
#include "server/token.h"
#include "sink/change_formats.h"

namespace dts::server {

namespace k = kafka;

struct KafkaListener::Connection {
  enum State { kPending, kAuthenticated, kEvicted };
  int fd = -1;
  std::chrono::steady_clock::time_point accepted_at;
  // kPending until SASL succeeds; kEvicted: closed by the acceptor to make room (only while
  // pending; the compare-and-swap decides a race with authentication).
  std::atomic<int> state{kPending};
  std::string peer;        // "1.2.3.4:5678", for the log
  std::string local_host;  // the address the client reached us on: advertised in Metadata
  int local_port = 0;
  std::thread thread;
  std::atomic<bool> done{false};
};

namespace {

constexpr auto kPollSlice = std::chrono::milliseconds(200);
constexpr int16_t kKafkaStorageError = 56;

enum class ReadResult { kOk, kClosed, kStopped, kIdle, kDeadline, kError };

using SteadyTime = std::chrono::steady_clock::time_point;

// Reads exactly n bytes, waking every kPollSlice to notice stop. The idle limit applies only
// before the first byte of a request (between requests); `deadline` to every byte (kDeadline).
ReadResult readFull(int fd, char* out, size_t n, const std::atomic<bool>& stop,
                    std::chrono::milliseconds idle, bool between_requests,
                    SteadyTime deadline = SteadyTime::max()) {
  size_t got = 0;
  auto idle_deadline = std::chrono::steady_clock::now() + idle;
  while (got < n) {
    if (stop.load()) return ReadResult::kStopped;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(kPollSlice.count()));
    if (rc < 0 && errno != EINTR) return ReadResult::kError;
    if (rc <= 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline) return ReadResult::kDeadline;
      if (between_requests && got == 0 && now > idle_deadline) return ReadResult::kIdle;
      continue;
    }
    ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r == 0) return ReadResult::kClosed;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ReadResult::kError;
    }
    got += static_cast<size_t>(r);
  }
  return ReadResult::kOk;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        (void)::poll(&p, 1, static_cast<int>(kPollSlice.count()));
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

// Keeps the records whose record batch (k::encodeRecordBatch) stays within `limit` bytes, and
// at least one (KIP-74). read()'s limit counts keys and values only; a batch adds its header and
// each record's framing.
void fitRecordBatch(std::vector<sink::LogRecord>* records, size_t limit) {
  constexpr size_t kBatchHeader = 61;
  constexpr size_t kRecordFraming = 32;  // attributes, five varints at most, no headers
  size_t total = kBatchHeader, keep = 0;
  for (const auto& r : *records) {
    total += r.key.size() + r.value.size() + kRecordFraming;
    if (total > limit && keep > 0) break;
    ++keep;
  }
  records->resize(keep);
}

// SASL/PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd.
bool splitPlainToken(std::string_view token, std::string* user, std::string* password) {
  size_t a = token.find('\0');
  if (a == std::string_view::npos) return false;
  size_t b = token.find('\0', a + 1);
  if (b == std::string_view::npos || token.find('\0', b + 1) != std::string_view::npos)
    return false;
  *user = std::string(token.substr(a + 1, b - a - 1));
  *password = std::string(token.substr(b + 1));
  return true;
}

constexpr auto kScopeRecheck = std::chrono::seconds(5);

// One connection's protocol state and request handlers.
class Session {
 public:
  Session(const KafkaListenerOptions& options, k::GroupCoordinator& groups, k::OffsetStore& offsets,
          const std::atomic<bool>& stop, const std::string& peer, const std::string& host, int port)
      : options_(options),
        groups_(groups),
        offsets_(offsets),
        stop_(stop),
        peer_(peer),
        host_(host),
        port_(port) {}

  bool close_after() const { return close_after_; }
  bool expectsRawSaslToken() const { return raw_token_next_; }
  bool authenticated() const { return authenticated_; }

  // The framed reply to one request frame; nullopt when none is due (Produce acks=0) or when
  // the connection is to be closed without one.
  std::optional<std::string> handle(std::string_view frame) {
    k::RequestHeader h;
    size_t body_at = 0;
    Status st = k::decodeRequestHeader(frame, &h, &body_at);
    if (!st.ok() && frame.size() < 8) {
      spdlog::warn("kafka: {}: {}; closing the connection", peer_, st.toString());
      close_after_ = true;
      return std::nullopt;
    }
    client_id_ = h.client_id.value_or("");
    std::optional<std::string> body = dispatch(h, st, st.ok() ? frame.substr(body_at) : "");
    if (!body) return std::nullopt;
    return k::responseFrame(h.correlation_id, *body);
  }

  // Handshake v0 is followed by the bare token in a frame of its own; success is an empty frame.
  std::optional<std::string> rawSaslToken(std::string_view token) {
    raw_token_next_ = false;
    std::string user;
    if (!authenticate(token, &user)) {
      spdlog::warn(
          "kafka: {}: SASL/PLAIN authentication failed (user '{}'): the password must "
          "be the dts API token; closing the connection",
          peer_, user);
      close_after_ = true;
      return std::nullopt;
    }
    authenticated_ = true;
    spdlog::debug("kafka: {}: authenticated as '{}'", peer_, user);
    return std::string(4, '\0');
  }

 private:
  // Checks a SASL/PLAIN token: the API token, or a group token (scope_ set). Never logs the
  // password.
  bool authenticate(std::string_view token, std::string* user) {
    std::string password;
    if (!splitPlainToken(token, user, &password)) return false;
    if (tokenEquals(password, options_.token)) {
      scope_.reset();
      return true;
    }
    if (!options_.group_token) return false;
    scope_ = options_.group_token(password);
    if (!scope_) return false;
    password_ = std::move(password);
    scope_checked_ = std::chrono::steady_clock::now();
    spdlog::info("kafka: {}: '{}' authenticated with the token of group '{}' of task '{}'", peer_,
                 *user, scope_->group, scope_->task);
    return true;
  }

  // A group token's scope is checked again every few seconds: a revoked token's connection ends.
  bool scopeStillValid() {
    if (!scope_) return true;
    auto now = std::chrono::steady_clock::now();
    if (now - scope_checked_ < kScopeRecheck) return true;
    scope_checked_ = now;
    auto again = options_.group_token ? options_.group_token(password_) : std::nullopt;
    return again && again->task == scope_->task && again->group == scope_->group;
  }

  bool topicAllowed(const std::string& topic) const {
    if (!scope_) return true;
    if (topic == scope_->task) return true;
    const std::string prefix = scope_->task + ".";
    if (topic.compare(0, prefix.size(), prefix) != 0) return false;
    auto format = sink::parseChangeFormat(std::string_view(topic).substr(prefix.size()));
    return format.has_value() && *format != sink::ChangeFormat::kDts;
  }
  // 0, INVALID_GROUP_ID for a group id the HTTP API could not name (validGroupId: 1-249
  // letters, digits, '.', '_', '-'; a group's offsets, lag and token are reached through it), or
  // GROUP_AUTHORIZATION_FAILED for another group than a group token's own.
  int16_t groupError(const std::string& group) const {
    if (!validGroupId(group)) {
      spdlog::warn(
          "kafka: {}: group id '{}' refused (INVALID_GROUP_ID): a group id is 1-249 letters, "
          "digits, '.', '_' or '-'",
          peer_, group);
      return k::kInvalidGroupId;
    }
    if (scope_ && group != scope_->group) return k::kGroupAuthorizationFailed;
    return 0;
  }

  std::string what(const k::RequestHeader& h) const {
    return k::apiName(h.api_key) + " v" + std::to_string(h.api_version);
  }

  std::optional<std::string> dispatch(const k::RequestHeader& h, const Status& header_status,
                                      std::string_view body) {
    const int16_t key = h.api_key;
    if (!authenticated_ && key != k::kApiVersions && key != k::kSaslHandshake &&
        key != k::kSaslAuthenticate) {
      spdlog::warn(
          "kafka: {}: {} before SASL authentication (SASL/PLAIN with the dts API token "
          "is required); closing the connection",
          peer_, what(h));
      close_after_ = true;
      return std::nullopt;
    }
    if (authenticated_ && !scopeStillValid()) {
      spdlog::warn(
          "kafka: {}: the token of group '{}' of task '{}' was revoked; closing the "
          "connection",
          peer_, scope_->group, scope_->task);
      close_after_ = true;
      return std::nullopt;
    }
    if (key == k::kProduce) return produce(h, body);
    auto range = k::supportedRange(key);
    if (!range || h.api_version < range->min || h.api_version > range->max) {
      spdlog::warn("kafka: {}: {} is not served{}; answered UNSUPPORTED_VERSION", peer_, what(h),
                   range ? " (versions " + std::to_string(range->min) + "-" +
                               std::to_string(range->max) + " are)"
                         : std::string());
      return k::unsupportedVersionBody();
    }
    if (!header_status.ok()) return malformed(h, header_status);
    const int16_t v = h.api_version;
    switch (key) {
      case k::kApiVersions:
        return with<k::ApiVersionsRequest>(h, body, [&](auto&) {
          k::ApiVersionsResponse r;
          r.api_keys = k::supportedApis();
          return r;
        });
      case k::kSaslHandshake:
        return with<k::SaslHandshakeRequest>(h, body, [&](auto& q) { return saslHandshake(q, v); });
      case k::kSaslAuthenticate:
        return with<k::SaslAuthenticateRequest>(h, body,
                                                [&](auto& q) { return saslAuthenticate(q); });
      case k::kMetadata:
        return with<k::MetadataRequest>(h, body, [&](auto& q) { return metadata(q, v); });
      case k::kFindCoordinator:
        return with<k::FindCoordinatorRequest>(h, body,
                                               [&](auto& q) { return findCoordinator(q); });
      case k::kListOffsets:
        return with<k::ListOffsetsRequest>(h, body, [&](auto& q) { return listOffsets(q, v); });
      case k::kFetch: return with<k::FetchRequest>(h, body, [&](auto& q) { return fetch(q); });
      case k::kJoinGroup:
        return with<k::JoinGroupRequest>(h, body, [&](auto& q) {
          if (int16_t e = groupError(q.group_id); e != 0) {
            k::JoinGroupResponse r;
            r.error_code = e;
            r.member_id = q.member_id;
            return r;
          }
          return groups_.join(q, v, client_id_, stop_);
        });
      case k::kSyncGroup:
        return with<k::SyncGroupRequest>(h, body, [&](auto& q) {
          if (int16_t e = groupError(q.group_id); e != 0) return k::SyncGroupResponse{0, e, {}};
          return groups_.sync(q, stop_);
        });
      case k::kHeartbeat:
        return with<k::HeartbeatRequest>(h, body, [&](auto& q) {
          k::HeartbeatResponse r;
          r.error_code = groupError(q.group_id);
          if (r.error_code == 0) r.error_code = groups_.heartbeat(q);
          return r;
        });
      case k::kLeaveGroup:
        return with<k::LeaveGroupRequest>(h, body, [&](auto& q) {
          k::LeaveGroupResponse r;
          r.error_code = groupError(q.group_id);
          if (r.error_code == 0) r.error_code = groups_.leave(q);
          return r;
        });
      case k::kOffsetCommit:
        return with<k::OffsetCommitRequest>(h, body, [&](auto& q) { return offsetCommit(q, v); });
      case k::kOffsetFetch:
        return with<k::OffsetFetchRequest>(h, body, [&](auto& q) { return offsetFetch(q, v); });
      default: break;
    }
    // supportedApis() lists a key with no handler: a dts bug, reported to the client too.
    spdlog::error("kafka: {}: {} is advertised but has no handler (dts bug)", peer_, what(h));
    return k::unsupportedVersionBody();
  }

  template <typename Req, typename F>
  std::optional<std::string> with(const k::RequestHeader& h, std::string_view body, F&& handler) {
    Req req;
    Status st = k::decode(body, h.api_version, &req);
    if (!st.ok()) return malformed(h, st);
    auto response = handler(req);
    std::string out;
    k::encode(response, h.api_version, &out);
    return out;
  }

  // A request whose body does not decode, in an intact frame: answered with INVALID_REQUEST
  // where the response has a top-level error code, else with an empty response.
  std::optional<std::string> malformed(const k::RequestHeader& h, const Status& st) {
    spdlog::warn("kafka: {}: malformed {} request: {}; answered INVALID_REQUEST", peer_, what(h),
                 st.toString());
    const int16_t v = h.api_version;
    const int16_t e = k::kInvalidRequest;
    std::string out;
    switch (h.api_key) {
      case k::kApiVersions: encode(k::ApiVersionsResponse{e, {}, 0}, v, &out); break;
      case k::kMetadata: encode(k::MetadataResponse{}, v, &out); break;
      case k::kListOffsets: encode(k::ListOffsetsResponse{}, v, &out); break;
      case k::kFetch: {
        k::FetchResponse r;
        r.error_code = e;
        encode(r, v, &out);
        break;
      }
      case k::kFindCoordinator: {
        k::FindCoordinatorResponse r;
        r.error_code = e;
        r.node_id = -1;
        r.port = -1;
        encode(r, v, &out);
        break;
      }
      case k::kJoinGroup: {
        k::JoinGroupResponse r;
        r.error_code = e;
        encode(r, v, &out);
        break;
      }
      case k::kSyncGroup: encode(k::SyncGroupResponse{0, e, {}}, v, &out); break;
      case k::kHeartbeat: encode(k::HeartbeatResponse{0, e}, v, &out); break;
      case k::kLeaveGroup: encode(k::LeaveGroupResponse{0, e}, v, &out); break;
      case k::kOffsetCommit: encode(k::OffsetCommitResponse{}, v, &out); break;
      case k::kOffsetFetch: {
        k::OffsetFetchResponse r;
        r.error_code = e;
        encode(r, v, &out);
        break;
      }
      case k::kSaslHandshake: encode(k::SaslHandshakeResponse{e, {"PLAIN"}}, v, &out); break;
      case k::kSaslAuthenticate: {
        k::SaslAuthenticateResponse r;
        r.error_code = e;
        r.error_message = "malformed SaslAuthenticate request";
        encode(r, v, &out);
        close_after_ = true;
        break;
      }
      default: return k::unsupportedVersionBody();
    }
    return out;
  }

  std::optional<std::string> produce(const k::RequestHeader& h, std::string_view body) {
    if (h.api_version < 0 || h.api_version > 8) {
      spdlog::warn("kafka: {}: {} is not served; answered UNSUPPORTED_VERSION", peer_, what(h));
      return k::unsupportedVersionBody();
    }
    k::ProduceRequest req;
    Status st = k::decode(body, h.api_version, &req);
    if (!st.ok()) {
      // As any malformed body in an intact frame: logged, answered, the connection stays. Produce
      // has no error code outside its partitions, which did not decode: an empty response
      // (none when the acks field decoded as 0: the client expects no response then).
      spdlog::warn("kafka: {}: malformed {} request: {}; answered with an empty response", peer_,
                   what(h), st.toString());
      if (req.acks == 0) return std::nullopt;
      std::string out;
      k::encode(k::ProduceResponse{}, h.api_version, &out);
      return out;
    }
    spdlog::warn("kafka: {}: {} refused: dts topics are read-only change logs{}", peer_, what(h),
                 req.acks == 0 ? " (acks=0: no response is sent)" : "");
    if (req.acks == 0) return std::nullopt;
    k::ProduceResponse r;
    for (const auto& t : req.topics) {
      k::ProduceResponse::Topic rt{t.name, {}};
      for (const auto& p : t.partitions) {
        k::ProduceResponse::Partition rp;
        rp.index = p.index;
        rp.error_code = k::kUnsupportedVersion;
        rp.error_message = "dts topics are read-only change logs";
        rt.partitions.push_back(rp);
      }
      r.responses.push_back(std::move(rt));
    }
    std::string out;
    k::encode(r, h.api_version, &out);
    return out;
  }

  k::SaslHandshakeResponse saslHandshake(const k::SaslHandshakeRequest& q, int16_t v) {
    k::SaslHandshakeResponse r;
    r.mechanisms = {"PLAIN"};
    if (q.mechanism != "PLAIN") {
      spdlog::warn(
          "kafka: {}: SASL mechanism '{}' is not supported (only PLAIN); closing the "
          "connection",
          peer_, q.mechanism);
      r.error_code = k::kUnsupportedSaslMechanism;
      close_after_ = true;
      return r;
    }
    if (v == 0)
      raw_token_next_ = true;
    else
      authenticate_next_ = true;
    return r;
  }

  k::SaslAuthenticateResponse saslAuthenticate(const k::SaslAuthenticateRequest& q) {
    k::SaslAuthenticateResponse r;
    if (!authenticate_next_) {
      r.error_code = k::kIllegalSaslState;
      r.error_message = "SaslAuthenticate without a SaslHandshake v1 first";
      spdlog::warn("kafka: {}: {}; closing the connection", peer_, *r.error_message);
      close_after_ = true;
      return r;
    }
    authenticate_next_ = false;
    std::string user;
    if (!authenticate(q.auth_bytes, &user)) {
      r.error_code = k::kSaslAuthenticationFailed;
      r.error_message =
          "Authentication failed: invalid username or password (the password is the dts API "
          "token or a consumer group's token)";
      spdlog::warn(
          "kafka: {}: SASL/PLAIN authentication failed (user '{}'); closing the "
          "connection",
          peer_, user);
      close_after_ = true;
      return r;
    }
    authenticated_ = true;
    spdlog::debug("kafka: {}: authenticated as '{}'", peer_, user);
    return r;
  }

  std::shared_ptr<const sink::ChangeLogReader> reader(const std::string& topic) const {
    return options_.lookup ? options_.lookup(topic) : nullptr;
  }

  k::MetadataResponse metadata(const k::MetadataRequest& q, int16_t v) {
    k::MetadataResponse r;
    r.brokers.push_back({0, host_, port_, std::nullopt});
    r.cluster_id = "dts";
    r.controller_id = 0;
    const bool all = !q.topics.has_value() || (v == 0 && q.topics->empty());
    std::vector<std::string> names;
    if (all) {
      if (options_.topics) names = options_.topics();
    } else {
      names = *q.topics;
    }
    for (const std::string& name : names) {
      k::MetadataResponse::Topic t;
      t.name = name;
      if (!topicAllowed(name)) {
        if (all) continue;  // a group token lists its own task's topics only
        t.error_code = k::kTopicAuthorizationFailed;
      } else if (reader(name) == nullptr) {
        if (all) continue;  // gone since it was listed
        t.error_code = k::kUnknownTopicOrPartition;
      } else {
        t.partitions.push_back({0, 0, 0, {0}, {0}, {}});
      }
      r.topics.push_back(std::move(t));
    }
    return r;
  }

  k::FindCoordinatorResponse findCoordinator(const k::FindCoordinatorRequest& q) {
    k::FindCoordinatorResponse r;
    if (q.key_type != 0) {
      r.error_code = k::kCoordinatorNotAvailable;
      r.error_message = "dts serves group coordinators only (no transactions)";
      r.node_id = -1;
      r.port = -1;
      return r;
    }
    if (int16_t e = groupError(q.key); e != 0) {
      r.error_code = e;
      r.error_message =
          e == k::kInvalidGroupId
              ? "Invalid group id: 1-249 letters, digits, '.', '_' or '-'"
              : "Group authorization failed: this token may act as its own consumer group only";
      r.node_id = -1;
      r.port = -1;
      return r;
    }
    r.node_id = 0;
    r.host = host_;
    r.port = port_;
    return r;
  }

  k::ListOffsetsResponse listOffsets(const k::ListOffsetsRequest& q, int16_t v) {
    k::ListOffsetsResponse r;
    for (const auto& t : q.topics) {
      k::ListOffsetsResponse::Topic rt{t.name, {}};
      auto log = reader(t.name);
      for (const auto& p : t.partitions) {
        k::ListOffsetsResponse::Partition rp;
        rp.partition_index = p.partition_index;
        if (!topicAllowed(t.name)) {
          rp.error_code = k::kTopicAuthorizationFailed;
        } else if (log == nullptr || p.partition_index != 0) {
          rp.error_code = k::kUnknownTopicOrPartition;
        } else if (p.timestamp == -2) {
          rp.offset = log->firstOffset();
        } else if (p.timestamp == -1) {
          rp.offset = log->endOffset();
        } else {
          auto at = log->offsetForTime(p.timestamp);
          if (!at.ok()) {
            spdlog::error("kafka: {}: ListOffsets of '{}' at {} ms: {}", peer_, t.name, p.timestamp,
                          at.status().toString());
            rp.error_code = kKafkaStorageError;
          } else if (*at < log->endOffset()) {
            rp.offset = *at;
            auto rec = log->read(*at, 1);
            rp.timestamp = rec.ok() && !rec->empty() ? rec->front().timestamp_ms : p.timestamp;
          }  // else none at or after the time: offset -1 and timestamp -1, as Kafka answers
        }
        if (v == 0 && rp.error_code == 0 && rp.offset >= 0) rp.old_style_offsets = {rp.offset};
        rt.partitions.push_back(std::move(rp));
      }
      r.topics.push_back(std::move(rt));
    }
    return r;
  }

  // One pass over the partitions: what is there now. *bytes counts record bytes; *wait_on is set
  // to a partition that is at its end (what a long poll waits on).
  k::FetchResponse fetchOnce(const k::FetchRequest& q, size_t budget, size_t* bytes,
                             std::shared_ptr<const sink::ChangeLogReader>* wait_on,
                             int64_t* wait_offset) {
    k::FetchResponse r;
    *bytes = 0;
    wait_on->reset();
    for (const auto& t : q.topics) {
      k::FetchResponse::Topic rt{t.topic, {}};
      auto log = reader(t.topic);
      for (const auto& p : t.partitions) {
        k::FetchResponse::Partition rp;
        rp.partition_index = p.partition;
        rp.aborted_transactions.emplace();
        rp.records = std::string();
        if (!topicAllowed(t.topic)) {
          rp.error_code = k::kTopicAuthorizationFailed;
          rt.partitions.push_back(std::move(rp));
          continue;
        }
        if (log == nullptr || p.partition != 0) {
          rp.error_code = k::kUnknownTopicOrPartition;
          rt.partitions.push_back(std::move(rp));
          continue;
        }
        const int64_t first = log->firstOffset();
        const int64_t end = log->endOffset();
        rp.high_watermark = end;
        rp.last_stable_offset = end;  // only whole committed transactions are ever visible
        rp.log_start_offset = first;
        if (p.partition_max_bytes < 0 || q.max_bytes < 0) {
          spdlog::warn(
              "kafka: {}: Fetch of '{}' with max_bytes {} (partition max_bytes {}): "
              "answered INVALID_REQUEST",
              peer_, t.topic, q.max_bytes, p.partition_max_bytes);
          rp.error_code = k::kInvalidRequest;
        } else if (p.fetch_offset < first || p.fetch_offset > end) {
          rp.error_code = k::kOffsetOutOfRange;
        } else if (p.fetch_offset == end) {
          if (*wait_on == nullptr) {
            *wait_on = log;
            *wait_offset = end;
          }
        } else if (*bytes == 0 || *bytes < budget) {
          // KIP-74: the first partition with data returns at least one record whatever the limit.
          size_t limit = budget - std::min(budget, *bytes);
          // A limit of 0 is a limit (the first record only, as KIP-74 has it), not "no limit".
          limit = std::min(limit, size_t(p.partition_max_bytes));
          auto records = log->read(p.fetch_offset, std::max<size_t>(limit, 1));
          if (!records.ok()) {
            spdlog::error("kafka: {}: Fetch of '{}' at offset {}: {}", peer_, t.topic,
                          p.fetch_offset, records.status().toString());
            rp.error_code = kKafkaStorageError;
          } else if (!records->empty() && !records->front().placeholder) {
            fitRecordBatch(&*records, limit);
            k::encodeRecordBatch(*records, &*rp.records);
            *bytes += rp.records->size();
          } else {
            // An encoded view (sink/change_formats.h) left out every record from fetch_offset to
            // the end (a DDL, the last commit marker): for this topic the partition ends there.
            // Answered as at the end, with no record batch (a batch of no records breaks
            // kafka-python 2.0.2) and fetch_offset as the high watermark (librdkafka's end of
            // partition, kcat -e); the next kept record comes in a batch from its own offset.
            if (!records->empty()) {
              rp.high_watermark = p.fetch_offset;
              rp.last_stable_offset = p.fetch_offset;
            }
            if (*wait_on == nullptr) {
              *wait_on = log;
              *wait_offset = records->empty() ? end : std::max(end, records->back().offset + 1);
            }
          }
        }
        rt.partitions.push_back(std::move(rp));
      }
      r.responses.push_back(std::move(rt));
    }
    return r;
  }

  k::FetchResponse fetch(const k::FetchRequest& q) {
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::min<std::chrono::milliseconds>(std::chrono::milliseconds(std::max(q.max_wait_ms, 0)),
                                            options_.max_wait);
    size_t budget = options_.max_fetch_bytes;
    // 0 is a limit too (one record: KIP-74); a negative one is INVALID_REQUEST (fetchOnce).
    if (q.max_bytes >= 0) budget = std::min(budget, static_cast<size_t>(q.max_bytes));
    const size_t min_bytes = static_cast<size_t>(std::max(q.min_bytes, 1));
    for (;;) {
      size_t bytes = 0;
      std::shared_ptr<const sink::ChangeLogReader> wait_on;
      int64_t wait_offset = 0;
      k::FetchResponse r = fetchOnce(q, budget, &bytes, &wait_on, &wait_offset);
      const auto now = std::chrono::steady_clock::now();
      if (bytes >= min_bytes || wait_on == nullptr || now >= deadline || stop_.load()) return r;
      auto slice = std::min<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
              std::chrono::milliseconds(1),
          kPollSlice);
      wait_on->waitBeyond(wait_offset, slice);
    }
  }

  k::OffsetCommitResponse offsetCommit(const k::OffsetCommitRequest& q, int16_t v) {
    k::OffsetCommitResponse r;
    int16_t error = groupError(q.group_id);
    if (error == 0)
      error = groups_.checkCommit(q.group_id, v >= 1 ? q.generation_id : -1,
                                  v >= 1 ? q.member_id : std::string());
    std::vector<k::OffsetStore::Committed> entries;
    std::vector<int16_t*> pending;
    for (const auto& t : q.topics) {
      k::OffsetCommitResponse::Topic rt{t.name, {}};
      const auto log = reader(t.name);
      for (const auto& p : t.partitions) {
        int16_t e = error;
        if (e == 0 && !topicAllowed(t.name)) e = k::kTopicAuthorizationFailed;
        if (e == 0 && (log == nullptr || p.partition_index != 0)) e = k::kUnknownTopicOrPartition;
        // As the HTTP commit: an offset of the log, 0 to its end (a group stuck past the end
        // would show no lag while it reads nothing).
        if (e == 0 && (p.committed_offset < 0 || p.committed_offset > log->endOffset())) {
          spdlog::warn(
              "kafka: {}: OffsetCommit of group '{}' at offset {} of '{}' refused: outside 0 to "
              "its end offset {}; answered OFFSET_OUT_OF_RANGE",
              peer_, q.group_id, p.committed_offset, t.name, log->endOffset());
          e = k::kOffsetOutOfRange;
        }
        if (e == 0)
          entries.push_back({t.name, p.partition_index, p.committed_offset, p.committed_metadata});
        rt.partitions.push_back({p.partition_index, e});
      }
      r.topics.push_back(std::move(rt));
    }
    if (entries.empty()) return r;
    Status st = offsets_.commit(q.group_id, entries);
    if (!st.ok()) {
      spdlog::error("kafka: {}: OffsetCommit: {}", peer_, st.toString());
      for (auto& t : r.topics) {
        for (auto& p : t.partitions) {
          if (p.error_code == 0) p.error_code = k::kCoordinatorNotAvailable;
        }
      }
    }
    return r;
  }

  k::OffsetFetchResponse offsetFetch(const k::OffsetFetchRequest& q, int16_t v) {
    k::OffsetFetchResponse r;
    auto fail = [&](const Status& st) {
      spdlog::error("kafka: {}: OffsetFetch: {}", peer_, st.toString());
      r.error_code = k::kCoordinatorNotAvailable;
      for (auto& t : r.topics) {
        for (auto& p : t.partitions) p.error_code = k::kCoordinatorNotAvailable;
      }
      return r;
    };
    if (int16_t e = groupError(q.group_id); e != 0) {
      r.error_code = e;
      if (q.topics) {
        for (const auto& t : *q.topics) {
          k::OffsetFetchResponse::Topic rt{t.name, {}};
          for (int32_t p : t.partition_indexes) rt.partitions.push_back({p, -1, -1, "", e});
          r.topics.push_back(std::move(rt));
        }
      }
      return r;
    }
    if (!q.topics) {  // v2+: every committed partition of the group
      auto all = offsets_.fetch(q.group_id, "");
      if (!all.ok()) return fail(all.status());
      for (const auto& c : *all) {
        if (!topicAllowed(c.topic)) continue;
        if (r.topics.empty() || r.topics.back().name != c.topic) r.topics.push_back({c.topic, {}});
        r.topics.back().partitions.push_back(
            {c.partition, c.offset, -1, c.metadata.value_or(""), 0});
      }
      return r;
    }
    for (const auto& t : *q.topics) {
      k::OffsetFetchResponse::Topic rt{t.name, {}};
      auto committed = offsets_.fetch(q.group_id, t.name);
      if (!committed.ok()) {
        for (int32_t p : t.partition_indexes) rt.partitions.push_back({p, -1, -1, "", 0});
        r.topics.push_back(std::move(rt));
        return fail(committed.status());
      }
      for (int32_t p : t.partition_indexes) {
        k::OffsetFetchResponse::Partition rp{p, -1, -1, "", 0};
        if (!topicAllowed(t.name)) {
          rp.error_code = k::kTopicAuthorizationFailed;
          rt.partitions.push_back(std::move(rp));
          continue;
        }
        for (const auto& c : *committed) {
          if (c.partition == p) {
            rp.committed_offset = c.offset;
            rp.metadata = c.metadata.value_or("");
          }
        }
        rt.partitions.push_back(std::move(rp));
      }
      r.topics.push_back(std::move(rt));
    }
    (void)v;
    return r;
  }

  const KafkaListenerOptions& options_;
  k::GroupCoordinator& groups_;
  k::OffsetStore& offsets_;
  const std::atomic<bool>& stop_;
  std::string peer_;
  std::string host_;
  int port_;
  std::string client_id_;
  bool authenticated_ = false;
  std::optional<GroupTokenScope> scope_;  // set: authenticated with a group token
  std::string password_;                  // that token, to check it again (never logged)
  std::chrono::steady_clock::time_point scope_checked_;
  bool raw_token_next_ = false;
  bool authenticate_next_ = false;
  bool close_after_ = false;
};

// "host:port" or "[v6]:port"; port 0..65535.
Status splitHostPort(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    return Status::InvalidArgument("--kafka-listen: must be HOST:PORT, got '" + text + "'");
  *host = text.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  const std::string digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(digits) > 65535)
    return Status::InvalidArgument("--kafka-listen: port must be 0-65535, got '" + text + "'");
  *port = std::stoi(digits);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<KafkaListener>> KafkaListener::start(KafkaListenerOptions options) {
  std::string host;
  int port = 0;
  DTS_RETURN_IF_ERROR(splitHostPort(options.listen, &host, &port));
  std::unique_ptr<KafkaListener> l(new KafkaListener(std::move(options)));
  DTS_ASSIGN_OR_RETURN(l->offsets_, k::OffsetStore::open(l->options_.offsets_db));

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0)
    return Status::InvalidArgument("--kafka-listen " + l->options_.listen + ": " +
                                   ::gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr && l->listen_fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      l->listen_fd_ = fd;
    } else {
      last_error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (l->listen_fd_ < 0)
    return Status::Unavailable("cannot listen for Kafka clients on " + l->options_.listen + ": " +
                               last_error);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(l->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  socketHost(bound, &l->port_);
  l->acceptor_ = std::thread([raw = l.get()] { raw->acceptLoop(); });
  spdlog::info("kafka: listening on {} (port {}), SASL/PLAIN required", l->options_.listen,
               l->port_);
  return l;
}

KafkaListener::KafkaListener(KafkaListenerOptions options) : options_(std::move(options)) {}

KafkaListener::~KafkaListener() {
  stop();
}

void KafkaListener::stop() {
  stop_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::lock_guard lock(mu_);
  for (auto& c : connections_) ::shutdown(c->fd, SHUT_RDWR);
  for (auto& c : connections_) {
    if (c->thread.joinable()) c->thread.join();
    ::close(c->fd);
  }
  connections_.clear();
}

void KafkaListener::acceptLoop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(kPollSlice.count()));
    groups_.expire();  // sessions end even when no member calls in
    {
      std::lock_guard lock(mu_);  // reap finished connections
      for (auto it = connections_.begin(); it != connections_.end();) {
        if ((*it)->done.load()) {
          (*it)->thread.join();
          ::close((*it)->fd);
          it = connections_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (rc <= 0) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const std::string peer_text = socketEndpoint(peer);
    if (active_.load() >= options_.max_connections && !evictPending(peer_text)) {
      spdlog::error(
          "kafka: connection from {} refused: {} connections are open, the limit "
          "(max_connections), all of them authenticated",
          peer_text, options_.max_connections);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->accepted_at = std::chrono::steady_clock::now();
    c->peer = peer_text;
    sockaddr_storage local{};
    len = sizeof(local);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    c->local_host = socketHost(local, &c->local_port);
    ++active_;
    Connection* raw = c.get();
    std::lock_guard lock(mu_);
    connections_.push_back(std::move(c));
    raw->thread = std::thread([this, raw] {
      serve(raw);
      --active_;
      raw->done.store(true);
    });
  }
}

bool KafkaListener::evictPending(const std::string& for_peer) {
  std::lock_guard lock(mu_);
  Connection* oldest = nullptr;
  for (auto& c : connections_) {
    if (c->done.load() || c->state.load() != Connection::kPending) continue;
    if (oldest == nullptr || c->accepted_at < oldest->accepted_at) oldest = c.get();
  }
  int pending = Connection::kPending;
  if (oldest == nullptr || !oldest->state.compare_exchange_strong(pending, Connection::kEvicted))
    return false;
  spdlog::warn(
      "kafka: {}: closed to make room for {}: {} connections are open (max_connections) and it "
      "has not authenticated",
      oldest->peer, for_peer, options_.max_connections);
  ::shutdown(oldest->fd, SHUT_RDWR);  // its thread sees the end and finishes
  return true;
}

void KafkaListener::serve(Connection* c) {
  Session session(options_, groups_, *offsets_, stop_, c->peer, c->local_host, c->local_port);
  std::string frame;
  const SteadyTime auth_deadline = c->accepted_at + options_.auth_timeout;
  for (;;) {
    // Until SASL succeeds every byte is due before the deadline: a connection that does not
    // authenticate cannot hold a place that a consumer needs.
    const bool pending = c->state.load() == Connection::kPending;
    const SteadyTime deadline = pending ? auth_deadline : SteadyTime::max();
    char size_bytes[4];
    ReadResult rr = readFull(c->fd, size_bytes, 4, stop_, options_.idle_timeout, true, deadline);
    if (rr == ReadResult::kIdle) {
      spdlog::info("kafka: {}: idle for {} ms; closing the connection", c->peer,
                   options_.idle_timeout.count());
    }
    if (rr == ReadResult::kDeadline) {
      spdlog::warn(
          "kafka: {}: not authenticated within {} ms of connecting; closing the connection",
          c->peer, options_.auth_timeout.count());
    }
    if (rr != ReadResult::kOk) break;
    const int32_t size = static_cast<int32_t>(
        (uint32_t(uint8_t(size_bytes[0])) << 24) | (uint32_t(uint8_t(size_bytes[1])) << 16) |
        (uint32_t(uint8_t(size_bytes[2])) << 8) | uint32_t(uint8_t(size_bytes[3])));
    if (size < 0 || static_cast<size_t>(size) > options_.max_request_bytes) {
      spdlog::warn(
          "kafka: {}: request size {} is outside 0..{} (max_request_bytes); closing the "
          "connection",
          c->peer, size, options_.max_request_bytes);
      break;
    }
    frame.resize(static_cast<size_t>(size));
    if (size > 0) {
      rr = readFull(c->fd, frame.data(), frame.size(), stop_, options_.idle_timeout, false,
                    deadline);
      if (rr == ReadResult::kDeadline) {
        spdlog::warn(
            "kafka: {}: not authenticated within {} ms of connecting (a request still "
            "incomplete); closing the connection",
            c->peer, options_.auth_timeout.count());
        break;
      }
      if (rr != ReadResult::kOk) {
        spdlog::info("kafka: {}: connection closed in the middle of a request", c->peer);
        break;
      }
    }
    std::optional<std::string> reply =
        session.expectsRawSaslToken() ? session.rawSaslToken(frame) : session.handle(frame);
    if (pending && session.authenticated()) {
      int state = Connection::kPending;
      // Evicted in the meantime: the acceptor has shut the socket down already.
      if (!c->state.compare_exchange_strong(state, Connection::kAuthenticated)) break;
    }
    if (reply && !writeAll(c->fd, *reply)) break;
    if (session.close_after()) break;
  }
  ::shutdown(c->fd, SHUT_RDWR);  // the listener closes the descriptor when it reaps the thread
}

}  // namespace dts::server
