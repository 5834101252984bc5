// `dts status`: one task's state as text, from what the state store keeps (TaskState) and, for a
// tracking task, its consumer groups' committed offsets (the offset store, passed in: task/ does
// not read the server's files). What a user reads at a glance:
//   - a migration or sync: the phase, tables and rows loaded (a total still loading is an
//     estimate, shown "~N" and never below the rows done), each table's rows and changes applied;
//   - a tracking task, which loads nothing: its change log (records, offsets, size, retention),
//     the source position it has logged up to and its lag, and each consumer group's position
//     and lag (against the log end of the last saved state);
//   - tables in aligned columns whatever their names' characters (widths in terminal cells, a
//     name too long for its column cut in the middle with "…"); tables the source no longer has
//     are not in the state (task/progress.h, forgetTable);
//   - the error the task has now, or else the last one it recovered from, as past ("recovered at
//     T"); every kept error is in --json ("error_history").
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "task/state_store.h"

namespace dts::task {

struct StatusGroup {
  std::string group;
  std::string topic;              // the task's own topic or a view (TASK.canal-json, ...)
  int64_t committed_offset = -1;  // the next offset the group reads
  int64_t committed_at_ms = 0;
};

struct StatusContext {
  bool not_running = false;  // an active phase, and no process runs the task
  std::string data_dir;      // named in the "not running" line
  std::vector<StatusGroup> groups;
};

std::string renderTaskStatus(const TaskState& st, const StatusContext& ctx);
// The verification lines of a task's status (also the server's `dts task status`): the overall
// state (verifyOverallState) with the full comparison's counts, and incremental verification's
// counts with the rows that differ.
void appendVerify(const VerifyState& v, std::string* out);

// The widest a table-name column gets; longer names are cut in the middle.
inline constexpr size_t kMaxNameColumn = 48;

}  // namespace dts::task
