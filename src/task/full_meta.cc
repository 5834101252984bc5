#include "task/full_meta.h"

#include <chrono>
#include <set>

#include "common/log.h"

namespace dts::task {

namespace {

std::string metaKey(mysql::Connection& c, const std::string& task, const CatalogTable& t) {
  return "task = " + c.quoteString(task) + " AND db = " + c.quoteString(t.route.source_database) +
         " AND tbl = " + c.quoteString(t.route.source_table);
}

}  // namespace

Status ensureMetaSchema(mysql::Connection& dest) {
  DTS_RETURN_IF_ERROR(
      dest.execute("CREATE DATABASE IF NOT EXISTS " + mysql::quoteIdentifier("dts_meta")));
  DTS_RETURN_IF_ERROR(dest.execute(
      "CREATE TABLE IF NOT EXISTS " + mysql::quoteQualified("dts_meta", "full_tables") +
      " (task VARCHAR(64) NOT NULL, db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL,"
      " key_columns TEXT NOT NULL, chunks INT NOT NULL, planned_rows BIGINT NOT NULL,"
      " PRIMARY KEY (task, db, tbl)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
  DTS_RETURN_IF_ERROR(dest.execute(
      "CREATE TABLE IF NOT EXISTS " + mysql::quoteQualified("dts_meta", "pending_indexes") +
      " (db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL, definition TEXT NOT NULL,"
      " PRIMARY KEY (db, tbl, name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
  return dest.execute(
      "CREATE TABLE IF NOT EXISTS " + mysql::quoteQualified("dts_meta", "full_chunks") +
      " (task VARCHAR(64) NOT NULL, db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
      " lower_key LONGTEXT NULL, upper_key LONGTEXT NULL, planned_rows BIGINT NOT NULL,"
      " done TINYINT NOT NULL DEFAULT 0, snapshot_gtid TEXT NULL, loaded_rows BIGINT NULL,"
      " PRIMARY KEY (task, db, tbl, chunk)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
}

Result<uint64_t> forgetEarlierTask(mysql::Connection& dest, const std::string& task,
                                   const std::vector<CatalogTable>& catalog) {
  DTS_ASSIGN_OR_RETURN(auto present,
                       dest.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                                  "TABLE_SCHEMA = 'dts_meta'"));
  std::set<std::string> tables;
  for (const auto& r : present.rows) tables.insert(r[0].value_or(""));
  uint64_t removed = 0;
  for (const char* t : {"full_chunks", "full_tables", "checkpoint", "schema_history"}) {
    if (tables.count(t) == 0) continue;
    DTS_RETURN_IF_ERROR(dest.execute("DELETE FROM " + mysql::quoteQualified("dts_meta", t) +
                                     " WHERE task = " + dest.quoteString(task)));
    removed += dest.affectedRows();
  }
  if (tables.count("pending_indexes") != 0) {
    for (const CatalogTable& t : catalog) {
      DTS_ASSIGN_OR_RETURN(
          auto exists, dest.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                                  dest.quoteString(t.route.target_database) +
                                  " AND TABLE_NAME = " + dest.quoteString(t.route.target_table)));
      if (!exists.rows.empty()) continue;
      DTS_RETURN_IF_ERROR(dest.execute("DELETE FROM " +
                                       mysql::quoteQualified("dts_meta", "pending_indexes") +
                                       " WHERE db = " + dest.quoteString(t.route.target_database) +
                                       " AND tbl = " + dest.quoteString(t.route.target_table)));
      removed += dest.affectedRows();
    }
  }
  return removed;
}

Result<std::optional<RecordedPlan>> loadChunkPlan(mysql::Connection& dest, const std::string& task,
                                                  const CatalogTable& t) {
  std::string where = metaKey(dest, task, t);
  DTS_ASSIGN_OR_RETURN(auto planned, dest.query("SELECT planned_rows FROM " +
                                                mysql::quoteQualified("dts_meta", "full_tables") +
                                                " WHERE " + where));
  if (planned.rows.empty()) return std::optional<RecordedPlan>();
  DTS_ASSIGN_OR_RETURN(
      auto rows,
      dest.query("SELECT chunk, lower_key, upper_key, done, planned_rows, loaded_rows FROM " +
                 mysql::quoteQualified("dts_meta", "full_chunks") + " WHERE " + where +
                 " ORDER BY chunk"));
  RecordedPlan plan;
  for (const auto& r : rows.rows) {
    plan.planned_rows += std::stoull(r[4].value_or("0"));
    if (r[3].value_or("0") == "1") {
      plan.loaded_rows += std::stoull(r[5].value_or("0"));
      continue;
    }
    ChunkRange c;
    c.number = std::stoi(r[0].value_or("0"));
    if (r[1].has_value()) {
      DTS_ASSIGN_OR_RETURN(auto k, decodeKey(*r[1]));
      c.lower = std::move(k);
    }
    if (r[2].has_value()) {
      DTS_ASSIGN_OR_RETURN(auto k, decodeKey(*r[2]));
      c.upper = std::move(k);
    }
    plan.pending.push_back(std::move(c));
  }
  return std::optional<RecordedPlan>(std::move(plan));
}

Status saveChunkPlan(mysql::Connection& dest, const std::string& task, const CatalogTable& t,
                     const ChunkPlan& plan, uint64_t statement_bytes) {
  std::string key_columns;
  for (const auto& k : t.chunk_key) key_columns += (key_columns.empty() ? "" : ",") + k;
  DTS_RETURN_IF_ERROR(dest.execute("START TRANSACTION"));
  auto persist = [&]() -> Status {
    std::string head = "INSERT INTO " + mysql::quoteQualified("dts_meta", "full_chunks") +
                       " (task, db, tbl, chunk, lower_key, upper_key, planned_rows) VALUES ";
    std::string sql;
    std::string ids = dest.quoteString(task) + ", " + dest.quoteString(t.route.source_database) +
                      ", " + dest.quoteString(t.route.source_table);
    for (const ChunkRange& c : plan.chunks) {
      sql += (sql.empty() ? head : ", ");
      sql += "(" + ids + ", " + std::to_string(c.number) + ", " +
             (c.lower ? dest.quoteString(encodeKey(*c.lower)) : "NULL") + ", " +
             (c.upper ? dest.quoteString(encodeKey(*c.upper)) : "NULL") + ", " +
             std::to_string(c.planned_rows) + ")";
      if (sql.size() > statement_bytes) {
        DTS_RETURN_IF_ERROR(dest.execute(sql));
        sql.clear();
      }
    }
    if (!sql.empty()) {
      DTS_RETURN_IF_ERROR(dest.execute(sql));
    }
    DTS_RETURN_IF_ERROR(
        dest.execute("INSERT INTO " + mysql::quoteQualified("dts_meta", "full_tables") +
                     " (task, db, tbl, key_columns, chunks, planned_rows) VALUES (" + ids + ", " +
                     dest.quoteString(key_columns) + ", " + std::to_string(plan.chunks.size()) +
                     ", " + std::to_string(plan.total_rows) + ")"));
    return dest.execute("COMMIT");
  };
  Status st = persist();
  if (!st.ok()) {
    (void)dest.execute("ROLLBACK");
    return st.withContext("recording the chunk plan of " + t.describe());
  }
  return Status::OK();
}

Status markChunkDone(mysql::Connection& dest, const std::string& task, const CatalogTable& t,
                     int chunk, const std::string& snapshot_gtid, uint64_t rows) {
  return dest.execute("UPDATE " + mysql::quoteQualified("dts_meta", "full_chunks") +
                      " SET done = 1, snapshot_gtid = " + dest.quoteString(snapshot_gtid) +
                      ", loaded_rows = " + std::to_string(rows) + " WHERE " +
                      metaKey(dest, task, t) + " AND chunk = " + std::to_string(chunk));
}

Status addPendingKeys(mysql::Connection& dest, const CatalogTable& t) {
  std::string where = "db = " + dest.quoteString(t.route.target_database) +
                      " AND tbl = " + dest.quoteString(t.route.target_table);
  DTS_ASSIGN_OR_RETURN(auto pending,
                       dest.query("SELECT name, definition FROM " +
                                  mysql::quoteQualified("dts_meta", "pending_indexes") + " WHERE " +
                                  where + " ORDER BY name"));
  if (pending.rows.empty()) return Status::OK();
  // Some keys may exist already: a crash after the ALTER and before the DELETE, or an ALTER of
  // a killed run that the server finished on its own (then ours fails with a duplicate key
  // name and the keys are looked up again).
  for (int attempt = 0;; ++attempt) {
    DTS_ASSIGN_OR_RETURN(auto existing,
                         dest.query("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS"
                                    " WHERE TABLE_SCHEMA = " +
                                    dest.quoteString(t.route.target_database) +
                                    " AND TABLE_NAME = " + dest.quoteString(t.route.target_table)));
    std::set<std::string> have;
    for (const auto& r : existing.rows) have.insert(r[0].value_or(""));
    std::string alter;
    for (const auto& r : pending.rows) {
      if (have.count(r[0].value_or("")) != 0) continue;
      alter +=
          (alter.empty()
               ? "ALTER TABLE " +
                     mysql::quoteQualified(t.route.target_database, t.route.target_table) + " ADD "
               : ", ADD ") +
          r[1].value_or("");
    }
    if (alter.empty()) break;
    auto started = std::chrono::steady_clock::now();
    Status st = dest.execute(alter);
    if (!st.ok() && dest.lastErrorNumber() == 1061 /* ER_DUP_KEYNAME */ && attempt < 3) continue;
    DTS_RETURN_IF_ERROR(st.withContext("adding the secondary keys of " + t.route.target_database +
                                       "." + t.route.target_table));
    spdlog::info("{}.{}: secondary keys built after the load in {:.1f} s", t.route.target_database,
                 t.route.target_table,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return dest.execute("DELETE FROM " + mysql::quoteQualified("dts_meta", "pending_indexes") +
                      " WHERE " + where);
}

}  // namespace dts::task
