// BinlogStream: a BinlogSource that reads a server's binlog the way a replica does, over one
// Connector/C connection: COM_REGISTER_SLAVE, checksum and heartbeat negotiation, then
// COM_BINLOG_DUMP (file/offset, or a MariaDB GTID position through @slave_connect_state) or
// COM_BINLOG_DUMP_GTID (MySQL). Events are read packet by packet with the client library's
// low-level packet reader and handed out as views into its network buffer: no copy, no parse
// beyond the 19-byte header.
//
// Protocol references:
//   https://mariadb.com/kb/en/com_binlog_dump/
//   https://mariadb.com/kb/en/com_register_slave/
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html
//
// Positions: position() is the file/offset where the last returned event starts, 64-bit. The
// server's own log_pos header field is 32-bit; the stream keeps the high half itself (it counts
// event lengths) and takes the low half from log_pos, so files past 4 GiB report correctly as
// long as the stream saw them grow (a GTID start inside a file past 4 GiB cannot know the high
// half: the offset is then a hint only, which is all file/offset ever is across nodes).
//
// Thread-safety: one thread calls nextEvent()/position(); interrupt() may be called from any
// thread to make a blocked nextEvent() return kAborted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mysql/binlog_source.h"
#include "mysql/connection.h"
#include "mysql/event_header.h"
#include "mysql/gtid.h"
#include "mysql/stream_position.h"

namespace dts::mysql {

// ---- Pieces of the protocol, exposed for unit tests. ----

namespace binlog_protocol {

constexpr uint8_t kComBinlogDump = 0x12;
constexpr uint8_t kComRegisterSlave = 0x15;
constexpr uint8_t kComBinlogDumpGtid = 0x1e;
constexpr uint16_t kDumpNonBlock = 0x01;
constexpr uint16_t kDumpAnnotateRows = 0x02;  // MariaDB
constexpr uint16_t kDumpThroughGtid = 0x04;   // MySQL COM_BINLOG_DUMP_GTID

// The event header, FORMAT_DESCRIPTION and ROTATE are read by event_header.h (BinlogFormat), as
// the decoder and the file reader read them; positions by stream_position.h.

// An ERR packet (0xff, code, optional '#' + SQLSTATE, message); never fails: a malformed
// packet gives code 0 and says so.
struct ErrPacket {
  uint16_t code = 0;
  std::string message;
};
ErrPacket parseErrPacket(std::string_view packet);

// Command payloads (without the 4-byte packet header; the first byte is the command).
std::string comRegisterSlave(uint32_t server_id, std::string_view hostname, uint16_t port);
std::string comBinlogDump(uint32_t server_id, uint16_t flags, const BinlogPosition& from);

// encoded_gtid_set: GtidPosition::encodeMySqlDumpSet() (mysql/gtid.h).
std::string comBinlogDumpGtid(uint32_t server_id, uint16_t flags, const BinlogPosition& from,
                              std::string_view encoded_gtid_set);

}  // namespace binlog_protocol

struct BinlogStreamOptions {
  ConnectOptions connection;  // read_timeout is replaced by read_timeout below

  enum class Start : uint8_t {
    kCurrent,       // where the server's binlog ends now (SHOW MASTER STATUS)
    kFilePosition,  // from_position
    kGtid,          // after every transaction in from_gtid
  };
  Start start = Start::kCurrent;
  BinlogPosition from_position;  // kFilePosition; offset 0 means 4 (the first event)
  // kGtid: a GtidPosition (mysql/gtid.h) in text, read in the flavour of the server the stream
  // connects to: MariaDB "domain-server-seq,..." (the last transaction seen per domain), or MySQL
  // "uuid:1-100:200,uuid2:1-5" (every transaction already seen). Empty: from the beginning.
  std::string from_gtid;
  // The flavour from_gtid was written in, when the caller knows it: a position of the other
  // flavour than the server's is refused (kInvalidArgument naming both) before it is sent.
  std::optional<GtidFlavor> from_flavor;

