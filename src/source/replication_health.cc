#include "source/replication_health.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/secrets.h"
#include "mysql/event_header.h"
#include "source/retry_policy.h"

namespace dts::source {

namespace {

// ER_SPECIFIC_ACCESS_DENIED_ERROR ("you need (at least one of) the X privilege(s)"),
// ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR.
bool isAccessDenied(unsigned errnum) {
  return errnum == 1227 || errnum == 1045 || errnum == 1044;
}

constexpr size_t kMaxErrorText = 600;  // a replica error may quote a whole statement

// The column's index, trying each name in turn (MariaDB/old MySQL name first, then MySQL 8's).
std::optional<size_t> column(const mysql::QueryResult& r,
                             std::initializer_list<const char*> names) {
  for (const char* name : names) {
    for (size_t i = 0; i < r.columns.size(); ++i) {
      if (r.columns[i] == name) return i;
    }
  }
  return std::nullopt;
}

std::string cell(const mysql::Row& row, std::optional<size_t> i) {
  if (!i.has_value() || *i >= row.size()) return "";
  return row[*i].value_or("");
}

std::string oneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string errorText(const std::string& s, const std::vector<std::string>& secrets) {
  std::string out = redactSqlPasswords(oneLine(s));
  for (const auto& secret : secrets) out = redactSecret(std::move(out), secret);
  if (out.size() > kMaxErrorText) out = out.substr(0, kMaxErrorText) + "...";
  return out;
}

}  // namespace

const char* replicationStateName(ReplicationHealth::State state) {
  using S = ReplicationHealth::State;
  switch (state) {
    case S::kNotWatched: return "";
    case S::kNotReplica: return "not_replica";
    case S::kRunning: return "running";
    case S::kStopped: return "stopped";
    case S::kUnknown: return "unknown";
  }
  return "";
}

Result<std::vector<ReplicationChannel>> parseReplicaStatus(const mysql::QueryResult& r) {
  std::vector<ReplicationChannel> out;
  if (r.rows.empty()) return out;
  const auto io = column(r, {"Slave_IO_Running", "Replica_IO_Running"});
  const auto sql = column(r, {"Slave_SQL_Running", "Replica_SQL_Running"});
  if (!io.has_value() || !sql.has_value()) {
    return Status::Corruption(std::string("replica status has no column ") +
                              (!io.has_value() ? "Slave_IO_Running (or Replica_IO_Running)"
                                               : "Slave_SQL_Running (or Replica_SQL_Running)") +
                              "; columns: " + std::to_string(r.columns.size()));
  }
  const auto name = column(r, {"Connection_name", "Channel_Name", "Channel_name"});
  const auto behind = column(r, {"Seconds_Behind_Master", "Seconds_Behind_Source"});
  const auto io_errno = column(r, {"Last_IO_Errno"});
  const auto io_error = column(r, {"Last_IO_Error"});
  const auto sql_errno = column(r, {"Last_SQL_Errno"});
  const auto sql_error = column(r, {"Last_SQL_Error"});
  const auto server_id = column(r, {"Master_Server_Id", "Source_Server_Id"});
  const auto gtid = column(r, {"Gtid_Slave_Pos", "Executed_Gtid_Set", "Gtid_IO_Pos"});
  for (const auto& row : r.rows) {
    ReplicationChannel c;
    c.name = cell(row, name);
    c.io_running = cell(row, io);
    c.sql_running = cell(row, sql);
    if (behind.has_value() && *behind < row.size() && row[*behind].has_value()) {
      char* end = nullptr;
      const std::string& text = *row[*behind];
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (!text.empty() && end != nullptr && *end == '\0' && v >= 0) c.seconds_behind = v;
    }
    c.last_io_errno = static_cast<unsigned>(std::strtoul(cell(row, io_errno).c_str(), nullptr, 10));
    c.last_sql_errno =
        static_cast<unsigned>(std::strtoul(cell(row, sql_errno).c_str(), nullptr, 10));
    c.last_io_error = cell(row, io_error);
    c.last_sql_error = cell(row, sql_error);
    c.source_server_id = cell(row, server_id);
    c.gtid_position = oneLine(cell(row, gtid));
    out.push_back(std::move(c));
  }
  return out;
}

ReplicationHealth decideReplicationHealth(const std::vector<ReplicationChannel>& channels,
                                          const std::string& node) {
  ReplicationHealth h;
  h.node = node;
  if (channels.empty()) {
    h.state = ReplicationHealth::State::kNotReplica;
    return h;
  }
  const ReplicationChannel* worst = nullptr;
  for (const auto& c : channels) {
    if (!c.running()) {
      worst = &c;
      break;
    }
    if (worst == nullptr || c.seconds_behind.value_or(-1) > worst->seconds_behind.value_or(-1))
      worst = &c;
  }
  h.state =
      worst->running() ? ReplicationHealth::State::kRunning : ReplicationHealth::State::kStopped;
  h.channel = worst->name;
  h.io_running = worst->io_running;
  h.sql_running = worst->sql_running;
  if (worst->running()) h.seconds_behind = worst->seconds_behind;
  std::string error;
  if (!worst->last_sql_error.empty()) {
    error =
        "SQL thread error " + std::to_string(worst->last_sql_errno) + ": " + worst->last_sql_error;
  }
  if (!worst->last_io_error.empty()) {
    error += (error.empty() ? "" : "; ") + std::string("IO thread error ") +
             std::to_string(worst->last_io_errno) + ": " + worst->last_io_error;
  }
  h.error = error;
  // One position for the node: its only channel's, or the one whose condition is shown.
  h.gtid_position = worst->gtid_position;
  return h;
}

std::string replicaStatusPrivilege(const std::string& server_message, bool mariadb) {
  // "Access denied; you need (at least one of) the SLAVE MONITOR privilege(s) for this operation"
  const std::string kNeed = "the ";
  size_t at = server_message.find("you need");
  if (at != std::string::npos) {
    size_t start = server_message.find(kNeed, at);
    size_t end = server_message.find(" privilege", start == std::string::npos ? at : start);
    if (start != std::string::npos && end != std::string::npos && end > start + kNeed.size()) {
      // "at least one of": "SUPER, SLAVE MONITOR" are alternatives.
      std::string list = server_message.substr(start + kNeed.size(), end - start - kNeed.size());
      for (size_t comma; (comma = list.find(", ")) != std::string::npos;)
        list.replace(comma, 2, " or ");
      return list;
    }
  }
  return mariadb ? "SLAVE MONITOR (MariaDB 10.5.9 and later; REPLICATION CLIENT or SUPER before)"
                 : "REPLICATION CLIENT";
}

std::string replicaStatusGrant(const std::string& privilege) {
  std::string grant = privilege.substr(0, privilege.find(" ("));
  if (size_t alt = grant.rfind(" or "); alt != std::string::npos) grant = grant.substr(alt + 4);
  return grant;
}

std::string replicaStatusStatement(bool mariadb, const std::string& server_version) {
  if (mariadb) return "SHOW ALL SLAVES STATUS";
  return mysql::serverVersionNumber(server_version) >= 80022 ? "SHOW REPLICA STATUS"
                                                             : "SHOW SLAVE STATUS";
}

Result<ReplicationHealth> readReplicationHealth(mysql::Connection& node, const std::string& name,
                                                const std::vector<std::string>& secrets) {
  const std::string statement = replicaStatusStatement(node.isMariaDB(), node.serverVersion());
  auto rows = node.query(statement);
  if (!rows.ok()) {
    if (isAccessDenied(node.lastErrorNumber())) {
      ReplicationHealth h;
      h.node = name;
      h.state = ReplicationHealth::State::kUnknown;
      h.reason = "needs " + replicaStatusPrivilege(rows.status().message(), node.isMariaDB()) +
                 " (" + statement + " was refused to user '" + node.options().user + "')";
      return h;
    }
    return rows.status().withContext("reading the replication status of node " + name);
  }
  DTS_ASSIGN_OR_RETURN(auto channels, parseReplicaStatus(*rows));
  for (auto& c : channels) {
    c.last_io_error = errorText(c.last_io_error, secrets);
    c.last_sql_error = errorText(c.last_sql_error, secrets);
  }
  return decideReplicationHealth(channels, name);
}

std::string describeReplicationHealth(const ReplicationHealth& h) {
  using S = ReplicationHealth::State;
  const std::string who =
      "source node " + h.node + (h.channel.empty() ? "" : " (channel '" + h.channel + "')");
  const std::string since =
      h.since_ms > 0
          ? " since " + formatTime(Clock::TimePoint(std::chrono::milliseconds(h.since_ms)))
          : "";
  switch (h.state) {
    case S::kNotWatched:
    case S::kNotReplica: return "";
    case S::kRunning:
      return "replication of " + who + " running, " +
             (h.seconds_behind.has_value()
                  ? std::to_string(*h.seconds_behind) + " s behind its primary"
                  : std::string("delay behind its primary unknown"));
    case S::kStopped:
      return "replication of " + who + " STOPPED" + since + " (IO thread " + h.io_running +
             ", SQL thread " + h.sql_running + ")" + (h.error.empty() ? "" : ": " + h.error) +
             "; the task receives none of the primary's changes until it runs again (lag unknown:"
             " node replication stopped; fix it on the node, then START SLAVE)";
    case S::kUnknown: return "replication health of " + who + " unknown: " + h.reason;
  }
  return "";
}

nlohmann::json replicationHealthJson(const ReplicationHealth& h) {
  if (h.state == ReplicationHealth::State::kNotWatched) return nullptr;
  return {{"state", replicationStateName(h.state)},
          {"node", h.node},
          {"channel", h.channel},
          {"io_running", h.io_running},
          {"sql_running", h.sql_running},
          {"seconds_behind",
           h.seconds_behind.has_value() ? nlohmann::json(*h.seconds_behind) : nlohmann::json()},
          {"error", h.error},
          {"gtid_position", h.gtid_position},
          {"reason", h.reason},
          {"since_ms", h.since_ms},
          {"message", describeReplicationHealth(h)}};
}

ReplicationHealth replicationHealthFromJson(const nlohmann::json& j) {
  ReplicationHealth h;
  if (!j.is_object()) return h;
  const std::string state = j.value("state", "");
  for (auto s : {ReplicationHealth::State::kNotReplica, ReplicationHealth::State::kRunning,
                 ReplicationHealth::State::kStopped, ReplicationHealth::State::kUnknown}) {
    if (state == replicationStateName(s)) h.state = s;
  }
  if (h.state == ReplicationHealth::State::kNotWatched) return h;
  h.node = j.value("node", "");
  h.channel = j.value("channel", "");
  h.io_running = j.value("io_running", "");
  h.sql_running = j.value("sql_running", "");
  if (auto b = j.find("seconds_behind"); b != j.end() && b->is_number_integer())
    h.seconds_behind = b->get<int64_t>();
  h.error = j.value("error", "");
  h.gtid_position = j.value("gtid_position", "");
  h.reason = j.value("reason", "");
  h.since_ms = j.value("since_ms", int64_t{0});
  return h;
}

ReplicationWatch::ReplicationWatch(Options options, OnUpdate on_update)
    : options_(std::move(options)),
      on_update_(std::move(on_update)),
      thread_(options_.interval, [this] {
        checkOnce();
        return true;
      }) {}

ReplicationHealth ReplicationWatch::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Result<ReplicationHealth> ReplicationWatch::read() {
  if (node_conn_ == nullptr) {
    DTS_ASSIGN_OR_RETURN(node_conn_, mysql::Connection::connect(options_.node));
  }
  std::vector<std::string> secrets = {options_.node.password};
  auto h = readReplicationHealth(*node_conn_, options_.node_name, secrets);
  if (!h.ok()) {
    node_conn_.reset();  // reopened at the next poll
    return h.status();
  }
  if (h->state == ReplicationHealth::State::kStopped && options_.primary.has_value()) {
    // A node promoted by stopping its replication without RESET SLAVE ALL is the primary now,
    // not a broken secondary: the read/write endpoint leads to the same server.
    auto node_id = node_conn_->queryValue("SELECT @@server_id");
    auto primary = mysql::Connection::connect(*options_.primary);
    if (node_id.ok() && primary.ok()) {
      auto primary_id = (*primary)->queryValue("SELECT @@server_id");
      if (primary_id.ok() && node_id->has_value() && *node_id == *primary_id) {
        ReplicationHealth p;
        p.node = options_.node_name;
        p.state = ReplicationHealth::State::kNotReplica;
        return p;
      }
    }
  }
  return h;
}

void ReplicationWatch::checkOnce() {
  auto h = read();
  // A node out of reach: the task's own retry says so; the last known health stays.
  if (!h.ok()) return;
  ReplicationHealth now = std::move(h).value();
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = !now.sameCondition(current_);
    now.since_ms = changed ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                 options_.clock->now().time_since_epoch())
                                 .count()
                           : current_.since_ms;
    current_ = now;
  }
  if (on_update_) on_update_(now, changed);
}

}  // namespace dts::source
