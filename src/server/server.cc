#include "server/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/yaml_keys.h"
#include "server/api.h"
#include "server/http_server.h"
#include "server/kafka_listener.h"
#include "server/task_manager.h"
#include "server/token.h"
#include "sink/change_formats.h"

namespace dts::server {

size_t maxChangeStreamsLimit() {
  return HttpServerLimits{}.max_connections / 2;
}

Result<size_t> parseMaxChangeStreams(const std::string& what, const std::string& text) {
  const size_t limit = maxChangeStreamsLimit();
  auto refuse = [&] {
    return Status::InvalidArgument(what + ": must be a whole number from 1 to " +
                                   std::to_string(limit) + " (streams open at once), got '" + text +
                                   "'");
  };
  if (text.empty() || text.size() > 9) return refuse();
  size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return refuse();
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n < 1 || n > limit) return refuse();
  return n;
}

Status applyServerConfig(const std::string& path, ServerOptions* options) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": not a readable YAML file: " + e.msg);
  }
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) return Status::InvalidArgument(path + ": must be a YAML mapping");
  DTS_RETURN_IF_ERROR(rejectDuplicateKeys(root, path));
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    std::string* field = key == "data_dir"       ? &options->data_dir
                         : key == "listen"       ? &options->listen
                         : key == "tls_cert"     ? &options->tls_cert
                         : key == "tls_key"      ? &options->tls_key
                         : key == "kafka_listen" ? &options->kafka_listen
                                                 : nullptr;
    if (field == nullptr && key != "max_change_streams")
      return Status::InvalidArgument(path + ": " + key +
                                     ": unknown key (allowed: data_dir, listen, tls_cert, tls_key, "
                                     "kafka_listen, max_change_streams)");
    if (!kv.second.IsScalar())
      return Status::InvalidArgument(path + ": " + key + ": must be a " +
                                     (field != nullptr ? "string" : "number"));
    if (field != nullptr) {
      *field = kv.second.Scalar();
      continue;
    }
    DTS_ASSIGN_OR_RETURN(options->max_change_streams,
                         parseMaxChangeStreams(path + ": " + key, kv.second.Scalar()));
  }
  return Status::OK();
}

namespace {

HttpRequest convert(const httplib::Request& req, const std::string& body) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) {
    if (!r.query.emplace(k, v).second && r.repeated_query.empty()) r.repeated_query = k;
  }
  r.authorization = req.get_header_value("Authorization");
  r.if_none_match = req.get_header_value("If-None-Match");
  r.body = body;
  return r;
}

std::string lockPath(const std::string& data_dir) {
  return data_dir + "/server.lock";
}
std::string urlPath(const std::string& data_dir) {
  return data_dir + "/server.url";
}

std::string readUrl(const std::string& data_dir) {
  std::ifstream f(urlPath(data_dir));
  std::stringstream s;
  s << f.rdbuf();
  std::string url = s.str();
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r' || url.back() == ' '))
    url.pop_back();
  return url;
}

