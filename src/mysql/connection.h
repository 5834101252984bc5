// Connection: a client connection to a MySQL or MariaDB server through MariaDB Connector/C.
// Not thread-safe: one connection per thread. Errors never contain the password.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct st_mysql;

namespace dts::mysql {

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string toString() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  // "host:port" or "host" (port 3306). IPv6 as "[::1]:3306".
  static Result<Endpoint> parse(std::string_view text);
};

struct ConnectOptions {
  Endpoint endpoint;
  std::string user;
  std::string password;
  std::string database;  // optional default database
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds read_timeout{60};
  std::chrono::seconds write_timeout{60};
};

using Row = std::vector<std::optional<std::string>>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects; a refused or unreachable server is kUnavailable, bad credentials
  // kFailedPrecondition. The message names the endpoint and user, never the password. The
  // session's sql_mode is the server's without the modes that change what dts's statements mean
  // or what its reads return (sessionSqlModeForDts, mysql/sql_mode.h).
  static Result<std::unique_ptr<Connection>> connect(const ConnectOptions& options);

  // Runs a statement that returns no rows (or whose rows are discarded).
  Status execute(std::string_view sql);
  // Runs a query and buffers every row.
  Result<QueryResult> query(std::string_view sql);
  // Runs a query and streams rows (unbuffered); the callback returns false to stop early.
  // lengths gives each field's length (binary-safe); null fields have a null pointer.
  Status queryStream(
      std::string_view sql,
      const std::function<bool(const char* const* fields, const unsigned long* lengths,
                               unsigned num_fields)>& on_row);
  // The first column of the first row, or nullopt when there is no row or it is NULL.
  Result<std::optional<std::string>> queryValue(std::string_view sql);

  // 'text' quoted as an SQL string literal for this connection's character set.
  std::string quoteString(std::string_view text);

  const ConnectOptions& options() const { return options_; }
  // True when the server is MariaDB (version string contains "MariaDB").
  bool isMariaDB() const { return is_mariadb_; }
  std::string serverVersion() const;
  // The rows the last execute() changed (of every statement it ran); 0 after query().
  uint64_t affectedRows() const;
  // The warnings the last statement raised (mysql_warning_count: free, from its OK packet), for
  // statements that only warn where they changed data (LOAD DATA LOCAL, a lenient sql_mode).
  unsigned warningCount() const;

  // Status for the last error on this connection, with context.
  Status lastError(std::string_view what) const;
  // The server's or client's number for the last error on this connection (0: none), e.g. 1061
  // ER_DUP_KEYNAME, for callers that handle one error specially.
  unsigned lastErrorNumber() const;

  // The server's max_allowed_packet, read once on first use. execute() checks statements
  // above 1 MiB against it: a server sent a larger packet drops the connection, which would
  // look retryable; this is a clear kFailedPrecondition instead.
  Result<uint64_t> maxAllowedPacket();

 private:
  // The Connector/C handle, for the mysql/ classes that speak protocol features Connection does
  // not wrap (replication, bulk execution, local infile). Nothing above mysql/ sees it.
  friend class BinlogStream;
  friend class BulkStatement;
  friend class LocalInfileLoader;
  friend void enableLocalInfile(Connection& conn);
  st_mysql* handle() { return mysql_; }

  Connection(st_mysql* mysql, ConnectOptions options);
  st_mysql* mysql_;
  ConnectOptions options_;
  bool is_mariadb_ = false;
  uint64_t max_allowed_packet_ = 0;  // 0: not read yet
  uint64_t affected_rows_ = 0;
};

// `name` quoted as an identifier: backticks, with embedded backticks doubled.
std::string quoteIdentifier(std::string_view name);
// `db`.`table`
std::string quoteQualified(std::string_view db, std::string_view table);

}  // namespace dts::mysql
