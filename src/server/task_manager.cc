#include "server/task_manager.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "common/log.h"
#include "common/yaml_keys.h"
#include "source/instance.h"
#include "source/replication_health.h"
#include "task/cluster_rules.h"
#include "task/incremental.h"
#include "task/precheck.h"
#include "task/tracking.h"

namespace dts::server {
namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool contains(const std::string& text, const char* what) {
  return text.find(what) != std::string::npos;
}

// connection | precheck | other: the kinds of dts_task_errors_total. A server that cannot be
// reached is a connection error wherever it was found, also by the precheck that every retry
// runs first (a source or destination outage is not a precheck failure).
std::string errorKind(const std::string& message) {
  for (const char* unreachable :
       {"Can't connect", "Lost connection", "gone away", "unavailable", "(error 2002)",
        "(error 2003)", "(error 2005)", "(error 2006)", "(error 2013)", "(error 2055)"})
    if (contains(message, unreachable)) return "connection";
  if (contains(message, "precheck")) return "precheck";
  if (contains(message, "connect")) return "connection";
  return "other";
}

Status writeFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("creating " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return Status::Internal("writing " + tmp + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return Status::Internal("writing " + tmp + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Internal("renaming " + tmp + ": " + std::strerror(errno));
  return Status::OK();
}

Result<std::string> readFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("reading " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::Internal("reading " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::Internal("creating " + path + ": " + std::strerror(errno));
  return Status::OK();
}

nlohmann::json yamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yamlToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& v : n) a.push_back(yamlToJson(v));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: a string
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "~" || s == "null") return nullptr;
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) {
        char* end = nullptr;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (*end == '\0') return i;
        double d = std::strtod(s.c_str(), &end);
        if (*end == '\0') return d;
      }
      return s;
    }
    default: return nullptr;
  }
}

// "retrying since T, gives up at T2 (attempt 3): error" without "(attempt 3)".
std::string withoutAttempt(const std::string& retrying) {
  size_t at = retrying.find(" (attempt ");
  if (at == std::string::npos) return retrying;
  size_t end = retrying.find(')', at);
  return end == std::string::npos ? retrying : retrying.substr(0, at) + retrying.substr(end + 1);
}

// Deep-merges patch into base (maps merged key by key, anything else replaced).
void mergeYaml(YAML::Node base, const YAML::Node& patch) {
  for (const auto& kv : patch) {
    std::string key = kv.first.as<std::string>();
    if (kv.second.IsMap() && base[key] && base[key].IsMap()) {
      mergeYaml(base[key], kv.second);
    } else {
      base[key] = kv.second;
    }
  }
}

}  // namespace

std::string errorHint(const std::string& m) {
  // 1045: the login itself was refused; 1044, 1142 and the like: the account lacks a privilege.
  if (contains(m, "error 1045") || contains(m, "using password"))
    return "check the user and password (password or password_env) of the endpoint and the "
           "account's allowed hosts";
  if (contains(m, "Access denied") || contains(m, "command denied"))
    return "grant the account the privileges the task needs: at the source those the README "
           "lists (SELECT, SHOW VIEW, REPLICATION SLAVE, ...); at the destination, on the "
           "databases it writes and on dts_meta: CREATE, ALTER, DROP, INDEX, SELECT, INSERT, "
           "UPDATE, DELETE";
  if (contains(m, "secondary node") && contains(m, "deleted"))
    return "register the node again (dts instance add-node) or point the task at another node "
           "(dts task source NAME --secondary-node NODE; with dts run, edit secondary_node in "
           "the task file), then start the task: it resumes from its checkpoint";
  // 1236: the source cannot send the binlog from the task's checkpoint (purged, or a node that
  // never had it after a failover). Retrying cannot help.
  if (contains(m, "error 1236") || contains(m, "Could not find GTID state") ||
      contains(m, "not in the master's binlog") || contains(m, "purged binary logs"))
    return "the source no longer has the binlog from the task's checkpoint on (purged, or a "
           "failover to a node that never logged it): the changes since cannot be read. Keep "
           "binlogs longer (binlog retention), and run the task anew (delete it, then create it: "
           "schema and full data again), or restore those binlogs";
  if (contains(m, "gave up after"))
    return "fix the cause above, then start the task again: it resumes from its checkpoint";
  if (contains(m, "as an SQL statement"))
    return "sessions that write the moved tables need binlog_format=ROW (SET GLOBAL binlog_format="
           "ROW and in the config file; a session keeps its own until it reconnects). To go past "
           "this change, make it at the destination by hand, then add its transaction's GTID "
           "(in the error) to options.skip_gtids (dts task options) and start the task";
  if (contains(m, "binlog_format")) return precheckHint("binlog_format");
  if (contains(m, "log_bin")) return precheckHint("log_bin");
  if (contains(m, "conflicting") || contains(m, "already exist"))
    return precheckHint("conflicting tables");
  if (contains(m, "denied") || contains(m, "privilege")) return precheckHint("source privileges");
  // Before the connection hint: a precheck that failed for a read-only destination may list an
  // unreachable source too, and the read-only one is what failed the task.
  if (contains(m, "read-only") || contains(m, "read_only"))
    return precheckHint("destination writable");
  if (contains(m, "connect") || contains(m, "unavailable") || contains(m, "Lost connection") ||
      contains(m, "gone away"))
    return "check that the server runs and is reachable from dts at the endpoint (host:port, "
           "firewall); the task retries within options.retry_time_for_failed_connections";
  if (contains(m, "password_env"))
    return "set the environment variable in the server's environment (systemd: Environment= "
           "in a drop-in), or give the password in the task";
  return "";
}

