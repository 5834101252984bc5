// ChangeLog: a tracking task's durable change log (DESIGN.md, data flow: the change log is a
// sink). It is written as a sink::Sink by the incremental engine and read through
// sink::ChangeLogReader by the Kafka listener and the HTTP changes endpoint, at their own pace.
// Record contents are in docs/change-records.md; this header states the storage contract.
//
// On disk (one directory per task):
//   <base>.log  segments; <base> is the offset of the segment's first record, 20 digits. A
//               segment is a sequence of record batches:
//                 magic   u32  "DTSB" (0x42535444 little-endian)
//                 length  u32  bytes after this field up to the end of the batch
//                 crc     u32  CRC-32 (common/crc32.h) of every byte after this field
//                 base    i64  offset of the batch's first record
//                 count   u32  records in the batch (>= 1)
//                 flags   u8   bit 0: the last record is a commit marker; bit 1: the first
//                              record is a begin marker
//                 max_ts  i64  the largest record timestamp in the batch (ms)
//                 raw     u32  size of the payload once decompressed
//                 payload      one zstd frame of `count` records, each
//                              ts i64, key_len u32, key, value_len u32, value
//               All integers little-endian. zstd (libzstd, already a dependency of the binlog
//               decoder for compressed events): level 1, with a 4K-entry match table and
//               7-byte minimum matches, compresses sysbench records 4.1x at ~600 MB/s per core
//               (`zstd -b1 --zstd=hlog=12,mml=7`; the default level 1: 4.2x at 500 MB/s; in
//               the log, 84.8 against 85.9 bytes per record, decode_bench);
//               lz4 is faster (940 MB/s) but compresses them 2.0x, and would be one more
//               library; zstd's negative levels drop entropy coding (2.1-2.2x).
//   <base>.idx  the segment's sparse index: 24-byte entries (begin offset i64, file position
//               i64, commit time ms i64) of transaction begin markers, one per ~index_interval
//               bytes of log. Advisory: an entry that does not point at a batch beginning with
//               its offset is an error (corruption), an index missing or shorter than the log is
//               rebuilt by reading the segment.
//
// Transactions: pieces are appended as they arrive (a begin marker, one record per row change or
// DDL, a commit marker after the last piece), written in batches of about batch_bytes, never
// holding a whole transaction in memory. A batch holds either one or more whole transactions
// (several small ones share a batch: group commit) or a part of one larger transaction; a batch
// that holds a commit marker always ends with one, so flags bit 1 says its first record is a
// begin marker and bit 0 that it ends a transaction. A transaction's records become visible to
// readers (endOffset) and its position durable (committedPosition/resumeGtid) only once its commit
// marker is on disk and fsynced. Segments roll only between transactions, so a transaction
// never spans two segments (a transaction larger than segment_bytes makes one large segment).
//
// Pipelining: apply() only queues a piece (at most queue_bytes of row images wait, so memory
// stays bounded); an appender thread encodes, compresses and writes it, so the reader's thread
// (binlog fetch and decode) and the log's work run on two cores. An error of the appender is
// sticky and returned by the next apply(), flush() or close(); pieces queued after it are
// dropped (nothing of them was durable, so nothing is lost: the task resumes from the durable
// end).
//
// Fsync policy (group commit): the appender writes a batch of whole transactions once it is full
// or once no piece waits in its queue; a background syncer fdatasyncs the active segment whenever
// commit markers were written since its last fsync, then publishes the new end; every commit
// marker written before an fsync started is covered by it, so many small transactions share one
// write, one compression and one fsync, and apply() never waits for the disk. flush() waits for the
// syncer. A segment is fsynced (and the directory, for a new file) before the next segment receives
// data.
//
// Recovery (open): the last segment is read batch by batch. A batch cut short (header or payload
// past the end of the file), or a last batch whose CRC fails, is a torn tail: the file is
// truncated there. A transaction without its commit marker at the end is cut as well. A batch
// that fails its checks and is followed by more data is corruption: open (and read) return
// kCorruption naming the file and the byte offset; nothing is ever skipped.
//
// Timestamps: a record's timestamp is its transaction's source commit time (ms). The commit
// time is known only with a transaction's last piece, so the records of a transaction that
// arrived in several pieces, except those of its last piece, carry the previous transaction's
// commit time instead (timestamps stay non-decreasing). offsetForTime() always answers at a
// transaction boundary: the begin marker of the first transaction whose commit time is >= ms
// (for a whole transaction that is exactly "the first offset whose timestamp is >= ms").
//
// Retention: whole segments only, never the active one, oldest first: a segment whose newest
// commit is older than retention_hours, and, with retention_bytes > 0, while the log is larger.
// Checked after each roll and every few seconds by the syncer. Readers that still hold an
// expired segment's file finish reading it.
//
// Errors: the first write or fsync error is sticky (Sink contract). A full disk (ENOSPC) is
// kFailedPrecondition "disk full ..." naming the file: the task stops; everything durable stays.
// After an error or close(), restartWriting() cuts what was not durable and writes again.
//
// Thread-safety: Sink methods (apply/flush/close/restartWriting) from one thread at a time (the
// writer state is the appender thread's while it runs);
// every ChangeLogReader method and committedPosition/resumeGtid/stats from any thread. Writes
// never wait for readers: readers read committed bytes with pread on their own, and share only
// a short lock around the segment list.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mysql/gtid.h"
#include "pipeline/ndjson.h"
#include "sink/change_log_reader.h"
#include "sink/sink.h"

