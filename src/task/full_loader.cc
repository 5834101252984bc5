#include "task/full_loader.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "mysql/bulk_statement.h"
#include "mysql/load_data.h"
#include "sink/sql_literal.h"
#include "task/chunk_plan.h"
#include "task/chunk_writer.h"
#include "task/full_meta.h"
#include "task/snapshot.h"
#include "task/throttle.h"

namespace dts::task {

struct FullLoader::Chunk {
  size_t table = 0;
  ChunkRange range;
};

struct FullLoader::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  bool planning_done = false;
  Status error;
  std::vector<int> remaining;  // chunks left per table
  std::vector<int> active;     // workers loading a chunk of each table
  std::vector<Progress::Table*> progress;
  // Per table: its destination columns have the source's character sets (raw mode, see
  // chunk_writer.h): a table dts created always; one kept by conflicting_tables: ignore when
  // planTable found them equal. Set before the table's chunks are queued.
  std::vector<char> raw_bytes;
  std::mutex snapshot_mu;        // snapshot open + on_snapshot, so positions are reported in order
  bool snapshot_opened = false;  // by any worker of this run; guarded by snapshot_mu
  SnapshotPositionCache snapshot_gtids;  // under snapshot_mu
  std::unique_ptr<Throttle> throttle;
  std::atomic<bool> failed{false};
  std::atomic<bool> load_data{true};  // LOAD DATA LOCAL accepted so far
  std::atomic<bool> bulk{true};       // auto: every destination connection takes bulk_insert
  std::atomic<uint64_t> max_packet{16u << 20};  // the destination's max_allowed_packet
  // FullLoadOptions::one_snapshot: connections whose snapshots opened together, at shared_gtid,
  // one taken by each worker (under snapshot_mu).
  std::vector<std::unique_ptr<mysql::Connection>> shared_readers;
  std::string shared_gtid;
  std::atomic<bool> resumed_rows_warned{false};

  void fail(Status st) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(st);
    failed = true;
    cv.notify_all();
  }
};

FullLoader::FullLoader(mysql::ConnectOptions source, mysql::ConnectOptions dest,
                       std::vector<CatalogTable> tables, FullLoadOptions options,
                       Progress* progress, const std::atomic<bool>* stop, Clock* clock)
    : source_(std::move(source)),
      dest_(std::move(dest)),
      tables_(std::move(tables)),
      options_(std::move(options)),
      progress_(progress),
      stop_(stop),
      clock_(clock) {}

