// Change events and transactions: what every sink consumes, whatever the source.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mysql/binlog_source.h"
#include "mysql/sql_mode.h"
#include "mysql/table_info.h"

namespace dts::pipeline {

// DDL: what the statement's result depends on of the source session that ran it, beyond its
// text: the instant it started (NOW() and CURRENT_TIMESTAMP, e.g. in a DEFAULT that fills the
// existing rows of an added column) and its time zone (a TIMESTAMP literal, NOW() into a
// DATETIME); its sql_mode (how the text reads and what it means: mysql/sql_mode.h) and
// explicit_defaults_for_timestamp (the definition a bare TIMESTAMP column gets). A native replica
// runs the statement with all of them; so does dts (sink/mysql_applier.h).
struct DdlSession {
  int64_t start_us = 0;   // microseconds since the epoch
  std::string time_zone;  // as the QUERY event names it ("SYSTEM", "+08:00", a name), or the
                          // fixed offset it had then ("+08:00"); empty: the statement used none
  std::optional<uint64_t> sql_mode;  // the source's bits; none when the event did not log them
  mysql::ServerFlavor flavor = mysql::ServerFlavor::kUnknown;  // whose bits they are
  // The version of the server that ran it (mysql::serverVersionNumber; 0 unknown): with flavor,
  // which of its executable comments it ran (mysql/sql_lexer.h).
  uint32_t server_version = 0;
  std::optional<bool> explicit_defaults_for_timestamp;
  // collation_server: what CREATE DATABASE without a character set gets; 0 when not logged.
  uint16_t collation_server = 0;

  // How the statement's text is read (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, executable comments).
  mysql::SqlLexerOptions lexerOptions() const;
};

struct ChangeEvent {
  enum class Op : uint8_t { kInsert, kUpdate, kDelete, kDdl };
  Op op = Op::kInsert;
  // DDL of a view or stored routine (pipeline/object_ddl.h): it holds no rows, so a destination
  // that refuses it is warned about and counted, and the task goes on.
  bool ddl_holds_no_rows = false;
  // Rows: the source session's foreign_key_checks when it wrote the row (false when its rows
  // event has NO_FOREIGN_KEY_CHECKS_F). The source never logs the rows its foreign keys' ON
  // DELETE/ON UPDATE actions change; a destination repeats those actions only for a row written
  // with checks on, as a native replica does (sink/batch_sql.h).
  bool foreign_key_checks = true;
  std::string database;  // for DDL: the default database the statement ran in
  std::string table;     // empty for DDL that names no single table
  // Rows: the table's definition. DDL: the definition after the statement of the one table it
  // created or changed, when the reader's schema history knows it (null otherwise).
  std::shared_ptr<const mysql::TableInfo> table_info;
  mysql::RowImage before;  // update, delete
  mysql::RowImage after;   // insert, update
  std::string sql;         // DDL only
  // DDL a change log records: every selected table the statement names, as the task names them
  // (database, table); a consumer finds there the tables of a statement run from another
  // database (where `table` is empty).
  std::vector<std::pair<std::string, std::string>> ddl_tables;
  std::shared_ptr<const DdlSession> ddl_session;  // DDL only; null when unknown
  mysql::BinlogPosition position;  // where the binlog event holding this change starts
  // Rows: the row's index within its binlog rows event (0 for its first row; Debezium's
  // source.row). 0 for DDL.
  uint32_t row_in_event = 0;
  uint32_t server_id = 0;  // the server id of the event's header (the server that wrote it)
  // The row images' sizes, measured once where the images are made (measureRow: the
  // transaction builder, the mapping stage when it cuts columns) and carried with the row, so
  // that no later stage walks the values again. Both 0 until measured (and for DDL).
  size_t memory_bytes = 0;   // what the images hold in memory: piece and queue limits
  size_t payload_bytes = 0;  // the values' bytes (a string's length, 8 for any other value)
};

// How a DDL event's text is read: its session's sql_mode (DdlSession::lexerOptions), or the
// defaults when the event logged none.
mysql::SqlLexerOptions ddlLexerOptions(const ChangeEvent& ev);

// Sets event->memory_bytes and payload_bytes from its images (one walk over the values).
void measureRow(ChangeEvent* event);
// What measureRow sets as memory_bytes: about the memory the row's images hold (values and
// their out-of-line text).
size_t rowImageBytes(const ChangeEvent& event);

struct Transaction {
  std::string gtid;        // "0-1-42" (MariaDB) or "uuid:42" (MySQL); empty if none
  uint32_t timestamp = 0;  // commit time, seconds since the epoch (source clock)
  uint64_t commit_us = 0;  // ... in microseconds where the source records it (MySQL 8.0 GTID
                           // events' immediate commit timestamp); 0 otherwise (MariaDB)
  // When dts had read the whole transaction (its commit event); unset if unknown. The source's
  // timestamp has whole seconds only; this bounds the commit instant from above (see
  // sink::sourceCommitMs).
  std::chrono::system_clock::time_point received{};
  mysql::BinlogPosition begin;  // where its first event starts
  mysql::BinlogPosition end;    // right after its last event: resume here
  // The xid of the XID_EVENT that committed it (MySQL and MariaDB transactional engines). Unset
  // when it ended otherwise: a QUERY "COMMIT" (MariaDB, non-transactional engines), a DDL, an
  // XA PREPARE, a ROLLBACK. Never made up.
  std::optional<uint64_t> xid;
  // An XA (two-phase) transaction at the source is two event groups, each with its own GTID: the
  // rows, ended by XA PREPARE (kPrepare: not committed yet), and later XA COMMIT or XA ROLLBACK
  // (kCommit / kRollback: no rows). `xa_id` names the XA transaction in one normal form,
  // X'<gtrid hex>',X'<bqual hex>',<formatID> (lowercase hex), in all three. A one-phase XA
  // commit is one ordinary group (kNone). pipeline/xa_stage.h holds prepared rows until the
  // decision arrives.
  enum class Xa : uint8_t { kNone, kPrepare, kCommit, kRollback };
  Xa xa = Xa::kNone;
  std::string xa_id;
  std::vector<ChangeEvent> events;
  // Row events and statements left out because options.skip_gtids names the transaction
  // (TransactionBuilder::Options::skip_gtids); 0 otherwise.
  uint64_t skipped_changes = 0;

  // A transaction travels as one or more pieces, in order, each holding a bounded batch of its
  // events, so memory stays bounded whatever the transaction's size (DESIGN.md, data flow).
  // Small transactions travel whole: one piece, first and last. Every piece carries gtid and
  // begin; end, timestamp, commit_us, xid and received are set on the last piece only. A sink may
  // apply the pieces of a transaction as they arrive, but nothing of it is durable (nor its
  // checkpoint) before the last piece; a reader stopped between pieces resumes at the
  // transaction's start.
  bool first_piece = true;
  bool last_piece = true;
  bool whole() const { return first_piece && last_piece; }
};

const char* opName(ChangeEvent::Op op);

}  // namespace dts::pipeline
