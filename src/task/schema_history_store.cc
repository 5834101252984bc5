#include "task/schema_history_store.h"

#include <algorithm>

#include "common/sqlite.h"
#include "source/schema_history.h"

namespace dts::task {

namespace {

class DestinationHistoryStore final : public SchemaHistoryStore {
 public:
  DestinationHistoryStore(std::unique_ptr<mysql::Connection> conn, std::string task)
      : conn_(std::move(conn)), task_(std::move(task)) {}

  Result<std::vector<Version>> load() override {
    DTS_ASSIGN_OR_RETURN(auto rows, conn_->query("SELECT seq, gtid, history FROM "
                                                 "`dts_meta`.`schema_history` WHERE task = " +
                                                 conn_->quoteString(task_) + " ORDER BY seq"));
    return versionsOf(rows.rows);
  }
  Status save(uint64_t seq, const std::string& gtid, const std::string& text) override {
    return conn_->execute(
        "REPLACE INTO `dts_meta`.`schema_history` (task, seq, gtid, history) VALUES (" +
        conn_->quoteString(task_) + ", " + std::to_string(seq) + ", " + conn_->quoteString(gtid) +
        ", " + conn_->quoteString(text) + ")");
  }
  Status pruneBefore(uint64_t seq) override {
    return conn_->execute("DELETE FROM `dts_meta`.`schema_history` WHERE task = " +
                          conn_->quoteString(task_) + " AND seq < " + std::to_string(seq));
  }
  Status clear() override {
    return conn_->execute("DELETE FROM `dts_meta`.`schema_history` WHERE task = " +
                          conn_->quoteString(task_));
  }

  template <typename Rows>
  static std::vector<Version> versionsOf(const Rows& rows) {
    std::vector<Version> out;
    for (const auto& r : rows) {
      if (r.size() < 3 || !r[0] || !r[1] || !r[2]) continue;
      out.push_back(Version{std::stoull(*r[0]), *r[1], *r[2]});
    }
    return out;
  }

 private:
  std::unique_ptr<mysql::Connection> conn_;
  std::string task_;
};

class LocalHistoryStore final : public SchemaHistoryStore {
 public:
  explicit LocalHistoryStore(std::unique_ptr<Sqlite> db) : db_(std::move(db)) {}

  Result<std::vector<Version>> load() override {
    DTS_ASSIGN_OR_RETURN(auto rows,
                         db_->query("SELECT seq, gtid, history FROM schema_history ORDER BY seq"));
    return DestinationHistoryStore::versionsOf(rows);
  }
  Status save(uint64_t seq, const std::string& gtid, const std::string& text) override {
    return db_
        ->query("INSERT OR REPLACE INTO schema_history (seq, gtid, history) VALUES (?1, ?2, ?3)",
                {std::to_string(seq), gtid, text})
        .status();
  }
  Status pruneBefore(uint64_t seq) override {
    return db_->query("DELETE FROM schema_history WHERE seq < ?1", {std::to_string(seq)}).status();
  }
  Status clear() override { return db_->exec("DELETE FROM schema_history"); }

 private:
  std::unique_ptr<Sqlite> db_;
};

}  // namespace

Result<std::unique_ptr<SchemaHistoryStore>> SchemaHistoryStore::open(
    const mysql::ConnectOptions& dest, std::string task) {
  DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(dest));
  DTS_RETURN_IF_ERROR(conn->execute("CREATE DATABASE IF NOT EXISTS `dts_meta`"));
  DTS_RETURN_IF_ERROR(conn->execute(
      "CREATE TABLE IF NOT EXISTS `dts_meta`.`schema_history` (task VARCHAR(191) NOT NULL, "
      "seq BIGINT UNSIGNED NOT NULL, gtid VARCHAR(255) NOT NULL, history LONGBLOB NOT NULL, "
      "PRIMARY KEY (task, seq)) ENGINE=InnoDB"));
  return std::unique_ptr<SchemaHistoryStore>(
      new DestinationHistoryStore(std::move(conn), std::move(task)));
}

Result<std::unique_ptr<SchemaHistoryStore>> SchemaHistoryStore::openLocal(const std::string& path) {
  DTS_ASSIGN_OR_RETURN(auto db, Sqlite::open(path));
  DTS_RETURN_IF_ERROR(
      db->exec("CREATE TABLE IF NOT EXISTS schema_history (seq INTEGER PRIMARY KEY, gtid TEXT "
               "NOT NULL, history BLOB NOT NULL)"));
  return std::unique_ptr<SchemaHistoryStore>(new LocalHistoryStore(std::move(db)));
}

Result<std::string> readStartingDefinitions(mysql::Connection& src,
                                            const pipeline::Mapping& mapping,
                                            std::vector<std::pair<std::string, std::string>> tables,
                                            size_t* count) {
  // Every base table the mapping moves (the catalog may hold fewer: tables created since).
  DTS_ASSIGN_OR_RETURN(auto listed,
                       src.query("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                                 "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN "
                                 "('mysql', 'information_schema', 'performance_schema', 'sys')"));
  for (const auto& row : listed.rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    if (mapping.selectsTable(*row[0], *row[1])) tables.emplace_back(*row[0], *row[1]);
  }
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  source::SchemaHistory history;
  for (const auto& [db, table] : tables) {
    auto def = source::loadLiveDefinition(src, db, table);
    if (def.status().code() == Status::Code::kNotFound) continue;
    if (!def.ok()) return def.status();
    history.put(std::move(def).value());
  }
  if (count != nullptr) *count = history.tableCount();
  return history.save(0);
}

}  // namespace dts::task
