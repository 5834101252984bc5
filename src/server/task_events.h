// TaskEventStore: each task's recent history (actions, phase changes, retries, errors) in the
// data dir's SQLite file (dts.db, table task_events), so that a restarted server shows the same
// events as before. Bounded per task: the newest `max_per_task` are kept (TaskManager's default
// is 200, docs/api.md), older ones are deleted as new ones arrive. A task's events are deleted
// with it.
//
// Thread-safe (one mutex over one connection); several processes may share the file.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "common/sqlite.h"
#include "common/status.h"

namespace dts::server {

// One entry of a task's recent history.
struct TaskEvent {
  int64_t at_ms = 0;  // wall clock, ms since the epoch
  // "action" (an API call), "phase" (phase change), "retry" (a retryable failure being retried),
  // "error" (a failure), "server" (started or resumed by the server), "source" (the replication
  // of the secondary node read stopped or cannot be read, and when that clears).
  std::string type;
  std::string message;  // never a password
  std::string hint;     // what to do about it; "" when nothing to add
};

class TaskEventStore {
 public:
  // Opens data_dir/dts.db, creating the table when missing. REQUIRES: max_per_task >= 1.
  static Result<std::unique_ptr<TaskEventStore>> open(const std::string& data_dir,
                                                      size_t max_per_task);

  // Appends one event of `task` and deletes those beyond the newest max_per_task.
  Status append(const std::string& task, const TaskEvent& event);
  // The task's events, oldest first (at most max_per_task).
  Result<std::deque<TaskEvent>> load(const std::string& task);
  // Deletes every event of the task; OK when it has none.
  Status forget(const std::string& task);

 private:
  TaskEventStore(std::unique_ptr<Sqlite> db, size_t max) : db_(std::move(db)), max_(max) {}
  std::mutex mu_;
  std::unique_ptr<Sqlite> db_;
  size_t max_;
};

}  // namespace dts::server
