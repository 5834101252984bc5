// The HTTP(S) server under `dts server`: cpp-httplib parses requests and writes responses, this
// class owns the connections. cpp-httplib 0.11 gives each connection a thread of a fixed pool
// (8 threads on a small machine) for as long as the connection lives: 8 browsers' idle
// keep-alive connections, or 8 clients sending their headers a byte at a time, left every other
// request waiting, and stop() waited for them all.
//
// Here a connection holds a worker only while a request is being handled:
//  - one waiter thread poll()s every connection that is not in a worker: new ones and idle
//    keep-alive ones. For plain HTTP it also reads the request's headers (non-blocking, into the
//    connection's buffer) so that a client sending them slowly costs no thread. A connection
//    whose headers are not complete within header_timeout, or idle longer than
//    keep_alive_timeout, is closed.
//  - a fixed pool of `workers` threads handles complete requests, one at a time per pickup;
//    after the response a keep-alive connection goes back to the waiter.
//  - at most max_connections are open: a new one beyond that closes the one waiting longest.
//  - HTTPS: the handshake and the headers are read by a worker (they are encrypted), within
//    header_timeout; idle keep-alive connections still cost no thread.
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
// kMaxHeaderBytes buffered each.
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
  std::chrono::milliseconds read_timeout{30000};        // the whole request, once picked up
  std::chrono::milliseconds write_timeout{10000};       // each write
  std::chrono::milliseconds stop_grace{2000};           // requests in progress at stop()
  size_t max_streams = 64;  // streamed responses open at once (each has a thread)
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
  // The waiter reads what a plain connection has sent; true when it is ready for a worker.
  bool readHeaders(Connection& c);
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
  std::vector<Connection*> active_;                   // in a worker
  std::vector<Connection*> streaming_;                // in a stream's thread
  size_t streams_ = 0;  // reserved by streamResponse() until the stream's end
  bool stopping_ = false;
  std::atomic<size_t> open_{0};

  std::thread waiter_;
  std::vector<std::thread> workers_;
};

}  // namespace dts::server
