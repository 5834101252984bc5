// Progress: live counters of a running task, written by the loaders and the applier from many
// threads (atomics), read by the terminal view, `dts status` (through the state store) and a
// later server. Rates are sampled by whoever displays them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "task/state_store.h"

namespace dts::task {

class Progress {
 public:
  struct Table {
    std::string source_database, source_table, target_database, target_table;
    std::atomic<uint64_t> rows_done{0};
    std::atomic<uint64_t> rows_estimated{0};
    std::atomic<uint64_t> bytes_done{0};
    std::atomic<bool> done{false};
    std::atomic<uint64_t> changes_applied{0};  // incremental row changes (TableProgress)
  };

  // Adds a table; the pointer stays valid for the Progress' lifetime. Thread-safe (the
  // incremental phase adds tables created on the source while it runs).
  Table* addTable(const std::string& source_db, const std::string& source_table,
                  const std::string& target_db, const std::string& target_table);
  Table* findTable(const std::string& source_db, const std::string& source_table);
  std::vector<TableProgress> tables() const;
  // The source no longer has the table (dropped, or renamed: its new name is another table):
  // tables() and findTable() leave it out from now on (pointers given out stay valid), and
  // forgotten() is true until reselected() says the name exists again (created anew). Thread-safe.
  void forgetTable(const std::string& source_db, const std::string& source_table);
  void reselected(const std::string& source_db, const std::string& source_table);
  bool forgotten(const std::string& source_db, const std::string& source_table) const;

  // Counts rows/bytes moved (full or incremental) for the rates.
  void addMoved(uint64_t rows, uint64_t bytes) {
    rows_.fetch_add(rows, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  uint64_t rowsMoved() const { return rows_.load(); }
  uint64_t bytesMoved() const { return bytes_.load(); }

  // Source commit -> destination apply, reported by the applier; < 0 when unknown.
  void setLatencyMs(double ms) { latency_ms_.store(ms); }
  double latencyMs() const { return latency_ms_.load(); }

  // The applier's committed position (incremental), for the task state; "" until known.
  void setCheckpoint(std::string gtid) {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint_ = std::move(gtid);
  }
  std::string checkpoint() {
    std::lock_guard<std::mutex> lock(mu_);
    return checkpoint_;
  }

  // A phase that was retried is working again (connected, streaming): the runner clears the
  // "retrying ..." line of the task state.
  void noteHealthy() { healthy_.store(true); }
  bool takeHealthy() { return healthy_.exchange(false); }

  // Counts one occurrence of a degraded mode (the caller logs it). Thread-safe.
  void countDegraded(Degraded mode) {
    degraded_[static_cast<size_t>(mode)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t degradedCount(Degraded mode) const {
    return degraded_[static_cast<size_t>(mode)].load(std::memory_order_relaxed);
  }
  // Starts the counts where an earlier run left them (TaskState::degraded; unknown names are
  // ignored here). Call before the task runs.
  void restoreDegraded(const std::map<std::string, uint64_t>& counts);
  // Writes each mode counted so far into counts (by degradedName), leaving other names alone.
  void storeDegraded(std::map<std::string, uint64_t>* counts) const;

  // The sink's queue and batching, published by the incremental engine about twice a second (the
  // server's metrics: applier queue depth, transactions per batch). Zero until incremental runs.
  struct SinkGauges {
    uint64_t queued_transactions = 0;
    uint64_t transactions_applied = 0;  // this run
    uint64_t batches = 0;               // this run
    OpenTransaction open_transaction;
    // A tracking task's change log (sink::SinkStats::log_*): -1 for other sinks.
    int64_t log_first_offset = -1;
    int64_t log_end_offset = -1;
    uint64_t log_disk_bytes = 0;
  };
  void setSinkGauges(SinkGauges g) {
    std::lock_guard<std::mutex> lock(gauges_mu_);
    gauges_ = std::move(g);
  }
  SinkGauges sinkGauges() const {
    std::lock_guard<std::mutex> lock(gauges_mu_);
    return gauges_;
  }

  void setPhase(TaskPhase p) { phase_.store(static_cast<int>(p)); }
  TaskPhase phase() const { return static_cast<TaskPhase>(phase_.load()); }

  struct Rates {
    double rps = 0;
    double mbps = 0;
  };
  // Rates over the last ~5 seconds of samples. Thread-safe.
  Rates sample(std::chrono::steady_clock::time_point now);

 private:
  mutable std::mutex tables_mu_;
  std::vector<std::unique_ptr<Table>> tables_;  // guarded by tables_mu_ (the Tables are atomics)
  // By source (database, table), so findTable stays cheap with thousands of tables (the loaders,
  // the runner and the incremental publisher look tables up). Guarded by tables_mu_.
  std::map<std::pair<std::string, std::string>, Table*> by_source_;
  std::vector<std::unique_ptr<Table>> forgotten_tables_;           // guarded by tables_mu_
  std::set<std::pair<std::string, std::string>> forgotten_names_;  // guarded by tables_mu_
  std::atomic<uint64_t> rows_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<double> latency_ms_{-1};
  std::atomic<int> phase_{0};
  std::atomic<bool> healthy_{false};
  mutable std::mutex gauges_mu_;
  SinkGauges gauges_;  // guarded by gauges_mu_
  std::array<std::atomic<uint64_t>, std::size(kAllDegraded)> degraded_{};
  std::mutex mu_;
  struct Sample {
    std::chrono::steady_clock::time_point at;
    uint64_t rows, bytes;
  };
  std::deque<Sample> samples_;
  std::string checkpoint_;  // guarded by mu_
};

// One line per phase/table for a terminal that is not a TTY, or a frame of bars for one that is.
// A transaction being applied in pieces (open) is shown with its rows so far: rows/s counts
// committed rows only, and stays at 0 while one large transaction is applied. Row totals are
// never below the rows done: a table still loading shows "~" before its total (an estimate,
// at least its rows done), a loaded one its exact count.
// `tracking` (non-null for a tracking task, which loads nothing) replaces the tables and rows
// loaded with its change log: records, offsets, size on disk and retention.
// source: the replication health of the secondary node read; while it is stopped the latency
// reads "unknown (source node replication stopped)" instead of a number, whatever the stream
// says, and its own line says why; while it runs, the node's own delay follows the latency
// (kUnknown adds nothing here: callers that show a state, not a live frame, print it).
std::string renderProgress(const std::string& task, TaskPhase phase,
                           const std::vector<TableProgress>& tables, Progress::Rates rates,
                           double latency_ms, bool tty, const OpenTransaction& open = {},
                           const TrackingLogState* tracking = nullptr,
                           const source::ReplicationHealth& source = {});

// 1234567 -> "1,234,567"
std::string groupDigits(uint64_t n);
// 1536 -> "1.5 KB", 0 -> "0 B" (powers of 1024).
std::string humanBytes(uint64_t bytes);
// A table's rows as `dts status` shows them: "1,480/1,480" once loaded, "500/~1,480" while
// loading (the total an estimate, never below the rows done).
std::string rowsOfTotal(const TableProgress& t);

}  // namespace dts::task
