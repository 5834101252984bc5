#include "task/task_config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/yaml_keys.h"
#include "mysql/gtid.h"
#include "sink/change_formats.h"

namespace dts::task {

const char* taskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kMigration: return "migration";
    case TaskKind::kSync: return "sync";
    case TaskKind::kTracking: return "tracking";
  }
  return "migration";
}

Result<std::string> EndpointConfig::resolvePassword() const {
  if (!password_env.empty()) {
    const char* v = std::getenv(password_env.c_str());
    if (v == nullptr) {
      return Status::InvalidArgument("environment variable " + password_env +
                                     " (password_env) is not set");
    }
    return std::string(v);
  }
  return password;
}

Result<mysql::ConnectOptions> EndpointConfig::connectOptions() const {
  mysql::ConnectOptions o;
  DTS_ASSIGN_OR_RETURN(o.endpoint, mysql::Endpoint::parse(endpoint));
  o.user = user;
  DTS_ASSIGN_OR_RETURN(o.password, resolvePassword());
  return o;
}

const char* fullWriteMethodName(FullWriteMethod m) {
  switch (m) {
    case FullWriteMethod::kAuto: return "auto";
    case FullWriteMethod::kBulkInsert: return "bulk_insert";
    case FullWriteMethod::kLoadData: return "load_data";
    case FullWriteMethod::kInsert: return "insert";
  }
  return "auto";
}

namespace {

// Describes a YAML node for "got ..." in errors. Never used on password values.
std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

Status bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": " + what);
}

Status checkKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) {
  std::string where = path.empty() ? "" : path + ".";
  for (const auto& kv : map) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (allowed.count(key) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return bad(where + key, "unknown key (allowed here: " + list + ")");
    }
  }
  return Status::OK();
}

Result<YAML::Node> requireMap(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) return bad(path, "must be a mapping, got " + shown(n));
  return n;
}

// Set while a JSON document is parsed (yaml_keys.h, "Types as written").
thread_local bool parsing_json = false;

Result<std::string> str(const YAML::Node& n, const std::string& path, bool secret = false) {
  if (!n.IsScalar()) {
    return bad(path, "must be a string, got " + (secret ? std::string("a non-string") : shown(n)));
  }
  if (parsing_json && !isQuotedScalar(n))
    return bad(path, "must be a string, got " +
                         (secret ? jsonTypeOf(n) : jsonTypeOf(n) + " " + n.Scalar()) +
                         " (quote it)");
  return n.Scalar();
}

// A quoted value where a number or boolean belongs: refused, never coerced.
Status notQuoted(const YAML::Node& n, const std::string& path, const std::string& what) {
  if (!isQuotedScalar(n)) return Status::OK();
  return bad(path, what + ", got the string \"" + n.Scalar() + "\" (write it without quotes)");
}

Result<bool> boolean(const YAML::Node& n, const std::string& path) {
  DTS_RETURN_IF_ERROR(notQuoted(n, path, "must be true or false"));
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  }
  return bad(path, "must be true or false, got " + shown(n));
}

// `unit`, when given, follows the range ("10-1440 minutes"); the path stays the message's first
// word (the API's error "field").
Result<int64_t> integer(const YAML::Node& n, const std::string& path, int64_t lo, int64_t hi,
                        const std::string& unit = "") {
  std::string range = "must be an integer " + std::to_string(lo) + "-" + std::to_string(hi) +
                      (unit.empty() ? "" : " " + unit);
  DTS_RETURN_IF_ERROR(notQuoted(n, path, range));
  if (!n.IsScalar()) return bad(path, range + ", got " + shown(n));
  const std::string& s = n.Scalar();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < lo || v > hi) {
    return bad(path, range + ", got " + shown(n));
  }
  return v;
}

Result<double> number(const YAML::Node& n, const std::string& path, double lo, double hi) {
  std::ostringstream range;
  range << "must be a number " << lo << "-" << hi;
  DTS_RETURN_IF_ERROR(notQuoted(n, path, range.str()));
  if (!n.IsScalar()) return bad(path, range.str() + ", got " + shown(n));
  const std::string& s = n.Scalar();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi) {
    return bad(path, range.str() + ", got " + shown(n));
  }
  return v;
}

