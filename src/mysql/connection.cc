#include "mysql/connection.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "mysql/sql_mode.h"

namespace dts::mysql {

Result<Endpoint> Endpoint::parse(std::string_view text) {
  Endpoint ep;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("endpoint '" + std::string(text) + "': missing ']'");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Status::InvalidArgument("endpoint '" + std::string(text) +
                                       "': expected ':' after ']'");
      }
      port = rest.substr(1);
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
  }
  if (host.empty()) {
    return Status::InvalidArgument("endpoint '" + std::string(text) +
                                   "': empty host (expected host:port)");
  }
  // A host name or IPv4 address, or an IPv6 address in brackets: anything else would only be
  // found unreachable by a connection retried for the whole retry window ('h:3306:1' is host
  // 'h:3306').
  const bool bracketed = text.front() == '[';
  for (char c : host) {
    const bool name = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                      c == '_' || (bracketed && (c == ':' || c == '%'));
    if (name) continue;
    if (c == ':')
      return Status::InvalidArgument("endpoint '" + std::string(text) +
                                     "': more than one ':' (expected host:port; an IPv6 address "
                                     "goes in brackets, as [::1]:3306)");
    return Status::InvalidArgument(
        "endpoint '" + std::string(text) + "': the host '" + std::string(host) +
        "' is not a host name or address (letters, digits, '.', '-' and '_'; an IPv6 address "
        "in brackets)");
  }
  ep.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return Status::InvalidArgument("endpoint '" + std::string(text) + "': port must be 1-65535");
    }
    ep.port = static_cast<uint16_t>(value);
  }
  return ep;
}

namespace {

bool isConnectionError(unsigned err) {
  return err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR || err == CR_SERVER_GONE_ERROR ||
         err == CR_SERVER_LOST || err == CR_UNKNOWN_HOST || err == CR_SERVER_LOST_EXTENDED ||
         err == ER_SERVER_SHUTDOWN || err == ER_CON_COUNT_ERROR || err == ER_CONNECTION_KILLED ||
         err == ER_QUERY_INTERRUPTED;
}

}  // namespace

// The authentication plugins dts lets a server choose (MARIADB_OPT_RESTRICTED_AUTH).
constexpr const char* kAuthPlugins =
    "mysql_native_password,client_ed25519,caching_sha2_password,sha256_password";

Connection::Connection(st_mysql* mysql, ConnectOptions options)
    : mysql_(mysql), options_(std::move(options)) {
  const char* info = mysql_get_server_info(mysql_);
  is_mariadb_ = info != nullptr && std::string_view(info).find("MariaDB") != std::string_view::npos;
}

Connection::~Connection() {
  if (mysql_ != nullptr) mysql_close(mysql_);
}

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectOptions& options) {
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) return Status::Internal("mysql_init failed: out of memory");
  unsigned connect_timeout = static_cast<unsigned>(options.connect_timeout.count());
  unsigned read_timeout = static_cast<unsigned>(options.read_timeout.count());
  unsigned write_timeout = static_cast<unsigned>(options.write_timeout.count());
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  unsigned protocol = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(mysql, MYSQL_OPT_PROTOCOL, &protocol);
  // dts connects without TLS: only methods that never send the password itself. A server (or
  // anything listening at an endpoint an API caller names) asking for mysql_clear_password or
  // dialog (PAM) would otherwise get it in plain text.
  mysql_optionsv(mysql, MARIADB_OPT_RESTRICTED_AUTH, kAuthPlugins);
  if (mysql_real_connect(
          mysql, options.endpoint.host.c_str(), options.user.c_str(), options.password.c_str(),
          options.database.empty() ? nullptr : options.database.c_str(), options.endpoint.port,
          nullptr, CLIENT_MULTI_RESULTS | CLIENT_MULTI_STATEMENTS) == nullptr) {
    unsigned err = mysql_errno(mysql);
    std::string msg = "connecting to " + options.endpoint.toString() + " as '" + options.user +
                      "': " + mysql_error(mysql) + " (error " + std::to_string(err) + ")";
    mysql_close(mysql);
    if (err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR ||
        err == ER_BAD_DB_ERROR || err == ER_ACCESS_DENIED_NO_PASSWORD_ERROR) {
      return Status::FailedPrecondition(msg);
    }
    return Status::Unavailable(msg);
  }
  std::unique_ptr<Connection> conn(new Connection(mysql, options));
  // The session runs under the server's sql_mode without the modes that change dts's own
  // statements and reads (mysql/sql_mode.h).
  DTS_ASSIGN_OR_RETURN(auto mode, conn->queryValue("SELECT @@SESSION.sql_mode"));
  const std::string server_mode = mode.value_or("");
  const std::string ours = sessionSqlModeForDts(server_mode);
  if (ours != server_mode)
    DTS_RETURN_IF_ERROR(conn->execute("SET SESSION sql_mode = " + conn->quoteString(ours)));
  return conn;
}

