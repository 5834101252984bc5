// The OpenAPI 3.0 document served at /api/v1/openapi.json (the reference is docs/api.md).
#include <nlohmann/json.hpp>

#include "server/api.h"

namespace dts::server {
namespace {

using nlohmann::json;

json ref(const std::string& schema) {
  return {{"$ref", "#/components/schemas/" + schema}};
}

json op(const std::string& summary, const std::string& ok_schema, bool has_name,
        const std::vector<int>& errors, const json& body = nullptr, int ok = 200) {
  json responses = json::object();
  responses[std::to_string(ok)] = {
      {"description", "success"},
      {"content", {{"application/json", {{"schema", ref(ok_schema)}}}}}};
  for (int e : errors) {
    responses[std::to_string(e)] = {
        {"description", e == 400   ? "bad input: an unknown key, a value of the wrong JSON type "
                                     "(never converted) or out of range; error.field names it"
                        : e == 404 ? "no such task or instance"
                        : e == 409 ? "wrong state (the message names the task's state and the "
                                     "states the call needs), or already exists"
                        : e == 503 ? "unavailable (for a stream: too many open, Retry-After)"
                                   : "error"},
        {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
  }
  responses["401"] = {{"description", "no token"}};
  responses["403"] = {{"description", "invalid token"}};
  json o = {{"summary", summary}, {"responses", responses}};
  if (has_name)
    o["parameters"] = json::array(
        {{{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
  if (!body.is_null()) o["requestBody"] = body;
  return o;
}

json taskBody() {
  return {{"required", true},
          {"content",
           {{"application/yaml", {{"schema", {{"type", "string"}}}}},
            {"application/json", {{"schema", ref("TaskFile")}}}}}};
}

json build() {
  json paths = json::object();
  paths["/tasks"]["get"] = op("list tasks", "TaskList", false, {});
  paths["/tasks"]["post"] =
      op("create a task (the task file's YAML or its JSON form); "
         "?start=true also starts it",
         "Task", false, {400, 409}, taskBody(), 201);
  paths["/tasks/{name}"]["get"] = op("task status", "Task", true, {404});
  paths["/tasks/{name}"]["delete"] =
      op("delete a task that is not running", "Deleted", true, {404, 409});
  // The states each call needs: allowedStates() in server/task_manager.h, docs/api.md.
  for (const char* a : {"start", "pause", "resume", "stop"})
    paths[std::string("/tasks/{name}/") + a]["post"] =
        op(std::string(a) + " the task", "Task", true, {400, 404, 409});
  paths["/tasks/{name}/precheck"]["post"] =
      op("run the precheck (created, paused, stopped or failed tasks)", "Precheck", true,
         {400, 404, 409});
  paths["/tasks/{name}/options"]["patch"] =
      op("merge options into a created, paused, stopped or failed task (read when it starts)",
         "Task", true, {400, 404, 409},
         {{"required", true},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}});
  paths["/tasks/{name}/source"]["patch"] =
      op("change which node of its instance a created, paused, stopped or failed task reads "
         "({\"secondary_node\": NODE or null}); it resumes from its checkpoint",
         "Task", true, {400, 404, 409},
         {{"required", true},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}});
  paths["/tasks/{name}/events"]["get"] =
      op("recent events (the newest 200, kept across restarts)", "Events", true, {400, 404});
  {
    // A tracking task's change log, streamed (docs/api.md, docs/change-records.md).
    json changes =
        op("a tracking task's changes as streamed NDJSON (one record per line, whole committed "
           "transactions in commit order); an error after the stream started is its last line. "
           "Accepts the API token or a group token of this task. At most 64 streams are open "
           "at once, or dts server --max-change-streams N (503 beyond, Retry-After: 1)",
           "ChangeRecord", true, {400, 404, 503});
    changes["responses"]["200"]["content"] = {
        {"application/x-ndjson", {{"schema", ref("ChangeRecord")}}}};
    auto query = [](const char* name, const char* description, json schema) {
      return json{{"name", name},
                  {"in", "query"},
                  {"required", false},
                  {"description", description},
                  {"schema", std::move(schema)}};
    };
    json str = {{"type", "string"}};
    changes["parameters"].push_back(query(
        "from",
        "earliest (default) | latest | OFFSET | TIME (2026-12-02T05:00:00Z, or ms:MILLISECONDS): "
        "the first transaction committed at or after it",
        str));
    changes["parameters"].push_back(
        query("tables", "comma-separated db.table, table or db.* names (markers kept)", str));
    changes["parameters"].push_back(
        query("ops", "comma-separated of insert, update, delete, ddl, begin, commit", str));
    changes["parameters"].push_back(
        query("limit", "end after N lines (1-1000000)", {{"type", "integer"}, {"minimum", 1}}));
    changes["parameters"].push_back(
        query("wait_ms", "end once nothing new came for N ms (0-3600000); default: follow",
              {{"type", "integer"}, {"minimum", 0}}));
    changes["parameters"].push_back(
        query("group",
              "a consumer group: without from, start right after its committed offset (earliest "
              "when it never committed); reading never commits",
              str));
    changes["parameters"].push_back(query(
        "format", "the records' encoding (markers only in dts)",
        {{"type", "string"}, {"enum", {"dts", "debezium-json", "canal-json", "maxwell-json"}}}));
    paths["/tasks/{name}/changes"]["get"] = changes;
  }
  paths["/tasks/{name}/groups"]["get"] =
      op("a tracking task's consumer groups (Kafka or HTTP commits) and their lag", "Groups", true,
         {400, 404});
  {
    json group = {
        {"name", "group"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    paths["/tasks/{name}/groups/{group}/token"]["post"] =
        op("issue the group's read-only token (shown once; replaces the previous one): the "
           "SASL/PLAIN password on the Kafka listener and the Bearer token of the task's changes "
           "endpoint, for this group only",
           "GroupToken", true, {400, 404}, nullptr, 201);
    paths["/tasks/{name}/groups/{group}/token"]["delete"] =
        op("revoke the group's token", "GroupTokenRevoked", true, {400, 404});
    for (const char* m : {"post", "delete"})
      paths["/tasks/{name}/groups/{group}/token"][m]["parameters"].push_back(group);
  }
  json group_param = {
      {"name", "group"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  paths["/tasks/{name}/groups/{group}"]["get"] =
      op("a consumer group's committed offset (null: never committed)", "GroupOffset", true,
         {400, 404});
  paths["/tasks/{name}/groups/{group}"]["get"]["parameters"].push_back(group_param);
  paths["/tasks/{name}/groups/{group}/commit"]["post"] = op(
      "commit a consumer group's offset (the next offset to read)", "GroupOffset", true, {400, 404},
      {{"required", true},
       {"content",
        {{"application/json",
          {{"schema",
            {{"type", "object"},
             {"required", {"offset"}},
             {"properties", {{"offset", {{"type", "integer"}}}}}}}}}}}});
  paths["/tasks/{name}/groups/{group}/commit"]["post"]["parameters"].push_back(group_param);
  // A group's offsets are per topic: the task's (format dts) or a view's.
  json format_param = {
      {"name", "format"},
      {"in", "query"},
      {"required", false},
      {"schema",
       {{"type", "string"}, {"enum", {"dts", "debezium-json", "canal-json", "maxwell-json"}}}}};
  paths["/tasks/{name}/groups/{group}"]["get"]["parameters"].push_back(format_param);
  paths["/tasks/{name}/groups/{group}/commit"]["post"]["parameters"].push_back(format_param);
  paths["/instances"]["get"] = op("list instances", "InstanceList", false, {});
  paths["/instances"]["post"] =
      op("register an instance (the instance file's YAML or its JSON form)", "Instance", false,
         {400, 409},
         {{"required", true}, {"content", {{"application/json", {{"schema", ref("Instance")}}}}}},
         201);
  paths["/instances/{name}"]["get"] = op("one instance", "Instance", true, {404});
  paths["/instances/{name}"]["delete"] =
      op("delete an instance; 409 while tasks use it as their source (error.tasks names them)",
         "Deleted", true, {404, 409});
  paths["/instances/{name}/nodes"]["post"] =
      op("add a node", "Instance", true, {400, 404, 409},
         {{"required", true},
          {"content",
           {{"application/json",
             {{"schema",
               {{"type", "object"},
                {"required", {"name", "endpoint"}},
                {"properties",
                 {{"name", {{"type", "string"}}}, {"endpoint", {{"type", "string"}}}}}}}}}}}});
  paths["/instances/{name}/nodes/{node}"]["delete"] =
      op("remove a node; a task reading it fails (DESIGN.md), and the answer names such tasks",
         "NodeDeleted", true, {404});
  paths["/instances/{name}/nodes/{node}"]["delete"]["parameters"].push_back(
      {{"name", "node"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});

  json spec = {{"required", true},
               {"content", {{"application/json", {{"schema", ref("ConnectionSpec")}}}}}};
  paths["/instances/{name}/nodes"]["get"] =
      op("each node's role, replication state and lag, read live from the servers", "InstanceNodes",
         true, {404});
  paths["/instances/{name}/discover"]["post"] =
      op("add the nodes the primary reports (never removes one)", "Discovered", true, {404, 503});
  paths["/connections/test"]["post"] =
      op("test a source or destination (role); a registered secondary is refused as "
         "destination",
         "ConnectionTest", false, {400, 404}, spec);
  paths["/browse"]["post"] = op("a source's databases, or one database's tables and columns",
                                "Browse", false, {400, 404, 503}, spec);

  json obj = {{"type", "object"}};
  json schemas = {
      {"Error",
       {{"type", "object"},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"properties",
             {{"code", {{"type", "string"}}},
              {"message", {{"type", "string"}}},
              {"field", {{"type", "string"}}},
              {"tasks",
               {{"type", "array"},
                {"items", {{"type", "string"}}},
                {"description", "an instance's delete refused: the tasks that use it"}}}}}}}}}}},
      {"TaskFile", {{"type", "object"}, {"description", "a task file (README: task files)"}}},
      {"Task",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"kind", {{"type", "string"}, {"enum", {"migration", "sync", "tracking"}}}},
          {"state",
           {{"type", "string"},
            {"enum", {"created", "running", "paused", "stopped", "completed", "failed"}}}},
          {"phase",
           {{"type", "string"},
            {"enum",
             {"created", "prechecking", "schema", "full", "incremental", "paused", "completed",
              "failed"}}}},
          {"running", {{"type", "boolean"}}},
          {"config", obj},
          {"tables", {{"type", "array"}, {"items", obj}}},
          {"rows_done", {{"type", "integer"}}},
          {"rows_estimated", {{"type", "integer"}}},
          {"changes_applied", {{"type", "integer"}}},
          {"rows_total", {{"type", "integer"}}},
          {"bytes_total", {{"type", "integer"}}},
          {"rps", {{"type", "number"}}},
          {"mbps", {{"type", "number"}}},
          {"latency_ms", {{"type", "number"}, {"nullable", true}}},
          {"replication_lag_seconds", {{"type", "number"}, {"nullable", true}}},
          {"start_gtid", {{"type", "string"}, {"nullable", true}}},
          {"checkpoint_gtid", {{"type", "string"}}},
          {"phases_done",
           {{"type", "object"},
            {"properties",
             {{"precheck", {{"type", "boolean"}}},
              {"schema", {{"type", "boolean"}}},
              {"full", {{"type", "boolean"}}}}}}},
          {"retrying", {{"type", "object"}, {"nullable", true}}},
          // The secondary node's own replication (docs/api.md): null when not watched.
          {"source_replication",
           {{"type", "object"},
            {"nullable", true},
            {"properties",
             {{"state",
               {{"type", "string"}, {"enum", {"running", "stopped", "unknown", "not_replica"}}}},
              {"node", {{"type", "string"}}},
              {"channel", {{"type", "string"}}},
              {"io_running", {{"type", "string"}}},
              {"sql_running", {{"type", "string"}}},
              {"seconds_behind", {{"type", "integer"}, {"nullable", true}}},
              {"error", {{"type", "string"}}},
              {"gtid_position", {{"type", "string"}}},
              {"reason", {{"type", "string"}}},
              {"since_ms", {{"type", "integer"}}},
              {"message", {{"type", "string"}}}}}}},
          {"last_error", {{"type", "string"}}},
          {"hint", {{"type", "string"}}},
          {"errors", obj},
          {"degraded", obj},
          {"applier", obj},
          {"updated_at", {{"type", "string"}, {"nullable", true}}},
          {"tracking", ref("Tracking")}}}}},
      {"TaskList",
       {{"type", "object"},
        {"properties", {{"tasks", {{"type", "array"}, {"items", ref("Task")}}}}}}},
      {"Events",
       {{"type", "object"},
        {"properties",
         {{"task", {{"type", "string"}}},
          {"events",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"at", {{"type", "string"}}},
                {"at_ms", {{"type", "integer"}}},
                {"type",
                 {{"type", "string"},
                  {"enum", {"action", "phase", "retry", "error", "server", "source"}}}},
                {"message", {{"type", "string"}}},
                {"hint", {{"type", "string"}}}}}}}}}}}}},
      {"Precheck",
       {{"type", "object"},
        {"properties",
         {{"passed", {{"type", "boolean"}}},
          {"items",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"name", {{"type", "string"}}},
                {"level", {{"type", "string"}, {"enum", {"ok", "warn", "fail"}}}},
                {"message", {{"type", "string"}}},
                {"hint", {{"type", "string"}}},
                {"retryable", {{"type", "boolean"}}}}}}}}}}}}},
      {"Instance",
       {{"type", "object"}, {"description", "an instance file; password shown as ***"}}},
      {"InstanceList",
       {{"type", "object"},
        {"properties", {{"instances", {{"type", "array"}, {"items", ref("Instance")}}}}}}},
      {"Deleted", {{"type", "object"}, {"properties", {{"deleted", {{"type", "string"}}}}}}},
      {"NodeDeleted",
       {{"type", "object"},
        {"properties",
         {{"deleted", {{"type", "string"}}},
          {"instance", {{"type", "string"}}},
          {"tasks_reading_node", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"warning",
           {{"type", "string"},
            {"description", "present when tasks read the node: what happens to them"}}}}}}},
      {"GroupOffset",
       {{"type", "object"},
        {"properties",
         {{"group", {{"type", "string"}}},
          {"topic", {{"type", "string"}}},
          {"offset", {{"type", "integer"}, {"nullable", true}}},
          {"first_offset", {{"type", "integer"}}},
          {"end_offset", {{"type", "integer"}}},
          {"topics",
           {{"type", "array"},
            {"description", "every topic of the task the group committed on, with its offset"},
            {"items", {{"type", "object"}}}}}}}}},
      {"ChangeRecord",
       {{"type", "object"},
        {"description",
         "one line of the stream: a change record (docs/change-records.md) in the asked format"},
        {"properties",
         {{"offset", {{"type", "integer"}}},
          {"op",
           {{"type", "string"},
            {"enum", {"begin", "insert", "update", "delete", "ddl", "commit"}}}},
          {"db", {{"type", "string"}}},
          {"table", {{"type", "string"}, {"nullable", true}}},
          {"sql", {{"type", "string"}}},
          {"definition", obj},
          {"pk", {{"type", "array"}, {"nullable", true}, {"items", {{"type", "string"}}}}},
          {"types", obj},
          {"before", {{"type", "object"}, {"nullable", true}}},
          {"after", {{"type", "object"}, {"nullable", true}}},
          {"gtid", {{"type", "string"}, {"nullable", true}}},
          {"file", {{"type", "string"}}},
          {"pos", {{"type", "integer"}}},
          {"ts_ms", {{"type", "integer"}}},
          {"tx", obj},
          {"row", {{"type", "integer"}}},
          {"server_id", {{"type", "integer"}}},
          {"event_count", {{"type", "integer"}}},
          {"position", {{"type", "string"}}}}}}},
      {"Group",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"committed_offset", {{"type", "integer"}}},
          {"lag", {{"type", "integer"}, {"description", "log end offset - committed offset"}}},
          {"updated_at", {{"type", "string"}, {"nullable", true}}},
          {"topic", {{"type", "string"}}}}}}},
      {"Groups",
       {{"type", "object"},
        {"properties", {{"groups", {{"type", "array"}, {"items", ref("Group")}}}}}}},
      {"Tracking",
       {{"type", "object"},
        {"description", "tracking tasks only"},
        {"properties",
         {{"log_start_offset", {{"type", "integer"}}},
          {"log_end_offset", {{"type", "integer"}}},
          {"groups", {{"type", "array"}, {"items", ref("Group")}}}}}}},
      {"GroupToken",
       {{"type", "object"},
        {"properties",
         {{"task", {{"type", "string"}}},
          {"group", {{"type", "string"}}},
          {"token", {{"type", "string"}, {"description", "shown once"}}}}}}},
      {"GroupTokenRevoked",
       {{"type", "object"},
        {"properties",
         {{"task", {{"type", "string"}}},
          {"group", {{"type", "string"}}},
          {"revoked", {{"type", "boolean"}}}}}}},
      {"ConnectionSpec",
       {{"type", "object"},
        {"description",
         "a registered instance (instance, secondary_node) or an endpoint (endpoint, user, "
         "password | password_env); role source|destination for /connections/test, database "
         "for /browse"},
        {"properties",
         {{"instance", {{"type", "string"}}},
          {"secondary_node", {{"type", "string"}}},
          {"endpoint", {{"type", "string"}}},
          {"user", {{"type", "string"}}},
          {"password", {{"type", "string"}}},
          {"password_env", {{"type", "string"}}},
          {"role", {{"type", "string"}, {"enum", {"source", "destination"}}}},
          {"database", {{"type", "string"}}}}}}},
      {"NodeProbe",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"endpoint", {{"type", "string"}}},
          {"reachable", {{"type", "boolean"}}},
          {"error", {{"type", "string"}}},
          {"role",
           {{"type", "string"}, {"enum", {"primary", "secondary", "standalone", "unknown"}}}},
          {"server_id", {{"type", "string"}}},
          {"version", {{"type", "string"}}},
          {"read_only", {{"type", "boolean"}}},
          {"replication", {{"type", "object"}, {"nullable", true}}},
          {"gtid_position", {{"type", "string"}}}}}}},
      {"InstanceNodes",
       {{"type", "object"},
        {"properties",
         {{"instance", {{"type", "string"}}},
          {"endpoint", ref("NodeProbe")},
          {"nodes", {{"type", "array"}, {"items", ref("NodeProbe")}}}}}}},
      {"Discovered",
       {{"type", "object"},
        {"properties",
         {{"found", {{"type", "array"}, {"items", obj}}},
          {"added", {{"type", "array"}, {"items", obj}}},
          {"nodes", {{"type", "array"}, {"items", obj}}}}}}},
      {"ConnectionTest",
       {{"type", "object"},
        {"properties",
         {{"ok", {{"type", "boolean"}}},
          {"refused", {{"type", "boolean"}}},
          {"endpoint", {{"type", "string"}}},
          {"message", {{"type", "string"}}},
          {"hint", {{"type", "string"}}},
          {"version", {{"type", "string"}, {"nullable", true}}},
          {"read_only", {{"type", "boolean"}, {"nullable", true}}},
          {"checks", {{"type", "array"}, {"items", obj}}}}}}},
      {"Browse",
       {{"type", "object"},
        {"properties",
         {{"databases", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"database", {{"type", "string"}}},
          {"tables", {{"type", "array"}, {"items", obj}}}}}}},
  };
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "dts server API"},
            {"version", "1"},
            {"description", "Tasks and instances of a dts server. See docs/api.md."}}},
          {"servers", json::array({{{"url", "/api/v1"}}})},
          {"security", json::array({{{"bearer", json::array()}}})},
          {"paths", paths},
          {"components",
           {{"schemas", schemas},
            {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace

const std::string& openApiDocument() {
  static const std::string doc = build().dump(2) + "\n";
  return doc;
}

}  // namespace dts::server
