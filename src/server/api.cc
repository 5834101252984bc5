#include "server/api.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <optional>
#include <set>
#include <sstream>

#include "common/log.h"
#include "common/strings.h"
#include "mysql/connection.h"
#include "server/changes_stream.h"
#include "server/console.h"
#include "server/explore.h"
#include "server/metrics.h"
#include "server/token.h"
#include "source/cluster_source.h"
#include "source/instance.h"
#include "source/replication_health.h"

namespace dts::server {

std::string jsonBody(const nlohmann::json& body) {
  return body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = jsonBody(body);
  return r;
}

namespace {

using nlohmann::json;

std::string isoTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '/') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

HttpResponse methodNotAllowed(const HttpRequest& r) {
  return errorResponse(405, "method_not_allowed", r.method + " is not allowed on " + r.path);
}

json eventJson(const TaskEvent& e) {
  return {{"at", isoTime(e.at_ms)},
          {"at_ms", e.at_ms},
          {"type", e.type},
          {"message", e.message},
          {"hint", e.hint}};
}

json instanceJson(const source::Instance& inst) {
  json j = yamlTextToJson(source::instanceToYaml(inst));
  if (!j.is_object()) j = json::object();
  if (!inst.password.empty()) j["password"] = "***";
  return j;
}

json precheckJson(const task::PrecheckReport& report) {
  json items = json::array();
  for (const auto& i : report.items) {
    const char* level = i.level == task::PrecheckItem::Level::kOk     ? "ok"
                        : i.level == task::PrecheckItem::Level::kWarn ? "warn"
                                                                      : "fail";
    items.push_back(
        {{"name", i.name},
         {"level", level},
         {"message", i.message},
         {"hint", i.level == task::PrecheckItem::Level::kOk ? "" : precheckHint(i.name)},
         {"retryable", i.retryable}});
  }
  return {{"passed", report.passed()}, {"items", items}};
}

}  // namespace

HttpRequest makeRequest(const std::string& method, const std::string& target,
                        const std::string& authorization, const std::string& body) {
  HttpRequest r;
  r.method = method;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::istringstream params(target.substr(q + 1));
    for (std::string kv; std::getline(params, kv, '&');) {
      size_t eq = kv.find('=');
      const std::string key = kv.substr(0, eq);
      if (!r.query.emplace(key, eq == std::string::npos ? "" : kv.substr(eq + 1)).second &&
          r.repeated_query.empty())
        r.repeated_query = key;
    }
  }
  r.authorization = authorization;
  r.body = body;
  return r;
}

json tableProgressJson(const task::TableProgress& t) {
  return {{"source", t.source_database + "." + t.source_table},
          {"target", t.target_database + "." + t.target_table},
          {"rows_done", t.rows_done},
          {"rows_estimated", t.rows_estimated},
          {"bytes_done", t.bytes_done},
          {"done", t.done},
          {"changes_applied", t.changes_applied}};
}

HttpResponse errorResponse(int http_status, const std::string& code, const std::string& message) {
  json err = {{"code", code}, {"message", message}};
  if (http_status == 400) {
    // "options.parallelism: must be ..." names the field.
    size_t colon = message.find(": ");
    if (colon != std::string::npos && colon > 0 &&
        message.substr(0, colon).find(' ') == std::string::npos)
      err["field"] = message.substr(0, colon);
  }
  return jsonResponse(http_status, {{"error", err}});
}

