// TransactionBuilder: groups decoded binlog events (mysql/binlog_event.h) into Transactions of
// ChangeEvents, the unit every sink consumes and checkpoints.
//
// Boundaries, both flavours:
//   GTID (MariaDB 162 / MySQL 33, 34) or BEGIN / XA START  opens a transaction;
//   XID, COMMIT, ROLLBACK (non-transactional changes did happen), XA_PREPARE  close it;
//   a QUERY that is not BEGIN/COMMIT/ROLLBACK/XA/SAVEPOINT outside BEGIN (DDL) is a transaction
//   of its own (MariaDB marks these GTIDs standalone; MySQL writes no BEGIN), except in a group
//   that goes on to rows and a commit: CREATE TABLE ... SELECT logged in ROW format is the
//   CREATE TABLE statement (with its column list, no SELECT), the new table's rows and an XID or
//   COMMIT, all under one GTID. MariaDB says so by a GTID without FL_STANDALONE; MySQL (8.0.21+)
//   by the statement's trailing START TRANSACTION. Such a group is one transaction, its DDL
//   first: closed at the DDL, its rows would follow with no GTID and its GTID would be
//   checkpointed without them.
// Events that need an open transaction arriving after a group with a GTID closed, before the
// next GTID, belong to no group dts knows: kUnsupported naming their position and that group.
// Transaction::end is the position right after the closing event (for events inside a MySQL
// TRANSACTION_PAYLOAD, right after the payload event): where a reader resumes. The timestamp is
// the MySQL immediate commit timestamp when the GTID carries one, else the closing event's.
// Transaction::xid is the closing XID_EVENT's xid; a transaction closed by anything else has none.
//
// Filtering (Options::tables, table_selector.h): rows of tables the selector rejects are not
// decoded at all; DDL is kept when the selector selects its default database. Transactions left
// empty by the filter are still produced (their GTID and end position matter for checkpoints).
//
// Pieces (change_event.h, Transaction::first_piece): a transaction is handed out in pieces of at
// most max_piece_rows row events and about max_piece_bytes of row images each, so that the
// builder holds at most one piece whatever the transaction's size. A transaction within both
// limits travels whole (one piece, produced at its commit, exactly as without limits). A piece
// that has reached a limit is handed out when the next row arrives, so every piece but the last
// holds at least one event (at most max_piece_rows, and max_piece_bytes plus one row) and the
// last piece holds at least one row too. One binlog event may complete
// several pieces at once (a ROWS event holds many rows); their memory is bounded by that event.
// Not thread-safe; one builder per stream.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/binlog_event.h"
#include "pipeline/change_event.h"
#include "pipeline/table_selector.h"

namespace dts::pipeline {

// "db.t,db2.*,db3": each pattern is db[.table]; '*' matches any run of characters within a
// name; a bare db means every table of it. Matching is case-sensitive (as table names are on
// Linux servers). An empty filter accepts everything.
class TableFilter final : public TableSelector {
 public:
  TableFilter() = default;
  // kInvalidArgument for an empty pattern or one with more than one '.'.
  static Result<TableFilter> parse(std::string_view spec);
  bool empty() const { return patterns_.empty(); }
  bool selectsTable(std::string_view db, std::string_view table) const override;
  bool selectsDatabase(std::string_view db) const override;

