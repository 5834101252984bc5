// GTID sets of both flavours.
//   MySQL:   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10:12,<uuid2>:1-5" — per server UUID, a list
//   of
//            closed intervals of transaction numbers.
//            https://dev.mysql.com/doc/refman/8.0/en/replication-gtids-concepts.html
//   MariaDB: "0-1-100,1-2-5" — a position: per replication domain, the last GTID
//            (domain-server-seq); every GTID of that domain with seq <= it is contained.
//            https://mariadb.com/kb/en/gtid/
// Value type; not thread-safe for concurrent mutation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dts::mysql {

class GtidSet {
 public:
  enum class Flavor : uint8_t { kMySql, kMariaDb };

  explicit GtidSet(Flavor flavor = Flavor::kMySql) : flavor_(flavor) {}

  // Parses a set of the given flavour. Empty text is the empty set. kInvalidArgument on
  // malformed text (the message quotes the bad part).
  static Result<GtidSet> parse(std::string_view text, Flavor flavor);
  // Guesses the flavour: text with ':' is MySQL, otherwise MariaDB (empty text: MySQL).
  static Result<GtidSet> parse(std::string_view text);

  Flavor flavor() const { return flavor_; }
  bool empty() const { return mysql_.empty() && maria_.empty(); }

  // Adds one GTID ("uuid:42" or "0-1-42"). kInvalidArgument when it is malformed or of the
  // other flavour. MariaDB: the domain's position moves to it when its seq is higher.
  Status add(std::string_view gtid);
  // Adds every GTID of `other` (same flavour).
  Status merge(const GtidSet& other);
  // Whether the GTID is in the set. Malformed text is never contained.
  bool contains(std::string_view gtid) const;

  // Canonical text: MySQL UUIDs lowercase and sorted, intervals merged ("a-b" or "a");
  // MariaDB domains sorted by id.
  std::string toString() const;

  bool operator==(const GtidSet&) const = default;

 private:
  struct Interval {
    uint64_t first, last;  // closed
    bool operator==(const Interval&) const = default;
  };
  struct MariaPos {
    uint32_t server_id;
    uint64_t seq_no;
    bool operator==(const MariaPos&) const = default;
  };
  void addInterval(const std::string& uuid, uint64_t first, uint64_t last);

  Flavor flavor_;
  std::map<std::string, std::vector<Interval>> mysql_;
  std::map<uint32_t, MariaPos> maria_;
};

// Splits "uuid:42" (MySQL) into its parts; false when malformed. The UUID is lowercased.
bool parseMySqlGtid(std::string_view gtid, std::string* uuid, uint64_t* gno);
// Splits "0-1-42" (MariaDB); false when malformed.
bool parseMariaGtid(std::string_view gtid, uint32_t* domain, uint32_t* server, uint64_t* seq);

}  // namespace dts::mysql
