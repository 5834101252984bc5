#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/log.h"
#include "common/socket_address.h"
#include "common/strings.h"

namespace dts::server {

using Clock = std::chrono::steady_clock;

struct HttpServer::Connection {
  explicit Connection(int socket) : fd(socket) {}
  ~Connection() {
    if (ssl != nullptr) SSL_free(ssl);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
  int fd;
  SSL* ssl = nullptr;  // HTTPS: made at the first pickup, the handshake done by that worker
  std::string buf;     // read from the connection, not yet consumed by the parser
  size_t pos = 0;
  Clock::time_point deadline;       // the waiter closes it then
  Clock::time_point waiting_since;  // the longest waiting goes first when too many are open
  // Plain HTTP: what the waiter knows of the request at the start of buf, read up to its end.
  struct Request {
    Clock::time_point start;  // its first byte: the whole request is due read_timeout after
    size_t header_scan = 0;   // where to look on for the headers' end
    size_t body_start = 0;    // after the headers' blank line; 0 until that has been read
    enum class Body { kNone, kLength, kChunked } body = Body::kNone;
    uint64_t length = 0;         // kLength
    size_t chunk_scan = 0;       // kChunked: where the next chunk's size line starts
    uint64_t chunk_data = 0;     // kChunked: the data of the chunks before it
    bool too_large = false;      // over max_body: answered 413 unread
    bool continue_sent = false;  // "Expect: 100-continue" answered by the waiter
  } request;
};

namespace {

// A Content-Length value: digits only, and few enough for 64 bits ("-1" and "12abc" are not).
bool isByteCount(std::string_view text) {
  return !text.empty() && text.size() <= 19 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

int remainingMs(Clock::time_point deadline) {
  const auto now = Clock::now();
  if (deadline <= now) return 0;  // also time_point::min(), whose distance would overflow
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

// Waits for `events` on fd until deadline; false on timeout or error.
bool waitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, remainingMs(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

// The waiter reads a plain request as cpp-httplib 0.11 then parses it (a disagreement on a
// malformed request costs only that request: the worker reads no more than the waiter did, and
// the parser fails at the end of what is buffered).

// The first value of header `name` in a header block (the lines after the request line), as
// httplib reads it: only lines ending in CRLF, the value without the spaces and tabs around it;
// an empty value is no header.
std::optional<std::string_view> headerValue(std::string_view block, std::string_view name) {
  auto space = [](char ch) { return ch == ' ' || ch == '\t'; };
  for (size_t pos = 0, nl; (nl = block.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
    std::string_view line = block.substr(pos, nl - pos);
    if (line.empty() || line.back() != '\r') continue;
    line.remove_suffix(1);
    while (!line.empty() && space(line.back())) line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && space(value.front())) value.remove_prefix(1);
    if (!value.empty() && equalsIgnoreCase(line.substr(0, colon), name)) return value;
  }
  return std::nullopt;
}

// A chunk's size line (or the line after its data) longer than this is malformed.
constexpr size_t kMaxChunkLine = 4096;

// Whether buf holds the end of a chunked body, read on from r.chunk_scan (the start of a chunk's
// size line) as httplib's read_content_chunked reads it; also true when it cannot be read (the
// worker answers 400), or its chunks are over max_body (r.too_large). A partly buffered chunk is
// looked at again from its size line: the next read is at most that line's length away.
bool chunksBuffered(HttpServer::Connection::Request& r, const std::string& buf, uint64_t max_body) {
  // The end (after the \n) of the line starting at from; 0 when it is not all there.
  auto lineEnd = [&](size_t from) -> size_t {
    const size_t nl = buf.find('\n', from);
    return nl == std::string::npos ? 0 : nl + 1;
  };
  for (;;) {
    const size_t size_end = lineEnd(r.chunk_scan);
    if (size_end == 0) return buf.size() - r.chunk_scan > kMaxChunkLine;
    const std::string size_line = buf.substr(r.chunk_scan, size_end - r.chunk_scan);
    char* parsed = nullptr;
    const unsigned long size = std::strtoul(size_line.c_str(), &parsed, 16);
    if (parsed == size_line.c_str() || size == ULONG_MAX) return true;
    // The last chunk: httplib reads one more line, which must be empty (no trailers).
    if (size == 0) return lineEnd(size_end) != 0 || buf.size() - size_end > kMaxChunkLine;
    if (size > max_body - r.chunk_data) {
      r.too_large = true;
      return true;
    }
    const size_t data_end = size_end + size;
    if (buf.size() < data_end) return false;
    const size_t crlf_end = lineEnd(data_end);
    if (crlf_end == 0) return buf.size() - data_end > kMaxChunkLine;
    r.chunk_data += size;
    r.chunk_scan = crlf_end;
    // Anything but CRLF after a chunk's data ends the body there for httplib.
    if (buf.compare(data_end, crlf_end - data_end, "\r\n") != 0) return true;
  }
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// One request's view of a connection for httplib's parser and writer. Reads come from the
// connection's buffer first. Every read gives up at the request's deadline, and at the header
// deadline until the end of the headers has been read; every write after write_timeout.
// continue_sent: the waiter has answered "Expect: 100-continue"; httplib's own 100 Continue,
// the request's first write, is not sent again.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(HttpServer::Connection& c, Clock::time_point header_deadline,
                   Clock::time_point read_deadline, std::chrono::milliseconds write_timeout,
                   bool headers_buffered, bool continue_sent = false)
      : c_(c),
        header_deadline_(header_deadline),
        read_deadline_(read_deadline),
        write_timeout_(write_timeout),
        in_headers_(!headers_buffered),
        skip_continue_(continue_sent) {}

  bool is_readable() const override {
    return c_.pos < c_.buf.size() || (c_.ssl != nullptr && SSL_pending(c_.ssl) > 0) ||
           waitFor(c_.fd, POLLIN, deadline());
  }
  bool is_writable() const override {
    return waitFor(c_.fd, POLLOUT, Clock::now() + write_timeout_);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (c_.pos >= c_.buf.size()) {
      c_.buf.clear();
      c_.pos = 0;
      if (!fill()) return -1;
      if (c_.buf.empty()) return 0;  // EOF
    }
    size_t n = std::min(size, c_.buf.size() - c_.pos);
    std::memcpy(ptr, c_.buf.data() + c_.pos, n);
    c_.pos += n;
    if (in_headers_) {
      for (size_t i = 0; i < n; ++i) {
        // \r\n\r\n: the state counts the matched characters.
        const char want = (crlf_state_ % 2 == 0) ? '\r' : '\n';
        crlf_state_ = ptr[i] == want ? crlf_state_ + 1 : (ptr[i] == '\r' ? 1 : 0);
        if (crlf_state_ == 4) {
          in_headers_ = false;
          break;
        }
      }
    }
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (skip_continue_) {
      skip_continue_ = false;
      if (std::string_view(ptr, size) == kContinue) return static_cast<ssize_t>(size);
    }
    const Clock::time_point deadline = Clock::now() + write_timeout_;
    for (;;) {
      if (c_.ssl != nullptr) {
        ERR_clear_error();
        int n = SSL_write(c_.ssl, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (n > 0) return n;
        int err = SSL_get_error(c_.ssl, n);
        short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (ev == 0 || !waitFor(c_.fd, ev, deadline)) return -1;
      } else {
        ssize_t n = ::send(c_.fd, ptr, size, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !waitFor(c_.fd, POLLOUT, deadline))
          return -1;
      }
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getpeername(c_.fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip = socketHost(a, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(c_.fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip = socketHost(a, &port);
  }
  socket_t socket() const override { return c_.fd; }

 private:
  Clock::time_point deadline() const {
    return in_headers_ ? std::min(header_deadline_, read_deadline_) : read_deadline_;
  }

  // Reads what is there (waiting for it until the deadline) into the empty buffer; false on
  // error or timeout, true with an empty buffer at EOF.
  bool fill() {
    c_.buf.resize(16 * 1024);
    for (;;) {
      if (c_.ssl != nullptr) {
        ERR_clear_error();
        int n = SSL_read(c_.ssl, c_.buf.data(), static_cast<int>(c_.buf.size()));
        if (n > 0) {
          c_.buf.resize(static_cast<size_t>(n));
          return true;
        }
        int err = SSL_get_error(c_.ssl, n);
        if (err == SSL_ERROR_ZERO_RETURN) {
          c_.buf.clear();
          return true;
        }
        short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (ev == 0 || !waitFor(c_.fd, ev, deadline())) break;
      } else {
        ssize_t n = ::recv(c_.fd, c_.buf.data(), c_.buf.size(), 0);
        if (n >= 0) {
          c_.buf.resize(static_cast<size_t>(n));
          return true;
        }
        if (errno == EINTR) continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !waitFor(c_.fd, POLLIN, deadline())) break;
      }
    }
    c_.buf.clear();
    return false;
  }

  HttpServer::Connection& c_;
  Clock::time_point header_deadline_;
  Clock::time_point read_deadline_;
  std::chrono::milliseconds write_timeout_;
  bool in_headers_;
  bool skip_continue_;
  int crlf_state_ = 0;
};

// Set by a handler that left the request's body unread: the connection cannot carry another
// request, the worker closes it after the response.
thread_local bool close_after_response = false;

// Set by the worker for a request whose body the waiter found over max_body (a chunked one's
// chunks, or their framing): the handler answers 413 without reading it.
thread_local bool body_too_large = false;

// A streamed response of the request this worker handles: reserved by streamResponse(), handed
// over when httplib asks for its first chunk (the status line and headers are written then).
struct PendingStream {
  bool reserved = false;
  bool handed = false;
  bool keep_alive = false;
  HttpServer::StreamNext next;
};
thread_local PendingStream pending_stream;

// Whether the peer has closed its side (or reset): a stream waiting for news has no write to
// fail on.
bool peerClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0) return true;
  char b;
  return ::recv(fd, &b, 1, MSG_PEEK) == 0;
}

std::string errorBody(const std::string& code, const std::string& message) {
  nlohmann::json j = {{"error", {{"code", code}, {"message", message}}}};
  // A message that quotes a request's bytes that are not UTF-8: U+FFFD in their place.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void setError(httplib::Response& res, int status, const std::string& code,
              const std::string& message) {
  res.status = status;
  res.set_content(errorBody(code, message), "application/json");
}

// The JSON error code and message for an error status the library (or this file) answers.
std::pair<std::string, std::string> describeStatus(int status) {
  switch (status) {
    case 400: return {"invalid_argument", "malformed HTTP request"};
    case 404: return {"not_found", "no such endpoint"};
    case 405: return {"method_not_allowed", "method not allowed"};
    case 413: return {"payload_too_large", "request body too large"};
    case 414: return {"uri_too_long", "request URI too long"};
    case 415: return {"unsupported_media_type", "unsupported content type"};
    case 416: return {"invalid_argument", "invalid Range header"};
    case 503: return {"unavailable", "unavailable"};
    default:
      return {status >= 500 ? "internal" : "invalid_argument", "HTTP " + std::to_string(status)};
  }
}

// Runs httplib's per-connection job at once, in the accepting thread: it only hands the socket
// to the waiter. shutdown() is the end of the accept loop, after stop().
class InlineQueue : public httplib::TaskQueue {
 public:
  explicit InlineQueue(std::function<void()> on_shutdown) : on_shutdown_(std::move(on_shutdown)) {}
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override { on_shutdown_(); }

 private:
  std::function<void()> on_shutdown_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::create(const HttpServerLimits& limits,
                                                       const std::string& tls_cert,
                                                       const std::string& tls_key) {
  std::unique_ptr<HttpServer> s(new HttpServer(limits));
  if (!tls_cert.empty() || !tls_key.empty()) {
    s->tls_ = SSL_CTX_new(TLS_server_method());
    if (s->tls_ == nullptr) return Status::Internal("cannot make a TLS context");
    SSL_CTX_set_min_proto_version(s->tls_, TLS1_2_VERSION);
    SSL_CTX_set_options(s->tls_, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(s->tls_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(s->tls_, tls_cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(s->tls_, tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(s->tls_) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument("--tls-cert/--tls-key: cannot load " + tls_cert + " and " +
                                     tls_key);
    }
  }
  if (::pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0)
    return Status::Internal(std::string("cannot make a pipe: ") + std::strerror(errno));
  s->startThreads();
  return s;
}

HttpServer::HttpServer(const HttpServerLimits& limits) : limits_(limits) {
  // SO_REUSEADDR (a restart binds while old connections are in TIME_WAIT), never SO_REUSEPORT:
  // a second server on the same port must fail, not share it.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  auto secs = [](std::chrono::milliseconds ms) {
    return std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(ms).count());
  };
  set_keep_alive_timeout(secs(limits_.keep_alive_timeout));  // the Keep-Alive header's timeout
  set_keep_alive_max_count(1000);                            // the header's max; not enforced
  new_task_queue = [this] { return new InlineQueue([this] { shutdownConnections(); }); };
}

HttpServer::~HttpServer() {
  shutdownConnections();
  if (wake_[0] >= 0) ::close(wake_[0]);
  if (wake_[1] >= 0) ::close(wake_[1]);
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

void HttpServer::startThreads() {
  waiter_ = std::thread([this] { waiterLoop(); });
  for (size_t i = 0; i < std::max<size_t>(1, limits_.workers); ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  int flags = ::fcntl(sock, F_GETFL, 0);
  ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
  auto c = std::make_unique<Connection>(sock);
  open_.fetch_add(1);
  c->waiting_since = Clock::now();
  c->deadline = c->waiting_since + limits_.header_timeout;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      open_.fetch_sub(1);
      return true;  // ~Connection closes it
    }
    incoming_.push_back(std::move(c));
  }
  wakeWaiter();
  return true;
}

void HttpServer::wakeWaiter() {
  char b = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &b, 1);  // full: a wake-up is pending anyway
}

void HttpServer::closeConnection(std::unique_ptr<Connection> c) {
  c.reset();
  open_.fetch_sub(1);
}

void HttpServer::toWaiter(std::unique_ptr<Connection> c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      incoming_.push_back(std::move(c));
      c = nullptr;
    }
  }
  if (c) return closeConnection(std::move(c));
  wakeWaiter();
}

void HttpServer::toWorkers(std::unique_ptr<Connection> c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queued_bytes_ += c->buf.size();
      ready_.push_back(std::move(c));
      c = nullptr;
    }
  }
  if (c) return closeConnection(std::move(c));
  ready_cv_.notify_one();
}

void HttpServer::startRequest(Connection& c, Clock::time_point now) {
  c.request = {};
  c.request.start = now;
  c.deadline = now + std::min(limits_.header_timeout, limits_.read_timeout);
}

bool HttpServer::requestBuffered(Connection& c) {
  auto& r = c.request;
  const uint64_t max_body = max_body_.load();
  if (r.body_start == 0) {
    const size_t end = c.buf.find("\r\n\r\n", r.header_scan);
    if (end == std::string::npos) {
      r.header_scan = c.buf.size() >= 3 ? c.buf.size() - 3 : 0;
      return c.buf.size() >= kMaxHeaderBytes;  // too long: httplib answers it
    }
    r.body_start = end + 4;
    const std::string_view head(c.buf.data(), end + 2);
    const size_t line_end = head.find('\n');
    const std::string_view method = head.substr(0, std::min(head.find(' '), line_end));
    const std::string_view block = head.substr(line_end + 1);
    // httplib reads a body for these methods only (a GET's is left to be the next request).
    static const std::set<std::string_view> kWithBody = {"POST", "PUT", "PATCH", "PRI", "DELETE"};
    if (!kWithBody.contains(method)) return true;
    const auto encoding = headerValue(block, "Transfer-Encoding");
    const auto length = headerValue(block, "Content-Length");
    if (encoding && equalsIgnoreCase(*encoding, "chunked")) {
      r.body = Connection::Request::Body::kChunked;
      r.chunk_scan = r.body_start;
    } else if (length) {
      r.body = Connection::Request::Body::kLength;
      r.length = std::strtoull(std::string(*length).c_str(), nullptr, 10);
      // Not a number of bytes ("-1", "12abc"): nothing to wait for; the handler refuses it.
      r.too_large = !isByteCount(*length) || r.length > max_body;
    } else {
      return true;  // no body (or one httplib reads to the connection's end: it gets none)
    }
    if (r.too_large) return true;
    // The body is due with the rest of the request: a client sending it a byte at a time does
    // not move this.
    c.deadline = r.start + limits_.read_timeout;
    if (headerValue(block, "Expect") == "100-continue" && !requestBuffered(c)) {
      // The client waits for this before it sends the body (curl, for a second).
      const ssize_t n = ::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(kContinue.size())) {
        r.continue_sent = true;
      } else if (n > 0) {
        c.deadline = Clock::time_point::min();  // a part of it: close the connection
      }  // else nothing sent (a client that reads nothing): its body comes after its wait
    }
  }
  if (r.too_large) return true;
  if (r.body == Connection::Request::Body::kLength) return c.buf.size() - r.body_start >= r.length;
  if (r.body == Connection::Request::Body::kChunked) return chunksBuffered(r, c.buf, max_body);
  return true;
}

bool HttpServer::readRequest(Connection& c) {
  if (c.pos > 0) {
    c.buf.erase(0, c.pos);
    c.pos = 0;
    startRequest(c, Clock::now());
  }
  for (;;) {
    if (!c.buf.empty() && requestBuffered(c)) return true;
    const auto& r = c.request;
    // What the request still may take: its headers, then its body; a chunked body's framing
    // (tiny chunks) may take as much again as its data.
    size_t limit = kMaxHeaderBytes;
    if (r.body == Connection::Request::Body::kLength) {
      limit = r.body_start + r.length;
    } else if (r.body == Connection::Request::Body::kChunked) {
      limit = r.body_start + 2 * max_body_.load() + kMaxHeaderBytes;
      if (c.buf.size() >= limit) {
        c.request.too_large = true;
        return true;
      }
    }
    const size_t before = c.buf.size();
    const size_t want = std::min<size_t>(limit - before, 64 * 1024);
    c.buf.resize(before + want);
    const ssize_t n = ::recv(c.fd, c.buf.data() + before, want, 0);
    c.buf.resize(before + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n > 0) {
      if (before == 0) startRequest(c, Clock::now());
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    c.deadline = Clock::time_point::min();  // EOF or error: close it
    return false;
  }
}

void HttpServer::waiterLoop() {
  std::vector<std::unique_ptr<Connection>> waiting;
  std::vector<pollfd> fds;
  std::optional<Clock::time_point> last_warning, last_body_warning;  // none yet
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      for (auto& c : incoming_) waiting.push_back(std::move(c));
      incoming_.clear();
    }
    // Too many open: the one waiting longest makes room (a flood of idle or slow connections
    // pushes out its own, not the API's next client).
    while (open_.load() > limits_.max_connections && !waiting.empty()) {
      auto oldest = std::min_element(waiting.begin(), waiting.end(), [](auto& a, auto& b) {
        return a->waiting_since < b->waiting_since;
      });
      if (!last_warning || Clock::now() - *last_warning > std::chrono::minutes(1)) {
        spdlog::warn("http: more than {} connections open; closing the ones waiting longest",
                     limits_.max_connections);
        last_warning = Clock::now();
      }
      closeConnection(std::move(*oldest));
      waiting.erase(oldest);
    }
    // Bodies being received, and the requests waiting for a worker, take at most
    // max_body_buffer together: past it, the body being received whose request began longest ago
    // makes room (a flood of slow uploads pushes out its own).
    size_t body_bytes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      body_bytes = queued_bytes_;
    }
    for (auto& c : waiting)
      if (c->request.body_start > 0) body_bytes += c->buf.size();
    while (body_bytes > limits_.max_body_buffer &&
           std::any_of(waiting.begin(), waiting.end(),
                       [](auto& c) { return c->request.body_start > 0; })) {
      auto oldest = std::min_element(waiting.begin(), waiting.end(), [](auto& a, auto& b) {
        if ((a->request.body_start > 0) != (b->request.body_start > 0))
          return a->request.body_start > 0;
        return a->request.start < b->request.start;
      });
      if (!last_body_warning || Clock::now() - *last_body_warning > std::chrono::minutes(1)) {
        spdlog::warn(
            "http: request bodies being received over {} bytes; closing the ones begun "
            "longest ago",
            limits_.max_body_buffer);
        last_body_warning = Clock::now();
      }
      body_bytes -= (*oldest)->buf.size();
      closeConnection(std::move(*oldest));
      waiting.erase(oldest);
    }
    // Ready (a complete request already buffered) or expired.
    const auto now = Clock::now();
    for (auto& c : waiting) {
      if (c->deadline <= now) {
        closeConnection(std::move(c));
      } else if (tls_ == nullptr && !c->buf.empty() && requestBuffered(*c)) {
        toWorkers(std::move(c));
      }
    }
    std::erase(waiting, nullptr);

    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    auto next = now + std::chrono::hours(1);
    for (auto& c : waiting) {
      fds.push_back({c->fd, POLLIN, 0});
      next = std::min(next, c->deadline);
    }
    int n = ::poll(fds.data(), fds.size(), std::max(1, remainingMs(next)));
    if (n <= 0) continue;
    if (fds[0].revents != 0) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto& c = waiting[i - 1];
      // HTTPS: its bytes are encrypted; a worker does the handshake and reads the request.
      if (tls_ != nullptr || readRequest(*c)) {
        toWorkers(std::move(c));
      } else if (c->deadline == Clock::time_point::min()) {
        closeConnection(std::move(c));
      }
    }
    std::erase(waiting, nullptr);
  }
  for (auto& c : waiting) closeConnection(std::move(c));
}

