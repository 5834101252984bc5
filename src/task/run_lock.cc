#include "task/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dts::task {
namespace {

std::string lockPath(const std::string& data_dir, const std::string& task) {
  return data_dir + "/run/" + task + ".lock";
}

pid_t readPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  return n > 0 ? static_cast<pid_t>(std::atol(buf)) : 0;
}

}  // namespace

Result<std::unique_ptr<TaskRunLock>> TaskRunLock::acquire(const std::string& data_dir,
                                                          const std::string& task) {
  const std::string dir = data_dir + "/run";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::Internal("cannot create " + dir + ": " + std::strerror(errno));
  const std::string path = lockPath(data_dir, task);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const pid_t pid = readPid(fd);
    ::close(fd);
    if (err != EWOULDBLOCK)
      return Status::Internal("cannot lock " + path + ": " + std::strerror(err));
    return Status::FailedPrecondition(
        "task " + task + " is already running" +
        (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) + " on data dir " +
        data_dir + ": one process runs a task at a time");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock is what counts; the pid only makes the refusal's message better.
  }
  return std::unique_ptr<TaskRunLock>(new TaskRunLock(fd));
}

TaskRunLock::~TaskRunLock() {
  // The file stays (unlinking it would race a process that just opened it); its pid is stale
  // once unlocked and never read then.
  ::close(fd_);
}

std::optional<pid_t> taskRunningPid(const std::string& data_dir, const std::string& task) {
  int fd = ::open(lockPath(data_dir, task).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  const pid_t pid = held ? readPid(fd) : 0;
  ::close(fd);  // also releases the shared lock when it was granted
  if (!held) return std::nullopt;
  return pid;
}

}  // namespace dts::task