std::string precheckHint(const std::string& item) {
  static const std::map<std::string, std::string> hints = {
      {"source credentials", "set source.password or export the variable of source.password_env"},
      {"destination credentials",
       "set destination.password or export the variable of destination.password_env"},
      {"source connectivity",
       "check source.endpoint (host:port), that the server runs and that the firewall lets dts in"},
      {"destination connectivity",
       "check destination.endpoint (host:port), that the server runs and that the firewall lets "
       "dts in"},
      {"log_bin", "enable the binlog on the source (log_bin in its config file, then restart it)"},
      {"binlog_format", "SET GLOBAL binlog_format=ROW on the source, and in its config file"},
      {"binlog_row_image",
       "SET GLOBAL binlog_row_image=FULL on the source, and in its config file"},
      {"binlog_row_metadata",
       "SET GLOBAL binlog_row_metadata=FULL on the source (column names survive DDL better)"},
      {"gtid position",
       "enable GTIDs on the source (MySQL: gtid_mode=ON, enforce_gtid_consistency)"},
      {"source privileges",
       "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the task's source user"},
      {"replication status",
       "GRANT SLAVE MONITOR (MariaDB 10.5.9+; REPLICATION CLIENT before, and on MySQL) ON *.* TO "
       "the task's source user, so that dts can warn while the node's replication is stopped"},
      {"replication running",
       "fix the node's replication, then START SLAVE on it: the task reads only what the node "
       "has applied"},
      {"server_id", "set a unique non-zero server_id on the source"},
      {"temporal format",
       "ALTER TABLE ... FORCE at the source rebuilds the table's MariaDB 5.3-format temporal "
       "columns in the current format (mysql56_temporal_format=ON)"},
      {"binlog retention",
       "keep binlogs longer than the task may be stopped (expire_logs_days / "
       "binlog_expire_logs_seconds)"},
      {"instance endpoint", "check the instance's nodes (dts instance show / add-node)"},
      {"selected objects", "check objects: the databases, tables and columns must exist"},
      {"table without key",
       "add a primary key: without one, the table is loaded in one transaction and changes are "
       "matched by all columns"},
      {"key not selected", "select the key columns in tables[].columns"},
      {"destination writable",
       "the destination must be a writable primary (read_only=OFF) and the user needs "
       "CREATE, INSERT, UPDATE, DELETE, DROP"},
      {"conflicting tables",
       "drop or rename the destination tables, or set options.conflicting_tables: ignore"},
  };
  auto it = hints.find(item);
  return it == hints.end() ? "" : it->second;
}

std::optional<int64_t> parseRetryDeadline(const std::string& retrying) {
  static const std::string marker = "gives up at ";
  size_t at = retrying.find(marker);
  if (at == std::string::npos) return std::nullopt;
  std::string ts = retrying.substr(at + marker.size(), 20);
  std::tm tm{};
  const char* end = strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

Result<task::TaskConfig> parseTaskText(const std::string& text) {
  DTS_ASSIGN_OR_RETURN(task::TaskConfig config, task::parseTaskYaml(text));
  if (config.name.front() == '.') {
    return Status::InvalidArgument("name: must not start with '.'");
  }
  return config;
}

nlohmann::json yamlTextToJson(const std::string& yaml) {
  try {
    return yamlToJson(YAML::Load(yaml));
  } catch (const YAML::Exception&) {
    return nullptr;
  }
}

// ---------------------------------------------------------------------------------------------

struct TaskManager::Slot {
  std::string name;
  std::mutex op_mu;    // serialises control calls (held while joining the thread)
  std::mutex data_mu;  // guards everything below but the atomics and thread
  std::string yaml;    // as submitted (may hold an inline password)
  std::string desired = "created";
  std::optional<task::TaskState> engine;
  std::deque<TaskEvent> events;
  std::map<std::string, uint64_t> errors;
  uint64_t rows_base = 0, bytes_base = 0;  // moved by earlier runs of this server process
  std::unique_ptr<task::TaskRunner> runner;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};
  std::thread thread;
  std::shared_ptr<sink::ChangeLog> change_log;  // tracking tasks, once a reader asked (data_mu)
};

// Forwards to the data dir's store and tells the manager about every saved state (events).
class TaskManager::ObservedStore final : public task::StateStore {
 public:
  ObservedStore(task::StateStore* inner, TaskManager* manager) : inner_(inner), manager_(manager) {}
  Result<std::optional<task::TaskState>> load(const std::string& name) override {
    return inner_->load(name);
  }
  Status save(const task::TaskState& state) override {
    Status st = inner_->save(state);
    if (st.ok()) manager_->onSaved(state);
    return st;
  }
  Result<std::vector<std::string>> list() override { return inner_->list(); }
  Status remove(const std::string& name) override { return inner_->remove(name); }

 private:
  task::StateStore* inner_;
  TaskManager* manager_;
};

TaskManager::TaskManager(Options options) : options_(std::move(options)) {}

TaskManager::~TaskManager() {
  shutdown();
}