namespace {

// Whether every copied text column of t has, at the destination, the character set it has at
// the source (an existing table kept by conflicting_tables: ignore).
Result<bool> sameCharsetsAtDestination(mysql::Connection& dest, const CatalogTable& t) {
  DTS_ASSIGN_OR_RETURN(auto rows,
                       dest.query("SELECT COLUMN_NAME, IFNULL(CHARACTER_SET_NAME, '') FROM "
                                  "information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
                                  dest.quoteString(t.route.target_database) +
                                  " AND TABLE_NAME = " + dest.quoteString(t.route.target_table)));
  std::map<std::string, std::string> at_dest;
  for (const auto& r : rows.rows) {
    if (r.size() >= 2 && r[0]) at_dest[toLower(*r[0])] = r[1].value_or("");
  }
  for (const std::string& name : t.copy_columns) {
    for (const CatalogColumn& c : t.columns) {
      if (c.name != name || c.charset.empty()) continue;
      auto it = at_dest.find(toLower(name));
      if (it == at_dest.end() || it->second != c.charset) return false;
    }
  }
  return true;
}

// unique_checks stays 1 on purpose. With unique_checks = 0 AND foreign_key_checks = 0, the first
// transaction inserting into an empty InnoDB table (MariaDB >= 10.7, MDEV-24621 bulk insert)
// takes an exclusive table lock until it commits: every other worker loading a chunk of that
// table waits (measured: the second writer blocks for the whole first chunk), and a throttled
// or slow first chunk makes them fail on innodb_lock_wait_timeout. Its gain here was small
// (about 7% less destination CPU on that one chunk), and unique_checks = 0 would also let a
// unique-key conflict in silently instead of failing the chunk.
// foreign_key_checks = 0: chunks of child tables may land before their parents' rows. No CHECK
// constraint checks on MariaDB (sink::checkConstraintsOff): a row the source holds is copied.
// sql_mode strict (sink::strictSqlMode): a value the destination would change is an error; LOAD
// DATA LOCAL, which only warns, is checked by ChunkWriter.
Status prepareDest(mysql::Connection& dest) {
  return dest.execute(
      "SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0, SESSION sql_mode = '" +
      std::string(sink::strictSqlMode()) + "'" +
      std::string(sink::checkConstraintsOff(dest.isMariaDB() ? mysql::ServerFlavor::kMariaDb
                                                             : mysql::ServerFlavor::kMySql)));
}

Result<std::unique_ptr<mysql::Connection>> connectLong(mysql::ConnectOptions o) {
  o.read_timeout = std::chrono::seconds(3600);
  o.write_timeout = std::chrono::seconds(3600);
  return mysql::Connection::connect(o);
}

// Streams `select` from src on a reader thread that encodes batches of about statement_bytes, and
// hands each batch to write() on this thread, so reading the next batch overlaps writing the
// previous one. At most kQueued batches wait (memory: a few statement_bytes per worker). The
// reader stops when keep_going() turns false or write() fails (the source result is drained).
// Returns write()'s first error; *read gets the reader's status.
template <typename KeepGoing, typename Write>
Status pipeRows(mysql::Connection& src, const std::string& select, const BatchEncoder& encoder,
                KeepGoing&& keep_going, Write&& write, Status* read) {
  constexpr size_t kQueued = 2;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<RowBatch> queue;
  bool reader_done = false;
  bool cancel = false;  // the writer gave up: the reader stops
  std::thread reader([&] {
    RowBatch cur = encoder.fresh();
    auto push = [&]() -> bool {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < kQueued || cancel; });
      if (cancel) return false;
      queue.push_back(std::move(cur));
      cv.notify_all();
      lock.unlock();
      cur = encoder.fresh();
      return true;
    };
    Status encoded;  // a value the destination cannot store stops the read
    Status st =
        src.queryStream(select, [&](const char* const* f, const unsigned long* len, unsigned n) {
          // A row that would take the batch past statement_bytes starts a new one, so a huge row
          // travels alone (bounded by the destination's max_allowed_packet, checked when writing).
          if (encoder.wouldOverflow(cur, len, n) && !push()) return false;
          encoded = encoder.append(cur, f, len, n);
          if (!encoded.ok()) return false;
          if (encoder.full(cur) && !push()) return false;
          return keep_going();
        });
    if (st.ok() && !encoded.ok()) st = encoded;
    if (st.ok() && cur.rows > 0 && keep_going()) push();
    std::lock_guard<std::mutex> lock(mu);
    *read = st;
    reader_done = true;
    cv.notify_all();
  });
  Status write_error;
  while (write_error.ok()) {
    RowBatch b;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || reader_done; });
      if (queue.empty()) break;  // reader_done and everything written
      b = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    write_error = write(b);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    cancel = true;
    cv.notify_all();
  }
  reader.join();
  return write_error;
}

}  // namespace

