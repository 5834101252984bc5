// TaskConfig: a task file (YAML), parsed and validated. The shape is a contract: keys are added,
// never renamed. Unknown keys and wrong values are errors naming the key's path and what is
// allowed, e.g. "options.parallelism: must be an integer 1-64, got 'x'".
//
//   name: shop-sync
//   kind: sync                      # migration | sync | tracking (no destination: changes go to
//                                   #   the task's change log, sink/change_log.h)
//   source:      {endpoint: 127.0.0.1:3306, user: dts, password_env: SRC_PW}
//   destination: {endpoint: 127.0.0.1:3307, user: dts, password_env: DST_PW}  # or password
//   objects:
//     - database: shop
//       rename_to: shop_copy        # optional
//       tables:                     # optional; default: every table
//         - name: orders
//           rename_to: orders_v2    # optional
//           columns: [id, total, status]
//           where: "status <> 'test'"
//           dml: [insert, update]
//   options:
//     incremental: true             # migration only; sync is always incremental
//     ddl: true
//     conflicting_tables: precheck  # precheck | ignore
//     parallelism: 4                # 1-64
//     full: {max_rps: 0, max_mbps: 0}   # + chunk_rows: rows per chunk (0 = sized from the
//                                      #   table's average row, ~16 MB per chunk)
//     incremental_limits: {max_rps: 0, max_mbps: 0}
//     skip_gtids: ["0-1-774"]       # transactions whose data changes are left out (a change
//                                   #   logged as a statement, made at the destination by hand)
//     retention_hours: 24           # tracking only: 1-8760, the change log keeps this long
//     retention_bytes: 0            # tracking only: also cap the log's size (0 = no cap)
//     start: "0-1-100"              # tracking only: a GTID set, or a time ("2026-12-02 05:00:00"
//                                   #   UTC, or seconds since the epoch); default: the source's
//                                   #   position when the task first starts
//     verify: {full: true, schema: true,  # or none (the default); see VerifySettings
//              incremental: true, interval: 5, max_changed_rows: 100000,
//              max_rps: 0, max_threads_running: 0, max_slowdown: 0, parallelism: 1}
//
// Passwords (password or password_env) are never logged, shown, or put in an error message.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"

namespace dts::task {

enum class TaskKind { kMigration, kSync, kTracking };
const char* taskKindName(TaskKind kind);

// One side of a task: a database server reached at endpoint.
struct EndpointConfig {
  std::string endpoint;  // host:port
  std::string user;
  std::string password;      // either this ...
  std::string password_env;  // ... or the environment variable holding it
  // Reserved for registered instances (source only): the instance name and the secondary node
  // to read from. Filled by the instance-aware parser; empty means `endpoint` is used directly.
  std::string instance;
  std::string secondary_node;
  // Filled when the instance is resolved (task/cluster_rules.h): the instance's read/write
  // endpoint. `endpoint`, `user` and `password` then hold where the task reads: the secondary
  // node's direct endpoint, or the read/write endpoint.
  std::string instance_endpoint;