Result<std::unique_ptr<TaskManager>> TaskManager::open(Options options) {
  if (!options.incremental) options.incremental = task::defaultIncrementalFactory();
  std::unique_ptr<TaskManager> m(new TaskManager(std::move(options)));
  DTS_ASSIGN_OR_RETURN(auto store, task::SqliteStateStore::open(m->options_.data_dir));
  m->inner_store_ = std::move(store);
  m->store_ = std::make_unique<ObservedStore>(m->inner_store_.get(), m.get());
  DTS_ASSIGN_OR_RETURN(m->events_,
                       TaskEventStore::open(m->options_.data_dir, m->options_.max_events));
  DTS_RETURN_IF_ERROR(m->load());
  return m;
}

Status TaskManager::load() {
  std::string dir = options_.data_dir + "/server";
  DTS_RETURN_IF_ERROR(makeDir(dir));
  DTS_RETURN_IF_ERROR(makeDir(dir + "/tasks"));
  DIR* d = ::opendir((dir + "/tasks").c_str());
  if (d == nullptr) return Status::Internal("listing " + dir + "/tasks: " + std::strerror(errno));
  std::vector<std::string> files;
  while (dirent* e = ::readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0) files.push_back(f);
  }
  ::closedir(d);
  for (const auto& f : files) {
    std::string path = dir + "/tasks/" + f;
    DTS_ASSIGN_OR_RETURN(std::string text, readFile(path));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j["yaml"].is_string() || !j["desired"].is_string()) {
      spdlog::error("server: skipping {}: not a task record", path);
      continue;
    }
    auto config = parseTaskText(j["yaml"].get<std::string>());
    if (!config.ok()) {
      spdlog::error("server: skipping {}: {}", path, config.status().message());
      continue;
    }
    auto slot = std::make_shared<Slot>();
    slot->name = config->name;
    slot->yaml = j["yaml"].get<std::string>();
    slot->desired = j["desired"].get<std::string>();
    DTS_ASSIGN_OR_RETURN(slot->events, events_->load(slot->name));
    slots_[slot->name] = slot;
  }
  // The engine's state of every task; tasks of `dts run` are adopted as stopped.
  DTS_ASSIGN_OR_RETURN(auto names, store_->list());
  for (const auto& name : names) {
    DTS_ASSIGN_OR_RETURN(auto state, store_->load(name));
    if (!state.has_value()) continue;
    auto it = slots_.find(name);
    if (it != slots_.end()) {
      it->second->engine = std::move(*state);
      continue;
    }
    if (!parseTaskText(state->config_yaml).ok()) continue;
    auto slot = std::make_shared<Slot>();
    slot->name = name;
    slot->yaml = state->config_yaml;
    slot->desired = "stopped";
    slot->engine = std::move(*state);
    DTS_RETURN_IF_ERROR(writeRecord(*slot));
    DTS_ASSIGN_OR_RETURN(slot->events, events_->load(name));
    addEvent(*slot, {nowMs(), "server", "adopted from the data dir's state store (stopped)", ""});
    slots_[name] = slot;
  }
  return Status::OK();
}

Status TaskManager::writeRecord(const Slot& slot) {
  nlohmann::json j = {{"yaml", slot.yaml}, {"desired", slot.desired}};
  return writeFileAtomically(options_.data_dir + "/server/tasks/" + slot.name + ".json",
                             j.dump(2) + "\n");
}

void TaskManager::addEvent(Slot& slot, TaskEvent event) {
  if (event.type == "error" || event.type == "retry") {
    if (event.hint.empty()) event.hint = errorHint(event.message);
  }
  spdlog::info("task {}: {}: {}", slot.name, event.type, event.message);
  // Kept in memory whatever happens; a restarted server shows only what was saved.
  Status saved = events_->append(slot.name, event);
  if (!saved.ok()) spdlog::warn("task {}: {}", slot.name, saved.toString());
  slot.events.push_back(std::move(event));
  while (slot.events.size() > options_.max_events) slot.events.pop_front();
}

void TaskManager::onSaved(const task::TaskState& state) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = slots_.find(state.name);
    if (it == slots_.end()) return;
    slot = it->second;
  }
  std::lock_guard<std::mutex> lock(slot->data_mu);
  int64_t now = nowMs();
  if (!slot->engine || slot->engine->phase != state.phase) {
    std::string from = slot->engine ? task::phaseName(slot->engine->phase) : "new";
    addEvent(*slot, {now, "phase", from + " -> " + task::phaseName(state.phase), ""});
  }
  if (!state.retrying.empty() && (!slot->engine || slot->engine->retrying != state.retrying)) {
    // Every attempt counts; an event only when the outage starts or its error changes (the
    // attempt number alone changes the line each time).
    slot->errors[errorKind(state.last_error)]++;
    std::string previous = slot->engine ? withoutAttempt(slot->engine->retrying) : "";
    if (previous.empty() || withoutAttempt(state.retrying) != previous)
      addEvent(*slot, {now, "retry", state.retrying, errorHint(state.last_error)});
  }
  // The source node's own replication: an event when a stopped (or unreadable) state starts and
  // when it clears; a task that stops watching (it paused or ended) clears nothing.
  {
    using S = source::ReplicationHealth::State;
    const source::ReplicationHealth& health = state.source_replication;
    const source::ReplicationHealth before =
        slot->engine ? slot->engine->source_replication : source::ReplicationHealth{};
    if ((health.state == S::kStopped || health.state == S::kUnknown) &&
        !health.sameCondition(before)) {
      addEvent(
          *slot,
          {now, "source", source::describeReplicationHealth(health),
           health.state == S::kStopped
               ? "fix the node's replication (SHOW ALL SLAVES STATUS on " + health.node +
                     "), then START SLAVE; the task catches up by itself"
               : "grant it to the task's source user on the node; the task runs on meanwhile"});
    } else if ((before.state == S::kStopped || before.state == S::kUnknown) &&
               (health.state == S::kRunning || health.state == S::kNotReplica)) {
      addEvent(*slot, {now, "source",
                       health.state == S::kRunning
                           ? "replication of source node " + health.node + " running again"
                           : "source node " + health.node + " replicates from nothing now",
                       ""});
    }
  }
  if (state.phase == task::TaskPhase::kFailed && !state.last_error.empty() &&
      (!slot->engine || slot->engine->phase != task::TaskPhase::kFailed)) {
    slot->errors[errorKind(state.last_error)]++;
    addEvent(*slot, {now, "error", state.last_error, ""});
  }
  slot->engine = state;
}

