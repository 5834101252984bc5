// RowPrefetcher: reads, on a destination session of its own, the rows that the next pieces of a
// streamed (large) transaction will write, while apply worker 1 still writes the piece before.
// The pages those rows live on are then in the destination's buffer pool when the piece's
// REPLACE, UPDATE or DELETE statements run, instead of being read from disk one page at a time
// by the applying session.
//
// Measured (bench/large_transaction_bench.sh: one UPDATE of 1,000,000 rows of 500 bytes, a
// destination buffer pool of 256 MB, so most pages are on disk): without it, 80% of the applying
// session's context switches were a synchronous page read under REPLACE's insert probe, 8% of its
// time, where the native replica's SQL thread spent 1% on reads. With the reads ahead the
// session reads nothing (a quarter of its context switches remain), and dts applies the
// transaction in the replica's time: 13.51 s median against 13.55 s over 5 rounds in two runs,
// 16.76 s without.
//
// The reads are `SELECT COUNT(*) FROM t WHERE (key columns) IN (...)` by the row's identity (the
// primary key, else a NOT NULL unique key), with the key tuples and the form of the applier's
// multi-row DELETE (batch_sql.h: columnList, keyTuple), at most kKeysPerRead keys each, under READ
// UNCOMMITTED (no lock is taken and no old row version is built) and a statement time limit. They
// change nothing, so they may be late, dropped or fail: a failure is logged once and ends
// prefetching for the applier's life; it never fails the task. Reads of a piece that has started
// applying are dropped, and at most kMaxPieces pieces wait (older ones are dropped first): the keys
// as literals, at most about twice a piece's row images each.
//
// Thread-safety: submit() and started() from any thread; the reads run on the prefetcher's own
// thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "pipeline/change_event.h"
#include "sink/batch_sql.h"
#include "sink/destination_session.h"

namespace dts::sink {

class RowPrefetcher {
 public:
  static constexpr size_t kKeysPerRead = 1000;
  static constexpr size_t kMaxPieces = 2;

  // The reads that bring the rows `events` change into the destination's memory: by table run,
  // the key of each update's and delete's before image (an insert's row is new). Events of
  // tables without an identity, whose image lacks a key column or whose key has no exact literal
  // are left out. keys[i] describes events[i].
  static std::vector<std::string> readsFor(
      const std::vector<pipeline::ChangeEvent>& events,
      const std::vector<std::shared_ptr<const TableKeys>>& keys);

  // Starts the thread, which sets the session up (READ UNCOMMITTED, a statement time limit for
  // `destination`) before its first read. `task` names the task in the log.
  RowPrefetcher(std::unique_ptr<DestinationSession> session, mysql::ServerFlavor destination,
                std::string task);
  ~RowPrefetcher();  // stops the thread after the read in progress
  RowPrefetcher(const RowPrefetcher&) = delete;
  RowPrefetcher& operator=(const RowPrefetcher&) = delete;

  // Queues the reads of piece `piece` (increasing from one call to the next).
  void submit(uint64_t piece, std::vector<std::string> reads);
  // Piece `piece` started applying: its reads and those of earlier pieces that have not run are
  // dropped.
  void started(uint64_t piece);

  struct Stats {
    uint64_t reads = 0;    // run
    uint64_t dropped = 0;  // not run: their piece had started, or newer pieces were queued
    bool failed = false;   // a read failed: prefetching ended
  };
  Stats stats() const;

 private:
  void loop();

  std::unique_ptr<DestinationSession> session_;
  const mysql::ServerFlavor destination_;
  const std::string task_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Piece {
    uint64_t piece;
    std::deque<std::string> reads;
  };
  std::deque<Piece> queue_;
  uint64_t started_ = 0;  // the last piece started()
  bool stop_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace dts::sink