  // The password from `password` or $password_env; the error names the variable, never a value.
  Result<std::string> resolvePassword() const;
  // Endpoint, user and password as connection options.
  Result<mysql::ConnectOptions> connectOptions() const;
};

// 0 means unthrottled.
struct RateLimits {
  uint64_t max_rps = 0;  // rows per second
  double max_mbps = 0;   // megabytes (10^6 bytes) per second
  bool unlimited() const { return max_rps == 0 && max_mbps <= 0; }
};

enum class ConflictPolicy { kPrecheck, kIgnore };

// How full data writes rows (options.full.method). auto: bulk_insert when the destination
// supports it (MariaDB 10.2+: prepared INSERT executed with arrays of binary parameters, no SQL
// or text parsing per row), else load_data (LOAD DATA LOCAL streamed from memory), else insert
// (multi-row INSERT statements). A method the destination refuses is an error, except under auto.
enum class FullWriteMethod { kAuto, kBulkInsert, kLoadData, kInsert };
const char* fullWriteMethodName(FullWriteMethod m);

// options.verify: what the task verifies (task/verify.h) once its full data is loaded: full (the
// data, chunk by chunk) and schema. A sync or migration with incremental verifies while the
// incremental phase runs, re-checking a differing chunk once the destination has applied the
// source position at which it was read; a run interrupted by a task restart resumes after its
// last finished chunk (progress under the data dir). incremental: every `interval` seconds, the
// rows the incremental phase changed since the last check (at most max_changed_rows keys held;
// more are counted as skipped) are compared by key once the destination has applied them
// (task/verify_changes.h). Throttling: max_rps rows/s, and back-off when the source is busy
// (task/verify_load.h: max_threads_running, max_slowdown; 0 = off); parallelism tables at once.
struct VerifySettings {
  bool full = false;
  bool schema = false;
  bool incremental = false;
  int interval_seconds = 5;            // 1-3600
  uint64_t max_changed_rows = 100000;  // 1-100000000
  uint64_t max_rps = 0;                // 0: options.full.max_rps
  uint64_t max_threads_running = 0;
  double max_slowdown = 0;  // 0 or > 1
  int parallelism = 1;      // 1-64
  bool any() const { return full || schema || incremental; }
};

struct TaskOptions {
  bool incremental = true;  // migration only: continue with incremental after full data
  bool ddl = true;          // replicate DDL of the selected objects
  ConflictPolicy conflicting_tables = ConflictPolicy::kPrecheck;
  int parallelism = 4;  // 1-64
  RateLimits full;
  uint64_t full_chunk_rows = 0;                          // options.full.chunk_rows; 0 = automatic
  FullWriteMethod full_method = FullWriteMethod::kAuto;  // options.full.method
  RateLimits incremental_limits;
  // Reserved for the retry rules (DESIGN.md): minutes, validated by the cluster-aware parser.
  int retry_time_for_failed_connections = 720;  // 10-1440
  int retry_time_for_other_issues = 10;         // 1-1440, smaller; default min(10, failed - 1)
  // Tracking only (the change log, sink/change_log.h).
  int retention_hours = 24;      // 1-8760
  uint64_t retention_bytes = 0;  // 0 = no size cap
  std::string start;             // "" | a GTID set | a time (see start_ms)
  int64_t start_ms = -1;         // options.start as a time, ms since the epoch; -1 when not one
  VerifySettings verify;         // options.verify; default none
  // Transactions whose data changes the incremental phase leaves out, by GTID in normal form
  // (pipeline::TransactionBuilder::Options::skip_gtids): the way past a change the task cannot
  // take (one logged as a statement), once the DBA has made it at the destination by hand.
  std::set<std::string> skip_gtids;
};

struct TaskConfig {
  std::string name;
  TaskKind kind = TaskKind::kMigration;
  EndpointConfig source;
  EndpointConfig destination;
  std::vector<pipeline::DatabaseSelection> objects;
  TaskOptions options;

  // True when the task continues with incremental changes after full data.
  bool incremental() const {
    return kind == TaskKind::kSync || kind == TaskKind::kTracking || options.incremental;
  }
  // The selection model for loader and applier (validated when the file was parsed).
  Result<pipeline::Mapping> mapping() const { return pipeline::Mapping::create(objects); }
};

// A UTC time as options.start and the changes endpoint take it: "YYYY-MM-DD HH:MM:SS" (a 'T'
// instead of the space, a fraction of 1-6 digits and a trailing 'Z' allowed), in ms since the
// epoch, a fraction below a millisecond rounded up. kInvalidArgument for anything else (a day
// the month does not have included).
Result<int64_t> parseUtcTimeMs(const std::string& text);

// Parses and validates a task file's text.
Result<TaskConfig> parseTaskYaml(const std::string& text);
// Reads and parses path; errors are prefixed with the path.
Result<TaskConfig> loadTaskFile(const std::string& path);

// The task as YAML with passwords never shown (password_env by name); parseTaskYaml reads it
// back to the same config except `password`.
std::string taskToYaml(const TaskConfig& config);

}  // namespace dts::task