Result<json> parseJsonBody(const std::string& text, const std::vector<JsonField>& fields) {
  // A key given twice would be read as its last value without a word: refused.
  std::vector<std::set<std::string>> keys;  // per open object
  std::string repeated;
  json body = json::parse(
      text,
      [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
        if (event == json::parse_event_t::key && !keys.empty() &&
            !keys.back().insert(parsed.get<std::string>()).second && repeated.empty())
          repeated = parsed.get<std::string>();
        return true;
      },
      false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument(std::string("body: must be a JSON object") +
                                   (body.is_discarded() ? " (it is not valid JSON)" : ""));
  }
  if (!repeated.empty())
    return Status::InvalidArgument(repeated + ": given more than once in the body");
  std::string allowed;
  for (const auto& f : fields) allowed += (allowed.empty() ? "" : ", ") + f.name;
  auto typeName = [](const json& v) -> std::string {
    switch (v.type()) {
      case json::value_t::string: return "a string";
      case json::value_t::boolean: return "a boolean";
      case json::value_t::number_integer:
      case json::value_t::number_unsigned: return "an integer";
      case json::value_t::number_float: {
        // JSON has one number type: an integral one out of 64-bit range is read as a double.
        const double d = v.get<double>();
        if (!std::isfinite(d) || d != std::floor(d)) return "a number with a fraction";
        // 1.0 or 1e3: an integral value written as a decimal; beyond 2^63: out of range.
        return std::fabs(d) < 9.2e18
                   ? "a number written with a fraction or exponent (" + v.dump() + ")"
                   : "an integer out of range";
      }
      case json::value_t::array: return "a list";
      case json::value_t::object: return "an object";
      default: return "null";
    }
  };
  for (const auto& [key, value] : body.items()) {
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&](const JsonField& field) { return field.name == key; });
    if (f == fields.end())
      return Status::InvalidArgument(key + ": unknown key (allowed: " + allowed + ")");
    if (value.is_null() && !f->required) continue;
    bool ok = f->type == JsonType::kString    ? value.is_string()
              : f->type == JsonType::kInteger ? value.is_number_integer()
                                              : value.is_boolean();
    if (!ok) {
      const char* want = f->type == JsonType::kString    ? "a string"
                         : f->type == JsonType::kInteger ? "an integer"
                                                         : "true or false";
      return Status::InvalidArgument(key + ": must be " + want + ", got " + typeName(value));
    }
  }
  for (const auto& f : fields) {
    if (f.required && (!body.contains(f.name) || body[f.name].is_null()))
      return Status::InvalidArgument(f.name + ": required");
  }
  return body;
}

HttpResponse errorResponse(const Status& st) {
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported: return errorResponse(400, "invalid_argument", st.message());
    case Status::Code::kNotFound: return errorResponse(404, "not_found", st.message());
    case Status::Code::kFailedPrecondition: return errorResponse(409, "conflict", st.message());
    case Status::Code::kUnavailable: return errorResponse(503, "unavailable", st.message());
    default: return errorResponse(500, "internal", st.toString());
  }
}

// The consumer groups of a tracking task and their lag.
json groupsJson(const TrackingView& t) {
  json groups = json::array();
  for (const auto& g : t.groups) {
    groups.push_back(
        {{"name", g.name},
         {"committed_offset", g.committed_offset},
         {"lag", g.lag},
         {"updated_at", g.updated_at_ms > 0 ? json(isoTime(g.updated_at_ms)) : json(nullptr)},
         {"topic", g.topic}});
  }
  return groups;
}

json trackingJson(const TrackingView& t) {
  return {{"log_start_offset", t.log_start_offset},
          {"log_end_offset", t.log_end_offset},
          {"groups", groupsJson(t)}};
}

