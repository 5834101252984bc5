// HttpServer over real sockets: idle and slow clients hold no worker, are cut at their
// deadlines and do not delay stop(); too many connections push out the longest waiting.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "common/loopback_socket_for_tests.h"
namespace dts::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A raw TCP client of 127.0.0.1:port.
// A raw HTTP client: reads until EOF, a complete "ok" response, or a JSON body's end.
class RawClient : public testing::LoopbackSocket {
 public:
  using LoopbackSocket::LoopbackSocket;
  // What arrives within timeout; stops at EOF (sets *eof) or after a complete response.
  std::string receive(std::chrono::milliseconds timeout, bool* eof = nullptr) {
    std::string got;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      bool closed = false;
      std::string some = receiveSome(std::max(left, std::chrono::milliseconds(1)), &closed);
      if (closed) {
        if (eof != nullptr) *eof = true;
        break;
      }
      if (some.empty()) break;
      got += some;
      if (got.find("\r\n\r\nok") != std::string::npos) break;
      if (got.size() >= 2 && got.compare(got.size() - 2, 2, "}\n") == 0) break;  // a JSON body
    }
    return got;
  }
  // What arrives until it holds `what`, EOF or timeout.
  std::string receiveUntil(const std::string& what, std::chrono::milliseconds timeout) {
    std::string got;
    auto deadline = Clock::now() + timeout;
    bool eof = false;
    while (got.find(what) == std::string::npos && !eof && Clock::now() < deadline)
      got += receiveSome(100ms, &eof);
    return got;
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerLimits limits, const std::string& tls_cert = "",
             const std::string& tls_key = "") {
    auto s = HttpServer::create(limits, tls_cert, tls_key);
    ASSERT_TRUE(s.ok()) << s.status().toString();
    server_ = std::move(*s);
    server_->route(
        [this](const httplib::Request& req, const std::string& body, httplib::Response& res) {
          if (req.path == "/throw") throw std::runtime_error("boom");
          if (req.path == "/stream" || req.path == "/three") {
            // /stream: a line every 20 ms until the server stops; /three: three lines.
            auto left = std::make_shared<int>(req.path == "/three" ? 3 : -1);
            server_->streamResponse(res, "application/x-ndjson", [left](std::string* chunk) {
              if (*left < 0) std::this_thread::sleep_for(20ms);
              chunk->append("{\"n\": 1}\n");
              return *left < 0 || --*left > 0;
            });
            return;
          }
          res.set_content(body.empty() ? "ok" : "got " + std::to_string(body.size()), "text/plain");
        },
        32 * 1024);
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    listener_ = std::thread([this] { server_->listen_after_bind(); });
  }
  void TearDown() override {
    if (listener_.joinable()) {
      server_->stop();
      listener_.join();
    }
  }
  // A fresh client's GET (the client gives up after its 5 s read timeout): answered "ok"?
  bool get() {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/x");
    EXPECT_TRUE(r) << httplib::to_string(r.error());
    return r && r->body == "ok";
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread listener_;
};

TEST_F(HttpServerTest, SlowAndIdleClientsDoNotStarveTheWorkers) {
  HttpServerLimits limits;
  limits.workers = 2;
  start(limits);
  std::vector<std::unique_ptr<RawClient>> clients;
  // Browsers' keep-alive connections, idle after one request each.
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    clients.back()->send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_NE(clients.back()->receive(2s).find("200 OK"), std::string::npos);
  }
  // Clients sending their headers slowly.
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    clients.back()->send("GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: ");
  }
  // They keep trickling while others ask: with a worker per connection, none would ever be free.
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done.load()) {
      for (size_t i = 8; i < clients.size(); ++i) clients[i]->send("a");
      std::this_thread::sleep_for(100ms);
    }
  });
  for (int round = 0; round < 3; ++round) EXPECT_TRUE(get()) << "round " << round;
  done = true;
  trickle.join();
  for (int i = 0; i < 500 && server_->openConnections() > 24; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->openConnections(), 24u);
  // A slow client that finishes its headers is answered.
  clients[8]->send("\r\n\r\n");
  EXPECT_NE(clients[8]->receive(2s).find("200 OK"), std::string::npos);
  // So is an idle one's next request.
  clients[0]->send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(clients[0]->receive(2s).find("200 OK"), std::string::npos);
}