Result<std::shared_ptr<const sink::ChangeLogReader>> TaskManager::changeLog(
    const std::string& name) {
  DTS_ASSIGN_OR_RETURN(std::shared_ptr<Slot> slot, find(name));
  std::lock_guard<std::mutex> lock(slot->data_mu);
  if (slot->change_log == nullptr) {
    DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(slot->yaml));
    DTS_ASSIGN_OR_RETURN(slot->change_log, task::openChangeLog(config, options_.data_dir));
  }
  return std::shared_ptr<const sink::ChangeLogReader>(slot->change_log);
}

Result<kafka::OffsetStore*> TaskManager::offsetStore() {
  std::lock_guard<std::mutex> lock(consumers_mu_);
  if (offsets_ == nullptr) {
    DTS_ASSIGN_OR_RETURN(offsets_,
                         kafka::OffsetStore::open(options_.data_dir + "/kafka-offsets.db"));
  }
  return offsets_.get();
}

Result<GroupTokenStore*> TaskManager::tokenStore() {
  std::lock_guard<std::mutex> lock(consumers_mu_);
  if (tokens_ == nullptr) {
    DTS_ASSIGN_OR_RETURN(tokens_, GroupTokenStore::open(options_.data_dir + "/group-tokens.db"));
  }
  return tokens_.get();
}

namespace {

// A group id the API accepts in a path: 1-249 letters, digits, '.', '_' and '-'.
Status checkGroupId(const std::string& group) {
  bool ok = !group.empty() && group.size() <= 249;
  for (char c : group) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok)
    return Status::InvalidArgument("group: must be 1-249 letters, digits, '.', '_' or '-', got '" +
                                   group + "'");
  return Status::OK();
}

}  // namespace

Result<TrackingView> TaskManager::tracking(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(std::shared_ptr<Slot> slot, find(name));
  TrackingView out;
  bool open = false;
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(slot->yaml));
    if (config.kind != task::TaskKind::kTracking)
      return Status::InvalidArgument("task '" + name + "' is a " + task::taskKindName(config.kind) +
                                     " task: only a tracking task has a change log");
    open = slot->change_log != nullptr ||
           ::access(task::changeLogDir(options_.data_dir, name).c_str(), F_OK) == 0;
  }
  if (open) {
    DTS_ASSIGN_OR_RETURN(auto log, changeLog(name));
    out.log_start_offset = log->firstOffset();
    out.log_end_offset = log->endOffset();
  }
  DTS_ASSIGN_OR_RETURN(kafka::OffsetStore * store, offsetStore());
  DTS_ASSIGN_OR_RETURN(auto groups, store->groupsOf(kafka::trackingTopics(name)));
  for (const auto& g : groups) {
    TrackingGroup t;
    t.name = g.group_id;
    t.topic = g.topic;
    t.committed_offset = g.offset;
    t.lag = std::max<int64_t>(0, out.log_end_offset - std::max<int64_t>(g.offset, 0));
    t.updated_at_ms = g.committed_at_ms;
    out.groups.push_back(std::move(t));
  }
  return out;
}

Result<std::string> TaskManager::issueGroupToken(const std::string& name,
                                                 const std::string& group) {
  DTS_RETURN_IF_ERROR(checkGroupId(group));
  DTS_RETURN_IF_ERROR(tracking(name).status());  // an existing tracking task
  DTS_ASSIGN_OR_RETURN(GroupTokenStore * tokens, tokenStore());
  DTS_ASSIGN_OR_RETURN(std::string token, tokens->issue(name, group));
  spdlog::info("task {}: read-only token issued for group '{}'", name, group);  // never the token
  return token;
}

Status TaskManager::revokeGroupToken(const std::string& name, const std::string& group) {
  DTS_RETURN_IF_ERROR(checkGroupId(group));
  DTS_RETURN_IF_ERROR(find(name).status());
  DTS_ASSIGN_OR_RETURN(GroupTokenStore * tokens, tokenStore());
  DTS_ASSIGN_OR_RETURN(bool revoked, tokens->revoke(name, group));
  if (!revoked)
    return Status::NotFound("group '" + group + "' of task '" + name + "' has no token");
  spdlog::info("task {}: token of group '{}' revoked", name, group);
  return Status::OK();
}

Result<std::optional<GroupTokenScope>> TaskManager::groupTokenScope(const std::string& token) {
  if (!GroupTokenStore::looksLikeGroupToken(token)) return std::optional<GroupTokenScope>();
  DTS_ASSIGN_OR_RETURN(GroupTokenStore * tokens, tokenStore());
  return tokens->find(token);
}

Result<std::shared_ptr<TaskManager::Slot>> TaskManager::find(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(name);
  if (it == slots_.end()) return Status::NotFound("task '" + name + "' does not exist");
  return it->second;
}

