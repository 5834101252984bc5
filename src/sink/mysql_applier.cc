#include "sink/mysql_applier.h"

#include <mysqld_error.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "mysql/sql_mode.h"
#include "mysql/unique_keys.h"
#include "pipeline/mapping.h"
#include "sink/sql_literal.h"

namespace dts::sink {

using pipeline::ChangeEvent;

namespace {

bool isStringLike(const mysql::ColumnInfo& c) {
  switch (c.type) {
    case mysql::ColumnType::kVarchar:
    case mysql::ColumnType::kVarString:
    case mysql::ColumnType::kString:
    case mysql::ColumnType::kTinyBlob:
    case mysql::ColumnType::kMediumBlob:
    case mysql::ColumnType::kLongBlob:
    case mysql::ColumnType::kBlob:
    case mysql::ColumnType::kEnum:
    case mysql::ColumnType::kSet:
    case mysql::ColumnType::kJson: return true;
    default: return false;
  }
}

// True when equal values of this column are equal bytes (so keys can be compared as bytes):
// numbers, temporal values and binary strings. Strings of a character set are not, even with a
// *_bin collation: MariaDB's PAD SPACE collations (every one but the *_nopad_* ones) make 'a' and
// 'a ' the same key.
bool byteComparable(const mysql::ColumnInfo& c) {
  if (c.type == mysql::ColumnType::kFloat || c.type == mysql::ColumnType::kDouble) return false;
  if (!isStringLike(c)) return true;
  return c.collation == mysql::kBinaryCollation;
}

// Errors that mean "this DDL already happened" when it is replayed after a crash.
bool alreadyDone(unsigned err) {
  return err == ER_TABLE_EXISTS_ERROR || err == ER_BAD_TABLE_ERROR || err == ER_DUP_FIELDNAME ||
         err == ER_DUP_KEYNAME || err == ER_CANT_DROP_FIELD_OR_KEY || err == ER_NO_SUCH_TABLE ||
         err == ER_BAD_FIELD_ERROR || err == ER_DB_CREATE_EXISTS || err == ER_DB_DROP_EXISTS ||
         err == ER_DUP_KEY || err == ER_SP_ALREADY_EXISTS || err == ER_SP_DOES_NOT_EXIST;
}

// How the checkpoint's pending_ddl names a DDL that may have run: "GTID" (older data dirs), or
// "GTID#STATEMENT#FINGERPRINT": the statement of the transaction started last, and the
// destination's fingerprint before it ("" when it could not be read, or once the statement
// failed: a change seen later is not its doing).
struct PendingDdl {
  std::string gtid;
  std::optional<size_t> statement;  // none: the old form, which names the transaction only
  std::string fingerprint;

  static PendingDdl parse(const std::string& text) {
    PendingDdl p;
    const size_t a = text.find('#');
    const size_t b = a == std::string::npos ? a : text.find('#', a + 1);
    if (b == std::string::npos) {
      p.gtid = text;
      return p;
    }
    p.gtid = text.substr(0, a);
    p.statement = std::strtoull(text.c_str() + a + 1, nullptr, 10);
    p.fingerprint = text.substr(b + 1);
    return p;
  }
  std::string text() const {
    if (!statement.has_value()) return gtid;
    return gtid + "#" + std::to_string(*statement) + "#" + fingerprint;
  }
};

constexpr size_t kMaxRoundTripBytes = 8 << 20;
constexpr int kMaxSlots = 64;

}  // namespace

MysqlApplier::MysqlApplier(ApplierOptions options, SessionFactory sessions)
    : options_(std::move(options)),
      sessions_(sessions ? std::move(sessions) : mysqlSessionFactory(options_.destination)),
      store_(options_.meta_database, options_.task),
      tracker_(std::max(1, options_.workers), options_.batch_transactions) {}

Result<std::unique_ptr<MysqlApplier>> MysqlApplier::open(ApplierOptions options,
                                                         SessionFactory sessions) {
  if (options.task.empty()) return Status::InvalidArgument("applier: task name is empty");
  if (options.workers < 1 || options.workers > 64) {
    return Status::InvalidArgument("applier: workers must be 1..64, got " +
                                   std::to_string(options.workers));
  }
  if (options.batch_transactions == 0) options.batch_transactions = 1;
  std::unique_ptr<MysqlApplier> a(new MysqlApplier(std::move(options), std::move(sessions)));
  DTS_RETURN_IF_ERROR(a->start());
  return a;
}

Result<std::unique_ptr<DestinationSession>> MysqlApplier::connect() {
  DTS_ASSIGN_OR_RETURN(auto c, sessions_());
  DTS_RETURN_IF_ERROR(
      c->execute(applierSessionSql(c->flavor())).withContext("setting up the applier session"));
  return c;
}

void MysqlApplier::prefetchPiece(Txn* t) {
  t->piece = ++pieces_;
  if (!options_.prefetch || (prefetcher_tried_ && !prefetcher_)) return;
  std::vector<std::string> reads = RowPrefetcher::readsFor(t->events, t->keys);
  if (reads.empty()) return;  // inserts only: no session is opened for them
  if (!prefetcher_tried_) {
    prefetcher_tried_ = true;
    auto session = connect();
    if (session.ok()) {
      prefetcher_ =
          std::make_unique<RowPrefetcher>(std::move(*session), destination_flavor_, options_.task);
    } else {
      spdlog::warn(
          "task '{}': no session to read a large transaction's rows ahead ({}); they are "
          "applied all the same",
          options_.task, session.status().toString());
    }
  }
  if (prefetcher_) prefetcher_->submit(t->piece, std::move(reads));
}

Status MysqlApplier::start() {
  DTS_ASSIGN_OR_RETURN(control_, connect());
  // The control session writes no row of a table, only checkpoints and the source's DDL, which
  // must do here what it did at the source (an ALTER that truncated values there without strict
  // mode would fail under it).
  DTS_RETURN_IF_ERROR(control_->execute(setSqlModeSql(lenientSqlMode()))
                          .withContext("setting up the applier's control session"));
  // Long enough for every definition of large schemas in a DDL's fingerprint (ddlFingerprint;
  // GROUP_CONCAT cuts at this length).
  DTS_RETURN_IF_ERROR(control_->execute("SET SESSION group_concat_max_len = 1073741824")
                          .withContext("setting up the applier's control session"));
  DTS_RETURN_IF_ERROR(store_.ensureSchema(*control_));
  // Fencing: every session of an applier holds the named lock of its slot. A killed dts leaves
  // sessions the server is still running (a statement batch ending in COMMIT that was already
  // sent); their locks go away only when those sessions end, committed or rolled back. Taking
  // every slot's lock before reading the checkpoint makes sure no such zombie can commit after
  // the read — and that two appliers of one task never run at once.
  auto lockName = [&](int slot) {
    char buf[40];
    snprintf(buf, sizeof(buf), "dts:%016llx:%d",
             static_cast<unsigned long long>(hashKey(options_.task)), slot);
    return std::string(buf);
  };
  {
    const std::string timeout = std::to_string(options_.fence_timeout.count());
    const Status busy = Status::Unavailable(
        "applier of task '" + options_.task +
        "': another applier of this task still holds its locks at the destination");
    // Slot 0 first: the control session holds it for the applier's life, so a second applier
    // of the task fails here after one timeout.
    DTS_ASSIGN_OR_RETURN(auto got0, control_->queryValue("SELECT IFNULL(GET_LOCK('" + lockName(0) +
                                                         "', " + timeout + "), 0)"));
    if (got0.value_or("") != "1") return busy;
    std::string sql = "SELECT 0";
    for (int slot = 1; slot <= kMaxSlots; ++slot) {
      sql += "+IFNULL(GET_LOCK('" + lockName(slot) + "', " + timeout + "), 0)";
    }
    DTS_ASSIGN_OR_RETURN(auto got, control_->queryValue(sql));
    if (got.value_or("") != std::to_string(kMaxSlots)) return busy;
  }
  DTS_ASSIGN_OR_RETURN(resume_, store_.read(*control_));
  // Every earlier session is gone: keep slot 0, hand slots 1..N to the workers, free the rest.
  {
    std::string sql = "DO 0";
    for (int slot = options_.workers + 1; slot <= kMaxSlots; ++slot)
      sql += ",RELEASE_LOCK('" + lockName(slot) + "')";
    DTS_RETURN_IF_ERROR(control_->execute(sql));
  }
  bulk_replace_ = options_.bulk_replace && control_->supportsBulk();
  destination_flavor_ = control_->flavor();
  base_ = resume_.applied;
  position_ = resume_.position;
  persisted_pending_ddl_ = resume_.pending_ddl;
  last_control_write_ = options_.clock->now();
  rate_time_ = last_control_write_;
  for (int i = 0; i < options_.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->slot = i + 1;
    DTS_ASSIGN_OR_RETURN(w->conn, connect());
    DTS_RETURN_IF_ERROR(control_->execute("DO RELEASE_LOCK('" + lockName(w->slot) + "')"));
    DTS_ASSIGN_OR_RETURN(auto got,
                         w->conn->queryValue("SELECT GET_LOCK('" + lockName(w->slot) + "', 120)"));
    if (got.value_or("") != "1")
      return Status::Unavailable("applier worker could not take its slot lock");
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { workerLoop(raw); });
  }
  return Status::OK();
}

