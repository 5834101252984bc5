#include "mysql/binlog_stream.h"

#include <mysql.h>
#include <sys/socket.h>

#include <charconv>
#include <random>

#include "common/byte_reader.h"
#include "common/strings.h"
#include "mysql/gtid.h"

namespace dts::mysql {

namespace binlog_protocol {

ErrPacket parseErrPacket(std::string_view packet) {
  ErrPacket out;
  ByteReader r(packet);
  uint8_t marker = 0;
  if (!r.getU8(&marker) || marker != 0xff || !r.getU16(&out.code)) {
    out.message = "malformed error packet";
    return out;
  }
  std::string_view rest = r.rest();
  if (!rest.empty() && rest[0] == '#' && rest.size() >= 6) rest.remove_prefix(6);  // '#' + SQLSTATE
  out.message = std::string(rest);
  return out;
}

std::string comRegisterSlave(uint32_t server_id, std::string_view hostname, uint16_t port) {
  std::string out;
  out.push_back(static_cast<char>(kComRegisterSlave));
  putUint(&out, server_id, 4);
  std::string_view host = hostname.substr(0, 255);
  out.push_back(static_cast<char>(host.size()));
  out.append(host);
  out.push_back(0);  // user: not sent
  out.push_back(0);  // password: never sent
  putUint(&out, port, 2);
  putUint(&out, 0, 4);  // replication rank (unused)
  putUint(&out, 0, 4);  // master id (filled in by the server)
  return out;
}

std::string comBinlogDump(uint32_t server_id, uint16_t flags, const BinlogPosition& from) {
  std::string out;
  out.push_back(static_cast<char>(kComBinlogDump));
  putUint(&out, from.offset, 4);
  putUint(&out, flags, 2);
  putUint(&out, server_id, 4);
  out.append(from.file);
  return out;
}

std::string comBinlogDumpGtid(uint32_t server_id, uint16_t flags, const BinlogPosition& from,
                              std::string_view encoded_gtid_set) {
  std::string out;
  out.push_back(static_cast<char>(kComBinlogDumpGtid));
  putUint(&out, flags | kDumpThroughGtid, 2);
  putUint(&out, server_id, 4);
  putUint(&out, from.file.size(), 4);
  out.append(from.file);
  putUint(&out, from.offset, 8);
  putUint(&out, encoded_gtid_set.size(), 4);
  out.append(encoded_gtid_set);
  return out;
}

}  // namespace binlog_protocol

namespace bp = binlog_protocol;

namespace {

uint32_t randomServerId() {
  std::random_device rd;
  std::uniform_int_distribution<uint32_t> dist(BinlogStream::kMinRandomServerId,
                                               BinlogStream::kMaxRandomServerId);
  return dist(rd);
}

std::string positionText(const BinlogPosition& p) {
  if (p.file.empty()) return "(start)";
  return p.file + ":" + std::to_string(p.offset);
}

}  // namespace

BinlogStream::~BinlogStream() = default;

std::string BinlogStream::describe() const {
  return endpoint_ + " at " + positionText(tracker_.next());
}

void BinlogStream::interrupt() {
  interrupted_.store(true);
  int fd = socket_.load();
  // Wakes a blocked read; the connection is useless afterwards, which is what interrupt means.
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

Result<std::unique_ptr<BinlogStream>> BinlogStream::open(const BinlogStreamOptions& options) {
  if (options.read_timeout <= options.heartbeat_period) {
    return Status::InvalidArgument("binlog stream read timeout (" +
                                   std::to_string(options.read_timeout.count()) +
                                   " ms) must be longer than the heartbeat period (" +
                                   std::to_string(options.heartbeat_period.count()) + " ms)");
  }
  std::unique_ptr<BinlogStream> s(new BinlogStream());
  s->endpoint_ = options.connection.endpoint.toString();
  ConnectOptions co = options.connection;
  co.read_timeout = options.read_timeout;
  DTS_ASSIGN_OR_RETURN(s->conn_, Connection::connect(co));
  s->is_mariadb_ = s->conn_->isMariaDB();
  s->socket_.store(static_cast<int>(mysql_get_socket(s->conn_->handle())));
  s->connection_id_ = mysql_thread_id(s->conn_->handle());
  DTS_RETURN_IF_ERROR(s->negotiate(options));
  DTS_RETURN_IF_ERROR(s->sendDump(options));
  return s;
}

Status BinlogStream::negotiate(const BinlogStreamOptions& options) {
  Connection& c = *conn_;
  auto ctx = [&](const Status& st) {
    return st.withContext("starting binlog stream from " + endpoint_);
  };

  auto source_id = c.queryValue("SELECT @@server_id");
  if (!source_id.ok()) return ctx(source_id.status());
  uint32_t own = 0;
  if (source_id->has_value()) {
    std::from_chars((*source_id)->data(), (*source_id)->data() + (*source_id)->size(), own);
  }
  if (options.server_id.has_value()) {
    if (*options.server_id == 0) return Status::InvalidArgument("server id 0 cannot replicate");
    if (*options.server_id == own) {
      return Status::InvalidArgument("server id " + std::to_string(own) +
                                     " is the source's own server_id (" + endpoint_ +
                                     "); pick another");
    }
    server_id_ = *options.server_id;
  } else {
    do server_id_ = randomServerId();
    while (server_id_ == own);
  }

  // Checksums: tell the server we understand its algorithm; the decoder verifies CRC32.
  Status st = c.execute("SET @master_binlog_checksum = @@global.binlog_checksum");
  if (!st.ok()) return ctx(st);
  auto alg = c.queryValue("SELECT @@global.binlog_checksum");
  if (!alg.ok()) return ctx(alg.status());
  checksum_ = alg->has_value() && **alg != "NONE";
  if (checksum_ && **alg != "CRC32") {
    return Status::Unsupported("binlog_checksum=" + **alg + " on " + endpoint_ +
                               " (dts reads NONE and CRC32)");
  }
  uint64_t period_ns = static_cast<uint64_t>(options.heartbeat_period.count()) * 1000000ull;
  st = c.execute("SET @master_heartbeat_period = " + std::to_string(period_ns));
  if (!st.ok()) return ctx(st);

  if (is_mariadb_) {
    // Capability 4 (GTID): without it the server rewrites GTID events into BEGIN queries.
    st = c.execute("SET @mariadb_slave_capability = 4");
    if (!st.ok()) return ctx(st);
    auto pos = c.queryValue("SELECT @@gtid_binlog_pos");
    if (pos.ok() && pos->has_value()) start_gtid_ = **pos;
  } else {
    auto pos = c.queryValue("SELECT @@global.gtid_executed");
    if (pos.ok() && pos->has_value()) start_gtid_ = **pos;
  }

  std::string host = "dts";
  std::string reg = bp::comRegisterSlave(server_id_, host, 0);
  MYSQL* m = c.handle();
  if (m->methods->db_command(m, COM_REGISTER_SLAVE, reg.data() + 1, reg.size() - 1, 0, nullptr) !=
      0) {
    return ctx(c.lastError("registering as replica (COM_REGISTER_SLAVE)"));
  }
  return Status::OK();
}

Status BinlogStream::sendDump(const BinlogStreamOptions& options) {
  Connection& c = *conn_;
  MYSQL* m = c.handle();
  stop_at_end_ = options.stop_at_end;
  uint16_t flags = options.stop_at_end ? bp::kDumpNonBlock : 0;
  if (is_mariadb_ && options.annotate_rows) flags |= bp::kDumpAnnotateRows;
  auto ctx = [&](const Status& st) {
    return st.withContext("starting binlog stream from " + endpoint_);
  };

  BinlogPosition from;
  std::string payload;
  switch (options.start) {
    case BinlogStreamOptions::Start::kCurrent: {
      auto r = c.query("SHOW MASTER STATUS");
      if (!r.ok()) return ctx(r.status());
      if (r->rows.empty() || r->rows[0].size() < 2 || !r->rows[0][0] || !r->rows[0][1]) {
        return Status::FailedPrecondition("binary logging is off on " + endpoint_ +
                                          " (SHOW MASTER STATUS is empty)");
      }
      from.file = *r->rows[0][0];
      const std::string& pos_text = *r->rows[0][1];
      auto [pend, ec] =
          std::from_chars(pos_text.data(), pos_text.data() + pos_text.size(), from.offset);
      if (ec != std::errc() || pend != pos_text.data() + pos_text.size()) {
        return Status::Internal("SHOW MASTER STATUS on " + endpoint_ + " gave position '" +
                                *r->rows[0][1] + "'");
      }
      payload = bp::comBinlogDump(server_id_, flags, from);
      break;
    }
    case BinlogStreamOptions::Start::kFilePosition: {
      from = options.from_position;
      if (from.file.empty())
        return Status::InvalidArgument("binlog start position needs a file name");
      if (from.offset == 0) from.offset = 4;
      if (from.offset < 4)
        return Status::InvalidArgument("binlog offset " + std::to_string(from.offset) +
                                       " is inside the file header");
      if (from.offset > UINT32_MAX) {
        return Status::Unsupported(
            "binlog offset " + std::to_string(from.offset) +
            " is past 4 GiB; COM_BINLOG_DUMP takes 32 bits: start from a GTID instead");
      }
      payload = bp::comBinlogDump(server_id_, flags, from);
      break;
    }
    case BinlogStreamOptions::Start::kGtid: {
      const GtidFlavor server = is_mariadb_ ? GtidFlavor::kMariaDb : GtidFlavor::kMySql;
      if (options.from_flavor.has_value() && *options.from_flavor != server &&
          !options.from_gtid.empty()) {
        return Status::InvalidArgument(
            std::string("cannot start a ") + gtidFlavorName(server) + " server's binlog at the " +
            gtidFlavorName(*options.from_flavor) + " GTID position '" + options.from_gtid +
            "': the position comes from another source");
      }
      if (is_mariadb_) {
        DTS_ASSIGN_OR_RETURN(auto pos,
                             GtidPosition::parse(options.from_gtid, GtidFlavor::kMariaDb));
        Status st = c.execute("SET @slave_connect_state = " + c.quoteString(pos.toString()));
        if (!st.ok()) return ctx(st);
        st = c.execute("SET @slave_gtid_strict_mode = 1");
        if (!st.ok()) return ctx(st);
        st = c.execute("SET @slave_gtid_ignore_duplicates = 0");
        if (!st.ok()) return ctx(st);
        // With a connect state the server finds the file itself; it tells us in the fake ROTATE.
        from = BinlogPosition{"", 4};
        payload = bp::comBinlogDump(server_id_, flags, from);
      } else {
        DTS_ASSIGN_OR_RETURN(auto pos, GtidPosition::parse(options.from_gtid, GtidFlavor::kMySql));
        DTS_ASSIGN_OR_RETURN(std::string set, pos.encodeMySqlDumpSet());
        from = BinlogPosition{"", 4};
        payload = bp::comBinlogDumpGtid(server_id_, flags, from, set);
      }
      break;
    }
  }
  tracker_ = bp::PositionTracker(from, checksum_);
  auto cmd = static_cast<enum enum_server_command>(static_cast<uint8_t>(payload[0]));
  if (m->methods->db_command(m, cmd, payload.data() + 1, payload.size() - 1, 1, nullptr) != 0) {
    return ctx(c.lastError("sending the binlog dump command"));
  }
  return Status::OK();
}

Status BinlogStream::readError(std::string_view what) {
  if (interrupted_.load())
    return Status::Aborted("binlog stream from " + describe() + " interrupted");
  // A failed packet read is always the connection (reset, closed, timed out): retryable.
  MYSQL* m = conn_->handle();
  unsigned code = mysql_errno(m);
  // The library turns an ERR packet from the server into the connection's error (codes below
  // 2000; client-side errors are 2000 and up).
  if (code != 0 && code < 2000) return serverError(static_cast<uint16_t>(code), mysql_error(m));
  std::string detail = code != 0
                           ? std::string(mysql_error(m)) + " (error " + std::to_string(code) + ")"
                           : std::string("connection closed or read timed out");
  return Status::Unavailable("binlog stream from " + endpoint_ + ": " + std::string(what) + ": " +
                             detail + "; last position " + positionText(tracker_.next()));
}

Status BinlogStream::serverError(uint16_t code, std::string_view message) {
  binlog_protocol::ErrPacket err{code, std::string(message)};
  std::string msg = "binlog stream from " + endpoint_ + ": server error " +
                    std::to_string(err.code) + ": " + err.message + "; last position " +
                    positionText(tracker_.next());
  switch (err.code) {
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED
    case 1317:  // ER_QUERY_INTERRUPTED
    case 1040:  // ER_CON_COUNT_ERROR
      return Status::Unavailable(msg);
    default:
      // 1236 (binlog missing or purged, GTID not found, ...) and the like: retrying the same
      // position cannot help.
      return Status::FailedPrecondition(msg);
  }
}

Result<std::string_view> BinlogStream::nextEvent() {
  if (ended_) return Status::NotFound("end of stream at " + describe());
  MYSQL* m = conn_->handle();
  while (true) {
    if (interrupted_.load())
      return Status::Aborted("binlog stream from " + describe() + " interrupted");
    unsigned long len = mysql_net_read_packet(m);
    if (len == packet_error || len == 0) return readError("reading binlog");
    const char* data = reinterpret_cast<const char*>(m->net.read_pos);
    uint8_t marker = static_cast<uint8_t>(data[0]);
    if (marker == 0xfe && len < 9) {
      ended_ = true;
      if (!stop_at_end_) {
        return Status::Unavailable(
            "binlog stream from " + describe() +
            ": the server ended the stream (shutdown or dump thread killed)");
      }
      return Status::NotFound("end of stream at " + describe());
    }
    if (marker == 0xff) {
      auto err = binlog_protocol::parseErrPacket(std::string_view(data, len));
      return serverError(err.code, err.message);
    }
    if (marker != 0x00) {
      return Status::Corruption("binlog stream from " + endpoint_ + ": packet starts with byte " +
                                std::to_string(marker) + " instead of 0, last position " +
                                positionText(tracker_.next()));
    }
    std::string_view event(data + 1, len - 1);
    auto kind = tracker_.onEvent(event);
    if (!kind.ok()) {
      return kind.status().withContext("binlog stream from " + endpoint_ + " after " +
                                       positionText(tracker_.next()));
    }
    if (*kind == bp::PositionTracker::Kind::kHeartbeat) {
      caught_up_.store(true, std::memory_order_release);
      continue;
    }
    caught_up_.store(false, std::memory_order_release);
    return event;
  }
}

}  // namespace dts::mysql
