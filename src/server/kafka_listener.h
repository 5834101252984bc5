// KafkaListener: the Kafka wire protocol a consumer needs, over the change logs of tracking tasks
// (one topic per task, named after it, one partition 0). `dts server --kafka-listen HOST:PORT`
// starts one per server. Messages: server/kafka_protocol.h; groups and committed offsets:
// server/kafka_groups.h; versions served and client notes: docs/kafka.md.
//
// Contract:
//   - SASL/PLAIN is required: before it succeeds only ApiVersions, SaslHandshake and
//     SaslAuthenticate are answered (anything else is logged and the connection closed, as Kafka
//     does). The password is `token` (the server's API token), any user name, or a consumer
//     group's read-only token (group_token): that connection then sees only its task's topics
//     (TASK and its views TASK.FORMAT) and acts only as its group: other topics are answered
//     TOPIC_AUTHORIZATION_FAILED, other groups GROUP_AUTHORIZATION_FAILED (Metadata of all
//     topics lists only its own). A wrong password is
//     answered SASL_AUTHENTICATION_FAILED (SaslAuthenticate) and the connection closed; with
//     handshake v0 (raw token frames) the connection is closed, which is what that protocol has.
//   - Unserved API keys and versions are answered with UNSUPPORTED_VERSION (KIP-511 shape);
//     Produce with UNSUPPORTED_VERSION per partition (topics are read-only); a malformed body in an
//     intact frame with INVALID_REQUEST where the response has an error code (else an empty
//     response), and logged. The connection closes only when framing is lost (size prefix out of
//     range, or a frame too short for a header) or on the SASL failures above.
//   - Requests on one connection are answered in order, one at a time; Fetch long-polls up to its
//     max_wait_ms (capped at max_wait) through ChangeLogReader::waitBeyond.
//   - Bounded: at most max_connections connections (one thread each). A connection must finish
//     SASL within auth_timeout of connecting (else it is closed, logged); at the limit, a new
//     connection closes the oldest one that has not authenticated yet, and is refused (an error
//     in the log) only when every open connection has: connections that send nothing never lock
//     consumers out. Beyond that, requests above max_request_bytes close the connection, a Fetch
//     response holds at most max_fetch_bytes of records (always at least one record, KIP-74).
//   - lookup(topic) returns the task's reader or null (unknown topic: UNKNOWN_TOPIC_OR_PARTITION);
//     topics() lists every topic a Metadata request for all topics shows. Both are called from
//     connection threads, concurrently.
// Thread-safety: start/stop from one thread; the listener's own threads do the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "server/group_tokens.h"
#include "server/kafka_groups.h"
#include "sink/change_log_reader.h"

namespace dts::server {

struct KafkaListenerOptions {
  std::string listen = "127.0.0.1:9092";  // HOST:PORT; port 0 picks a free one
  std::string token;                      // the SASL/PLAIN password (the API token)
  // A consumer group's read-only token as the password (server/group_tokens.h): its scope, or
  // nullopt when the password is not one. Null: only `token` is accepted. Called from connection
  // threads at authentication, and again every few seconds while the connection is used (a
  // revoked token's connections close).
  std::function<std::optional<GroupTokenScope>(const std::string& password)> group_token;
  std::string offsets_db;  // SQLite file of committed offsets
  std::function<std::shared_ptr<const sink::ChangeLogReader>(const std::string& topic)> lookup;
  std::function<std::vector<std::string>()> topics;
  size_t max_connections = 256;
  size_t max_request_bytes = 1 << 20;
  size_t max_fetch_bytes = 64 << 20;
  std::chrono::milliseconds max_wait{30000};               // longest Fetch long poll
  std::chrono::milliseconds idle_timeout{10 * 60 * 1000};  // Kafka's connections.max.idle.ms
  std::chrono::milliseconds auth_timeout{10000};           // connect to SASL success
};

class KafkaListener {
 public:
  // Binds, opens the offset store and starts accepting. Errors name the address or the file.
  static Result<std::unique_ptr<KafkaListener>> start(KafkaListenerOptions options);
  ~KafkaListener();
  KafkaListener(const KafkaListener&) = delete;
  KafkaListener& operator=(const KafkaListener&) = delete;

  int port() const { return port_; }
  // Stops accepting, closes every connection (blocked long polls and group waits return) and
  // joins the threads. Idempotent.
  void stop();

  size_t connectionCount() const { return active_.load(); }

 private:
  struct Connection;
  explicit KafkaListener(KafkaListenerOptions options);
  void acceptLoop();
  void serve(Connection* c);
  // Closes the oldest connection that has not authenticated (to make room for for_peer); false
  // when every connection has.
  bool evictPending(const std::string& for_peer);

  KafkaListenerOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> active_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
  kafka::GroupCoordinator groups_;
  std::unique_ptr<kafka::OffsetStore> offsets_;
};

}  // namespace dts::server