json taskJson(const TaskView& v) {
  json config = yamlTextToJson(v.config_yaml);
  if (config.is_object()) {
    if (v.source_password_inline && config["source"].is_object())
      config["source"]["password"] = "***";
    if (v.destination_password_inline && config["destination"].is_object())
      config["destination"]["password"] = "***";
  }
  json tables = json::array();
  uint64_t done = 0, estimated = 0, changes = 0;
  for (const auto& t : v.engine.tables) {
    tables.push_back(tableProgressJson(t));
    done += t.rows_done;
    estimated += std::max(t.rows_estimated, t.rows_done);
    changes += t.changes_applied;
  }
  double latency = v.running ? v.latency_ms : v.engine.latency_ms;
  // Measured against the secondary node read: while that node's own replication is stopped the
  // lag is unknown, however small it reads (source_replication says why).
  if (v.engine.source_replication.degraded()) latency = -1;
  json retrying = nullptr;
  if (!v.engine.retrying.empty()) {
    retrying = {{"message", v.engine.retrying}};
    if (v.retry_deadline_ms) {
      retrying["deadline"] = isoTime(*v.retry_deadline_ms);
      retrying["deadline_ms"] = *v.retry_deadline_ms;
    }
  }
  std::string hint = errorHint(v.engine.retrying.empty() ? v.engine.last_error : v.engine.retrying);
  json j = {{"name", v.name},
            {"kind", v.kind},
            {"state", v.state},
            {"phase", task::phaseName(v.engine.phase)},
            {"running", v.running},
            {"config", config},
            {"tables", tables},
            {"rows_done", done},
            {"rows_estimated", estimated},
            {"changes_applied", changes},
            {"rows_total", v.rows_moved},
            {"bytes_total", v.bytes_moved},
            {"rps", v.running ? v.engine.rps : 0.0},
            {"mbps", v.running ? v.engine.mbps : 0.0},
            {"latency_ms", latency < 0 ? json(nullptr) : json(latency)},
            {"replication_lag_seconds",
             v.engine.phase == task::TaskPhase::kIncremental && latency >= 0 ? json(latency / 1000)
                                                                             : json(nullptr)},
            {"start_gtid", v.engine.start_gtid ? json(*v.engine.start_gtid) : json(nullptr)},
            {"checkpoint_gtid", v.engine.checkpoint_gtid},
            // How far the phases got (a failed or paused task's phase does not say): the
            // console's phase bar.
            {"phases_done",
             {{"precheck",
               v.engine.schema_started || v.engine.schema_done || v.engine.start_gtid.has_value()},
              {"schema", v.engine.schema_done},
              {"full", v.engine.full_done}}},
            {"retrying", retrying},
            {"source_replication", source::replicationHealthJson(v.engine.source_replication)},
            {"last_error", v.engine.last_error},
            {"error_history", task::pastErrorsJson(v.engine.errors)},
            {"hint", v.engine.last_error.empty() && v.engine.retrying.empty() ? "" : hint},
            {"errors", v.errors},
            {"degraded", v.engine.degraded},
            {"applier",
             {{"queued_transactions", v.sink.queued_transactions},
              {"transactions_applied", v.sink.transactions_applied},
              {"batches", v.sink.batches},
              {"open_transaction", task::openTransactionJson(v.sink.open_transaction)}}},
            {"updated_at",
             v.engine.updated_at_ms > 0 ? json(isoTime(v.engine.updated_at_ms)) : json(nullptr)}};
  if (!v.engine.verify.state.empty() || v.engine.verify.incremental.enabled) {
    j["verify"] = task::verifyStatusJson(v.engine.verify);
  }
  if (v.tracking) j["tracking"] = trackingJson(*v.tracking);
  if (!v.events.empty()) {
    json events = json::array();
    for (const auto& e : v.events) events.push_back(eventJson(e));
    j["events"] = events;
  }
  return j;
}

Api::Api(TaskManager* tasks, std::string token, std::function<bool()> ready)
    : tasks_(tasks), token_(std::move(token)), ready_(std::move(ready)) {}

HttpResponse Api::handle(const HttpRequest& r) {
  HttpResponse resp;
  try {
    resp = route(r);
  } catch (const std::exception& e) {
    resp = errorResponse(500, "internal", std::string("unexpected error: ") + e.what());
  }
  // The access log: method, path and status only (never a body: it may hold a password).
  spdlog::debug("api: {} {} -> {}", r.method, r.path, resp.status);
  return resp;
}

namespace {

// A query parameter the endpoint does not take: 400 naming it and what the endpoint takes. A typo
// was ignored (POST /api/v1/tasks?strat=true created a task that did not start). The changes
// stream judges its own parameters (changes_stream.h).
std::optional<HttpResponse> unknownParameter(const HttpRequest& r,
                                             const std::vector<std::string>& parts) {
  if (r.query.empty()) return std::nullopt;
  std::vector<std::string> allowed;
  const bool task_path = parts.size() >= 3 && parts[2] == "tasks";
  if (task_path && parts.size() == 3) {
    allowed = {"start"};
  } else if (task_path && parts.size() == 4) {
    allowed = {"events"};
  } else if (task_path && parts.size() == 5 && parts[4] == "events") {
    allowed = {"limit"};
  } else if (task_path && parts.size() == 5 && parts[4] == "changes") {
    return std::nullopt;
  } else if (task_path && parts.size() >= 5 && parts[4] == "groups") {
    allowed = {"format"};
  }
  for (const auto& [key, value] : r.query) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return errorResponse(
        400, "invalid_argument",
        key + ": unknown parameter (" +
            (list.empty() ? std::string("this endpoint takes none") : "allowed: " + list) + ")");
  }
  return std::nullopt;
}

}  // namespace