namespace dts::sink {

struct ChangeLogOptions {
  std::string dir;                       // created if missing
  int retention_hours = 24;              // options.retention_hours, >= 1
  uint64_t retention_bytes = 0;          // options.retention_bytes; 0 = no size limit
  uint64_t segment_bytes = 64ull << 20;  // roll to a new segment past this (between transactions)
  size_t batch_bytes = 256 << 10;        // records' raw bytes per batch (compression unit)
  uint64_t index_interval = 64 << 10;    // log bytes between index entries
  int compression_level = 1;             // zstd level
  // Row images (ChangeEvent::memory_bytes) of pieces queued for the appender: apply() waits
  // beyond this (one piece is always accepted).
  size_t queue_bytes = 32 << 20;
  // A log that holds no transaction yet drops transactions committed before this (ms since the
  // epoch; 0 = none): a tracking task's options.start given as a time, exact at transaction
  // boundaries. Once one transaction is kept, every later one is.
  int64_t min_commit_ms = 0;
  std::chrono::milliseconds retention_check{5000};
  Clock* clock = SystemClock::instance();  // retention's "now"; not owned
  // Tests: run by the appender thread before it takes each piece (to let pieces pile up).
  std::function<void()> before_piece;
};

class ChangeLog final : public Sink, public ChangeLogReader {
 public:
  // Opens (recovering: see above) or creates the log in options.dir, ready to write.
  static Result<std::shared_ptr<ChangeLog>> open(ChangeLogOptions options);
  ~ChangeLog() override;

  ChangeLog(const ChangeLog&) = delete;
  ChangeLog& operator=(const ChangeLog&) = delete;

  // ---- Sink ----
  Result<std::optional<mysql::GtidPosition>> resumePosition() const override;
  Status apply(pipeline::Transaction piece) override;
  Status flush() override;
  // Flushes, cuts a transaction whose last piece was not given, stops the syncer. The log stays
  // readable; restartWriting() writes again.
  Status close() override;
  std::optional<mysql::GtidPosition> durablePosition() const override;
  // The durable position in text (the last commit marker's), "" before any.
  std::string committedPosition() const;
  SinkStats stats() const override;
  Status failure() const override;
  std::vector<TableChanges> changesByTable() const override;

  // After an error or close(): truncates the active segment to the durable end, clears the
  // error and starts writing again (a new sink session over the same log, Sink contract).
  Status restartWriting();

  // ---- ChangeLogReader ----
  int64_t firstOffset() const override;
  int64_t endOffset() const override;
  Result<int64_t> offsetForTime(int64_t ms) const override;
  Result<std::vector<LogRecord>> read(int64_t from, size_t max_bytes) const override;
  int64_t waitBeyond(int64_t offset, std::chrono::milliseconds timeout) const override;
  bool removed() const override { return removed_.load(); }
  // Its task was deleted: readers end (waiters wake now). The files go with the task.
  void markRemoved();
  // Walks batch headers (no decompression, no record held) from the batch holding `offset` to
  // the first batch flagged as ending with a commit marker, and decompresses that one only. The
  // last answer is remembered: the consumers of a large transaction, which ask again for each
  // read of it, pay the walk once. kCorruption when the marker found does not close the
  // transaction holding `offset` (its tx.seq says where that transaction began).
  Result<LogRecord> commitMarkerOf(int64_t offset) const override;

  // Total bytes of the segments on disk (metrics, retention tests).
  uint64_t diskBytes() const;
  // Batches read() has decompressed so far (tests: a read inside a large transaction does not
  // decompress the batches before it).
  uint64_t batchesDecompressed() const { return batches_decompressed_.load(); }
  size_t segmentCount() const;
  const std::string& dir() const { return options_.dir; }

