// GTIDs of both flavours: one transaction id (Gtid), a set of them with holes (GtidSet) and a
// replication position (GtidPosition), with their text forms and the dump-command encodings.
//
//   MySQL   "3e11fa47-71ca-11e1-9e33-c80aa9429562:23": source server UUID and transaction
//           number (GNO, >= 1); the server's GTID sets are "uuid:1-10:12,uuid2:1-5".
//           https://dev.mysql.com/doc/refman/8.0/en/replication-gtids-concepts.html
//   MariaDB "0-1-100": replication domain, server id, sequence number. Sequence numbers are
//           unique and increasing within a domain (gtid_strict_mode), so the server id does not
//           take part in membership. The server's positions (gtid_binlog_pos, @slave_connect_state)
//           name the last GTID per domain and mean "every sequence number up to it".
//           https://mariadb.com/kb/en/gtid/
//
// A GtidSet holds what an applier has applied, which may have holes in either flavour. Its text
// (the destination checkpoint's `applied` column) is "source:intervals" per source, sources
// comma-separated, MariaDB domains by number: "0:1-100:102,1:1-7". A GtidPosition is where a
// reader stands in a server's history, with its flavour known explicitly: a MySQL position is a
// GtidSet of that server's flavour; a MariaDB position is the last GTID per domain.
// Value types; not thread-safe for concurrent mutation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dts::mysql {

enum class GtidFlavor : uint8_t { kMySql, kMariaDb };
// "MySQL" / "MariaDB", for messages.
const char* gtidFlavorName(GtidFlavor flavor);

// Where transaction ids come from: a MySQL server UUID or a MariaDB replication domain. Ordered
// MariaDB domains first (by number), then MySQL UUIDs (by bytes, which is their text order).
struct GtidSource {
  GtidFlavor flavor = GtidFlavor::kMySql;
  uint32_t domain = 0;             // MariaDB only
  std::array<uint8_t, 16> uuid{};  // MySQL only

  static GtidSource mariaDb(uint32_t domain) {
    return GtidSource{GtidFlavor::kMariaDb, domain, {}};
  }
  // Parses a UUID "8-4-4-4-12" hex digits, either case. kInvalidArgument otherwise.
  static Result<GtidSource> mySqlUuid(std::string_view text);

  // The domain number, or the UUID in lowercase.
  std::string toString() const;

  bool operator==(const GtidSource& o) const {
    return flavor == o.flavor && domain == o.domain && uuid == o.uuid;
  }
  bool operator<(const GtidSource& o) const {
    if (flavor != o.flavor) return flavor == GtidFlavor::kMariaDb;
    return flavor == GtidFlavor::kMariaDb ? domain < o.domain : uuid < o.uuid;
  }
};

// One transaction id.
struct Gtid {
  GtidSource source;
  uint32_t server_id = 0;  // MariaDB: the server that wrote it; 0 for MySQL
  uint64_t seq = 0;        // MySQL GNO (>= 1) or MariaDB seq_no

  GtidFlavor flavor() const { return source.flavor; }

  // "uuid:N" (N >= 1) is MySQL, "domain-server-seq" MariaDB: the two syntaxes cannot be mistaken
  // for each other. Whitespace around the text is ignored. kInvalidArgument, quoting the text,
  // for anything else (and for a number of 2^64-1, which no server writes).
  static Result<Gtid> parse(std::string_view text);
  // The text parse() reads; MySQL UUIDs in lowercase.
  std::string toString() const;

  bool operator==(const Gtid&) const = default;
};

class GtidSet {
 public:
  // Closed interval of transaction numbers; first <= last < 2^64-1.
  struct Interval {
    uint64_t first = 0;
    uint64_t last = 0;
    bool operator==(const Interval&) const = default;
  };

  GtidSet() = default;

  // Parses comma-separated items (whitespace and newlines around items and numbers allowed, as
  // MySQL prints gtid_executed); empty text is the empty set. An item is
  //   "uuid:a-b:c..."    MySQL transactions of that server (a, b, c >= 1)
  //   "domain:a-b:c..."  MariaDB sequence numbers of that domain
  //   "domain-server-seq" a MariaDB position item: sequence numbers 1..seq of the domain
  // Intervals may overlap or come in any order. kInvalidArgument, quoting the bad item, for an
  // empty item, a bad UUID or number, an interval a-b with b < a, or a MySQL number 0.
  static Result<GtidSet> parse(std::string_view text);

