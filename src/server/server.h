// `dts server`: the tasks of a data dir as a service (server/task_manager.h) behind the REST API
// (server/api.h) over HTTP or HTTPS (cpp-httplib).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"
#include "task/runner.h"

namespace dts::server {

struct ServerOptions {
  std::string data_dir = ".dts";
  std::string listen = "127.0.0.1:8686";  // host:port; port 0 picks a free one
  std::string tls_cert;                   // both set: HTTPS
  std::string tls_key;
  task::IncrementalFactory incremental;  // null: the built-in engine
  // HOST:PORT of the Kafka listener (server/kafka_listener.h): consumers read tracking tasks'
  // change logs over the Kafka protocol, SASL/PLAIN with the API token. Empty: no listener.
  std::string kafka_listen;
  // Tracking tasks' GET .../changes streams open at once (each holds a thread and a connection);
  // one more is answered 503 with Retry-After. parseMaxChangeStreams checks a value.
  size_t max_change_streams = 64;
};

// The most --max-change-streams may be: half of the server's 512 connections, so that streams
// never take the connections the rest of the API (and the console) need.
size_t maxChangeStreamsLimit();

// --max-change-streams N (or the config file's max_change_streams): a whole number from 1 to
// maxChangeStreamsLimit(). Error (kInvalidArgument) naming `what` and the value given otherwise:
// 0, negative, not a number, too large.
Result<size_t> parseMaxChangeStreams(const std::string& what, const std::string& text);

// Applies a server config file (YAML: data_dir, listen, tls_cert, tls_key, kafka_listen,
// max_change_streams) to options. Unknown keys, non-scalar values and a bad max_change_streams
// are errors naming the key.
Status applyServerConfig(const std::string& path, ServerOptions* options);

// Runs until stop becomes true: opens the data dir, creates the API token on the first start
// (printed once through print, with where it is kept), listens, resumes the tasks, then serves.
// On stop: no new requests, every task stops at a checkpoint, OK. print gets the lines meant for
// the operator ("dts server listening on http://127.0.0.1:8686").
//
// One server per data dir: it holds DIR/server.lock while it runs (a second one is refused,
// naming the first's URL) and keeps its URL, as a client on this host reaches it, in
// DIR/server.url (removed on stop).
Status runServer(const ServerOptions& options, const std::atomic<bool>& stop,
                 const std::function<void(const std::string&)>& print);

// The URL of the dts server running on data_dir (it holds DIR/server.lock and wrote
// DIR/server.url); nullopt when none runs there. `dts task ...` given --data-dir and no
// --server talks to that server rather than reading the data dir behind its back.
std::optional<std::string> runningServerUrl(const std::string& data_dir);

}  // namespace dts::server
