// The replication health of the secondary node a task reads. The task's lag is measured against
// the node it reads (the node's binlog), so a node whose own replication from the primary has
// stopped looks perfectly caught up while it no longer receives the primary's changes. This
// watch reads the node's replica status (MariaDB `SHOW ALL SLAVES STATUS`, MySQL
// `SHOW REPLICA STATUS` / `SHOW SLAVE STATUS`) at the node watch's cadence and says whether the
// node is receiving and applying the primary's changes, how far behind it is, and why not.
//
// A stopped or broken node replication is a degraded condition of the task, never a failure:
// the task keeps reading what the node has; the DBA must act on the node.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/status.h"
#include "mysql/connection.h"

namespace dts::source {

// One replication channel of a node (MariaDB: a named connection of multi-source replication,
// "" the default one; MySQL: a channel), as its replica status row has it.
struct ReplicationChannel {
  std::string name;
  std::string io_running;                 // "Yes" | "No" | "Connecting" | "Preparing" ...
  std::string sql_running;                // "Yes" | "No"
  std::optional<int64_t> seconds_behind;  // Seconds_Behind_Master/_Source; nullopt when NULL
  unsigned last_io_errno = 0, last_sql_errno = 0;
  std::string last_io_error, last_sql_error;  // server text, passwords redacted
  std::string source_server_id;               // Master_Server_Id / Source_Server_Id
  std::string gtid_position;  // MariaDB Gtid_Slave_Pos (ALL SLAVES), MySQL Executed_Gtid_Set
  bool running() const { return io_running == "Yes" && sql_running == "Yes"; }
};

// The rows of SHOW ALL SLAVES STATUS / SHOW SLAVE STATUS (MariaDB) or SHOW REPLICA STATUS /
// SHOW SLAVE STATUS (MySQL), one channel per row, whichever column names the server used.
// Error (kCorruption) naming the missing column when a row lacks the IO or SQL thread state.
Result<std::vector<ReplicationChannel>> parseReplicaStatus(const mysql::QueryResult& rows);

struct ReplicationHealth {
  enum class State {
    kNotWatched,  // not known yet, or the task does not read a secondary node
    kNotReplica,  // the node replicates from nothing (it is, or became, a primary): no warning
    kRunning,     // every channel's IO and SQL threads run
    kStopped,     // a channel's IO or SQL thread is not running (stopped, broken, connecting)
    kUnknown,     // cannot be read: reason says why (a missing privilege)
  };
  State state = State::kNotWatched;
  std::string node;  // the node's name in its instance
  // The worst channel (the first stopped one, else the one furthest behind):
  std::string channel;
  std::string io_running, sql_running;
  std::optional<int64_t> seconds_behind;  // the node's own delay behind its primary
  std::string error;                      // "SQL thread: Error 'Duplicate entry ...'" or ""
  std::string gtid_position;
  std::string reason;    // kUnknown: "needs SLAVE MONITOR" ...
  int64_t since_ms = 0;  // wall clock (ms since the epoch) when this state began

  bool degraded() const { return state == State::kStopped; }
  // Same condition (state, threads, error), whatever the delay and position.
  bool sameCondition(const ReplicationHealth& o) const {
    return state == o.state && io_running == o.io_running && sql_running == o.sql_running &&
           error == o.error && reason == o.reason && channel == o.channel;
  }
};

// "" (not watched) | "not_replica" | "running" | "stopped" | "unknown"
const char* replicationStateName(ReplicationHealth::State state);

// The channels decided: none -> kNotReplica; any channel not running -> kStopped (that channel
// named, its errors kept); else kRunning with the largest delay.
ReplicationHealth decideReplicationHealth(const std::vector<ReplicationChannel>& channels,
                                          const std::string& node);

// What to grant so that the replica status can be read, from the server's access-denied message
// ("... you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) ..." -> "SUPER or SLAVE
// MONITOR") when it names it, else from the flavour ("SLAVE MONITOR (MariaDB 10.5.9 and later;
// REPLICATION CLIENT or SUPER before)", "REPLICATION CLIENT"). The last alternative is the
// narrowest grant (replicaStatusGrant).
std::string replicaStatusPrivilege(const std::string& server_message, bool mariadb);
// The one privilege to grant out of replicaStatusPrivilege's text: "SLAVE MONITOR".
std::string replicaStatusGrant(const std::string& privilege);

// The statement that lists every channel on this server: SHOW ALL SLAVES STATUS (MariaDB),
// SHOW REPLICA STATUS (MySQL 8.0.22 and later), SHOW SLAVE STATUS (older MySQL).
std::string replicaStatusStatement(bool mariadb, const std::string& server_version);

// Reads the node's health over `node`. A missing privilege is kUnknown with reason
// "needs PRIVILEGE", not an error; a connection failure is an error (the caller keeps what it
// knew). secrets (the task's passwords) are redacted from the server's error texts as well as
// anything that reads as a password in a statement.
Result<ReplicationHealth> readReplicationHealth(mysql::Connection& node, const std::string& name,
                                                const std::vector<std::string>& secrets = {});

// The state as shown by `dts status`, the API and the console, in one line:
//   "replication of source node node-2 is STOPPED (IO thread No, SQL thread No) since T: the task
//    receives none of the primary's changes until it runs again; lag unknown ..."
// "" for kNotWatched and kNotReplica.
std::string describeReplicationHealth(const ReplicationHealth& h);

// Its JSON form (state store, `dts status --json`, API): null for kNotWatched, else
// {state, node, channel, io_running, sql_running, seconds_behind, error, gtid_position,
// reason, since_ms, message}; and back (anything else reads as kNotWatched).
nlohmann::json replicationHealthJson(const ReplicationHealth& h);
ReplicationHealth replicationHealthFromJson(const nlohmann::json& j);

// Polls the replication health of a task's secondary node every `interval` on its own thread
// (one connection to the node, reopened after a failure; the read/write endpoint is asked only
// while the node's replication is stopped, to tell a promoted node from a broken one). Calls
// on_update (from the watch's thread) after every poll that read the node, with whether the
// condition changed (ReplicationHealth::sameCondition; since_ms is when it last did); a poll
// that cannot reach the node keeps the last health (the task's own retry reports the outage).
// current() is the latest. Stopping (or destroying) the watch joins the thread.
class ReplicationWatch {
 public:
  struct Options {
    std::string node_name;
    mysql::ConnectOptions node;
    std::optional<mysql::ConnectOptions> primary;  // the instance's read/write endpoint
    std::chrono::milliseconds interval{2000};
    Clock* clock = SystemClock::instance();
  };
  using OnUpdate = std::function<void(const ReplicationHealth& now, bool condition_changed)>;
  ReplicationWatch(Options options, OnUpdate on_update);

  void start() { thread_.start(); }
  void stop() { thread_.stop(); }
  // One poll on the caller's thread; updates current() and calls on_update.
  void checkOnce();
  ReplicationHealth current() const;

 private:
  Result<ReplicationHealth> read();
  Options options_;
  OnUpdate on_update_;
  std::unique_ptr<mysql::Connection> node_conn_;
  mutable std::mutex mu_;  // guards current_
  ReplicationHealth current_;
  // Last: destroyed first, it joins the thread before the members its ticks read go.
  PeriodicThread thread_;
};

}  // namespace dts::source
