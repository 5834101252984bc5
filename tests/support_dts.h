// Running the dts binary from integration tests: in the foreground (runDts) or as a background
// process that a test can signal, kill -9, and wait for (DtsProcess).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dts::testing {

// Runs `dts ARGS...` to completion; returns the exit code and fills output (stdout+stderr).
int runDts(const std::vector<std::string>& args, std::string* output);

class DtsProcess {
 public:
  DtsProcess() = default;
  ~DtsProcess();
  DtsProcess(const DtsProcess&) = delete;
  DtsProcess& operator=(const DtsProcess&) = delete;

  // Starts `dts ARGS...` with stdout and stderr appended to log_path.
  void start(const std::vector<std::string>& args, const std::string& log_path);
  bool running();
  void signal(int sig);
  // Waits up to timeout; the exit code, or nullopt if still running (-signal if killed).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string log() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_;
  std::string log_path_;
};

// The peak resident set (VmHWM, kB) of a running process; 0 when it is gone.
uint64_t peakResidentKb(pid_t pid);

// `dts status --data-dir DIR --json` for one task (an empty object if it has none yet).
nlohmann::json taskStatus(const std::string& data_dir, const std::string& task);

// Polls cond every 100 ms until it holds or timeout passes; returns whether it held.
template <typename F>
bool eventually(std::chrono::milliseconds timeout, F cond) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    struct timespec ts {
      0, 100 * 1000 * 1000
    };
    nanosleep(&ts, nullptr);
  }
  return cond();
}

}  // namespace dts::testing
