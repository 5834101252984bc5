// DependencyTracker: decides which apply worker may take a source transaction so that parallel
// apply never reorders two transactions that touch the same row. A transaction is described by
// the hashes of its keys: for every row it changes, every unique key (primary key included) of
// both its before and after image, as (target table, key name, values) — or a table-wide key when
// the table has no usable key. Two transactions conflict when they share a key hash (a hash
// collision only costs parallelism, never correctness).
//
// Rule: a transaction goes to the one worker that holds pending (not yet committed) transactions
// sharing a key with it — behind them in that worker's queue, so order is kept — or to the least
// loaded worker when it conflicts with none. When it conflicts with two or more workers it must
// wait until releases leave at most one.
//
// Not thread-safe: the applier calls it under its own mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dts::sink {

// 64-bit FNV-1a of the bytes, the key hash used by the applier.
uint64_t hashKey(std::string_view bytes);

class DependencyTracker {
 public:
  // REQUIRES: workers >= 1.
  explicit DependencyTracker(int workers);

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
};

}  // namespace dts::sink
