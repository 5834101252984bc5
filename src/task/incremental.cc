#include "task/incremental.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "mysql/binlog_stream.h"
#include "mysql/gtid.h"
#include "pipeline/ddl_rewrite.h"
#include "pipeline/mapping_stage.h"
#include "pipeline/xa_stage.h"
#include "sink/mysql_applier.h"
#include "source/binlog_continuity.h"
#include "source/binlog_start.h"
#include "source/schema_history.h"
#include "source/schema_tracker.h"
#include "source/source_filter_evaluator.h"
#include "source/start_check.h"
#include "source/writes_through.h"
#include "task/schema_history_store.h"
#include "task/throttle.h"
#include "task/tracking.h"

namespace dts::task {
namespace {

// The tables a piece's DDL dropped or renamed away (the reader's schema history, which has read
// the piece, no longer has them) leave the status; a name the history has again (created anew)
// comes back with its next change. Source names, as Progress keeps them.
void noteDroppedTables(const pipeline::Transaction& piece, const source::SchemaHistory& history,
                       Progress* progress) {
  for (const pipeline::ChangeEvent& e : piece.events) {
    if (e.op != pipeline::ChangeEvent::Op::kDdl) continue;
    source::DdlEffect effect =
        source::ddlEffect(e.database, e.sql, pipeline::ddlLexerOptions(e).no_backslash_escapes);
    if (effect.kind == source::DdlEffect::Kind::kDatabase) {  // DROP DATABASE: its tables
      for (const TableProgress& t : progress->tables()) {
        if (t.source_database == effect.database &&
            history.find(t.source_database, t.source_table) == nullptr)
          progress->forgetTable(t.source_database, t.source_table);
      }
      continue;
    }
    if (effect.kind != source::DdlEffect::Kind::kTables) continue;
    for (const auto& [db, table] : effect.tables) {
      if (history.find(db, table) != nullptr)
        progress->reselected(db, table);
      else if (history.knows(db, table))
        progress->forgetTable(db, table);
    }
  }
}

size_t payloadBytes(const pipeline::Transaction& txn) {
  size_t bytes = 0;
  for (const auto& ev : txn.events) bytes += ev.payload_bytes + ev.sql.size();
  return bytes;
}

// What the full phase's snapshots hold, for the applier: the snapshot positions of the tables it
// loaded without a key, by the target names the applier's events carry, and every chunk's
// snapshot position (the replace window: changes a chunk may already hold).
Status loadFullPhaseSnapshots(const std::string& task, const mysql::ConnectOptions& dest_opts,
                              const pipeline::Mapping* mapping, sink::MysqlApplier* applier) {
  DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_opts));
  DTS_ASSIGN_OR_RETURN(
      auto exists,
      dest->queryValue(
          "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'dts_meta'"
          " AND TABLE_NAME IN ('full_tables', 'full_chunks')"));
  if (exists.value_or("0") != "2") return Status::OK();  // no full phase ran at this destination
  DTS_ASSIGN_OR_RETURN(auto positions,
                       dest->query("SELECT DISTINCT snapshot_gtid FROM " +
                                   mysql::quoteQualified("dts_meta", "full_chunks") +
                                   " WHERE task = " + dest->quoteString(task) +
                                   " AND done = 1 AND snapshot_gtid <> ''"));
  for (const auto& r : positions.rows) {
    if (r[0]) DTS_RETURN_IF_ERROR(applier->addReplaceWindow(*r[0]));
  }
  DTS_ASSIGN_OR_RETURN(
      auto rows,
      dest->query("SELECT t.db, t.tbl, c.snapshot_gtid FROM " +
                  mysql::quoteQualified("dts_meta", "full_tables") + " t JOIN " +
                  mysql::quoteQualified("dts_meta", "full_chunks") +
                  " c ON c.task = t.task AND c.db = t.db AND c.tbl = t.tbl WHERE t.task = " +
                  dest->quoteString(task) + " AND t.key_columns = '' AND c.done = 1"));
  for (const auto& r : rows.rows) {
    if (!r[0] || !r[1] || !r[2] || r[2]->empty()) continue;
    if (mapping == nullptr) {
      DTS_RETURN_IF_ERROR(applier->setTableSnapshot(*r[0], *r[1], *r[2]));
      continue;
    }
    std::optional<pipeline::TableRoute> route = mapping->route(*r[0], *r[1]);
    if (!route.has_value()) continue;  // no longer moved: none of its rows reach the applier
    DTS_RETURN_IF_ERROR(
        applier->setTableSnapshot(route->target_database, route->target_table, *r[2]));
    spdlog::info(
        "task {}: changes of `{}`.`{}` (loaded without a key) up to {} are in its full data", task,
        *r[0], *r[1], *r[2]);
  }
  return Status::OK();
}