  struct Segment;  // internal, exposed for the implementation's helpers only

 private:
  explicit ChangeLog(ChangeLogOptions options);
  Status recover();
  Status startSyncer();
  void stopSyncer();
  void startAppender();
  void stopAppender();
  void appenderLoop();
  // Waits until every queued piece is written (or dropped after an error).
  void drainQueue();
  // What apply() did before pipelining: encodes and writes one piece (appender thread).
  Status applyNow(const pipeline::Transaction& piece);
  void syncerLoop();
  Status rollIfNeeded();
  Status resetPosition();
  Status rewriteActiveIndex();
  Status cutToDurable();
  Status advancePosition(const pipeline::Transaction& piece);
  // A whole transaction without records: the position moves, nothing is written.
  Status skipTransaction(const pipeline::Transaction& piece);
  // The position of skipped transactions (a source busy only with what the task does not
  // record) goes to disk in the file `skipped-position` beside the segments, with the log's end
  // it follows: at most once a second while they come, and at close. Without it the position
  // would move on disk only with the next recorded transaction, and a restart would ask the
  // source for binlogs it may have purged since. recover() takes it when the log still ends
  // where it did.
  void saveSkippedPosition(bool now);
  // Drops the transaction being written (options.min_commit_ms).
  Status discardTransaction();
  void forgetOpenTransaction();  // its open transaction is gone (cut or discarded)
  void publishLocked(const std::shared_ptr<Segment>& seg, int64_t end, uint64_t bytes,
                     const std::string& position);
  static void appendPrimaryKeyNames(const mysql::TableInfo& table, std::string* out);
  static void appendTypes(const mysql::TableInfo& table, std::string* out);
  static void appendDefinition(const mysql::TableInfo& table, std::string* out);
  // A record is encoded in place at the end of the batch: beginRecord writes its timestamp and
  // key and returns where its value starts; the caller appends the value to batch_; endRecord
  // sets the value's length and counts the record (writing the batch when it is full).
  size_t beginRecord(int64_t ts, std::string_view key);
  Status endRecord(int64_t ts, size_t value_start, bool commit);
  Status writeBatch(bool commit);
  // Writes the batch, which ends with a commit marker, and hands its end to the syncer.
  Status commitBatch();
  // Writes the batch's whole transactions (all of it, or what precedes the open transaction,
  // which then begins the next batch).
  Status writeCommitted();
  Status fail(Status st);
  void enforceRetention();
  // A table's fields every row record repeats, encoded once per table definition.
  struct TableText {
    std::shared_ptr<const mysql::TableInfo> info;
    std::string database, table;      // the target names they were encoded for
    std::string names;                // ,"db":D,"table":T
    std::string columns;              // ,"pk":[...],"types":{...} (empty without a definition)
    std::vector<std::string> keys;    // NdjsonWriter::imageKeys
    std::vector<size_t> key_columns;  // the primary key's columns, in column order
  };
  const TableText& tableText(const pipeline::ChangeEvent& ev);
  void beginPieceText(const pipeline::Transaction& piece);
  // table_seq: a row's place among its transaction's rows of the same table (from 1); 0 for
  // markers and DDL, which have none.
  void appendTxFields(uint64_t seq, int64_t ts, const mysql::BinlogPosition& at, std::string* out,
                      uint64_t table_seq = 0);
  Status encodeEvent(const pipeline::ChangeEvent& ev, int64_t ts);
  Status encodeMarker(bool begin, const pipeline::Transaction& piece, int64_t ts);

  ChangeLogOptions options_;
  pipeline::NdjsonWriter ndjson_;
  int lock_fd_ = -1;  // flock'ed LOCK file: one process writes a log

  // Segment list, visible end, durable position: mu_.
  mutable std::mutex mu_;
  mutable std::condition_variable grew_;  // visible end advanced (readers' long polls)
  std::atomic<bool> removed_{false};
  std::vector<std::shared_ptr<Segment>> segments_;
  int64_t visible_end_ = 0;
  std::string durable_position_;
  std::chrono::steady_clock::time_point skipped_saved_at_{};  // the appender's
  std::string skipped_saved_;                                 // the position skipped-position holds
  Status error_;
  // Written, not yet fsynced commits (the syncer's work).
  std::condition_variable sync_cv_;
  int64_t written_end_ = 0;       // offset after the last commit marker written
  uint64_t written_bytes_ = 0;    // active segment size after that batch
  std::string written_position_;  // the position that commit completes
  std::shared_ptr<Segment> written_segment_;
  bool syncer_stop_ = false;
  bool syncer_idle_ = true;
  std::thread syncer_;

