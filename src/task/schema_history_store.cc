#include "task/schema_history_store.h"

#include <algorithm>

#include "source/schema_history.h"

namespace dts::task {

Result<std::unique_ptr<SchemaHistoryStore>> SchemaHistoryStore::open(
    const mysql::ConnectOptions& dest, std::string task) {
  DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(dest));
  DTS_RETURN_IF_ERROR(conn->execute("CREATE DATABASE IF NOT EXISTS `dts_meta`"));
  DTS_RETURN_IF_ERROR(conn->execute(
      "CREATE TABLE IF NOT EXISTS `dts_meta`.`schema_history` (task VARCHAR(191) NOT NULL, "
      "seq BIGINT UNSIGNED NOT NULL, gtid VARCHAR(255) NOT NULL, history LONGBLOB NOT NULL, "
      "PRIMARY KEY (task, seq)) ENGINE=InnoDB"));
  return std::unique_ptr<SchemaHistoryStore>(
      new SchemaHistoryStore(std::move(conn), std::move(task)));
}

Result<std::vector<SchemaHistoryStore::Version>> SchemaHistoryStore::load() {
  DTS_ASSIGN_OR_RETURN(auto rows, conn_->query("SELECT seq, gtid, history FROM "
                                               "`dts_meta`.`schema_history` WHERE task = " +
                                               conn_->quoteString(task_) + " ORDER BY seq"));
  std::vector<Version> out;
  for (const auto& r : rows.rows) {
    if (r.size() < 3 || !r[0] || !r[1] || !r[2]) continue;
    out.push_back(Version{std::stoull(*r[0]), *r[1], *r[2]});
  }
  return out;
}

Status SchemaHistoryStore::save(uint64_t seq, const std::string& gtid, const std::string& text) {
  return conn_->execute(
      "REPLACE INTO `dts_meta`.`schema_history` (task, seq, gtid, history) VALUES (" +
      conn_->quoteString(task_) + ", " + std::to_string(seq) + ", " + conn_->quoteString(gtid) +
      ", " + conn_->quoteString(text) + ")");
}

Status SchemaHistoryStore::pruneBefore(uint64_t seq) {
  return conn_->execute("DELETE FROM `dts_meta`.`schema_history` WHERE task = " +
                        conn_->quoteString(task_) + " AND seq < " + std::to_string(seq));
}

Status SchemaHistoryStore::clear() {
  return conn_->execute("DELETE FROM `dts_meta`.`schema_history` WHERE task = " +
                        conn_->quoteString(task_));
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
