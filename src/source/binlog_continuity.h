// Whether the binlog a task reads holds every transaction after the task's position (MariaDB).
//
// A MariaDB node that applies replicated transactions without logging them (log_slave_updates
// OFF for a while, then ON again) has a binlog that jumps over them: its dump thread streams
// 0-1-388 then 0-1-766, and a reader that only follows the stream passes over 389..765 without
// a word. Two checks keep a task from doing so:
//
//   at connect   the node's gtid_slave_pos (what it applied by replication) is ahead of its
//                gtid_binlog_pos (what its binlog has) and of the task's position in a domain
//                the task reads: checkNodeBinlogHasApplied() refuses, naming both positions.
//   in stream    within one domain a seq_no jumps (next != last + 1) after the task's position
//                (GtidContinuity). With gtid_strict_mode sequence numbers only grow, and a
//                failover continues the domain at the next seq_no, so a jump means transactions
//                this binlog lacks, unless the domain's origin made the jump itself
//                (SET gtid_seq_no): then the primary's binlog jumps as well
//                (primaryMakesTheSameJump), or the node read never replicated anything past the
//                jump's start (jumpMadeOnThisServer).
//
// MySQL needs neither: transactions a replica applied without logging are in its gtid_purged,
// and its dump thread refuses a reader whose set lacks them (error 1236).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "mysql/binlog_stream.h"
#include "mysql/connection.h"
#include "mysql/gtid.h"

namespace dts::source {

// A MariaDB node's @@gtid_binlog_pos and @@gtid_slave_pos.
struct NodeGtidPositions {
  mysql::GtidPosition binlog{mysql::GtidFlavor::kMariaDb};
  mysql::GtidPosition slave{mysql::GtidFlavor::kMariaDb};
};

// Reads them over `node`; nullopt on MySQL (see above).
Result<std::optional<NodeGtidPositions>> readNodeGtidPositions(mysql::Connection& node);

// kFailedPrecondition when, in a domain the task reads (one of `from`'s, or of the node's
// binlog), the node's gtid_slave_pos has a seq_no above both its gtid_binlog_pos's and from's:
// the node applied transactions after the task's position that its binlog does not have. The
// message names `node` ("node node-2 (127.0.0.1:3307)"), the positions, the missing range and
// what to do. A domain only gtid_slave_pos has (nothing of it ever in the binlog nor in the
// task's position) is not the task's. OK otherwise, and for a MySQL `from`.
Status checkNodeBinlogHasApplied(const std::string& node, const NodeGtidPositions& positions,
                                 const std::optional<mysql::GtidPosition>& from);

// kUnavailable (retried) when the node is behind the task's position in a domain of `from` that it
// has: a secondary still catching up (just added, or after an outage) that the task was pointed
// at. Its dump thread would refuse the position with error 1236 ("not in the master's binlog"),
// which reads as a binlog purged for good. OK otherwise, and for a MySQL `from`.
Status checkNodeHasReached(const std::string& node, const NodeGtidPositions& positions,
                           const std::optional<mysql::GtidPosition>& from);

// The last GTID of each domain of a MariaDB position, by domain.
std::map<uint32_t, mysql::Gtid> lastGtidsByDomain(const mysql::GtidPosition& position);

// Two GTIDs of one domain read one after the other, with seq_nos between them never seen.
struct GtidJump {
  mysql::Gtid last;  // the domain's last transaction before (from the position, or read)
  mysql::Gtid next;  // the transaction read after it
  uint64_t missing() const { return next.seq - last.seq - 1; }
  // "0-1-389 to 0-1-765" (the first and the last seq_no missing; the server ids are unknown,
  // shown as the last one's).
  std::string missingRange() const;
};

// Follows the MariaDB GTIDs of a stream read after `from`, domain by domain.
class GtidContinuity {
 public:
  explicit GtidContinuity(const std::optional<mysql::GtidPosition>& from);

  // Notes the next transaction's GTID in stream order. Returns the jump when its domain's last
  // seq_no (from `from`, else the stream) is more than one below gtid.seq. A domain's first GTID
  // when `from` lacks the domain, or a seq_no not above the last (without gtid_strict_mode), is
  // no jump. The domain's last becomes gtid when its seq_no is higher, jump or not. MySQL GTIDs:
  // nullopt, nothing kept.
  std::optional<GtidJump> note(const mysql::Gtid& gtid);

  // The last GTID per domain so far.
  mysql::GtidPosition position() const;
  // position() with the jump's domain back at jump.last: where another server's binlog is read
  // from to see what follows it.
  mysql::GtidPosition positionBefore(const GtidJump& jump) const;

 private:
  std::map<uint32_t, mysql::Gtid> last_;
};

// Reads `primary`'s binlog after `before` (a position whose domain of the jump stands at
// jump.last) up to the next GTID of that domain. true: it is jump.next's seq_no, the primary's
// binlog makes the same jump (nothing is missing: SET gtid_seq_no); false: the primary has a
// transaction in between, which the binlog the task reads lacks. An error (the primary cannot be
// read, or has nothing of the domain after jump.last) means it cannot tell.
Result<bool> primaryMakesTheSameJump(const mysql::BinlogStreamOptions& primary,
                                     const mysql::GtidPosition& before, const GtidJump& jump);

// Whether the jump was made on the server read itself: its gtid_slave_pos (`slave`) has nothing
// of the jump's domain past jump.last, so every transaction of the domain after it was written
// there (SET gtid_seq_no on this server), not replicated without being logged.
bool jumpMadeOnThisServer(const mysql::GtidPosition& slave, const GtidJump& jump);

// The error of a jump nothing proved harmless: "transactions 0-1-389 to 0-1-765 (377) are
// missing from the binlog of node node-2 (...): it goes from 0-1-388 straight to 0-1-766 at
// binlog.000003:1234; ..." with why (`evidence`: what the primary has, or why it could not
// tell) and what to do. The task's checkpoint is still before the jump.
Status binlogJumpError(const std::string& node, const GtidJump& jump, const std::string& at,
                       const std::string& evidence);

}  // namespace dts::source
