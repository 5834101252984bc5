#include "support_dts.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cluster_fixture.h"

namespace dts::testing {
namespace {

std::vector<char*> argv(const std::vector<std::string>& args, std::vector<std::string>* storage) {
  storage->clear();
  storage->push_back(dtsBinary());
  for (const auto& a : args) storage->push_back(a);
  std::vector<char*> out;
  for (auto& s : *storage) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

pid_t spawn(const std::vector<std::string>& args, int out_fd) {
  std::vector<std::string> storage;
  auto av = argv(args, &storage);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    execv(av[0], av.data());
    _exit(127);
  }
  return pid;
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

}  // namespace

int runDts(const std::vector<std::string>& args, std::string* output) {
  char path[] = "/tmp/dts-run-XXXXXX";
  int fd = mkstemp(path);
  pid_t pid = spawn(args, fd);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  *output = ss.str();
  unlink(path);
  return decode(status);
}

DtsProcess::~DtsProcess() {
  if (running()) {
    signal(SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

void DtsProcess::start(const std::vector<std::string>& args, const std::string& log_path) {
  log_path_ = log_path;
  int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_ = spawn(args, fd);
  close(fd);
  exit_.reset();
}

bool DtsProcess::running() {
  if (pid_ <= 0 || exit_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_ = decode(status);
    return false;
  }
  return true;
}

void DtsProcess::signal(int sig) {
  if (running()) kill(pid_, sig);
}

std::optional<int> DtsProcess::wait(std::chrono::milliseconds timeout) {
  eventually(timeout, [&] { return !running(); });
  return exit_;
}

std::string DtsProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t peakResidentKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

nlohmann::json taskStatus(const std::string& data_dir, const std::string& task) {
  std::string out;
  if (runDts({"status", "--data-dir", data_dir, "--json", "--task", task}, &out) != 0) {
    return nlohmann::json::object();
  }
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_array() && !j.empty()) return j[0];
  if (j.is_object()) return j;
  return nlohmann::json::object();
}

}  // namespace dts::testing
