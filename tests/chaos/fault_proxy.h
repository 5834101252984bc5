// FaultProxy: a TCP proxy on loopback that the chaos suite puts between dts and a server, and
// that a test drives to break the path: reset every connection, delay every packet, or leave
// connections half-open (established, but nothing passes either way, as in a network partition)
// until the partition heals. No Debian package does this from inside a test (toxiproxy is not
// packaged), so it is small and in-process: a thread accepts, a thread per connection copies.
// Thread-safe: the fault methods may be called from any thread while connections run.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dts::testing {

class FaultProxy {
 public:
  // Listens on 127.0.0.1 on a free port and forwards each connection to upstream (host:port).
  explicit FaultProxy(std::string upstream);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  // Where new connections go (existing ones keep their server).
  void setUpstream(const std::string& upstream);
  // Each chunk read from either side waits this long before it is passed on (0: none).
  void setDelay(std::chrono::milliseconds delay) { delay_ms_.store(delay.count()); }
  // Resets (RST) every open connection, both sides; returns how many there were.
  int resetAll();
  // A partition: open connections and those accepted from now on stay established but nothing
  // passes, so each side sees only silence (its read timeouts, if any, fire).
  void partition();
  // The partition heals: connections that were silenced are reset (the server has long forgotten
  // them, so the client's next packet meets a RST), new ones pass again. Returns how many.
  int heal();
  uint64_t accepted() const { return accepted_.load(); }

 private:
  struct Conn {
    int client = -1;
    int server = -1;
    std::atomic<bool> frozen{false};
    std::atomic<bool> kill{false};
    std::atomic<bool> finished{false};
    std::thread thread;
  };
  void acceptLoop();
  void pump(Conn* c);
  void reap();

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<bool> partitioned_{false};
  std::atomic<uint64_t> accepted_{0};
  std::mutex mu_;
  std::string upstream_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::thread acceptor_;
};

}  // namespace dts::testing