MysqlApplier::~MysqlApplier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  for (auto& w : workers_) w->cv.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

Result<std::optional<mysql::GtidPosition>> MysqlApplier::resumePosition() const {
  if (!resume_.position.empty()) return std::optional<mysql::GtidPosition>(resume_.position);
  // MySQL: the applied set itself (the server skips everything in it). A MariaDB set without a
  // position (no row committed a prefix yet) leaves the start to the task.
  if (resume_.applied.flavor() == mysql::GtidFlavor::kMySql)
    return std::optional<mysql::GtidPosition>(mysql::GtidPosition::mySql(resume_.applied));
  return std::optional<mysql::GtidPosition>();
}

Status MysqlApplier::setTableSnapshot(const std::string& db, const std::string& table,
                                      const std::string& gtids) {
  auto r = mysql::GtidSet::parse(gtids);
  if (!r.ok())
    return r.status().withContext("snapshot GTID set of " + mysql::quoteQualified(db, table));
  snapshots_[{db, table}] = std::move(*r);
  return Status::OK();
}

Status MysqlApplier::addReplaceWindow(const std::string& gtids) {
  auto r = mysql::GtidSet::parse(gtids);
  if (!r.ok()) return r.status().withContext("full phase snapshot position");
  replace_window_.addAll(*r);
  return Status::OK();
}

std::optional<mysql::GtidPosition> MysqlApplier::durablePosition() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!position_.empty()) return position_;
  if (base_.flavor() == mysql::GtidFlavor::kMySql) return mysql::GtidPosition::mySql(base_);
  return std::nullopt;
}

void MysqlApplier::markDoneLocked(uint64_t seq) {
  if (order_.empty() || seq < order_.front().seq) return;
  order_[seq - order_.front().seq].done = true;
  while (!order_.empty() && order_.front().done) {
    OrderEntry& e = order_.front();
    base_.add(e.id);
    if (e.id.flavor() == mysql::GtidFlavor::kMariaDb) (void)position_.add(e.id);
    ++base_version_;
    order_.pop_front();
  }
}

Result<std::shared_ptr<const TableKeys>> MysqlApplier::tableKeys(const ChangeEvent& ev) {
  const mysql::TableInfo& info = *ev.table_info;
  auto it = key_cache_.find(&info);
  if (it != key_cache_.end()) return it->second.keys;

  // Unique keys as the destination knows them (TableInfo carries only the primary key).
  auto unique = mysql::readUniqueKeys(
      [&](const std::string& sql) { return control_->query(sql); },
      [&](std::string_view text) { return control_->quoteString(text); }, ev.database, ev.table);
  if (!unique.ok()) return unique.status();
  auto column = [&](const std::string& name) -> std::optional<size_t> {
    for (size_t i = 0; i < info.columns.size(); ++i) {
      if (strcasecmp(info.columns[i].name.c_str(), name.c_str()) == 0) return i;
    }
    return std::nullopt;
  };
  TableKeys keys;
  for (const mysql::UniqueKey& key : *unique) {
    std::vector<size_t> cols;
    bool usable = true;
    for (const std::string& name : key.columns) {
      auto c = column(name);
      if (!c)
        usable = false;
      else
        cols.push_back(*c);
    }
    if (usable) {
      // A key on a prefix: rows that differ but share the prefix collide, so whole values do not
      // tell which changes conflict, and every change of the table conflicts with every other
      // (they collided when parallel workers reordered them).
      keys.unique.push_back(key.prefix() ? std::vector<size_t>{} : cols);
      keys.identity_only = unique->size() == 1;  // checked against the identity below
      if (keys.identity.empty() && (key.primary() || !key.nullable)) keys.identity = cols;
    } else {
      keys.unique.push_back({});  // a key we cannot see in the image: table-wide conflicts
    }
  }
  if (!info.primary_key.empty()) {
    keys.identity = info.primary_key;
    if (std::find(keys.unique.begin(), keys.unique.end(), info.primary_key) == keys.unique.end()) {
      keys.unique.insert(keys.unique.begin(), info.primary_key);
    }
  }
  // Foreign keys of the destination that act on their rows when a row of this one is deleted or
  // its referenced columns change (batch_sql.h: foreign key actions).
  if (!fk_actions_.has_value()) {
    auto all =
        mysql::readReferencingActions([&](const std::string& sql) { return control_->query(sql); });
    if (!all.ok()) return all.status();
    fk_actions_ = std::move(all).value();
  }
  if (auto a = fk_actions_->find({ev.database, ev.table}); a != fk_actions_->end()) {
    keys.delete_acts = a->second.on_delete;
    keys.acting_on = a->second.tables;
    for (const std::string& name : a->second.on_update_columns) {
      if (auto c = column(name)) keys.update_acting.push_back(*c);
    }
  }
  keys.identity_only =
      keys.identity_only && keys.unique.size() == 1 && keys.unique[0] == keys.identity;
  keys.byte_comparable = !keys.identity.empty();
  for (size_t i : keys.identity) {
    if (i >= info.columns.size() || !byteComparable(info.columns[i])) keys.byte_comparable = false;
  }
  // A producer that makes a table_info per row (none in dts) must not grow the cache forever.
  if (key_cache_.size() >= 4096) key_cache_.clear();
  auto shared = std::make_shared<const TableKeys>(std::move(keys));
  key_cache_[&info] = CachedKeys{ev.table_info, shared};
  return shared;
}