Result<std::vector<std::string>> stringList(const YAML::Node& n, const std::string& path) {
  if (!n.IsSequence()) return bad(path, "must be a list of strings, got " + shown(n));
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) {
    DTS_ASSIGN_OR_RETURN(std::string s, str(n[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

Status parseEndpoint(const YAML::Node& node, const std::string& path, EndpointConfig* out) {
  DTS_ASSIGN_OR_RETURN(YAML::Node n, requireMap(node, path));
  if (path == "source" && n["instance"]) {
    // A registered instance (dts instance create), read through its read/write endpoint or,
    // when secondary_node is set, through that node's direct endpoint. Credentials come from
    // the instance.
    DTS_RETURN_IF_ERROR(checkKeys(n, path, {"instance", "secondary_node"}));
    DTS_ASSIGN_OR_RETURN(out->instance, str(n["instance"], path + ".instance"));
    if (out->instance.empty()) return bad(path + ".instance", "must not be empty");
    if (n["secondary_node"]) {
      DTS_ASSIGN_OR_RETURN(out->secondary_node, str(n["secondary_node"], path + ".secondary_node"));
      if (out->secondary_node.empty()) {
        return bad(path + ".secondary_node",
                   "must not be empty (omit it to read the read/write endpoint)");
      }
    }
    return Status::OK();
  }
  if (n["secondary_node"]) {
    return bad(path + ".secondary_node", path == "source"
                                             ? "needs source.instance (a registered instance)"
                                             : "a secondary node cannot be the destination");
  }
  DTS_RETURN_IF_ERROR(checkKeys(n, path, {"endpoint", "user", "password", "password_env"}));
  if (!n["endpoint"]) return bad(path + ".endpoint", "required (host:port)");
  DTS_ASSIGN_OR_RETURN(out->endpoint, str(n["endpoint"], path + ".endpoint"));
  auto ep = mysql::Endpoint::parse(out->endpoint);
  if (!ep.ok()) return bad(path + ".endpoint", ep.status().message());
  if (!n["user"]) return bad(path + ".user", "required");
  DTS_ASSIGN_OR_RETURN(out->user, str(n["user"], path + ".user"));
  if (out->user.empty()) return bad(path + ".user", "must not be empty");
  if (n["password"]) {
    DTS_ASSIGN_OR_RETURN(out->password, str(n["password"], path + ".password", true));
  }
  if (n["password_env"]) {
    DTS_ASSIGN_OR_RETURN(out->password_env, str(n["password_env"], path + ".password_env"));
    if (out->password_env.empty()) return bad(path + ".password_env", "must not be empty");
  }
  if (n["password"] && n["password_env"]) {
    return bad(path, "give password or password_env, not both");
  }
  return Status::OK();
}

Status parseLimits(const YAML::Node& node, const std::string& path, RateLimits* out,
                   TaskOptions* full = nullptr) {
  DTS_ASSIGN_OR_RETURN(YAML::Node n, requireMap(node, path));
  if (full != nullptr) {
    DTS_RETURN_IF_ERROR(checkKeys(n, path, {"max_rps", "max_mbps", "chunk_rows", "method"}));
    if (n["chunk_rows"]) {
      DTS_ASSIGN_OR_RETURN(int64_t v, integer(n["chunk_rows"], path + ".chunk_rows", 0, 10000000));
      full->full_chunk_rows = static_cast<uint64_t>(v);
    }
    if (n["method"]) {
      const YAML::Node& m = n["method"];
      bool found = false;
      for (auto method : {FullWriteMethod::kAuto, FullWriteMethod::kBulkInsert,
                          FullWriteMethod::kLoadData, FullWriteMethod::kInsert}) {
        if (m.IsScalar() && m.Scalar() == fullWriteMethodName(method)) {
          full->full_method = method;
          found = true;
        }
      }
      if (!found)
        return bad(path + ".method",
                   "must be auto, bulk_insert, load_data or insert, got " + shown(m));
    }
  } else {
    DTS_RETURN_IF_ERROR(checkKeys(n, path, {"max_rps", "max_mbps"}));
  }
  if (n["max_rps"]) {
    DTS_ASSIGN_OR_RETURN(int64_t v, integer(n["max_rps"], path + ".max_rps", 0, 1000000000));
    out->max_rps = static_cast<uint64_t>(v);
  }
  if (n["max_mbps"]) {
    DTS_ASSIGN_OR_RETURN(out->max_mbps, number(n["max_mbps"], path + ".max_mbps", 0, 100000));
  }
  return Status::OK();
}

// A database, table or column name as the server takes it: at most 64 characters, not ending
// in a space (both refused by the server only once the task has started writing). Databases
// that are the server's own, or dts's own bookkeeping, are never moved nor written.
Status checkIdentifier(const std::string& name, const std::string& path, bool database) {
  size_t chars = 0;
  for (unsigned char c : name) chars += (c & 0xC0) != 0x80;
  if (chars > 64) {
    return bad(path, "is " + std::to_string(chars) +
                         " characters long; MySQL and MariaDB names have at most 64");
  }
  if (name.back() == ' ') return bad(path, "must not end with a space (the server refuses it)");
  if (name.find('\0') != std::string::npos) return bad(path, "must not contain a NUL byte");
  if (database) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* sys : {"mysql", "information_schema", "performance_schema", "sys"}) {
      if (lower == sys) {
        return bad(path, "'" + name +
                             "' is a system database: dts moves application data, not the "
                             "server's own tables (create users and grants at the destination)");
      }
    }
    if (lower == "dts_meta")
      return bad(path, "'dts_meta' holds dts's own bookkeeping at the destination");
  }
  return Status::OK();
}

Status parseTable(const YAML::Node& node, const std::string& path, pipeline::TableSelection* out) {
  if (node.IsScalar()) {  // "- orders" is shorthand for "- name: orders"
    out->name = node.Scalar();
    if (out->name.empty()) return bad(path, "table name must not be empty");
    return checkIdentifier(out->name, path, false);
  }
  DTS_ASSIGN_OR_RETURN(YAML::Node n, requireMap(node, path));
  DTS_RETURN_IF_ERROR(checkKeys(n, path, {"name", "rename_to", "columns", "where", "dml"}));
  if (!n["name"]) return bad(path + ".name", "required");
  DTS_ASSIGN_OR_RETURN(out->name, str(n["name"], path + ".name"));
  if (out->name.empty()) return bad(path + ".name", "must not be empty");
  DTS_RETURN_IF_ERROR(checkIdentifier(out->name, path + ".name", false));
  if (n["rename_to"]) {
    DTS_ASSIGN_OR_RETURN(out->rename_to, str(n["rename_to"], path + ".rename_to"));
    if (out->rename_to.empty()) return bad(path + ".rename_to", "must not be empty");
    DTS_RETURN_IF_ERROR(checkIdentifier(out->rename_to, path + ".rename_to", false));
  }
  if (n["columns"]) {
    DTS_ASSIGN_OR_RETURN(out->columns, stringList(n["columns"], path + ".columns"));
    if (out->columns.empty())
      return bad(path + ".columns", "must list at least one column (omit it for all)");
    for (size_t i = 0; i < out->columns.size(); ++i) {
      if (out->columns[i].empty())
        return bad(path + ".columns[" + std::to_string(i) + "]", "must not be empty");
      DTS_RETURN_IF_ERROR(
          checkIdentifier(out->columns[i], path + ".columns[" + std::to_string(i) + "]", false));
    }
  }
  if (n["where"]) {
    DTS_ASSIGN_OR_RETURN(out->where, str(n["where"], path + ".where"));
    auto f = pipeline::RowFilter::compile(out->where);
    if (!f.ok()) return bad(path + ".where", f.status().message());
  }
  if (n["dml"]) {
    DTS_ASSIGN_OR_RETURN(auto names, stringList(n["dml"], path + ".dml"));
    auto set = pipeline::DmlSet::parse(names);
    if (!set.ok()) return bad(path + ".dml", set.status().message());
    out->dml = *set;
  }
  return Status::OK();
}

Status parseObjects(const YAML::Node& node, std::vector<pipeline::DatabaseSelection>* out) {
  if (!node.IsSequence() || node.size() == 0) {
    return bad("objects", "must be a non-empty list of {database: ...}, got " + shown(node));
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = "objects[" + std::to_string(i) + "]";
    DTS_ASSIGN_OR_RETURN(YAML::Node n, requireMap(node[i], path));
    DTS_RETURN_IF_ERROR(checkKeys(n, path, {"database", "rename_to", "tables", "exclude_tables"}));
    pipeline::DatabaseSelection db;
    if (!n["database"]) return bad(path + ".database", "required");
    DTS_ASSIGN_OR_RETURN(db.database, str(n["database"], path + ".database"));
    if (db.database.empty()) return bad(path + ".database", "must not be empty");
    DTS_RETURN_IF_ERROR(checkIdentifier(db.database, path + ".database", true));
    if (n["rename_to"]) {
      DTS_ASSIGN_OR_RETURN(db.rename_to, str(n["rename_to"], path + ".rename_to"));
      if (db.rename_to.empty()) return bad(path + ".rename_to", "must not be empty");
      DTS_RETURN_IF_ERROR(checkIdentifier(db.rename_to, path + ".rename_to", true));
    }
    if (n["tables"]) {
      const YAML::Node& tables = n["tables"];
      if (!tables.IsSequence() || tables.size() == 0) {
        return bad(path + ".tables",
                   "must be a non-empty list (omit it for every table), got " + shown(tables));
      }
      for (size_t j = 0; j < tables.size(); ++j) {
        pipeline::TableSelection t;
        DTS_RETURN_IF_ERROR(parseTable(tables[j], path + ".tables[" + std::to_string(j) + "]", &t));
        db.tables.push_back(std::move(t));
      }
    }
    if (n["exclude_tables"]) {
      const std::string epath = path + ".exclude_tables";
      if (n["tables"])
        return bad(epath,
                   "cannot be combined with tables (tables lists what is moved; exclude_tables "
                   "leaves tables out of every table of the database)");
      DTS_ASSIGN_OR_RETURN(db.exclude, stringList(n["exclude_tables"], epath));
      if (db.exclude.empty())
        return bad(epath, "must be a non-empty list of table names (omit it to move every table)");
      for (size_t j = 0; j < db.exclude.size(); ++j) {
        const std::string jpath = epath + "[" + std::to_string(j) + "]";
        if (db.exclude[j].empty()) return bad(jpath, "must not be empty");
        DTS_RETURN_IF_ERROR(checkIdentifier(db.exclude[j], jpath, false));
      }
    }
    out->push_back(std::move(db));
  }
  return Status::OK();
}

// options.start: a GTID set of either flavour, or a time (UTC "YYYY-MM-DD HH:MM:SS", with 'T'
// and a trailing 'Z' allowed, or whole seconds since the epoch).
Status parseStart(TaskOptions* out) {
  const std::string& s = out->start;
  if (s.empty())
    return bad("options.start", "must not be empty (omit it for the current position)");
  if (s.find_first_not_of("0123456789") == std::string::npos && s.size() <= 12) {
    out->start_ms = std::stoll(s) * 1000;
    return Status::OK();
  }
  if (auto ms = parseUtcTimeMs(s); ms.ok()) {
    out->start_ms = *ms;
    return Status::OK();
  }
  auto pos = mysql::GtidPosition::parseStored(s);
  if (!pos.ok())
    return bad("options.start",
               "must be a GTID set (\"0-1-100\" or \"uuid:1-100\") or a time "
               "(\"2026-12-02 05:00:00\" UTC, or seconds since the epoch), got '" +
                   s + "'");
  return Status::OK();
}

Status parseVerify(const YAML::Node& n, VerifySettings* out) {
  if (n.IsScalar() && n.Scalar() == "none") {
    *out = VerifySettings{};
    return Status::OK();
  }
  if (!n.IsMap()) return bad("options.verify", "must be none or a map, got " + shown(n));
  DTS_RETURN_IF_ERROR(checkKeys(n, "options.verify",
                                {"full", "schema", "incremental", "interval", "max_changed_rows",
                                 "max_rps", "max_threads_running", "max_slowdown", "parallelism"}));
  if (n["full"]) {
    DTS_ASSIGN_OR_RETURN(out->full, boolean(n["full"], "options.verify.full"));
  }
  if (n["schema"]) {
    DTS_ASSIGN_OR_RETURN(out->schema, boolean(n["schema"], "options.verify.schema"));
  }
  if (n["incremental"]) {
    DTS_ASSIGN_OR_RETURN(out->incremental, boolean(n["incremental"], "options.verify.incremental"));
  }
  if (n["interval"]) {
    DTS_ASSIGN_OR_RETURN(int64_t v, integer(n["interval"], "options.verify.interval", 1, 3600));
    out->interval_seconds = static_cast<int>(v);
  }
  if (n["max_changed_rows"]) {
    DTS_ASSIGN_OR_RETURN(
        int64_t v, integer(n["max_changed_rows"], "options.verify.max_changed_rows", 1, 100000000));
    out->max_changed_rows = static_cast<uint64_t>(v);
  }
  if (n["max_rps"]) {
    DTS_ASSIGN_OR_RETURN(int64_t v, integer(n["max_rps"], "options.verify.max_rps", 0, 1000000000));
    out->max_rps = static_cast<uint64_t>(v);
  }
  if (n["max_threads_running"]) {
    DTS_ASSIGN_OR_RETURN(int64_t v, integer(n["max_threads_running"],
                                            "options.verify.max_threads_running", 0, 100000));
    out->max_threads_running = static_cast<uint64_t>(v);
  }
  if (n["max_slowdown"]) {
    DTS_ASSIGN_OR_RETURN(out->max_slowdown,
                         number(n["max_slowdown"], "options.verify.max_slowdown", 0, 1000));
    if (out->max_slowdown > 0 && out->max_slowdown <= 1)
      return bad("options.verify.max_slowdown",
                 "must be 0 (off) or more than 1 (times the idle chunk rate), got " +
                     shown(n["max_slowdown"]));
  }
  if (n["parallelism"]) {
    DTS_ASSIGN_OR_RETURN(int64_t v, integer(n["parallelism"], "options.verify.parallelism", 1, 64));
    out->parallelism = static_cast<int>(v);
  }
  return Status::OK();
}

Status parseOptions(const YAML::Node& node, TaskOptions* out) {
  DTS_ASSIGN_OR_RETURN(YAML::Node n, requireMap(node, "options"));
  DTS_RETURN_IF_ERROR(checkKeys(
      n, "options",
      {"incremental", "ddl", "conflicting_tables", "parallelism", "full", "incremental_limits",
       "retry_time_for_failed_connections", "retry_time_for_other_issues", "retention_hours",
       "retention_bytes", "start", "verify", "skip_gtids"}));
  if (n["skip_gtids"]) {
    DTS_ASSIGN_OR_RETURN(auto gtids, stringList(n["skip_gtids"], "options.skip_gtids"));
    for (const std::string& text : gtids) {
      auto g = mysql::Gtid::parse(text);
      if (!g.ok())
        return bad("options.skip_gtids",
                   "'" + text + "' is not one transaction's GTID (D-S-N, or uuid:N for MySQL)");
      out->skip_gtids.insert(g->toString());
    }
  }
  if (n["retention_hours"]) {
    DTS_ASSIGN_OR_RETURN(int64_t h,
                         integer(n["retention_hours"], "options.retention_hours", 1, 8760));
    out->retention_hours = static_cast<int>(h);
  }
  if (n["retention_bytes"]) {
    DTS_ASSIGN_OR_RETURN(
        int64_t b, integer(n["retention_bytes"], "options.retention_bytes", 0, int64_t{1} << 50));
    out->retention_bytes = static_cast<uint64_t>(b);
  }
  if (n["start"]) {
    DTS_ASSIGN_OR_RETURN(out->start, str(n["start"], "options.start"));
    DTS_RETURN_IF_ERROR(parseStart(out));
  }
  if (n["verify"]) DTS_RETURN_IF_ERROR(parseVerify(n["verify"], &out->verify));
  if (n["incremental"]) {
    DTS_ASSIGN_OR_RETURN(out->incremental, boolean(n["incremental"], "options.incremental"));
  }
  if (n["ddl"]) {
    DTS_ASSIGN_OR_RETURN(out->ddl, boolean(n["ddl"], "options.ddl"));
  }
  if (n["conflicting_tables"]) {
    const YAML::Node& c = n["conflicting_tables"];
    if (c.IsScalar() && c.Scalar() == "precheck")
      out->conflicting_tables = ConflictPolicy::kPrecheck;
    else if (c.IsScalar() && c.Scalar() == "ignore")
      out->conflicting_tables = ConflictPolicy::kIgnore;
    else
      return bad("options.conflicting_tables", "must be precheck or ignore, got " + shown(c));
  }
  if (n["parallelism"]) {
    DTS_ASSIGN_OR_RETURN(int64_t p, integer(n["parallelism"], "options.parallelism", 1, 64));
    out->parallelism = static_cast<int>(p);
  }
  if (n["retry_time_for_failed_connections"]) {
    DTS_ASSIGN_OR_RETURN(int64_t m,
                         integer(n["retry_time_for_failed_connections"],
                                 "options.retry_time_for_failed_connections", 10, 1440, "minutes"));
    out->retry_time_for_failed_connections = static_cast<int>(m);
  }
  if (n["retry_time_for_other_issues"]) {
    DTS_ASSIGN_OR_RETURN(
        int64_t m, integer(n["retry_time_for_other_issues"], "options.retry_time_for_other_issues",
                           1, 1440, "minutes"));
    out->retry_time_for_other_issues = static_cast<int>(m);
  }
  if (!n["retry_time_for_other_issues"] &&
      out->retry_time_for_other_issues >= out->retry_time_for_failed_connections) {
    // The default (10) must stay below a short connection window the user chose (10 minutes).
    out->retry_time_for_other_issues = out->retry_time_for_failed_connections - 1;
  }
  if (out->retry_time_for_other_issues >= out->retry_time_for_failed_connections) {
    return bad("options.retry_time_for_other_issues",
               "must be smaller than retry_time_for_failed_connections (" +
                   std::to_string(out->retry_time_for_failed_connections) + "), got " +
                   std::to_string(out->retry_time_for_other_issues));
  }
  if (n["full"]) {
    DTS_RETURN_IF_ERROR(parseLimits(n["full"], "options.full", &out->full, out));
  }
  if (n["incremental_limits"]) {
    DTS_RETURN_IF_ERROR(parseLimits(n["incremental_limits"], "options.incremental_limits",
                                    &out->incremental_limits));
  }
  return Status::OK();
}

Status validateName(const std::string& name) {
  if (name.empty() || name.size() > 64) return bad("name", "must be 1-64 characters");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return bad("name", "'" + name + "' may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return Status::OK();
}

Result<TaskConfig> parseRoot(const YAML::Node& root) {
  if (!root.IsMap())
    return Status::InvalidArgument("task file: must be a YAML mapping, got " + shown(root));
  DTS_RETURN_IF_ERROR(
      checkKeys(root, "", {"name", "kind", "source", "destination", "objects", "options"}));
  TaskConfig c;
  if (!root["name"]) return bad("name", "required");
  DTS_ASSIGN_OR_RETURN(c.name, str(root["name"], "name"));
  DTS_RETURN_IF_ERROR(validateName(c.name));
  if (!root["kind"]) return bad("kind", "required (migration, sync or tracking)");
  const YAML::Node& kind = root["kind"];
  if (kind.IsScalar() && kind.Scalar() == "migration")
    c.kind = TaskKind::kMigration;
  else if (kind.IsScalar() && kind.Scalar() == "sync")
    c.kind = TaskKind::kSync;
  else if (kind.IsScalar() && kind.Scalar() == "tracking")
    c.kind = TaskKind::kTracking;
  else
    return bad("kind", "must be migration, sync or tracking, got " + shown(kind));
  if (!root["source"]) return bad("source", "required");
  DTS_RETURN_IF_ERROR(parseEndpoint(root["source"], "source", &c.source));
  if (c.kind == TaskKind::kTracking) {
    // TASK.debezium-json and its like are the Kafka topics of task TASK's encoded views: a
    // tracking task of that name would take another task's topic.
    if (size_t dot = c.name.rfind('.'); dot != std::string::npos) {
      auto format = sink::parseChangeFormat(std::string_view(c.name).substr(dot + 1));
      if (format && *format != sink::ChangeFormat::kDts)
        return bad("name", "'" + c.name + "' is the Kafka topic of task '" + c.name.substr(0, dot) +
                               "' in " + c.name.substr(dot + 1) +
                               " (TASK.FORMAT); a tracking task needs another name");
    }
    if (root["destination"])
      return bad("destination",
                 "a tracking task has no destination (its changes go to the task's change log)");
  } else {
    if (!root["destination"]) return bad("destination", "required");
    DTS_RETURN_IF_ERROR(parseEndpoint(root["destination"], "destination", &c.destination));
  }
  if (!root["objects"]) return bad("objects", "required (a list of {database: ...})");
  DTS_RETURN_IF_ERROR(parseObjects(root["objects"], &c.objects));
  if (root["options"]) {
    DTS_RETURN_IF_ERROR(parseOptions(root["options"], &c.options));
  }
  if (c.kind != TaskKind::kMigration && root["options"] && root["options"]["incremental"] &&
      !c.options.incremental) {
    return bad("options.incremental", std::string("a ") + taskKindName(c.kind) +
                                          " task is always incremental (use kind: migration)");
  }
  if (c.kind != TaskKind::kTracking && root["options"]) {
    for (const char* key : {"retention_hours", "retention_bytes", "start"}) {
      if (root["options"][key])
        return bad(std::string("options.") + key, "only a tracking task has a change log");
    }
  }
  if (c.kind == TaskKind::kTracking && c.options.verify.any()) {
    return bad("options.verify", "a tracking task has no destination to verify");
  }
  auto m = pipeline::Mapping::create(c.objects);
  if (!m.ok()) return m.status();
  return c;
}

}  // namespace

Result<int64_t> parseUtcTimeMs(const std::string& text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + text +
                                   "' is not a UTC time of the form 2026-12-02T05:00:00Z (a "
                                   "fraction of a second allowed: 05:00:00.250Z)");
  };
  auto digits = [&](size_t at, size_t n, int* out) {
    if (at + n > text.size()) return false;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(0, 4, &y) || !digits(5, 2, &mo) || !digits(8, 2, &d) || !digits(11, 2, &h) ||
      !digits(14, 2, &mi) || !digits(17, 2, &sec) || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':')
    return bad();
  size_t at = 19;
  int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    size_t n = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++n)
      micros = micros * 10 + (text[at] - '0');
    if (n == 0 || n > 6) return bad();
    for (; n < 6; ++n) micros *= 10;
  }
  if (at < text.size() && text[at] == 'Z') ++at;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (at != text.size() || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
      d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0) || h > 23 || mi > 59 || sec > 60)
    return bad();
  // Days from the civil date (Howard Hinnant's days_from_civil).
  int yy = mo <= 2 ? y - 1 : y;
  int era = yy / 400;
  int yoe = yy - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = int64_t{era} * 146097 + doe - 719468;
  // A fraction below a millisecond rounds up: the time is where records start, at or after it.
  return ((days * 24 + h) * 60 + mi) * 60000 + int64_t{sec} * 1000 + (micros + 999) / 1000;
}

