#include "source/binlog_continuity.h"

#include <set>

#include "mysql/binlog_event.h"

namespace dts::source {
namespace {

mysql::Gtid mariaGtid(uint32_t domain, uint32_t server_id, uint64_t seq) {
  return mysql::Gtid{mysql::GtidSource::mariaDb(domain), server_id, seq};
}

uint64_t seqIn(const std::map<uint32_t, mysql::Gtid>& last, uint32_t domain) {
  auto it = last.find(domain);
  return it == last.end() ? 0 : it->second.seq;
}

std::string textOr(const mysql::GtidPosition& p, const char* none) {
  return p.empty() ? std::string(none) : p.toString();
}

const char kWhatToDo[] =
    "read the task's source from a server whose binlog has them (the instance's primary: the "
    "source without secondary_node, or another secondary node) until the task is past them, or "
    "sync the task anew (a new snapshot)";

}  // namespace

Result<std::optional<NodeGtidPositions>> readNodeGtidPositions(mysql::Connection& node) {
  if (!node.isMariaDB()) return std::optional<NodeGtidPositions>();
  DTS_ASSIGN_OR_RETURN(auto r,
                       node.query("SELECT @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_slave_pos"));
  if (r.rows.empty() || r.rows[0].size() < 2) {
    return Status::Corruption("SELECT @@gtid_binlog_pos, @@gtid_slave_pos returned no row");
  }
  NodeGtidPositions p;
  auto binlog = mysql::GtidPosition::parse(r.rows[0][0].value_or(""), mysql::GtidFlavor::kMariaDb);
  if (!binlog.ok()) return binlog.status().withContext("gtid_binlog_pos");
  auto slave = mysql::GtidPosition::parse(r.rows[0][1].value_or(""), mysql::GtidFlavor::kMariaDb);
  if (!slave.ok()) return slave.status().withContext("gtid_slave_pos");
  p.binlog = std::move(binlog).value();
  p.slave = std::move(slave).value();
  return std::optional<NodeGtidPositions>(std::move(p));
}

std::map<uint32_t, mysql::Gtid> lastGtidsByDomain(const mysql::GtidPosition& position) {
  std::map<uint32_t, mysql::Gtid> out;
  if (position.flavor() != mysql::GtidFlavor::kMariaDb) return out;
  const std::string text = position.toString();
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    auto g = mysql::Gtid::parse(std::string_view(text).substr(start, comma - start));
    if (g.ok()) out[g->source.domain] = *g;
    start = comma + 1;
  }
  return out;
}

Status checkNodeBinlogHasApplied(const std::string& node, const NodeGtidPositions& positions,
                                 const std::optional<mysql::GtidPosition>& from) {
  if (from.has_value() && from->flavor() != mysql::GtidFlavor::kMariaDb) return Status::OK();
  const auto binlog = lastGtidsByDomain(positions.binlog);
  const auto slave = lastGtidsByDomain(positions.slave);
  const auto task = from.has_value() ? lastGtidsByDomain(*from) : std::map<uint32_t, mysql::Gtid>();
  std::set<uint32_t> domains;
  for (const auto& [d, g] : binlog) domains.insert(d);
  for (const auto& [d, g] : task) domains.insert(d);
  for (uint32_t d : domains) {
    auto applied = slave.find(d);
    if (applied == slave.end()) continue;
    const uint64_t logged = seqIn(binlog, d), read = seqIn(task, d);
    if (applied->second.seq <= logged || applied->second.seq <= read) continue;
    const uint64_t first = std::max(logged, read) + 1;
    const mysql::Gtid& last = applied->second;
    const std::string range = first == last.seq ? last.toString()
                                                : mariaGtid(d, last.server_id, first).toString() +
                                                      " to " + last.toString();
    return Status::FailedPrecondition(
        node + " applied transactions its binlog does not have: its gtid_slave_pos is " +
        positions.slave.toString() + " but its gtid_binlog_pos " +
        textOr(positions.binlog, "empty") + " (domain " + std::to_string(d) +
        "), and the task's position is " +
        (from.has_value() ? textOr(*from, "its start") : "its start") + ": transactions " + range +
        " were replicated to the node without being written to its "
        "binlog (log_slave_updates=OFF for a while, or a replication filter) and would never "
        "reach the destination through it; " +
        kWhatToDo);
  }
  return Status::OK();
}