Status MysqlApplier::dropGeneratedColumns(ChangeEvent* ev) {
  const mysql::TableInfo* key = ev->table_info.get();
  auto it = writable_cache_.find(key);
  if (it == writable_cache_.end()) {
    auto generated = mysql::readGeneratedColumns(
        [&](const std::string& sql) { return control_->query(sql); },
        [&](std::string_view text) { return control_->quoteString(text); }, ev->database,
        ev->table);
    if (!generated.ok()) return generated.status();
    Writable w;
    w.info = ev->table_info;
    const mysql::TableInfo& info = *ev->table_info;
    for (size_t i = 0; i < info.columns.size(); ++i) {
      bool computed = std::any_of(generated->begin(), generated->end(), [&](const std::string& g) {
        return strcasecmp(g.c_str(), info.columns[i].name.c_str()) == 0;
      });
      if (!computed) w.kept.push_back(i);
    }
    if (w.kept.size() != info.columns.size()) w.target = pipeline::keepColumns(info, w.kept);
    if (writable_cache_.size() >= 4096) writable_cache_.clear();  // as key_cache_
    it = writable_cache_.emplace(key, std::move(w)).first;
  }
  const Writable& w = it->second;
  if (w.target == nullptr) return Status::OK();
  ev->table_info = w.target;
  if (ev->op != ChangeEvent::Op::kInsert) pipeline::cutImage(&ev->before, w.kept, false);
  if (ev->op != ChangeEvent::Op::kDelete) pipeline::cutImage(&ev->after, w.kept, false);
  if (ev->memory_bytes != 0) pipeline::measureRow(ev);
  return Status::OK();
}

double sourceCommitMs(uint32_t timestamp, uint64_t commit_us,
                      std::chrono::system_clock::time_point received) {
  if (commit_us != 0) return static_cast<double>(commit_us) / 1000.0;
  const double stamp = static_cast<double>(timestamp) * 1000.0;
  if (received == std::chrono::system_clock::time_point{}) return stamp;
  const double got = std::chrono::duration<double, std::milli>(received.time_since_epoch()).count();
  return std::max(stamp, std::min(got, stamp + 999.0));
}

Status MysqlApplier::takeEvents(pipeline::Transaction& txn, Txn* t, std::vector<ChangeEvent>* ddl) {
  for (ChangeEvent& ev : txn.events) {
    if (ev.op == ChangeEvent::Op::kDdl) {
      ddl->push_back(std::move(ev));
      continue;
    }
    if (!snapshots_.empty()) {
      auto snap = snapshots_.find({ev.database, ev.table});
      if (snap != snapshots_.end() && snap->second.contains(t->id)) continue;
    }
    if (t->tables.empty() || t->tables.back().table != ev.table ||
        t->tables.back().database != ev.database) {
      t->tables.push_back({ev.database, ev.table, 0});
    }
    t->events.push_back(std::move(ev));
    ++t->tables.back().rows;
  }
  return Status::OK();
}

Status MysqlApplier::describeRows(Txn* t, bool with_hashes) {
  t->keys.reserve(t->events.size());
  for (ChangeEvent& ev : t->events) {
    if (ev.table_info == nullptr) {
      return Status::InvalidArgument("transaction " + t->gtid + ": row event for " +
                                     mysql::quoteQualified(ev.database, ev.table) +
                                     " without table info");
    }
    DTS_RETURN_IF_ERROR(dropGeneratedColumns(&ev));
    DTS_ASSIGN_OR_RETURN(std::shared_ptr<const TableKeys> keys, tableKeys(ev));
    if (with_hashes) addKeyHashes(ev, *keys, &t->hashes);
    if (firesForeignKeyActions(ev, *keys)) {
      // A table the full phase loaded without a key after this transaction (its snapshot holds
      // it) already shows what the action did, and its rows of later transactions up to its
      // snapshot are skipped: acting again would remove rows nothing brings back.
      for (const auto& child : keys->acting_on) {
        auto snap = snapshots_.find(child);
        if (snap != snapshots_.end() && snap->second.contains(t->id)) ev.foreign_key_checks = false;
      }
      if (ev.foreign_key_checks) t->acting = true;
    }
    t->keys.push_back(std::move(keys));
    ++t->rows;
    if (ev.memory_bytes == 0) pipeline::measureRow(&ev);  // not from a TransactionBuilder
    t->bytes += ev.payload_bytes;
    t->memory += ev.memory_bytes;
  }
  if (with_hashes) {
    std::sort(t->hashes.begin(), t->hashes.end());
    t->hashes.erase(std::unique(t->hashes.begin(), t->hashes.end()), t->hashes.end());
  }
  return Status::OK();
}

Status MysqlApplier::skipTransaction(uint64_t seq, bool may_write_checkpoint, double commit_ms) {
  bool write = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    markDoneLocked(seq);
    ++stats_.transactions_skipped;
    // Nothing before it waits: the destination is as fresh as this source commit. A source busy
    // only with tables the task does not move sends no heartbeat, and the lag grew from the last
    // moved change for as long as that lasted (DtsReplicationLagHigh fired on a caught-up task).
    if (queued_ == 0)
      stats_.last_source_commit_ms = std::max(stats_.last_source_commit_ms, commit_ms);
    // A long run of filtered-out transactions still moves the checkpoint, now and then.
    write = may_write_checkpoint && base_version_ != persisted_version_ && queued_ == 0 &&
            options_.clock->now() - last_control_write_ > std::chrono::seconds(1);
  }
  if (write) return writeControlSlot("");
  return Status::OK();
}

