// BulkStatement: a prepared statement (the full load's INSERT, the applier's REPLACE)
// executed once per batch with arrays of parameters, MariaDB's COM_STMT_BULK_EXECUTE
// (https://mariadb.com/kb/en/com_stmt_bulk_execute/): the server runs it once per row of the
// batch. Values travel column by column in binary form; the server parses neither SQL nor text
// per row.
//
// BulkRows is one batch: the values back to back in one buffer, with per column each row's
// offset, length and NULL flag, filled row by row by a reader and executed by a writer.
//
// Thread-safety: a BulkStatement is used by one thread at a time, like its Connection; a BulkRows
// may be filled on one thread and executed on another after being handed over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"

struct st_mysql_stmt;

namespace dts::mysql {

class BulkRows {
 public:
  BulkRows() = default;
  explicit BulkRows(size_t columns) : offsets_(columns), lengths_(columns), nulls_(columns) {}

  // Appends the value of `column` for the current row (data == nullptr: NULL).
  // REQUIRES: column < columns(); each row gets exactly one value per column, then endRow().
  void appendValue(size_t column, const char* data, size_t n) {
    if (data == nullptr) {
      offsets_[column].push_back(0);
      lengths_[column].push_back(0);
      nulls_[column].push_back(1);
    } else {
      offsets_[column].push_back(data_.size());
      lengths_[column].push_back(n);
      nulls_[column].push_back(0);
      data_.append(data, n);
    }
  }
  void endRow() { ++rows_; }

  size_t columns() const { return lengths_.size(); }
  uint64_t rows() const { return rows_; }
  // Bytes of values held (the buffer, without offsets and lengths).
  size_t dataBytes() const { return data_.size(); }
  void reserve(size_t bytes) { data_.reserve(bytes); }

  // Calls fn(fields, lengths, n) for each row, fields[i] == nullptr for NULL (the shape of a
  // row streamed by Connection::queryStream).
  template <typename Fn>
  void forEachRow(Fn&& fn) const {
    const size_t n = columns();
    std::vector<const char*> f(n);
    std::vector<unsigned long> len(n);
    for (uint64_t r = 0; r < rows_; ++r) {
      for (size_t c = 0; c < n; ++c) {
        bool null = nulls_[c][r] != 0;
        f[c] = null ? nullptr : data_.data() + offsets_[c][r];
        len[c] = null ? 0 : lengths_[c][r];
      }
      fn(f.data(), len.data(), static_cast<unsigned>(n));
    }
  }

 private:
  friend class BulkStatement;
  std::string data_;
  uint64_t rows_ = 0;
  std::vector<std::vector<size_t>> offsets_;
  std::vector<std::vector<unsigned long>> lengths_;
  std::vector<std::vector<char>> nulls_;  // 1: NULL (Connector/C's STMT_INDICATOR_NULL)
};

class BulkStatement {
 public:
  // How a parameter is sent: kString as a string in the connection's character set (the server
  // converts it like an INSERT literal, numbers included), kBinary as a binary string stored
  // without conversion, kInt64/kUInt64 as a 64-bit integer (its 8 bytes, host order, in
  // BulkRows).
  enum class Param { kString, kBinary, kInt64, kUInt64 };

  // Whether the server takes arrays of parameters (MariaDB 10.2 or later; not MySQL).
  static bool supported(Connection& conn);

  // Prepares `sql` (a statement with one placeholder per entry of params) on conn.
  // REQUIRES: conn outlives the statement. Errors name the endpoint; *error_number (when given)
  // is the server's number for a failure (ER_MAX_PREPARED_STMT_COUNT_REACHED, ...), else 0.
  static Result<std::unique_ptr<BulkStatement>> prepare(Connection& conn, std::string_view sql,
                                                        std::vector<Param> params,
                                                        unsigned* error_number = nullptr);
  ~BulkStatement();
  BulkStatement(const BulkStatement&) = delete;
  BulkStatement& operator=(const BulkStatement&) = delete;

  // Runs the statement once per row of the batch and returns the affected rows of them all (an
  // INSERT's rows inserted). A lost connection or a server
  // going away is kUnavailable, any other failure kFailedPrecondition; the message gets the
  // server's error number. REQUIRES: rows.columns() == the number of params.
  Result<uint64_t> execute(const BulkRows& rows);
  // The server's or client's number for the last error of this statement (0: none).
  unsigned lastErrorNumber() const;

 private:
  BulkStatement(Connection& conn, st_mysql_stmt* stmt, std::vector<Param> params)
      : conn_(&conn), stmt_(stmt), params_(std::move(params)) {}
  Status error(const std::string& what) const;

  Connection* conn_;
  st_mysql_stmt* stmt_;
  std::vector<Param> params_;
  std::vector<std::vector<char*>> pointers_;     // per column, each row's value (reused)
  std::vector<std::vector<uint64_t>> integers_;  // per integer column, each row's (reused)
};

}  // namespace dts::mysql