// "+08:00", "-3:30": a fixed offset, which any server takes as a time_zone.
bool isFixedOffset(std::string_view tz) {
  if (tz.size() < 5 || (tz[0] != '+' && tz[0] != '-')) return false;
  size_t colon = tz.find(':');
  if (colon == std::string_view::npos || colon < 2 || colon > 3 || tz.size() != colon + 3)
    return false;
  for (size_t i = 1; i < tz.size(); ++i) {
    if (i != colon && !std::isdigit(static_cast<unsigned char>(tz[i]))) return false;
  }
  return true;
}

// A DDL run in a named time zone or in the source's SYSTEM one is applied in the fixed offset
// that zone had at the statement's start (pipeline::DdlSession): the destination may not know
// the name, and its SYSTEM zone is another server's. The source converts (one query per such
// DDL, on a connection of its own kept in *conn).
Status fixDdlTimeZones(const TaskConfig& config, std::unique_ptr<mysql::Connection>* conn,
                       pipeline::Transaction* piece) {
  // DDL opens its transaction (alone, or before the rows of a CREATE TABLE ... SELECT): a piece
  // of rows is passed at its first event.
  if (piece->events.empty() || piece->events.front().op != pipeline::ChangeEvent::Op::kDdl)
    return Status::OK();
  for (pipeline::ChangeEvent& ev : piece->events) {
    if (ev.op != pipeline::ChangeEvent::Op::kDdl || ev.ddl_session == nullptr) continue;
    const std::string& tz = ev.ddl_session->time_zone;
    if (tz.empty() || isFixedOffset(tz)) continue;
    if (*conn == nullptr) {
      DTS_ASSIGN_OR_RETURN(auto opts, config.source.connectOptions());
      DTS_ASSIGN_OR_RETURN(*conn, mysql::Connection::connect(opts));
      Status st = (*conn)->execute("SET SESSION time_zone = '+00:00'");
      if (!st.ok()) {
        conn->reset();
        return st;
      }
    }
    const std::string at =
        "FROM_UNIXTIME(" + std::to_string(ev.ddl_session->start_us / 1000000) + ")";
    auto minutes = (*conn)->queryValue("SELECT TIMESTAMPDIFF(MINUTE, " + at + ", CONVERT_TZ(" + at +
                                       ", '+00:00', " + (*conn)->quoteString(tz) + "))");
    if (!minutes.ok()) {
      conn->reset();
      return minutes.status().withContext("reading the offset of time zone '" + tz +
                                          "' at the source, for DDL of transaction " + piece->gtid);
    }
    if (!minutes->has_value()) {
      return Status::FailedPrecondition(
          "DDL of transaction " + piece->gtid + " ran in time zone '" + tz +
          "', which the source cannot convert (CONVERT_TZ is NULL: are its time zone tables "
          "loaded?); applied in another zone, the values it computes would differ");
    }
    const int m = std::stoi(**minutes);
    if (m <= -24 * 60 || m >= 24 * 60) {
      return Status::FailedPrecondition("DDL of transaction " + piece->gtid + ": time zone '" + tz +
                                        "' is " + **minutes + " minutes from UTC");
    }
    char text[16];
    std::snprintf(text, sizeof(text), "%c%02d:%02d", m < 0 ? '-' : '+', std::abs(m) / 60,
                  std::abs(m) % 60);
    auto fixed = std::make_shared<pipeline::DdlSession>(*ev.ddl_session);
    fixed->time_zone = text;
    ev.ddl_session = std::move(fixed);
  }
  return Status::OK();
}

// Whether the stream position `from` contains the DDL of a version ("": always).
Result<bool> versionInForce(const std::optional<mysql::GtidPosition>& from,
                            const std::string& gtid) {
  if (gtid.empty()) return true;
  DTS_ASSIGN_OR_RETURN(mysql::Gtid g, mysql::Gtid::parse(gtid));
  return from.has_value() && from->contains(g);
}

std::string positionText(const std::optional<mysql::GtidPosition>& p) {
  return p.has_value() && !p->empty() ? p->toString() : "(start)";
}

std::string phaseContext(const TaskConfig& config) {
  return "incremental phase of task '" + config.name + "'";
}

class BinlogIncrementalEngine final : public IncrementalEngine {
 public:
  BinlogIncrementalEngine(const IncrementalContext& ctx, const IncrementalSeams& seams)
      : config_(ctx.config),
        mapping_(std::make_shared<const pipeline::Mapping>(ctx.mapping)),
        seams_(seams),
        data_dir_(ctx.data_dir),
        on_read_(ctx.on_read) {
    for (const CatalogTable& t : ctx.tables) {
      source_tables_.emplace_back(t.route.source_database, t.route.source_table);
    }
  }