Status MysqlApplier::apply(pipeline::Transaction txn) {
  if (control_ == nullptr)
    return Status::FailedPrecondition("applier of task '" + options_.task + "' is closed");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
  }
  if (txn.gtid.empty()) {
    // The reader refuses events that follow a group with a GTID without one of their own
    // (pipeline/transaction_builder.h): a transaction without a GTID comes from a source that
    // writes none.
    return Status::Unsupported("applier: the transaction at " + txn.begin.file + ":" +
                               std::to_string(txn.begin.offset) +
                               " was logged without a GTID (a MySQL source with gtid_mode OFF?);"
                               " exactly-once apply needs GTIDs on the source");
  }
  if (streaming_.has_value() || !txn.whole()) return applyPiece(std::move(txn));
  DTS_ASSIGN_OR_RETURN(mysql::Gtid id, mysql::Gtid::parse(txn.gtid));
  auto t = std::make_shared<Txn>();
  t->id = id;
  t->gtid = txn.gtid;
  t->commit_ms = sourceCommitMs(txn.timestamp, txn.commit_us, txn.received);
  {
    std::lock_guard<std::mutex> lock(mu_);
    t->seq = ++next_seq_;
    order_.push_back(OrderEntry{t->seq, id, txn.gtid, false});
  }
  if (resume_.applied.contains(id)) return skipTransaction(t->seq, false, t->commit_ms);

  std::vector<ChangeEvent> ddl;
  DTS_RETURN_IF_ERROR(takeEvents(txn, t.get(), &ddl));
  if (!ddl.empty()) {
    // CREATE TABLE ... SELECT: the table first, then its rows with the checkpoint.
    const bool rows_follow = !t->events.empty();
    DTS_RETURN_IF_ERROR(applyDdl(t, ddl, rows_follow));
    if (!rows_follow) return Status::OK();
  }
  if (t->events.empty()) return skipTransaction(t->seq, true, t->commit_ms);
  DTS_RETURN_IF_ERROR(describeRows(t.get(), true));

  std::unique_lock<std::mutex> lock(mu_);
  if (t->acting) {
    // The rows its foreign key actions change are in no key hash: it runs alone, after every
    // earlier transaction committed, and nothing after it runs before it commits.
    DTS_RETURN_IF_ERROR(waitIdleLocked(lock));
    ++stats_.foreign_key_action_transactions;
  }
  std::optional<int> w;
  bool waited_full = false, waited_conflict = false;
  done_cv_.wait(lock, [&] {
    if (!error_.ok()) return true;
    // A streamed transaction's keys are unknown: nothing after it runs before it commits. Nor
    // does anything run alongside a transaction whose foreign key actions change rows.
    if (stream_committing_ || acting_pending_) return false;
    if (queued_ >= options_.max_queued_transactions ||
        (queued_ > 0 && queued_memory_ + t->memory > options_.max_queued_bytes)) {
      waited_full = true;
      return false;
    }
    w = tracker_.chooseWorker(t->hashes);
    if (!w.has_value()) waited_conflict = true;
    return w.has_value();
  });
  stats_.waits_queue_full += waited_full ? 1 : 0;
  stats_.waits_conflict += waited_conflict ? 1 : 0;
  if (!error_.ok()) return error_;
  tracker_.assign(*w, t->seq, t->hashes);
  if (t->acting) acting_pending_ = true;
  Worker* worker = workers_[static_cast<size_t>(*w)].get();
  ++queued_;
  queued_memory_ += t->memory;
  worker->queue.push_back(std::move(t));
  // Wake only that worker, and only when it sleeps: a wake-up per transaction (and all workers
  // woken for each) cost more CPU than applying the transaction.
  const bool wake = worker->waiting;
  lock.unlock();
  if (wake) worker->cv.notify_one();
  return Status::OK();
}

Status MysqlApplier::applyPiece(pipeline::Transaction piece) {
  if (piece.first_piece) {
    if (streaming_.has_value()) {
      return Status::InvalidArgument("transaction " + piece.gtid +
                                     " began before the last piece of " + streaming_->head->gtid);
    }
    DTS_ASSIGN_OR_RETURN(mysql::Gtid id, mysql::Gtid::parse(piece.gtid));
    Streaming s;
    s.head = std::make_shared<Txn>();
    s.head->id = id;
    s.head->gtid = piece.gtid;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.head->seq = ++next_seq_;
      order_.push_back(OrderEntry{s.head->seq, id, piece.gtid, false});
    }
    s.skip = resume_.applied.contains(id);
    streaming_ = std::move(s);
  } else if (!streaming_.has_value() || streaming_->head->gtid != piece.gtid) {
    return Status::InvalidArgument("a piece of transaction " + piece.gtid +
                                   " arrived without its first piece");
  }
  Streaming& s = *streaming_;
  const bool last = piece.last_piece;
  if (s.skip) {
    if (!last) return Status::OK();
    const uint64_t seq = s.head->seq;
    streaming_.reset();
    return skipTransaction(seq, false);
  }
  auto t = std::make_shared<Txn>();
  t->seq = s.head->seq;
  t->id = s.head->id;
  t->gtid = s.head->gtid;
  t->streamed = true;
  std::vector<ChangeEvent> ddl;
  DTS_RETURN_IF_ERROR(takeEvents(piece, t.get(), &ddl));
  if (!ddl.empty()) {
    // A DDL opens its group (CREATE TABLE ... SELECT): it is in the first piece, and runs
    // before anything of the transaction does.
    if (!piece.first_piece || s.started) {
      return Status::Unsupported("transaction " + piece.gtid +
                                 " has DDL after its first rows, at " + ddl.front().position.file +
                                 ":" + std::to_string(ddl.front().position.offset));
    }
    DTS_RETURN_IF_ERROR(applyDdl(t, ddl, true));
  }
  DTS_RETURN_IF_ERROR(describeRows(t.get(), false));
  // Its rows are read into the destination's memory while the pieces before it apply.
  prefetchPiece(t.get());
  s.rows += t->rows;
  s.bytes += t->bytes;
  for (TableChanges& c : t->tables) {
    auto it = std::find_if(s.tables.begin(), s.tables.end(), [&](const TableChanges& x) {
      return x.database == c.database && x.table == c.table;
    });
    if (it == s.tables.end())
      s.tables.push_back(std::move(c));
    else
      it->rows += c.rows;
  }
  t->tables.clear();
  if (!last && t->events.empty()) return Status::OK();
  if (!s.started) {
    if (last && t->events.empty()) {  // nothing of it reached the target
      const uint64_t seq = s.head->seq;
      streaming_.reset();
      return skipTransaction(seq, true);
    }
    // A barrier: every earlier transaction commits first.
    std::unique_lock<std::mutex> lock(mu_);
    DTS_RETURN_IF_ERROR(waitIdleLocked(lock));
    s.started = true;
    t->begins = true;
  }
  // The piece's SQL is built here, on the apply thread, while the worker still runs the piece
  // before: the destination does not wait for dts between pieces. The statements replace the
  // events (about the same bytes: the queue's memory bound still holds).
  DTS_RETURN_IF_ERROR(buildStatements({t}, &t->statements, bulk_replace_));
  t->prebuilt = true;
  t->events.clear();
  t->keys.clear();
  if (last) {
    t->commits = true;
    t->commit_ms = sourceCommitMs(piece.timestamp, piece.commit_us, piece.received);
    t->rows = s.rows;
    t->bytes = s.bytes;
    t->tables = std::move(s.tables);
    streaming_.reset();
  }
  // Worker 1 runs the stream; at most one piece waits while it applies another.
  Worker* worker = workers_.front().get();
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return !error_.ok() || worker->queue.empty(); });
  if (!error_.ok()) return error_;
  // The piece before this one is applying: what is left of its reads comes too late.
  if (prefetcher_) prefetcher_->started(t->piece - 1);
  ++queued_;
  ++queued_pieces_;
  queued_memory_ += t->memory;
  if (last) stream_committing_ = true;
  worker->queue.push_back(std::move(t));
  const bool wake = worker->waiting;
  lock.unlock();
  if (wake) worker->cv.notify_one();
  return Status::OK();
}

