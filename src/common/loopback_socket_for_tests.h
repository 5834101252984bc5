// A TCP connection to 127.0.0.1:PORT for tests that speak a protocol byte by byte (HTTP, the
// Kafka protocol) or hold connections open without speaking: connected when made, closed when
// destroyed.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace dts::testing {

class LoopbackSocket {
 public:
  explicit LoopbackSocket(int port);
  ~LoopbackSocket();
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  int localPort() const;
  // Sends every byte; false when the connection is gone.
  bool send(std::string_view bytes);
  // Waits up to timeout for bytes and returns what one read gave ("" when none came); sets *eof
  // when the peer closed the connection.
  std::string receiveSome(std::chrono::milliseconds timeout, bool* eof = nullptr);

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace dts::testing
