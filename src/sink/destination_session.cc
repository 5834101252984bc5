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
