#include "task/incremental.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "mysql/binlog_event.h"
#include "mysql/binlog_stream.h"
#include "mysql/gtid.h"
#include "pipeline/transaction_builder.h"
#include "sink/mysql_applier.h"
#include "source/schema_tracker.h"
#include "task/throttle.h"

namespace dts::task {
namespace {

// Completes (names, keys, collations) only the tables the task moves; the others keep what
// their TABLE_MAP says: never mapped, so their names are not needed, and a definition the
// tracker cannot match for a table nobody asked for must not stop the task.
class SelectedSchema final : public mysql::SchemaProvider {
 public:
  SelectedSchema(source::SchemaTracker* tracker, const pipeline::Mapping* mapping)
      : tracker_(tracker), mapping_(mapping) {}
  Result<std::shared_ptr<const mysql::TableInfo>> complete(const mysql::TableInfo& map) override {
    if (!mapping_->route(map.database, map.table).has_value())
      return std::make_shared<const mysql::TableInfo>(map);
    return tracker_->complete(map);
  }

 private:
  source::SchemaTracker* tracker_;
  const pipeline::Mapping* mapping_;
};

size_t payloadBytes(const pipeline::Transaction& txn) {
  size_t bytes = 0;
  for (const auto& ev : txn.events) {
    for (const auto* img : {&ev.before, &ev.after}) {
      for (const auto& v : img->values) bytes += v.s.empty() ? 8 : v.s.size();
    }
    bytes += ev.sql.size();
  }
  return bytes;
}

class BinlogIncrementalEngine final : public IncrementalEngine {
 public:
  explicit BinlogIncrementalEngine(const IncrementalContext& ctx)
      : config_(ctx.config), mapping_(std::make_shared<const pipeline::Mapping>(ctx.mapping)) {}

  Status run(const std::string& start_gtid, Progress* progress,
             const std::atomic<bool>& stop) override;

 private:
  // The snapshot positions of the tables the full phase loaded without a key.
  Status loadNoKeySnapshots(const mysql::ConnectOptions& dest, sink::MysqlApplier* applier);

  TaskConfig config_;
  std::shared_ptr<const pipeline::Mapping> mapping_;
};

Status BinlogIncrementalEngine::loadNoKeySnapshots(const mysql::ConnectOptions& dest_opts,
                                                   sink::MysqlApplier* applier) {
  DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_opts));
  DTS_ASSIGN_OR_RETURN(
      auto exists,
      dest->queryValue(
          "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'dts_meta'"
          " AND TABLE_NAME IN ('full_tables', 'full_chunks')"));
  if (exists.value_or("0") != "2") return Status::OK();  // no full phase ran at this destination
  DTS_ASSIGN_OR_RETURN(
      auto rows,
      dest->query("SELECT t.db, t.tbl, c.snapshot_gtid FROM " +
                  mysql::quoteQualified("dts_meta", "full_tables") + " t JOIN " +
                  mysql::quoteQualified("dts_meta", "full_chunks") +
                  " c ON c.task = t.task AND c.db = t.db AND c.tbl = t.tbl WHERE t.task = " +
                  dest->quoteString(config_.name) + " AND t.key_columns = '' AND c.done = 1"));
  for (const auto& r : rows.rows) {
    if (!r[0] || !r[1] || !r[2] || r[2]->empty()) continue;
    DTS_RETURN_IF_ERROR(applier->setTableSnapshot(*r[0], *r[1], *r[2]));
    spdlog::info(
        "task {}: changes of `{}`.`{}` (loaded without a key) up to {} are in its full data",
        config_.name, *r[0], *r[1], *r[2]);
  }
  return Status::OK();
}