HttpResponse Api::route(const HttpRequest& r) {
  if (r.path == "/healthz") {
    if (r.method != "GET" && r.method != "HEAD") return methodNotAllowed(r);
    return jsonResponse(200, {{"status", "ok"}});
  }
  if (r.path == "/readyz") {
    if (r.method != "GET" && r.method != "HEAD") return methodNotAllowed(r);
    if (ready_ && !ready_()) return errorResponse(503, "unavailable", "starting: tasks resuming");
    return jsonResponse(200, {{"status", "ready"}});
  }
  if (auto console = serveConsole(r)) return *console;
  if (!r.repeated_query.empty())
    return errorResponse(400, "invalid_argument",
                         r.repeated_query + ": given more than once in the query string");
  // Everything else needs the token.
  // "SCHEME CREDENTIALS", the scheme case-insensitive (RFC 7235 2.1). Another scheme than
  // Bearer presents no token at all: 401, as none.
  const std::string& auth = r.authorization;
  const size_t space = auth.find(' ');
  const std::string scheme = auth.substr(0, space);
  const bool bearer = scheme.size() == 6 && toLower(scheme) == "bearer";
  if (!bearer)
    return errorResponse(
        401, "unauthenticated",
        (auth.empty() ? std::string("missing") : "'" + scheme + "' is not accepted: send") +
            " 'Authorization: Bearer TOKEN' (the token is in the server's data dir, file "
            "api-token)");
  const size_t start = auth.find_first_not_of(' ', space);
  const std::string presented = start == std::string::npos ? "" : auth.substr(start);
  if (!tokenEquals(presented, token_)) {
    // A consumer group's read-only token (server/group_tokens.h): its task's changes only.
    std::string why = "invalid API token";
    if (GroupTokenStore::looksLikeGroupToken(presented) && groupTokenAllows(presented, r, &why)) {
      std::vector<std::string> parts = splitPath(r.path);
      if (auto bad = unknownParameter(r, parts)) return *bad;
      return tasks(r, parts);
    }
    return errorResponse(403, "forbidden", why);
  }

  if (r.path == "/metrics") {
    if (r.method != "GET") return methodNotAllowed(r);
    auto all = tasks_->list();
    if (!all.ok()) return errorResponse(all.status());
    HttpResponse resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = renderMetrics(*all);
    return resp;
  }
  std::vector<std::string> parts = splitPath(r.path);
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1")
    return errorResponse(404, "not_found", "no such endpoint: " + r.path);
  if (auto bad = unknownParameter(r, parts)) return *bad;
  if (parts.size() == 3 && parts[2] == "openapi.json") {
    if (r.method != "GET") return methodNotAllowed(r);
    HttpResponse resp;
    resp.body = openApiDocument();
    return resp;
  }
  if (parts[2] == "tasks") return tasks(r, parts);
  if (parts[2] == "instances") return instances(r, parts);
  if ((parts.size() == 3 && parts[2] == "browse") ||
      (parts.size() == 4 && parts[2] == "connections" && parts[3] == "test")) {
    if (r.method != "POST") return methodNotAllowed(r);
    auto reg = source::InstanceRegistry::open(tasks_->dataDir());
    if (!reg.ok()) return errorResponse(reg.status());
    return parts[2] == "browse" ? browseSource(**reg, r.body) : testConnection(**reg, r.body);
  }
  return errorResponse(404, "not_found", "no such endpoint: " + r.path);
}