void HttpServer::workerLoop() {
  for (;;) {
    std::unique_ptr<Connection> c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (stopping_) return;
      c = std::move(ready_.front());
      ready_.pop_front();
      queued_bytes_ -= c->buf.size();
      active_.push_back(c.get());
    }
    Connection* raw = c.get();
    handleOne(std::move(c));
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::erase(active_, raw);
    }
    ready_cv_.notify_all();  // shutdownConnections() waits for active_ to empty
  }
}

void HttpServer::handleOne(std::unique_ptr<Connection> c) {
  const auto picked = Clock::now();
  if (tls_ != nullptr && c->ssl == nullptr) {
    c->ssl = SSL_new(tls_);
    if (c->ssl == nullptr || SSL_set_fd(c->ssl, c->fd) != 1) return closeConnection(std::move(c));
    const auto deadline = picked + limits_.header_timeout;
    for (;;) {
      ERR_clear_error();
      int r = SSL_accept(c->ssl);
      if (r == 1) break;
      int err = SSL_get_error(c->ssl, r);
      short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
      if (ev == 0 || !waitFor(c->fd, ev, deadline)) return closeConnection(std::move(c));
    }
  }
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
  }
  // Plain HTTP: the waiter has read the whole request (or all of it that can be read: a header
  // block too long, a malformed or too large body); what is not buffered by now is not waited
  // for. HTTPS: the handshake, then the request, each within its deadline from this pickup.
  const bool plain = c->ssl == nullptr;
  ConnectionStream strm(*c, plain ? Clock::time_point::min() : picked + limits_.header_timeout,
                        plain ? Clock::time_point::min() : picked + limits_.read_timeout,
                        limits_.write_timeout,
                        /*headers_buffered=*/plain, plain && c->request.continue_sent);
  bool closed = false;
  close_after_response = false;
  body_too_large = plain && c->request.too_large;
  pending_stream = {};
  bool ok = process_request(strm, /*close_connection=*/stopping, closed, nullptr);
  if (pending_stream.handed) {
    PendingStream p = std::move(pending_stream);
    pending_stream = {};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        streaming_.push_back(c.get());
        Connection* raw = c.release();
        std::thread([this, raw, next = std::move(p.next), keep = p.keep_alive]() mutable {
          streamLoop(std::unique_ptr<Connection>(raw), std::move(next), keep);
        }).detach();
        return;
      }
      --streams_;
    }
    ready_cv_.notify_all();
    return closeConnection(std::move(c));
  }
  if (pending_stream.reserved) {
    // Never handed over (a HEAD request, or the headers could not be written).
    pending_stream = {};
    {
      std::lock_guard<std::mutex> lock(mu_);
      --streams_;
    }
    ready_cv_.notify_all();
  }
  if (!ok || closed || stopping || close_after_response) return closeConnection(std::move(c));
  c->waiting_since = Clock::now();
  c->deadline = c->waiting_since + limits_.keep_alive_timeout;
  if (c->pos < c->buf.size()) {
    c->buf.erase(0, c->pos);  // a pipelined next request, or its start
    c->pos = 0;
    if (c->ssl != nullptr) return toWorkers(std::move(c));
    startRequest(*c, c->waiting_since);
    if (requestBuffered(*c)) return toWorkers(std::move(c));
  } else {
    c->buf.clear();
    c->pos = 0;
    c->request = {};
    if (c->ssl != nullptr && SSL_pending(c->ssl) > 0) return toWorkers(std::move(c));
  }
  toWaiter(std::move(c));
}