Status FullLoader::planTable(mysql::Connection& src, mysql::Connection& dest, size_t ti,
                             Shared& shared) {
  const CatalogTable& t = tables_[ti];
  Progress::Table* prog = shared.progress[ti];
  std::vector<ChunkRange> pending;
  DTS_ASSIGN_OR_RETURN(auto recorded, loadChunkPlan(dest, options_.task, t));
  if (recorded.has_value()) {
    pending = std::move(recorded->pending);
    prog->rows_estimated = recorded->planned_rows;
    prog->rows_done = recorded->loaded_rows;
    if (options_.one_snapshot && recorded->loaded_rows > 0 &&
        !shared.resumed_rows_warned.exchange(true))
      spdlog::warn(
          "task {}: full data resumed: the rows loaded before the restart are as of an earlier "
          "instant than those loaded now, and without incremental changes nothing reconciles "
          "them (run the task from the start, or set options.incremental, for one instant)",
          options_.task);
  } else {
    uint64_t chunk_rows = chunkRowsFor(t, options_.chunk_rows, throttledChunkBytes(options_),
                                       options_.min_chunk_rows, throttledMaxChunkRows(options_));
    DTS_ASSIGN_OR_RETURN(ChunkPlan plan, planChunks(src, t, chunk_rows, *stop_));
    DTS_RETURN_IF_ERROR(saveChunkPlan(dest, options_.task, t, plan, options_.statement_bytes));
    pending = std::move(plan.chunks);
    prog->rows_estimated = plan.total_rows;
    prog->rows_done = 0;
  }
  bool raw = true;
  if (options_.insert_ignore) {
    DTS_ASSIGN_OR_RETURN(raw, sameCharsetsAtDestination(dest, t));
    if (!raw)
      spdlog::info(
          "{}: the destination table's character sets differ from the source's; its "
          "text travels as utf8mb4 and each server converts",
          t.describe());
  }
  std::lock_guard<std::mutex> lock(shared.mu);
  shared.raw_bytes[ti] = raw;
  shared.remaining[ti] = static_cast<int>(pending.size());
  for (auto& c : pending) shared.queue.push_back(Chunk{ti, std::move(c)});
  shared.cv.notify_all();
  return Status::OK();
}

Status FullLoader::loadChunk(mysql::Connection& src, mysql::Connection& dest,
                             const std::string& snapshot_gtid, const Chunk& chunk, Shared& shared,
                             bool* table_done) {
  const CatalogTable& t = tables_[chunk.table];
  Progress::Table* prog = shared.progress[chunk.table];
  bool raw = false;
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    raw = shared.raw_bytes[chunk.table] != 0;
  }
  const ChunkFormat format = chunkFormat(
      t, options_.method, shared.load_data.load(), shared.bulk.load(), options_.insert_ignore, raw,
      dest.isMariaDB() ? mysql::ServerFlavor::kMariaDb : mysql::ServerFlavor::kMySql);
  auto quote = [&](std::string_view s) { return src.quoteString(s); };
  const ChunkRange& range = chunk.range;
  std::string where = chunkPredicate(t, range.lower ? &*range.lower : nullptr,
                                     range.upper ? &*range.upper : nullptr, quote);
  if (t.route.filter != nullptr) where = "(" + where + ") AND " + t.route.filter->toSql(quote);
  const std::string select = "SELECT " + format.select_list + " FROM " +
                             mysql::quoteQualified(t.route.source_database, t.route.source_table) +
                             " WHERE " + where;
  const std::string what = t.describe() + " chunk " + std::to_string(range.number);
  DTS_RETURN_IF_ERROR(src.execute(format.raw ? "SET SESSION character_set_results = NULL"
                                             : "SET SESSION character_set_results = utf8mb4"));
  DTS_ASSIGN_OR_RETURN(auto writer,
                       ChunkWriter::open(dest, format, t, what, shared.max_packet.load()));
  uint64_t rows = 0, bytes = 0;  // this attempt's, counted in the progress as they are written
  // A chunk rolled back is loaded again (now, by another method, or by a later run): its rows
  // leave the progress with it, so that no row is ever counted twice.
  auto rollback = [&](Status st) {
    (void)dest.execute("ROLLBACK");
    prog->rows_done -= std::min<uint64_t>(rows, prog->rows_done.load());
    prog->bytes_done -= std::min<uint64_t>(bytes, prog->bytes_done.load());
    rows = bytes = 0;
    return st;
  };

  DTS_RETURN_IF_ERROR(dest.execute("START TRANSACTION"));
  Status read;
  Status write_error = pipeRows(
      src, select, BatchEncoder(format, options_.statement_bytes),
      [&] { return !stop_->load() && !shared.failed.load(); },
      [&](const RowBatch& b) -> Status {
        DTS_RETURN_IF_ERROR(writer->write(b));
        rows += b.rows;
        bytes += b.bytes;
        prog->rows_done += b.rows;
        prog->bytes_done += b.bytes;
        progress_->addMoved(b.rows, b.bytes);
        if (!shared.throttle->acquire(b.rows, b.bytes, *stop_)) return Status::Aborted("stopped");
        return Status::OK();
      },
      &read);
  if (writer->loadDataRefused() && options_.method != FullWriteMethod::kLoadData) {
    // LOAD DATA LOCAL refused (the server or client does not allow it): this chunk again, and
    // every later one, without it.
    (void)rollback(write_error);
    writer.reset();
    progress_->countDegraded(Degraded::kLoadDataRefused);
    if (shared.load_data.exchange(false)) {
      spdlog::warn("destination refuses LOAD DATA LOCAL INFILE ({}); full data goes on without it",
                   write_error.toString());
    }
    return loadChunk(src, dest, snapshot_gtid, chunk, shared, table_done);
  }
  if (!write_error.ok()) return rollback(write_error);
  if (!read.ok()) return rollback(read.withContext("reading " + what));
  if (stop_->load()) return rollback(Status::Aborted("stopped"));
  if (shared.failed.load()) return rollback(Status::Aborted("another worker failed"));
  Status st = markChunkDone(dest, options_.task, t, range.number, snapshot_gtid, rows);
  if (!st.ok()) return rollback(st);
  DTS_RETURN_IF_ERROR(dest.execute("COMMIT").withContext("committing " + what));
  std::lock_guard<std::mutex> lock(shared.mu);
  *table_done = --shared.remaining[chunk.table] == 0;
  return Status::OK();
}

