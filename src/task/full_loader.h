// FullLoader: the full-data phase. Copies the selected rows of every table from the source to
// the destination, consistent with the incremental phase that follows, without locking the
// source, resumable at chunk granularity, with bounded memory whatever the table size.
//
// How it stays exact (what the incremental applier must honour):
//
//  * Plan. Each table with a usable key (the PK, else a unique NOT NULL key, that the column
//    subset keeps) is split into chunks by key: (lower, upper], NULL meaning unbounded. The plan
//    is written once to `dts_meta`.`full_chunks` at the destination and reused by every later
//    run, so a chunk always means the same key range. A table without such a key is one chunk,
//    loaded in one destination transaction (a retry can never duplicate its rows).
//
//  * Snapshots. Every reader opens START TRANSACTION WITH CONSISTENT SNAPSHOT and reads its exact
//    position from SHOW STATUS LIKE 'binlog_snapshot_gtid_pos' (MariaDB; no lock taken). On MySQL
//    the position is read under a FLUSH TABLES WITH READ LOCK held only while the snapshots open.
//    Readers of one run and of later runs (after a restart) may stand at different positions.
//
//  * Chunk commit. A chunk's rows and the line `done = 1, snapshot_gtid = <position of the
//    snapshot the rows were read in>` in `dts_meta`.`full_chunks` are committed in ONE
//    destination transaction. A crash loses whole uncommitted chunks only; the next run reloads
//    them (in a newer snapshot).
//
//  * Deferred keys. Plain secondary keys of the tables the schema copier created are added by
//    ALTER TABLE when the table's last chunk is done (dts_meta.pending_indexes; a restart finishes
//    them). run() returns OK only when every such key exists.
//
//  * Incremental start. The task's incremental phase starts at the position of the FIRST snapshot
//    the task ever opened (on_snapshot reports it; the runner persists it once). Every chunk's
//    snapshot contains that position, so no change is missed; changes between it and a chunk's
//    own snapshot position are already in that chunk's rows. The applier therefore MUST:
//      1. apply row changes idempotently, at least until its checkpoint contains every chunk's
//         snapshot_gtid: insert = upsert of the after image (REPLACE / ON DUPLICATE KEY UPDATE),
//         update = delete the before key if the key changed + upsert the after image, delete =
//         delete by key (absent row is fine). Replaying a change that a chunk already holds then
//         converges to the same row as the source.
//      2. for a table loaded without a key (`dts_meta`.`full_tables`.`key_columns` = ''), skip
//         every change whose GTID is contained in that table's single chunk snapshot_gtid (the
//         rows already contain it; without a key it could not be replayed idempotently).
//    Optionally (precise, not required for exactness): a row change whose key lies in a chunk
//    whose snapshot_gtid contains the change's GTID can be skipped.
//
// Where each part lives: chunk_plan.h (splitting a table by key), snapshot.h (consistent
// snapshots and their positions), full_meta.h (dts_meta: the plan, chunk commits, deferred keys),
// chunk_writer.h (how rows are encoded and written: bulk insert, LOAD DATA, INSERT); this file
// schedules chunks over the workers and pipes each chunk from its reader to its writer.
//
// Degraded modes (counted in Progress, shown by `dts status`): Degraded::kLoadDataRefused each
// time the destination refuses LOAD DATA LOCAL and a chunk is loaded again without it.
//
// Thread-safety: run() drives its own worker threads; call it from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mysql/connection.h"
#include "task/catalog.h"
#include "task/progress.h"
#include "task/task_config.h"