// A body is read by the waiter too: clients that send their headers and then a body slowly, or
// never its end, hold no worker however many they are (each held one until read_timeout).
TEST_F(HttpServerTest, SlowBodiesHoldNoWorker) {
  HttpServerLimits limits;
  limits.workers = 2;
  limits.read_timeout = 60s;
  start(limits);
  const std::string length_head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n";
  const std::string chunked_head =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n";
  std::vector<std::unique_ptr<RawClient>> length, chunked;
  for (int i = 0; i < 4; ++i) {
    length.push_back(std::make_unique<RawClient>(port_));
    length.back()->send(length_head + "{");
    chunked.push_back(std::make_unique<RawClient>(port_));
    chunked.back()->send(chunked_head + "{");
  }
  // Expect: 100-continue: the waiter asks for the body (once), and waits for it like any other.
  RawClient expecting(port_);
  expecting.send(
      "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
  std::string got = expecting.receiveUntil("\r\n\r\n", 5s);
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  for (int round = 0; round < 3; ++round) EXPECT_TRUE(get()) << "round " << round;
  // The slow ones stay open; the last get()'s own connection may still be closing.
  for (int i = 0; i < 500 && server_->openConnections() > 9; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->openConnections(), 9u);

  // Their bodies completed, they are answered.
  length[0]->send(std::string(999, 'a'));
  got = length[0]->receiveUntil("got 1000", 5s);
  EXPECT_NE(got.find("\r\n\r\ngot 1000"), std::string::npos) << got;
  chunked[0]->send(std::string(999, 'a') + "\r\n0\r\n\r\n");
  got = chunked[0]->receiveUntil("got 1000", 5s);
  EXPECT_NE(got.find("\r\n\r\ngot 1000"), std::string::npos) << got;
  expecting.send(std::string(1000, 'a'));
  got = expecting.receiveUntil("got 1000", 5s);
  EXPECT_EQ(got.find("100 Continue"), std::string::npos) << "a second 100 Continue: " << got;
  EXPECT_NE(got.find("\r\n\r\ngot 1000"), std::string::npos) << got;
  // A body in pieces with a pipelined request after it, on a kept-alive connection.
  chunked[1]->send(std::string(999, 'a') + "\r\n");
  std::this_thread::sleep_for(50ms);
  chunked[1]->send("0\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  got = chunked[1]->receiveUntil("\r\n\r\nok", 5s);
  EXPECT_NE(got.find("\r\n\r\ngot 1000"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\n\r\nok"), std::string::npos) << got;
  // HTTP/1.0: answered, then closed.
  RawClient old(port_);
  old.send("POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nab");
  std::this_thread::sleep_for(50ms);
  old.send("c");
  got = old.receiveUntil("\r\n\r\ngot 3", 5s);
  EXPECT_NE(got.find("\r\n\r\ngot 3"), std::string::npos) << got;
  bool eof = false;
  for (int i = 0; i < 50 && !eof; ++i) old.receive(100ms, &eof);
  EXPECT_TRUE(eof);
}

// Bodies being received take at most max_body_buffer together: past it, the one begun longest
// ago is closed, the others are read on.
TEST_F(HttpServerTest, BodiesBeingReceivedAreBoundedTogether) {
  HttpServerLimits limits;
  limits.max_body_buffer = 55000;
  start(limits);
  const std::string head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 30000\r\n\r\n";
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    clients.back()->send(head + std::string(20000, 'a'));
    std::this_thread::sleep_for(100ms);  // the waiter has read it
  }
  bool eof = false;
  for (int i = 0; i < 50 && !eof; ++i) clients[0]->receive(100ms, &eof);
  EXPECT_TRUE(eof) << "the body begun first made room";
  for (int i = 1; i < 3; ++i) {
    clients[i]->send(std::string(10000, 'a'));
    std::string got = clients[i]->receiveUntil("got 30000", 5s);
    EXPECT_NE(got.find("\r\n\r\ngot 30000"), std::string::npos) << i << ": " << got;
  }
}

// The request's deadline (read_timeout from its first byte) is a total: a client sending its body
// a byte at a time, each well within the deadline of the previous one, is cut at it.
TEST_F(HttpServerTest, TricklingBodiesAreCutAtTheRequestDeadline) {
  HttpServerLimits limits;
  limits.workers = 1;
  limits.header_timeout = 300ms;
  limits.read_timeout = 800ms;
  start(limits);
  RawClient length(port_), chunked(port_);
  length.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
  chunked.send("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n");
  bool length_eof = false, chunked_eof = false;
  for (int i = 0; i < 100 && !(length_eof && chunked_eof); ++i) {
    if (!length_eof) length.send("a");
    if (!chunked_eof) chunked.send("a");
    if (!length_eof) length.receive(50ms, &length_eof);
    if (!chunked_eof) chunked.receive(50ms, &chunked_eof);
  }
  EXPECT_TRUE(length_eof) << "a body trickling in is cut at read_timeout";
  EXPECT_TRUE(chunked_eof) << "a chunked body trickling in is cut at read_timeout";
  EXPECT_TRUE(get());
  for (int i = 0; i < 500 && server_->openConnections() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->openConnections(), 0u);
}

// HTTPS bodies are read by a worker (they are encrypted), within the same total deadline.
TEST_F(HttpServerTest, HttpsTricklingBodyIsCutAtTheRequestDeadline) {
  auto dir = std::filesystem::temp_directory_path() /
             ("dts_http_server_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                    " -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl (the command) is needed for this test";
  HttpServerLimits limits;
  limits.header_timeout = 2s;  // the handshake's too (a slow machine's RSA)
  limits.read_timeout = 3s;
  start(limits, cert, key);
  std::filesystem::remove_all(dir);

  RawClient raw(port_);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, raw.fd());
  ASSERT_EQ(SSL_connect(ssl), 1);
  std::string head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n";
  ASSERT_GT(SSL_write(ssl, head.data(), static_cast<int>(head.size())), 0);
  // A byte every 200 ms (every read waits far less than read_timeout) until the server closes.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    if (SSL_write(ssl, "a", 1) <= 0) closed = true;
    pollfd p{raw.fd(), POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      char buf[4096];
      closed = SSL_read(ssl, buf, sizeof buf) <= 0 || closed;
    }
  }
  EXPECT_TRUE(closed) << "an HTTPS body trickling in is cut at read_timeout";
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

TEST_F(HttpServerTest, SlowHeadersAndIdleConnectionsAreClosedAtTheirDeadlines) {
  HttpServerLimits limits;
  limits.header_timeout = 300ms;
  limits.keep_alive_timeout = 600ms;
  start(limits);
  RawClient slow(port_), silent(port_), idle(port_);
  idle.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(idle.receive(2s).find("200 OK"), std::string::npos);
  bool slow_eof = false, silent_eof = false, idle_eof = false;
  slow.send("GET /x HTTP/1.1\r\nX-Slow: ");
  for (int i = 0; i < 100 && !slow_eof; ++i) {
    slow.send("a");
    slow.receive(100ms, &slow_eof);
  }
  EXPECT_TRUE(slow_eof) << "headers trickling in are cut at header_timeout";
  silent.receive(10s, &silent_eof);
  EXPECT_TRUE(silent_eof);
  idle.receive(10s, &idle_eof);
  EXPECT_TRUE(idle_eof);
  for (int i = 0; i < 500 && server_->openConnections() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->openConnections(), 0u);
}

TEST_F(HttpServerTest, StopDoesNotWaitForIdleOrSlowClients) {
  start(HttpServerLimits{});
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    clients.back()->send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    clients.back()->receive(2s);
    clients.push_back(std::make_unique<RawClient>(port_));
    clients.back()->send("GET /x HTTP/1.1\r\nX-Slow: ");
  }
  // The slow ones keep trickling: a stop that waited for them would never end.
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done.load()) {
      for (size_t i = 1; i < clients.size(); i += 2) clients[i]->send("a");
      std::this_thread::sleep_for(100ms);
    }
  });
  auto stopped = std::async(std::launch::async, [&] {
    server_->stop();
    listener_.join();
  });
  EXPECT_EQ(stopped.wait_for(60s), std::future_status::ready) << "stop waits for the clients";
  done = true;
  trickle.join();
  stopped.wait();
  for (auto& c : clients) {
    bool eof = false;
    c->receive(1s, &eof);
    EXPECT_TRUE(eof);
  }
}