TaskView TaskManager::view(const Slot& slot_in, bool with_events) {
  Slot& slot = const_cast<Slot&>(slot_in);
  std::lock_guard<std::mutex> lock(slot.data_mu);
  TaskView v;
  v.name = slot.name;
  v.running = slot.running.load();
  if (slot.engine) v.engine = *slot.engine;
  v.engine.name = slot.name;
  auto config = parseTaskText(slot.yaml);
  if (config.ok()) {
    v.kind = task::taskKindName(config->kind);
    v.config_yaml = task::taskToYaml(*config);
    v.source_password_inline = !config->source.password.empty();
    v.destination_password_inline = !config->destination.password.empty();
  }
  if (v.engine.kind.empty()) v.engine.kind = v.kind;
  task::TaskPhase phase = slot.engine ? slot.engine->phase : task::TaskPhase::kCreated;
  if (v.running) {
    v.state = "running";
  } else if (phase == task::TaskPhase::kCompleted) {
    v.state = "completed";
  } else if (phase == task::TaskPhase::kFailed) {
    v.state = "failed";
  } else if (slot.desired == "running") {
    v.state = "stopped";
  } else {
    v.state = slot.desired;
  }
  v.rows_moved = slot.rows_base;
  v.bytes_moved = slot.bytes_base;
  if (slot.runner) {
    task::Progress& p = slot.runner->progress();
    v.rows_moved += p.rowsMoved();
    v.bytes_moved += p.bytesMoved();
    v.sink = p.sinkGauges();
    if (v.running) {
      v.latency_ms = p.latencyMs();
      v.engine.tables = p.tables();
    }
  }
  v.errors = slot.errors;
  if (!v.engine.retrying.empty()) v.retry_deadline_ms = parseRetryDeadline(v.engine.retrying);
  if (with_events) v.events.assign(slot.events.begin(), slot.events.end());
  return v;
}

Status TaskManager::launch(const std::shared_ptr<Slot>& slot, const std::string& why) {
  const std::string yaml = taskYaml(*slot);
  DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(yaml));
  DTS_RETURN_IF_ERROR(task::resolveTaskEndpoints(&config, options_.data_dir));
  if (slot->thread.joinable()) slot->thread.join();
  task::RunnerOptions ro;
  std::string name = slot->name;
  ro.print = [name](const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) spdlog::info("task {}: {}", name, line);
    }
  };
  ro.incremental = options_.incremental;
  ro.data_dir = options_.data_dir;
  auto runner = std::make_unique<task::TaskRunner>(std::move(config), store_.get(), ro);
  task::TaskRunner* raw = runner.get();
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    std::string previous = slot->desired;
    slot->desired = "running";
    Status st = writeRecord(*slot);
    if (!st.ok()) {
      slot->desired = previous;
      return st;
    }
    if (slot->runner) {
      slot->rows_base += slot->runner->progress().rowsMoved();
      slot->bytes_base += slot->runner->progress().bytesMoved();
    }
    slot->runner = std::move(runner);
    // Until the run saves its first state, the answer to start/resume and the status would show
    // where the last run ended (failed, paused): the run begins with its precheck.
    if (slot->engine && (slot->engine->phase == task::TaskPhase::kFailed ||
                         slot->engine->phase == task::TaskPhase::kPaused ||
                         slot->engine->phase == task::TaskPhase::kCreated))
      slot->engine->phase = task::TaskPhase::kPrechecking;
    addEvent(*slot, {nowMs(), why == "resumed by the server" ? "server" : "action", why, ""});
  }
  slot->stop.store(false);
  slot->running.store(true);
  slot->thread = std::thread([this, slot, raw] {
    Status st = raw->run(slot->stop);
    std::lock_guard<std::mutex> lock(slot->data_mu);
    if (!st.ok()) {
      // onSaved recorded the failure (phase failed) unless the state could not be saved.
      if (!slot->engine || slot->engine->phase != task::TaskPhase::kFailed) {
        slot->errors[errorKind(st.toString())]++;
        addEvent(*slot, {nowMs(), "error", st.toString(), ""});
      }
    }
    slot->running.store(false);
  });
  return Status::OK();
}

void TaskManager::halt(Slot& slot) {
  slot.stop.store(true);
  if (slot.thread.joinable()) slot.thread.join();
}

void TaskManager::resumeAll() {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, slot] : slots_) all.push_back(slot);
  }
  for (auto& slot : all) {
    std::lock_guard<std::mutex> op(slot->op_mu);
    bool wanted;
    {
      std::lock_guard<std::mutex> lock(slot->data_mu);
      task::TaskPhase phase = slot->engine ? slot->engine->phase : task::TaskPhase::kCreated;
      wanted = slot->desired == "running" && phase != task::TaskPhase::kCompleted &&
               phase != task::TaskPhase::kFailed;
    }
    if (!wanted || slot->running.load()) continue;
    Status st = launch(slot, "resumed by the server");
    if (!st.ok()) {
      // It cannot run as it stands (its instance was deleted meanwhile, say): failed, with the
      // reason where the status, the metrics and their alerts look, not a quiet "stopped".
      task::TaskState failed;
      {
        std::lock_guard<std::mutex> lock(slot->data_mu);
        slot->errors[errorKind(st.toString())]++;
        addEvent(*slot, {nowMs(), "error", "resuming: " + st.toString(), ""});
        if (slot->engine) {
          failed = *slot->engine;
        } else {
          failed.name = slot->name;
          auto config = parseTaskText(slot->yaml);
          if (config.ok()) failed.kind = task::taskKindName(config->kind);
        }
      }
      failed.phase = task::TaskPhase::kFailed;
      failed.last_error = "resuming after the server's restart: " + st.toString();
      failed.retrying.clear();
      failed.rps = failed.mbps = 0;
      Status saved = store_->save(failed);  // onSaved updates the slot
      if (!saved.ok()) spdlog::warn("task {}: {}", slot->name, saved.toString());
    }
  }
}