HttpResponse Api::tasks(const HttpRequest& r, const std::vector<std::string>& parts) {
  auto viewOrError = [](const Result<TaskView>& v, int status = 200) {
    if (!v.ok()) return errorResponse(v.status());
    return jsonResponse(status, taskJson(*v));
  };
  if (parts.size() == 3) {
    if (r.method == "GET") {
      auto all = tasks_->list();
      if (!all.ok()) return errorResponse(all.status());
      json list = json::array();
      for (const auto& v : *all) list.push_back(taskJson(v));
      return jsonResponse(200, {{"tasks", list}});
    }
    if (r.method == "POST") {
      if (r.body.find_first_not_of(" \t\r\n") == std::string::npos)
        return errorResponse(
            400, "invalid_argument",
            "body: a task (the YAML of a task file, or its JSON form) is required");
      // Judged before the task exists: `?start=yes` created a task that did not start.
      auto q = r.query.find("start");
      bool start = false;
      if (q != r.query.end()) {
        if (q->second == "true" || q->second == "1") {
          start = true;
        } else if (q->second != "false" && q->second != "0") {
          return errorResponse(400, "invalid_argument",
                               "start: true, false, 1 or 0, not '" + q->second + "'");
        }
      }
      auto created = tasks_->create(r.body);
      if (!created.ok()) return errorResponse(created.status());
      if (start) return viewOrError(tasks_->start(created->name), 201);
      return jsonResponse(201, taskJson(*created));
    }
    return methodNotAllowed(r);
  }
  const std::string& name = parts[3];
  if (parts.size() == 4) {
    if (r.method == "GET") return viewOrError(tasks_->get(name, r.query.count("events") != 0));
    if (r.method == "DELETE") {
      Status st = tasks_->remove(name);
      if (!st.ok()) return errorResponse(st);
      return jsonResponse(200, {{"deleted", name}});
    }
    return methodNotAllowed(r);
  }
  if (parts[4] == "groups" && (parts.size() == 5 || (parts.size() == 7 && parts[6] == "token")))
    return groupTokens(r, parts);
  if (parts[4] == "groups" && (parts.size() == 6 || parts.size() == 7)) return groups(r, parts);
  if (parts.size() != 5) return errorResponse(404, "not_found", "no such endpoint: " + r.path);
  const std::string& action = parts[4];
  if (action == "events") {
    if (r.method != "GET") return methodNotAllowed(r);
    auto v = tasks_->get(name, true);
    if (!v.ok()) return errorResponse(v.status());
    size_t limit = v->events.size();
    if (auto q = r.query.find("limit"); q != r.query.end()) {
      char* end = nullptr;
      long n = std::strtol(q->second.c_str(), &end, 10);
      if (end == q->second.c_str() || *end != '\0' || n < 1)
        return errorResponse(400, "invalid_argument", "limit: must be a positive integer");
      limit = std::min(limit, static_cast<size_t>(n));
    }
    json events = json::array();
    for (size_t i = v->events.size() - limit; i < v->events.size(); ++i)
      events.push_back(eventJson(v->events[i]));
    return jsonResponse(200, {{"task", name}, {"events", events}});
  }
  if (action == "changes") {
    if (r.method != "GET") return methodNotAllowed(r);
    return changes(name, r);
  }
  if (action == "options") {
    if (r.method != "PATCH" && r.method != "PUT") return methodNotAllowed(r);
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos)
      return errorResponse(400, "invalid_argument", "body: a mapping of options is required");
    return viewOrError(tasks_->updateOptions(name, r.body));
  }
  if (action == "source") {
    if (r.method != "PATCH" && r.method != "PUT") return methodNotAllowed(r);
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos)
      return errorResponse(400, "invalid_argument",
                           "body: a mapping {\"secondary_node\": NODE or null} is required");
    return viewOrError(tasks_->updateSource(name, r.body));
  }
  if (r.method != "POST") {
    if (action == "start" || action == "pause" || action == "resume" || action == "stop" ||
        action == "precheck")
      return methodNotAllowed(r);
    return errorResponse(404, "not_found", "no such endpoint: " + r.path);
  }
  if (action == "start") return viewOrError(tasks_->start(name));
  if (action == "pause") return viewOrError(tasks_->pause(name));
  if (action == "resume") return viewOrError(tasks_->resume(name));
  if (action == "stop") return viewOrError(tasks_->stop(name));
  if (action == "precheck") {
    auto report = tasks_->precheck(name);
    if (!report.ok()) return errorResponse(report.status());
    return jsonResponse(200, precheckJson(*report));
  }
  return errorResponse(404, "not_found", "no such endpoint: " + r.path);
}

Result<kafka::OffsetStore*> Api::offsetStore() {
  std::lock_guard lock(offsets_mu_);
  if (!offsets_) {
    DTS_ASSIGN_OR_RETURN(offsets_,
                         kafka::OffsetStore::open(tasks_->dataDir() + "/kafka-offsets.db"));
  }
  return offsets_.get();
}

namespace {

// A group's committed offset of one topic (partition 0), or -1 when it never committed there.
Result<int64_t> committedOffset(kafka::OffsetStore& store, const std::string& group,
                                const std::string& topic) {
  DTS_ASSIGN_OR_RETURN(auto committed, store.fetch(group, topic));
  for (const auto& c : committed) {
    if (c.partition == 0) return c.offset;
  }
  return int64_t{-1};
}

// The `format` query parameter of the groups endpoints: which topic's offset (docs/api.md).
Result<sink::ChangeFormat> groupFormat(const HttpRequest& r) {
  auto it = r.query.find("format");
  if (it == r.query.end()) return sink::ChangeFormat::kDts;
  auto f = sink::parseChangeFormat(it->second);
  if (!f.has_value())
    return Status::InvalidArgument(
        "format: must be dts, debezium-json, canal-json or maxwell-json (the topic whose offset "
        "is read or committed), got '" +
        it->second + "'");
  return *f;
}

}  // namespace