// Streamed responses run on threads of their own: they leave the workers free, are capped at
// max_streams (503 beyond), end with the last chunk (the connection then serves the next
// request), and end at stop() however many are open.
TEST_F(HttpServerTest, StreamsHoldNoWorkerAreCappedAndEndAtStop) {
  HttpServerLimits limits;
  limits.workers = 2;
  limits.max_streams = 4;
  start(limits);
  std::vector<std::unique_ptr<RawClient>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(std::make_unique<RawClient>(port_));
    streams.back()->send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    std::string got = streams.back()->receiveSome(10s);
    EXPECT_NE(got.find("200 OK"), std::string::npos) << got;
  }
  for (int round = 0; round < 3; ++round) EXPECT_TRUE(get()) << "round " << round;
  EXPECT_EQ(server_->openStreams(), 4u);
  // One more: refused before anything is streamed, with a reason.
  RawClient extra(port_);
  extra.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string refused = extra.receive(10s);
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("too many open streams: at most 4 at once"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  // The lines keep coming, chunk-framed.
  std::string more = streams[0]->receiveSome(10s);
  EXPECT_NE(more.find("{\"n\": 1}\n"), std::string::npos) << more;

  // A client that goes away frees its stream.
  streams.pop_back();
  for (int i = 0; i < 600 && server_->openStreams() != 3u; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server_->openStreams(), 3u);

  // A finite stream ends with the last chunk; the connection carries the next request.
  RawClient finite(port_);
  finite.send("GET /three HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string got;
  for (int i = 0; i < 100 && got.find("0\r\n\r\n") == std::string::npos; ++i)
    got += finite.receiveSome(100ms);
  EXPECT_NE(got.find("9\r\n{\"n\": 1}\n\r\n0\r\n\r\n"), std::string::npos) << got;
  finite.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(finite.receive(10s).find("\r\n\r\nok"), std::string::npos);

  auto stopped = std::async(std::launch::async, [&] {
    server_->stop();
    listener_.join();
  });
  EXPECT_EQ(stopped.wait_for(60s), std::future_status::ready) << "stop waits for the streams";
  stopped.wait();
  EXPECT_EQ(server_->openStreams(), 0u);
  for (auto& c : streams) {
    bool eof = false;
    for (int i = 0; i < 100 && !eof; ++i) c->receive(100ms, &eof);
    EXPECT_TRUE(eof);
  }
}

TEST_F(HttpServerTest, TooManyConnectionsCloseTheLongestWaiting) {
  HttpServerLimits limits;
  limits.max_connections = 4;
  start(limits);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(get());  // the fifth gets in
  bool eof = false;
  idle[0]->receive(1s, &eof);
  EXPECT_TRUE(eof) << "the longest waiting made room";
  EXPECT_LE(server_->openConnections(), 4u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAllAnswered) {
  start(HttpServerLimits{});
  RawClient c(port_);
  c.send(
      "GET /x HTTP/1.1\r\nHost: a\r\n\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3"
      "\r\n\r\nabcGET /y HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string got;
  for (int i = 0; i < 20 && got.find("ok", got.find("ok") + 2) == std::string::npos; ++i)
    got += c.receive(200ms);
  EXPECT_NE(got.find("got 3"), std::string::npos) << got;
  EXPECT_NE(got.find("ok", got.find("got 3")), std::string::npos) << got;
}

// `curl -X POST URL` (no body, no Content-Length) is a request without a body, answered at once.
TEST_F(HttpServerTest, APostWithoutContentLengthHasNoBody) {
  start(HttpServerLimits{});
  RawClient c(port_);
  // The connection stays open: a server waiting for the body until it closes never answers.
  c.send("POST /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
  std::string got = c.receive(10s);
  EXPECT_NE(got.find("200 OK"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\n\r\nok"), std::string::npos) << got;
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    c.send(std::string(method) + " /x HTTP/1.1\r\nHost: a\r\n\r\n");
    got = c.receive(3s);
    EXPECT_NE(got.find("\r\n\r\nok"), std::string::npos) << method << ": " << got;
  }
}

// curl --data-binary @file sends application/x-www-form-urlencoded: the body is still the body,
// whatever its size up to the limit; over it, a JSON 413.
TEST_F(HttpServerTest, BodiesAreReadWhateverTheirContentType) {
  start(HttpServerLimits{});
  httplib::Client c("127.0.0.1", port_);
  for (const char* type :
       {"application/x-www-form-urlencoded", "application/yaml", "text/plain", ""}) {
    auto r = c.Post("/x", std::string(20000, 'a'), type);
    ASSERT_TRUE(r) << type;
    EXPECT_EQ(r->status, 200) << type;
    EXPECT_EQ(r->body, "got 20000") << type;
  }
  auto r = c.Post("/x", std::string(40000, 'a'), "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"payload_too_large\""), std::string::npos) << r->body;
  // Chunked, over the limit: the same answer.
  RawClient raw(port_);
  std::string chunk(20000, 'b');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  raw.send("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size) +
           "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n0\r\n\r\n");
  std::string got = raw.receive(3s);
  EXPECT_NE(got.find("413"), std::string::npos) << got.substr(0, 200);
  EXPECT_NE(got.find("payload_too_large"), std::string::npos) << got.substr(0, 400);
  // A length that is no number of bytes is a bad request, not a body too large (a tester's
  // Content-Length: -1 got 413).
  for (const char* length : {"-1", "12abc", "1e3", "99999999999999999999999"}) {
    RawClient bad(port_);
    bad.send(std::string("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: ") + length +
             "\r\n\r\n{}");
    std::string answer = bad.receive(3s);
    EXPECT_NE(answer.find(" 400 "), std::string::npos) << length << ": " << answer.substr(0, 200);
    EXPECT_NE(answer.find("is not a number of bytes"), std::string::npos)
        << length << ": " << answer.substr(0, 400);
  }
}

// Whatever goes wrong, the answer is a JSON error, never an empty body.
TEST_F(HttpServerTest, EveryErrorHasAJsonBody) {
  start(HttpServerLimits{});
  struct Case {
    std::string request;
    std::string status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"NONSENSE\r\n\r\n", "400", "invalid_argument"},
      {"BREW /x HTTP/1.1\r\nHost: a\r\n\r\n", "405", "method_not_allowed"},
      {"GET /" + std::string(10000, 'x') + " HTTP/1.1\r\nHost: a\r\n\r\n", "414", "uri_too_long"},
      {"GET /throw HTTP/1.1\r\nHost: a\r\n\r\n", "500", "internal"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", "413",
       "payload_too_large"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=b\r\n"
       "Content-Length: 4\r\n\r\nabcd",
       "415", "unsupported_media_type"},
      {"GET /x HTTP/1.1\r\nHost: a\r\nRange: bytes=junk\r\n\r\n", "416", "invalid_argument"},
  };
  for (const auto& k : cases) {
    RawClient c(port_);
    c.send(k.request);
    bool eof = false;
    std::string got = c.receive(3s, &eof);
    for (int i = 0; i < 10 && !eof && got.find("}\n") == std::string::npos; ++i)
      got += c.receive(300ms, &eof);
    EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 " + k.status) << got.substr(0, 300);
    EXPECT_NE(got.find("Content-Type: application/json"), std::string::npos) << got.substr(0, 300);
    EXPECT_NE(got.find("\"code\": \"" + k.code + "\""), std::string::npos) << got.substr(0, 300);
  }
}

}  // namespace
}  // namespace dts::server
