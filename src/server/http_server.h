// The HTTP(S) server under `dts server`: cpp-httplib parses requests and writes responses, this
// class owns the connections. cpp-httplib 0.11 gives each connection a thread of a fixed pool
// (8 threads on a small machine) for as long as the connection lives: 8 browsers' idle
// keep-alive connections, or 8 clients sending their headers a byte at a time, left every other
// request waiting, and stop() waited for them all.
//
// Here a connection holds a worker only while a request is being handled:
//  - one waiter thread poll()s every connection that is not in a worker: new ones and idle
//    keep-alive ones. For plain HTTP it also reads the whole request (non-blocking, into the
//    connection's buffer): the headers, then a body with Content-Length or a chunked one (up to
//    route()'s max_body; a larger one goes to a worker at once, answered 413 unread), answering
//    "Expect: 100-continue" itself; a client sending them slowly, or never their end, costs no
//    thread. A connection whose headers are not complete within header_timeout, whose request
//    is not complete within read_timeout of its first byte (a total: a byte now and then does
//    not move it), or idle longer than keep_alive_timeout, is closed.
//  - a fixed pool of `workers` threads handles complete requests, one at a time per pickup;
//    after the response a keep-alive connection goes back to the waiter. A worker never waits
//    for a plain connection's bytes: what the waiter has not buffered (the rest of a header
//    block over kMaxHeaderBytes, of a malformed body) is read only if it is already there.
//  - at most max_connections are open: a new one beyond that closes the one waiting longest.
//    The bodies the waiter is receiving, and the requests waiting for a worker, take at most
//    max_body_buffer together: past it, the body being received whose request began longest ago
//    is closed.
//  - HTTPS: the handshake and the request are read by a worker (they are encrypted): the
//    handshake and the headers within header_timeout of the pickup, the whole request within
//    read_timeout of it, totals that a client trickling bytes does not move; so at most
//    `workers` slow HTTPS clients can hold every worker for read_timeout. Idle keep-alive
//    connections still cost no thread.
//  - a long-lived streamed response (streamResponse(): GET .../changes) holds no worker: once
//    its status line and headers are written, the connection goes to a thread of its own that
//    writes the chunks, each made when the previous one was written (back-pressure). At most
//    max_streams are open at once; one more is answered 503 "unavailable" (Retry-After: 1)
//    before anything else is written. After the last chunk a keep-alive connection goes back
//    to the waiter.
//  - stop() (httplib::Server::stop, then the listening thread's listen_after_bind() returns):
//    waiting connections are closed at once; requests in progress and streams get `stop_grace`
//    to finish (a stream ends at its next chunk), then their sockets are shut down.
// Memory is bounded: workers + max_streams threads, max_connections sockets with at most
// kMaxHeaderBytes buffered each while their headers come, max_body_buffer (checked
// between the waiter's rounds of reads) for the bodies being received and the requests waiting for
// a worker, and a request (up to 2 * (kMaxHeaderBytes + max_body), a chunked body's framing
// counted) in each worker.
//
// The listening socket has SO_REUSEADDR only (cpp-httplib sets SO_REUSEPORT, which let a second
// server bind the same port and share its connections).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace dts::server {

struct HttpServerLimits {
  size_t workers = 16;
  size_t max_connections = 512;
  std::chrono::milliseconds header_timeout{10000};      // connect (or idle) to complete headers
  std::chrono::milliseconds keep_alive_timeout{30000};  // idle between requests
  std::chrono::milliseconds read_timeout{30000};        // the whole request, from its first byte
  std::chrono::milliseconds write_timeout{10000};       // each write
  std::chrono::milliseconds stop_grace{2000};           // requests in progress at stop()
  size_t max_streams = 64;            // streamed responses open at once (each has a thread)
  size_t max_body_buffer = 64 << 20;  // request bodies being received (plain HTTP), all together
};

class HttpServer : public httplib::Server {
 public:
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;