Status BinlogIncrementalEngine::run(const std::string& start_gtid, Progress* progress,
                                    const std::atomic<bool>& stop) {
  DTS_ASSIGN_OR_RETURN(auto src_opts, config_.source.connectOptions());
  DTS_ASSIGN_OR_RETURN(auto dest_opts, config_.destination.connectOptions());
  const std::string where = "incremental phase of task '" + config_.name + "'";

  sink::ApplierOptions ao;
  ao.destination = dest_opts;
  ao.task = config_.name;
  ao.workers = config_.options.parallelism;
  DTS_ASSIGN_OR_RETURN(std::unique_ptr<sink::MysqlApplier> applier,
                       sink::MysqlApplier::open(ao, mapping_));
  DTS_RETURN_IF_ERROR(
      loadNoKeySnapshots(dest_opts, applier.get()).withContext(where + ": reading dts_meta"));

  DTS_ASSIGN_OR_RETURN(std::string from,
                       incrementalStartPosition(start_gtid, applier->resumeGtid()));
  mysql::BinlogStreamOptions so;
  so.connection = src_opts;
  so.start = mysql::BinlogStreamOptions::Start::kGtid;
  so.from_gtid = from;
  so.heartbeat_period = std::chrono::milliseconds(1000);
  so.read_timeout = std::chrono::seconds(10);
  auto stream_r = mysql::BinlogStream::open(so);
  if (!stream_r.ok()) return stream_r.status().withContext(where + ": opening the binlog stream");
  std::unique_ptr<mysql::BinlogStream> stream = std::move(*stream_r);
  spdlog::info("task {}: streaming {} from {}", config_.name, stream->describe(),
               from.empty() ? "(start)" : from);
  progress->noteHealthy();

  auto loader = source::InformationSchemaLoader::connect(src_opts);
  if (!loader.ok()) return loader.status().withContext(where + ": schema connection");
  source::SchemaTracker tracker(std::move(loader).value());
  SelectedSchema schema(&tracker, mapping_.get());
  mysql::BinlogDecoder decoder(
      mysql::BinlogDecoder::Options{.verify_checksums = true, .schema = &schema});
  pipeline::TransactionBuilder::Options bo;
  if (std::string spec = databaseFilterSpec(*mapping_); !spec.empty()) {
    DTS_ASSIGN_OR_RETURN(bo.filter, pipeline::TableFilter::parse(spec));
  }
  bo.keep_all_ddl = true;  // qualified DDL run from another default database; the applier decides
  pipeline::TransactionBuilder builder(std::move(bo));
  Throttle throttle(config_.options.incremental_limits, SystemClock::instance());

  // Progress publisher and stop watcher: a blocked nextEvent() must not delay either.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::atomic<int64_t> last_event_ms{0};
  auto nowMs = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  last_event_ms = nowMs();
  uint64_t published_rows = 0, published_bytes = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> published_tables;  // source table -> rows
  auto publish = [&]() {
    sink::SinkStats s = applier->stats();
    if (s.rows_applied > published_rows || s.bytes_applied > published_bytes) {
      progress->addMoved(s.rows_applied - published_rows, s.bytes_applied - published_bytes);
      published_rows = s.rows_applied;
      published_bytes = s.bytes_applied;
    }
    for (auto& c : applier->changesByTable()) {
      uint64_t& before = published_tables[{c.database, c.table}];
      if (c.rows == before) continue;
      Progress::Table* p = progress->findTable(c.database, c.table);
      if (p == nullptr) {  // created on the source during the incremental phase
        auto route = mapping_->route(c.database, c.table);
        p = progress->addTable(c.database, c.table, route ? route->target_database : c.database,
                               route ? route->target_table : c.table);
        p->done = true;  // nothing of it to load in full
      }
      p->changes_applied += c.rows - before;
      before = c.rows;
    }
    // Idle (nothing queued, nothing read for a while): the destination holds everything the
    // source sent, so it is behind by nothing.
    bool idle = s.queued_transactions == 0 && nowMs() - last_event_ms.load() > 2000;
    if (idle) {
      progress->setLatencyMs(0);
    } else if (s.transactions_applied > 0) {
      progress->setLatencyMs(s.last_latency_ms);
    }
    std::string pos = applier->committedPosition();
    if (!pos.empty()) progress->setCheckpoint(pos);
  };
  std::thread watcher([&] {
    std::unique_lock<std::mutex> lock(mu);
    auto next_publish = std::chrono::steady_clock::now();
    while (!finished) {
      cv.wait_for(lock, std::chrono::milliseconds(50));
      if (stop.load()) stream->interrupt();
      if (std::chrono::steady_clock::now() >= next_publish) {
        next_publish += std::chrono::milliseconds(500);
        publish();
      }
    }
  });
  auto endWatcher = [&]() {
    {
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
    }
    cv.notify_all();
    watcher.join();
  };

  std::vector<mysql::BinlogEvent> events;
  std::vector<pipeline::Transaction> done;
  Status st;
  bool halt = false;  // stop seen mid-batch: nothing after the last applied transaction may go
  while (st.ok() && !halt && !stop.load()) {
    auto raw = stream->nextEvent();
    if (!raw.ok()) {
      if (raw.status().code() == Status::Code::kAborted && stop.load()) break;
      st = raw.status().withContext(where);
      break;
    }
    last_event_ms = nowMs();
    const mysql::BinlogPosition pos = stream->position();
    st = decoder.decode(*raw, pos, &events);
    if (!st.ok()) {
      st = st.withContext(where + ": decoding " + stream->describe());
      break;
    }
    for (const mysql::BinlogEvent& ev : events) {
      if (const auto* q = ev.as<mysql::QueryEvent>()) tracker.onQuery(q->database, q->sql);
      done.clear();
      st = builder.add(ev, &done);
      if (!st.ok()) {
        st = st.withContext(where + ": at " + stream->describe());
        break;
      }
      const auto received = std::chrono::system_clock::now();
      for (pipeline::Transaction& txn : done) {
        txn.received = received;
        if (!config_.options.ddl) {
          std::erase_if(txn.events, [](const pipeline::ChangeEvent& e) {
            return e.op == pipeline::ChangeEvent::Op::kDdl;
          });
        }
        if (!config_.options.incremental_limits.unlimited() && !txn.events.empty()) {
          if (!throttle.acquire(txn.events.size(), payloadBytes(txn), stop)) {
            halt = true;
            break;
          }
        }
        if (txn.gtid.empty() && txn.events.empty())
          continue;  // nothing to apply, nothing to record
        st = applier->apply(std::move(txn));
        if (!st.ok()) {
          st = st.withContext(where);
          break;
        }
      }
      if (!st.ok() || halt) break;
    }
  }
  // Stopped or failed: commit what is queued (after a failure the applier may refuse; its
  // checkpoint is then whatever committed, which is exact either way).
  Status closed = applier->close();
  endWatcher();
  publish();
  if (!st.ok()) {
    if (!closed.ok())
      spdlog::warn("task {}: closing the applier after an error: {}", config_.name,
                   closed.toString());
    return st;
  }
  if (!closed.ok()) return closed.withContext(where + ": committing on stop");
  return Status::OK();
}