Status FullLoader::finishTable(mysql::Connection& dest, size_t ti, Shared& shared) {
  if (stop_->load()) return Status::OK();  // the keys stay pending; the next run adds them
  DTS_RETURN_IF_ERROR(addPendingKeys(dest, tables_[ti]));
  std::lock_guard<std::mutex> lock(shared.mu);
  shared.progress[ti]->done = true;
  return Status::OK();
}

uint64_t throttledMaxChunkRows(const FullLoadOptions& o) {
  if (o.limits.max_rps == 0) return o.max_chunk_rows;
  const uint64_t share =
      o.limits.max_rps * kThrottledChunkSeconds / static_cast<uint64_t>(std::max(1, o.parallelism));
  return std::max(o.min_chunk_rows, std::min(o.max_chunk_rows, share));
}

uint64_t throttledChunkBytes(const FullLoadOptions& o) {
  if (o.limits.max_mbps <= 0) return o.chunk_bytes;
  const double share =
      o.limits.max_mbps * 1e6 * kThrottledChunkSeconds / std::max(1, o.parallelism);
  return std::max<uint64_t>(1, std::min<uint64_t>(o.chunk_bytes, static_cast<uint64_t>(share)));
}

std::optional<size_t> pickChunk(const std::vector<size_t>& queued_tables,
                                const std::vector<int>& active, bool planning_done, bool may_wait) {
  if (queued_tables.empty()) return std::nullopt;
  size_t pick = 0;
  for (size_t i = 1; i < queued_tables.size(); ++i) {
    if (active[queued_tables[i]] < active[queued_tables[pick]]) pick = i;
  }
  if (active[queued_tables[pick]] > 0 && !planning_done && may_wait) return std::nullopt;
  return pick;
}