Result<TaskConfig> parseTaskYaml(const std::string& text) {
  YAML::Node root;
  try {
    root = loadYamlOrJson(text);
  } catch (const YAML::Exception& e) {
    // The mark locates the error; the message is yaml-cpp's own (it never quotes values).
    return Status::InvalidArgument("task file: not valid YAML at line " +
                                   std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  DTS_RETURN_IF_ERROR(rejectDuplicateKeys(root, "task file"));
  struct JsonMode {
    explicit JsonMode(bool on) { parsing_json = on; }
    ~JsonMode() { parsing_json = false; }
  } json_mode(looksLikeJson(text));
  try {
    return parseRoot(root);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("task file: " + e.msg);
  }
}

Result<TaskConfig> loadTaskFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::InvalidArgument("task file " + path + " is a directory, not a YAML file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::NotFound("task file " + path + ": cannot be read: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = parseTaskYaml(ss.str());
  if (!c.ok()) return c.status().withContext(path);
  return c;
}

namespace {
void emitEndpoint(YAML::Emitter& out, const EndpointConfig& e) {
  out << YAML::BeginMap;
  if (!e.instance.empty()) {
    out << YAML::Key << "instance" << YAML::Value << e.instance;
    if (!e.secondary_node.empty())
      out << YAML::Key << "secondary_node" << YAML::Value << e.secondary_node;
    out << YAML::EndMap;
    return;
  }
  out << YAML::Key << "endpoint" << YAML::Value << e.endpoint;
  out << YAML::Key << "user" << YAML::Value << e.user;
  if (!e.password_env.empty()) out << YAML::Key << "password_env" << YAML::Value << e.password_env;
  out << YAML::EndMap;
}
void emitLimits(YAML::Emitter& out, const RateLimits& l) {
  out << YAML::Flow << YAML::BeginMap << YAML::Key << "max_rps" << YAML::Value << l.max_rps
      << YAML::Key << "max_mbps" << YAML::Value << l.max_mbps << YAML::EndMap;
}
}  // namespace

std::string taskToYaml(const TaskConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << c.name;
  out << YAML::Key << "kind" << YAML::Value << taskKindName(c.kind);
  out << YAML::Key << "source" << YAML::Value;
  emitEndpoint(out, c.source);
  if (c.kind != TaskKind::kTracking) {
    out << YAML::Key << "destination" << YAML::Value;
    emitEndpoint(out, c.destination);
  }
  out << YAML::Key << "objects" << YAML::Value << YAML::BeginSeq;
  for (const auto& db : c.objects) {
    out << YAML::BeginMap << YAML::Key << "database" << YAML::Value << db.database;
    if (!db.rename_to.empty()) out << YAML::Key << "rename_to" << YAML::Value << db.rename_to;
    if (!db.exclude.empty())
      out << YAML::Key << "exclude_tables" << YAML::Value << YAML::Flow << db.exclude;
    if (!db.tables.empty()) {
      out << YAML::Key << "tables" << YAML::Value << YAML::BeginSeq;
      for (const auto& t : db.tables) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << t.name;
        if (!t.rename_to.empty()) out << YAML::Key << "rename_to" << YAML::Value << t.rename_to;
        if (!t.columns.empty())
          out << YAML::Key << "columns" << YAML::Value << YAML::Flow << t.columns;
        if (!t.where.empty()) out << YAML::Key << "where" << YAML::Value << t.where;
        if (!t.dml.all()) {
          std::vector<std::string> dml;
          if (t.dml.insert) dml.push_back("insert");
          if (t.dml.update) dml.push_back("update");
          if (t.dml.del) dml.push_back("delete");
          out << YAML::Key << "dml" << YAML::Value << YAML::Flow << dml;
        }
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  const auto& o = c.options;
  out << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "incremental" << YAML::Value << c.incremental();
  out << YAML::Key << "ddl" << YAML::Value << o.ddl;
  if (c.kind != TaskKind::kTracking) {  // a tracking task loads nothing and has no destination
    out << YAML::Key << "conflicting_tables" << YAML::Value
        << (o.conflicting_tables == ConflictPolicy::kIgnore ? "ignore" : "precheck");
    out << YAML::Key << "parallelism" << YAML::Value << o.parallelism;
    out << YAML::Key << "full" << YAML::Value;
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "max_rps" << YAML::Value << o.full.max_rps
        << YAML::Key << "max_mbps" << YAML::Value << o.full.max_mbps;
    if (o.full_chunk_rows != 0)
      out << YAML::Key << "chunk_rows" << YAML::Value << o.full_chunk_rows;
    if (o.full_method != FullWriteMethod::kAuto) {
      out << YAML::Key << "method" << YAML::Value << fullWriteMethodName(o.full_method);
    }
    out << YAML::EndMap;
  }
  out << YAML::Key << "incremental_limits" << YAML::Value;
  emitLimits(out, o.incremental_limits);
  out << YAML::Key << "retry_time_for_failed_connections" << YAML::Value
      << o.retry_time_for_failed_connections;
  out << YAML::Key << "retry_time_for_other_issues" << YAML::Value << o.retry_time_for_other_issues;
  if (!o.skip_gtids.empty()) {
    out << YAML::Key << "skip_gtids" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& g : o.skip_gtids) out << g;
    out << YAML::EndSeq;
  }
  if (c.kind == TaskKind::kTracking) {
    out << YAML::Key << "retention_hours" << YAML::Value << o.retention_hours;
    out << YAML::Key << "retention_bytes" << YAML::Value << o.retention_bytes;
    if (!o.start.empty()) out << YAML::Key << "start" << YAML::Value << o.start;
  } else {  // a tracking task has nothing to verify against
    out << YAML::Key << "verify" << YAML::Value;
    if (o.verify.any()) {
      const VerifySettings& v = o.verify;
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "full" << YAML::Value << v.full
          << YAML::Key << "schema" << YAML::Value << v.schema << YAML::Key << "incremental"
          << YAML::Value << v.incremental << YAML::Key << "interval" << YAML::Value
          << v.interval_seconds << YAML::Key << "max_changed_rows" << YAML::Value
          << v.max_changed_rows << YAML::Key << "max_rps" << YAML::Value << v.max_rps << YAML::Key
          << "max_threads_running" << YAML::Value << v.max_threads_running << YAML::Key
          << "max_slowdown" << YAML::Value << v.max_slowdown << YAML::Key << "parallelism"
          << YAML::Value << v.parallelism << YAML::EndMap;
    } else {
      out << "none";
    }
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  return out.c_str();
}

}  // namespace dts::task
