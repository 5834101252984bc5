#include "mysql/bulk_statement.h"

#include <mysql.h>

#include <cstring>

#include "mysql/client_error.h"

namespace dts::mysql {

static_assert(STMT_INDICATOR_NONE == 0 && STMT_INDICATOR_NULL == 1,
              "BulkRows stores Connector/C's indicator values");

bool BulkStatement::supported(Connection& conn) {
  MYSQL* h = conn.handle();
  unsigned long caps = 0, extended = 0;
  if (mariadb_get_infov(h, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps) != 0 ||
      mariadb_get_infov(h, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &extended) != 0) {
    return false;
  }
  return (caps & CLIENT_MYSQL) == 0 &&
         (extended & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

Result<std::unique_ptr<BulkStatement>> BulkStatement::prepare(Connection& conn,
                                                              std::string_view sql,
                                                              std::vector<Param> params,
                                                              unsigned* error_number) {
  if (error_number != nullptr) *error_number = 0;
  MYSQL_STMT* stmt = mysql_stmt_init(conn.handle());
  if (stmt == nullptr) return Status::Internal("mysql_stmt_init: out of memory");
  std::unique_ptr<BulkStatement> out(new BulkStatement(conn, stmt, std::move(params)));
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
    if (error_number != nullptr) *error_number = out->lastErrorNumber();
    return out->error("preparing a bulk statement");
  }
  return out;
}

BulkStatement::~BulkStatement() {
  mysql_stmt_close(stmt_);
}

Result<uint64_t> BulkStatement::execute(const BulkRows& b) {
  const size_t n = params_.size();
  if (b.columns() != n) {
    return Status::Internal("bulk statement: a batch of " + std::to_string(b.columns()) +
                            " columns for a statement of " + std::to_string(n));
  }
  pointers_.resize(n);
  integers_.resize(n);
  std::vector<MYSQL_BIND> binds(n);
  for (size_t c = 0; c < n; ++c) {
    MYSQL_BIND& bind = binds[c];
    std::memset(&bind, 0, sizeof bind);
    bind.u.indicator = const_cast<char*>(b.nulls_[c].data());
    if (params_[c] == Param::kInt64 || params_[c] == Param::kUInt64) {
      // Fixed-size values go as one array of them.
      integers_[c].resize(b.rows_);
      for (uint64_t r = 0; r < b.rows_; ++r) {
        uint64_t v = 0;
        if (b.nulls_[c][r] == 0) {
          if (b.lengths_[c][r] != 8) {
            return Status::Internal("bulk statement: an integer parameter of " +
                                    std::to_string(b.lengths_[c][r]) + " bytes");
          }
          std::memcpy(&v, b.data_.data() + b.offsets_[c][r], 8);
        }
        integers_[c][r] = v;
      }
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.is_unsigned = params_[c] == Param::kUInt64;
      bind.buffer = integers_[c].data();
      continue;
    }
    pointers_[c].resize(b.rows_);
    for (uint64_t r = 0; r < b.rows_; ++r)
      pointers_[c][r] = const_cast<char*>(b.data_.data()) + b.offsets_[c][r];
    // BLOB parameters are taken as binary strings, stored without conversion; STRING ones in the
    // connection's character set.
    bind.buffer_type = params_[c] == Param::kBinary ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
    bind.buffer = pointers_[c].data();
    bind.length = const_cast<unsigned long*>(b.lengths_[c].data());
  }
  auto rows = static_cast<unsigned int>(b.rows_);
  if (mysql_stmt_attr_set(stmt_, STMT_ATTR_ARRAY_SIZE, &rows) != 0 ||
      mysql_stmt_bind_param(stmt_, binds.data()) != 0) {
    return error("binding a bulk statement");
  }
  if (mysql_stmt_execute(stmt_) != 0) return error("bulk statement");
  return static_cast<uint64_t>(mysql_stmt_affected_rows(stmt_));
}

unsigned BulkStatement::lastErrorNumber() const {
  return mysql_stmt_errno(stmt_);
}

Status BulkStatement::error(const std::string& what) const {
  return writeFailure(
      mysql_stmt_errno(stmt_),
      what + " on " + conn_->options().endpoint.toString() + ": " + mysql_stmt_error(stmt_));
}

}  // namespace dts::mysql