bool FullLoader::takeChunk(Shared& shared, Chunk* chunk) {
  std::unique_lock<std::mutex> lock(shared.mu);
  // While tables are still being planned, a worker that would join a table already being loaded
  // waits a little for the next table's chunks: at the start, every worker used to take a chunk
  // of the first table planned (measured: 1.4x longer for 4 x 250k rows).
  const auto patience = clock_->now() + std::chrono::milliseconds(500);
  std::vector<size_t> queued_tables;
  while (true) {
    shared.cv.wait(lock, [&] {
      return !shared.queue.empty() || shared.planning_done || shared.failed || stop_->load();
    });
    if (shared.failed || stop_->load() || shared.queue.empty()) return false;
    queued_tables.clear();
    for (const auto& c : shared.queue) queued_tables.push_back(c.table);
    auto i =
        pickChunk(queued_tables, shared.active, shared.planning_done, clock_->now() < patience);
    if (i.has_value()) {
      auto pick = shared.queue.begin() + static_cast<std::ptrdiff_t>(*i);
      *chunk = std::move(*pick);
      shared.queue.erase(pick);
      break;
    }
    shared.cv.wait_for(lock, patience - clock_->now());
  }
  ++shared.active[chunk->table];
  spdlog::debug("{} chunk {}: taken ({} workers on the table, {} chunks queued)",
                tables_[chunk->table].describe(), chunk->range.number, shared.active[chunk->table],
                shared.queue.size());
  return true;
}

Status FullLoader::worker(Shared& shared, const OnSnapshot& on_snapshot) {
  DTS_ASSIGN_OR_RETURN(auto dest, connectLong(dest_));
  // Needed before any LOAD DATA LOCAL; a client built without it makes the server refuse, which
  // loadChunk turns into another method (unless load_data was asked for).
  if (options_.method != FullWriteMethod::kInsert) mysql::enableLocalInfile(*dest);
  const bool bulk = mysql::BulkStatement::supported(*dest);
  if (options_.method == FullWriteMethod::kBulkInsert && !bulk) {
    return Status::FailedPrecondition(
        "options.full.method bulk_insert: the destination " + dest_.endpoint.toString() +
        " does not take arrays of parameters (MariaDB 10.2 or later does); use auto");
  }
  if (!bulk) shared.bulk = false;
  DTS_ASSIGN_OR_RETURN(shared.max_packet, dest->maxAllowedPacket());
  DTS_RETURN_IF_ERROR(prepareDest(*dest));
  std::unique_ptr<mysql::Connection> src;
  std::string gtid;
  Chunk chunk;
  while (takeChunk(shared, &chunk)) {
    if (src == nullptr && !shared.shared_readers.empty()) {
      std::lock_guard<std::mutex> lock(shared.snapshot_mu);
      if (!shared.shared_readers.empty()) {
        src = std::move(shared.shared_readers.back());
        shared.shared_readers.pop_back();
        gtid = shared.shared_gtid;
      }
    }
    if (src == nullptr) {
      // The snapshot opens when the worker first has work, and its position is reported before
      // any of its rows can commit.
      std::lock_guard<std::mutex> lock(shared.snapshot_mu);
      DTS_ASSIGN_OR_RETURN(src, connectLong(source_));
      AtSnapshotPosition at_position;
      if (options_.hold_ddl_at_first_snapshot && !shared.snapshot_opened) {
        at_position = [&](mysql::Connection& reader, const std::string& at) {
          return on_snapshot(at, &reader);
        };
      }
      auto snap = openSnapshot(*src, &shared.snapshot_gtids, at_position);
      if (!snap.ok()) return snap.status().withContext("opening a consistent snapshot");
      gtid = *snap;
      DTS_RETURN_IF_ERROR(on_snapshot(gtid, nullptr));
      shared.snapshot_opened = true;
    }
    bool table_done = false;
    Status loaded = loadChunk(*src, *dest, gtid, chunk, shared, &table_done);
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      --shared.active[chunk.table];
    }
    DTS_RETURN_IF_ERROR(loaded);
    // The worker that loads a table's last chunk builds its deferred keys while the others go
    // on with other tables.
    if (table_done) DTS_RETURN_IF_ERROR(finishTable(*dest, chunk.table, shared));
  }
  return Status::OK();
}