bool isMysqlGtidText(const std::string& s) {
  // MySQL sets are "uuid:intervals"; MariaDB positions "domain-server-seq".
  return s.find(':') != std::string::npos;
}

}  // namespace

Result<std::string> incrementalStartPosition(const std::string& task_start,
                                             const std::string& resume) {
  if (resume.empty()) return task_start;
  if (task_start.empty()) return resume;
  mysql::GtidFlavor flavor = isMysqlGtidText(task_start) || isMysqlGtidText(resume)
                                 ? mysql::GtidFlavor::kMySql
                                 : mysql::GtidFlavor::kMariaDb;
  auto a = mysql::GtidPosition::parse(task_start, flavor);
  if (!a.ok()) return a.status().withContext("incremental start position '" + task_start + "'");
  auto b = mysql::GtidPosition::parse(resume, flavor);
  if (!b.ok()) return b.status().withContext("checkpoint position '" + resume + "'");
  DTS_RETURN_IF_ERROR(a->merge(*b));
  return a->toString();
}

std::string databaseFilterSpec(const pipeline::Mapping& mapping) {
  std::string spec;
  for (const auto& db : mapping.selections()) {
    if (db.database.empty() || db.database.find_first_of(",.* \t\n") != std::string::npos)
      return "";
    if (!spec.empty()) spec.push_back(',');
    spec += db.database;
  }
  return spec;
}

IncrementalFactory defaultIncrementalFactory() {
  return [](const IncrementalContext& ctx) -> Result<std::unique_ptr<IncrementalEngine>> {
    return std::unique_ptr<IncrementalEngine>(new BinlogIncrementalEngine(ctx));
  };
}

}  // namespace dts::task