  // Our replica server_id. Unset: a random id in [kMinRandomServerId, kMaxRandomServerId],
  // far above ids people give servers, re-drawn if it equals the source's own id.
  std::optional<uint32_t> server_id;

  // The server sends a heartbeat after this much idle time; the read times out (kUnavailable)
  // after read_timeout without any packet. REQUIRES: read_timeout > heartbeat_period.
  std::chrono::milliseconds heartbeat_period{5000};
  std::chrono::seconds read_timeout{30};

  // Return kNotFound ("end of stream") once the server has sent everything it has, instead of
  // waiting for new events (BINLOG_DUMP_NON_BLOCK).
  bool stop_at_end = false;
  // MariaDB: also send ANNOTATE_ROWS events (the SQL text of row events).
  bool annotate_rows = false;
};

class BinlogStream final : public BinlogSource {
 public:
  static constexpr uint32_t kMinRandomServerId = 0x40000000;
  static constexpr uint32_t kMaxRandomServerId = 0xFFFFFFF0;

  // Connects, negotiates and sends the dump command. Errors: kUnavailable when the server
  // cannot be reached, kFailedPrecondition for bad credentials or missing privileges,
  // kInvalidArgument for a malformed start position. Messages name the endpoint, never the
  // password.
  static Result<std::unique_ptr<BinlogStream>> open(const BinlogStreamOptions& options);
  ~BinlogStream() override;

  // The next event (header + body + checksum), a view into the network buffer valid until the
  // next call. Heartbeats are consumed here, never returned. kUnavailable (connection lost, read
  // timeout, server shutting down: retryable) and kFailedPrecondition (the server refused the
  // position, e.g. purged binlog) carry the endpoint and the last position in their message;
  // kNotFound at the end when stop_at_end is set; kAborted after interrupt(). Without
  // stop_at_end, a server that ends the dump (it is shutting down, or the dump thread was
  // killed) is kUnavailable: the stream is to be reopened, not finished.
  Result<std::string_view> nextEvent() override;
  BinlogPosition position() const override { return tracker_.position(); }
  // Where the next event will start: resume here after the last returned event.
  const BinlogPosition& nextPosition() const { return tracker_.next(); }

  uint32_t serverId() const { return server_id_; }
  // The server's id for our connection (what KILL and the processlist show).
  uint64_t connectionId() const { return connection_id_; }
  bool isMariaDB() const { return is_mariadb_; }
  // True when events carry a CRC32 checksum (negotiated; follows FORMAT_DESCRIPTION events).
  bool checksumEnabled() const { return tracker_.checksum(); }
  // The server's GTID position when the stream started (gtid_binlog_pos / gtid_executed).
  const std::string& startGtid() const { return start_gtid_; }
  // "127.0.0.1:3306 at binlog.000002:1234" for messages.
  std::string describe() const;

  // Makes a blocked or later nextEvent() return kAborted. Any thread.
  void interrupt();

  // True while the last packet the server sent was a heartbeat: it had nothing more to send
  // (it sends one only after heartbeat_period without events), so every event it had was
  // returned. False again as soon as an event is returned. Any thread.
  bool caughtUp() const { return caught_up_.load(std::memory_order_acquire); }

 private:
  BinlogStream() = default;
  Status negotiate(const BinlogStreamOptions& options);
  Status sendDump(const BinlogStreamOptions& options);
  Status readError(std::string_view what);
  Status serverError(uint16_t code, std::string_view message);

  std::unique_ptr<Connection> conn_;
  std::string endpoint_;
  uint32_t server_id_ = 0;
  uint64_t connection_id_ = 0;
  bool is_mariadb_ = false;
  bool checksum_ = false;
  bool ended_ = false;
  bool stop_at_end_ = false;
  std::string start_gtid_;
  binlog_protocol::PositionTracker tracker_{BinlogPosition{}, false};
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<int> socket_{-1};
};

}  // namespace dts::mysql