void MysqlApplier::workerLoop(Worker* w) {
  while (true) {
    std::vector<std::shared_ptr<Txn>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      w->waiting = true;
      w->cv.wait(lock, [&] { return stopping_ || (!w->queue.empty() && error_.ok()); });
      w->waiting = false;
      if (stopping_) return;
      // A short batch waits a moment for more: every batch is a destination commit, and when
      // the source side is the bottleneck (catch-up with several workers) eager one-transaction
      // batches spend the destination's CPU on commits (measured: 1,661 batches for 38,723
      // transactions with 4 workers, 80 with one).
      if (!w->queue.front()->streamed && w->queue.size() < options_.batch_transactions &&
          options_.batch_fill.count() > 0) {
        w->cv.wait_for(lock, options_.batch_fill,
                       [&] { return stopping_ || w->queue.size() >= options_.batch_transactions; });
        if (stopping_) return;
      }
      size_t rows = 0;
      // A streamed piece runs alone.
      while (!w->queue.empty() && batch.size() < options_.batch_transactions &&
             (batch.empty() || (rows + w->queue.front()->rows <= options_.batch_rows &&
                                !w->queue.front()->streamed && !batch.front()->streamed))) {
        rows += w->queue.front()->rows;
        batch.push_back(std::move(w->queue.front()));
        w->queue.pop_front();
      }
      w->busy = true;
    }
    Status st = applyBatch(w, batch);
    {
      std::lock_guard<std::mutex> lock(mu_);
      w->busy = false;
      if (!st.ok()) {
        if (error_.ok()) error_ = st;
        // Keep the failed batch's keys held: nothing after it may run.
      } else {
        double now_ms =
            std::chrono::duration<double, std::milli>(options_.clock->now().time_since_epoch())
                .count();
        for (const auto& t : batch) {
          --queued_;
          if (t->streamed) --queued_pieces_;
          queued_memory_ -= t->memory;
          if (t->streamed && !t->commits) {  // its transaction is still open
            stats_.open_transaction_gtid = t->gtid;
            stats_.open_transaction_rows += t->rows;
            continue;
          }
          if (t->streamed) {
            stream_committing_ = false;
            stats_.open_transaction_gtid.clear();
            stats_.open_transaction_rows = 0;
          } else {
            tracker_.release(static_cast<int>(w->slot - 1), t->seq, t->hashes);
            if (t->acting) acting_pending_ = false;
          }
          w->extras.add(t->id);
          markDoneLocked(t->seq);
          ++stats_.transactions_applied;
          stats_.rows_applied += t->rows;
          stats_.bytes_applied += t->bytes;
          for (auto& c : t->tables) {
            if (c.rows > 0)
              changes_by_table_[{std::move(c.database), std::move(c.table)}] += c.rows;
          }
          double lat = std::max(0.0, now_ms - t->commit_ms);
          stats_.last_latency_ms = lat;
          stats_.last_source_commit_ms = std::max(stats_.last_source_commit_ms, t->commit_ms);
          stats_.max_latency_ms = std::max(stats_.max_latency_ms, lat);
        }
        if (!batch.front()->streamed || batch.front()->commits) ++stats_.batches;
        persisted_version_ = std::max(persisted_version_, w->written_version);
      }
    }
    done_cv_.notify_all();
  }
}

KeyConflicts MysqlApplier::keyConflicts(const std::vector<std::shared_ptr<Txn>>& batch) const {
  if (replace_window_.empty()) return KeyConflicts::kFail;
  for (const auto& t : batch) {
    if (replace_window_.contains(t->id)) return KeyConflicts::kReplace;
  }
  return KeyConflicts::kFail;
}

Status MysqlApplier::buildStatements(const std::vector<std::shared_ptr<Txn>>& batch,
                                     std::vector<BatchStep>* statements, bool bulk_replace,
                                     BatchSql::GuardedTables* guarded) const {
  BatchSql sql(options_.max_statement_bytes, bulk_replace, destination_flavor_, keyConflicts(batch),
               guarded != nullptr);
  for (const auto& t : batch) {
    for (size_t i = 0; i < t->events.size(); ++i) {
      Status st = sql.add(t->events[i], *t->keys[i]);
      if (!st.ok()) return st.withContext("transaction " + t->gtid);
    }
  }
  DTS_RETURN_IF_ERROR(sql.finish());
  *statements = sql.takeSteps();
  if (guarded != nullptr) *guarded = sql.guardedTables();
  return Status::OK();
}

Result<std::string> MysqlApplier::guardedKeysChanged(Worker* w,
                                                     const BatchSql::GuardedTables& guarded) {
  for (const auto& [table, identity] : guarded) {
    auto keys =
        mysql::readUniqueKeys([&](const std::string& sql) { return w->conn->query(sql); },
                              [&](std::string_view text) { return w->conn->quoteString(text); },
                              table.first, table.second);
    if (!keys.ok()) return keys.status();
    bool same = keys->size() == 1 && (*keys)[0].columns.size() == identity.size();
    for (size_t i = 0; same && i < identity.size(); ++i) {
      same = strcasecmp((*keys)[0].columns[i].c_str(), identity[i].c_str()) == 0;
    }
    if (!same) {
      return "the unique keys of " + mysql::quoteQualified(table.first, table.second) +
             " at the destination changed while the task ran (a key was added, dropped or "
             "changed): the batch was rolled back, and is applied again with the keys as they "
             "are now";
    }
  }
  return std::string();
}

Status MysqlApplier::runBulk(Worker* w, const BulkReplace& bulk, size_t round_limit,
                             uint64_t packet) {
  // Rounds of at most round_limit bytes (a preference: 8 MiB); a row larger goes alone, as one
  // bulk execution of its binary parameters, as long as the destination's max_allowed_packet
  // takes it.
  const uint64_t statement_limit = packet > (64u << 10) ? packet - (64u << 10) : packet / 2;
  const size_t n = bulk.rows.size();
  for (size_t begin = 0; begin < n;) {
    size_t end = begin + 1;
    size_t bytes = bulk.bytes(begin, end);
    while (end < n) {
      const size_t next = bulk.bytes(end, end + 1);
      if (bytes + next > round_limit) break;
      bytes += next;
      ++end;
    }
    if (bytes > statement_limit) {
      return Status::FailedPrecondition(
          "a row of " + bulk.table + " takes about " + std::to_string(bytes) +
          " bytes, more than the destination's max_allowed_packet (" + std::to_string(packet) +
          ") leaves for one statement: raise max_allowed_packet at the destination above the "
          "largest row (with room to spare), then start the task again");
    }
    DTS_ASSIGN_OR_RETURN(mysql::BulkRows rows, bulk.bulkRows(begin, end));
    auto done = w->conn->executeBulk(bulk.sql, bulk.params, rows);
    if (!done.ok() && w->conn->lastErrorNumber() == ER_MAX_PREPARED_STMT_COUNT_REACHED) {
      // The server's max_prepared_stmt_count is reached (other clients hold them): the rest by
      // statements.
      if (!prepare_refused_logged_.exchange(true)) {
        spdlog::warn("task '{}': {}; rows go by multi-row statements while it lasts", options_.task,
                     done.status().toString());
      }
      DTS_ASSIGN_OR_RETURN(std::vector<std::string> statements,
                           bulk.statements(round_limit, begin));
      for (const std::string& s : statements) DTS_RETURN_IF_ERROR(w->conn->execute(s));
      return Status::OK();
    }
    DTS_RETURN_IF_ERROR(done.status());
    begin = end;
  }
  return Status::OK();
}

