// GtidRanges: a set of source transaction ids, as the applier's checkpoint stores them. One
// representation for both flavours:
//   MySQL   "uuid:1-100:102"        per server uuid, intervals of transaction numbers
//   MariaDB "0:1-100:102"           per replication domain, intervals of sequence numbers
// MariaDB sequence numbers are unique and increasing within a domain (gtid_strict_mode), so the
// server id of "domain-server-seq" does not take part in membership.
//
// parse() also accepts a MariaDB GTID position "0-1-100,1-2-7" (the last transaction per
// domain), which means "every sequence number up to 100 in domain 0, up to 7 in domain 1" — the
// form a snapshot position has.
// (A stand-in until mysql/gtid.h's GtidSet lands; the text form is the checkpoint's format.)
// Not thread-safe; a value type.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dts::sink {

// One transaction id, split: key is the uuid (MySQL) or the domain (MariaDB).
struct GtidId {
  std::string key;
  uint64_t seq = 0;
  bool mariadb = false;
  uint32_t server_id = 0;  // MariaDB only
};

// Parses "uuid:42" or "0-1-42". kInvalidArgument for anything else.
Result<GtidId> parseGtid(std::string_view gtid);

class GtidRanges {
 public:
  static Result<GtidRanges> parse(std::string_view text);

  void add(const GtidId& id) { add(id.key, id.seq, id.seq); }
  void add(const std::string& key, uint64_t first, uint64_t last);
  void addAll(const GtidRanges& other);
  bool contains(const GtidId& id) const;
  // this minus other.
  GtidRanges minus(const GtidRanges& other) const;
  bool empty() const { return sets_.empty(); }
  size_t intervalCount() const;
  std::string toString() const;
  bool operator==(const GtidRanges&) const = default;

 private:
  // key -> disjoint, non-adjacent closed intervals sorted by first.
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> sets_;
};

}  // namespace dts::sink