void TaskManager::shutdown() {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, slot] : slots_) all.push_back(slot);
  }
  // Every task stops at once (they end in parallel), then each thread is joined.
  for (auto& slot : all) slot->stop.store(true);
  for (auto& slot : all) {
    std::lock_guard<std::mutex> op(slot->op_mu);
    halt(*slot);
  }
}

namespace {

// Options a tracking task has no use for (it loads nothing and has no destination): refused when
// a task is created or its options change through the API. A stored task that carries them
// still loads (they are ignored), so an upgrade never strands a task and its log.
Status refuseSyncOnlyOptions(const task::TaskConfig& config, const std::string& options_text,
                             bool whole_task) {
  if (config.kind != task::TaskKind::kTracking) return Status::OK();
  YAML::Node options;
  try {
    YAML::Node root = loadYamlOrJson(options_text);
    options = whole_task && root.IsMap() ? root["options"] : root;
  } catch (const YAML::Exception&) {
    return Status::OK();  // parseTaskText has judged the text
  }
  if (!options || !options.IsMap()) return Status::OK();
  for (const char* key : {"parallelism", "full", "conflicting_tables"}) {
    if (options[key])
      return Status::InvalidArgument(std::string("options.") + key +
                                     ": a tracking task loads nothing and has no destination (" +
                                     key + " is for sync and migration tasks)");
  }
  return Status::OK();
}

}  // namespace

Result<TaskView> TaskManager::create(const std::string& text) {
  DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(text));
  DTS_RETURN_IF_ERROR(refuseSyncOnlyOptions(config, text, /*whole_task=*/true));
  auto slot = std::make_shared<Slot>();
  slot->name = config.name;
  slot->yaml = text;
  {
    // The instance is looked up under mu_: removeInstance() cannot delete it in between.
    std::lock_guard<std::mutex> lock(mu_);
    task::TaskConfig resolved = config;
    Status st = task::resolveTaskEndpoints(&resolved, options_.data_dir);
    if (!st.ok()) return Status::InvalidArgument(st.message());
    if (slots_.count(config.name) != 0)
      return Status::FailedPrecondition("task '" + config.name + "' already exists");
    DTS_ASSIGN_OR_RETURN(auto state, store_->load(config.name));
    if (state.has_value())
      return Status::FailedPrecondition("task '" + config.name +
                                        "' already has state in the data dir");
    // A new task's history starts here, whatever an earlier task of the name left.
    DTS_RETURN_IF_ERROR(events_->forget(config.name));
    DTS_RETURN_IF_ERROR(writeRecord(*slot));
    slots_[config.name] = slot;
  }
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    addEvent(*slot, {nowMs(), "action", "created", ""});
  }
  return view(*slot, false);
}

Result<std::vector<TaskView>> TaskManager::list() {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, slot] : slots_) all.push_back(slot);
  }
  std::vector<TaskView> out;
  for (auto& s : all) {
    out.push_back(view(*s, false));
    if (out.back().kind == "tracking") {
      auto t = tracking(out.back().name);
      if (t.ok()) out.back().tracking = std::move(t).value();
    }
  }
  return out;
}

Result<TaskView> TaskManager::get(const std::string& name, bool with_events) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  TaskView v = view(*slot, with_events);
  if (v.kind == "tracking") {
    auto t = tracking(name);
    if (t.ok()) {
      v.tracking = std::move(t).value();
    } else {
      spdlog::warn("task {}: reading its change log and groups: {}", name, t.status().toString());
    }
  }
  return v;
}

const std::vector<AllowedStates>& allowedStates() {
  static const std::vector<AllowedStates> kAllowed = {
      {"start", {"created", "stopped", "failed"}, "resume a paused task; a completed task is done"},
      {"resume", {"paused"}, "start a stopped or failed task"},
      {"pause", {"running"}, ""},
      {"stop", {"running", "paused"}, ""},
      {"delete", {"created", "paused", "stopped", "completed", "failed"}, "pause or stop it first"},
      {"options",
       {"created", "paused", "stopped", "failed"},
       "options are read when the task starts: pause a running task first; a completed task "
       "never runs again"},
      {"source",
       {"created", "paused", "stopped", "failed"},
       "the node is chosen when the task starts: pause or stop a running task first; a "
       "completed task never runs again"},
      {"precheck",
       {"created", "paused", "stopped", "failed"},
       "a running task would be judged against the tables it is writing: pause it first; a "
       "completed task is done"},
  };
  return kAllowed;
}

namespace {

// OK when `call` is allowed in `state`, else kFailedPrecondition naming the task, its state and
// the states the call needs.
Status checkState(const std::string& name, const std::string& state, const std::string& call) {
  for (const auto& a : allowedStates()) {
    if (call != a.call) continue;
    if (std::find(a.states.begin(), a.states.end(), state) != a.states.end()) return Status::OK();
    std::string needs;
    for (size_t i = 0; i < a.states.size(); ++i)
      needs += (i == 0 ? "" : i + 1 == a.states.size() ? " or " : ", ") + a.states[i];
    std::string why = *a.why == '\0' ? "" : std::string(" (") + a.why + ")";
    return Status::FailedPrecondition("task '" + name + "' is " + state + "; " + call +
                                      " needs a task that is " + needs + why);
  }
  return Status::Internal("no allowed states for call " + call);
}

}  // namespace