namespace dts::task {

struct FullLoadOptions {
  std::string task;                  // the task name, the key of its rows in dts_meta
  int parallelism = 4;               // readers (each with its own snapshot) and writers
  RateLimits limits;                 // options.full
  bool insert_ignore = false;        // conflicting_tables: ignore -> keep the destination row
  uint64_t chunk_rows = 0;           // rows per chunk; 0: chunk_bytes / average row length
  uint64_t chunk_bytes = 16u << 20;  // target bytes per chunk (rows = chunk_bytes / avg row)
  uint64_t min_chunk_rows = 1000;
  uint64_t max_chunk_rows = 100000;
  uint64_t statement_bytes =
      2u << 20;  // one INSERT / LOAD DATA at most (also < max_allowed_packet)
  // How rows are written (see FullWriteMethod). Under auto and bulk_insert a batch too large for
  // one bulk packet goes by LOAD DATA LOCAL; LOAD DATA falls back to INSERT for BIT/spatial
  // columns, and under auto also when the destination refuses it (with a warning).
  FullWriteMethod method = FullWriteMethod::kAuto;
  // The first snapshot of the run opens with DDL held off, and on_snapshot gets a reader to read
  // the definitions in force at its position (the schema history's starting definitions).
  bool hold_ddl_at_first_snapshot = false;
  // Every reader's snapshot opens at one instant (openSharedSnapshot), before any chunk: a
  // migration without incremental changes has nothing to replay what commits between snapshots,
  // so the copy is consistent only if they are one. A resumed run's rows are as of its own
  // instant (said in the log).
  bool one_snapshot = false;
};

// A chunk is what a stop, a restart or a retry loads again, so under options.full's rate limits
// chunks are sized to take about kThrottledChunkSeconds each, a worker getting its share of the
// limit: the automatic size's row cap for max_rps, and its byte target for max_mbps (never under
// min_chunk_rows). Without a limit they are max_chunk_rows and chunk_bytes; an explicit
// chunk_rows wins over both. Exposed for tests.
inline constexpr uint64_t kThrottledChunkSeconds = 10;
uint64_t throttledMaxChunkRows(const FullLoadOptions& options);
uint64_t throttledChunkBytes(const FullLoadOptions& options);

// Which queued chunk a free worker takes, given each queued chunk's table in queue order and the
// number of workers loading each table: the first chunk of the table the fewest workers are
// loading, since writers of one table contend for its index pages. nullopt: wait for the planner,
// because every queued chunk belongs to a table already being loaded while other tables are still
// being planned and the worker may still wait (`may_wait`). Exposed for tests.
std::optional<size_t> pickChunk(const std::vector<size_t>& queued_tables,
                                const std::vector<int>& active, bool planning_done, bool may_wait);

class FullLoader {
 public:
  FullLoader(mysql::ConnectOptions source, mysql::ConnectOptions dest,
             std::vector<CatalogTable> tables, FullLoadOptions options, Progress* progress,
             const std::atomic<bool>* stop, Clock* clock);

  // Called (from a worker thread, serialized) with the GTID position of each snapshot opened,
  // first one first, before any of its rows can commit, with `reader` null. For the first
  // snapshot of a run with FullLoadOptions::hold_ddl_at_first_snapshot it is called once before
  // that, with `reader` a connection to the source on which the definitions in force at that
  // position can be read (task/snapshot.h: DDL is held off until the call returns, on the source
  // server, which may also be the destination's: that call must only read, and write what it
  // read in the second call). An error fails the run.
  using OnSnapshot = std::function<Status(const std::string& gtid, mysql::Connection* reader)>;

  // Loads every chunk not yet done. Returns kAborted when stopped (whole chunks committed so
  // far stay), the first error otherwise.
  Status run(const OnSnapshot& on_snapshot);

 private:
  struct Chunk;
  struct Shared;
  // Waits for a chunk to load and takes it (pickChunk); false when there is none left, the run
  // failed or it is stopping.
  bool takeChunk(Shared& shared, Chunk* chunk);
  Status planTable(mysql::Connection& src, mysql::Connection& dest, size_t table_index,
                   Shared& shared);
  Status worker(Shared& shared, const OnSnapshot& on_snapshot);
  // *table_done: this was the table's last chunk.
  Status loadChunk(mysql::Connection& src, mysql::Connection& dest,
                   const std::string& snapshot_gtid, const Chunk& chunk, Shared& shared,
                   bool* table_done);
  // Adds the table's keys recorded in dts_meta.pending_indexes (see schema_copier.h) that do not
  // exist yet and clears the record; marks the table done. REQUIRES: every chunk of it is done.
  Status finishTable(mysql::Connection& dest, size_t table_index, Shared& shared);

  mysql::ConnectOptions source_;
  mysql::ConnectOptions dest_;
  std::vector<CatalogTable> tables_;
  FullLoadOptions options_;
  Progress* progress_;
  const std::atomic<bool>* stop_;
  Clock* clock_;  // the rate limits and how long a worker waits for the planner
};

}  // namespace dts::task