  // Adds one transaction. A MariaDB GTID's server id is not kept.
  void add(const Gtid& gtid) { add(gtid.source, gtid.seq, gtid.seq); }
  // Adds [first, last]. REQUIRES: first <= last < UINT64_MAX.
  void add(const GtidSource& source, uint64_t first, uint64_t last);
  // Adds every transaction of `other` (set union).
  void addAll(const GtidSet& other);
  bool contains(const Gtid& gtid) const;
  // The same for a GTID in text; malformed text is never contained.
  bool contains(std::string_view gtid) const;
  // The transactions of this set that are not in `other`.
  GtidSet minus(const GtidSet& other) const;

  bool empty() const { return sources_.empty(); }
  // The flavour of every source in the set; nullopt when the set is empty or mixes both.
  std::optional<GtidFlavor> flavor() const;
  size_t intervalCount() const;
  // The intervals of one source, sorted, disjoint and non-adjacent; empty when it has none.
  const std::vector<Interval>& intervals(const GtidSource& source) const;
  // Every source with at least one transaction, in order.
  std::vector<GtidSource> sources() const;

  // Canonical text: sources in GtidSource order, intervals merged ("a-b", or "a" alone). Empty
  // for the empty set. parse(toString()) == *this.
  std::string toString() const;

  // The binary set COM_BINLOG_DUMP_GTID carries (the untagged format of MySQL's
  // Gtid_set::encode): n_sids u64, then per UUID: 16 bytes, n_intervals u64, intervals as
  // [first, last + 1) u64 pairs, all little-endian.
  // https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html
  // kInvalidArgument when the set holds MariaDB domains.
  Result<std::string> encodeMySqlDumpSet() const;

  bool operator==(const GtidSet&) const = default;

 private:
  using Entry = std::pair<GtidSource, std::vector<Interval>>;
  // nullptr when absent.
  const std::vector<Interval>* find(const GtidSource& source) const;
  std::vector<Interval>& findOrInsert(const GtidSource& source);

  // Sorted by source; every vector non-empty, sorted, disjoint and non-adjacent.
  std::vector<Entry> sources_;
};

class GtidPosition {
 public:
  explicit GtidPosition(GtidFlavor flavor) : flavor_(flavor) {}

  // Parses a position of the given flavour; empty text is the empty position (from the start).
  //   MySQL:   a GtidSet of MySQL items ("uuid:1-100,uuid2:1-5").
  //   MariaDB: "domain-server-seq" items, one per domain ("0-1-100,1-2-7").
  // kInvalidArgument, quoting the bad part, for malformed text, an item of the other flavour or a
  // MariaDB domain named twice.
  static Result<GtidPosition> parse(std::string_view text, GtidFlavor flavor);
  // Parses a stored or user-given position whose flavour the text itself tells: an item with a
  // ':' is "uuid:intervals" (MySQL), one without is "domain-server-seq" (MariaDB); every item
  // must then be of that flavour (parse() above). nullopt for empty text (no position).
  static Result<std::optional<GtidPosition>> parseStored(std::string_view text);
  // The MySQL position that is `set`. REQUIRES: set holds MySQL sources only.
  static GtidPosition mySql(GtidSet set);

  GtidFlavor flavor() const { return flavor_; }
  bool empty() const { return set_.empty() && last_.empty(); }

  // Whether the transaction is at or before the position (MariaDB: seq <= the domain's last).
  bool contains(const Gtid& gtid) const;
  // Moves the position past one transaction. MySQL: adds it to the set. MariaDB: the domain's
  // last GTID becomes `gtid` when its seq is higher. kInvalidArgument for the other flavour.
  Status add(const Gtid& gtid);
  // The furthest of both: MySQL the union, MariaDB per domain the GTID with the highest seq.
  // kInvalidArgument when the flavours differ.
  Status merge(const GtidPosition& other);

  // Every transaction the position covers: MySQL the set itself, MariaDB 1..seq per domain.
  GtidSet toSet() const;
  // The text parse() reads back; what @slave_connect_state (MariaDB) is given. Empty when empty.
  std::string toString() const;
  // The COM_BINLOG_DUMP_GTID set of a MySQL position; kInvalidArgument for a MariaDB one.
  Result<std::string> encodeMySqlDumpSet() const;

  bool operator==(const GtidPosition&) const = default;

 private:
  GtidFlavor flavor_;
  GtidSet set_;             // MySQL
  std::vector<Gtid> last_;  // MariaDB: the last GTID per domain, sorted by domain
};

}  // namespace dts::mysql
