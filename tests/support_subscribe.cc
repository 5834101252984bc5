#include "support_subscribe.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "cluster_fixture.h"

namespace dts::testing {

using namespace std::chrono_literals;
using nlohmann::json;

std::string fileText(const std::string& path) {
  std::ifstream l(path);
  return std::string((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
}

std::vector<json> jsonLines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("offset")) out.push_back(std::move(j));
  }
  return out;
}

ShellProcess::~ShellProcess() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
}

void ShellProcess::start(const std::string& command) {
  pid_ = fork();
  if (pid_ == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

void ShellProcess::signal(int sig) {
  ::kill(pid_, sig);
}

std::optional<int> ShellProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exit_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  return exit_;
}

void Server::start(const std::string& data, const std::string& logfile, const std::string& listen,
                   bool with_kafka) {
  data_ = data;
  log_ = logfile;
  size_t before = fileText(logfile).size();
  process_ = std::make_unique<DtsProcess>();
  std::vector<std::string> args = {"server", "--data-dir", data, "--listen", listen};
  if (with_kafka) {
    args.push_back("--kafka-listen");
    args.push_back("127.0.0.1:0");
  }
  process_->start(args, logfile);
  std::smatch m;
  std::string text;
  ASSERT_TRUE(eventually(30s, [&] {
    text = fileText(logfile).substr(before);
    return std::regex_search(text, m, std::regex("listening on (http://[0-9.]+:[0-9]+)"));
  })) << fileText(logfile);
  url_ = m[1];
  if (with_kafka) {
    std::smatch k;
    ASSERT_TRUE(eventually(30s, [&] {
      text = fileText(logfile).substr(before);
      return std::regex_search(text, k, std::regex("Kafka consumers on .* \\(port ([0-9]+)"));
    })) << text;
    kafka_port_ = std::stoi(k[1]);
  }
  std::ifstream(data + "/api-token") >> token_;
}

void Server::stop() {
  process_->signal(SIGTERM);
  EXPECT_EQ(process_->wait(60s), 0) << fileText(log_);
  process_.reset();
}

void Server::kill() {
  process_->signal(SIGKILL);
  EXPECT_EQ(process_->wait(60s), -SIGKILL) << fileText(log_);
  process_.reset();
}

json Server::call(const std::string& method, const std::string& path, const std::string& body) {
  httplib::Client c(url_);
  c.set_read_timeout(120);
  httplib::Headers auth = {{"Authorization", "Bearer " + token_}};
  auto r = method == "POST" ? c.Post(path, auth, body, "application/yaml") : c.Get(path, auth);
  if (!r) return json{{"http_error", httplib::to_string(r.error())}};
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) j = json::object();
  j["http_status"] = r->status;
  return j;
}

std::string Server::phase(const std::string& task) {
  json t = call("GET", "/api/v1/tasks/" + task);
  return t.contains("phase") && t["phase"].is_string() ? t["phase"].get<std::string>() : "";
}

std::string Server::checkpoint(const std::string& task) {
  json t = call("GET", "/api/v1/tasks/" + task);
  return t.contains("checkpoint_gtid") && t["checkpoint_gtid"].is_string()
             ? t["checkpoint_gtid"].get<std::string>()
             : "";
}

int64_t Server::committed(const std::string& task, const std::string& group,
                          const std::string& format) {
  json g = call("GET", "/api/v1/tasks/" + task + "/groups/" + group +
                           (format.empty() ? "" : "?format=" + format));
  EXPECT_EQ(g.value("http_status", 0), 200) << g.dump();
  return g.contains("offset") && g["offset"].is_number_integer() ? g["offset"].get<int64_t>() : -1;
}

std::string Server::subscribeCommand(const std::string& task, const std::string& args,
                                     const std::string& out_path, const std::string& err_path) {
  return "env DTS_TOKEN=" + token_ + " " + shellQuote(dtsBinary()) + " subscribe " + task +
         " --server " + url_ + " " + args + " > " + shellQuote(out_path) + " 2> " +
         shellQuote(err_path);
}

}  // namespace dts::testing
