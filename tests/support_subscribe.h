// Helpers for tests of tracking-task consumers (subscribe_test, subscribe_large_test): `dts
// server` with its API, `dts subscribe` and other shell commands in the background, NDJSON files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support_dts.h"

namespace dts::testing {

std::string fileText(const std::string& path);

// The JSON lines of a file that have an "offset" (a line cut by SIGKILL is skipped).
std::vector<nlohmann::json> jsonLines(const std::string& path);

// A shell command in the background (exec'd, so its pid is the command's own unless it is a
// pipeline). The destructor kills it if it still runs.
class ShellProcess {
 public:
  ~ShellProcess();
  void start(const std::string& command);
  void signal(int sig);
  // The exit code (-signal if killed), or nullopt while it runs after timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_;
};

// `dts server --listen 127.0.0.1:0` on a data dir, with its API.
class Server {
 public:
  // listen: HOST:PORT (port 0: a free one, see url()).
  // with_kafka: also --kafka-listen 127.0.0.1:0 (see kafkaPort()).
  void start(const std::string& data, const std::string& logfile,
             const std::string& listen = "127.0.0.1:0", bool with_kafka = false);
  void stop();
  // SIGKILL, and wait for it to be gone.
  void kill();
  // method GET or POST (a YAML/JSON body); the answer's JSON plus "http_status".
  nlohmann::json call(const std::string& method, const std::string& path,
                      const std::string& body = "");
  std::string phase(const std::string& task);
  std::string checkpoint(const std::string& task);
  // The group's committed offset on the task's own topic, or on the view topic of `format`
  // (offsets are per topic, as in Kafka); -1 when it never committed there.
  int64_t committed(const std::string& task, const std::string& group,
                    const std::string& format = "");
  // The shell command of `dts subscribe TASK ARGS` (token and server given) writing stdout to
  // out_path and stderr to err_path.
  std::string subscribeCommand(const std::string& task, const std::string& args,
                               const std::string& out_path, const std::string& err_path);
  const std::string& url() const { return url_; }
  const std::string& token() const { return token_; }
  int kafkaPort() const { return kafka_port_; }
  DtsProcess* process() { return process_.get(); }

 private:
  std::string data_, log_, url_, token_;
  int kafka_port_ = 0;
  std::unique_ptr<DtsProcess> process_;
};

}  // namespace dts::testing