namespace {

// The tables a batch changes, quoted, the first five then "...".
template <typename Batch>
std::string batchTables(const Batch& batch) {
  std::string tables;
  size_t named = 0;
  for (const auto& t : batch) {
    for (const auto& c : t->tables) {
      const std::string name = mysql::quoteQualified(c.database, c.table);
      if (tables.find(name) != std::string::npos) continue;
      if (++named > 5) return tables + ", ...";
      tables += (tables.empty() ? "" : ", ") + name;
    }
  }
  return tables;
}

}  // namespace

Status MysqlApplier::applyBatch(Worker* w, const std::vector<std::shared_ptr<Txn>>& batch) {
  std::vector<BatchStep> statements;
  BatchSql::GuardedTables guarded;
  if (batch.front()->prebuilt) {
    statements = std::move(batch.front()->statements);  // a streamed piece runs alone
  } else {
    DTS_RETURN_IF_ERROR(buildStatements(batch, &statements, bulk_replace_, &guarded));
  }
  // A streamed piece (alone in its batch) opens, continues or commits one destination
  // transaction; a batch of whole transactions is one destination transaction of its own.
  const Txn& head = *batch.front();
  const bool begins = !head.streamed || head.begins;
  const bool commits = !head.streamed || head.commits;
  std::string checkpoint;
  if (commits) {
    std::lock_guard<std::mutex> lock(mu_);
    w->extras = w->extras.minus(base_);
    mysql::GtidSet applied = base_;
    applied.addAll(w->extras);
    for (const auto& t : batch) applied.add(t->id);
    checkpoint = store_.upsertSql(w->slot, applied, positionLocked(), "");
    w->written_version = base_version_;
  }
  // One round trip stays below the destination's max_allowed_packet (a larger one would drop
  // the connection); a single statement above it fails clearly in Connection::execute.
  DTS_ASSIGN_OR_RETURN(uint64_t packet, w->conn->maxAllowedPacket());
  const size_t round_limit = std::min<uint64_t>(
      kMaxRoundTripBytes, packet > (64u << 10) ? packet - (64u << 10) : packet / 2);
  // The pieces before this one are gone: a streamed transaction cannot be retried here.
  const int attempts = head.streamed ? 1 : options_.deadlock_retries + 1;
  Status last;
  unsigned last_err = 0;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::string round = begins ? "START TRANSACTION" : "";
    last = Status::OK();
    auto append = [&](const std::string& s) {
      if (!round.empty()) round.push_back(';');
      round += s;
    };
    for (const BatchStep& s : statements) {
      if (!round.empty() && (s.bulk != nullptr || round.size() + s.sql.size() > round_limit)) {
        last = w->conn->execute(round);
        round.clear();
        if (!last.ok()) break;
      }
      if (s.bulk != nullptr) {
        last = runBulk(w, *s.bulk, round_limit, packet);
        if (!last.ok()) break;
        continue;
      }
      append(s.sql);
    }
    if (last.ok() && commits && !guarded.empty()) {
      if (!round.empty()) last = w->conn->execute(round);
      round.clear();
      if (last.ok()) {
        auto changed = guardedKeysChanged(w, guarded);
        if (!changed.ok()) {
          last = changed.status();
        } else if (!changed->empty()) {
          (void)w->conn->execute("ROLLBACK; " + setSqlModeSql(strictSqlMode()) +
                                 "; SET SESSION foreign_key_checks=0");
          return Status::Unavailable(*changed);  // the next run reads the keys afresh
        }
      }
    }
    if (last.ok() && commits) {
      append(checkpoint);
      append("COMMIT");
    }
    if (last.ok() && !round.empty()) {
      last = w->conn->execute(round);
    }
    if (last.ok()) return Status::OK();
    unsigned err = w->conn->lastErrorNumber();
    last_err = err;
    // The failed round may have stopped between a statement's lenient sql_mode and its restore
    // (BatchSql around an ENUM error value): the session goes back to strict with the rollback.
    // Likewise between foreign_key_checks = 1 and its restore (foreign key actions).
    (void)w->conn->execute("ROLLBACK; " + setSqlModeSql(strictSqlMode()) +
                           "; SET SESSION foreign_key_checks=0");
    if (err != ER_LOCK_DEADLOCK && err != ER_LOCK_WAIT_TIMEOUT) break;
    if (err == ER_LOCK_WAIT_TIMEOUT) {
      // A lock held at the destination (someone's open transaction): each wait takes
      // innodb_lock_wait_timeout, so say it while it lasts, with how to find the holder.
      spdlog::warn(
          "task {}: worker {} waited out the destination's lock wait timeout on {} (attempt {} "
          "of {}; transactions {} .. {}): a session there holds locks on those rows "
          "(information_schema.INNODB_LOCK_WAITS names it); retrying",
          options_.task, w->slot, batchTables(batch), attempt + 1, attempts, head.gtid,
          batch.back()->gtid);
    }
  }
  if ((last_err == ER_DUP_ENTRY || last_err == ER_DUP_ENTRY_WITH_KEY_NAME) &&
      keyConflicts(batch) == KeyConflicts::kFail) {
    // A row collides with another on a unique key that is not its identity (batch_sql.h: key
    // conflicts): no retry makes it pass, and REPLACE would delete the other row.
    last = Status::FailedPrecondition(
        last.message() +
        "; a row collides at the destination with another row on that unique key: the "
        "destination table has a unique key the source's does not have, or rows the source does "
        "not have. dts stops rather than delete the other row (nothing of these transactions was "
        "written). Compare the table's keys at both ends (SHOW CREATE TABLE), drop the "
        "destination's extra unique key or the row in the way, then start the task again: it "
        "resumes at its checkpoint");
  }
  if (head.streamed) {
    return last.withContext(
        "applying streamed transaction " + head.gtid + " on worker " + std::to_string(w->slot) +
        " (rolled back at the destination; the task resumes from its checkpoint and reads the "
        "transaction again)");
  }
  // The server names the column ("Data truncated for column 'e'"); the tables come from here.
  return last.withContext("applying " + std::to_string(batch.size()) + " transactions (" +
                          batch.front()->gtid + " .. " + batch.back()->gtid + ") of " +
                          batchTables(batch) + " on worker " + std::to_string(w->slot));
}

Status MysqlApplier::waitIdleLocked(std::unique_lock<std::mutex>& lock) {
  done_cv_.wait(lock, [&] {
    if (!error_.ok()) return true;
    if (queued_ != 0) return false;
    for (const auto& w : workers_) {
      if (w->busy || !w->queue.empty()) return false;
    }
    return true;
  });
  return error_;
}

