#include "source/binlog_start.h"

#include <ctime>

#include "mysql/binlog_event.h"
#include "mysql/binlog_stream.h"

namespace dts::source {
namespace {

// The first events of `file`: its FORMAT_DESCRIPTION, and on MySQL its PREVIOUS_GTIDS.
Result<BinlogFileStart> probeServerFile(const mysql::ConnectOptions& options,
                                        mysql::Connection& conn, const std::string& file) {
  BinlogFileStart out;
  out.file = file;
  mysql::BinlogStreamOptions so;
  so.connection = options;
  so.start = mysql::BinlogStreamOptions::Start::kFilePosition;
  so.from_position = mysql::BinlogPosition{file, 4};
  so.stop_at_end = true;
  DTS_ASSIGN_OR_RETURN(auto stream, mysql::BinlogStream::open(so));
  mysql::BinlogDecoder decoder;  // no schema: no row is read
  std::vector<mysql::BinlogEvent> events;
  bool have_format = false;
  // A file begins with its FORMAT_DESCRIPTION, then (MySQL) its PREVIOUS_GTIDS; the stream may
  // send a ROTATE of its own before them.
  for (int read = 0; read < 16; ++read) {
    auto raw = stream->nextEvent();
    if (!raw.ok()) {
      if (raw.status().code() == Status::Code::kNotFound) break;
      return raw.status();
    }
    DTS_RETURN_IF_ERROR(decoder.decode(*raw, stream->position(), &events));
    for (const mysql::BinlogEvent& ev : events) {
      if (ev.as<mysql::FormatDescriptionEvent>() != nullptr && !have_format) {
        out.created_s = ev.header.timestamp;
        have_format = true;
      } else if (const auto* previous = ev.as<mysql::PreviousGtidsEvent>()) {
        if (have_format) {
          out.gtid = previous->toString();
          return out;
        }
      }
    }
    if (have_format && conn.isMariaDB()) {
      DTS_ASSIGN_OR_RETURN(
          auto pos, conn.queryValue("SELECT BINLOG_GTID_POS(" + conn.quoteString(file) + ", 4)"));
      if (!pos.has_value())
        return Status::FailedPrecondition("BINLOG_GTID_POS(" + conn.quoteString(file) +
                                          ", 4) is NULL");
      out.gtid = *pos;
      return out;
    }
  }
  return Status::Corruption(std::string("binlog file ") + file + " does not begin with a " +
                            (have_format ? "PREVIOUS_GTIDS" : "FORMAT_DESCRIPTION") + " event");
}

}  // namespace

std::string utcSecondsText(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

Result<BinlogFileStart> binlogFileAtTime(const std::vector<std::string>& files, int64_t start_ms,
                                         const BinlogFileProbe& probe, const std::string& node) {
  if (files.empty())
    return Status::FailedPrecondition(node + " lists no binlog file (is log_bin ON?)");
  // Whether a file's predecessors hold only transactions committed before the start.
  auto before_start = [start_ms](const BinlogFileStart& f) {
    return (f.created_s + 1) * 1000 <= start_ms;
  };
  DTS_ASSIGN_OR_RETURN(BinlogFileStart oldest, probe(files.front()));
  if (!before_start(oldest)) {
    if (oldest.gtid.empty()) return oldest;  // the node's binlog holds everything it logged
    const int64_t floor_s = start_ms >= 0 ? start_ms / 1000 : (start_ms - 999) / 1000;
    return Status::FailedPrecondition(
        "the start time " + utcSecondsText(floor_s) + " precedes the oldest binlog file " + node +
        " still has (" + oldest.file + ", begun " + utcSecondsText(oldest.created_s) +
        ", after the transactions up to " + oldest.gtid +
        "): the files before it were purged, and with them the transactions committed between "
        "the start and " +
        utcSecondsText(oldest.created_s) +
        "; dts will not start a change stream that silently lacks them. Start at " +
        utcSecondsText(oldest.created_s + 1) +
        " or later, or at a GTID set, or keep binlogs longer on the source "
        "(binlog_expire_logs_seconds, expire_logs_days)");
  }
  // Invariant: files[lo] is begun before the start; the answer is in [lo, hi).
  size_t lo = 0, hi = files.size();
  BinlogFileStart found = std::move(oldest);
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    DTS_ASSIGN_OR_RETURN(BinlogFileStart f, probe(files[mid]));
    if (before_start(f)) {
      lo = mid;
      found = std::move(f);
    } else {
      hi = mid;
    }
  }
  return found;
}

Result<BinlogFileStart> binlogStartAtTime(const mysql::ConnectOptions& node_options,
                                          const std::string& node, int64_t start_ms) {
  DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(node_options));
  DTS_ASSIGN_OR_RETURN(auto listed, conn->query("SHOW BINARY LOGS"));
  std::vector<std::string> files;
  for (const auto& row : listed.rows) {
    if (!row.empty() && row[0].has_value()) files.push_back(*row[0]);
  }
  auto probe = [&](const std::string& file) -> Result<BinlogFileStart> {
    auto r = probeServerFile(node_options, *conn, file);
    if (!r.ok()) return r.status().withContext("reading the start of " + node + "'s " + file);
    return r;
  };
  return binlogFileAtTime(files, start_ms, probe, node);
}

}  // namespace dts::source
