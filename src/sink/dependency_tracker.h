// DependencyTracker: decides which apply worker may take a source transaction so that parallel
// apply never reorders two transactions that touch the same row. A transaction is described by
// the hashes of its keys: for every row it changes, every unique key (primary key included) of
// both its before and after image, as (target table, key name, values) — or a table-wide key when
// the table has no usable key. Two transactions conflict when they share a key hash (a hash
// collision only costs parallelism, never correctness).
//
// Rule: a transaction goes to the one worker that holds pending (not yet committed) transactions
// sharing a key with it — behind them in that worker's queue, so order is kept — or, when it
// conflicts with none, to the previous transaction's worker until that one holds `stick` pending
// transactions, then to the least loaded worker. When it conflicts with two or more workers it must
// wait until releases leave at most one.
//
// Not thread-safe: the applier calls it under its own mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pipeline/change_event.h"
#include "sink/batch_sql.h"

namespace dts::sink {

// 64-bit FNV-1a of the bytes, the key hash used by the applier.
uint64_t hashKey(std::string_view bytes);

// Appends the key hashes of one row change: for each unique key of `keys`, of the before and the
// after image (a key with a NULL never conflicts), or one table-wide hash when a key is not in
// the image. Values the destination's key holds equal hash equal: numbers by value, binary
// strings by bytes, PAD SPACE *_bin strings without trailing spaces, and strings of any other
// collation (case/accent-insensitive) not at all, so every change to such a key of the table
// conflicts with every other.
void addKeyHashes(const pipeline::ChangeEvent& ev, const TableKeys& keys,
                  std::vector<uint64_t>* out);

class DependencyTracker {
 public:
  // REQUIRES: workers >= 1. stick: a transaction without conflicts goes to the worker that took
  // the previous one while that worker holds fewer than `stick` pending transactions (1: always
  // the least loaded worker).
  explicit DependencyTracker(int workers, size_t stick = 1);

  // The worker that may take a transaction with these keys now, or nullopt when it conflicts
  // with pending transactions of two or more workers.
  std::optional<int> chooseWorker(const std::vector<uint64_t>& keys) const;
  // Records that transaction seq (increasing across calls) with these keys went to worker.
  void assign(int worker, uint64_t seq, const std::vector<uint64_t>& keys);
  // Records that transaction seq committed on worker: its keys no longer block anyone, unless a
  // later transaction took them over.
  void release(int worker, uint64_t seq, const std::vector<uint64_t>& keys);

  size_t pending(int worker) const { return pending_[static_cast<size_t>(worker)]; }
  size_t trackedKeys() const { return keys_.size(); }

 private:
  struct Owner {
    int worker;
    uint64_t seq;  // the last transaction that touched the key
  };
  std::unordered_map<uint64_t, Owner> keys_;
  std::vector<size_t> pending_;
  mutable size_t next_ = 0;  // round-robin among equally loaded workers
  size_t stick_;
  int last_ = -1;  // the worker of the last assign()
};

}  // namespace dts::sink
