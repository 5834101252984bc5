#include "task/state_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

namespace dts::task {

const char* phaseName(TaskPhase phase) {
  switch (phase) {
    case TaskPhase::kCreated: return "created";
    case TaskPhase::kPrechecking: return "prechecking";
    case TaskPhase::kSchema: return "schema";
    case TaskPhase::kFull: return "full";
    case TaskPhase::kIncremental: return "incremental";
    case TaskPhase::kPaused: return "paused";
    case TaskPhase::kCompleted: return "completed";
    case TaskPhase::kFailed: return "failed";
  }
  return "unknown";
}

Result<TaskPhase> parsePhase(const std::string& name) {
  for (TaskPhase p :
       {TaskPhase::kCreated, TaskPhase::kPrechecking, TaskPhase::kSchema, TaskPhase::kFull,
        TaskPhase::kIncremental, TaskPhase::kPaused, TaskPhase::kCompleted, TaskPhase::kFailed}) {
    if (name == phaseName(p)) return p;
  }
  return Status::Corruption("unknown task phase '" + name + "'");
}

const char* degradedName(Degraded mode) {
  switch (mode) {
    case Degraded::kLoadDataRefused: return "load_data_refused";
    case Degraded::kStateSaveFailed: return "state_save_failed";
    case Degraded::kDdlReplaySkipped: return "ddl_replay_skipped";
    case Degraded::kVerifyRowsSkipped: return "verify_rows_skipped";
    case Degraded::kDdlNotApplied: return "ddl_not_applied";
  }
  return "unknown";
}

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const std::string& data_dir) {
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FailedPrecondition("creating data dir " + data_dir + ": " +
                                      std::strerror(errno));
  }
  DTS_ASSIGN_OR_RETURN(auto db, Sqlite::open(data_dir + "/dts.db"));
  DTS_RETURN_IF_ERROR(db->exec(
      "CREATE TABLE IF NOT EXISTS task_state ("
      "  name TEXT PRIMARY KEY, kind TEXT, phase TEXT NOT NULL, config_yaml TEXT, last_error TEXT,"
      "  schema_done INTEGER, full_done INTEGER, start_gtid TEXT, checkpoint_gtid TEXT,"
      "  stats TEXT, updated_at_ms INTEGER);"
      "CREATE TABLE IF NOT EXISTS task_tables ("
      "  task TEXT NOT NULL, seq INTEGER NOT NULL, source_db TEXT, source_table TEXT,"
      "  target_db TEXT, target_table TEXT, rows_done INTEGER, rows_estimated INTEGER,"
      "  bytes_done INTEGER, done INTEGER, changes_applied INTEGER, PRIMARY KEY (task, seq));"));
  // A data dir written before changes_applied existed: add the column (NULL reads as 0).
  DTS_ASSIGN_OR_RETURN(auto columns,
                       db->query("SELECT name FROM pragma_table_info('task_tables')", {}));
  bool has_changes = false;
  for (const auto& c : columns) has_changes = has_changes || c[0].value_or("") == "changes_applied";
  if (!has_changes)
    DTS_RETURN_IF_ERROR(db->exec("ALTER TABLE task_tables ADD COLUMN changes_applied INTEGER"));
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(db)));
}

nlohmann::json openTransactionJson(const OpenTransaction& o) {
  if (o.gtid.empty()) return nullptr;
  return {{"gtid", o.gtid}, {"rows", o.rows}};
}

OpenTransaction openTransactionFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return {};
  return {j.value("gtid", ""), j.value("rows", uint64_t{0})};
}

