// The full loader's bookkeeping at the destination, in the `dts_meta` database (created if
// missing), written in the same transactions as the data so that a crash never loses or doubles
// a chunk:
//   full_tables      (task, db, tbl) -> key_columns ('' for a table loaded without a key),
//                    chunks, planned_rows. A row means the table's chunk plan is recorded.
//   full_chunks      (task, db, tbl, chunk) -> lower_key, upper_key (encodeKey text, NULL for
//                    unbounded), planned_rows, done, snapshot_gtid, loaded_rows.
//   pending_indexes  (db, tbl, name) -> definition: secondary keys of target tables that the
//                    schema copier deferred until the table's rows are loaded.
// db/tbl of full_* are the SOURCE names; pending_indexes names the TARGET table.
// Every function runs on the caller's connection and thread; none is thread-safe on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "task/catalog.h"
#include "task/chunk_plan.h"

namespace dts::task {

// Creates the dts_meta database and its tables if missing.
Status ensureMetaSchema(mysql::Connection& dest);

// Removes what an earlier task of the same name left in dts_meta at the destination: its chunk
// plans and their progress (full_tables, full_chunks), its checkpoint and its schema history, and
// the deferred keys of this task's target tables that no longer exist. Called when a task first
// writes to the destination (nothing of it is there yet), so that a task deleted and created
// again, or created on a new data dir, never takes another task's chunks as loaded or its
// transactions as applied. Returns the rows removed; tables that do not exist count 0.
Result<uint64_t> forgetEarlierTask(mysql::Connection& dest, const std::string& task,
                                   const std::vector<CatalogTable>& catalog);

// The chunk plan recorded for the task's table, as far as it is still to do.
struct RecordedPlan {
  std::vector<ChunkRange> pending;  // chunks not done, in chunk order
  uint64_t planned_rows = 0;        // sum over every chunk
  uint64_t loaded_rows = 0;         // sum over the done chunks
};
// nullopt: no plan recorded yet. kCorruption when a stored key is not encodeKey text.
Result<std::optional<RecordedPlan>> loadChunkPlan(mysql::Connection& dest, const std::string& task,
                                                  const CatalogTable& table);

// Records the plan (full_chunks rows, then the full_tables row) in one destination transaction,
// in INSERT statements of at most about statement_bytes. Rolled back on error.
Status saveChunkPlan(mysql::Connection& dest, const std::string& task, const CatalogTable& table,
                     const ChunkPlan& plan, uint64_t statement_bytes);

// Marks the chunk done, read in the snapshot at snapshot_gtid, with its row count.
// REQUIRES: inside the destination transaction that wrote the chunk's rows (the caller commits).
Status markChunkDone(mysql::Connection& dest, const std::string& task, const CatalogTable& table,
                     int chunk, const std::string& snapshot_gtid, uint64_t rows);

// Adds the secondary keys recorded in pending_indexes for the table's target that do not exist
// yet (one ALTER TABLE), then deletes the record. Keys that exist already (a crash after the
// ALTER, or an ALTER of a killed run the server finished on its own) are skipped.
Status addPendingKeys(mysql::Connection& dest, const CatalogTable& table);

}  // namespace dts::task
