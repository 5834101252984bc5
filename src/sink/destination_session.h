// DestinationSession: one session of the MySQL applier with its destination server, the seam
// between the applier's logic (ordering, batching, checkpoints, retries) and the network. The
// real one runs over mysql::Connection (MysqlDestinationSession); unit tests use
// FakeDestination (fake_destination_for_tests.h), which records what each session runs and can
// fail any statement.
//
// Contract: a session is one server session: statements run in order, a transaction opened on
// it stays open until COMMIT or ROLLBACK or until the session ends (destroying a session ends it,
// and the server rolls back what it left open). Errors are those of mysql::Connection: a lost
// connection is kUnavailable, a server error kFailedPrecondition with "(error N)" in its message,
// and lastErrorNumber() is N (0 after a success).
// Thread-safety: none; one thread uses a session at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "mysql/bulk_statement.h"
#include "mysql/connection.h"
#include "mysql/row_decoder.h"

namespace dts::sink {

class DestinationSession {
 public:
  virtual ~DestinationSession() = default;

  // Runs one or more ';'-separated statements; rows they return are discarded. On an error the
  // statements after the failing one do not run.
  virtual Status execute(std::string_view sql) = 0;
  // Runs `sql` once per row of `rows` in one round trip (mysql::BulkStatement, prepared once per
  // session and text): the applier's bulk REPLACE, one placeholder per entry of params. Returns
  // the affected rows. kUnsupported when supportsBulk() is false; other errors as execute()'s.
  virtual Result<uint64_t> executeBulk(const std::string& sql,
                                       const std::vector<mysql::BulkStatement::Param>& params,
                                       const mysql::BulkRows& rows) = 0;
  // Whether the server takes arrays of parameters (MariaDB 10.2 or later; not MySQL).
  virtual bool supportsBulk() = 0;
  // MySQL or MariaDB: what the server stores of a FLOAT or DOUBLE -0 (sql_literal.h).
  virtual mysql::ServerFlavor flavor() = 0;
  // Runs a query and returns every row.
  virtual Result<mysql::QueryResult> query(std::string_view sql) = 0;
  // The server error number of the last failed call (ER_LOCK_DEADLOCK, ...), 0 after a success.
  virtual unsigned lastErrorNumber() const = 0;
  // The server's max_allowed_packet: no round trip may be larger.
  virtual Result<uint64_t> maxAllowedPacket() = 0;
  // `text` as an SQL string literal for this session's character set.
  virtual std::string quoteString(std::string_view text) = 0;

  // The first column of the first row, or nullopt when there is no row or it is NULL.
  Result<std::optional<std::string>> queryValue(std::string_view sql);
};

// Opens a new session (the applier opens one per worker plus a control session).
using SessionFactory = std::function<Result<std::unique_ptr<DestinationSession>>()>;

// A session over a real connection.
class MysqlDestinationSession final : public DestinationSession {
 public:
  explicit MysqlDestinationSession(std::unique_ptr<mysql::Connection> conn)
      : owned_(std::move(conn)), conn_(owned_.get()) {}
  // Borrows conn, which must outlive the session.
  explicit MysqlDestinationSession(mysql::Connection& conn) : conn_(&conn) {}
  Status execute(std::string_view sql) override;
  Result<uint64_t> executeBulk(const std::string& sql,
                               const std::vector<mysql::BulkStatement::Param>& params,
                               const mysql::BulkRows& rows) override;
  bool supportsBulk() override;
  mysql::ServerFlavor flavor() override {
    return conn_->isMariaDB() ? mysql::ServerFlavor::kMariaDb : mysql::ServerFlavor::kMySql;
  }
  Result<mysql::QueryResult> query(std::string_view sql) override;
  unsigned lastErrorNumber() const override { return last_errno_; }
  Result<uint64_t> maxAllowedPacket() override { return conn_->maxAllowedPacket(); }
  std::string quoteString(std::string_view text) override { return conn_->quoteString(text); }

 private:
  void noteResult(bool ok);
  std::unique_ptr<mysql::Connection> owned_;
  mysql::Connection* conn_;
  unsigned last_errno_ = 0;
  std::optional<bool> bulk_;  // supportsBulk(), asked once
  // Prepared bulk statements by text and parameter types (a session applies a bounded set of
  // tables; the map is emptied when it reaches kMaxPrepared).
  static constexpr size_t kMaxPrepared = 64;
  std::unordered_map<std::string, std::unique_ptr<mysql::BulkStatement>> prepared_;
};

// Connects to `options` for every session.
SessionFactory mysqlSessionFactory(mysql::ConnectOptions options);

}  // namespace dts::sink
