// A running task's claim on its data dir: DIR/run/TASK.lock, locked (flock, exclusive) by the
// process that runs the task for as long as it runs, with that process's pid written in it. So
// a second `dts run` of the task (or a server and a `dts run` on one data dir) is refused at once
// instead of waiting at the destination's locks, and `dts status` can tell a running task from
// one whose process is gone (kill -9, a crash, a reboot): the kernel drops the lock with the
// process. Thread-safe: the lock is held by an open file description, so a second claim fails in
// the same process as in another.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace dts::task {

class TaskRunLock {
 public:
  // kFailedPrecondition "task NAME is already running (pid N) on data dir DIR" when another
  // claim holds it; kInternal when the lock file cannot be made.
  static Result<std::unique_ptr<TaskRunLock>> acquire(const std::string& data_dir,
                                                      const std::string& task);
  ~TaskRunLock();
  TaskRunLock(const TaskRunLock&) = delete;
  TaskRunLock& operator=(const TaskRunLock&) = delete;

 private:
  explicit TaskRunLock(int fd) : fd_(fd) {}
  int fd_;
};

// The pid of the process running the task now, or nullopt when none does. A pid of 0 means
// running, by a process that has not written its pid yet.
std::optional<pid_t> taskRunningPid(const std::string& data_dir, const std::string& task);

}  // namespace dts::task