void HttpServer::streamResponse(httplib::Response& res, const std::string& content_type,
                                StreamNext next) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || streams_ >= limits_.max_streams) {
      res.set_header("Retry-After", "1");
      return setError(res, 503, "unavailable",
                      stopping_ ? "the server is stopping"
                                : "too many open streams: at most " +
                                      std::to_string(limits_.max_streams) +
                                      " at once; retry later or close another");
    }
    ++streams_;
  }
  pending_stream.reserved = true;
  res.status = 200;
  // httplib calls this once it has written the status line and the headers ("Transfer-Encoding:
  // chunked"); returning false ends its part, and the worker hands the connection over.
  httplib::Response* response = &res;
  res.set_chunked_content_provider(
      content_type, [response, next = std::move(next)](size_t, httplib::DataSink&) mutable {
        pending_stream.handed = true;
        pending_stream.keep_alive = response->get_header_value("Connection") != "close";
        pending_stream.next = std::move(next);
        return false;
      });
}

void HttpServer::streamLoop(std::unique_ptr<Connection> c, StreamNext next, bool keep_alive) {
  ConnectionStream strm(*c, Clock::time_point::max(), Clock::time_point::max(),
                        limits_.write_timeout, /*headers_buffered=*/true);
  auto writeAll = [&](const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = strm.write(data.data() + off, data.size() - off);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  };
  bool ended = false;  // the last chunk written: the connection can carry another request
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    if (peerClosed(c->fd)) break;
    std::string chunk;
    bool more = next(&chunk);
    if (!chunk.empty()) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
      if (!writeAll(size + chunk + "\r\n")) break;
    }
    if (!more) {
      ended = writeAll("0\r\n\r\n");
      break;
    }
  }
  next = nullptr;  // what it holds (a change log reader) goes now
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase(streaming_, c.get());
    stopping = stopping_;
  }
  if (ended && keep_alive && !stopping) {
    c->buf.clear();
    c->pos = 0;
    c->request = {};
    c->waiting_since = Clock::now();
    c->deadline = c->waiting_since + limits_.keep_alive_timeout;
    toWaiter(std::move(c));
  } else {
    closeConnection(std::move(c));
  }
  // Last: shutdownConnections() (and so ~HttpServer) waits for streams_ to reach 0.
  std::lock_guard<std::mutex> lock(mu_);
  --streams_;
  ready_cv_.notify_all();
}