Status Connection::lastError(std::string_view what) const {
  unsigned err = mysql_errno(mysql_);
  std::string msg = std::string(what) + " on " + options_.endpoint.toString() + ": " +
                    mysql_error(mysql_) + " (error " + std::to_string(err) + ")";
  if (isConnectionError(err)) return Status::Unavailable(msg);
  return Status::FailedPrecondition(msg);
}

unsigned Connection::lastErrorNumber() const {
  return mysql_errno(mysql_);
}

Result<uint64_t> Connection::maxAllowedPacket() {
  if (max_allowed_packet_ == 0) {
    DTS_ASSIGN_OR_RETURN(auto v, queryValue("SELECT @@max_allowed_packet"));
    max_allowed_packet_ = std::strtoull(v.value_or("16777216").c_str(), nullptr, 10);
    if (max_allowed_packet_ == 0) max_allowed_packet_ = 16u << 20;
  }
  return max_allowed_packet_;
}

Status Connection::execute(std::string_view sql) {
  if (sql.size() > (1u << 20)) {
    DTS_ASSIGN_OR_RETURN(uint64_t limit, maxAllowedPacket());
    if (sql.size() + 1024 > limit) {
      return Status::FailedPrecondition(
          "a " + std::to_string(sql.size()) + "-byte statement for " +
          options_.endpoint.toString() + " is larger than its max_allowed_packet (" +
          std::to_string(limit) + "); raise max_allowed_packet there");
    }
  }
  affected_rows_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return lastError("query");
  // Drain every result set so the connection stays usable. The affected rows are read before
  // mysql_next_result, which sets them to -1 when there is no more result.
  do {
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (res != nullptr) {
      mysql_free_result(res);
    } else if (mysql_field_count(mysql_) != 0) {
      return lastError("reading result");
    } else {
      affected_rows_ += mysql_affected_rows(mysql_);
    }
  } while (mysql_next_result(mysql_) == 0);
  if (mysql_errno(mysql_) != 0) return lastError("query");
  return Status::OK();
}

Result<QueryResult> Connection::query(std::string_view sql) {
  affected_rows_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return lastError("query");
  MYSQL_RES* res = mysql_store_result(mysql_);
  if (res == nullptr) {
    if (mysql_field_count(mysql_) != 0) return lastError("reading result");
    return QueryResult{};
  }
  QueryResult out;
  unsigned n = mysql_num_fields(res);
  MYSQL_FIELD* fields = mysql_fetch_fields(res);
  for (unsigned i = 0; i < n; ++i) out.columns.emplace_back(fields[i].name);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    Row r;
    r.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] == nullptr)
        r.emplace_back(std::nullopt);
      else
        r.emplace_back(std::string(row[i], lengths[i]));
    }
    out.rows.push_back(std::move(r));
  }
  mysql_free_result(res);
  while (mysql_next_result(mysql_) == 0) {
    MYSQL_RES* extra = mysql_store_result(mysql_);
    if (extra != nullptr) mysql_free_result(extra);
  }
  if (mysql_errno(mysql_) != 0) return lastError("query");
  return out;
}

Status Connection::queryStream(
    std::string_view sql,
    const std::function<bool(const char* const*, const unsigned long*, unsigned)>& on_row) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return lastError("query");
  MYSQL_RES* res = mysql_use_result(mysql_);
  if (res == nullptr) {
    if (mysql_field_count(mysql_) != 0) return lastError("reading result");
    return Status::OK();
  }
  unsigned n = mysql_num_fields(res);
  bool stopped = false;
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    if (stopped) continue;  // drain: an unbuffered result must be read to the end
    if (!on_row(row, mysql_fetch_lengths(res), n)) stopped = true;
  }
  Status st = mysql_errno(mysql_) != 0 ? lastError("reading rows") : Status::OK();
  mysql_free_result(res);
  return st;
}

Result<std::optional<std::string>> Connection::queryValue(std::string_view sql) {
  DTS_ASSIGN_OR_RETURN(QueryResult r, query(sql));
  if (r.rows.empty() || r.rows[0].empty()) return std::optional<std::string>();
  return r.rows[0][0];
}

std::string Connection::quoteString(std::string_view text) {
  std::string out(text.size() * 2 + 3, '\0');
  out[0] = '\'';
  unsigned long n = mysql_real_escape_string(mysql_, out.data() + 1, text.data(), text.size());
  out.resize(n + 1);
  out.push_back('\'');
  return out;
}

std::string Connection::serverVersion() const {
  const char* v = mysql_get_server_info(mysql_);
  return v == nullptr ? "" : v;
}

uint64_t Connection::affectedRows() const {
  return affected_rows_;
}

unsigned Connection::warningCount() const {
  return mysql_warning_count(mysql_);
}

std::string quoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('`');
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

std::string quoteQualified(std::string_view db, std::string_view table) {
  return quoteIdentifier(db) + "." + quoteIdentifier(table);
}

}  // namespace dts::mysql
