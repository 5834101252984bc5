// Helper for bench/binlog_stream_bench.sh (a plain main, not a google-benchmark): reads a server's
// binlog from FILE:POS to its current end and prints "events bytes seconds", using either
//   rpl     Connector/C's own mariadb_rpl_open/mariadb_rpl_fetch (the library's replication
//           client: fetch, parse headers, count), or
//   stream  dts' BinlogStream (packet reads, position tracking, no decoding),
// so the benchmark can tell the transfer cost from the decode cost, or
//   rpl-append OUT   the rpl loop writing every event unchanged to the file OUT, in batches of
//           1 MiB each followed by its CRC-32, fdatasync at the end: the physical limit of a
//           change log that would store the binlog's own events (tracking_bench.sh, issue 15).
//
// Usage: binlog_stream_count_bench rpl|stream|rpl-append HOST PORT USER FILE POS [OUT]
//        (password in DTS_PASSWORD)
// clang-format off
#include <mysql.h>  // first: mariadb_rpl.h relies on it
#include <mariadb_rpl.h>
// clang-format on

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "common/crc32.h"
#include "mysql/binlog_stream.h"

namespace {

// Appends events to a file in CRC-checked batches (rpl-append).
class BatchFile {
 public:
  explicit BatchFile(const char* path) : fd_(::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) {
    batch_.reserve(kBatch + (1 << 20));
  }
  ~BatchFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  BatchFile(const BatchFile&) = delete;
  BatchFile& operator=(const BatchFile&) = delete;
  bool ok() const { return fd_ >= 0 && !failed_; }
  void add(const void* data, size_t n) {
    batch_.append(static_cast<const char*>(data), n);
    if (batch_.size() >= kBatch) flush();
  }
  bool finish() {
    flush();
    return ok() && ::fdatasync(fd_) == 0;
  }

 private:
  static constexpr size_t kBatch = 1 << 20;
  void flush() {
    if (batch_.empty() || !ok()) return;
    uint32_t crc = dts::crc32(batch_);
    batch_.append(reinterpret_cast<const char*>(&crc), sizeof crc);
    ssize_t w = ::pwrite(fd_, batch_.data(), batch_.size(), offset_);
    if (w != static_cast<ssize_t>(batch_.size())) failed_ = true;
    offset_ += static_cast<off_t>(batch_.size());
    batch_.clear();
  }
  int fd_;
  bool failed_ = false;
  off_t offset_ = 0;
  std::string batch_;
};

int runRpl(const char* host, unsigned port, const char* user, const char* password,
           const char* file, unsigned long pos, uint64_t* events, uint64_t* bytes, BatchFile* out) {
  MYSQL* m = mysql_init(nullptr);
  if (mysql_real_connect(m, host, user, password, nullptr, port, nullptr, 0) == nullptr) {
    std::fprintf(stderr, "connect: %s\n", mysql_error(m));
    return 1;
  }
  mysql_query(m, "SET @master_binlog_checksum = @@global.binlog_checksum");
  mysql_query(m, "SET @mariadb_slave_capability = 4");
  MARIADB_RPL* rpl = mariadb_rpl_init(m);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file));
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, pos);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, static_cast<unsigned>(0x7ff00001));
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
                       static_cast<unsigned>(MARIADB_RPL_BINLOG_DUMP_NON_BLOCK));
  if (mariadb_rpl_open(rpl) != 0) {
    std::fprintf(stderr, "rpl open: %s\n", mysql_error(m));
    return 1;
  }
  MARIADB_RPL_EVENT* ev = nullptr;
  while ((ev = mariadb_rpl_fetch(rpl, ev)) != nullptr) {
    ++*events;
    *bytes += ev->event_length;
    if (out != nullptr) out->add(ev->raw_data, ev->raw_data_size);
  }
  if (mysql_errno(m) != 0) std::fprintf(stderr, "rpl fetch ended: %s\n", mysql_error(m));
  if (out != nullptr && !out->finish()) {
    std::fprintf(stderr, "writing the events failed\n");
    return 1;
  }
  mariadb_rpl_close(rpl);
  mysql_close(m);
  return 0;
}

int runStream(const char* host, unsigned port, const char* user, const char* password,
              const char* file, unsigned long pos, uint64_t* events, uint64_t* bytes) {
  dts::mysql::BinlogStreamOptions o;
  o.connection.endpoint = dts::mysql::Endpoint{host, static_cast<uint16_t>(port)};
  o.connection.user = user;
  o.connection.password = password;
  o.start = dts::mysql::BinlogStreamOptions::Start::kFilePosition;
  o.from_position = dts::mysql::BinlogPosition{file, pos};
  o.stop_at_end = true;
  auto s = dts::mysql::BinlogStream::open(o);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().toString().c_str());
    return 1;
  }
  while (true) {
    auto e = (*s)->nextEvent();
    if (!e.ok()) {
      if (e.status().code() != dts::Status::Code::kNotFound) {
        std::fprintf(stderr, "%s\n", e.status().toString().c_str());
        return 1;
      }
      break;
    }
    ++*events;
    *bytes += e->size();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool append = argc == 8 && mode == "rpl-append";
  if (!append && !(argc == 7 && (mode == "rpl" || mode == "stream"))) {
    std::fprintf(stderr,
                 "usage: %s rpl|stream|rpl-append HOST PORT USER FILE POS [OUT] (password in "
                 "DTS_PASSWORD)\n",
                 argv[0]);
    return 2;
  }
  const char* password = std::getenv("DTS_PASSWORD");
  if (password == nullptr) password = "";
  unsigned port = static_cast<unsigned>(std::strtoul(argv[3], nullptr, 10));
  unsigned long pos = std::strtoul(argv[6], nullptr, 10);
  uint64_t events = 0, bytes = 0;
  std::optional<BatchFile> out;
  if (append) {
    out.emplace(argv[7]);
    if (!out->ok()) {
      std::fprintf(stderr, "cannot create %s\n", argv[7]);
      return 1;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  int rc = mode == "stream"
               ? runStream(argv[2], port, argv[4], password, argv[5], pos, &events, &bytes)
               : runRpl(argv[2], port, argv[4], password, argv[5], pos, &events, &bytes,
                        append ? &*out : nullptr);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc != 0) return rc;
  std::printf("%llu %llu %.6f\n", static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(bytes), secs);
  return 0;
}