// DIR/server.lock, held (flock, exclusive) for as long as the server runs.
class DataDirLock {
 public:
  ~DataDirLock() {
    if (fd_ >= 0) {
      ::unlink(urlPath(data_dir_).c_str());
      ::close(fd_);
    }
  }
  Status acquire(const std::string& data_dir) {
    data_dir_ = data_dir;
    fd_ = ::open(lockPath(data_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
      return Status::Internal("cannot open " + lockPath(data_dir) + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      if (err != EWOULDBLOCK)
        return Status::Internal("cannot lock " + lockPath(data_dir) + ": " + std::strerror(err));
      std::string url = readUrl(data_dir);
      return Status::FailedPrecondition(
          "another dts server runs on data dir " + data_dir +
          (url.empty() ? std::string(" (it is starting)") : " (at " + url + ")") +
          ": one server per data dir");
    }
    ::unlink(urlPath(data_dir).c_str());  // a server killed with -9 left its URL
    return Status::OK();
  }
  // Written whole under another name, then renamed: a reader never sees half a URL.
  // Stopping: clients no longer reach it (the lock stays until the tasks have stopped).
  void withdraw() { ::unlink(urlPath(data_dir_).c_str()); }
  void publish(const std::string& url) {
    const std::string tmp = urlPath(data_dir_) + ".tmp";
    const std::string line = url + "\n";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;  // advisory: clients can still be given --server
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (ok) ::rename(tmp.c_str(), urlPath(data_dir_).c_str());
  }

 private:
  std::string data_dir_;
  int fd_ = -1;
};

}  // namespace

std::optional<std::string> runningServerUrl(const std::string& data_dir) {
  int fd = ::open(lockPath(data_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // also releases the shared lock when it was granted
  if (!held) return std::nullopt;
  std::string url = readUrl(data_dir);
  if (url.empty()) return std::nullopt;
  return url;
}

Status runServer(const ServerOptions& options, const std::atomic<bool>& stop,
                 const std::function<void(const std::string&)>& print) {
  if (options.tls_cert.empty() != options.tls_key.empty())
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Status::InvalidArgument("--listen: must be host:port, got '" + options.listen + "'");
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(options.listen.substr(colon + 1), &used);
    if (used != options.listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    return Status::InvalidArgument("--listen: port must be 0-65535, got '" + options.listen + "'");

  ::signal(SIGPIPE, SIG_IGN);
  DTS_ASSIGN_OR_RETURN(ApiToken token, loadOrCreateToken(options.data_dir));
  // A token made by a start that fails (a port in use, a bad certificate) was never shown: the
  // next start makes and shows one.
  bool listening = false;
  struct ForgetUnshownToken {
    const ApiToken& token;
    const bool& listening;
    ~ForgetUnshownToken() {
      if (token.created && !listening) ::unlink(token.path.c_str());
    }
  } forget{token, listening};
  DataDirLock lock;
  DTS_RETURN_IF_ERROR(lock.acquire(options.data_dir));
  TaskManager::Options mo;
  mo.data_dir = options.data_dir;
  mo.incremental = options.incremental;
  DTS_ASSIGN_OR_RETURN(auto manager, TaskManager::open(mo));

  // The connections' limits (server/http_server.h): idle and slow clients cost no worker.
  HttpServerLimits limits;
  limits.max_streams = options.max_change_streams;
  DTS_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> http,
                       HttpServer::create(limits, options.tls_cert, options.tls_key));
  std::atomic<bool> ready{false};
  Api api(manager.get(), token.token, [&] { return ready.load(); });
  HttpServer* http_server = http.get();
  auto handler = [&api, &stop, http_server](const httplib::Request& req, const std::string& body,
                                            httplib::Response& res) {
    HttpResponse r = api.handle(convert(req, body));
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    if (r.stream) {
      // On a thread of its own, not a request worker (server/http_server.h): the next chunk is
      // made once the last one is written (back-pressure); a server shutting down ends it.
      http_server->streamResponse(res, r.content_type,
                                  [stream = std::move(r.stream), &stop](std::string* chunk) {
                                    return !stop.load() && stream(chunk);
                                  });
      return;
    }
    if (r.status != 304) res.set_content(r.body, r.content_type.c_str());
  };
  http->route(handler, 4 << 20);

  int bound = port;
  errno = 0;
  if (port == 0) {
    bound = http->bind_to_any_port(host.c_str());
  } else if (!http->bind_to_port(host.c_str(), port)) {
    bound = -1;
  }
  if (bound < 0) {
    const int err = errno;
    return Status::Unavailable(
        "cannot listen on " + options.listen + ": " +
        (err == EADDRINUSE      ? std::string("address in use (another process listens there)")
         : err == EADDRNOTAVAIL ? std::string("not an address of this machine")
         : err != 0             ? std::string(std::strerror(err))
                                : std::string("cannot bind")));
  }
  std::unique_ptr<KafkaListener> kafka;
  if (!options.kafka_listen.empty()) {
    KafkaListenerOptions ko;
    ko.listen = options.kafka_listen;
    ko.token = token.token;
    ko.group_token = [m = manager.get()](const std::string& password) {
      auto scope = m->groupTokenScope(password);
      if (!scope.ok()) {
        spdlog::warn("kafka: checking a group token: {}", scope.status().toString());
        return std::optional<GroupTokenScope>();
      }
      return *scope;
    };
    ko.offsets_db = options.data_dir + "/kafka-offsets.db";
    // One topic per tracking task, named after it: the task's change log, the same one its
    // engine writes (opened and recovered when the task is not running).
    ko.lookup = [m = manager.get()](
                    const std::string& topic) -> std::shared_ptr<const sink::ChangeLogReader> {
      auto log = m->changeLog(topic);
      if (log.ok()) return *log;
      // TASK.FORMAT: the task's row changes in another encoding, a view of the same log
      // (docs/kafka.md, "Other encodings").
      size_t dot = topic.rfind('.');
      if (dot == std::string::npos) return nullptr;
      auto format = sink::parseChangeFormat(std::string_view(topic).substr(dot + 1));
      if (!format || *format == sink::ChangeFormat::kDts) return nullptr;
      const std::string task = topic.substr(0, dot);
      auto base = m->changeLog(task);
      if (!base.ok()) return nullptr;
      return sink::encodedView(*base, *format, task, /*rows_only=*/true);
    };
    ko.topics = [m = manager.get()] {
      std::vector<std::string> names;
      auto tasks = m->list();
      if (!tasks.ok()) return names;
      for (const auto& t : *tasks) {
        if (t.kind != "tracking") continue;
        names.push_back(t.name);
        for (auto f : {sink::ChangeFormat::kDebeziumJson, sink::ChangeFormat::kCanalJson,
                       sink::ChangeFormat::kMaxwellJson})
          names.push_back(t.name + "." + sink::changeFormatName(f));
      }
      return names;
    };
    auto started = KafkaListener::start(std::move(ko));
    if (!started.ok()) return started.status();  // before HTTP serves: nothing to stop
    kafka = std::move(*started);
  }
  std::string scheme = options.tls_cert.empty() ? "http" : "https";
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string url = scheme + "://" + shown_host + ":" + std::to_string(bound);
  listening = true;
  if (token.created) {
    print("API token (shown once; kept in " + token.path + ", mode 0600): " + token.token + "\n");
  }
  print("dts server listening on " + url + " (data dir " + options.data_dir + ")\n");
  // As a client on this host reaches it: a wildcard address is reached on loopback.
  std::string local_host = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "[::1]" : shown_host;
  lock.publish(scheme + "://" + local_host + ":" + std::to_string(bound));
  if (kafka) {
    print("dts server: Kafka consumers on " + options.kafka_listen + " (port " +
          std::to_string(kafka->port()) +
          ", SASL/PLAIN, password = the API token or a group token)\n");
  }
  std::thread listener([&] { http->listen_after_bind(); });

  manager->resumeAll();
  ready.store(true);
  spdlog::info("server: ready");
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));

  spdlog::info("server: stopping; every task stops at a checkpoint");
  ready.store(false);
  if (kafka) kafka->stop();
  http->stop();
  lock.withdraw();
  listener.join();
  manager->shutdown();
  print("dts server stopped\n");
  return Status::OK();
}

}  // namespace dts::server