void HttpServer::route(Handler handler, size_t max_body) {
  auto without_body = [handler](const httplib::Request& req, httplib::Response& res) {
    handler(req, "", res);
  };
  auto with_body = [handler, max_body](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& read) {
    std::string body;
    const bool chunked =
        req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    if (!chunked && !req.has_header("Content-Length")) return handler(req, body, res);
    if (req.is_multipart_form_data()) {
      close_after_response = true;
      return setError(res, 415, "unsupported_media_type",
                      "multipart/form-data bodies are not accepted: send the JSON or YAML as "
                      "the body");
    }
    if (const std::string length = req.get_header_value("Content-Length");
        !chunked && !isByteCount(length)) {
      close_after_response = true;  // where this request's body ends is unknown
      return setError(res, 400, "invalid_argument",
                      "Content-Length: '" + length.substr(0, 40) + "' is not a number of bytes");
    }
    // Refused before reading: the library would read and drop the whole declared body first; a
    // chunked one the waiter found too large is only partly buffered.
    if (body_too_large ||
        (!chunked && req.get_header_value<uint64_t>("Content-Length") > max_body)) {
      close_after_response = true;
      return setError(res, 413, "payload_too_large",
                      "request body over " + std::to_string(max_body) + " bytes");
    }
    bool too_large = false;
    bool complete = read([&](const char* data, size_t n) {
      if (body.size() + n > max_body) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (!complete) {
      close_after_response = true;
      if (too_large || res.status == 413)
        return setError(res, 413, "payload_too_large",
                        "request body over " + std::to_string(max_body) + " bytes");
      return setError(res, 400, "invalid_argument", "the request body was cut short");
    }
    handler(req, body, res);
  };
  set_payload_max_length(max_body);
  max_body_ = max_body;
  Get(".*", without_body);
  Options(".*", without_body);
  Post(".*", with_body);
  Put(".*", with_body);
  Patch(".*", with_body);
  Delete(".*", with_body);
  set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr e) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          what = ex.what();
        } catch (...) {
        }
        spdlog::error("http: {} {}: unexpected error: {}", req.method, req.path, what);
        setError(res, 500, "internal", "unexpected error: " + what);
      });
  set_error_handler(HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_provider_) return HandlerResponse::Unhandled;
    static const std::set<std::string> kRouted = {"GET",   "HEAD",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
    // A well-formed request line whose method is not routed (the library answers 400).
    if (res.status == 400 && !req.target.empty() && req.version.rfind("HTTP/", 0) == 0 &&
        !kRouted.contains(req.method)) {
      res.status = 405;
      res.set_content(errorBody("method_not_allowed", "method " + req.method + " not allowed"),
                      "application/json");
      return HandlerResponse::Handled;
    }
    auto [code, message] = describeStatus(res.status);
    res.set_content(errorBody(code, message), "application/json");
    return HandlerResponse::Handled;
  }));
}

void HttpServer::shutdownConnections() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty() && !waiter_.joinable()) return;
    stopping_ = true;
  }
  wakeWaiter();
  ready_cv_.notify_all();
  if (waiter_.joinable()) waiter_.join();
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& c : incoming_) {
    c.reset();
    open_.fetch_sub(1);
  }
  incoming_.clear();
  for (auto& c : ready_) {
    c.reset();
    open_.fetch_sub(1);
  }
  ready_.clear();
  queued_bytes_ = 0;
  // Requests in progress may finish within the grace; then their sockets are shut down (their
  // reads and writes fail at once, their workers close them).
  if (!ready_cv_.wait_for(lock, limits_.stop_grace,
                          [&] { return active_.empty() && streams_ == 0; })) {
    for (Connection* c : active_) ::shutdown(c->fd, SHUT_RDWR);
    // A stream blocked writing to a client that does not read fails at once.
    for (Connection* c : streaming_) ::shutdown(c->fd, SHUT_RDWR);
  }
  // Stream threads are detached: each ends within a chunk's making (a long-poll step) now.
  ready_cv_.wait(lock, [&] { return streams_ == 0; });
  lock.unlock();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

}  // namespace dts::server