Status FullLoader::run(const OnSnapshot& on_snapshot) {
  Shared shared;
  shared.remaining.assign(tables_.size(), 0);
  shared.active.assign(tables_.size(), 0);
  shared.raw_bytes.assign(tables_.size(), 0);
  shared.throttle = std::make_unique<Throttle>(options_.limits, clock_);
  for (const auto& t : tables_) {
    auto* p = progress_->findTable(t.route.source_database, t.route.source_table);
    if (p == nullptr) {
      p = progress_->addTable(t.route.source_database, t.route.source_table,
                              t.route.target_database, t.route.target_table);
    }
    shared.progress.push_back(p);
  }
  {
    DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_));
    DTS_RETURN_IF_ERROR(ensureMetaSchema(*dest));
  }
  if (options_.one_snapshot) {
    std::vector<std::unique_ptr<mysql::Connection>> readers;
    std::vector<mysql::Connection*> raw;
    for (int i = 0; i < options_.parallelism; ++i) {
      DTS_ASSIGN_OR_RETURN(auto c, connectLong(source_));
      raw.push_back(c.get());
      readers.push_back(std::move(c));
    }
    auto at = openSharedSnapshot(source_, raw);
    if (!at.ok()) return at.status().withContext("opening the readers' snapshot");
    if (at->has_value()) {
      DTS_RETURN_IF_ERROR(on_snapshot(**at, nullptr));
      shared.shared_readers = std::move(readers);
      shared.shared_gtid = **at;
      shared.snapshot_opened = true;
      spdlog::info("task {}: {} readers share one snapshot at {}", options_.task,
                   options_.parallelism, at->value().empty() ? "the source's start" : **at);
    } else {
      spdlog::warn(
          "task {}: the source refused to hold commits off (BACKUP STAGE / FLUSH TABLES WITH "
          "READ LOCK need RELOAD): each of the {} readers opens its own snapshot, so a copy of a "
          "source that is being written is not of one instant, and without incremental changes "
          "nothing makes it so (grant RELOAD, or set options.incremental)",
          options_.task, options_.parallelism);
    }
  }
  std::vector<std::thread> threads;
  std::vector<Status> results(static_cast<size_t>(options_.parallelism));
  for (int i = 0; i < options_.parallelism; ++i) {
    threads.emplace_back([&, i] {
      Status st = worker(shared, on_snapshot);
      if (!st.ok() && st.code() != Status::Code::kAborted) shared.fail(st);
      results[static_cast<size_t>(i)] = st;
    });
  }
  // Plan on this thread, feeding the workers table by table (largest first balances better).
  std::vector<size_t> order(tables_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tables_[a].estimated_rows * std::max<uint64_t>(tables_[a].avg_row_length, 1) >
           tables_[b].estimated_rows * std::max<uint64_t>(tables_[b].avg_row_length, 1);
  });
  Status plan_status = [&]() -> Status {
    DTS_ASSIGN_OR_RETURN(auto src, connectLong(source_));
    DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_));
    for (size_t ti : order) {
      if (stop_->load() || shared.failed.load()) break;
      DTS_RETURN_IF_ERROR(planTable(*src, *dest, ti, shared));
    }
    return Status::OK();
  }();
  if (!plan_status.ok() && plan_status.code() != Status::Code::kAborted) shared.fail(plan_status);
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    shared.planning_done = true;
    shared.cv.notify_all();
  }
  for (auto& th : threads) th.join();
  if (!shared.error.ok()) return shared.error;
  if (stop_->load())
    return Status::Aborted("full data stopped on request; whole chunks loaded so far are kept");
  // Keys still pending: tables whose chunks were all done by an earlier run. Every key exists
  // before run() returns, so the incremental phase never starts without them.
  DTS_ASSIGN_OR_RETURN(auto dest, connectLong(dest_));
  for (size_t ti = 0; ti < tables_.size(); ++ti)
    DTS_RETURN_IF_ERROR(finishTable(*dest, ti, shared));
  return Status::OK();
}

}  // namespace dts::task