Status checkNodeHasReached(const std::string& node, const NodeGtidPositions& positions,
                           const std::optional<mysql::GtidPosition>& from) {
  if (!from.has_value() || from->flavor() != mysql::GtidFlavor::kMariaDb) return Status::OK();
  const auto binlog = lastGtidsByDomain(positions.binlog);
  const auto slave = lastGtidsByDomain(positions.slave);
  for (const auto& [d, g] : lastGtidsByDomain(*from)) {
    const uint64_t at = std::max(seqIn(binlog, d), seqIn(slave, d));
    // A domain the node never had is not lag: the stream says what it lacks (error 1236).
    if (at == 0 || at >= g.seq) continue;
    return Status::Unavailable(
        node + " has not reached the task's position yet: it is at " +
        textOr(positions.binlog, "nothing") + " (replicated " + textOr(positions.slave, "nothing") +
        "), the task at " + from->toString() + " (domain " + std::to_string(d) + ", " +
        std::to_string(g.seq - at) +
        " transactions behind): retried until it catches up (its replication must be running), or "
        "point the task at another node");
  }
  return Status::OK();
}

std::string GtidJump::missingRange() const {
  const mysql::Gtid first = mariaGtid(last.source.domain, last.server_id, last.seq + 1);
  if (missing() == 1) return first.toString();
  return first.toString() + " to " +
         mariaGtid(last.source.domain, last.server_id, next.seq - 1).toString();
}

GtidContinuity::GtidContinuity(const std::optional<mysql::GtidPosition>& from) {
  if (from.has_value()) last_ = lastGtidsByDomain(*from);
}

std::optional<GtidJump> GtidContinuity::note(const mysql::Gtid& gtid) {
  if (gtid.flavor() != mysql::GtidFlavor::kMariaDb) return std::nullopt;
  auto [it, first] = last_.try_emplace(gtid.source.domain, gtid);
  if (first) return std::nullopt;
  std::optional<GtidJump> jump;
  if (gtid.seq > it->second.seq + 1) jump = GtidJump{it->second, gtid};
  if (gtid.seq > it->second.seq) it->second = gtid;
  return jump;
}

mysql::GtidPosition GtidContinuity::position() const {
  mysql::GtidPosition p(mysql::GtidFlavor::kMariaDb);
  for (const auto& [d, g] : last_) {
    Status st = p.add(g);  // MariaDB GTIDs only: cannot fail
    (void)st;
  }
  return p;
}

mysql::GtidPosition GtidContinuity::positionBefore(const GtidJump& jump) const {
  mysql::GtidPosition p(mysql::GtidFlavor::kMariaDb);
  for (const auto& [d, g] : last_) {
    Status st = p.add(d == jump.last.source.domain ? jump.last : g);  // cannot fail: MariaDB
    (void)st;
  }
  return p;
}

Result<bool> primaryMakesTheSameJump(const mysql::BinlogStreamOptions& primary,
                                     const mysql::GtidPosition& before, const GtidJump& jump) {
  mysql::BinlogStreamOptions so = primary;
  so.start = mysql::BinlogStreamOptions::Start::kGtid;
  so.from_gtid = before.toString();
  so.from_flavor = mysql::GtidFlavor::kMariaDb;
  so.stop_at_end = true;
  auto opened = mysql::BinlogStream::open(so);
  if (!opened.ok()) return opened.status().withContext("reading the primary's binlog");
  mysql::BinlogStream& stream = **opened;
  mysql::BinlogDecoder decoder;  // no schema: only GTID events are looked at
  std::vector<mysql::BinlogEvent> events;
  const uint32_t domain = jump.last.source.domain;
  while (true) {
    auto raw = stream.nextEvent();
    if (!raw.ok()) {
      if (raw.status().code() == Status::Code::kNotFound) {
        return Status::NotFound("the primary's binlog (" + stream.describe() +
                                ") has nothing of domain " + std::to_string(domain) + " after " +
                                jump.last.toString());
      }
      return raw.status().withContext("reading the primary's binlog");
    }
    // Only the header and GTID events matter; rows of tables without their TABLE_MAP decoded
    // are not read.
    Status st = decoder.decode(*raw, stream.position(), &events);
    if (!st.ok()) return st.withContext("reading the primary's binlog");
    for (const mysql::BinlogEvent& ev : events) {
      const auto* g = ev.as<mysql::MariaGtidEvent>();
      if (g == nullptr || g->domain_id != domain || g->seq_no <= jump.last.seq) continue;
      return g->seq_no == jump.next.seq;
    }
  }
}

bool jumpMadeOnThisServer(const mysql::GtidPosition& slave, const GtidJump& jump) {
  return seqIn(lastGtidsByDomain(slave), jump.last.source.domain) <= jump.last.seq;
}

Status binlogJumpError(const std::string& node, const GtidJump& jump, const std::string& at,
                       const std::string& evidence) {
  return Status::FailedPrecondition(
      "transactions " + jump.missingRange() + " (" + std::to_string(jump.missing()) +
      ") are missing from the binlog of " + node + ": it goes from " + jump.last.toString() +
      " straight to " + jump.next.toString() + " at " + at + " (" + evidence +
      "); the node applied them without writing them to its binlog (log_slave_updates=OFF for a "
      "while, or a replication filter), so they would never reach the destination through it. "
      "The task stopped before " +
      jump.next.toString() + ", nothing after it applied; " + kWhatToDo);
}

}  // namespace dts::source
