// ChangedKeys: the keys of the rows a sync task's incremental phase read, collected for
// incremental verification (options.verify.incremental, RowVerifier in verify.h). The engine
// hands every transaction piece to add() as read from the source (source names, before the
// mapping stage); the verifier takes what was collected every few seconds and compares those
// rows once the destination has applied them.
//
// Per change: insert -> the after image's key, delete -> the before image's, update -> both
// (they differ when the key changed). Keys are the table's chunk key (CatalogTable::chunk_key)
// rendered as SQL literals exactly as the applier writes them (sink/sql_literal.h), so they find
// the same row on either server. A table without a chunk key is not collected (full
// verification compares it as a multiset). Memory is bounded: at most max_keys distinct keys are
// held between two take() calls; further keys are dropped and counted (the degraded mode a
// status shows), never blocking the engine. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pipeline/change_event.h"
#include "task/catalog.h"
#include "task/verify.h"

namespace dts::task {

class ChangedKeys {
 public:
  ChangedKeys(const std::vector<CatalogTable>& tables, size_t max_keys);

  void add(const pipeline::Transaction& piece);
  // What was collected since the last call, by table (source names); empties the set.
  std::vector<ChangedRows> take();

  uint64_t dropped() const;    // keys not kept because the set was full, since the start
  uint64_t collected() const;  // keys kept, since the start

 private:
  void addKey(const pipeline::ChangeEvent& e, const std::vector<size_t>& index,
              const mysql::RowImage& image);

  size_t max_keys_;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> key_columns_;
  mutable std::mutex mu_;
  // table (db.table) -> its keys (literals in chunk-key order)
  std::map<std::string, std::set<std::vector<std::string>>> keys_;
  size_t held_ = 0;
  uint64_t dropped_ = 0, collected_ = 0;
};

}  // namespace dts::task