Result<TaskView> TaskManager::start(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "start"));
  DTS_RETURN_IF_ERROR(launch(slot, "started"));
  return view(*slot, false);
}

Result<TaskView> TaskManager::resume(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "resume"));
  DTS_RETURN_IF_ERROR(launch(slot, "resumed"));
  return view(*slot, false);
}

Result<TaskView> TaskManager::pause(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "pause"));
  halt(*slot);
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    slot->desired = "paused";
    DTS_RETURN_IF_ERROR(writeRecord(*slot));
    addEvent(*slot, {nowMs(), "action", "paused at a checkpoint", ""});
  }
  return view(*slot, false);
}

Result<TaskView> TaskManager::stop(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "stop"));
  halt(*slot);
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    slot->desired = "stopped";
    DTS_RETURN_IF_ERROR(writeRecord(*slot));
    addEvent(*slot, {nowMs(), "action", "stopped at a checkpoint", ""});
  }
  return view(*slot, false);
}

Status TaskManager::remove(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "delete"));
  if (slot->thread.joinable()) slot->thread.join();
  bool tracking_task = false;
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    auto config = parseTaskText(slot->yaml);
    tracking_task = config.ok() && config->kind == task::TaskKind::kTracking;
    slot->change_log.reset();  // readers that still hold it finish with the files they have open
  }
  DTS_RETURN_IF_ERROR(store_->remove(name));
  DTS_RETURN_IF_ERROR(events_->forget(name));
  std::string path = options_.data_dir + "/server/tasks/" + name + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::Internal("removing " + path + ": " + std::strerror(errno));
  {
    std::lock_guard<std::mutex> lock(mu_);
    slots_.erase(name);
  }
  if (tracking_task) {
    // Its change log (segments, indexes, schema history), its groups' offsets and its tokens.
    const std::string dir = task::changeLogDir(options_.data_dir, name);
    // Readers still following it (an HTTP stream, a Kafka fetch) end; a task created again
    // under this name opens a log of its own, not this one.
    sink::forgetSharedChangeLog(dir);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return Status::Internal("removing the change log " + dir + ": " + ec.message());
    DTS_ASSIGN_OR_RETURN(kafka::OffsetStore * offsets, offsetStore());
    DTS_RETURN_IF_ERROR(offsets->forgetTopics(kafka::trackingTopics(name)));
    DTS_ASSIGN_OR_RETURN(GroupTokenStore * tokens, tokenStore());
    DTS_RETURN_IF_ERROR(tokens->forgetTask(name));
  }
  spdlog::info("task {}: deleted", name);
  return Status::OK();
}

std::string TaskManager::taskYaml(Slot& slot) {
  std::lock_guard<std::mutex> lock(slot.data_mu);
  return slot.yaml;
}

Status TaskManager::replaceTaskYaml(Slot& slot, std::string yaml, const std::string& event) {
  std::lock_guard<std::mutex> lock(slot.data_mu);
  std::string previous = std::move(slot.yaml);
  slot.yaml = std::move(yaml);
  if (Status st = writeRecord(slot); !st.ok()) {
    slot.yaml = std::move(previous);
    return st;
  }
  addEvent(slot, {nowMs(), "action", event, ""});
  return Status::OK();
}

Result<TaskView> TaskManager::updateOptions(const std::string& name,
                                            const std::string& options_yaml) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "options"));
  const std::string yaml = taskYaml(*slot);
  std::string merged;
  try {
    YAML::Node patch = loadYamlOrJson(options_yaml);
    if (!patch.IsMap()) return Status::InvalidArgument("options: must be a mapping");
    DTS_RETURN_IF_ERROR(rejectDuplicateKeys(patch, "options"));
    YAML::Node root = YAML::Load(yaml);
    if (!root["options"]) root["options"] = YAML::Node(YAML::NodeType::Map);
    mergeYaml(root["options"], patch);
    keepQuotedAsStrings(root);  // "8" stays a string, refused where a number belongs
    YAML::Emitter out;
    out << root;
    merged = out.c_str();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("options: not valid YAML or JSON: " + e.msg);
  }
  DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(merged));
  if (config.name != name) return Status::InvalidArgument("name: options cannot rename a task");
  DTS_RETURN_IF_ERROR(refuseSyncOnlyOptions(config, options_yaml, /*whole_task=*/false));
  if (config.kind == task::TaskKind::kTracking) {
    // options.start places an empty log; once the log holds records the task resumes after its
    // last one, so a new start would be shown and never used.
    DTS_ASSIGN_OR_RETURN(task::TaskConfig before, parseTaskText(yaml));
    if (config.options.start != before.options.start) {
      DTS_ASSIGN_OR_RETURN(auto log, changeLog(name));
      if (log->endOffset() > 0)
        return Status::FailedPrecondition(
            "options.start: the change log of task '" + name + "' already holds offsets " +
            std::to_string(log->firstOffset()) + "-" + std::to_string(log->endOffset() - 1) +
            " and resumes after them; start places an empty log only (to log from another "
            "position, create a new tracking task)");
    }
  }
  DTS_RETURN_IF_ERROR(replaceTaskYaml(*slot, std::move(merged), "options updated"));
  return view(*slot, false);
}