std::string MysqlApplier::ddlFingerprint(const ChangeEvent& d) {
  std::set<std::string> dbs;
  if (!d.database.empty()) dbs.insert(d.database);
  for (const auto& [db, table] : d.ddl_tables)
    if (!db.empty()) dbs.insert(db);
  if (dbs.empty()) return "";
  std::string in;
  for (const auto& db : dbs) in += (in.empty() ? "" : ",") + control_->quoteString(db);
  // What a DDL changes, and nothing rows change (no row counts, AUTO_INCREMENT, update times).
  // CREATE_TIME tells apart two tables whose names a RENAME swapped; a COPY ALTER renews it.
  auto part = [&](const std::string& fields, const std::string& table, const std::string& schema,
                  const std::string& order) {
    return "(SELECT GROUP_CONCAT(CONCAT_WS(0x1f, " + fields + ") ORDER BY " + order +
           " SEPARATOR 0x1e) FROM information_schema." + table + " WHERE " + schema + " IN (" + in +
           "))";
  };
  const std::string sql =
      "SELECT MD5(CONCAT_WS(0x1d, " +
      part("SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME", "SCHEMATA",
           "SCHEMA_NAME", "SCHEMA_NAME") +
      ", " +
      part(
          "TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE, ''), IFNULL(ROW_FORMAT, ''), "
          "IFNULL(TABLE_COLLATION, ''), IFNULL(CREATE_OPTIONS, ''), TABLE_COMMENT, "
          "IFNULL(CREATE_TIME, '')",
          "TABLES", "TABLE_SCHEMA", "TABLE_SCHEMA, TABLE_NAME") +
      ", " +
      part(
          "TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
          "IFNULL(COLUMN_DEFAULT, 0x00), EXTRA, IFNULL(COLLATION_NAME, ''), COLUMN_COMMENT, "
          "IFNULL(GENERATION_EXPRESSION, '')",
          "COLUMNS", "TABLE_SCHEMA", "TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION") +
      ", " +
      part(
          "TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, IFNULL(COLUMN_NAME, ''), "
          "NON_UNIQUE, INDEX_TYPE, IFNULL(SUB_PART, ''), IFNULL(COLLATION, '')",
          "STATISTICS", "TABLE_SCHEMA", "TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX") +
      ", " +
      part("CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE", "TABLE_CONSTRAINTS",
           "CONSTRAINT_SCHEMA", "CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME") +
      ", " +
      part(
          "TABLE_SCHEMA, TABLE_NAME, PARTITION_NAME, IFNULL(SUBPARTITION_NAME, ''), "
          "IFNULL(PARTITION_DESCRIPTION, '')",
          "PARTITIONS", "TABLE_SCHEMA",
          "TABLE_SCHEMA, TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION") +
      ", " +
      part("TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION", "VIEWS", "TABLE_SCHEMA",
           "TABLE_SCHEMA, TABLE_NAME") +
      ", " +
      part("ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, IFNULL(LAST_ALTERED, '')", "ROUTINES",
           "ROUTINE_SCHEMA", "ROUTINE_SCHEMA, ROUTINE_NAME") +
      ", " +
      part("TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, CREATED", "TRIGGERS",
           "TRIGGER_SCHEMA", "TRIGGER_SCHEMA, TRIGGER_NAME") +
      "))";
  auto v = control_->queryValue(sql);
  if (!v.ok() || !v->has_value() || (*v)->size() != 32) {
    spdlog::warn(
        "task {}: no fingerprint of the destination's definitions before a DDL ({}); "
        "a restart while it runs replays it",
        options_.task, v.ok() ? "none" : v.status().toString());
    return "";
  }
  return **v;
}

Status MysqlApplier::writeControlSlot(const std::string& pending_ddl) {
  std::string sql;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sql = store_.upsertSql(0, base_, positionLocked(), pending_ddl);
    persisted_version_ = base_version_;
    persisted_pending_ddl_ = pending_ddl;
    last_control_write_ = options_.clock->now();
  }
  return control_->execute(sql).withContext("writing the checkpoint of task '" + options_.task +
                                            "'");
}

// SET SESSION of what the source session's DDL depends on (see applyDdl).
Result<std::string> MysqlApplier::ddlSessionSql(const pipeline::DdlSession& s, bool holds_no_rows,
                                                bool fractional_seconds) {
  char stamp[48];
  std::snprintf(stamp, sizeof(stamp), "%lld.%06lld", static_cast<long long>(s.start_us / 1000000),
                static_cast<long long>(s.start_us % 1000000));
  std::string set = std::string("SET SESSION timestamp = ") + stamp;
  if (!s.time_zone.empty()) set += ", time_zone = " + control_->quoteString(s.time_zone);
  if (s.sql_mode.has_value()) {
    DTS_ASSIGN_OR_RETURN(std::string mode,
                         mysql::sqlModeForDestination(*s.sql_mode, s.flavor, destination_flavor_,
                                                      !holds_no_rows, fractional_seconds));
    set += ", sql_mode = " + control_->quoteString(mode);
  }
  // Collation ids up to 247 name the same collation in both flavours; above, a MySQL 8 _0900_ id
  // means nothing to MariaDB (and MariaDB's own ids nothing to MySQL): the destination's own
  // collation_server stays then.
  const std::string_view collation = collationName(s.collation_server);
  if (!collation.empty() && (s.flavor == destination_flavor_ || s.collation_server <= 247)) {
    set += ", collation_server = " + control_->quoteString(collation);
  }
  if (s.explicit_defaults_for_timestamp.has_value()) {
    set += std::string(", explicit_defaults_for_timestamp = ") +
           (*s.explicit_defaults_for_timestamp ? "1" : "0");
  }
  return set;
}

// Sets the control session up as the source session that ran a DDL statement was (see
// applyDdl). A destination older than the fractional-seconds modes (MySQL 5.7, MariaDB 10.3)
// refuses their names (error 1231): the statement then runs with the destination's own rounding,
// which differs from the source's only for an ALTER that lowers a temporal column's fractional
// digits, and the log says so.
Status MysqlApplier::setDdlSession(const pipeline::DdlSession& s, bool holds_no_rows,
                                   const std::string& gtid) {
  DTS_ASSIGN_OR_RETURN(std::string set, ddlSessionSql(s, holds_no_rows, true));
  Status st = control_->execute(set);
  if (st.ok() || control_->lastErrorNumber() != ER_WRONG_VALUE_FOR_VAR || !s.sql_mode) return st;
  const std::string_view fractional =
      mysql::fractionalSecondsMode(*s.sql_mode, s.flavor, destination_flavor_);
  if (fractional.empty()) return st;
  DTS_ASSIGN_OR_RETURN(std::string plain, ddlSessionSql(s, holds_no_rows, false));
  DTS_RETURN_IF_ERROR(control_->execute(plain));
  const bool to_mysql = destination_flavor_ == mysql::ServerFlavor::kMySql;
  spdlog::warn(
      "task {}: the destination has no sql_mode {}; DDL of transaction {} runs without it, so an "
      "ALTER that lowers the fractional digits of existing values {} them where the source {} "
      "them",
      options_.task, fractional, gtid, to_mysql ? "rounds" : "truncates",
      to_mysql ? "truncated" : "rounded");
  return Status::OK();
}