HttpResponse Api::groups(const HttpRequest& r, const std::vector<std::string>& parts) {
  const std::string& name = parts[3];
  const std::string& group = parts[5];
  bool commit = parts.size() == 7;
  if (commit && parts[6] != "commit")
    return errorResponse(404, "not_found", "no such endpoint: " + r.path);
  if (r.method != (commit ? "POST" : "GET")) return methodNotAllowed(r);
  if (!validGroupId(group))
    return errorResponse(
        400, "invalid_argument",
        "group: must be 1-249 letters, digits, '.', '_' or '-', got '" + group + "'");
  auto format = groupFormat(r);
  if (!format.ok()) return errorResponse(format.status());
  const std::string topic = kafka::trackingTopic(name, *format);
  auto log = tasks_->changeLog(name);
  if (!log.ok()) return errorResponse(log.status());
  auto store = offsetStore();
  if (!store.ok()) return errorResponse(store.status());
  if (!commit) {
    auto offset = committedOffset(**store, group, topic);
    if (!offset.ok()) return errorResponse(offset.status());
    // Every topic of the task the group committed on (Kafka or HTTP), each with its own offset.
    auto all = (*store)->groupsOf(kafka::trackingTopics(name));
    if (!all.ok()) return errorResponse(all.status());
    const int64_t end = (*log)->endOffset();
    json topics = json::array();
    for (const auto& g : *all) {
      if (g.group_id != group) continue;
      std::string view = g.topic == name ? "dts" : g.topic.substr(name.size() + 1);
      topics.push_back({{"topic", g.topic},
                        {"format", view},
                        {"offset", g.offset},
                        {"lag", std::max<int64_t>(0, end - std::max<int64_t>(g.offset, 0))},
                        {"updated_at", g.committed_at_ms > 0 ? json(isoTime(g.committed_at_ms))
                                                             : json(nullptr)}});
    }
    return jsonResponse(200, {{"group", group},
                              {"topic", topic},
                              {"offset", *offset < 0 ? json(nullptr) : json(*offset)},
                              {"first_offset", (*log)->firstOffset()},
                              {"end_offset", end},
                              {"topics", topics}});
  }
  // {"offset": N}, N = the next offset to read.
  auto body = parseJsonBody(r.body, {{"offset", JsonType::kInteger, true}});
  if (!body.ok()) return errorResponse(body.status());
  int64_t offset = (*body)["offset"].get<int64_t>();
  int64_t end = (*log)->endOffset();
  if (offset < 0 || offset > end) {
    return errorResponse(400, "invalid_argument",
                         "offset: " + std::to_string(offset) +
                             " is not an offset of the change log of task '" + name +
                             "' (0 to its end offset " + std::to_string(end) + ")");
  }
  Status st =
      (*store)->commit(group, {kafka::OffsetStore::Committed{topic, 0, offset, std::nullopt}});
  if (!st.ok()) return errorResponse(st);
  return jsonResponse(200, {{"group", group}, {"topic", topic}, {"offset", offset}});
}

HttpResponse Api::groupTokens(const HttpRequest& r, const std::vector<std::string>& parts) {
  const std::string& name = parts[3];
  if (parts.size() == 5) {
    if (r.method != "GET") return methodNotAllowed(r);
    auto t = tasks_->tracking(name);
    if (!t.ok()) return errorResponse(t.status());
    return jsonResponse(200, {{"groups", groupsJson(*t)}});
  }
  const std::string& group = parts[5];
  if (r.method == "POST") {
    // Shown once: only its hash is kept.
    auto token = tasks_->issueGroupToken(name, group);
    if (!token.ok()) return errorResponse(token.status());
    return jsonResponse(201, {{"task", name}, {"group", group}, {"token", *token}});
  }
  if (r.method == "DELETE") {
    Status st = tasks_->revokeGroupToken(name, group);
    if (!st.ok()) return errorResponse(st);
    return jsonResponse(200, {{"task", name}, {"group", group}, {"revoked", true}});
  }
  return methodNotAllowed(r);
}

