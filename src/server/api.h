// The REST/JSON API of `dts server` (docs/api.md), independent of the HTTP library so that
// routing, authentication, JSON and validation are unit-tested without sockets:
//
//   GET  /healthz, /readyz                        no token
//   GET  /, /console/...                          the web console's files (server/console.h),
//                                                 no token
//   GET  /metrics                                 Prometheus text (server/metrics.h)
//   GET  /api/v1/openapi.json                     the OpenAPI 3 document of this API
//   GET|POST            /api/v1/tasks             list | create (YAML or JSON body; ?start=true)
//   GET|DELETE          /api/v1/tasks/NAME        status | delete (not while running)
//   POST /api/v1/tasks/NAME/{start,pause,resume,stop,precheck}
//   PATCH|PUT           /api/v1/tasks/NAME/options   merge options (not while running)
//   GET  /api/v1/tasks/NAME/events                recent events (?limit=N)
//   GET  /api/v1/tasks/NAME/changes               a tracking task's change log as streamed
//                                                 NDJSON (server/changes_stream.h); ?group=G
//                                                 starts at G's committed offset
//   GET  /api/v1/tasks/NAME/groups/GROUP          a consumer group's committed offset
//   POST /api/v1/tasks/NAME/groups/GROUP/commit   {"offset": N}: commit N (the next offset to
//                                                 read) for the group, in the offset store the
//                                                 Kafka listener uses (DATA_DIR/kafka-offsets.db)
//   GET  /api/v1/tasks/NAME/groups                a tracking task's consumer groups and lag
//   POST|DELETE /api/v1/tasks/NAME/groups/GROUP/token   issue (shown once) | revoke the group's
//                                                 read-only token (server/group_tokens.h)
//   GET|POST            /api/v1/instances         list | create (YAML or JSON body)
//   GET|DELETE          /api/v1/instances/NAME
//   POST /api/v1/instances/NAME/nodes             {"name": ..., "endpoint": "host:port"}
//   DELETE /api/v1/instances/NAME/nodes/NODE
//   GET  /api/v1/instances/NAME/nodes             each node's role and replication, read live
//   POST /api/v1/instances/NAME/discover          add the nodes the primary reports
//   POST /api/v1/connections/test                 test a source or destination (server/explore.h)
//   POST /api/v1/browse                           a source's databases, tables and columns
//
// Every call but /healthz and /readyz needs "Authorization: Bearer TOKEN": none is 401, a wrong
// one 403. A group token (not the API token) is accepted by its task's changes endpoint only,
// as its own group. Errors are {"error": {"code": ..., "message": ..., "field": ...}} ("field" for
// 400s whose message names one) with 400 invalid_argument, 401 unauthenticated, 403 forbidden, 404
// not_found, 405 method_not_allowed, 409 conflict (wrong state, exists), 500 internal, 503
// unavailable. Passwords are never in a response ("***" marks one that is set).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/kafka_groups.h"
#include "server/task_manager.h"

namespace dts::server {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string repeated_query;  // a query parameter given more than once (refused), "" when none
  std::string authorization;   // the Authorization header, "" when absent
  std::string if_none_match;   // the If-None-Match header (console files), "" when absent
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // A streamed body (GET .../changes) when set: called again and again, each call appending the
  // next chunk to *chunk (possibly nothing, after a long-poll wait), until it returns false; the
  // HTTP server writes each chunk before asking for the next (back-pressure). `body` is unused.
  std::function<bool(std::string* chunk)> stream;
  std::vector<std::pair<std::string, std::string>> headers;  // more headers (console files)
};

// A request for Api::handle from a request target "PATH?k=v&k2=v2" (no percent-decoding: the
// API's names and values need none) and the Authorization header.
HttpRequest makeRequest(const std::string& method, const std::string& target,
                        const std::string& authorization, const std::string& body);

// One table's progress as JSON (source, target, rows_done, rows_estimated, bytes_done, done,
// changes_applied): the API's status and `dts status --json` show the same fields.
nlohmann::json tableProgressJson(const task::TableProgress& table);

// `body` as the API's response text, pretty-printed and newline-terminated. Strings that are not
// UTF-8 (a name or a server's error message carrying other bytes) are shown with U+FFFD in
// their place: a response never fails.
std::string jsonBody(const nlohmann::json& body);
// A JSON answer with the given status and jsonBody(body).
HttpResponse jsonResponse(int status, const nlohmann::json& body);

// The JSON error body and status for a Status (InvalidArgument 400, NotFound 404,
// FailedPrecondition 409, Unavailable 503, else 500).
HttpResponse errorResponse(const Status& status);
HttpResponse errorResponse(int http_status, const std::string& code, const std::string& message);

// The JSON-only bodies of the API (nodes, group commits, connection tests, browsing) are read by
// parseJsonBody: a JSON object whose keys are all listed (an unknown key is kInvalidArgument
// "KEY: unknown key (allowed: ...)"), each value of its listed type, never coerced ("8" is not
// an integer: "FIELD: must be an integer, got a string"), required ones present. An optional
// field given null counts as absent. Bodies that may also be YAML (tasks, options, instances)
// are checked the same way by their parsers (common/yaml_keys.h, "Types as written").
enum class JsonType { kString, kInteger, kBoolean };
struct JsonField {
  std::string name;
  JsonType type;
  bool required = false;
};
Result<nlohmann::json> parseJsonBody(const std::string& text, const std::vector<JsonField>& fields);

// A task as the API shows it (status); with events when the view has them.
nlohmann::json taskJson(const TaskView& view);

// The OpenAPI 3.0 document (server/openapi.cc).
const std::string& openApiDocument();

class Api {
 public:
  // ready: whether /readyz answers 200 (every task has been launched).
  Api(TaskManager* tasks, std::string token, std::function<bool()> ready);
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse route(const HttpRequest& request);
  HttpResponse tasks(const HttpRequest& request, const std::vector<std::string>& parts);
  HttpResponse instances(const HttpRequest& request, const std::vector<std::string>& parts);
  HttpResponse changes(const std::string& task, const HttpRequest& request);
  HttpResponse groups(const HttpRequest& request, const std::vector<std::string>& parts);
  // The consumer groups' committed offsets (DATA_DIR/kafka-offsets.db), opened at first use: a
  // group is the same group whether it commits over HTTP or the Kafka protocol (SQLite in WAL
  // mode lets the listener's connection and this one share the file).
  Result<kafka::OffsetStore*> offsetStore();
  // GET .../groups; POST|DELETE .../groups/GROUP/token.
  HttpResponse groupTokens(const HttpRequest& request, const std::vector<std::string>& parts);
  // Whether `token` is a group token whose scope covers this request (its task's changes as
  // its group, that group's offset). When it is a group token that does not, *why says what it
  // may do.
  bool groupTokenAllows(const std::string& token, const HttpRequest& request, std::string* why);

  TaskManager* tasks_;
  std::string token_;
  std::function<bool()> ready_;
  std::mutex offsets_mu_;
  std::unique_ptr<kafka::OffsetStore> offsets_;
};

}  // namespace dts::server
