#include "cli/task_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "common/terminal_text.h"
#include "server/server.h"
#include "server/token.h"
#include "source/replication_health.h"
#include "task/progress.h"
#include "task/state_store.h"
#include "task/status_view.h"

namespace dts::cli {
namespace {

using nlohmann::json;

int fail(const Status& st) {
  std::fprintf(stderr, "dts: %s\n", st.message().c_str());
  return st.code() == Status::Code::kInvalidArgument ? 2 : 1;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// The progress view of `dts status`, from the API's task JSON.
std::string renderTask(const json& t, bool tty) {
  std::vector<task::TableProgress> tables;
  for (const auto& tj : t["tables"]) {
    task::TableProgress p;
    std::string src = tj["source"], dst = tj["target"];
    p.source_database = src.substr(0, src.find('.'));
    p.source_table = src.substr(src.find('.') + 1);
    p.target_database = dst.substr(0, dst.find('.'));
    p.target_table = dst.substr(dst.find('.') + 1);
    p.rows_done = tj["rows_done"];
    p.rows_estimated = tj["rows_estimated"];
    p.done = tj["done"];
    p.changes_applied = tj["changes_applied"];
    tables.push_back(p);
  }
  auto phase = task::parsePhase(t["phase"].get<std::string>());
  double latency = t["latency_ms"].is_number() ? t["latency_ms"].get<double>() : -1;
  task::OpenTransaction open;
  if (auto a = t.find("applier"); a != t.end() && a->is_object())
    open = task::openTransactionFromJson(a->value("open_transaction", json()));
  std::string out = "task " + str(t, "name") + " (" + str(t, "kind") + "): " + str(t, "state") +
                    ", phase " + str(t, "phase") + "\n";
  const source::ReplicationHealth node_health =
      source::replicationHealthFromJson(t.value("source_replication", json()));
  // A tracking task loads nothing: its log instead of tables and rows loaded.
  task::TrackingLogState log;
  const bool tracking = str(t, "kind") == "tracking";
  if (auto tr = t.find("tracking"); tracking && tr != t.end() && tr->is_object()) {
    log.first_offset = tr->value("log_start_offset", int64_t{-1});
    log.end_offset = tr->value("log_end_offset", int64_t{-1});
  }
  out += task::renderProgress(str(t, "name"), phase.ok() ? *phase : task::TaskPhase::kCreated,
                              tables, {t["rps"].get<double>(), t["mbps"].get<double>()}, latency,
                              tty, open, tracking ? &log : nullptr, node_health);
  if (t["replication_lag_seconds"].is_number()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  replication lag: %.3f s\n",
                  t["replication_lag_seconds"].get<double>());
    out += buf;
  }
  if (!str(t, "checkpoint_gtid").empty())
    out += "  checkpoint: " + str(t, "checkpoint_gtid") + "\n";
  if (auto tr = t.find("tracking"); tr != t.end() && tr->is_object()) {
    // The change log and its consumer groups (GET .../groups has the same list).
    out += "  change log: offsets " + str(*tr, "log_start_offset") + " to " +
           str(*tr, "log_end_offset") + "\n";
    const json groups = tr->value("groups", json::array());
    if (groups.is_array() && !groups.empty()) {
      out += "  consumer groups:\n";
      for (const auto& g : groups) {
        std::string topic = str(g, "topic");
        out += "    " + str(g, "name") + (topic == str(t, "name") ? "" : " (" + topic + ")") +
               ": committed " + str(g, "committed_offset") + ", lag " + str(g, "lag") + " records" +
               (str(g, "updated_at").empty() ? "" : ", at " + str(g, "updated_at")) + "\n";
      }
    } else {
      out += "  consumer groups: none has committed\n";
    }
  }
  if (node_health.state == source::ReplicationHealth::State::kUnknown)
    out += "  " + source::describeReplicationHealth(node_health) + "\n";
  if (auto v = t.find("verify"); v != t.end() && v->is_object())
    task::appendVerify(task::verifyStateFromJson(*v), &out);
  if (t["retrying"].is_object()) {
    out += "  " + str(t["retrying"], "message") + "\n";
  }
  if (!str(t, "last_error").empty()) out += "  last error: " + str(t, "last_error") + "\n";
  if (!str(t, "hint").empty()) out += "  hint: " + str(t, "hint") + "\n";
  return out;
}

struct TaskArgs {
  std::string server;
  std::string data_dir = defaultDataDir();
  std::string file;
  std::string name;
  bool start = false;
  bool json_out = false;
  bool watch = false;
  int limit = 50;
  std::string secondary_node;      // task source --secondary-node
  bool instance_endpoint = false;  // task source --instance-endpoint
};

int withClient(const TaskArgs& a, const std::function<int(server::ApiClient&)>& body) {
  auto client = apiClient(a.server, a.data_dir);
  if (!client.ok()) return fail(client.status());
  return body(**client);
}

int printResult(const Result<json>& r, bool as_json, const std::function<void(const json&)>& text) {
  if (!r.ok()) return fail(r.status());
  if (as_json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else {
    text(*r);
  }
  return 0;
}

int runAction(const TaskArgs& a, const std::string& action) {
  return withClient(a, [&](server::ApiClient& c) {
    if (!c.isRemote() && action != "delete")
      return fail(Status::FailedPrecondition(
          "task " + action +
          " needs a running server: --server URL or $DTS_SERVER (or `dts run "
          "FILE` runs a task in the foreground)"));
    if (action == "delete") {
      return printResult(c.call("DELETE", "/api/v1/tasks/" + a.name), a.json_out,
                         [&](const json&) { std::printf("task %s deleted\n", a.name.c_str()); });
    }
    return printResult(c.call("POST", "/api/v1/tasks/" + a.name + "/" + action), a.json_out,
                       [&](const json& t) {
                         std::printf("task %s: %s (phase %s)\n", a.name.c_str(),
                                     str(t, "state").c_str(), str(t, "phase").c_str());
                       });
  });
}

int runCreate(const TaskArgs& a) {
  auto text = readFile(a.file);
  if (!text.ok()) return fail(text.status());
  return withClient(a, [&](server::ApiClient& c) {
    if (a.start && !c.isRemote())
      return fail(Status::FailedPrecondition(
          "--start needs a running server: --server URL or $DTS_SERVER"));
    std::string path = std::string("/api/v1/tasks") + (a.start ? "?start=true" : "");
    return printResult(c.call("POST", path, *text), a.json_out, [&](const json& t) {
      std::printf("task %s created (%s)\n", str(t, "name").c_str(), str(t, "state").c_str());
    });
  });
}

int runOptions(const TaskArgs& a) {
  auto text = readFile(a.file);
  if (!text.ok()) return fail(text.status());
  return withClient(a, [&](server::ApiClient& c) {
    return printResult(
        c.call("PATCH", "/api/v1/tasks/" + a.name + "/options", *text), a.json_out,
        [&](const json& t) { std::printf("task %s: options updated\n", str(t, "name").c_str()); });
  });
}

int runSource(const TaskArgs& a) {
  if (a.secondary_node.empty() && !a.instance_endpoint)
    return fail(
        Status::InvalidArgument("task source: --secondary-node NODE or --instance-endpoint"));
  json body = {{"secondary_node", a.instance_endpoint ? json(nullptr) : json(a.secondary_node)}};
  return withClient(a, [&](server::ApiClient& c) {
    return printResult(
        c.call("PATCH", "/api/v1/tasks/" + a.name + "/source", body.dump()), a.json_out,
        [&](const json& t) {
          const json& src =
              t.contains("config") ? t["config"].value("source", json::object()) : json::object();
          const std::string node =
              src.contains("secondary_node") && src["secondary_node"].is_string()
                  ? "node " + src["secondary_node"].get<std::string>()
                  : "the instance's read/write endpoint";
          std::printf("task %s: reads %s from its next start, resuming from its checkpoint\n",
                      str(t, "name").c_str(), node.c_str());
        });
  });
}

int runList(const TaskArgs& a) {
  return withClient(a, [&](server::ApiClient& c) {
    return printResult(c.call("GET", "/api/v1/tasks"), a.json_out, [](const json& j) {
      std::printf("%-24s %-10s %-10s %-12s %14s %14s %10s\n", "NAME", "KIND", "STATE", "PHASE",
                  "ROWS", "CHANGES", "LAG(s)");
      for (const auto& t : j["tasks"]) {
        std::string lag = t["replication_lag_seconds"].is_number()
                              ? std::to_string(t["replication_lag_seconds"].get<double>())
                              : "-";
        std::printf(
            "%-24s %-10s %-10s %-12s %14s %14s %10s\n", str(t, "name").c_str(),
            str(t, "kind").c_str(), str(t, "state").c_str(), str(t, "phase").c_str(),
            str(t, "rows_done").c_str(), str(t, "changes_applied").c_str(),
            lag.substr(0, lag.find('.') == std::string::npos ? lag.size() : lag.find('.') + 4)
                .c_str());
      }
    });
  });
}

int runStatus(const TaskArgs& a) {
  return withClient(a, [&](server::ApiClient& c) {
    bool tty = isatty(STDOUT_FILENO) != 0;
    if (!a.watch || a.json_out) {
      return printResult(c.call("GET", "/api/v1/tasks/" + a.name), a.json_out,
                         [&](const json& t) { std::fputs(renderTask(t, false).c_str(), stdout); });
    }
    const std::atomic<bool>& stop = catchStopSignals();
    int lines = 0;
    while (!stop.load()) {
      auto t = c.call("GET", "/api/v1/tasks/" + a.name);
      if (!t.ok()) return fail(t.status());
      std::string frame = renderTask(*t, tty);
      std::string clear;
      for (int i = 0; tty && i < lines; ++i) clear += "\x1b[1A\x1b[2K";
      lines = static_cast<int>(terminalRows(frame, terminalColumns(STDOUT_FILENO)));
      std::fputs((clear + frame).c_str(), stdout);
      std::fflush(stdout);
      for (int i = 0; i < 10 && !stop.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
  });
}

int runPrecheck(const TaskArgs& a) {
  return withClient(a, [&](server::ApiClient& c) {
    auto r = c.call("POST", "/api/v1/tasks/" + a.name + "/precheck");
    int rc = printResult(r, a.json_out, [](const json& j) {
      for (const auto& i : j["items"]) {
        std::printf("%-5s %-26s %s\n", str(i, "level").c_str(), str(i, "name").c_str(),
                    str(i, "message").c_str());
        if (!str(i, "hint").empty()) std::printf("      fix: %s\n", str(i, "hint").c_str());
      }
      std::printf("precheck %s\n", j["passed"].get<bool>() ? "passed" : "failed");
    });
    if (rc == 0 && !(*r)["passed"].get<bool>()) return 1;
    return rc;
  });
}

int runEvents(const TaskArgs& a) {
  return withClient(a, [&](server::ApiClient& c) {
    return printResult(
        c.call("GET", "/api/v1/tasks/" + a.name + "/events?limit=" + std::to_string(a.limit)),
        a.json_out, [](const json& j) {
          for (const auto& e : j["events"]) {
            std::printf("%s %-6s %s\n", str(e, "at").c_str(), str(e, "type").c_str(),
                        str(e, "message").c_str());
            if (!str(e, "hint").empty()) std::printf("    hint: %s\n", str(e, "hint").c_str());
          }
        });
  });
}

}  // namespace

std::string serverUrl(const std::string& server) {
  if (!server.empty()) return server;
  const char* env = std::getenv("DTS_SERVER");
  return env != nullptr ? env : "";
}

Result<std::unique_ptr<server::ApiClient>> apiClient(const std::string& server,
                                                     const std::string& data_dir) {
  std::string url = serverUrl(server);
  // No server named: the one running on the data dir, if any (reading the data dir behind its
  // back would show its running tasks as stopped).
  if (url.empty()) url = server::runningServerUrl(data_dir).value_or("");
  if (url.empty()) return server::ApiClient::local(data_dir);
  DTS_ASSIGN_OR_RETURN(std::string token, server::clientToken(data_dir));
  return server::ApiClient::remote(url, token);
}

int runInstanceRemote(const RemoteInstanceCall& c) {
  auto client = apiClient(c.server, c.data_dir);
  if (!client.ok()) return fail(client.status());
  auto& api = **client;
  const std::string base = "/api/v1/instances";
  Result<json> r = Status::Internal("unknown instance action " + c.action);
  if (c.action == "create") {
    auto text = readFile(c.file);
    if (!text.ok()) return fail(text.status());
    r = api.call("POST", base, *text);
  } else if (c.action == "list") {
    r = api.call("GET", base);
  } else if (c.action == "show") {
    r = api.call("GET", base + "/" + c.name);
  } else if (c.action == "add-node") {
    r = api.call("POST", base + "/" + c.name + "/nodes",
                 json{{"name", c.node}, {"endpoint", c.endpoint}}.dump());
  } else if (c.action == "remove-node") {
    r = api.call("DELETE", base + "/" + c.name + "/nodes/" + c.node);
  } else if (c.action == "delete") {
    r = api.call("DELETE", base + "/" + c.name);
  } else if (c.action == "discover") {
    r = api.call("POST", base + "/" + c.name + "/discover");
  }
  if (!r.ok()) return fail(r.status());
  std::printf("%s\n", r->dump(2).c_str());
  return 0;
}

void registerServerCommand(CLI::App& app, ServerRun run) {
  struct Args {
    server::ServerOptions options;
    std::string config;
    std::string max_change_streams;
  };
  auto args = std::make_shared<Args>();
  args->options.data_dir = defaultDataDir();
  auto* cmd = app.add_subcommand(
      "server", "run every task of the data dir as a service with a REST API and /metrics");
  // Given twice, the last one wins: dts.service passes --data-dir and --listen, then
  // $DTS_SERVER_ARGS from /etc/default/dts, whose documented example sets --listen again.
  const auto last = CLI::MultiOptionPolicy::TakeLast;
  auto* dd = cmd->add_option("--data-dir", args->options.data_dir,
                             "data dir (default $DTS_DATA_DIR or .dts)")
                 ->multi_option_policy(last);
  auto* listen = cmd->add_option("--listen", args->options.listen,
                                 "HOST:PORT (0: a free port; the last one given wins)")
                     ->capture_default_str()
                     ->multi_option_policy(last);
  cmd->add_option("--config", args->config,
                  "server config file (YAML: data_dir, listen, tls_cert, tls_key, kafka_listen, "
                  "max_change_streams); flags win")
      ->multi_option_policy(last);
  auto* cert = cmd->add_option("--tls-cert", args->options.tls_cert, "PEM certificate (HTTPS)")
                   ->multi_option_policy(last);
  auto* key = cmd->add_option("--tls-key", args->options.tls_key, "PEM private key (HTTPS)")
                  ->multi_option_policy(last);
  auto* kafka = cmd->add_option("--kafka-listen", args->options.kafka_listen,
                                "HOST:PORT for Kafka consumers of tracking tasks (docs/kafka.md)")
                    ->multi_option_policy(last);
  auto* streams =
      cmd->add_option("--max-change-streams", args->max_change_streams,
                      "tracking tasks' /changes streams open at once, 1-" +
                          std::to_string(server::maxChangeStreamsLimit()) +
                          " (one more is answered 503; default " +
                          std::to_string(server::ServerOptions{}.max_change_streams) + ")")
          ->option_text("N")
          ->multi_option_policy(last);
  cmd->callback([args, dd, listen, cert, key, kafka, streams, run] {
    server::ServerOptions o = args->options;
    if (streams->count() > 0) {
      auto n = server::parseMaxChangeStreams("--max-change-streams", args->max_change_streams);
      if (!n.ok()) return setExitCode(fail(n.status()));
      o.max_change_streams = *n;
    }
    if (!args->config.empty()) {
      server::ServerOptions fromFile;
      fromFile.data_dir = o.data_dir;
      Status st = server::applyServerConfig(args->config, &fromFile);
      if (!st.ok()) return setExitCode(fail(st));
      if (dd->count() == 0) o.data_dir = fromFile.data_dir;
      if (listen->count() == 0) o.listen = fromFile.listen;
      if (cert->count() == 0) o.tls_cert = fromFile.tls_cert;
      if (key->count() == 0) o.tls_key = fromFile.tls_key;
      if (kafka->count() == 0) o.kafka_listen = fromFile.kafka_listen;
      if (streams->count() == 0) o.max_change_streams = fromFile.max_change_streams;
    }
    const std::atomic<bool>& stop = catchStopSignals();
    Status st = run(o, stop, [](const std::string& s) {
      std::fputs(s.c_str(), stdout);
      std::fflush(stdout);
    });
    setExitCode(st.ok() ? 0 : fail(st));
  });
}

void registerTaskCommands(CLI::App& app) {
  auto args = std::make_shared<TaskArgs>();
  auto* task = app.add_subcommand("task", "manage the tasks of a server (or of a data dir)");
  task->require_subcommand(1);
  auto common = [&](CLI::App* c) {
    c->add_option("--server", args->server, "server URL (default $DTS_SERVER; none: the data dir)");
    c->add_option("--data-dir", args->data_dir,
                  "data dir (default $DTS_DATA_DIR or .dts): the token, or the tasks without a "
                  "server");
    c->add_flag("--json", args->json_out, "JSON output (the API's answer)");
  };
  auto* create = task->add_subcommand("create", "create a task from a task file");
  create->add_option("-f,--file", args->file, "task file (YAML or JSON)")->required();
  create->add_flag("--start", args->start, "start it at once");
  common(create);
  create->callback([args] { setExitCode(runCreate(*args)); });

  auto* list = task->add_subcommand("list", "list tasks with state, phase and lag");
  common(list);
  list->callback([args] { setExitCode(runList(*args)); });

  auto* status = task->add_subcommand("status", "a task's progress, rates, latency and errors");
  status->add_option("NAME", args->name)->required();
  status->add_flag("-w,--watch", args->watch, "redraw every second until Ctrl-C");
  common(status);
  status->callback([args] { setExitCode(runStatus(*args)); });

  auto* pre = task->add_subcommand("precheck", "run the task's precheck (exit 1 when it fails)");
  pre->add_option("NAME", args->name)->required();
  common(pre);
  pre->callback([args] { setExitCode(runPrecheck(*args)); });

  for (const char* action : {"start", "pause", "resume", "stop", "delete"}) {
    std::string a = action;
    std::string help = a == "start"    ? "start a created, stopped or failed task"
                       : a == "pause"  ? "pause a running task at a checkpoint"
                       : a == "resume" ? "resume a paused task from its checkpoint"
                       : a == "stop"   ? "stop a running or paused task at a checkpoint"
                                       : "delete a task that is not running";
    auto* c = task->add_subcommand(a, help);
    c->add_option("NAME", args->name)->required();
    common(c);
    c->callback([args, a] { setExitCode(runAction(*args, a)); });
  }

  auto* events = task->add_subcommand("events", "recent events: phases, retries, errors, hints");
  events->add_option("NAME", args->name)->required();
  events->add_option("--limit", args->limit, "at most this many (newest)")->capture_default_str();
  common(events);
  events->callback([args] { setExitCode(runEvents(*args)); });

  auto* opts = task->add_subcommand("options", "merge options (YAML/JSON) into a paused task");
  opts->add_option("NAME", args->name)->required();
  opts->add_option("-f,--file", args->file, "a mapping of options")->required();
  common(opts);
  opts->callback([args] { setExitCode(runOptions(*args)); });

  auto* source = task->add_subcommand(
      "source",
      "change which node of its instance a task that is not running reads (it resumes from "
      "its checkpoint)");
  source->add_option("NAME", args->name)->required();
  auto* node =
      source->add_option("--secondary-node", args->secondary_node, "a node of the task's instance");
  auto* endpoint = source->add_flag("--instance-endpoint", args->instance_endpoint,
                                    "read the instance's read/write endpoint, no node");
  node->excludes(endpoint);
  common(source);
  source->callback([args] { setExitCode(runSource(*args)); });
}

}  // namespace dts::cli