bool Api::groupTokenAllows(const std::string& token, const HttpRequest& r, std::string* why) {
  auto scope = tasks_->groupTokenScope(token);
  if (!scope.ok()) {
    spdlog::warn("api: checking a group token: {}", scope.status().toString());
    return false;
  }
  if (!scope->has_value()) return false;
  const GroupTokenScope& s = **scope;
  *why = "this is the read-only token of consumer group '" + s.group + "' of task '" + s.task +
         "': it reads the task's changes as that group (GET /api/v1/tasks/" + s.task +
         "/changes, group " + s.group +
         " or none) and reads and commits that group's offset "
         "only";
  std::vector<std::string> parts = splitPath(r.path);
  if (parts.size() < 5 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "tasks" ||
      parts[3] != s.task)
    return false;
  // The task's changes, read as the token's group only.
  if (parts.size() == 5 && parts[4] == "changes" && r.method == "GET") {
    auto g = r.query.find("group");
    return g == r.query.end() || g->second == s.group;
  }
  // The group's own offset: read it, commit it.
  if (parts[4] == "groups" && parts.size() >= 6 && parts[5] == s.group) {
    if (parts.size() == 6) return r.method == "GET";
    if (parts.size() == 7 && parts[6] == "commit") return r.method == "POST";
  }
  return false;
}

namespace {

// Where a group that committed `offset` resumes: there, or at the begin marker of the transaction
// that holds it (a record's tx.seq is its place after that marker). A Kafka consumer commits
// record by record; a reader of this stream is promised whole transactions, so the part before
// the offset comes again (at least once), never a transaction without its begin. Records before
// the log's first offset are gone: there, then.
int64_t transactionStartAt(const sink::ChangeLogReader& log, int64_t offset) {
  if (offset >= log.endOffset()) return offset;
  auto records = log.read(offset, 64 << 10);
  if (!records.ok() || records->empty() || records->front().offset != offset) return offset;
  const json record = json::parse(records->front().value, nullptr, false);
  if (!record.is_object()) return offset;
  auto tx = record.find("tx");
  if (tx == record.end() || !tx->is_object()) return offset;
  const int64_t seq = tx->value("seq", int64_t{0});
  if (seq <= 0 || seq > offset) return offset;
  return std::max(log.firstOffset(), offset - seq);
}

}  // namespace

HttpResponse Api::changes(const std::string& name, const HttpRequest& r) {
  auto query = parseChangesQuery(r.query);
  if (!query.ok()) return errorResponse(query.status());
  query->task = name;
  auto log = tasks_->changeLog(name);
  if (!log.ok()) return errorResponse(log.status());
  if (!query->group.empty() && !query->from_given) {
    auto store = offsetStore();
    if (!store.ok()) return errorResponse(store.status());
    // The position of the topic this format is read as (a group keeps one per topic).
    const std::string topic = kafka::trackingTopic(name, query->format);
    auto offset = committedOffset(**store, query->group, topic);
    if (!offset.ok()) return errorResponse(offset.status());
    if (*offset >= 0) {
      int64_t first = (*log)->firstOffset(), end = (*log)->endOffset();
      if (*offset < first || *offset > end)
        return errorResponse(Status::NotFound(
            "group '" + query->group + "': its committed offset " + std::to_string(*offset) +
            " of topic '" + topic + "'" + " is outside the change log (first offset " +
            std::to_string(first) + ", end offset " + std::to_string(end) +
            "); read with from=earliest or from=latest to go on"));
      query->from = ChangesQuery::From::kOffset;
      // The dts records show the transaction markers; a view's position is its own (its
      // readers commit past the markers they never see).
      query->from_value =
          query->format == sink::ChangeFormat::kDts ? transactionStartAt(**log, *offset) : *offset;
    }
  }
  auto opened = ChangesStream::open(std::move(log).value(), std::move(query).value());
  if (!opened.ok()) return errorResponse(opened.status());
  HttpResponse resp;
  resp.content_type = "application/x-ndjson";
  std::shared_ptr<ChangesStream> stream = std::move(opened).value();
  resp.stream = [stream, name](std::string* chunk) {
    auto more = stream->next(chunk);
    if (more.ok()) return *more;
    // The status line is gone already: the error is the stream's last line.
    spdlog::warn("api: changes of task {} at offset {}: {}", name, stream->position(),
                 more.status().toString());
    chunk->append(errorResponse(more.status()).body);
    chunk->push_back('\n');
    return false;
  };
  return resp;
}