  Status run(const std::optional<mysql::GtidPosition>& start, Progress* progress,
             const std::atomic<bool>& stop) override;

 private:
  // seams_.reader, or the task's source server.
  Result<source::ChangeReaderFactory> readerFactory() const;
  // The same input read only to the source's end now (seams_.reader: as it is).
  Result<source::ChangeReaderFactory> scanFactory() const;

  // The source in messages: "node node-2 (127.0.0.1:3307)", "source 127.0.0.1:3306".
  std::string sourceName() const;
  // At connect: the server read must have in its binlog what it applied after `from`
  // (source/binlog_continuity.h). Not asked of a test's reader (seams_.reader).
  Status checkSourceBinlog(const std::optional<mysql::GtidPosition>& from) const;
  // A jump in the GTIDs read, at `at`: why nothing is missing (a server whose binlog makes the
  // same jump wrote it itself), or the error that stops the task.
  Result<std::string> explainJump(const source::GtidJump& jump, const mysql::GtidPosition& before,
                                  const std::string& at) const;

  // Restores the schema history in force at `from` into the reader, or seeds it with the live
  // definitions of the task's tables (the first run); returns the next version number.
  Result<uint64_t> restoreHistory(SchemaHistoryStore* store,
                                  const std::optional<mysql::GtidPosition>& from,
                                  source::ChangeReader* reader);

  TaskConfig config_;
  std::shared_ptr<const pipeline::Mapping> mapping_;
  IncrementalSeams seams_;
  std::string data_dir_;
  std::function<void(const pipeline::Transaction&)> on_read_;  // IncrementalContext::on_read
  std::vector<std::pair<std::string, std::string>> source_tables_;
};

Result<uint64_t> BinlogIncrementalEngine::restoreHistory(
    SchemaHistoryStore* store, const std::optional<mysql::GtidPosition>& from,
    source::ChangeReader* reader) {
  DTS_ASSIGN_OR_RETURN(std::vector<SchemaHistoryStore::Version> versions, store->load());
  source::SchemaHistory& history = reader->schema().history();
  if (!versions.empty()) {
    for (size_t i = versions.size(); i-- > 0;) {
      DTS_ASSIGN_OR_RETURN(bool in_force, versionInForce(from, versions[i].gtid));
      if (!in_force) continue;
      DTS_RETURN_IF_ERROR(history.restore(versions[i].text));
      DTS_RETURN_IF_ERROR(store->pruneBefore(versions[i].seq));
      spdlog::info("task {}: schema history of {} tables restored as of {} (version {})",
                   config_.name, history.tableCount(),
                   versions[i].gtid.empty() ? "its start" : versions[i].gtid, versions[i].seq);
      return versions.back().seq + 1;
    }
    return Status::FailedPrecondition("no saved schema history is in force at position " +
                                      positionText(from));
  }
  // A task without a full phase (a tracking task), or whose full phase ran before the starting
  // definitions were saved with its first snapshot: the definitions as the source has them now,
  // which are those in force at `from` only when no DDL since changed them (source/start_check.h):
  // read first, then checked against the binlog from `from` to its end.
  DTS_ASSIGN_OR_RETURN(auto src_opts, config_.source.connectOptions());
  DTS_ASSIGN_OR_RETURN(auto src, mysql::Connection::connect(src_opts));
  DTS_ASSIGN_OR_RETURN(std::string live, readStartingDefinitions(*src, *mapping_, source_tables_));
  DTS_ASSIGN_OR_RETURN(source::ChangeReaderFactory open_scan, scanFactory());
  DTS_ASSIGN_OR_RETURN(std::unique_ptr<source::ChangeReader> scan,
                       open_scan(from, source::startCheckReaderOptions()));
  DTS_ASSIGN_OR_RETURN(source::StartCheck check,
                       source::checkDdlSinceStart(*scan, *mapping_, from));
  scan.reset();
  source::SchemaHistory seeded;
  DTS_RETURN_IF_ERROR(seeded.restore(live));
  source::SchemaHistory start;
  for (const auto& [db, table] : seeded.tables()) {
    if (std::binary_search(check.from_stream.begin(), check.from_stream.end(),
                           std::make_pair(db, table)))
      continue;  // absent at the start: its CREATE in the stream defines it
    start.put(*seeded.find(db, table));
  }
  std::string text = start.save(0);
  DTS_RETURN_IF_ERROR(history.restore(text));
  DTS_RETURN_IF_ERROR(store->save(1, "", text));
  spdlog::info(
      "task {}: schema history seeded with the definitions of {} tables, unchanged from {} to "
      "the source's end ({} DDL statements since, {} selected tables defined by them)",
      config_.name, start.tableCount(), positionText(from), check.ddl_statements,
      check.from_stream.size());
  return uint64_t{2};
}

