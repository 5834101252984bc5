// The task's schema history, kept in the destination's dts_meta next to its checkpoint:
//   `dts_meta`.`schema_history` (task, seq) -> gtid, history
// One version per DDL that changed the history (gtid: that DDL's GTID; "" for the definitions
// the history started with), written when the reader meets the DDL, before the sink applies it.
// A resume from position P restores the newest version whose DDL P contains: the definitions in
// force at P, whatever the reader had read past P before it stopped.
//
// Where version 1 (the starting definitions) comes from: the definitions in force at the
// position of the task's first full-data snapshot, read while DDL is held off (task/snapshot.h);
// for a task without a full phase, the definitions at the start of its first incremental run.
//
// Thread-safety: one thread per store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"

namespace dts::task {

class SchemaHistoryStore {
 public:
  struct Version {
    uint64_t seq = 0;
    std::string gtid;  // "" for the starting definitions
    std::string text;  // source::SchemaHistory::save()
  };

  // A sync or migration task's: connects to the destination and creates
  // dts_meta.schema_history if it is missing.
  static Result<std::unique_ptr<SchemaHistoryStore>> open(const mysql::ConnectOptions& dest,
                                                          std::string task);
  // A tracking task's, beside its change log (task/tracking.h): the same versions in a SQLite
  // file at `path`.
  static Result<std::unique_ptr<SchemaHistoryStore>> openLocal(const std::string& path);

  virtual ~SchemaHistoryStore() = default;
  // Every saved version of the task, by seq.
  virtual Result<std::vector<Version>> load() = 0;
  virtual Status save(uint64_t seq, const std::string& gtid, const std::string& text) = 0;
  virtual Status pruneBefore(uint64_t seq) = 0;
  // Forgets every version (a task whose full data starts again).
  virtual Status clear() = 0;
};

// The starting definitions: every table in `tables` and every base table of the source that
// `mapping` selects, as `src` has them now (information_schema), saved as a history version.
// `count` (optional) receives the number of tables.
Result<std::string> readStartingDefinitions(mysql::Connection& src,
                                            const pipeline::Mapping& mapping,
                                            std::vector<std::pair<std::string, std::string>> tables,
                                            size_t* count = nullptr);

}  // namespace dts::task
