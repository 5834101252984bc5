#include "sink/checkpoint_store.h"

#include "sink/sql_literal.h"

namespace dts::sink {

namespace {

std::string textLiteral(std::string_view s) {
  std::string out = "_utf8mb4 ";
  appendHexLiteral(&out, s);
  return out;
}

}  // namespace

std::string CheckpointStore::table() const {
  return mysql::quoteQualified(meta_db_, "checkpoint");
}

Status CheckpointStore::ensureSchema(DestinationSession& conn) const {
  DTS_RETURN_IF_ERROR(
      conn.execute("CREATE DATABASE IF NOT EXISTS " + mysql::quoteIdentifier(meta_db_))
          .withContext("creating the checkpoint database"));
  return conn
      .execute(
          "CREATE TABLE IF NOT EXISTS " + table() +
          " (task VARCHAR(190) NOT NULL, slot INT NOT NULL, applied MEDIUMTEXT NOT NULL, "
          "position TEXT NOT NULL, pending_ddl VARCHAR(190) NOT NULL DEFAULT '', "
          "updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), "
          "PRIMARY KEY (task, slot)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
      .withContext("creating the checkpoint table");
}

Result<Checkpoint> CheckpointStore::read(DestinationSession& conn) const {
  auto rows = conn.query("SELECT slot, applied, position, pending_ddl FROM " + table() +
                         " WHERE task=" + textLiteral(task_) + " ORDER BY slot");
  if (!rows.ok())
    return rows.status().withContext("reading the checkpoint of task '" + task_ + "'");
  Checkpoint cp;
  for (const auto& r : rows->rows) {
    auto applied = mysql::GtidSet::parse(r[1].value_or(""));
    if (!applied.ok()) {
      return Status::Corruption("checkpoint of task '" + task_ + "' slot " + r[0].value_or("?") +
                                ": " + applied.status().message());
    }
    cp.applied.addAll(*applied);
    // A MariaDB position, or empty (MySQL); anything else is damage, never ignored.
    auto position = mysql::GtidPosition::parse(r[2].value_or(""), mysql::GtidFlavor::kMariaDb);
    if (!position.ok()) {
      return Status::Corruption("checkpoint of task '" + task_ + "' slot " + r[0].value_or("?") +
                                ": " + position.status().message());
    }
    DTS_RETURN_IF_ERROR(cp.position.merge(*position));
    if (!r[3].value_or("").empty()) cp.pending_ddl = *r[3];
  }
  return cp;
}

std::string CheckpointStore::upsertSql(int slot, const mysql::GtidSet& applied,
                                       const mysql::GtidPosition& position,
                                       const std::string& pending_ddl) const {
  std::string a = textLiteral(applied.toString());
  std::string p = textLiteral(position.toString());
  std::string d = textLiteral(pending_ddl);
  return "INSERT INTO " + table() + " (task, slot, applied, position, pending_ddl) VALUES (" +
         textLiteral(task_) + "," + std::to_string(slot) + "," + a + "," + p + "," + d +
         ") ON DUPLICATE KEY UPDATE applied=" + a + ", position=" + p + ", pending_ddl=" + d;
}

Status CheckpointStore::clear(DestinationSession& conn) const {
  return conn.execute("DELETE FROM " + table() + " WHERE task=" + textLiteral(task_));
}

}  // namespace dts::sink