HttpResponse Api::instances(const HttpRequest& r, const std::vector<std::string>& parts) {
  // One registry per call: it is not thread-safe, and several processes share the file.
  auto reg = source::InstanceRegistry::open(tasks_->dataDir());
  if (!reg.ok()) return errorResponse(reg.status());
  auto& registry = **reg;
  if (parts.size() == 3) {
    if (r.method == "GET") {
      auto all = registry.list();
      if (!all.ok()) return errorResponse(all.status());
      json list = json::array();
      for (const auto& i : *all) list.push_back(instanceJson(i));
      return jsonResponse(200, {{"instances", list}});
    }
    if (r.method == "POST") {
      auto inst = source::parseInstanceYaml(r.body);
      if (!inst.ok()) return errorResponse(inst.status());
      Status st = registry.create(*inst);
      if (!st.ok()) return errorResponse(st);
      return jsonResponse(201, instanceJson(*inst));
    }
    return methodNotAllowed(r);
  }
  const std::string& name = parts[3];
  if (parts.size() == 4) {
    if (r.method == "GET") {
      auto inst = registry.get(name);
      if (!inst.ok()) return errorResponse(inst.status());
      return jsonResponse(200, instanceJson(*inst));
    }
    if (r.method == "DELETE") {
      std::vector<std::string> users;
      Status st = tasks_->removeInstance(name, &users);
      if (!st.ok()) {
        HttpResponse resp = errorResponse(st);
        if (!users.empty()) {
          json b = json::parse(resp.body);
          b["error"]["tasks"] = users;
          resp.body = jsonBody(b);
        }
        return resp;
      }
      return jsonResponse(200, {{"deleted", name}});
    }
    return methodNotAllowed(r);
  }
  if (parts.size() == 5 && parts[4] == "discover") {
    if (r.method != "POST") return methodNotAllowed(r);
    return discoverInstance(registry, name);
  }
  if (parts[4] != "nodes" || parts.size() > 6)
    return errorResponse(404, "not_found", "no such endpoint: " + r.path);
  if (parts.size() == 5) {
    if (r.method == "GET") return instanceNodesLive(registry, name);
    if (r.method != "POST") return methodNotAllowed(r);
    auto body = parseJsonBody(
        r.body, {{"name", JsonType::kString, true}, {"endpoint", JsonType::kString, true}});
    if (!body.ok()) return errorResponse(body.status());
    source::InstanceNode node{(*body)["name"].get<std::string>(),
                              (*body)["endpoint"].get<std::string>()};
    Status st = source::validateNodeName(node.name, "name");
    if (!st.ok()) return errorResponse(st);
    auto ep = mysql::Endpoint::parse(node.endpoint);
    if (!ep.ok())
      return errorResponse(400, "invalid_argument", "endpoint: " + ep.status().message());
    st = registry.addNode(name, node);
    if (!st.ok()) return errorResponse(st);
    auto inst = registry.get(name);
    if (!inst.ok()) return errorResponse(inst.status());
    return jsonResponse(201, instanceJson(*inst));
  }
  if (r.method != "DELETE") return methodNotAllowed(r);
  const std::string& node = parts[5];
  Status st = registry.removeNode(name, node);
  if (!st.ok()) return errorResponse(st);
  // The cluster rule (DESIGN.md): a task whose secondary node is deleted fails. The answer says
  // which tasks that is, so the operator is not surprised by it.
  std::vector<std::string> readers = tasks_->tasksReadingNode(name, node);
  json out = {{"deleted", node}, {"instance", name}, {"tasks_reading_node", readers}};
  if (!readers.empty()) {
    std::string list;
    for (const auto& t : readers) list += (list.empty() ? "" : ", ") + t;
    out["warning"] = "task" + std::string(readers.size() > 1 ? "s " : " ") + list + " read" +
                     (readers.size() > 1 ? "" : "s") + " node " + node +
                     ": running, it fails within seconds with '" +
                     source::nodeDeletedMessage(node, name) +
                     "'; not running, it cannot start. Register the node again "
                     "(same name) and start the task: it resumes from its checkpoint";
  }
  return jsonResponse(200, out);
}

}  // namespace dts::server
