// Change events and transactions: what every sink consumes, whatever the source.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/binlog_source.h"
#include "mysql/row_decoder.h"
#include "mysql/table_info.h"

namespace dts::pipeline {

// The rows of one binlog ROWS event kept as the binlog wrote them: what a sink that stores changes
// (the change log) takes instead of one decoded event per row, so that the reader's thread only
// checks and counts the rows (TableDecoder::skipRow) and the log stores the images as they came.
// Made by the transaction builder when asked (TransactionBuilder::Options::raw_rows); the mapping
// stage passes it on for a table moved whole and expands it (expandRows) for any other route.
struct RawRows {
  mysql::RowsKind kind = mysql::RowsKind::kInsert;
  bool partial_json = false;  // MySQL PARTIAL_UPDATE_ROWS
  uint16_t flags = 0;
  uint64_t column_count = 0;
  uint32_t before_bitmap = 0, after_bitmap = 0;  // the bitmaps' sizes at the start of `bytes`
  std::string bytes;  // columns-before bitmap, columns-after bitmap, then the row images
  uint64_t rows = 0;  // row images in it, counted (and checked) when it was made
  std::shared_ptr<const mysql::TableDecoder> decoder;  // the source table definition

  // The event's row part, as views into `bytes`.
  mysql::RowsEventData data() const;
};

struct ChangeEvent {
  // kRows: `raw` holds the rows of one ROWS event, not yet decoded (RawRows); before/after are
  // empty and memory_bytes/payload_bytes are the raw bytes.
  enum class Op : uint8_t { kInsert, kUpdate, kDelete, kDdl, kRows };
  Op op = Op::kInsert;
  std::string database;  // for DDL: the default database the statement ran in
  std::string table;     // empty for DDL that names no single table
  // Rows: the table's definition. DDL: the definition after the statement of the one table it
  // created or changed, when the reader's schema history knows it (null otherwise).
  std::shared_ptr<const mysql::TableInfo> table_info;
  mysql::RowImage before;          // update, delete
  mysql::RowImage after;           // insert, update
  std::string sql;                 // DDL only
  mysql::BinlogPosition position;  // where the binlog event holding this change starts
  // The row images' sizes, measured once where the images are made (measureRow: the
  // transaction builder, the mapping stage when it cuts columns) and carried with the row, so
  // that no later stage walks the values again. Both 0 until measured (and for DDL).
  size_t memory_bytes = 0;   // what the images hold in memory: piece and queue limits
  size_t payload_bytes = 0;  // the values' bytes (a string's length, 8 for any other value)
  std::shared_ptr<const RawRows> raw;  // kRows only

  // Row changes this event stands for: a kRows event's rows, 1 for any other row, 0 for DDL.
  uint64_t rowCount() const {
    return op == Op::kRows ? (raw != nullptr ? raw->rows : 0) : op == Op::kDdl ? 0 : 1;
  }
};

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
  std::vector<ChangeEvent> events;

  // A transaction travels as one or more pieces, in order, each holding a bounded batch of its
  // events, so memory stays bounded whatever the transaction's size (DESIGN.md, data flow).
  // Small transactions travel whole: one piece, first and last. Every piece carries gtid and
  // begin; end, timestamp, commit_us and received are set on the last piece only. A sink may
  // apply the pieces of a transaction as they arrive, but nothing of it is durable (nor its
  // checkpoint) before the last piece; a reader stopped between pieces resumes at the
  // transaction's start.
  bool first_piece = true;
  bool last_piece = true;
  bool whole() const { return first_piece && last_piece; }
};

const char* opName(ChangeEvent::Op op);

// The op of the rows of a ROWS event of `kind`.
ChangeEvent::Op rowsOp(mysql::RowsKind kind);

// Decodes kRows event `ev` into one event per row, appended to *out: the events the transaction
// builder makes without raw_rows (names, definition and position of `ev`, sizes measured). Row
// errors name the table and the event's position.
Status expandRows(const ChangeEvent& ev, std::vector<ChangeEvent>* out);

}  // namespace dts::pipeline