std::string BinlogIncrementalEngine::sourceName() const {
  if (!config_.source.secondary_node.empty())
    return "node " + config_.source.secondary_node + " (" + config_.source.endpoint + ")";
  return "source " + config_.source.endpoint;
}

Status BinlogIncrementalEngine::checkSourceBinlog(
    const std::optional<mysql::GtidPosition>& from) const {
  if (seams_.reader) return Status::OK();
  DTS_ASSIGN_OR_RETURN(auto opts, config_.source.connectOptions());
  DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(opts));
  DTS_ASSIGN_OR_RETURN(auto positions, source::readNodeGtidPositions(*conn));
  if (!positions.has_value()) return Status::OK();
  DTS_RETURN_IF_ERROR(source::checkNodeHasReached(sourceName(), *positions, from));
  return source::checkNodeBinlogHasApplied(sourceName(), *positions, from);
}

Result<std::string> BinlogIncrementalEngine::explainJump(const source::GtidJump& jump,
                                                         const mysql::GtidPosition& before,
                                                         const std::string& at) const {
  const std::string domain = std::to_string(jump.last.source.domain);
  if (seams_.reader) {
    return source::binlogJumpError(sourceName(), jump, at, "no server to ask who wrote the jump");
  }
  // The server read made the jump itself when it replicated nothing of the domain past its start.
  DTS_ASSIGN_OR_RETURN(auto opts, config_.source.connectOptions());
  std::string evidence;
  auto slavePos = [](const mysql::ConnectOptions& o) -> Result<mysql::GtidPosition> {
    DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(o));
    DTS_ASSIGN_OR_RETURN(auto positions, source::readNodeGtidPositions(*conn));
    if (!positions.has_value()) return Status::Unsupported("not a MariaDB server");
    return positions->slave;
  };
  if (auto slave = slavePos(opts); !slave.ok()) {
    evidence = "its gtid_slave_pos cannot be read: " + slave.status().message();
  } else if (source::jumpMadeOnThisServer(*slave, jump)) {
    return "written by the server read itself (SET gtid_seq_no): it replicated nothing of domain " +
           domain + " after " + jump.last.toString() + " (gtid_slave_pos '" + slave->toString() +
           "')";
  } else {
    evidence = "it replicated transactions of domain " + domain + " after " + jump.last.toString() +
               ": its gtid_slave_pos is " + slave->toString();
  }
  // A secondary: the primary's binlog may make the same jump, written there.
  if (!config_.source.secondary_node.empty() && !config_.source.instance_endpoint.empty()) {
    EndpointConfig primary_config = config_.source;
    primary_config.endpoint = primary_config.instance_endpoint;
    DTS_ASSIGN_OR_RETURN(auto primary, primary_config.connectOptions());
    mysql::BinlogStreamOptions so;
    so.connection = primary;
    so.heartbeat_period = std::chrono::milliseconds(1000);
    so.read_timeout = std::chrono::seconds(10);
    auto same = source::primaryMakesTheSameJump(so, before, jump);
    if (!same.ok()) {
      evidence += "; the primary's binlog cannot tell: " + same.status().message();
    } else if (!*same) {
      evidence +=
          "; the primary's binlog (" + primary_config.endpoint + ") has transactions between them";
    } else if (auto slave = slavePos(primary);
               slave.ok() && source::jumpMadeOnThisServer(*slave, jump)) {
      return "the primary's binlog (" + primary_config.endpoint +
             ") makes the same jump, written there (SET gtid_seq_no)";
    } else {
      evidence +=
          "; the primary's binlog makes the same jump, but the primary may have "
          "replicated the transactions between them too";
    }
  }
  return source::binlogJumpError(sourceName(), jump, at, evidence);
}

Result<source::ChangeReaderFactory> BinlogIncrementalEngine::scanFactory() const {
  if (seams_.reader) return seams_.reader;  // a test's input is finite
  DTS_ASSIGN_OR_RETURN(auto src_opts, config_.source.connectOptions());
  mysql::BinlogStreamOptions so;
  so.connection = src_opts;
  so.heartbeat_period = std::chrono::milliseconds(1000);
  so.read_timeout = std::chrono::seconds(10);
  so.stop_at_end = true;
  return source::serverReaderFactory(std::move(so));
}

Result<source::ChangeReaderFactory> BinlogIncrementalEngine::readerFactory() const {
  if (seams_.reader) return seams_.reader;
  DTS_ASSIGN_OR_RETURN(auto src_opts, config_.source.connectOptions());
  mysql::BinlogStreamOptions so;
  so.connection = src_opts;
  so.heartbeat_period = std::chrono::milliseconds(1000);
  so.read_timeout = std::chrono::seconds(10);
  return source::serverReaderFactory(std::move(so));
}

