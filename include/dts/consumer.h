// dts::consumer — read a tracking task's change log from a dts server over HTTP
// (GET /api/v1/tasks/TASK/changes, docs/api.md), as a member of a consumer group whose committed
// offsets the server keeps (the same groups as its Kafka listener). Records are those of
// docs/change-records.md. Usage and an example: docs/consumer.md, examples/consumer_example.cc.
//
// Contract:
//   - Delivery is in log order: whole transactions (runTransactions), or one record at a time
//     (runRecords). A record is delivered again only after a crash or a reconnect that resumes
//     before it (at-least-once); within one run() nothing is delivered twice.
//   - position() is the offset after the last record handed to the handler (in transaction mode:
//     after the last transaction); commit() stores it for the group (Kafka semantics: the next
//     offset to read). With auto_commit, the consumer commits itself after each transaction (at
//     most every auto_commit_interval; a commit the interval put off is made by a thread of
//     run*() once it has passed, also while nothing more arrives).
//   - The first connection starts at `from`, or, when it is empty, right after the group's last
//     commit (the earliest record for a group that never committed). A lost connection (server
//     restart, network) is retried with back-off, resuming at position(): nothing is skipped.
//   - Memory is bounded: a transaction larger than max_transaction_bytes is delivered in parts
//     (Transaction::complete is false for all but its last part).
//   - With a `format` other than the native records (debezium-json, canal-json, maxwell-json),
//     Record::line is the record as the server encodes it, byte for byte; offsets, ops, commits,
//     resumption and transactions work as with the native records (the stream is read with
//     envelope=true: each record's offset and op beside it, and the begin/commit markers, which
//     such formats have none of and which are delivered only when `ops` lists them). A group's
//     committed offsets are per topic, as in Kafka: with a view format, commit() and committed()
//     use that view's (the Kafka topic TASK.FORMAT's), so a group reading TASK.canal-json over
//     Kafka and over HTTP with format canal-json shares one position.
//
// Thread-safety: run*() in one thread at a time; commit() from the handler's thread (or any
// thread while run*() is not running); stop() from any thread, including a signal watcher.
// Dependencies: cpp-httplib and nlohmann-json only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dts::consumer {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // bad options or parameters (HTTP 400)
    kNotFound,         // no such task, or an offset outside the log (404)
    kUnauthenticated,  // missing or wrong token (401/403)
    kUnavailable,      // the server cannot be reached (after the retry window, if any)
    kInternal,         // the server or the stream failed otherwise
  };
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status OK() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

struct Options {
  std::string server = "http://127.0.0.1:8686";  // http://HOST:PORT or https://HOST:PORT
  std::string token;                             // the server's API token
  std::string ca_cert;                           // https: a PEM file to trust ("" = system)
  std::string task;                              // a tracking task
  std::string group;  // consumer group ("" = none: no commits, start at `from` or earliest)
  // earliest | latest | OFFSET | TIME (2026-12-02T05:00:00Z, ms:MILLISECONDS). Empty: right
  // after the group's last commit (earliest without a group or a commit).
  std::string from;
  std::vector<std::string> tables;  // "db.table" or "table"; empty = all
  // insert, update, delete, ddl, begin, commit; empty = all. Markers are always read (they
  // delimit transactions), and delivered only when listed (or when the list is empty).
  std::vector<std::string> ops;
  std::string format;  // passed through as format=... ("" = native records)
  bool auto_commit = false;
  std::chrono::milliseconds auto_commit_interval{0};  // 0: after every transaction
  size_t max_transaction_bytes = 64 << 20;
  // false: Record::value stays null for row and DDL records (offset, op and line are set), which
  // spares a JSON parse per record when the caller only passes lines on (dts subscribe).
  bool parse_values = true;
  std::chrono::milliseconds connect_timeout{5000};
  // A stream with nothing new for this long ends and is opened again (keeps dead peers found).
  std::chrono::milliseconds idle_reopen{25000};
  std::chrono::milliseconds retry_min{200};
  std::chrono::milliseconds retry_max{5000};
  // How long to keep retrying an unreachable server (0 = forever).
  std::chrono::milliseconds retry_window{0};
  // Called before each retry with the error (logging).
  std::function<void(const Status& error, std::chrono::milliseconds delay)> on_retry;
};

struct Record {
  int64_t offset = -1;   // -1 when the line has none (a foreign format)
  std::string op;        // begin, insert, update, delete, ddl, commit; "" when unknown
  std::string line;      // the line as received (without its newline)
  nlohmann::json value;  // the parsed line (null when it is not JSON, or !parse_values)
};

struct Transaction {
  std::string id;    // tx.id: the GTID, or file:pos of its start
  std::string gtid;  // "" without one
  int64_t ts_ms = 0;
  // Row changes and DDL (and the markers when Options::ops lists them), in log order.
  std::vector<Record> records;
  int64_t end_offset = -1;  // the offset after this transaction's last record (what to commit)
  bool complete = true;     // false: a part of a transaction larger than max_transaction_bytes
  int64_t event_count = 0;  // from the commit marker (complete transactions)
};

class Consumer {
 public:
  // Return false to stop (run* returns OK; position() is after the record/transaction handed).
  using RecordHandler = std::function<bool(const Record&)>;
  using TransactionHandler = std::function<bool(const Transaction&)>;

  // Options are checked by run*() (kInvalidArgument).
  explicit Consumer(Options options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Read and deliver until the handler returns false, stop() is called (both: OK) or an error
  // that retrying cannot mend (bad token, unknown task, offset expired by retention, a stream
  // error line from the server).
  Status runRecords(const RecordHandler& handler);
  Status runTransactions(const TransactionHandler& handler);

  // Commits position() (or `offset`) for the group. kInvalidArgument without a group or a
  // position. Retries a lost connection within the retry window like reading does.
  Status commit();
  Status commit(int64_t offset);
  // The group's committed offset (-1: never committed).
  Status committed(int64_t* offset);

  // Makes run*() return soon (OK), interrupting a blocked read. Idempotent.
  void stop();
  bool stopped() const { return stop_.load(); }

  int64_t position() const { return position_.load(); }
  int64_t lastCommitted() const { return last_committed_.load(); }

  // How long run*() has been connected to the stream with no byte arriving (the server sends
  // nothing only when the consumer has read to the log's end). 0 while bytes arrive (a long line
  // still incomplete counts as arriving), while the handler runs, and while not connected
  // (connecting, retrying, not running): a consumer that is behind never looks idle. Any thread.
  std::chrono::milliseconds idleFor() const;

 private:
  struct Impl;
  Status run(const RecordHandler* on_record, const TransactionHandler* on_transaction);
  Status maybeAutoCommit();
  // run()'s committer thread: makes the commit maybeAutoCommit put off once the interval has
  // passed, also while the stream is idle.
  void commitPutOff();
  // commit(offset) with impl_->control_mu held.
  Status commitLocked(int64_t offset);
  std::string formatQuery() const;  // "?format=F" for a view format, else ""

  Options options_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> position_{-1};
  std::atomic<int64_t> last_committed_{-1};
  std::chrono::steady_clock::time_point last_auto_commit_{};
  std::atomic<int64_t> idle_since_ms_{-1};  // steady clock ms; -1: not connected
  std::atomic<bool> busy_{false};           // bytes are being handled
};

}  // namespace dts::consumer