Status MysqlApplier::applyDdl(const std::shared_ptr<Txn>& t, const std::vector<ChangeEvent>& ddl,
                              bool rows_follow) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    DTS_RETURN_IF_ERROR(waitIdleLocked(lock));
  }
  // A DDL is not transactional: the mark naming it is written before it runs, and cleared
  // after. A restart that finds the mark (replay) cannot tell from the checkpoint whether the
  // statement ran (a killed dts's statement goes on at the destination, and the fencing in open()
  // waits for it to end). Each statement's mark also holds a fingerprint of the definitions in
  // the databases it names (ddlFingerprint): a replayed statement whose fingerprint changed since
  // its mark was written has run, and runs no second time; one before the marked statement has
  // run too. Otherwise it runs, and an error saying it is there already (alreadyDone) is taken as
  // done. Without this a statement that succeeds twice ran twice: a swap of two columns (RENAME
  // COLUMN a TO b, b TO a) swapped every existing row's values back, an unnamed index doubled.
  const PendingDdl marked = PendingDdl::parse(resume_.pending_ddl);
  const bool replay = marked.gtid == t->gtid;
  auto fail = [&](Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = st;
    return st;
  };
  Status st;
  for (size_t i = 0; i < ddl.size(); ++i) {
    const ChangeEvent& d = ddl[i];
    const std::string fingerprint = ddlFingerprint(d);
    if (replay && marked.statement.has_value() &&
        (i < *marked.statement || (i == *marked.statement && !marked.fingerprint.empty() &&
                                   !fingerprint.empty() && fingerprint != marked.fingerprint))) {
      spdlog::warn(
          "task {}: statement {} of DDL {} ran before a restart (the destination's definitions "
          "changed since it was started); not running it again: {}",
          options_.task, i + 1, t->gtid, excerpt(d.sql));
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.ddl_replays_skipped;
      continue;
    }
    st = writeControlSlot(PendingDdl{t->gtid, i, fingerprint}.text());
    if (!st.ok()) return fail(st);
    if (!d.database.empty()) {
      // Unqualified names inside the statement body resolve where they did at the source.
      (void)control_->execute("USE " + mysql::quoteIdentifier(d.database));
    }
    // The source session's instant, time zone, sql_mode and explicit_defaults_for_timestamp
    // (pipeline::DdlSession), as a native replica runs the statement: an added column's DEFAULT
    // NOW() fills the existing rows with the source's instant, a TIMESTAMP literal is read in the
    // source's zone, "x" is a name under ANSI_QUOTES, `||` concatenates under PIPES_AS_CONCAT, a
    // trigger keeps the source's mode.
    if (d.ddl_session != nullptr) {
      st = setDdlSession(*d.ddl_session, d.ddl_holds_no_rows, t->gtid);
      if (!st.ok()) return fail(st.withContext("DDL of transaction " + t->gtid));
    }
    st = control_->execute(d.sql);
    // Read now: restoring the session below clears it (every replayed DDL that the destination
    // had already failed as if it were new: "Duplicate column name", the task stopped for good).
    const unsigned err = st.ok() ? 0 : control_->lastErrorNumber();
    if (d.ddl_session != nullptr) {
      Status back = control_->execute(
          "SET SESSION timestamp = DEFAULT, time_zone = '+00:00', sql_mode = '" +
          std::string(lenientSqlMode()) +
          "', explicit_defaults_for_timestamp = DEFAULT, collation_server = DEFAULT");
      if (!back.ok() && st.ok()) return fail(back.withContext("DDL of transaction " + t->gtid));
    }
    if (!st.ok() && st.code() != Status::Code::kUnavailable) {
      // It did not run: a definition that changes before the next attempt is not its doing.
      Status unmarked = writeControlSlot(PendingDdl{t->gtid, i, ""}.text());
      if (!unmarked.ok()) spdlog::warn("task {}: {}", options_.task, unmarked.toString());
    }
    if (!st.ok()) {
      if (replay && alreadyDone(err)) {
        spdlog::warn("DDL {} was already applied before a restart; skipping its replay ({})",
                     t->gtid, st.message());
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.ddl_replays_skipped;
        continue;
      }
      if (d.ddl_holds_no_rows) {
        // A view or routine holds no rows: without it the destination still has every row.
        spdlog::warn(
            "task {}: the destination refused a statement of transaction {} about a "
            "view or stored routine; going on without it: {} ({})",
            options_.task, t->gtid, excerpt(d.sql), st.message());
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.ddl_not_applied;
        continue;
      }
      return fail(st.withContext("applying DDL of transaction " + t->gtid));
    }
  }
  key_cache_.clear();
  fk_actions_.reset();  // the DDL may have added or dropped a foreign key
  if (rows_follow) {
    // The transaction is done when its rows commit, with a checkpoint that has it; until then
    // the pending DDL stays named, so that a restart replays it (a CREATE the destination has
    // already is skipped) and then applies the rows.
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.ddl_applied;
    return Status::OK();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    markDoneLocked(t->seq);
    ++stats_.ddl_applied;
    ++stats_.transactions_applied;
  }
  st = writeControlSlot("");
  if (!st.ok()) return fail(st);
  return Status::OK();
}

Status MysqlApplier::flush() {
  if (control_ == nullptr)
    return Status::FailedPrecondition("applier of task '" + options_.task + "' is closed");
  {
    std::unique_lock<std::mutex> lock(mu_);
    DTS_RETURN_IF_ERROR(waitIdleLocked(lock));
    if (base_version_ == persisted_version_) return Status::OK();
  }
  return writeControlSlot("");
}

Status MysqlApplier::close() {
  if (control_ == nullptr)
    return Status::FailedPrecondition("applier of task '" + options_.task + "' is closed");
  Status st = flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  for (auto& w : workers_) w->cv.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    w->conn.reset();  // ends the session: releases its slot lock
  }
  if (!st.ok()) {
    // After a failure flush() writes nothing, but what is done before the failed transaction
    // (committed, or skipped: filtered out, a DDL left out by ddl: false) is as final as ever:
    // it is kept, so that the next run does not read it again (a DDL left out once would stop a
    // run with ddl: true again) and starts where the status says.
    bool behind = false;
    std::string pending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      behind = base_version_ != persisted_version_;
      pending = persisted_pending_ddl_;
    }
    if (behind) {
      Status kept = writeControlSlot(pending);
      if (!kept.ok())
        spdlog::warn("task {}: keeping the checkpoint after an error: {}", options_.task,
                     kept.toString());
    }
  }
  prefetcher_.reset();
  control_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  // A streamed transaction still open was rolled back with its session.
  stats_.open_transaction_gtid.clear();
  stats_.open_transaction_rows = 0;
  return st;
}

Status MysqlApplier::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

SinkStats MysqlApplier::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SinkStats s = stats_;
  // A streamed transaction is one transaction, however many of its pieces wait.
  const bool streaming = queued_pieces_ > 0 || !stats_.open_transaction_gtid.empty();
  s.queued_transactions = queued_ - queued_pieces_ + (streaming ? 1 : 0);
  auto now = options_.clock->now();
  double secs = std::chrono::duration<double>(now - rate_time_).count();
  if (secs > 0) {
    s.rows_per_second = static_cast<double>(stats_.rows_applied - rate_rows_) / secs;
    s.bytes_per_second = static_cast<double>(stats_.bytes_applied - rate_bytes_) / secs;
  }
  rate_time_ = now;
  rate_rows_ = stats_.rows_applied;
  rate_bytes_ = stats_.bytes_applied;
  return s;
}

std::vector<TableChanges> MysqlApplier::changesByTable() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TableChanges> out;
  out.reserve(changes_by_table_.size());
  for (const auto& [name, rows] : changes_by_table_) out.push_back({name.first, name.second, rows});
  return out;
}

}  // namespace dts::sink
