// A fixture binlog for the tests of the change reader and of the incremental engine (and for
// fuzz seeds): binlog files written from mysql/event_builder_for_tests.h events, and a schema
// loader that answers from memory (SchemaTracker's seam).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "source/schema_tracker.h"

namespace dts::source::testing {

// Answers from `tables`; every load is appended to *loads as "db.table" (shared, so a test still
// sees it after a reader took the loader).
class FakeSchemaLoader final : public SchemaLoader {
 public:
  FakeSchemaLoader(std::map<std::pair<std::string, std::string>, SchemaTable> tables,
                   std::shared_ptr<std::vector<std::string>> loads)
      : tables_(std::move(tables)), loads_(std::move(loads)) {}
  // kNotFound for a table it does not hold (as information_schema for a dropped table).
  Result<SchemaTable> load(const std::string& database, const std::string& table) override;

 private:
  std::map<std::pair<std::string, std::string>, SchemaTable> tables_;
  std::shared_ptr<std::vector<std::string>> loads_;
};

// A new directory under the system temp dir, removed with its contents when destroyed.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix);  // "dts-reader" -> /tmp/dts-reader-XXXXXX
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // "" when the directory could not be made.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes a binlog file: the magic, then `events` (whole events) back to back.
Status writeBinlogFile(const std::string& path, const std::vector<std::string>& events);

// The shop fixture (MariaDB, server id 1, domain 0, CRC32 on). shop.t is (id INT, name
// VARCHAR(40) utf8mb4) and its TABLE_MAPs carry no column names (binlog_row_metadata=MINIMAL),
// so names come from a schema loader; other.x (id INT) is unknown to shopSchema(). Events, in
// order (the first is the FORMAT_DESCRIPTION):
//   0-1-1  DDL, default db shop:   CREATE TABLE t (id INT, name VARCHAR(40))
//   0-1-2  insert shop.t (1,'a'), (2,'b')
//   0-1-3  insert other.x (7)
//   0-1-4  update shop.t (1,'a') -> (1,'c'); delete shop.t (2,'b')
//   0-1-5  DDL, default db other:  CREATE TABLE y (id INT)
struct ShopFixture {
  std::vector<std::string> events;
  // events[i] starts at offsets[i] of the file (the magic takes 4 bytes).
  std::vector<uint64_t> offsets;
  // Index in `events` of the first event of each transaction (its GTID event).
  std::vector<size_t> transaction_starts;
};
ShopFixture shopFixture();
// shop.t as information_schema would describe it.
std::map<std::pair<std::string, std::string>, SchemaTable> shopSchema();

}  // namespace dts::source::testing