nlohmann::json verifyStateJson(const VerifyState& v) {
  auto tables = nlohmann::json::parse(v.differing_tables_json, nullptr, false);
  nlohmann::json j = {{"state", v.state},
                      {"tables_checked", v.tables_checked},
                      {"tables_total", v.tables_total},
                      {"row_differences", v.row_differences},
                      {"schema_differences", v.schema_differences},
                      {"rechecks", v.rechecks},
                      {"chunks", v.chunks},
                      {"chunks_resumed", v.chunks_resumed},
                      {"rows_checked", v.rows_checked},
                      {"seconds", v.seconds},
                      {"detail", v.detail},
                      {"differing_tables", tables.is_array() ? tables : nlohmann::json::array()}};
  if (v.incremental.enabled) {
    const auto& i = v.incremental;
    j["incremental"] = {{"rows_checked", i.rows_checked},
                        {"row_differences", i.row_differences},
                        {"rechecks", i.rechecks},
                        {"skipped", i.skipped},
                        {"detail", i.detail}};
  }
  return j;
}

VerifyState verifyStateFromJson(const nlohmann::json& v) {
  VerifyState out;
  if (!v.is_object()) return out;
  out.state = v.value("state", "");
  out.tables_checked = v.value("tables_checked", uint64_t{0});
  out.tables_total = v.value("tables_total", uint64_t{0});
  out.row_differences = v.value("row_differences", uint64_t{0});
  out.schema_differences = v.value("schema_differences", uint64_t{0});
  out.rechecks = v.value("rechecks", uint64_t{0});
  out.chunks = v.value("chunks", uint64_t{0});
  out.chunks_resumed = v.value("chunks_resumed", uint64_t{0});
  out.seconds = v.value("seconds", 0.0);
  out.detail = v.value("detail", "");
  if (auto i = v.find("incremental"); i != v.end() && i->is_object()) {
    out.incremental.enabled = true;
    out.incremental.rows_checked = i->value("rows_checked", uint64_t{0});
    out.incremental.row_differences = i->value("row_differences", uint64_t{0});
    out.incremental.rechecks = i->value("rechecks", uint64_t{0});
    out.incremental.skipped = i->value("skipped", uint64_t{0});
    out.incremental.detail = i->value("detail", "");
  }
  out.rows_checked = v.value("rows_checked", uint64_t{0});
  if (auto t = v.find("differing_tables"); t != v.end() && t->is_array())
    out.differing_tables_json = t->dump();
  return out;
}

std::string verifyOverallState(const VerifyState& v) {
  if (v.incremental.row_differences > 0 && (v.state.empty() || v.state == "equal"))
    return "different";
  return v.state;
}

nlohmann::json verifyStatusJson(const VerifyState& v) {
  nlohmann::json j = verifyStateJson(v);
  j["state"] = verifyOverallState(v);
  return j;
}

nlohmann::json trackingLogJson(const TrackingLogState& t) {
  if (!t.known()) return nullptr;
  return {{"first_offset", t.first_offset},           {"end_offset", t.end_offset},
          {"records", t.end_offset - t.first_offset}, {"disk_bytes", t.disk_bytes},
          {"retention_hours", t.retention_hours},     {"retention_bytes", t.retention_bytes}};
}

void recordError(TaskState* s, const std::string& message, int64_t now_ms, bool new_outage) {
  s->last_error = message;
  if (!new_outage && !s->errors.empty() && s->errors.back().recovered_at_ms == 0) {
    s->errors.back().message = message;
    return;
  }
  s->errors.push_back({message, now_ms, 0});
  if (s->errors.size() > kErrorHistory)
    s->errors.erase(s->errors.begin(), s->errors.begin() + static_cast<std::ptrdiff_t>(
                                                               s->errors.size() - kErrorHistory));
}

void recordRecovery(TaskState* s, int64_t now_ms) {
  if (s->errors.empty() || s->errors.back().recovered_at_ms != 0) return;
  s->last_error.clear();
  s->errors.back().recovered_at_ms = now_ms;
}