 private:
  struct Pattern {
    std::string db, table;
  };
  std::vector<Pattern> patterns_;
};

class TransactionBuilder {
 public:
  struct Options {
    std::shared_ptr<const TableSelector> tables;  // null: every table
    // Keep every DDL whatever its default database (a sink that maps qualified names decides);
    // otherwise DDL is kept only when `tables` selects its default database.
    bool keep_all_ddl = false;
    // A data change the source logged as a statement (pipeline/statement_dml.h) that writes a
    // selected table, or may (what a SELECT of a function writes is not in its text; then: its
    // default database is selected), is kUnsupported naming the statement and its position;
    // otherwise such a statement is kept like DDL (a binlog printer shows it).
    bool refuse_statement_dml = false;
    // With refuse_statement_dml: asked about each table such a statement writes that is not
    // selected. What it returns, when not empty, says how writing that table may write selected
    // ones (a view over one, a trigger that names one), and the statement is refused with it:
    // the rows it changed there are in no row event. An error stops the reader. Null: not asked.
    std::function<Result<std::string>(const std::string& db, const std::string& table)>
        writes_through = nullptr;
    // Transactions whose GTID is listed ("0-1-774"; options.skip_gtids): their row changes and
    // the data changes they logged as statements are left out (never refused), and a warning
    // names them; their DDL is kept as any other. The transaction still ends where it ends, so
    // the checkpoint passes it. For a change the task cannot take, that the DBA made at the
    // destination by hand or decided to leave out.
    std::set<std::string> skip_gtids{};
    // Piece limits (see above); 0 = no limit on that measure. Both 0: whole transactions only
    // (memory grows with the transaction).
    size_t max_piece_rows = 5000;
    size_t max_piece_bytes = 8 << 20;  // ChangeEvent::memory_bytes of the piece's events
  };
  TransactionBuilder() = default;
  explicit TransactionBuilder(Options options) : options_(std::move(options)) {}

  // Feeds the next decoded event. Appends every transaction it completes to *done. Rows are
  // decoded here, so row errors (kCorruption, kFailedPrecondition naming table and position)
  // surface from this call. A GTID arriving while a transaction is still open is kCorruption.
  Status add(const mysql::BinlogEvent& event, std::vector<Transaction>* done);

  // The definition, after the statement, of the table the next QUERY event's DDL created or
  // changed (its owner's schema history knows it): that DDL event's table_info. Any QUERY event
  // consumes it, DDL or not.
  void defineNextDdl(std::shared_ptr<const mysql::TableInfo> definition) {
    next_ddl_definition_ = std::move(definition);
  }

  // Whether a transaction is open (events seen, no commit yet), e.g. at the end of a file.
  bool inTransaction() const { return open_; }
  // The open transaction's piece not yet handed out.
  const Transaction& pending() const { return current_; }
  uint64_t rowsDecoded() const { return rows_decoded_; }

 private:
  void open(const mysql::BinlogEvent& event, std::string gtid);
  // Opens a transaction without a GTID for an event that needs one open, unless a group with a
  // GTID closed before it and no GTID came since (see above).
  Status openImplicitly(const mysql::BinlogEvent& event, std::string_view what);
  void finish(const mysql::BinlogEvent& event, std::vector<Transaction>* done);
  Status addRows(const mysql::BinlogEvent& event, const mysql::RowsEvent& rows,
                 std::vector<Transaction>* done);
  // Hands out the pending events as a piece that is not the last.
  void cutPiece(std::vector<Transaction>* done);
  // Options::refuse_statement_dml for one QUERY event.
  Status refuseStatementDml(const mysql::BinlogEvent& event, const mysql::QueryEvent& q) const;

  Options options_;
  bool open_ = false;
  bool explicit_begin_ = false;
  // The open group's DDL does not end it: its XID or COMMIT does (see above).
  bool ends_at_commit_ = false;
  // The GTID and position of the last group closed, when it had a GTID and none opened since.
  std::string closed_gtid_;
  mysql::BinlogPosition closed_at_;
  uint64_t commit_ts_us_ = 0;
  uint64_t rows_decoded_ = 0;
  size_t piece_bytes_ = 0;  // memory_bytes of current_.events
  bool skipping_ = false;   // the open transaction is one of Options::skip_gtids
  uint64_t skipped_ = 0;    // its row events and statements left out so far
  Transaction current_;
  std::shared_ptr<const mysql::TableInfo> next_ddl_definition_;
};

// The normal form of an XA transaction id (Transaction::xa_id) from the text after XA COMMIT /
// XA ROLLBACK: gtrid [, bqual [, formatID]], each string as 'text' or X'hex' (or 0xhex),
// formatID 1 when absent. Empty when the text is not an xid.
std::string normalXaId(std::string_view text);
// The same from an XA_PREPARE event's parts.
std::string normalXaId(std::string_view gtrid, std::string_view bqual, uint32_t format_id);

// Classifies QUERY text: the statements that only delimit transactions.
enum class QueryKind { kBegin, kCommit, kRollback, kXa, kSavepoint, kOther };
QueryKind classifyQuery(std::string_view sql);

}  // namespace dts::pipeline