Status BinlogIncrementalEngine::run(const std::optional<mysql::GtidPosition>& start,
                                    Progress* progress, const std::atomic<bool>& stop) {
  const std::string where = phaseContext(config_);
  Clock* const clock = seams_.clock;
  DTS_ASSIGN_OR_RETURN(source::ChangeReaderFactory open_reader, readerFactory());
  const bool tracking = config_.kind == TaskKind::kTracking;
  SinkFactory open_sink = seams_.sink ? seams_.sink
                          : tracking  ? changeLogSinkFactory(data_dir_)
                                      : mysqlSinkFactory();
  DTS_ASSIGN_OR_RETURN(std::unique_ptr<sink::Sink> sink, open_sink(config_, mapping_));

  DTS_ASSIGN_OR_RETURN(std::optional<mysql::GtidPosition> resume, sink->resumePosition());
  std::optional<mysql::GtidPosition> task_start = start;
  bool start_moved = false;  // the history seeded for the old start is then seeded again
  if (tracking && !resume.has_value() && config_.options.start_ms < 0 &&
      !config_.options.start.empty()) {
    // A log that holds nothing yet starts where the task file says now: a start refused for a
    // DDL since it (source/start_check.h) is moved past that DDL by editing options.start.
    auto given = mysql::GtidPosition::parseStored(config_.options.start);
    if (!given.ok()) return given.status().withContext(where + ": options.start");
    start_moved = *given != start;
    task_start = std::move(given).value();
  } else if (tracking && !resume.has_value() && config_.options.start_ms >= 0 && !seams_.reader) {
    // ... or at its time: at the binlog file that holds it (source/binlog_start.h), found anew
    // while the log holds nothing, so an edited time takes effect as an edited GTID set does.
    DTS_ASSIGN_OR_RETURN(auto src_opts, config_.source.connectOptions());
    auto at = source::binlogStartAtTime(src_opts, sourceName(), config_.options.start_ms);
    if (!at.ok()) return at.status().withContext(where + ": options.start");
    auto given = mysql::GtidPosition::parseStored(at->gtid);
    if (!given.ok()) return given.status().withContext(where + ": options.start");
    spdlog::info("task {}: options.start {}: reading from {}'s {} (begun {}, after {})",
                 config_.name, config_.options.start, sourceName(), at->file,
                 source::utcSecondsText(at->created_s), at->gtid.empty() ? "nothing" : at->gtid);
    start_moved = *given != start;
    task_start = std::move(given).value();
  }
  auto from_r = incrementalStartPosition(task_start, resume);
  if (!from_r.ok()) return from_r.status().withContext(where);
  const std::optional<mysql::GtidPosition> from = std::move(from_r).value();
  if (Status binlog = checkSourceBinlog(from); !binlog.ok()) return binlog.withContext(where);
  source::ChangeReaderOptions ro;
  ro.tables = mapping_;    // tables the task does not move are not decoded
  ro.keep_all_ddl = true;  // qualified DDL run from another default database; the stage decides
  ro.refuse_statement_dml = true;  // rows only: a change logged as a statement is an error
  ro.skip_gtids = config_.options.skip_gtids;  // ... unless the DBA said to leave it out
  // ... also on a table it does not move that writes one it does (a view, a trigger): asked of
  // the source on a connection of its own, opened the first time. A table's answer is kept for
  // a few seconds: a tool that writes its own table by statements all the time (pt-table-checksum
  // in its checksums table) costs two information_schema reads per table, not per statement.
  {
    struct Asked {
      std::unique_ptr<mysql::Connection> conn;
      std::map<std::pair<std::string, std::string>,
               std::pair<std::string, std::chrono::steady_clock::time_point>>
          answers;
    };
    auto asked = std::make_shared<Asked>();
    ro.writes_through = [source = config_.source, asked, moved = mapping_](
                            const std::string& db,
                            const std::string& table) -> Result<std::string> {
      const auto now = std::chrono::steady_clock::now();
      auto& answers = asked->answers;
      if (auto it = answers.find({db, table});
          it != answers.end() && now - it->second.second < std::chrono::seconds(5))
        return it->second.first;
      if (asked->conn == nullptr) {
        DTS_ASSIGN_OR_RETURN(auto options, source.connectOptions());
        DTS_ASSIGN_OR_RETURN(asked->conn, mysql::Connection::connect(options));
      }
      auto r = source::writesThrough(*asked->conn, *moved, db, table);
      if (!r.ok()) {
        asked->conn.reset();  // a new connection next time
        return r;
      }
      if (answers.size() > 10000) answers.clear();  // bounded, whatever the statements name
      answers[{db, table}] = {*r, now};
      return r;
    };
  }
  ro.clock = clock;
  auto reader_r = open_reader(from, std::move(ro));
  if (!reader_r.ok()) return reader_r.status().withContext(where);
  std::unique_ptr<source::ChangeReader> reader = std::move(reader_r).value();
  // The schema history persists with the default sink (dts_meta at the destination); a test's
  // own sink keeps it in memory only.
  std::unique_ptr<SchemaHistoryStore> history_store;
  uint64_t history_seq = 0;
  if (!seams_.sink) {
    auto opened = [&]() -> Result<std::unique_ptr<SchemaHistoryStore>> {
      if (tracking)
        return SchemaHistoryStore::openLocal(changeLogDir(data_dir_, config_.name) +
                                             "/schema_history.db");
      DTS_ASSIGN_OR_RETURN(auto dest_opts, config_.destination.connectOptions());
      return SchemaHistoryStore::open(dest_opts, config_.name);
    }();
    if (!opened.ok()) return opened.status().withContext(where + ": schema history store");
    history_store = std::move(opened).value();
    if (start_moved) {
      Status cleared = history_store->clear();
      if (!cleared.ok()) return cleared.withContext(where + ": schema history store");
    }
    auto seq = restoreHistory(history_store.get(), from, reader.get());
    if (!seq.ok()) return seq.status().withContext(where + ": restoring the schema history");
    history_seq = *seq;
  }
  uint64_t schema_changes_saved = reader->schemaChanges();
  spdlog::info("task {}: streaming {} from {}", config_.name, reader->describe(),
               positionText(from));
  progress->noteHealthy();
  Throttle throttle(config_.options.incremental_limits, clock);

  // Progress publisher and stop watcher: a blocked read must not delay either.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  auto nowMs = [clock] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch())
        .count();
  };
  uint64_t published_rows = 0, published_bytes = 0, published_ddl_skips = 0;
  uint64_t published_not_applied = 0;
  int64_t fresh_ms = 0;  // the last time the destination had everything the source had
  std::map<std::pair<std::string, std::string>, uint64_t> published_tables;  // source table -> rows
  auto publish = [&]() {
    sink::SinkStats s = sink->stats();
    if (s.rows_applied > published_rows || s.bytes_applied > published_bytes) {
      progress->addMoved(s.rows_applied - published_rows, s.bytes_applied - published_bytes);
      published_rows = s.rows_applied;
      published_bytes = s.bytes_applied;
    }
    for (; published_ddl_skips < s.ddl_replays_skipped; ++published_ddl_skips)
      progress->countDegraded(Degraded::kDdlReplaySkipped);
    for (; published_not_applied < s.ddl_not_applied; ++published_not_applied)
      progress->countDegraded(Degraded::kDdlNotApplied);
    for (auto& c : sink->changesByTable()) {
      uint64_t& before = published_tables[{c.database, c.table}];
      if (c.rows == before) continue;
      // The sink counts by target name; the status shows tables by their source name.
      auto source = mapping_->sourceTable(c.database, c.table);
      const std::string& db = source ? source->first : c.database;
      const std::string& table = source ? source->second : c.table;
      Progress::Table* p = progress->findTable(db, table);
      // Changes applied before the table's DROP (or RENAME away) do not bring it back.
      if (p == nullptr && progress->forgotten(db, table)) {
        before = c.rows;
        continue;
      }
      if (p == nullptr) {  // created on the source during the incremental phase
        p = progress->addTable(db, table, c.database, c.table);
        p->done = true;  // nothing of it to load in full
      }
      p->changes_applied += c.rows - before;
      before = c.rows;
    }
    // Replication lag. Caught up (the stream's last packet was a heartbeat: the source had
    // nothing more, and the sink holds nothing not yet committed): 0, however long ago the last
    // change was. Otherwise: how old the newest data known to be at the destination is, the
    // later of the last committed transaction's source commit time and the last moment it was
    // caught up (so the first change after an idle hour is not an hour behind).
    const int64_t now = nowMs();
    if (reader->caughtUp() && s.queued_transactions == 0) {
      fresh_ms = now;
      progress->setLatencyMs(0);
    } else {
      double newest = std::max(s.last_source_commit_ms, static_cast<double>(fresh_ms));
      if (newest > 0) progress->setLatencyMs(std::max(0.0, static_cast<double>(now) - newest));
    }
    progress->setSinkGauges({s.queued_transactions,
                             s.transactions_applied,
                             s.batches,
                             {s.open_transaction_gtid, s.open_transaction_rows},
                             s.log_first_offset,
                             s.log_end_offset,
                             s.log_disk_bytes});
    if (auto pos = sink->durablePosition(); pos.has_value() && !pos->empty())
      progress->setCheckpoint(pos->toString());
  };
  // A failure of the sink's own threads (a worker's transaction) ends the run at once, even when
  // the reader waits for a source with nothing more to send: the reader is interrupted, and the
  // loop below returns the sink's error as if apply() had.
  std::atomic<bool> sink_failed{false};
  std::thread watcher([&] {
    std::unique_lock<std::mutex> lock(mu);
    auto next_publish = std::chrono::steady_clock::now();  // a display cadence, not a window
    while (!finished) {
      cv.wait_for(lock, std::chrono::milliseconds(50));
      if (stop.load()) reader->interrupt();
      if (!sink_failed.load() && !sink->failure().ok()) {
        sink_failed.store(true);
        reader->interrupt();
      }
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

  Status st;
  std::unique_ptr<pipeline::FilterEvaluator> filter_source;
  if (seams_.filter_evaluator) {
    auto made = seams_.filter_evaluator(config_);
    if (!made.ok()) st = made.status().withContext(where + ": row filter evaluator");
    if (made.ok()) filter_source = std::move(made).value();
  } else if (auto src_opts = config_.source.connectOptions(); src_opts.ok()) {
    filter_source = std::make_unique<source::SourceFilterEvaluator>(*src_opts);
  } else if (!seams_.reader) {
    st = src_opts.status().withContext(where + ": row filter evaluator");
  }
  pipeline::MappingStage stage(mapping_, filter_source.get(),
                               tracking ? pipeline::DdlUse::kRecord : pipeline::DdlUse::kApply);
  // XA transactions go on once decided (pipeline/xa_stage.h).
  pipeline::XaStage xa;
  std::unique_ptr<mysql::Connection> tz_source;  // fixDdlTimeZones
  std::vector<pipeline::Transaction> done, ready;
  // Every transaction after `from` must be read: a seq_no that jumps within a domain means some
  // are missing from this binlog, unless proven otherwise (source/binlog_continuity.h).
  source::GtidContinuity continuity(from);
  bool halt = false;  // stop seen mid-batch: nothing after the last applied piece may go
  while (st.ok() && !halt && !stop.load()) {
    auto more = reader->next(&done);
    if (!more.ok()) {
      const source::ChangeReader::Failure& f = reader->failure();
      if (more.status().code() == Status::Code::kAborted && sink_failed.load()) {
        st = sink->failure().withContext(where);
        break;
      }
      if (f.step == source::ChangeReader::Step::kRead) {
        if (more.status().code() == Status::Code::kAborted && stop.load()) break;
        st = more.status().withContext(where);
      } else if (f.step == source::ChangeReader::Step::kDecode) {
        st = more.status().withContext(where + ": decoding " + reader->describe());
      } else {
        st = more.status().withContext(where + ": at " + reader->describe());
      }
      break;
    }
    if (!*more) {
      st = Status::NotFound(where + ": the binlog input ended at " + reader->describe());
      break;
    }
    for (const mysql::BinlogEvent& ev : reader->events()) {
      const auto* g = ev.as<mysql::MariaGtidEvent>();
      if (g == nullptr) continue;
      auto jump = continuity.note(
          mysql::Gtid{mysql::GtidSource::mariaDb(g->domain_id), g->server_id, g->seq_no});
      if (!jump.has_value()) continue;
      // Checked before anything of the transaction after the jump reaches the sink.
      auto why = explainJump(*jump, continuity.positionBefore(*jump),
                             ev.position.file + ":" + std::to_string(ev.position.offset));
      if (!why.ok()) {
        st = why.status().withContext(where);
        break;
      }
      spdlog::warn("task {}: the binlog of {} goes from {} to {}, nothing missing: {}",
                   config_.name, sourceName(), jump->last.toString(), jump->next.toString(), *why);
    }
    if (!st.ok()) break;
    if (history_store != nullptr && reader->schemaChanges() != schema_changes_saved) {
      // Saved before the sink sees the DDL: a checkpoint past it always finds its version.
      schema_changes_saved = reader->schemaChanges();
      st = history_store->save(history_seq++, reader->schemaChangeGtid(),
                               reader->schema().history().save(reader->marker()));
      if (!st.ok()) {
        st = st.withContext(where + ": saving the schema history");
        break;
      }
    }
    ready.clear();
    for (pipeline::Transaction& piece : done) {
      st = xa.add(std::move(piece), &ready);
      if (!st.ok()) break;
    }
    done.clear();
    if (!st.ok()) {
      st = st.withContext(where);
      break;
    }
    for (pipeline::Transaction& piece : ready) {
      bool left_out = false;  // a DDL about what the task moves, not applied
      if (!config_.options.ddl) {
        // Said and counted, never dropped silently: a TRUNCATE or DROP left out leaves the
        // destination holding rows the source no longer has.
        std::erase_if(piece.events, [&](const pipeline::ChangeEvent& e) {
          if (e.op != pipeline::ChangeEvent::Op::kDdl) return false;
          // A statement about nothing the task moves (another database, a table it does not
          // select) would not have been applied anyway: dropped without a word.
          auto concerns =
              pipeline::rewriteDdl(e.sql, e.database, mapping_.get(), pipeline::DdlUse::kRecord,
                                   pipeline::ddlLexerOptions(e));
          if (concerns.ok() && !concerns->has_value()) return true;
          spdlog::warn("task {}: not {} (options.ddl is false): {} (transaction {}, {}:{})",
                       config_.name, tracking ? "recorded" : "applied at the destination", e.sql,
                       piece.gtid, e.position.file, e.position.offset);
          progress->countDegraded(Degraded::kDdlNotApplied);
          left_out = true;
          return true;
        });
      }
      if (!config_.options.incremental_limits.unlimited() && !piece.events.empty()) {
        if (!throttle.acquire(piece.events.size(), payloadBytes(piece), stop)) {
          halt = true;
          break;
        }
      }
      if (on_read_) on_read_(piece);
      noteDroppedTables(piece, reader->schema().history(), progress);
      // A change log records the statement as it ran; only a destination runs it.
      if (!tracking) st = fixDdlTimeZones(config_, &tz_source, &piece);
      if (!st.ok()) {
        st = st.withContext(where);
        break;
      }
      st = stage.map(&piece);
      for (const std::string& what : stage.takeNotApplied()) {
        spdlog::warn("task {}: not applied at the destination: {}", config_.name, what);
        progress->countDegraded(Degraded::kDdlNotApplied);
      }
      if (!st.ok()) {
        st = st.withContext(where);
        break;
      }
      // A whole transaction with nothing to apply and nothing to record is dropped; a piece of a
      // larger one always goes (the sink needs its first and last).
      if (piece.whole() && piece.gtid.empty() && piece.events.empty()) continue;
      const bool last = piece.last_piece;
      st = sink->apply(std::move(piece));
      // Left out for good at once: a run with ddl: true after this one (the documented way past
      // a DDL the destination cannot take) must not meet it again.
      if (st.ok() && left_out && last) st = sink->flush();
      if (!st.ok()) {
        st = st.withContext(where);
        break;
      }
    }
  }
  // Stopped or failed: commit what is queued (after a failure the sink may refuse; its
  // checkpoint is then whatever committed, which is exact either way).
  Status closed = sink->close();
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

}  // namespace

Result<std::optional<mysql::GtidPosition>> incrementalStartPosition(
    const std::optional<mysql::GtidPosition>& task_start,
    const std::optional<mysql::GtidPosition>& resume) {
  if (!resume.has_value() || resume->empty()) return task_start;
  if (!task_start.has_value() || task_start->empty()) return resume;
  if (task_start->flavor() != resume->flavor()) {
    return Status::InvalidArgument(
        std::string("the task started at a ") + mysql::gtidFlavorName(task_start->flavor()) +
        " position (" + task_start->toString() + ") but its checkpoint is a " +
        mysql::gtidFlavorName(resume->flavor()) + " position (" + resume->toString() +
        "): the checkpoint belongs to another source");
  }
  mysql::GtidPosition merged = *task_start;
  DTS_RETURN_IF_ERROR(merged.merge(*resume));
  return std::optional<mysql::GtidPosition>(std::move(merged));
}

IncrementalFactory incrementalFactory(IncrementalSeams seams) {
  return [seams = std::move(seams)](
             const IncrementalContext& ctx) -> Result<std::unique_ptr<IncrementalEngine>> {
    return std::unique_ptr<IncrementalEngine>(new BinlogIncrementalEngine(ctx, seams));
  };
}

IncrementalFactory defaultIncrementalFactory() {
  return incrementalFactory(IncrementalSeams{});
}

SinkFactory mysqlSinkFactory() {
  return [](const TaskConfig& config, std::shared_ptr<const pipeline::Mapping> mapping)
             -> Result<std::unique_ptr<sink::Sink>> {
    DTS_ASSIGN_OR_RETURN(auto dest_opts, config.destination.connectOptions());
    sink::ApplierOptions ao;
    ao.destination = dest_opts;
    ao.task = config.name;
    ao.workers = config.options.parallelism;
    DTS_ASSIGN_OR_RETURN(std::unique_ptr<sink::MysqlApplier> applier, sink::MysqlApplier::open(ao));
    DTS_RETURN_IF_ERROR(loadFullPhaseSnapshots(config.name, dest_opts, mapping.get(), applier.get())
                            .withContext(phaseContext(config) + ": reading dts_meta"));
    return std::unique_ptr<sink::Sink>(std::move(applier));
  };
}

}  // namespace dts::task
