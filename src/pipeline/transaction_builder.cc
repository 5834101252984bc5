#include "pipeline/transaction_builder.h"

#include "common/strings.h"
#include "mysql/row_decoder.h"

namespace dts::pipeline {
namespace {

bool globMatch(std::string_view pat, std::string_view s) {
  // Iterative '*' glob with backtracking to the last star.
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pat.size() && pat[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool startsWithXaStart(std::string_view sql) {
  sql = trimLeft(sql);
  if (!startsWithWord(sql, "XA")) return false;
  sql = trimLeft(sql.substr(2));
  return startsWithWord(sql, "START") || startsWithWord(sql, "BEGIN");
}

}  // namespace

Result<TableFilter> TableFilter::parse(std::string_view spec) {
  TableFilter f;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string_view item = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty())
      return Status::InvalidArgument("empty table pattern in '" + std::string(spec) + "'");
    size_t dot = item.find('.');
    Pattern p;
    if (dot == std::string_view::npos) {
      p.db.assign(item);
      p.table.push_back('*');  // not = "*": GCC 12 reports a false -Wrestrict at -O3
    } else {
      if (item.find('.', dot + 1) != std::string_view::npos || dot == 0 || dot + 1 == item.size())
        return Status::InvalidArgument("table pattern '" + std::string(item) + "' is not db.table");
      p.db.assign(item.substr(0, dot));
      p.table.assign(item.substr(dot + 1));
    }
    f.patterns_.push_back(std::move(p));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return f;
}

bool TableFilter::selectsTable(std::string_view db, std::string_view table) const {
  if (patterns_.empty()) return true;
  for (const auto& p : patterns_)
    if (globMatch(p.db, db) && globMatch(p.table, table)) return true;
  return false;
}

bool TableFilter::selectsDatabase(std::string_view db) const {
  if (patterns_.empty()) return true;
  for (const auto& p : patterns_)
    if (globMatch(p.db, db)) return true;
  return false;
}

QueryKind classifyQuery(std::string_view sql) {
  sql = trimLeft(sql);
  while (!sql.empty() && (isAsciiSpace(sql.back()) || sql.back() == ';')) sql.remove_suffix(1);
  if (startsWithWord(sql, "BEGIN") || startsWithWord(sql, "START TRANSACTION"))
    return QueryKind::kBegin;
  if (startsWithWord(sql, "COMMIT")) return QueryKind::kCommit;
  if (startsWithWord(sql, "ROLLBACK")) {
    std::string_view rest = trimLeft(sql.substr(8));
    return startsWithWord(rest, "TO") ? QueryKind::kSavepoint : QueryKind::kRollback;
  }
  if (startsWithWord(sql, "XA")) return QueryKind::kXa;
  if (startsWithWord(sql, "SAVEPOINT") || startsWithWord(sql, "RELEASE SAVEPOINT"))
    return QueryKind::kSavepoint;
  return QueryKind::kOther;
}

void TransactionBuilder::open(const mysql::BinlogEvent& event, std::string gtid) {
  open_ = true;
  explicit_begin_ = false;
  commit_ts_us_ = 0;
  piece_bytes_ = 0;
  current_ = Transaction();
  current_.gtid = std::move(gtid);
  current_.begin = event.position;
}

void TransactionBuilder::cutPiece(std::vector<Transaction>* done) {
  Transaction next;
  next.gtid = current_.gtid;
  next.begin = current_.begin;
  next.first_piece = false;
  current_.last_piece = false;
  done->push_back(std::move(current_));
  current_ = std::move(next);
  piece_bytes_ = 0;
}

void TransactionBuilder::finish(const mysql::BinlogEvent& event, std::vector<Transaction>* done) {
  current_.end = mysql::BinlogPosition{event.position.file, event.end_offset};
  current_.timestamp =
      commit_ts_us_ != 0 ? static_cast<uint32_t>(commit_ts_us_ / 1000000) : event.header.timestamp;
  current_.commit_us = commit_ts_us_;
  current_.last_piece = true;
  done->push_back(std::move(current_));
  current_ = Transaction();
  piece_bytes_ = 0;
  open_ = false;
  explicit_begin_ = false;
  commit_ts_us_ = 0;
}

Status TransactionBuilder::addRows(const mysql::BinlogEvent& event, const mysql::RowsEvent& rows,
                                   std::vector<Transaction>* done) {
  const mysql::TableDecoder& decoder = *rows.data.decoder;
  const mysql::TableInfo& table = decoder.table();
  if (options_.tables != nullptr && !options_.tables->selectsTable(table.database, table.table))
    return Status::OK();
  ChangeEvent::Op op = rows.data.kind == mysql::RowsKind::kInsert   ? ChangeEvent::Op::kInsert
                       : rows.data.kind == mysql::RowsKind::kUpdate ? ChangeEvent::Op::kUpdate
                                                                    : ChangeEvent::Op::kDelete;
  mysql::RowsReader reader(rows.data, event.position);
  const size_t max_rows = options_.max_piece_rows;
  const size_t max_bytes = options_.max_piece_bytes;
  uint32_t row_in_event = 0;
  // Rows_log_event flags (MySQL and MariaDB): bit 1 is NO_FOREIGN_KEY_CHECKS_F.
  const bool foreign_key_checks = (rows.data.flags & 0x0002) == 0;
  while (!reader.done()) {
    // Cut before this row when the piece is full, so a transaction that fits travels whole.
    if (!current_.events.empty() && ((max_rows != 0 && current_.events.size() >= max_rows) ||
                                     (max_bytes != 0 && piece_bytes_ >= max_bytes))) {
      cutPiece(done);
    }
    ChangeEvent& ce = current_.events.emplace_back();
    ce.op = op;
    ce.database = table.database;
    ce.table = table.table;
    ce.table_info = decoder.tableInfo();
    ce.position = event.position;
    ce.row_in_event = row_in_event++;
    ce.server_id = event.header.server_id;
    ce.foreign_key_checks = foreign_key_checks;
    Status s = reader.next(&ce.before, &ce.after);
    if (!s.ok()) {
      current_.events.pop_back();
      return s;
    }
    measureRow(&ce);  // once: every later stage reads the sizes from the event
    piece_bytes_ += ce.memory_bytes;
    ++rows_decoded_;
  }
  return Status::OK();
}

Status TransactionBuilder::add(const mysql::BinlogEvent& event, std::vector<Transaction>* done) {
  auto startGtid = [&](std::string gtid) -> Status {
    if (open_)
      return Status::Corruption(
          "transaction " + (current_.gtid.empty() ? std::string("(no GTID)") : current_.gtid) +
          " begun at " + current_.begin.file + ":" + std::to_string(current_.begin.offset) +
          " has no commit before the GTID at " + event.position.file + ":" +
          std::to_string(event.position.offset));
    open(event, std::move(gtid));
    return Status::OK();
  };

  if (const auto* g = event.as<mysql::MariaGtidEvent>()) return startGtid(g->gtid());
  if (const auto* g = event.as<mysql::MySqlGtidEvent>()) {
    DTS_RETURN_IF_ERROR(startGtid(g->gtid()));
    commit_ts_us_ = g->immediate_commit_us;
    return Status::OK();
  }
  if (const auto* q = event.as<mysql::QueryEvent>()) {
    std::shared_ptr<const mysql::TableInfo> definition = std::move(next_ddl_definition_);
    next_ddl_definition_.reset();
    switch (classifyQuery(q->sql)) {
      case QueryKind::kBegin:
        if (!open_) open(event, {});
        explicit_begin_ = true;
        return Status::OK();
      case QueryKind::kCommit:
      case QueryKind::kRollback:
        if (!open_) open(event, {});
        finish(event, done);
        return Status::OK();
      case QueryKind::kXa:
        // XA START opens like BEGIN; XA END/PREPARE are inside; XA COMMIT/ROLLBACK of a prepared
        // transaction come as their own (standalone) GTID group.
        if (startsWithXaStart(q->sql)) {
          if (!open_) open(event, {});
          explicit_begin_ = true;
        } else if (open_ && !explicit_begin_) {
          finish(event, done);
        }
        return Status::OK();
      case QueryKind::kSavepoint: return Status::OK();
      case QueryKind::kOther: break;
    }
    if (!open_) open(event, {});
    if (options_.keep_all_ddl || options_.tables == nullptr ||
        options_.tables->selectsDatabase(q->database)) {
      ChangeEvent& ce = current_.events.emplace_back();
      ce.op = ChangeEvent::Op::kDdl;
      ce.database = q->database;
      ce.sql = q->sql;
      ce.table_info = std::move(definition);
      ce.position = event.position;
      ce.server_id = event.header.server_id;
    }
    if (!explicit_begin_) finish(event, done);
    return Status::OK();
  }
  if (const auto* x = event.as<mysql::XidEvent>()) {
    if (!open_) open(event, {});
    current_.xid = x->xid;
    finish(event, done);
    return Status::OK();
  }
  if (event.as<mysql::XaPrepareEvent>()) {
    if (!open_) open(event, {});
    finish(event, done);
    return Status::OK();
  }
  if (const auto* rows = event.as<mysql::RowsEvent>()) {
    if (!open_) open(event, {});
    return addRows(event, *rows, done);
  }
  return Status::OK();
}

}  // namespace dts::pipeline
