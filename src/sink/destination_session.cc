#include "sink/destination_session.h"

namespace dts::sink {

Result<std::optional<std::string>> DestinationSession::queryValue(std::string_view sql) {
  DTS_ASSIGN_OR_RETURN(mysql::QueryResult r, query(sql));
  if (r.rows.empty() || r.rows[0].empty()) return std::optional<std::string>();
  return r.rows[0][0];
}

void MysqlDestinationSession::noteResult(bool ok) {
  last_errno_ = ok ? 0 : conn_->lastErrorNumber();
}

Status MysqlDestinationSession::execute(std::string_view sql) {
  Status st = conn_->execute(sql);
  noteResult(st.ok());
  return st;
}

bool MysqlDestinationSession::supportsBulk() {
  if (!bulk_.has_value()) bulk_ = mysql::BulkStatement::supported(*conn_);
  return *bulk_;
}

Result<uint64_t> MysqlDestinationSession::executeBulk(
    const std::string& sql, const std::vector<mysql::BulkStatement::Param>& params,
    const mysql::BulkRows& rows) {
  if (!supportsBulk()) {
    return Status::Unsupported("the destination " + conn_->options().endpoint.toString() +
                               " takes no arrays of parameters (MariaDB 10.2 or later does)");
  }
  // The same text binds its values by the column types it was prepared with: a column whose
  // type a DDL changed (INT to BIGINT UNSIGNED) needs a statement of its own.
  std::string key = sql;
  key.push_back('\0');
  for (mysql::BulkStatement::Param p : params)
    key.push_back(static_cast<char>('0' + static_cast<int>(p)));
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    if (prepared_.size() >= kMaxPrepared) prepared_.clear();
    auto stmt = mysql::BulkStatement::prepare(*conn_, sql, params, &last_errno_);
    if (!stmt.ok()) return stmt.status();
    it = prepared_.emplace(std::move(key), std::move(stmt).value()).first;
  }
  auto matched = it->second->execute(rows);
  last_errno_ = matched.ok() ? 0 : it->second->lastErrorNumber();
  if (!matched.ok()) prepared_.erase(it);
  return matched;
}

Result<mysql::QueryResult> MysqlDestinationSession::query(std::string_view sql) {
  auto r = conn_->query(sql);
  noteResult(r.ok());
  return r;
}

SessionFactory mysqlSessionFactory(mysql::ConnectOptions options) {
  return [options = std::move(options)]() -> Result<std::unique_ptr<DestinationSession>> {
    DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(options));
    return std::unique_ptr<DestinationSession>(new MysqlDestinationSession(std::move(conn)));
  };
}

}  // namespace dts::sink