namespace {
std::string isoUtc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

nlohmann::json pastErrorsJson(const std::vector<PastError>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (const PastError& e : errors) {
    out.push_back(
        {{"message", e.message},
         {"at", isoUtc(e.at_ms)},
         {"at_ms", e.at_ms},
         {"recovered_at", e.recovered_at_ms > 0 ? nlohmann::json(isoUtc(e.recovered_at_ms))
                                                : nlohmann::json(nullptr)},
         {"recovered_at_ms", e.recovered_at_ms}});
  }
  return out;
}

namespace {
uint64_t toU64(const std::optional<std::string>& s) {
  return s ? std::stoull(*s) : 0;
}

// The start_gtid column has always stored '' for "not known yet", so a known empty position needs
// a text of its own: "-", which no GTID position can be.
constexpr char kEmptyStartPosition[] = "-";

std::optional<std::string> startFromColumn(const std::optional<std::string>& column) {
  if (!column.has_value() || column->empty()) return std::nullopt;
  if (*column == kEmptyStartPosition) return std::string();
  return column;
}

std::string startToColumn(const std::optional<std::string>& start) {
  if (!start.has_value()) return "";
  return start->empty() ? kEmptyStartPosition : *start;
}
}  // namespace

Result<std::optional<TaskState>> SqliteStateStore::load(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  DTS_ASSIGN_OR_RETURN(auto rows,
                       db_->query("SELECT name, kind, phase, config_yaml, last_error, schema_done,"
                                  " full_done, start_gtid, checkpoint_gtid, stats, updated_at_ms"
                                  " FROM task_state WHERE name = ?1",
                                  {name}));
  if (rows.empty()) return std::optional<TaskState>();
  const auto& r = rows[0];
  TaskState s;
  s.name = r[0].value_or("");
  s.kind = r[1].value_or("");
  DTS_ASSIGN_OR_RETURN(s.phase, parsePhase(r[2].value_or("")));
  s.config_yaml = r[3].value_or("");
  s.last_error = r[4].value_or("");
  s.schema_done = r[5].value_or("0") == "1";
  s.full_done = r[6].value_or("0") == "1";
  s.start_gtid = startFromColumn(r[7]);
  s.checkpoint_gtid = r[8].value_or("");
  auto stats = nlohmann::json::parse(r[9].value_or("{}"), nullptr, false);
  if (stats.is_object()) {
    s.rps = stats.value("rps", 0.0);
    s.mbps = stats.value("mbps", 0.0);
    s.latency_ms = stats.value("latency_ms", -1.0);
    s.retrying = stats.value("retrying", "");
    if (auto r = stats.find("source_replication"); r != stats.end())
      s.source_replication = source::replicationHealthFromJson(*r);
    if (auto o = stats.find("open_transaction"); o != stats.end())
      s.open_transaction = openTransactionFromJson(*o);
    s.schema_started = stats.value("schema_started", false);
    if (auto v = stats.find("verify"); v != stats.end() && v->is_object())
      s.verify = verifyStateFromJson(*v);
    // A data dir written before the degraded counts existed has no "degraded": none counted.
    auto degraded = stats.find("degraded");
    if (degraded != stats.end() && degraded->is_object()) {
      for (const auto& [mode, count] : degraded->items()) {
        if (count.is_number_unsigned()) s.degraded[mode] = count.get<uint64_t>();
      }
    }
  }
  if (stats.is_object()) {
    if (auto t = stats.find("tracking"); t != stats.end() && t->is_object()) {
      s.tracking.first_offset = t->value("first_offset", int64_t{-1});
      s.tracking.end_offset = t->value("end_offset", int64_t{-1});
      s.tracking.disk_bytes = t->value("disk_bytes", uint64_t{0});
      s.tracking.retention_hours = t->value("retention_hours", uint32_t{0});
      s.tracking.retention_bytes = t->value("retention_bytes", uint64_t{0});
    }
    if (auto e = stats.find("errors"); e != stats.end() && e->is_array()) {
      for (const auto& x : *e) {
        if (!x.is_object()) continue;
        s.errors.push_back({x.value("message", ""), x.value("at_ms", int64_t{0}),
                            x.value("recovered_at_ms", int64_t{0})});
      }
    }
  }
  s.updated_at_ms = static_cast<int64_t>(toU64(r[10]));
  DTS_ASSIGN_OR_RETURN(auto tables,
                       db_->query("SELECT source_db, source_table, target_db, target_table,"
                                  " rows_done, rows_estimated, bytes_done, done, changes_applied"
                                  " FROM task_tables WHERE task = ?1 ORDER BY seq",
                                  {name}));
  for (const auto& t : tables) {
    TableProgress p;
    p.source_database = t[0].value_or("");
    p.source_table = t[1].value_or("");
    p.target_database = t[2].value_or("");
    p.target_table = t[3].value_or("");
    p.rows_done = toU64(t[4]);
    p.rows_estimated = toU64(t[5]);
    p.bytes_done = toU64(t[6]);
    p.done = t[7].value_or("0") == "1";
    p.changes_applied = toU64(t[8]);
    s.tables.push_back(std::move(p));
  }
  return std::optional<TaskState>(std::move(s));
}

Status SqliteStateStore::save(const TaskState& s) {
  std::lock_guard<std::mutex> lock(mu_);
  DTS_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    nlohmann::json stats = {{"rps", s.rps},
                            {"mbps", s.mbps},
                            {"latency_ms", s.latency_ms},
                            {"retrying", s.retrying},
                            {"degraded", s.degraded}};
    if (s.schema_started) stats["schema_started"] = true;
    if (s.source_replication.state != source::ReplicationHealth::State::kNotWatched)
      stats["source_replication"] = source::replicationHealthJson(s.source_replication);
    if (!s.open_transaction.gtid.empty())
      stats["open_transaction"] = openTransactionJson(s.open_transaction);
    if (!s.verify.state.empty() || s.verify.incremental.enabled)
      stats["verify"] = verifyStateJson(s.verify);
    if (s.tracking.known()) stats["tracking"] = trackingLogJson(s.tracking);
    if (!s.errors.empty()) stats["errors"] = pastErrorsJson(s.errors);
    DTS_ASSIGN_OR_RETURN(
        auto ignored,
        db_->query("INSERT OR REPLACE INTO task_state VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                   " ?8, ?9, ?10, ?11)",
                   {s.name, s.kind, std::string(phaseName(s.phase)), s.config_yaml, s.last_error,
                    s.schema_done ? "1" : "0", s.full_done ? "1" : "0", startToColumn(s.start_gtid),
                    s.checkpoint_gtid, stats.dump(), std::to_string(s.updated_at_ms)}));
    DTS_ASSIGN_OR_RETURN(ignored, db_->query("DELETE FROM task_tables WHERE task = ?1", {s.name}));
    for (size_t i = 0; i < s.tables.size(); ++i) {
      const auto& t = s.tables[i];
      DTS_ASSIGN_OR_RETURN(
          ignored,
          db_->query("INSERT INTO task_tables (task, seq, source_db, source_table, target_db,"
                     " target_table, rows_done, rows_estimated, bytes_done, done, changes_applied)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                     {s.name, std::to_string(i), t.source_database, t.source_table,
                      t.target_database, t.target_table, std::to_string(t.rows_done),
                      std::to_string(t.rows_estimated), std::to_string(t.bytes_done),
                      t.done ? "1" : "0", std::to_string(t.changes_applied)}));
    }
    return Status::OK();
  };
  Status st = body();
  if (!st.ok()) {
    (void)db_->exec("ROLLBACK");
    return st;
  }
  return db_->exec("COMMIT");
}

Result<std::vector<std::string>> SqliteStateStore::list() {
  std::lock_guard<std::mutex> lock(mu_);
  DTS_ASSIGN_OR_RETURN(auto rows, db_->query("SELECT name FROM task_state ORDER BY name"));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r[0].value_or(""));
  return out;
}

Status SqliteStateStore::remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  DTS_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    DTS_RETURN_IF_ERROR(db_->query("DELETE FROM task_tables WHERE task = ?1", {name}).status());
    return db_->query("DELETE FROM task_state WHERE name = ?1", {name}).status();
  };
  Status st = body();
  if (!st.ok()) {
    (void)db_->exec("ROLLBACK");
    return st.withContext("removing the state of task " + name);
  }
  return db_->exec("COMMIT");
}

}  // namespace dts::task