  // tls_cert and tls_key both empty: plain HTTP. Otherwise HTTPS with that certificate chain and
  // key (PEM files); an error names them.
  static Result<std::unique_ptr<HttpServer>> create(const HttpServerLimits& limits,
                                                    const std::string& tls_cert = "",
                                                    const std::string& tls_key = "");
  ~HttpServer() override;

  // The request's body as sent, read whatever its Content-Type (cpp-httplib parsed
  // application/x-www-form-urlencoded bodies, curl's default, into parameters and refused those
  // over 8 KB with an empty 413).
  using Handler = std::function<void(const httplib::Request& request, const std::string& body,
                                     httplib::Response& response)>;

  // Routes every method and path to handler. A request without Content-Length or
  // Transfer-Encoding has no body (RFC 9112 6.3: `curl -X POST URL` waited for the connection's
  // end and got an empty 400). A body over max_body is 413, a multipart one 415. Every error
  // answer without a body (the library's own: malformed request, unknown method, too long URI,
  // an exception) gets the API's JSON error, {"error": {"code": ..., "message": ...}}.
  void route(Handler handler, size_t max_body);

  // Makes `res` a streamed response, from inside a handler: `next` is called again and again,
  // each call appending the next chunk to *chunk (possibly nothing, after a long-poll wait),
  // until it returns false. It runs on the stream's own thread, not the handler's worker;
  // between calls the stream ends by itself when the server stops or the client has gone. More
  // than max_streams at once: `res` is a 503 JSON error instead and `next` is never called.
  using StreamNext = std::function<bool(std::string* chunk)>;
  void streamResponse(httplib::Response& res, const std::string& content_type, StreamNext next);

  // Connections open now (waiting, in a worker or streaming); for tests.
  size_t openConnections() const { return open_.load(); }
  // Streams open now (reserved by a handler or streaming); for tests.
  size_t openStreams() {
    std::lock_guard<std::mutex> lock(mu_);
    return streams_;
  }

  struct Connection;

 private:
  explicit HttpServer(const HttpServerLimits& limits);

  // Called by httplib's accept loop (through our inline task queue) with each accepted socket.
  bool process_and_close_socket(socket_t sock) override;

  void startThreads();
  void shutdownConnections();  // the task queue's shutdown, after stop()
  void waiterLoop();
  void workerLoop();
  void handleOne(std::unique_ptr<Connection> c);
  // The waiter reads what a plain connection has sent; true when it is ready for a worker: its
  // request is all buffered, or is to be refused (too long headers, too large or malformed body).
  bool readRequest(Connection& c);
  // Whether c's buffer holds its whole request (or one to refuse), reading on where the last call
  // stopped; answers "Expect: 100-continue" once the headers are there and the body is not.
  bool requestBuffered(Connection& c);
  // A request's first byte has arrived (at `now`): its deadlines start.
  void startRequest(Connection& c, std::chrono::steady_clock::time_point now);
  void toWaiter(std::unique_ptr<Connection> c);
  void toWorkers(std::unique_ptr<Connection> c);
  void wakeWaiter();
  void closeConnection(std::unique_ptr<Connection> c);
  // The stream's thread: writes next's chunks on c until the end, the client's or the server's.
  void streamLoop(std::unique_ptr<Connection> c, StreamNext next, bool keep_alive);

  HttpServerLimits limits_;
  SSL_CTX* tls_ = nullptr;
  int wake_[2] = {-1, -1};

  std::mutex mu_;
  std::condition_variable ready_cv_;
  std::deque<std::unique_ptr<Connection>> incoming_;  // to the waiter
  std::deque<std::unique_ptr<Connection>> ready_;     // to the workers
  size_t queued_bytes_ = 0;                           // buffered by the connections in ready_
  std::vector<Connection*> active_;                   // in a worker
  std::vector<Connection*> streaming_;                // in a stream's thread
  size_t streams_ = 0;  // reserved by streamResponse() until the stream's end
  bool stopping_ = false;
  std::atomic<size_t> open_{0};
  std::atomic<size_t> max_body_{0};  // route()'s: the waiter buffers bodies up to this

  std::thread waiter_;
  std::vector<std::thread> workers_;
};

}  // namespace dts::server
