#include "server/explore.h"

#include <nlohmann/json.hpp>

#include "source/cluster_source.h"
#include "source/instance_probe.h"
#include "source/node_checks.h"
#include "task/catalog.h"
#include "task/task_config.h"

namespace dts::server {
namespace {

using nlohmann::json;

HttpResponse bad(const std::string& field, const std::string& what) {
  return errorResponse(400, "invalid_argument", field + ": " + what);
}

json probeJson(const source::NodeProbe& p) {
  json replication = nullptr;
  if (p.replicating) {
    replication = {{"io_running", p.io_running},
                   {"sql_running", p.sql_running},
                   {"master_server_id", p.master_server_id},
                   {"seconds_behind", p.seconds_behind ? json(*p.seconds_behind) : json(nullptr)},
                   {"error", p.replication_error}};
  }
  return {{"name", p.name},
          {"endpoint", p.endpoint},
          {"reachable", p.reachable},
          {"error", p.error},
          {"role", p.role},
          {"server_id", p.server_id},
          {"version", p.version},
          {"read_only", p.read_only},
          {"replication", replication},
          {"gtid_position", p.gtid_position}};
}

json nodesJson(const std::vector<source::InstanceNode>& nodes) {
  json out = json::array();
  for (const auto& n : nodes) out.push_back({{"name", n.name}, {"endpoint", n.endpoint}});
  return out;
}

// Where a connection spec leads: the server to connect to and, for a secondary node of an
// instance, the instance's read/write endpoint too (for the node checks).
struct Target {
  mysql::ConnectOptions read;
  std::optional<mysql::ConnectOptions> primary;
  std::string instance, node;
  std::string endpoint_text;  // as given (for the secondary-node refusal)
};

// Parses a connection spec; on a malformed body fills *error (400) and returns nullopt.
std::optional<Target> parseSpec(source::InstanceRegistry& registry, const json& body,
                                HttpResponse* error) {
  auto str = [&](const char* key, std::string* out) {
    if (!body.contains(key) || body[key].is_null()) return true;
    if (!body[key].is_string()) {
      *error = bad(key, "must be a string");
      return false;
    }
    *out = body[key].get<std::string>();
    return true;
  };
  Target t;
  task::EndpointConfig ec;
  if (!str("instance", &t.instance) || !str("secondary_node", &t.node) ||
      !str("endpoint", &ec.endpoint) || !str("user", &ec.user) || !str("password", &ec.password) ||
      !str("password_env", &ec.password_env))
    return std::nullopt;
  if (!t.instance.empty()) {
    if (!ec.endpoint.empty()) {
      *error = bad("endpoint", "give either instance or endpoint, not both");
      return std::nullopt;
    }
    auto resolved = source::resolveSource(registry, t.instance, t.node);
    if (!resolved.ok()) {
      *error = errorResponse(resolved.status());
      return std::nullopt;
    }
    t.read = resolved->read;
    if (!t.node.empty()) t.primary = resolved->primary;
    t.endpoint_text = t.read.endpoint.toString();
    return t;
  }
  if (!t.node.empty()) {
    *error = bad("secondary_node", "needs instance (a registered instance)");
    return std::nullopt;
  }
  if (ec.endpoint.empty()) {
    *error = bad("endpoint", "required (host:port), or give instance");
    return std::nullopt;
  }
  if (ec.user.empty()) {
    *error = bad("user", "required");
    return std::nullopt;
  }
  auto ep = mysql::Endpoint::parse(ec.endpoint);
  if (!ep.ok()) {
    *error = bad("endpoint", ep.status().message());
    return std::nullopt;
  }
  auto o = ec.connectOptions();
  if (!o.ok()) {
    *error = bad(ec.password_env.empty() ? "password" : "password_env", o.status().message());
    return std::nullopt;
  }
  t.read = *o;
  t.endpoint_text = ec.endpoint;
  return t;
}

// A connection spec's fields, plus `extra` (parseJsonBody: unknown keys and wrong types are
// refused).
std::optional<json> parseBody(const std::string& text, HttpResponse* error,
                              std::vector<JsonField> extra) {
  std::vector<JsonField> fields = {
      {"instance", JsonType::kString}, {"secondary_node", JsonType::kString},
      {"endpoint", JsonType::kString}, {"user", JsonType::kString},
      {"password", JsonType::kString}, {"password_env", JsonType::kString}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  auto body = parseJsonBody(text, fields);
  if (!body.ok()) {
    *error = errorResponse(body.status());
    return std::nullopt;
  }
  return std::move(body).value();
}

json check(const std::string& name, const char* level, const std::string& message,
           const std::string& hint) {
  return {{"name", name}, {"level", level}, {"message", message}, {"hint", hint}};
}

}  // namespace

HttpResponse instanceNodesLive(source::InstanceRegistry& registry, const std::string& name) {
  auto inst = registry.get(name);
  if (!inst.ok()) return errorResponse(inst.status());
  auto probe = source::probeInstance(*inst);
  if (!probe.ok()) return errorResponse(probe.status());
  json nodes = json::array();
  for (const auto& n : probe->nodes) nodes.push_back(probeJson(n));
  return jsonResponse(
      200, {{"instance", name}, {"endpoint", probeJson(probe->endpoint)}, {"nodes", nodes}});
}

HttpResponse discoverInstance(source::InstanceRegistry& registry, const std::string& name) {
  auto inst = registry.get(name);
  if (!inst.ok()) return errorResponse(inst.status());
  auto options = source::instanceConnectOptions(*inst, inst->endpoint);
  if (!options.ok()) return errorResponse(options.status());
  mysql::ConnectOptions o = *options;
  o.connect_timeout = std::chrono::seconds(5);
  o.read_timeout = std::chrono::seconds(10);
  auto conn = mysql::Connection::connect(o);
  if (!conn.ok())
    return errorResponse(Status::Unavailable("instance " + name + ": " + conn.status().message()));
  auto found = source::discoverNodes(**conn);
  if (!found.ok()) return errorResponse(found.status());
  auto added = source::newNodes(*inst, *found);
  for (const auto& n : added) {
    Status st = registry.addNode(name, n);
    if (!st.ok()) return errorResponse(st);
  }
  auto after = registry.get(name);
  if (!after.ok()) return errorResponse(after.status());
  return jsonResponse(200, {{"found", nodesJson(*found)},
                            {"added", nodesJson(added)},
                            {"nodes", nodesJson(after->nodes)}});
}

HttpResponse testConnection(source::InstanceRegistry& registry, const std::string& text) {
  HttpResponse error;
  auto body = parseBody(text, &error, {{"role", JsonType::kString}});
  if (!body) return error;
  std::string role = body->value("role", "source");
  if (!(*body)["role"].is_null() && !(*body)["role"].is_string())
    return bad("role", "must be source or destination");
  if (role != "source" && role != "destination")
    return bad("role", "must be source or destination, got '" + role + "'");
  if (role == "destination" && body->contains("instance"))
    return bad("instance", "a destination is an endpoint, not a registered instance");
  auto target = parseSpec(registry, *body, &error);
  if (!target) return error;
  json checks = json::array();
  json out = {{"ok", false},
              {"endpoint", target->read.endpoint.toString()},
              {"version", nullptr},
              {"read_only", nullptr}};
  if (role == "destination") {
    Status refused = source::checkDestinationNotSecondary(registry, target->endpoint_text);
    if (!refused.ok()) {
      out["refused"] = true;
      out["message"] = refused.message();
      out["hint"] = "choose a writable primary (or a separate server) as the destination";
      out["checks"] = checks;
      return jsonResponse(200, out);
    }
  }
  mysql::ConnectOptions o = target->read;
  o.connect_timeout = std::chrono::seconds(5);
  o.read_timeout = std::chrono::seconds(10);
  auto conn = mysql::Connection::connect(o);
  if (!conn.ok()) {
    out["message"] = conn.status().message();
    out["hint"] = errorHint(conn.status().message());
    out["checks"] = checks;
    return jsonResponse(200, out);
  }
  auto vars = (*conn)->query("SELECT @@version, @@read_only");
  if (vars.ok() && !vars->rows.empty() && vars->rows[0].size() >= 2) {
    out["version"] = vars->rows[0][0].value_or("");
    out["read_only"] = vars->rows[0][1].value_or("0") != "0";
  }
  bool ok = true;
  if (role == "destination") {
    auto item = source::checkDestinationWritable(**conn);
    ok = item.level != source::CheckItem::Level::kFail;
    checks.push_back(check(item.name, source::levelName(item.level), item.detail, item.hint));
  } else if (target->primary) {
    mysql::ConnectOptions po = *target->primary;
    po.connect_timeout = std::chrono::seconds(5);
    auto primary = mysql::Connection::connect(po);
    if (!primary.ok()) {
      ok = false;
      checks.push_back(
          check("instance endpoint", "fail",
                "read/write endpoint " + po.endpoint.toString() + ": " + primary.status().message(),
                errorHint(primary.status().message())));
    } else {
      for (const auto& item :
           source::checkSecondaryNode(**conn, **primary, target->node, target->instance)) {
        ok = ok && item.level != source::CheckItem::Level::kFail;
        checks.push_back(check(item.name, source::levelName(item.level), item.detail, item.hint));
      }
    }
  }
  out["ok"] = ok;
  out["message"] =
      ok ? "connected to " + target->read.endpoint.toString() : "connected, but a check failed";
  out["hint"] = "";
  out["checks"] = checks;
  return jsonResponse(200, out);
}

HttpResponse browseSource(source::InstanceRegistry& registry, const std::string& text) {
  HttpResponse error;
  auto body = parseBody(text, &error, {{"database", JsonType::kString}});
  if (!body) return error;
  std::string database;
  if (body->contains("database")) {
    if (!(*body)["database"].is_string()) return bad("database", "must be a string");
    database = (*body)["database"].get<std::string>();
    if (database.empty()) return bad("database", "must not be empty");
  }
  auto target = parseSpec(registry, *body, &error);
  if (!target) return error;
  mysql::ConnectOptions o = target->read;
  o.connect_timeout = std::chrono::seconds(5);
  o.read_timeout = std::chrono::seconds(30);
  auto conn = mysql::Connection::connect(o);
  if (!conn.ok()) return errorResponse(Status::Unavailable(conn.status().message()));
  if (database.empty()) {
    auto dbs = task::listDatabases(**conn);
    if (!dbs.ok()) return errorResponse(dbs.status());
    return jsonResponse(200, {{"databases", *dbs}});
  }
  pipeline::DatabaseSelection selection;
  selection.database = database;
  auto mapping = pipeline::Mapping::create({selection});
  if (!mapping.ok()) return bad("database", mapping.status().message());
  std::vector<std::string> unsupported;  // shown, not an error: the user picks other tables
  auto catalog = task::loadCatalog(**conn, *mapping, &unsupported);
  if (!catalog.ok()) {
    if (catalog.status().code() == Status::Code::kFailedPrecondition)
      return errorResponse(404, "not_found", catalog.status().message());
    return errorResponse(catalog.status());
  }
  json tables = json::array();
  for (const auto& t : *catalog) {
    json columns = json::array();
    for (const auto& c : t.columns)
      columns.push_back({{"name", c.name},
                         {"type", c.data_type},
                         {"nullable", c.nullable},
                         {"generated", c.generated}});
    tables.push_back({{"name", t.route.source_table},
                      {"estimated_rows", t.estimated_rows},
                      {"has_key", t.source_has_key},
                      {"columns", columns}});
  }
  return jsonResponse(200,
                      {{"database", database}, {"tables", tables}, {"unsupported", unsupported}});
}

}  // namespace dts::server