Result<TaskView> TaskManager::updateSource(const std::string& name,
                                           const std::string& source_yaml) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  std::lock_guard<std::mutex> op(slot->op_mu);
  DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "source"));
  const std::string yaml = taskYaml(*slot);
  std::string merged, node, previous_node;
  try {
    YAML::Node patch = loadYamlOrJson(source_yaml);
    if (!patch.IsMap()) return Status::InvalidArgument("source: must be a mapping");
    DTS_RETURN_IF_ERROR(rejectDuplicateKeys(patch, "source"));
    for (const auto& kv : patch) {
      const std::string key = kv.first.as<std::string>();
      if (key != "secondary_node")
        return Status::InvalidArgument(
            "source." + key +
            ": only secondary_node can change; the task's checkpoint is a position in its "
            "source's binlog (create a new task for another source)");
    }
    if (!patch["secondary_node"])
      return Status::InvalidArgument("source.secondary_node: required (a node name, or null)");
    const YAML::Node value = patch["secondary_node"];
    if (!value.IsNull() && !value.IsScalar())
      return Status::InvalidArgument("source.secondary_node: must be a node name or null");
    YAML::Node root = YAML::Load(yaml);
    YAML::Node source = root["source"];
    if (!source || !source.IsMap() || !source["instance"])
      return Status::InvalidArgument(
          "source.secondary_node: task '" + name +
          "' reads an endpoint, not an instance; only a task whose source is an instance "
          "reads one of its nodes");
    if (source["secondary_node"]) previous_node = source["secondary_node"].as<std::string>();
    if (value.IsNull()) {
      source.remove("secondary_node");
    } else {
      node = value.as<std::string>();
      source["secondary_node"] = node;
    }
    YAML::Emitter out;
    out << root;
    merged = out.c_str();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("source: not valid YAML or JSON: " + e.msg);
  }
  DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(merged));
  // The node must be one of the instance's now (its endpoint is looked up when the task starts).
  if (Status st = task::resolveTaskEndpoints(&config, options_.data_dir); !st.ok()) {
    if (st.code() != Status::Code::kNotFound) return st;
    return Status::InvalidArgument("source.secondary_node: " + st.message());
  }
  const std::string was =
      previous_node.empty() ? "the instance's endpoint" : "node " + previous_node;
  const std::string now = node.empty() ? "the instance's endpoint" : "node " + node;
  DTS_RETURN_IF_ERROR(
      replaceTaskYaml(*slot, std::move(merged), "source: reads " + now + " (was " + was + ")"));
  return view(*slot, false);
}

Result<task::PrecheckReport> TaskManager::precheck(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto slot, find(name));
  {
    // Not held while it checks: a shutdown must not wait for a source that does not answer.
    std::lock_guard<std::mutex> op(slot->op_mu);
    DTS_RETURN_IF_ERROR(checkState(name, view(*slot, false).state, "precheck"));
  }
  std::string yaml;
  task::PrecheckOptions pre;
  {
    std::lock_guard<std::mutex> lock(slot->data_mu);
    yaml = slot->yaml;
    pre.schema_started = slot->engine && slot->engine->schema_done;
  }
  DTS_ASSIGN_OR_RETURN(task::TaskConfig config, parseTaskText(yaml));
  DTS_RETURN_IF_ERROR(task::resolveTaskEndpoints(&config, options_.data_dir));
  DTS_ASSIGN_OR_RETURN(pipeline::Mapping mapping, config.mapping());
  return task::runPrecheck(config, mapping, pre);
}

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<std::string> TaskManager::tasksWhoseSourceIs(
    const std::function<bool(const task::TaskConfig&)>& match) {
  std::vector<std::string> out;
  for (auto& [name, slot] : slots_) {
    std::lock_guard<std::mutex> data(slot->data_mu);
    auto config = parseTaskText(slot->yaml);
    if (config.ok() && match(*config)) out.push_back(name);
  }
  // Tasks of the data dir this manager does not hold (a `dts run` started after the server):
  // their task files as the state store keeps them.
  if (auto names = inner_store_->list(); names.ok()) {
    for (const std::string& name : *names) {
      if (slots_.count(name) != 0) continue;
      auto state = inner_store_->load(name);
      if (!state.ok() || !state->has_value()) continue;
      auto config = parseTaskText((**state).config_yaml);
      if (config.ok() && match(*config)) out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status TaskManager::removeInstance(const std::string& instance, std::vector<std::string>* users) {
  std::lock_guard<std::mutex> lock(mu_);
  *users =
      tasksWhoseSourceIs([&](const task::TaskConfig& c) { return c.source.instance == instance; });
  if (!users->empty()) {
    return Status::FailedPrecondition(
        "instance '" + instance + "' is the source of task" + (users->size() > 1 ? "s " : " ") +
        joinNames(*users) + ": delete " + (users->size() > 1 ? "those tasks" : "that task") +
        " first (a task whose instance is gone cannot run)");
  }
  DTS_ASSIGN_OR_RETURN(auto registry, source::InstanceRegistry::open(options_.data_dir));
  return registry->remove(instance);
}

std::vector<std::string> TaskManager::tasksReadingNode(const std::string& instance,
                                                       const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  return tasksWhoseSourceIs([&](const task::TaskConfig& c) {
    return c.source.instance == instance && c.source.secondary_node == node;
  });
}

}  // namespace dts::server