  // Pieces given to apply() and not yet written: queue_mu_.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_work_;  // the appender: a piece or stop
  std::condition_variable queue_room_;  // apply(): room (half empty); flush(): drained
  std::deque<std::pair<pipeline::Transaction, size_t>> queue_;  // piece, its bytes
  size_t queued_bytes_ = 0;
  bool appender_busy_ = false;
  bool appender_holds_ = false;  // pieces taken from the queue are being written (stats())
  bool appender_idle_ = false;   // waiting for a piece: apply() wakes it
  int room_waiters_ = 0;         // apply() waiting for room, flush() for the queue to drain
  bool appender_stop_ = false;
  std::thread appender_;
  // Pieces written, freed by the next apply() (the thread that allocated them).
  std::vector<pipeline::Transaction> garbage_;
  size_t garbage_bytes_ = 0;
  std::atomic<bool> failed_{false};  // error_ is set (read without mu_ by the appender)

  // Writer state (appender thread while it runs; the Sink's thread when it is stopped).
  bool writing_ = false;
  std::shared_ptr<Segment> active_;
  uint64_t active_size_ = 0;  // bytes written to the active segment
  int64_t next_offset_ = 0;   // offset of the next record
  std::string batch_;         // raw records of the batch being filled
  uint32_t batch_count_ = 0;
  int64_t batch_base_ = 0;
  int64_t batch_max_ts_ = 0;
  std::string key_, frame_;
  std::unordered_map<const mysql::TableInfo*, TableText> table_text_;
  std::string piece_gtid_json_, piece_tx_json_;  // beginPieceText
  std::string file_, file_json_ = "\"\"";        // the last source file encoded (JSON)
  std::shared_ptr<void> cctx_;                   // ZSTD_CCtx
  bool batch_begins_ = false;                    // the batch's first record is a begin marker
  uint32_t batch_commits_ = 0;                   // commit markers in the batch (not yet written)
  // The open transaction's begin marker in the batch: bytes and records before it, their
  // largest timestamp; its own largest timestamp; whether it is the batch's first record.
  size_t txn_batch_pos_ = 0;
  uint32_t txn_batch_count_ = 0;
  int64_t txn_prefix_max_ts_ = 0, txn_max_ts_ = 0;
  bool txn_starts_batch_ = false;
  uint64_t index_size_ = 0;  // bytes of the active segment's index file
  uint64_t txn_rows_ = 0, txn_bytes_ = 0, txn_ddl_ = 0;
  bool in_txn_ = false;
  int64_t txn_begin_offset_ = 0;
  uint64_t txn_begin_pos_ = 0;
  uint64_t txn_seq_ = 0;
  uint64_t last_index_pos_ = 0;  // file position of the last index entry of the active segment
  bool active_indexed_ = false;  // the active segment has at least one index entry
  int64_t last_commit_ts_ = 0;
  std::optional<mysql::GtidPosition> position_;  // after the last commit marker written

  // commitMarkerOf's last answer: the marker, for offsets from..marker.offset.
  mutable std::mutex commit_cache_mu_;
  mutable int64_t commit_cache_from_ = -1;
  mutable LogRecord commit_cache_;

  // Stats.
  std::atomic<uint64_t> transactions_{0}, rows_{0}, bytes_{0}, ddl_{0}, batches_{0};
  mutable std::atomic<uint64_t> batches_decompressed_{0};
  mutable std::mutex table_mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> table_rows_;
  std::map<std::pair<std::string, std::string>, uint64_t> txn_table_rows_;  // current txn
  double last_latency_ms_ = 0, max_latency_ms_ = 0;                         // table_mu_
  double last_source_commit_ms_ = 0;  // of the last transaction made durable; table_mu_
  // The transaction whose pieces are being written (stats()): its id and rows so far; table_mu_.
  std::string open_txn_;
  uint64_t open_rows_ = 0;
};

// The process's one ChangeLog of a directory: the live instance when one is open (the tracking
// task's writer, the HTTP endpoint and the Kafka listener share it), else opened now.
Result<std::shared_ptr<ChangeLog>> sharedChangeLog(const ChangeLogOptions& options);
// The log of `dir` is being deleted with its task: the live instance, if any, is marked removed
// (its readers end) and no longer shared, so a task created again under that name opens its own.
void forgetSharedChangeLog(const std::string& dir);

// A Sink over a shared ChangeLog: restartWriting() when made, close() when destroyed if not
// closed. What the tracking task's sink factory hands to the incremental engine.
Result<std::unique_ptr<Sink>> changeLogSink(std::shared_ptr<ChangeLog> log);

}  // namespace dts::sink
