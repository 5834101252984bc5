#include "chaos/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dts::testing {
namespace {

// Closes with a RST instead of a FIN: the peer's next read or write fails at once.
void resetClose(int fd) {
  if (fd < 0) return;
  struct linger l {
    1, 0
  };
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

int connectTo(const std::string& hostport) {
  auto colon = hostport.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(hostport.c_str() + colon + 1)));
  if (inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

FaultProxy::FaultProxy(std::string upstream) : upstream_(std::move(upstream)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 128) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "fault proxy: cannot listen: %s\n", std::strerror(errno));
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stop_.store(true);
  acceptor_.join();
  close(listen_fd_);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : conns_) {
    c->kill.store(true);
    c->thread.join();
  }
}

void FaultProxy::setUpstream(const std::string& upstream) {
  std::lock_guard<std::mutex> lock(mu_);
  upstream_ = upstream;
}

int FaultProxy::resetAll() {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& c : conns_) {
    if (!c->finished.load()) {
      c->kill.store(true);
      ++n;
    }
  }
  return n;
}

void FaultProxy::partition() {
  std::lock_guard<std::mutex> lock(mu_);
  partitioned_.store(true);
  for (auto& c : conns_) c->frozen.store(true);
}

int FaultProxy::heal() {
  std::lock_guard<std::mutex> lock(mu_);
  partitioned_.store(false);
  int n = 0;
  for (auto& c : conns_) {
    if (c->frozen.load() && !c->finished.load()) {
      c->kill.store(true);
      ++n;
    }
  }
  return n;
}

void FaultProxy::reap() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->finished.load()) {
      (*it)->thread.join();
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultProxy::acceptLoop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    accepted_.fetch_add(1);
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    reap();
    auto c = std::make_unique<Conn>();
    c->client = client;
    if (partitioned_.load()) {
      // Behind a partition the server is never reached: the client waits on a silent socket.
      c->frozen.store(true);
    } else {
      c->server = connectTo(upstream_);
      if (c->server < 0) {
        resetClose(client);  // as a refused connection would
        continue;
      }
    }
    Conn* raw = c.get();
    c->thread = std::thread([this, raw] { pump(raw); });
    conns_.push_back(std::move(c));
  }
}

void FaultProxy::pump(Conn* c) {
  std::vector<char> buf(64 * 1024);
  while (!c->kill.load() && !stop_.load()) {
    if (c->frozen.load()) {
      usleep(20 * 1000);
      continue;
    }
    pollfd p[2] = {{c->client, POLLIN, 0}, {c->server, POLLIN, 0}};
    int r = poll(p, 2, 50);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (p[i].revents == 0) continue;
      ssize_t n = recv(p[i].fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      for (int64_t left = delay_ms_.load(); left > 0 && !c->kill.load(); left -= 10) {
        usleep(static_cast<useconds_t>(std::min<int64_t>(left, 10)) * 1000);
      }
      if (c->frozen.load() || c->kill.load()) break;  // the bytes are lost in the partition
      if (!writeAll(p[1 - i].fd, buf.data(), static_cast<size_t>(n))) closed = true;
    }
    if (closed) {
      // One side ended: the other gets a FIN, as through a real network.
      close(c->client);
      close(c->server);
      c->client = c->server = -1;
      break;
    }
  }
  resetClose(c->client);
  resetClose(c->server);
  c->finished.store(true);
}

}  // namespace dts::testing
